#include "dbn/dbn/dbn.hpp"

#include <algorithm>
#include <cstring>

#include "dbn/core/error.hpp"

namespace dbn {

void Dbn::validate() const {
    DBN_CHECK(!layers.empty(), ConfigError, "Dbn: the stack has no layers");
    for (std::size_t k = 0; k + 1 < layers.size(); ++k) {
        DBN_CHECK(layers[k].n_hidden() == layers[k + 1].n_visible(), ShapeError,
                  "Dbn: layer " << k << " has " << layers[k].n_hidden()
                                << " hidden units but layer " << k + 1 << " has "
                                << layers[k + 1].n_visible() << " visible units");
    }
    DBN_CHECK(hooks.empty() || hooks.size() + 1 == layers.size(), ShapeError,
              "Dbn: " << hooks.size() << " hooks for " << layers.size()
                      << " layers (expected none or one between each pair of layers)");
}

Matrix Dbn::preprocess(const Matrix& raw) const {
    DBN_CHECK(!layers.empty(), ConfigError, "Dbn: the stack has no layers");
    DBN_CHECK(
        raw.shape(1) == n_visible(), ShapeError,
        "Dbn: data has " << raw.shape(1) << " columns (the model expects " << n_visible() << ")");
    Matrix x = raw;
    preprocessing.apply(x);
    return x;
}

Matrix Dbn::propagate(std::size_t k, const Matrix& x, bool with_hook) const {
    DBN_CHECK(k < layers.size(), ConfigError,
              "Dbn::propagate: layer " << k << " does not exist (the model has " << layers.size()
                                       << " layers)");
    Matrix next = Matrix::from_shape({x.shape(0), layers[k].n_hidden()});
    // Blocks bound the scratch a Gaussian layer needs for x / sigma.
    constexpr std::size_t block = 4096;
    for (std::size_t first = 0; first < x.shape(0); first += block) {
        const std::size_t rows = std::min(block, x.shape(0) - first);
        layers[k].hidden_probabilities(ConstRows(x).block(first, rows),
                                       Rows(next).block(first, rows));
    }
    if (with_hook && hook_after(k)) hook_after(k)->apply(next);
    return next;
}

Matrix Dbn::transform(const Matrix& raw, std::size_t upto) const {
    validate();
    DBN_CHECK(upto < layers.size(), ConfigError,
              "Dbn::transform: layer " << upto << " does not exist (the model has " << layers.size()
                                       << " layers, 0.." << layers.size() - 1 << ")");
    Matrix x = preprocess(raw);
    for (std::size_t k = 0; k <= upto; ++k) x = propagate(k, x, k < upto);
    return x;
}

}  // namespace dbn
