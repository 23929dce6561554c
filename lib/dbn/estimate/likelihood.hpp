#pragma once

#include <cstddef>

#include "dbn/core/types.hpp"
#include "dbn/estimate/ais.hpp"
#include "dbn/rbm/rbm.hpp"

namespace dbn::estimate {

/// @brief log Z with the interval it is known to: exact values have low == value == high.
struct LogPartition {
    double value = 0.0;
    double low = 0.0;  ///< may be -inf (an AIS interval whose lower end reaches 0)
    double high = 0.0;

    /// @brief An exactly known log Z (exact_log_partition).
    static LogPartition exact(double log_z) { return {log_z, log_z, log_z}; }
    /// @brief An AIS estimate with its mean +- 3 standard error interval.
    static LogPartition from(const AisResult& ais) {
        return {ais.log_z, ais.log_z_low, ais.log_z_high};
    }
};

/// @brief Mean log-likelihood of a data set under one RBM, with its interval.
struct LogLikelihood {
    double mean = 0.0;              ///< -mean F(v) - log Z
    double low = 0.0;               ///< -mean F(v) - log Z.high
    double high = 0.0;              ///< -mean F(v) - log Z.low (+inf when log Z.low is -inf)
    double mean_free_energy = 0.0;  ///< mean F(v) over the data
    std::size_t samples = 0;
};

/// @brief Mean free energy of the rows of `data`, in double, computed in blocks of rows so that
/// a large data set needs no rows x n_hidden buffer.
/// @throws ShapeError if data is empty or has not n_visible columns; ConfigError for relu
///         hidden units.
double mean_free_energy(const Rbm& rbm, ConstRows data);

/// @brief Mean log-likelihood mean_v log p(v) = -mean_v F(v) - log Z (docs/MATH.md#free-energies).
/// The bounds of log Z enter with flipped signs: a larger log Z means a smaller likelihood.
/// @throws ShapeError / ConfigError as mean_free_energy; NumericalError if log_z.value is not
///         finite or the interval does not contain it.
LogLikelihood mean_log_likelihood(const Rbm& rbm, ConstRows data, const LogPartition& log_z);

/// @brief Same, with an exactly known log Z.
LogLikelihood mean_log_likelihood(const Rbm& rbm, ConstRows data, double log_z);

/// @brief Same, with an AIS estimate of log Z and its interval.
LogLikelihood mean_log_likelihood(const Rbm& rbm, ConstRows data, const AisResult& ais);

}  // namespace dbn::estimate
