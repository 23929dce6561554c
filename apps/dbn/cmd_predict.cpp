// `dbn predict`: parses the flags, has predict::write_predictions() run the data through the
// model into the output file, and prints what it wrote.
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
#include "dbn/predict/predict.hpp"

namespace dbn::cli {

void add_predict(CLI::App& app, PredictOptions& o) {
    auto* c = app.add_subcommand(
        "predict",
        "Write what a model gives for each row of a data set: a fine-tuned classifier's class "
        "probabilities and predicted class, a fine-tuned autoencoder's reconstructions, or a "
        "pretrained model's top-layer features");
    c->add_option("model", o.model, "model file (.h5)")->required()->check(path_validator());
    c->add_option("--data", o.data,
                  "data SPEC: IDX (*-ubyte, *.idx, optionally .gz), *.csv/.tsv/.txt[.gz], *.npy, "
                  "file.h5:/dataset or "
                  "bars-and-stripes:N; labels come along when the data has them")
        ->required()
        ->check(path_validator());
    c->add_option("--out", o.out,
                  "output: .h5 (/probabilities and /predicted, /reconstructions or /features; "
                  "docs/FORMAT.md), .csv (a header line, then one row per line) or .npy (the "
                  "probabilities, reconstructions or features alone)")
        ->required()
        ->check(path_validator());
    c->add_option("--labels", o.labels,
                  "labels SPEC for --data (default: those that come with the data); a "
                  "classifier's accuracy on them is printed")
        ->check(path_validator());
    c->add_option("--output", o.output,
                  "auto (default: what the model gives), probabilities, reconstructions or "
                  "features")
        ->check(CLI::IsMember({"auto", "probabilities", "reconstructions", "features"}));
    c->add_option("--chunk-rows", o.chunk_rows, "rows per chunk (bounds memory)")
        ->check(count_validator());
    add_csv_flags(c, o.csv);
    c->add_option("--threads", o.threads, "BLAS threads (default: OpenBLAS's choice)")
        ->check(count_validator());
    c->add_flag("--quiet", o.quiet, "print nothing on success");
}

int run_predict(const PredictOptions& o) {
    if (o.threads > 0) use_threads(static_cast<std::size_t>(o.threads));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<NamedInput> inputs = {{"the model", o.model}};
    for (const auto& f : data::spec_files(o.data)) inputs.push_back({"--data", f});
    if (o.labels)
        for (const auto& f : data::spec_files(*o.labels)) inputs.push_back({"--labels", f});
    check_output(o.out, "--out", "the predictions", inputs);
    const auto lock = guard_output(o.out);  // held until the predictions are written
    const ModelFile model = io::load_model(o.model);
    predict::PredictOptions options;
    options.output = predict::parse_output(o.output);
    try {
        predict::resolve_output(model, options.output);
    } catch (const ConfigError& e) {
        throw ConfigError(o.model + ": " + e.what());
    }
    options.chunk_rows = o.chunk_rows;
    options.threads = o.threads > 0 ? static_cast<std::size_t>(o.threads) : 0;
    options.model_file = o.model;
    // With --labels, --label-column names the column of the labels file.
    const data::CsvOptions csv = csv_options(o.csv, {o.labels.value_or(o.data)});
    if (o.labels)
        options.labels = data::read_labels(*o.labels, csv);
    else
        options.csv = csv;
    const predict::PredictSummary s = predict::write_predictions(model, o.data, o.out, options);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.quiet) return exit_ok;
    std::cout << "wrote " << o.out << ": " << counted(s.rows, "row") << " x ";
    switch (s.output) {
        case predict::Output::probabilities:
            std::cout << counted(s.columns, "class probability", "class probabilities")
                      << " and the predicted class";
            break;
        case predict::Output::reconstructions:
            std::cout << counted(s.columns, "reconstructed unit");
            break;
        default:
            std::cout << counted(s.columns, "feature") << " of layer "
                      << model.stack.n_layers() - 1;
    }
    std::cout << (s.labels ? ", with labels" : "") << ", in " << observe::format_duration(secs)
              << std::endl;
    if (s.output == predict::Output::probabilities && s.labels && s.rows > 0) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "accuracy %.4f (%zu of %zu rows)", s.accuracy(), s.correct,
                      s.rows);
        std::cout << buf << std::endl;
    }
    return exit_ok;
}

}  // namespace dbn::cli
