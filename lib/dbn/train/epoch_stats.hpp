#pragma once

#include <cstddef>
#include <limits>

namespace dbn {

/// @brief Monitors of one training epoch of one layer (docs/MATH.md#training).
///
/// Figures that do not apply (no held-out data, non-Bernoulli visible units) are NaN.
struct EpochStats {
    static constexpr double nan = std::numeric_limits<double>::quiet_NaN();

    std::size_t layer = 0;
    std::size_t epoch = 0;               ///< 1-based
    double reconstruction_error = nan;   ///< mean squared v0 - p(v | h0 sampled), per unit
    double free_energy_train = nan;      ///< mean F on a training subset
    double free_energy_valid = nan;      ///< mean F on held-out data of the same size
    double free_energy_gap = nan;        ///< valid - train: widening means overfitting
    double pseudo_log_likelihood = nan;  ///< per sample, stochastic one-bit flip, Bernoulli
    double learning_rate = nan;
    double momentum = nan;
    double seconds = nan;  ///< wall time of the epoch's training
};

}  // namespace dbn
