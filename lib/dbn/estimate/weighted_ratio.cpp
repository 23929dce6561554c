#include "dbn/estimate/weighted_ratio.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dbn/core/error.hpp"

namespace dbn::estimate {

WeightedRatio weighted_ratio(const std::vector<double>& start, const std::vector<double>& path,
                             double min_ess, const char* who) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    constexpr double sigmas = 3.0;  // the interval of Ais: +- 3 standard errors
    const std::size_t m = path.size();
    DBN_CHECK(m >= 2 && start.size() == m, ShapeError,
              who << ": needs two or more runs with a start weight each (got " << m << " and "
                  << start.size() << ")");
    WeightedRatio out;
    out.total.resize(m);
    double top_d = -inf, top_c = -inf;
    for (std::size_t i = 0; i < m; ++i) {
        DBN_CHECK(std::isfinite(path[i]), NumericalError,
                  who << ": a log weight along the path is not finite (" << path[i] << ")");
        out.total[i] = start[i] + path[i];
        top_d = std::max(top_d, start[i]);
        top_c = std::max(top_c, out.total[i]);
    }
    // Weights relative to the largest of each sum, so that they lie in (0, 1]:
    // u_i = w0_i w_i / max, d_i = w0_i / max.
    double sum_u = 0.0, sum_u2 = 0.0, sum_d = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
        const double u = std::exp(out.total[i] - top_c);
        sum_u += u;
        sum_u2 += u * u;
        sum_d += std::exp(start[i] - top_d);
    }
    // R = (sum u / sum d) e^(top_c - top_d); u_i / R = e_i * sum_d / sum_u in the scaled units.
    const double scale = sum_d / sum_u;
    double sq = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
        const double e = std::exp(out.total[i] - top_c) * scale - std::exp(start[i] - top_d);
        sq += e * e;
    }
    const double md = static_cast<double>(m);
    const double rel = std::sqrt(sq / (md * (md - 1.0))) / (sum_d / md);
    out.log_ratio = (top_c - top_d) + std::log(sum_u / sum_d);
    out.relative_se = rel;
    out.high = out.log_ratio + std::log1p(sigmas * rel);
    out.low = sigmas * rel < 1.0 ? out.log_ratio + std::log1p(-sigmas * rel) : -inf;
    out.ess = sum_u * sum_u / sum_u2;
    if (out.ess < min_ess) {
        out.low = -inf;
        out.high = inf;
    }
    return out;
}

}  // namespace dbn::estimate
