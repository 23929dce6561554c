// `dbn bench`: one run that measures the GEMM limit of this machine on the training shapes and
// how close pretraining gets to it (issue 5). The measuring code is dbn::bench (lib/dbn/bench/);
// this file parses, calls it and prints progress; bench_report.cpp renders the results. Peers
// are compared by scripts/bench_peers.py.
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "bench_report.hpp"
#include "commands.hpp"
#include "dbn/bench/measurements.hpp"
#include "dbn/bench/scaling.hpp"
#include "dbn/core/blas_kernel.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"

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
    c->add_option("--data", o.data, "training data SPEC (default: Fashion-MNIST training images)")
        ->check(path_validator());
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

int run_bench(const BenchOptions& o) {
    if (o.threads) use_threads(static_cast<std::size_t>(*o.threads));
    BenchRun r;
    r.threads = static_cast<std::size_t>(std::max(1, blas::num_threads()));
    bench::Settings settings = bench::Settings::make(o.quick, r.threads);
    if (o.runs) settings.runs = *o.runs;
    if (o.rows) settings.rows = *o.rows;
    r.runs = settings.runs;
    std::ostream* log = o.json ? nullptr : &std::cerr;
    const blas::KernelChoice kernel = blas::kernel_choice();
    r.kernel = kernel.core;
    r.kernel_chosen_by = to_string(kernel.source);

    const std::string spec = o.data.value_or(k_default_train);
    DBN_CHECK(o.data || std::filesystem::exists(spec), IoError,
              spec << ": Fashion-MNIST not found (apt-get install dataset-fashion-mnist, or pass "
                      "--data SPEC)");
    const bench::Stopwatch load_clock;
    data::Dataset data = bench::load_data(spec, settings.rows);
    r.load_seconds = load_clock.seconds();
    r.data = data.source;
    const Matrix& x = data.x;
    r.rows = x.shape(0);
    const std::size_t nv = x.shape(1);
    if (log)
        *log << "dbn bench: " << r.data << " (" << r.rows << " x " << nv << "), RBM " << nv << "-"
             << bench::k_rbm_hidden << ", batch " << bench::rbm_config(Algorithm::cd).batch_size
             << ", OpenBLAS kernel " << r.kernel << " (chosen by " << r.kernel_chosen_by << "), "
             << counted(r.threads, "thread") << std::endl;

    // The RBM: CD-1 and PCD-1 epochs against the products of a CD-1 minibatch, then AIS.
    r.rbm = bench::measure_rbm(x, settings);
    if (log) {
        print_products(*log, r.rbm.limit);
        *log << std::setprecision(3) << "  CD-1 epoch: " << r.rbm.cd1_seconds
             << " s\n  PCD-1 epoch: " << r.rbm.pcd1_seconds << " s" << std::endl;
        if (r.threads > 1)
            *log << "  CD-1 epoch, 1 thread: " << r.rbm.cd1_seconds_1_thread << " s" << std::endl;
    }
    if (!o.no_ais) r.ais = bench::measure_ais(r.rbm.model, x, settings);
    if (log && r.ais) {
        const bench::AisMeasurement& a = *r.ais;
        print_products(*log, a.limit);
        *log << std::setprecision(3) << "  AIS (" << a.runs << " runs x " << a.steps
             << " steps): " << a.seconds << " s, limit " << a.limit_seconds << " s ("
             << std::lround(100.0 * a.limit_seconds / a.seconds) << "%)" << std::endl;
    }
    // Fine-tuning and feature extraction hold more (a preprocessed copy of the data, a
    // 2000-wide layer): the RBM's memory is what bench_peers.py compares.
    r.rbm_peak_rss_mib = bench::peak_rss_mib();

    // A 784-500-500-2000-10 classifier: one fine-tuning epoch; features of its stack.
    std::vector<std::size_t> widths = bench::k_stack_widths;
    widths.front() = nv;
    const Dbn stack = bench::random_stack(widths, 2006);
    r.finetune = bench::measure_finetune(stack, data, settings);
    if (log) {
        const bench::FineTuneMeasurement& ft = r.finetune;
        *log << "  fine-tuning " << dashed(ft.shape) << " (batch " << ft.batch_size << ", "
             << finetune::to_string(ft.optimizer) << "):" << std::endl;
        print_products(*log, ft.limit, 18);
        *log << "  fine-tuning epoch: " << std::setprecision(3) << ft.seconds << " s (limit "
             << ft.limit_seconds << " s, " << std::setprecision(0) << std::fixed
             << 100.0 * ft.limit_seconds / ft.seconds << "%)" << std::defaultfloat << std::endl;
    }
    r.features = bench::measure_features(stack, x, settings);
    if (log) {
        const bench::FeatureMeasurement& fx = r.features;
        const double rate = fx.rows_per_second(), limit_rate = fx.limit_rows_per_second();
        *log << "  features " << dashed(fx.shape) << " (chunks of " << fx.chunk_rows
             << " rows):" << std::endl;
        print_products(*log, fx.limit, 18);
        *log << "  features: " << std::fixed << std::setprecision(0) << rate << " rows/s (limit "
             << limit_rate << " rows/s, " << 100.0 * rate / limit_rate << "%)" << std::defaultfloat
             << std::setprecision(3) << std::endl;
    }
    if (o.scaling)
        r.scaling = bench::measure_scaling(x, settings, [&](const bench::ScalePoint& p) {
            if (log)
                *log << "  scaling: " << p.rows << " rows, " << p.nv << "-" << p.nh << ": "
                     << std::setprecision(3) << p.seconds << " s (limit " << p.limit << " s)"
                     << std::endl;
        });
    r.peak_rss_mib = bench::peak_rss_mib();

    if (o.json)
        std::cout << bench_json(r).dump() << std::endl;
    else
        print_bench_summary(std::cout, r);
    return exit_ok;
}

}  // namespace dbn::cli
