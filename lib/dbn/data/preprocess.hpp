#pragma once

#include <string>

#include "dbn/core/types.hpp"

namespace dbn::data {

/// @brief Preprocessing applied to the raw data before layer 0, saved with the model so that
/// inference repeats it exactly.
///
/// Order: scale (x / scale), then binarize (x > threshold ? 1 : 0) or standardize
/// ((x - mean) / stddev, with the training set's per-feature mean and standard deviation).
struct Preprocessing {
    /// Divide by this first (255 for 8-bit images; 1 for none). "auto" in configs: the data's
    /// maximum, when it exceeds 1.
    float scale = 1.0f;
    bool binarize = false;
    float threshold = 0.5f;
    bool standardize = false;
    Vector mean = Vector::from_shape({0});    ///< per feature, when standardize
    Vector stddev = Vector::from_shape({0});  ///< per feature (>= a floor), when standardize

    /// Floor of a fitted standard deviation. A feature whose spread on the training set is below
    /// it counts as constant and gets stddev 1 (centred, not scaled), so that it neither divides
    /// by zero nor amplifies a value that differs at inference time by 1/min_stddev.
    static constexpr float min_stddev = 1e-6f;

    /// @brief Fits the standardization statistics (if enabled) on `x` after scaling.
    void fit(const Matrix& x);
    /// @brief Applies the preprocessing in place.
    /// @throws ShapeError when fitted statistics do not match the column count.
    void apply(Matrix& x) const;
    bool is_identity() const { return scale == 1.0f && !binarize && !standardize; }
    /// @brief One-line description ("scale 1/255, binarize at 0.5").
    std::string describe() const;
};

}  // namespace dbn::data
