// `dbn score`: parses the flags, has predict::write_scores() write each row's free energy and
// log-probability under layer 0, and prints the means.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/observe/console_progress.hpp"
#include "dbn/predict/score.hpp"

namespace dbn::cli {

void add_score(CLI::App& app, ScoreOptions& o) {
    auto* c = app.add_subcommand(
        "score",
        "Write each row's free energy F(v) under the model's first RBM and, when that RBM's "
        "log Z is known, its log-probability log p(v) = -F(v) - log Z");
    c->add_option("model", o.model, "model file (.h5)")->required()->check(path_validator());
    c->add_option("--data", o.data,
                  "data SPEC: IDX (*-ubyte, *.idx, optionally .gz), *.csv/.tsv/.txt[.gz], *.npy, "
                  "file.h5:/dataset or "
                  "bars-and-stripes:N (the model's preprocessing is applied)")
        ->required()
        ->check(path_validator());
    c->add_option("--out", o.out,
                  "output: .h5 (float64 /free_energy and /log_prob [N]; docs/FORMAT.md), .csv (a "
                  "header line, then one row per line) or .npy (log_prob, else free_energy)")
        ->required()
        ->check(path_validator());
    c->add_option("--chunk-rows", o.chunk_rows, "rows per chunk (bounds memory)")
        ->check(count_validator());
    add_csv_flags(c, o.csv);
    c->add_option("--threads", o.threads,
                  "BLAS threads and threads of an exact log Z (default: OpenBLAS's choice)")
        ->check(count_validator());
    c->add_flag("--quiet", o.quiet, "print nothing on success");
}

int run_score(const ScoreOptions& o) {
    if (o.threads > 0) use_threads(static_cast<std::size_t>(o.threads));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<NamedInput> inputs = {{"the model", o.model}};
    for (const auto& f : data::spec_files(o.data)) inputs.push_back({"--data", f});
    check_output(o.out, "--out", "the scores", inputs);
    const auto lock = guard_output(o.out);  // held until the scores are written
    const ModelFile model = io::load_model(o.model);
    predict::ScoreOptions options;
    options.chunk_rows = o.chunk_rows;
    options.threads = o.threads > 0 ? static_cast<std::size_t>(o.threads) : 2;
    options.model_file = o.model;
    options.csv = csv_options(o.csv, {o.data});
    const predict::ScoreSummary s = predict::write_scores(model, o.data, o.out, options);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.quiet) return exit_ok;
    char buf[256];
    std::cout << "wrote " << o.out << ": " << counted(s.rows, "row")
              << (s.log_z.known ? ", free energy and log p" : ", free energy")
              << (s.labels ? ", with labels" : "") << ", in " << observe::format_duration(secs)
              << std::endl;
    std::snprintf(buf, sizeof buf, "mean free energy of layer 0: %.6f", s.mean_free_energy);
    std::cout << buf << std::endl;
    if (s.log_z.known) {
        if (s.log_z.low == s.log_z.high) {
            std::snprintf(buf, sizeof buf, "log Z of layer 0: %.6f (%s)", s.log_z.value,
                          s.log_z.method.c_str());
        } else {
            std::snprintf(buf, sizeof buf, "log Z of layer 0: %.6f [%.6f, %.6f] (%s)",
                          s.log_z.value, s.log_z.low, s.log_z.high, s.log_z.method.c_str());
        }
        std::cout << buf << std::endl;
        std::snprintf(buf, sizeof buf, "mean log p(v): %.6f nats per row", s.mean_log_prob);
        std::cout << buf << std::endl;
    } else {
        std::cout << "log p not written: " << s.log_z.method << std::endl;
    }
    return exit_ok;
}

}  // namespace dbn::cli
