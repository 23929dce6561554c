#include "dbn/bench/line_fit.hpp"

#include <cstddef>

namespace dbn::bench {

LineFit fit_line(const std::vector<double>& u, const std::vector<double>& t) {
    const std::size_t n = u.size();
    LineFit f;
    if (n < 2) return f;
    double mu = 0.0, mt = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        mu += u[i] / double(n);
        mt += t[i] / double(n);
    }
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        sxy += (u[i] - mu) * (t[i] - mt);
        sxx += (u[i] - mu) * (u[i] - mu);
        syy += (t[i] - mt) * (t[i] - mt);
    }
    if (!(sxx > 0.0)) return f;
    f.slope = sxy / sxx;
    f.intercept = mt - f.slope * mu;
    f.r_squared = syy > 0.0 ? sxy * sxy / (sxx * syy) : 1.0;
    return f;
}

double loglog_slope(const std::vector<double>& u, const std::vector<double>& t) {
    std::vector<double> lu, lt;
    for (std::size_t i = 0; i < u.size(); ++i) {
        lu.push_back(std::log(u[i]));
        lt.push_back(std::log(t[i]));
    }
    return fit_line(lu, lt).slope;
}

}  // namespace dbn::bench
