#pragma once

#include <cmath>
#include <vector>

namespace dbn::bench {

/// @brief Least-squares line t = intercept + slope u, and its coefficient of determination.
/// Every field is NaN when the points do not determine a line (fewer than 2, or u constant).
struct LineFit {
    double intercept = NAN, slope = NAN, r_squared = NAN;
};

/// @brief The least-squares line through the points (u[i], t[i]) (sums in double, in order).
/// r_squared is 1 when every t is the same.
/// @pre u.size() == t.size()
LineFit fit_line(const std::vector<double>& u, const std::vector<double>& t);

/// @brief The least-squares slope of log t against log u: 1 for a cost proportional to u.
/// @pre u.size() == t.size(), every value positive
double loglog_slope(const std::vector<double>& u, const std::vector<double>& t);

}  // namespace dbn::bench
