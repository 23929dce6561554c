// `dbn bench`: one run that measures the GEMM limit of this machine on the training shapes and
// how close pretraining gets to it (issue 5). Peers are compared by scripts/bench_peers.py.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/blas_kernel.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/parallel.hpp"
#include "dbn/core/version.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/train/rbm_trainer.hpp"
#if __has_include("dbn/estimate/ais.hpp")
#include "dbn/estimate/ais.hpp"
#define DBN_BENCH_HAS_AIS 1
#endif

namespace dbn::cli {

void add_bench(CLI::App& app, BenchOptions& o) {
    auto* c = app.add_subcommand(
        "bench",
        "Measure the sgemm limit on the training shapes, CD-1 and PCD-1 epochs of a "
        "784-500 RBM (batch 100) on Fashion-MNIST, AIS, and peak memory");
    c->add_flag("--quick", o.quick, "fewer rows (10,000), one run each, the quick AIS schedule");
    c->add_option("--threads", o.threads, "threads (default: OpenBLAS's thread count)")
        ->check(count_validator());
    c->add_flag("--json", o.json, "print one JSON object on stdout");
    c->add_option("--data", o.data, "training data SPEC (default: Fashion-MNIST training images)");
    c->add_option("--rows", o.rows, "use the first N rows (default: all; 10,000 with --quick)")
        ->check(count_validator());
    c->add_option("--runs", o.runs,
                  "timed runs of each measurement; medians are reported "
                  "(default 3, 1 with --quick)")
        ->check(count_validator());
    c->add_flag("--no-ais", o.no_ais, "skip the AIS measurement");
}

namespace {

using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

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

// One product of the training loop: C (m x n) = op(A) op(B), k inner.
struct Shape {
    const char* name;
    bool ta, tb;
    std::size_t m, n, k;
    int per_batch;  ///< how many of these one CD-1 minibatch does
};

// Seconds per call of `s` on the whole minibatch with `threads` BLAS threads, and on 1/threads of
// it per thread (single-threaded, concurrently; split along the minibatch: rows of the up and
// down products, rows of the statistics' result); the best of medians over `reps` timings.
struct GemmTiming {
    double blas_threads = NAN, split = NAN;
    double best() const { return std::min(blas_threads, std::isnan(split) ? blas_threads : split); }
};

GemmTiming time_shape(const Shape& s, std::size_t threads, int reps) {
    const std::size_t ar = s.ta ? s.k : s.m, ac = s.ta ? s.m : s.k;
    const std::size_t br = s.tb ? s.n : s.k, bc = s.tb ? s.k : s.n;
    Matrix a = Matrix::from_shape({ar, ac});
    Matrix b = Matrix::from_shape({br, bc});
    a.fill(0.5f);
    b.fill(0.25f);
    std::vector<Matrix> c;
    for (std::size_t t = 0; t < threads; ++t) c.push_back(Matrix::from_shape({s.m, s.n}));
    // About 20 ms of work per timing, so that the clock's resolution does not matter.
    const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
    const int calls = std::max(5, static_cast<int>(2e9 / flops));
    GemmTiming out;
    std::vector<double> times;
    const int saved = blas::num_threads();
    blas::set_num_threads(static_cast<int>(threads));
    blas::gemm(s.ta, s.tb, 1.0f, a, b, 0.0f, c[0]);  // warm-up (thread start, buffers)
    for (int r = 0; r < reps; ++r) {
        const auto t0 = clock_type::now();
        for (int i = 0; i < calls; ++i) blas::gemm(s.ta, s.tb, 1.0f, a, b, 0.0f, c[0]);
        times.push_back(seconds_since(t0) / calls);
    }
    out.blas_threads = median(times);
    if (threads > 1) {
        blas::set_num_threads(1);
        ThreadPool pool(threads);
        times.clear();
        // The up and down products split A's rows (the minibatch); the statistics' product
        // (A transposed) splits the rows of its result.
        auto part = [&](std::size_t t) {
            if (!s.ta) {
                const auto [r0, r1] = split_range(s.m, threads, t);
                const std::size_t rows = r1 - r0;
                blas::gemm(false, s.tb, 1.0f, ConstRows(a).block(r0, rows), b, 0.0f,
                           Rows(c[t]).block(0, rows));
            } else {
                // Columns of A^T are not contiguous: time an equal share of rows with the same
                // inner dimension instead (same work, same kernel).
                const auto [r0, r1] = split_range(s.m, threads, t);
                const std::size_t rows = r1 - r0;
                blas::gemm(true, s.tb, 1.0f, ConstRows(a.data(), s.k, rows), b, 0.0f,
                           Rows(c[t]).block(0, rows));
            }
        };
        for (int r = 0; r < reps + 1; ++r) {
            const auto t0 = clock_type::now();
            pool.run([&](std::size_t t) {
                for (int i = 0; i < calls; ++i) part(t);
            });
            if (r > 0) times.push_back(seconds_since(t0) / calls);
        }
        out.split = median(times);
    }
    blas::set_num_threads(saved);
    return out;
}

Matrix load_data(const BenchOptions& o, std::size_t rows, std::string& source) {
    const std::string spec = o.data.empty() ? k_default_train : o.data;
    DBN_CHECK(!o.data.empty() || std::filesystem::exists(spec), IoError,
              spec << ": Fashion-MNIST not found (apt-get install dataset-fashion-mnist, or pass "
                      "--data SPEC)");
    data::Dataset d = data::read_dataset(spec);
    if (rows > 0) d = data::first_rows(d, rows);
    source = d.source;
    Matrix x = std::move(d.x);
    const float mx = x.size() ? *std::max_element(x.begin(), x.end()) : 1.0f;
    if (mx > 1.0f)
        for (auto& v : x) v /= mx;
    return x;
}

LayerTrainingConfig bench_config(Algorithm a) {
    LayerTrainingConfig c;
    c.algorithm = a;
    c.k = 1;
    c.batch_size = 100;
    c.epochs = 1;
    c.learning_rate = 0.05;
    c.initial_momentum = 0.5;
    c.weight_decay = 0.0002;
    return c;
}

// Median seconds of one training epoch (fresh model each run), and the last run's model.
double time_epochs(const Matrix& x, Algorithm a, std::size_t threads, int runs, Rbm& model) {
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
        Rng rng(2006 + static_cast<std::uint64_t>(r));
        Rbm rbm(x.shape(1), 500);
        rbm.init_random(rng, 0.01f);
        RbmTrainer trainer(rbm, bench_config(a), rng);
        trainer.set_threads(threads);
        trainer.init_visible_bias(x);
        times.push_back(trainer.train_epoch(x));
        model = std::move(rbm);
    }
    return median(times);
}

}  // namespace

int run_bench(const BenchOptions& o) {
    if (o.threads > 0) blas::set_num_threads(o.threads);
    const auto threads = static_cast<std::size_t>(std::max(1, blas::num_threads()));
    const std::size_t rows = o.rows > 0 ? o.rows : (o.quick ? 10000 : 0);
    const int runs = o.runs > 0 ? o.runs : (o.quick ? 1 : 3);
    std::ostream& log = std::cerr;
    const blas::KernelChoice kernel = blas::kernel_choice();

    std::string source;
    auto t0 = clock_type::now();
    const Matrix x = load_data(o, rows, source);
    const double load_s = seconds_since(t0);
    const std::size_t n = x.shape(0), nv = x.shape(1), nh = 500, b = 100;
    const std::size_t n_batches = (n + b - 1) / b;
    if (!o.json)
        log << "dbn bench: " << source << " (" << n << " x " << nv << "), RBM " << nv << "-" << nh
            << ", batch " << b << ", OpenBLAS kernel " << kernel.core << " (chosen by "
            << to_string(kernel.source) << "), " << threads << " thread" << (threads > 1 ? "s" : "")
            << std::endl;

    // The limit: the five products of a CD-1 minibatch at the best rate this machine gives.
    const Shape shapes[] = {{"up", false, false, b, nh, nv, 2},
                            {"down", false, true, b, nv, nh, 1},
                            {"statistics", true, false, nv, nh, b, 2}};
    json gemm = json::object();
    double limit_per_batch = 0.0, flops_per_batch = 0.0;
    for (const Shape& s : shapes) {
        const GemmTiming g = time_shape(s, threads, o.quick ? 3 : 5);
        const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
        limit_per_batch += s.per_batch * g.best();
        flops_per_batch += s.per_batch * flops;
        gemm[s.name] = {
            {"m", s.m},
            {"n", s.n},
            {"k", s.k},
            {"per_minibatch", s.per_batch},
            {"gflops_blas_threads", flops / g.blas_threads / 1e9},
            {"gflops_split", std::isnan(g.split) ? json(nullptr) : json(flops / g.split / 1e9)},
            {"gflops_best", flops / g.best() / 1e9}};
        if (!o.json)
            log << "  sgemm " << std::setw(10) << s.name << " " << s.m << "x" << s.n << "x" << s.k
                << ": " << std::fixed << std::setprecision(1) << flops / g.blas_threads / 1e9
                << " GFLOP/s with BLAS threads"
                << (std::isnan(g.split)
                        ? std::string()
                        : ", " + std::to_string(int(std::lround(flops / g.split / 1e9))) +
                              " split by rows")
                << std::defaultfloat << std::endl;
    }
    const double limit_s = limit_per_batch * double(n_batches);
    const double gflops = flops_per_batch / limit_per_batch / 1e9;

    Rbm model;
    const double cd1 = time_epochs(x, Algorithm::cd, threads, runs, model);
    log << std::setprecision(3);
    if (!o.json) log << "  CD-1 epoch: " << cd1 << " s" << std::endl;
    Rbm pcd_model;
    const double pcd1 = time_epochs(x, Algorithm::pcd, threads, runs, pcd_model);
    if (!o.json) log << "  PCD-1 epoch: " << pcd1 << " s" << std::endl;
    double cd1_single = NAN;
    if (threads > 1) {
        blas::set_num_threads(1);
        cd1_single = time_epochs(x, Algorithm::cd, 1, runs, pcd_model);
        blas::set_num_threads(static_cast<int>(threads));
        if (!o.json) log << "  CD-1 epoch, 1 thread: " << cd1_single << " s" << std::endl;
    }

    json ais = nullptr;
    double ais_s = NAN;
#ifdef DBN_BENCH_HAS_AIS
    if (!o.no_ais) {
        estimate::AisConfig cfg;
        cfg.runs = estimate::k_ais_default_runs;
        cfg.steps = o.quick ? estimate::k_ais_quick_steps : estimate::k_ais_default_steps;
        const estimate::Ais estimator(cfg);
        t0 = clock_type::now();
        const estimate::AisResult r = estimator.estimate(model, x);
        ais_s = seconds_since(t0);
        // Two M x n_v x n_h products per temperature.
        const double ais_flops =
            2.0 * 2.0 * double(cfg.runs) * double(nv) * double(nh) * double(cfg.steps);
        ais = {{"runs", cfg.runs},
               {"steps", cfg.steps},
               {"seconds", ais_s},
               {"log_z", r.log_z},
               {"gemm_gflops_achieved", ais_flops / ais_s / 1e9}};
        if (!o.json)
            log << "  AIS (" << cfg.runs << " runs x " << cfg.steps << " steps): " << ais_s << " s"
                << std::endl;
    }
#endif

    json out = {
        {"dbn_version", library_version},
        {"openblas_core", kernel.core},
        {"openblas_core_chosen_by", to_string(kernel.source)},
        {"threads", threads},
        {"hardware_threads", std::thread::hardware_concurrency()},
        {"data", source},
        {"rows", n},
        {"shape", {nv, nh}},
        {"batch_size", b},
        {"runs", runs},
        {"load_seconds", load_s},
        {"gemm", gemm},
        {"gemm_gflops", gflops},
        {"limit_seconds_per_epoch", limit_s},
        {"cd1_seconds_per_epoch", cd1},
        {"cd1_fraction_of_limit", limit_s / cd1},
        {"pcd1_seconds_per_epoch", pcd1},
        {"pcd1_fraction_of_limit", limit_s / pcd1},
        {"cd1_seconds_per_epoch_1_thread",
         std::isnan(cd1_single) ? json(nullptr) : json(cd1_single)},
        {"thread_speedup", std::isnan(cd1_single) ? json(nullptr) : json(cd1_single / cd1)},
        {"ais_seconds", std::isnan(ais_s) ? json(nullptr) : json(ais_s)},
        {"ais", ais},
        {"peak_rss_mib", peak_rss_mib()},
    };
    if (o.json) {
        std::cout << out.dump() << std::endl;
    } else {
        std::cout << std::fixed << std::setprecision(3) << "kernel " << kernel.core << ", "
                  << threads << (threads > 1 ? " threads" : " thread") << ": sgemm "
                  << std::setprecision(1) << gflops << " GFLOP/s -> limit " << std::setprecision(3)
                  << limit_s << " s/epoch; CD-1 " << cd1 << " s (" << std::setprecision(0)
                  << 100.0 * limit_s / cd1 << "% of the limit), PCD-1 " << std::setprecision(3)
                  << pcd1 << " s";
        if (!std::isnan(cd1_single))
            std::cout << ", 1 thread " << cd1_single << " s (x" << std::setprecision(2)
                      << cd1_single / cd1 << ")";
        if (!std::isnan(ais_s)) std::cout << "; AIS " << std::setprecision(1) << ais_s << " s";
        std::cout << "; peak RSS " << std::setprecision(0) << peak_rss_mib() << " MiB" << std::endl;
    }
    return exit_ok;
}

}  // namespace dbn::cli
