#pragma once

#include <vector>

namespace dbn::estimate {

/// @brief The ratio of two weighted means from the same runs, in log space, with its
/// delta-method interval: the estimate of Z_b / Z_a that annealing from weighted samples of a
/// (log weights w0_m) to b (log weights w_m along the path) gives,
///     R = sum_m e^(w0_m + w_m) / sum_m e^(w0_m),
///     var(R) ~ sum_m (u_m - R d_m)^2 / (M (M - 1)) / mean(d)^2   (u = e^(w0 + w), d = e^w0),
/// and the interval log(R +- 3 se(R)). With equal start weights it is AIS's estimate and
/// interval. Below `min_ess` effective runs (sum u)^2 / sum u^2 the interval is open on both
/// sides: when a handful of runs carry the weight, the runs' spread says nothing about the error.
struct WeightedRatio {
    double log_ratio = 0.0;
    double low = 0.0;   ///< -inf when R - 3 se(R) <= 0 or ess < min_ess
    double high = 0.0;  ///< +inf when ess < min_ess
    double relative_se = 0.0;
    double ess = 0.0;
    std::vector<double> total;  ///< w0_m + w_m, each run's cumulative log weight
};

/// @throws NumericalError when a path log weight is not finite.
/// @pre start.size() == path.size() >= 2.
WeightedRatio weighted_ratio(const std::vector<double>& start, const std::vector<double>& path,
                             double min_ess, const char* who);

}  // namespace dbn::estimate
