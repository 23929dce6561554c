#pragma once

// The weights of a layer as pictures of the visible units (docs/CLI.md, "dbn show").

#include <cstddef>
#include <optional>

#include "dbn/core/types.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/picture/image.hpp"

namespace dbn::picture {

/// @brief One row per hidden unit j of layer `layer` (the first `count`, default all): its
/// weights seen from the visible units of layer 0. Layer 0 gives column j of W_0; layer K > 0
/// the product W_0 W_1 ... W_K, column j (the linear view through the layers below: biases,
/// nonlinearities and hooks are left out). Result [count, n_visible].
/// @throws ConfigError when `layer` is not a layer or `count` exceeds its hidden units.
Matrix layer_filters(const Dbn& model, std::size_t layer,
                     std::optional<std::size_t> count = std::nullopt);

/// @brief The gray scale of samples of `model` (values in the data's units, as
/// sample::Samples::means): with Bernoulli visible units and no standardization the units'
/// range, 0 black and 1 (times the preprocessing's scale unless it binarizes) white; otherwise
/// one range for the whole picture, from the smallest to the largest finite value in `values`.
GrayScale sample_gray_scale(const Dbn& model, const Matrix& values);

}  // namespace dbn::picture
