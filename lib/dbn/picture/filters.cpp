#include "dbn/picture/filters.hpp"

#include <algorithm>
#include <cmath>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"

namespace dbn::picture {

Matrix layer_filters(const Dbn& model, std::size_t layer, std::optional<std::size_t> count) {
    model.validate();
    DBN_CHECK(layer < model.n_layers(), ConfigError,
              "--layer " << layer << ": the model has " << counted(model.n_layers(), "layer")
                         << " (0 to " << model.n_layers() - 1 << ")");
    const std::size_t hidden = model.layers[layer].n_hidden();
    const std::size_t n = count.value_or(hidden);
    DBN_CHECK(n >= 1 && n <= hidden, ConfigError,
              "--count " << n << ": layer " << layer << " has " << counted(hidden, "hidden unit"));
    Matrix product = model.layers[0].weights();
    for (std::size_t k = 1; k <= layer; ++k) {
        const Matrix& wk = model.layers[k].weights();
        Matrix next = Matrix::from_shape({product.shape(0), wk.shape(1)});
        blas::gemm(false, false, 1.0f, product, wk, 0.0f, next);
        product = std::move(next);
    }
    Matrix tiles = Matrix::from_shape({n, product.shape(0)});
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t i = 0; i < product.shape(0); ++i) tiles(j, i) = product(i, j);
    return tiles;
}

GrayScale sample_gray_scale(const Dbn& model, const Matrix& values) {
    const data::Preprocessing& pre = model.preprocessing;
    if (!model.layers.empty() && model.layers.front().visible_type() == UnitType::bernoulli &&
        !pre.standardize)
        return GrayScale::fixed(0.0, pre.binarize ? 1.0 : static_cast<double>(pre.scale));
    double lo = 0, hi = 0;
    bool any = false;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double v = values.data()[i];
        if (!std::isfinite(v)) continue;
        lo = any ? std::min(lo, v) : v;
        hi = any ? std::max(hi, v) : v;
        any = true;
    }
    if (!(hi > lo)) return GrayScale::per_tile();
    return GrayScale::fixed(lo, hi);
}

}  // namespace dbn::picture
