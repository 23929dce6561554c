#include "dbn/bench/scaling.hpp"

#include <algorithm>

namespace dbn::bench {

const char* const k_scaling_note =
    "log-log slope: least-squares slope of log(seconds) against log(rows x n_visible x "
    "n_hidden), 1 for a cost proportional to it. The least-squares line's intercept is the part "
    "of an epoch that does not grow with that product: in the rows sweep the trainer's setup, in "
    "the n_hidden sweep also the per-row work on the visible units (reading, sampling), which "
    "does not depend on n_hidden. Small n_hidden also runs the products at a lower sgemm rate "
    "(the GFLOP/s column: the limit's rate for that shape), so its cost per row x n_visible x "
    "n_hidden is higher; the % of limit column separates that from the work outside the "
    "products.";

Sweep summarize(std::vector<ScalePoint> points) {
    Sweep s;
    std::vector<double> u, t;
    double lo = INFINITY, hi = 0.0;
    for (const ScalePoint& p : points) {
        u.push_back(double(p.rows) * double(p.nv) * double(p.nh));
        t.push_back(p.seconds);
        lo = std::min(lo, p.per_unit());
        hi = std::max(hi, p.per_unit());
    }
    s.points = std::move(points);
    s.exponent = loglog_slope(u, t);
    s.cost_ratio_max_min = hi / lo;
    s.fit = fit_line(u, t);
    return s;
}

Scaling measure_scaling(const Matrix& x, const Settings& settings,
                        const std::function<void(const ScalePoint&)>& on_point) {
    const std::size_t n = x.shape(0), nv = x.shape(1);
    const LayerTrainingConfig cd = rbm_config(Algorithm::cd);
    const std::size_t b = cd.batch_size;
    auto point = [&](std::size_t r, std::size_t h) {
        ScalePoint p;
        p.rows = r;
        p.nv = nv;
        p.nh = h;
        const GemmLimit lim =
            measure_limit(settings.rbm_products(nv, h, cd), settings.threads, settings.reps);
        Rbm m;
        if (r == n) {
            p.seconds = time_epochs(x, Algorithm::cd, settings.threads, settings.runs, m, h);
        } else {
            Matrix xs = Matrix::from_shape({r, nv});
            std::copy(x.data(), x.data() + r * nv, xs.data());
            p.seconds = time_epochs(xs, Algorithm::cd, settings.threads, settings.runs, m, h);
        }
        p.limit = lim.seconds * double((r + b - 1) / b);
        p.limit_gflops = lim.gflops();
        if (on_point) on_point(p);
        return p;
    };
    std::vector<ScalePoint> by_rows, by_hidden;
    for (const std::size_t div : {8, 4, 2, 1}) {
        const std::size_t r = std::max<std::size_t>(n / div, 1);
        if (!by_rows.empty() && by_rows.back().rows == r) continue;
        by_rows.push_back(point(r, k_rbm_hidden));
    }
    for (const std::size_t h : {125, 250, 500, 1000}) by_hidden.push_back(point(n, h));
    Scaling out;
    out.batch_size = b;
    out.rows = summarize(std::move(by_rows));
    out.n_hidden = summarize(std::move(by_hidden));
    return out;
}

}  // namespace dbn::bench
