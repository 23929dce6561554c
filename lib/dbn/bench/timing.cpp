#include "dbn/bench/timing.hpp"

#include <sys/resource.h>

#include <algorithm>

#include "dbn/core/parallel.hpp"
#include "dbn/core/types.hpp"

namespace dbn::bench {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? NAN : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

ProductTiming time_product(const blas::GemmShape& s, std::size_t threads, int reps) {
    const std::size_t ar = s.trans_a ? s.k : s.m, ac = s.trans_a ? s.m : s.k;
    const std::size_t br = s.trans_b ? s.n : s.k, bc = s.trans_b ? s.k : s.n;
    Matrix a = Matrix::from_shape({ar, ac});
    Matrix b = Matrix::from_shape({br, bc});
    a.fill(0.5f);
    b.fill(0.25f);
    std::vector<Matrix> c;
    for (std::size_t t = 0; t < threads; ++t) c.push_back(Matrix::from_shape({s.m, s.n}));
    ProductTiming out;
    out.shape = s;
    // About 20 ms of work per timing, so that the clock's resolution does not matter.
    const int calls = std::max(5, static_cast<int>(2e9 / out.flops_per_call()));
    std::vector<double> times;
    const int saved = blas::num_threads();
    blas::set_num_threads(static_cast<int>(threads));
    blas::gemm(s.trans_a, s.trans_b, 1.0f, a, b, 0.0f, c[0]);  // warm-up (thread start, buffers)
    for (int r = 0; r < reps; ++r) {
        const Stopwatch clock;
        for (int i = 0; i < calls; ++i) blas::gemm(s.trans_a, s.trans_b, 1.0f, a, b, 0.0f, c[0]);
        times.push_back(clock.seconds() / calls);
    }
    out.blas_threads_seconds = median(times);
    if (threads > 1) {
        blas::set_num_threads(1);
        ThreadPool pool(threads);
        times.clear();
        auto part = [&](std::size_t t) {
            const auto [r0, r1] = split_range(s.m, threads, t);
            const std::size_t rows = r1 - r0;
            if (!s.trans_a) {
                blas::gemm(false, s.trans_b, 1.0f, ConstRows(a).block(r0, rows), b, 0.0f,
                           Rows(c[t]).block(0, rows));
            } else {
                // Columns of A^T are not contiguous: time an equal share of rows with the same
                // inner dimension instead (same work, same kernel).
                blas::gemm(true, s.trans_b, 1.0f, ConstRows(a.data(), s.k, rows), b, 0.0f,
                           Rows(c[t]).block(0, rows));
            }
        };
        for (int r = 0; r < reps + 1; ++r) {  // the first pass wakes the team: not timed
            const Stopwatch clock;
            pool.run([&](std::size_t t) {
                for (int i = 0; i < calls; ++i) part(t);
            });
            if (r > 0) times.push_back(clock.seconds() / calls);
        }
        out.split_seconds = median(times);
    }
    blas::set_num_threads(saved);
    return out;
}

GemmLimit measure_limit(const std::vector<blas::GemmShape>& shapes, std::size_t threads, int reps) {
    GemmLimit out;
    for (const blas::GemmShape& s : shapes) {
        out.products.push_back(time_product(s, threads, reps));
        const ProductTiming& p = out.products.back();
        out.seconds += s.count * p.best_seconds();
        out.flops += s.count * p.flops_per_call();
    }
    return out;
}

}  // namespace dbn::bench
