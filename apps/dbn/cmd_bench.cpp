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
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/blas_kernel.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/parallel.hpp"
#include "dbn/core/version.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/features/features.hpp"
#include "dbn/finetune/fine_tuner.hpp"
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
        "784-500 RBM (batch 100) on Fashion-MNIST, AIS, peak memory, a fine-tuning epoch of a "
        "784-500-500-2000-10 classifier and feature extraction through a 784-500-500-2000 "
        "stack, each against its own GEMM limit");
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
    c->add_flag("--scaling", o.scaling,
                "also time CD-1 epochs over 1/8, 1/4, 1/2 and all of the rows (784-500) and with "
                "125, 250, 500 and 1000 hidden units (all rows), to show that the cost grows "
                "linearly in rows and in n_visible x n_hidden (about a minute on all rows)");
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
    std::string name;
    bool ta, tb;
    std::size_t m, n, k;
    int per_batch;  ///< how many of these one minibatch (or chunk of rows) does
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

// The CD-1 products of one minibatch of a n_v-n_h RBM: up (twice: data and reconstruction),
// down, and the two statistics.
std::vector<Shape> cd1_shapes(std::size_t b, std::size_t nv, std::size_t nh) {
    return {{"up", false, false, b, nh, nv, 2},
            {"down", false, true, b, nv, nh, 1},
            {"statistics", true, false, nv, nh, b, 2}};
}

// The backpropagation products of one minibatch of a dense network of widths d[0] -> d[1] ->
// ... : forward x W for every layer, the weight gradient X^T delta for every layer, the input
// gradient delta W^T for every layer but the first.
std::vector<Shape> backprop_shapes(std::size_t b, const std::vector<std::size_t>& d) {
    std::vector<Shape> out;
    for (std::size_t i = 0; i + 1 < d.size(); ++i) {
        const std::string l = "L" + std::to_string(i + 1);
        out.push_back({l + " forward", false, false, b, d[i + 1], d[i], 1});
        out.push_back({l + " weight gradient", true, false, d[i], d[i + 1], b, 1});
        if (i > 0) out.push_back({l + " input gradient", false, true, b, d[i], d[i + 1], 1});
    }
    return out;
}

// The forward products of `rows` rows through a stack of widths d.
std::vector<Shape> forward_shapes(std::size_t rows, const std::vector<std::size_t>& d) {
    std::vector<Shape> out;
    for (std::size_t i = 0; i + 1 < d.size(); ++i)
        out.push_back({"L" + std::to_string(i + 1) + " forward", false, false, rows, d[i + 1], d[i], 1});
    return out;
}

// The GEMM limit of a set of products: each at the best rate this machine gives for it (BLAS
// threads or rows split across threads), times how often a minibatch does it, summed.
struct Limit {
    double seconds = 0.0;  ///< per minibatch (or chunk)
    double flops = 0.0;    ///< per minibatch (or chunk)
    json gemm = json::object();
    double gflops() const { return flops / seconds / 1e9; }
};

Limit measure_limit(const std::vector<Shape>& shapes, std::size_t threads, int reps,
                    std::ostream* log, int name_width = 10) {
    Limit out;
    for (const Shape& s : shapes) {
        const GemmTiming g = time_shape(s, threads, reps);
        const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
        out.seconds += s.per_batch * g.best();
        out.flops += s.per_batch * flops;
        out.gemm[s.name] = {
            {"m", s.m},
            {"n", s.n},
            {"k", s.k},
            {"per_minibatch", s.per_batch},
            {"gflops_blas_threads", flops / g.blas_threads / 1e9},
            {"gflops_split", std::isnan(g.split) ? json(nullptr) : json(flops / g.split / 1e9)},
            {"gflops_best", flops / g.best() / 1e9}};
        if (log)
            *log << "  sgemm " << std::setw(name_width) << s.name << " " << s.m << "x" << s.n
                 << "x" << s.k << ": " << std::fixed << std::setprecision(1)
                 << flops / g.blas_threads / 1e9 << " GFLOP/s with BLAS threads"
                 << (std::isnan(g.split)
                         ? std::string()
                         : ", " + std::to_string(int(std::lround(flops / g.split / 1e9))) +
                               " split by rows")
                 << std::defaultfloat << std::endl;
    }
    return out;
}

// The data scaled to [0, 1] (IDX pixels are 0..255), with its labels when it has them.
data::Dataset load_data(const BenchOptions& o, std::size_t rows) {
    const std::string spec = o.data.empty() ? k_default_train : o.data;
    DBN_CHECK(!o.data.empty() || std::filesystem::exists(spec), IoError,
              spec << ": Fashion-MNIST not found (apt-get install dataset-fashion-mnist, or pass "
                      "--data SPEC)");
    data::Dataset d = data::read_dataset(spec);
    if (rows > 0) d = data::first_rows(d, rows);
    const float mx = d.x.size() ? *std::max_element(d.x.begin(), d.x.end()) : 1.0f;
    if (mx > 1.0f)
        for (auto& v : d.x) v /= mx;
    return d;
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

// Median seconds of one training epoch of a n_v-n_hidden RBM (fresh model each run), and the
// last run's model.
double time_epochs(const Matrix& x, Algorithm a, std::size_t threads, int runs, Rbm& model,
                   std::size_t n_hidden = 500) {
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
        Rng rng(2006 + static_cast<std::uint64_t>(r));
        Rbm rbm(x.shape(1), n_hidden);
        rbm.init_random(rng, 0.01f);
        RbmTrainer trainer(rbm, bench_config(a), rng);
        trainer.set_threads(threads);
        trainer.init_visible_bias(x);
        times.push_back(trainer.train_epoch(x));
        model = std::move(rbm);
    }
    return median(times);
}

// --- fine-tuning and feature extraction --------------------------------------------------

// Widths of the stack of Hinton & Salakhutdinov's MNIST classifier, and its 10 classes.
const std::vector<std::size_t> k_stack_widths = {784, 500, 500, 2000};
constexpr std::size_t k_classes = 10;

// A stack of RBMs with weights N(0, 0.01^2) and zero biases: timing needs no pretraining.
Dbn random_stack(const std::vector<std::size_t>& widths, std::uint64_t seed) {
    Rng rng(seed);
    Dbn m;
    for (std::size_t k = 0; k + 1 < widths.size(); ++k) {
        Rbm r(widths[k], widths[k + 1]);
        r.init_random(rng, 0.01f);
        m.layers.push_back(std::move(r));
    }
    return m;
}

class EpochClock : public finetune::FineTuneObserver {
public:
    double seconds = NAN;
    Control on_epoch_end(const finetune::FineTuneEpoch& e) override {
        seconds = e.seconds;
        return Control::proceed;
    }
};

// `dbn finetune`'s defaults (Adam, batch finetune::FineTuneConfig::batch_size), one epoch over every row:
// nothing held out, so the epoch's time (finetune::FineTuneEpoch::seconds) has no validation pass.
finetune::FineTuneConfig finetune_config(std::uint64_t seed) {
    finetune::FineTuneConfig c;
    c.mode = finetune::FineTuneMode::classifier;
    c.epochs = 1;
    c.validation_fraction = 0.0;
    c.patience = 0;
    c.seed = seed;
    return c;
}

// Seconds of one fine-tuning epoch (a fresh head from `seed`).
double time_finetune(const Dbn& stack, const data::Dataset& d, std::uint64_t seed) {
    EpochClock clock;
    finetune::fine_tune(stack, d, nullptr, finetune_config(seed), &clock);
    return clock.seconds;
}

// Seconds of the top layer's features of every row, `chunk` rows at a time as
// features::extract_features() reads them (the copy of a chunk included, the output file not).
double time_features(const Dbn& stack, const Matrix& x, std::size_t chunk) {
    const std::size_t n = x.shape(0), nv = x.shape(1), top = stack.n_layers() - 1;
    double sink = 0.0;
    auto pass = [&](std::size_t rows_total) {
        for (std::size_t first = 0; first < rows_total; first += chunk) {
            const std::size_t rows = std::min(chunk, rows_total - first);
            Matrix c = Matrix::from_shape({rows, nv});
            std::copy(x.data() + first * nv, x.data() + (first + rows) * nv, c.data());
            const Matrix f = features::features(stack, c, top);
            sink += f.size() ? double(f(0, 0)) : 0.0;
        }
    };
    pass(std::min(chunk, n));  // warm-up: BLAS threads and buffers, the allocator's pages
    const auto t0 = clock_type::now();
    pass(n);
    const double s = seconds_since(t0);
    return std::isfinite(sink) ? s : NAN;  // keeps the work observable
}

// --- scaling ----------------------------------------------------------------------------

constexpr const char* k_scaling_note =
    "log-log slope: least-squares slope of log(seconds) against log(rows x n_visible x "
    "n_hidden), 1 for a cost proportional to it. The least-squares line's intercept is the part "
    "of an epoch that does not grow with that product: in the rows sweep the trainer's setup, in "
    "the n_hidden sweep also the per-row work on the visible units (reading, sampling), which "
    "does not depend on n_hidden. Small n_hidden also runs the products at a lower sgemm rate "
    "(the GFLOP/s column: the limit's rate for that shape), so its cost per row x n_visible x "
    "n_hidden is higher; the % of limit column separates that from the work outside the "
    "products.";

struct ScalePoint {
    std::size_t rows = 0, nv = 0, nh = 0;
    double seconds = NAN, limit = NAN, limit_gflops = NAN;
    double per_row() const { return seconds / double(rows); }
    double per_unit() const { return seconds / (double(rows) * double(nv) * double(nh)); }
};

// Least-squares line t = a + b u: intercept a, slope b and the coefficient of determination.
struct LineFit {
    double intercept = NAN, slope = NAN, r_squared = NAN;
};

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

// The least-squares slope of log(seconds) against log(u): 1 for a cost proportional to u.
double loglog_slope(const std::vector<double>& u, const std::vector<double>& t) {
    std::vector<double> lu, lt;
    for (std::size_t i = 0; i < u.size(); ++i) {
        lu.push_back(std::log(u[i]));
        lt.push_back(std::log(t[i]));
    }
    return fit_line(lu, lt).slope;
}

// A sweep's points and how linear it is in u = rows x n_visible x n_hidden (in the rows sweep,
// proportional to the rows): see k_scaling_note.
json sweep_json(const std::vector<ScalePoint>& pts) {
    json list = json::array();
    std::vector<double> u, t;
    double lo = INFINITY, hi = 0.0;
    for (const ScalePoint& p : pts) {
        list.push_back({{"rows", p.rows},
                        {"n_visible", p.nv},
                        {"n_hidden", p.nh},
                        {"seconds", p.seconds},
                        {"seconds_per_row", p.per_row()},
                        {"seconds_per_row_nv_nh", p.per_unit()},
                        {"limit_seconds", p.limit},
                        {"limit_gemm_gflops", p.limit_gflops},
                        {"fraction_of_limit", p.limit / p.seconds}});
        u.push_back(double(p.rows) * double(p.nv) * double(p.nh));
        t.push_back(p.seconds);
        lo = std::min(lo, p.per_unit());
        hi = std::max(hi, p.per_unit());
    }
    const LineFit f = fit_line(u, t);
    return {{"points", list},
            {"exponent", loglog_slope(u, t)},
            {"cost_ratio_max_min", hi / lo},
            {"fit_intercept_seconds", f.intercept},
            {"fit_seconds_per_row_nv_nh", f.slope},
            {"fit_r_squared", f.r_squared}};
}

void print_sweep(std::ostream& out, const char* title, const std::vector<ScalePoint>& pts,
                 const json& j) {
    out << title << "\n"
        << "     rows   n_v    n_h   seconds   us/row  ps/(row*n_v*n_h)  limit s  GFLOP/s  "
           "% of limit\n";
    char buf[200];
    for (const ScalePoint& p : pts) {
        std::snprintf(buf, sizeof buf,
                      "  %7zu  %4zu  %5zu  %8.3f  %7.2f  %16.2f  %7.3f  %7.1f  %9.0f\n", p.rows,
                      p.nv, p.nh, p.seconds, 1e6 * p.per_row(), 1e12 * p.per_unit(), p.limit,
                      p.limit_gflops, 100.0 * p.limit / p.seconds);
        out << buf;
    }
    std::snprintf(buf, sizeof buf,
                  "  log-log slope %.3f (1 = linear); least squares: %.3f s + %.2f ps x "
                  "row*n_v*n_h (R^2 %.4f); largest / smallest cost per row*n_v*n_h %.2f\n",
                  j.value("exponent", NAN), j.value("fit_intercept_seconds", NAN),
                  1e12 * j.value("fit_seconds_per_row_nv_nh", NAN), j.value("fit_r_squared", NAN),
                  j.value("cost_ratio_max_min", NAN));
    out << buf;
}

}  // namespace

int run_bench(const BenchOptions& o) {
    if (o.threads > 0) blas::set_num_threads(o.threads);
    const auto threads = static_cast<std::size_t>(std::max(1, blas::num_threads()));
    const std::size_t rows = o.rows > 0 ? o.rows : (o.quick ? 10000 : 0);
    const int runs = o.runs > 0 ? o.runs : (o.quick ? 1 : 3);
    const int reps = o.quick ? 3 : 5;
    std::ostream& log = std::cerr;
    std::ostream* text_log = o.json ? nullptr : &log;
    const blas::KernelChoice kernel = blas::kernel_choice();

    auto t0 = clock_type::now();
    data::Dataset data = load_data(o, rows);
    const double load_s = seconds_since(t0);
    const std::string source = data.source;
    const Matrix& x = data.x;
    const std::size_t n = x.shape(0), nv = x.shape(1), nh = 500, b = 100;
    const std::size_t n_batches = (n + b - 1) / b;
    if (!o.json)
        log << "dbn bench: " << source << " (" << n << " x " << nv << "), RBM " << nv << "-" << nh
            << ", batch " << b << ", OpenBLAS kernel " << kernel.core << " (chosen by "
            << to_string(kernel.source) << "), " << threads << " thread" << (threads > 1 ? "s" : "")
            << std::endl;

    // The limit: the five products of a CD-1 minibatch at the best rate this machine gives.
    const Limit cd_limit = measure_limit(cd1_shapes(b, nv, nh), threads, reps, text_log);
    const double limit_s = cd_limit.seconds * double(n_batches);
    const double gflops = cd_limit.gflops();

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
    double ais_s = NAN, ais_limit_s = NAN;
#ifdef DBN_BENCH_HAS_AIS
    if (!o.no_ais) {
        estimate::AisConfig cfg;
        cfg.runs = estimate::k_ais_default_runs;
        cfg.steps = o.quick ? estimate::k_ais_quick_steps : estimate::k_ais_default_steps;
        const estimate::Ais estimator(cfg);
        // Its limit: per temperature one up (runs x n_v -> n_h) and one down product (the
        // first temperature has no down), at the best rate for these shapes, timed just before.
        const std::vector<Shape> ais_shapes = {{"AIS up", false, false, cfg.runs, nh, nv, 1},
                                               {"AIS down", false, true, cfg.runs, nv, nh, 1}};
        const Limit ais_limit = measure_limit(ais_shapes, threads, reps, text_log);
        ais_limit_s = double(cfg.steps) * ais_limit.seconds;
        t0 = clock_type::now();
        const estimate::AisResult r = estimator.estimate(model, x);
        ais_s = seconds_since(t0);
        const double ais_flops = double(cfg.steps) * ais_limit.flops;
        ais = {{"runs", cfg.runs},
               {"steps", cfg.steps},
               {"groups", estimate::ais_groups(cfg.runs)},
               {"seconds", ais_s},
               {"log_z", r.log_z},
               {"gemm", ais_limit.gemm},
               {"limit_seconds", ais_limit_s},
               {"fraction_of_limit", ais_limit_s / ais_s},
               {"gemm_gflops_achieved", ais_flops / ais_s / 1e9}};
        if (!o.json)
            log << std::setprecision(3) << "  AIS (" << cfg.runs << " runs x " << cfg.steps
                << " steps): " << ais_s
                << " s, limit " << ais_limit_s << " s ("
                << std::lround(100.0 * ais_limit_s / ais_s) << "%)" << std::endl;
    }
#endif
    // Memory of the RBM measurements (what bench_peers.py compares); fine-tuning and feature
    // extraction below hold more (a preprocessed copy of the data, a 2000-wide layer).
    const double rbm_peak_rss = peak_rss_mib();

    // Fine-tuning: one epoch of a 784-500-500-2000-10 classifier (random stack, the defaults of
    // `dbn finetune`) against the backpropagation products at the best sgemm rate.
    std::vector<std::size_t> widths = k_stack_widths;
    widths.front() = nv;
    const Dbn stack = random_stack(widths, 2006);
    std::vector<std::size_t> net_widths = widths;
    net_widths.push_back(k_classes);
    const finetune::FineTuneConfig ft_cfg = finetune_config(1);
    const std::size_t ft_b = std::min(ft_cfg.batch_size, n);
    if (!o.json) {
        log << "  fine-tuning " << nv;
        for (std::size_t i = 1; i < net_widths.size(); ++i) log << "-" << net_widths[i];
        log << " (batch " << ft_b << ", " << to_string(ft_cfg.optimizer) << "):" << std::endl;
    }
    {
        // The data's labels when they have the 10 classes of the network's head; otherwise
        // (none, or another number) the classes in turn: the cost does not depend on them.
        std::vector<std::int32_t> classes(data.labels.begin(), data.labels.end());
        std::sort(classes.begin(), classes.end());
        classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
        if (classes.size() != k_classes) {
            data.labels = Labels::from_shape({n});
            for (std::size_t i = 0; i < n; ++i)
                data.labels(i) = static_cast<std::int32_t>(i % k_classes);
        }
    }
    // Each run measures its limit right before its epoch, so that both see the same machine
    // (others' work on a shared machine changes the sgemm rate from minute to minute); the
    // medians of both are reported.
    const double ft_batches = double((n + ft_b - 1) / ft_b);
    json ft_gemm;
    double ft_flops = 0.0;  // per epoch
    std::vector<double> ft_times, ft_limits;
    for (int r = 0; r < runs; ++r) {
        const Limit ft_limit = measure_limit(backprop_shapes(ft_b, net_widths), threads, reps,
                                             r == 0 ? text_log : nullptr, 18);
        if (r == 0) ft_gemm = ft_limit.gemm;
        ft_flops = ft_limit.flops * ft_batches;
        ft_limits.push_back(ft_limit.seconds * ft_batches);
        ft_times.push_back(time_finetune(stack, data, 1 + static_cast<std::uint64_t>(r)));
    }
    const double ft_s = median(ft_times), ft_limit_s = median(ft_limits);
    if (!o.json)
        log << "  fine-tuning epoch: " << std::setprecision(3) << ft_s << " s (limit "
            << ft_limit_s << " s, " << std::setprecision(0) << std::fixed
            << 100.0 * ft_limit_s / ft_s << "%)" << std::defaultfloat << std::setprecision(3)
            << std::endl;

    // Feature extraction: the top layer of the same stack, in features::extract_features()'s chunks.
    const std::size_t chunk = std::min<std::size_t>(features::FeatureOptions{}.chunk_rows, n);
    if (!o.json) {
        log << "  features " << nv;
        for (std::size_t i = 1; i < widths.size(); ++i) log << "-" << widths[i];
        log << " (chunks of " << chunk << " rows):" << std::endl;
    }
    double fx_flops = 0.0;
    for (std::size_t i = 0; i + 1 < widths.size(); ++i)
        fx_flops += 2.0 * double(n) * double(widths[i]) * double(widths[i + 1]);
    json fx_gemm;
    std::vector<double> fx_times, fx_limits;
    for (int r = 0; r < runs; ++r) {
        const Limit fx_limit = measure_limit(forward_shapes(chunk, widths), threads, reps,
                                             r == 0 ? text_log : nullptr, 18);
        if (r == 0) fx_gemm = fx_limit.gemm;
        fx_limits.push_back(fx_flops / (fx_limit.gflops() * 1e9));
        fx_times.push_back(time_features(stack, x, chunk));
    }
    const double fx_s = median(fx_times), fx_limit_s = median(fx_limits);
    const double fx_rate = double(n) / fx_s, fx_limit_rate = double(n) / fx_limit_s;
    if (!o.json)
        log << "  features: " << std::fixed << std::setprecision(0) << fx_rate << " rows/s (limit "
            << fx_limit_rate << " rows/s, " << 100.0 * fx_rate / fx_limit_rate << "%)"
            << std::defaultfloat << std::setprecision(3) << std::endl;

    // Scaling: CD-1 epochs over 1/8 .. all of the rows at n_v-500, and with 125 .. 1000 hidden
    // units over all of the rows, each against its own limit.
    json scaling = nullptr;
    std::vector<ScalePoint> by_rows, by_hidden;
    if (o.scaling) {
        // Each point's limit is measured right before its epochs, so that both see the same
        // machine (others' work on a shared machine changes the sgemm rate from minute to minute).
        auto point = [&](std::size_t r, std::size_t h) {
            ScalePoint p;
            p.rows = r;
            p.nv = nv;
            p.nh = h;
            const Limit lim = measure_limit(cd1_shapes(b, nv, h), threads, reps, nullptr);
            Rbm m;
            if (r == n) {
                p.seconds = time_epochs(x, Algorithm::cd, threads, runs, m, h);
            } else {
                Matrix xs = Matrix::from_shape({r, nv});
                std::copy(x.data(), x.data() + r * nv, xs.data());
                p.seconds = time_epochs(xs, Algorithm::cd, threads, runs, m, h);
            }
            p.limit = lim.seconds * double((r + b - 1) / b);
            p.limit_gflops = lim.gflops();
            if (!o.json)
                log << "  scaling: " << r << " rows, " << nv << "-" << h << ": "
                    << std::setprecision(3) << p.seconds << " s (limit " << p.limit << " s)"
                    << std::endl;
            return p;
        };
        for (const std::size_t div : {8, 4, 2, 1}) {
            const std::size_t r = std::max<std::size_t>(n / div, 1);
            if (!by_rows.empty() && by_rows.back().rows == r) continue;
            by_rows.push_back(point(r, nh));
        }
        for (const std::size_t h : {125, 250, 500, 1000}) by_hidden.push_back(point(n, h));
        scaling = {{"algorithm", "cd1"},
                   {"batch_size", b},
                   {"rows", sweep_json(by_rows)},
                   {"n_hidden", sweep_json(by_hidden)},
                   {"note", k_scaling_note}};
    }

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
        {"gemm", cd_limit.gemm},
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
        {"ais_fraction_of_limit", std::isnan(ais_s) ? json(nullptr) : json(ais_limit_s / ais_s)},
        {"ais", ais},
        {"peak_rss_mib", rbm_peak_rss},
        {"finetune_shape", net_widths},
        {"finetune_batch_size", ft_b},
        {"finetune_optimizer", to_string(ft_cfg.optimizer)},
        {"finetune_gemm", ft_gemm},
        {"finetune_gemm_gflops", ft_flops / ft_limit_s / 1e9},
        {"finetune_seconds_per_epoch", ft_s},
        {"finetune_limit_seconds", ft_limit_s},
        {"finetune_fraction_of_limit", ft_limit_s / ft_s},
        {"features_shape", widths},
        {"features_chunk_rows", chunk},
        {"features_gemm", fx_gemm},
        {"features_gemm_gflops", fx_flops / fx_limit_s / 1e9},
        {"features_seconds", fx_s},
        {"features_rows_per_second", fx_rate},
        {"features_limit_rows_per_second", fx_limit_rate},
        {"features_fraction_of_limit", fx_rate / fx_limit_rate},
        {"scaling", scaling},
        {"peak_rss_mib_total", peak_rss_mib()},
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
        if (!std::isnan(ais_s))
            std::cout << "; AIS " << std::setprecision(1) << ais_s << " s ("
                      << std::setprecision(0) << 100.0 * ais_limit_s / ais_s << "% of its limit)";
        std::cout << "; peak RSS " << std::setprecision(0) << rbm_peak_rss << " MiB" << std::endl;
        std::cout << "fine-tuning " << nv;
        for (std::size_t i = 1; i < net_widths.size(); ++i) std::cout << "-" << net_widths[i];
        std::cout << " (batch " << ft_b << "): epoch " << std::setprecision(3) << ft_s
                  << " s, limit " << ft_limit_s << " s (" << std::setprecision(0)
                  << 100.0 * ft_limit_s / ft_s << "%); features through " << nv;
        for (std::size_t i = 1; i < widths.size(); ++i) std::cout << "-" << widths[i];
        std::cout << ": " << fx_rate << " rows/s, limit " << fx_limit_rate << " rows/s ("
                  << 100.0 * fx_rate / fx_limit_rate << "%); peak RSS of the whole run "
                  << peak_rss_mib() << " MiB" << std::endl;
        if (o.scaling) {
            std::cout << std::defaultfloat;
            print_sweep(std::cout, "CD-1 epoch against rows:", by_rows, scaling["rows"]);
            print_sweep(std::cout, "CD-1 epoch against n_hidden:", by_hidden, scaling["n_hidden"]);
            std::cout << "(" << k_scaling_note << ")" << std::endl;
        }
    }
    return exit_ok;
}

}  // namespace dbn::cli
