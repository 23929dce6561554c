#include "dbn/dbn/dbn.hpp"

#include <algorithm>
#include <cstring>

#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"

namespace dbn {

void Dbn::validate() const {
    DBN_CHECK(!layers.empty(), ConfigError, "the model has no layers");
    for (std::size_t k = 0; k + 1 < layers.size(); ++k) {
        DBN_CHECK(layers[k].n_hidden() == layers[k + 1].n_visible(), ShapeError,
                  "layer " << k << " has " << layers[k].n_hidden() << " hidden units but layer "
                           << k + 1 << " has " << layers[k + 1].n_visible() << " visible units");
    }
    DBN_CHECK(hooks.empty() || hooks.size() + 1 == layers.size(), ShapeError,
              counted(hooks.size(), "hook")
                  << " for " << counted(layers.size(), "layer")
                  << " (expected none or one between each pair of layers)");
}

Matrix Dbn::preprocess(const Matrix& raw) const {
    DBN_CHECK(!layers.empty(), ConfigError, "the model has no layers");
    DBN_CHECK(raw.shape(1) == n_visible(), ShapeError,
              "the data has " << counted(raw.shape(1), "column") << ", but the model has "
                              << counted(n_visible(), "visible unit"));
    Matrix x = raw;
    preprocessing.apply(x);
    return x;
}

Matrix Dbn::propagate(std::size_t k, const Matrix& x, bool with_hook) const {
    DBN_CHECK(k < layers.size(), ConfigError,
              "layer " << k << " does not exist (the model has " << counted(layers.size(), "layer")
                       << ")");
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
              "layer " << upto << " does not exist (the model has "
                       << counted(layers.size(), "layer") << ", 0.." << layers.size() - 1 << ")");
    Matrix x = preprocess(raw);
    for (std::size_t k = 0; k <= upto; ++k) x = propagate(k, x, k < upto);
    return x;
}

}  // namespace dbn
