#include <chrono>
#include <iostream>

#include "commands.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/features/features.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/observe/console_progress.hpp"

namespace dbn::cli {

void add_features(CLI::App& app, FeaturesOptions& o) {
    auto* c = app.add_subcommand(
        "features",
        "Write the mean-field features of a data set (the hidden values of a layer), "
        "streaming it in chunks");
    c->add_option("model", o.model, "model file (.h5)")->required()->check(path_validator());
    c->add_option("--data", o.data,
                  "data SPEC: IDX (*-ubyte, *.idx, optionally .gz), *.csv/.tsv/.txt[.gz], *.npy, "
                  "file.h5:/dataset or "
                  "bars-and-stripes:N; labels come along when the data has them")
        ->required()
        ->check(path_validator());
    c->add_option("--out", o.out,
                  "output: .h5 (float32 /features [N, n_K], int32 /labels [N]), .csv (text, "
                  "%.9g, a header line, label first) or .npy (float32 [N, n_K], the features "
                  "alone)")
        ->required()
        ->check(path_validator());
    c->add_option("--layer", o.layer,
                  "layer whose hidden values to write, 0 = first hidden layer as in 'dbn info' "
                  "(default: the top)")
        ->check(index_validator());
    c->add_option("--chunk-rows", o.chunk_rows, "rows per chunk (bounds memory)")
        ->check(count_validator());
    add_csv_flags(c, o.csv);
    c->add_option("--threads", o.threads, "BLAS threads (default: OpenBLAS's choice)")
        ->check(count_validator());
    c->add_flag("--quiet", o.quiet, "print nothing on success");
}

int run_features(const FeaturesOptions& o) {
    if (o.threads > 0) use_threads(static_cast<std::size_t>(o.threads));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<NamedInput> inputs = {{"the model", o.model}};
    for (const auto& f : data::spec_files(o.data)) inputs.push_back({"--data", f});
    check_output(o.out, "--out", "the features", inputs);
    const auto lock = guard_output(o.out);  // held until the features are written
    const ModelFile model = io::load_model(o.model);
    features::FeatureOptions options;
    options.layer = o.layer;
    options.chunk_rows = o.chunk_rows;
    options.model_file = o.model;
    options.model_name = model.name;
    options.csv = csv_options(o.csv, {o.data});
    const features::FeatureSummary s =
        features::extract_features(model.stack, o.data, o.out, options);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!o.quiet) {
        std::cout << "wrote " << o.out << ": " << counted(s.rows, "row") << " x "
                  << counted(s.n_features, "feature") << " of layer " << s.layer
                  << (s.labels ? ", with labels" : "") << ", in " << observe::format_duration(secs);
        if (secs > 0 && s.rows > 0)
            std::cout << " (" << static_cast<long long>(static_cast<double>(s.rows) / secs)
                      << " rows/s)";
        std::cout << std::endl;
    }
    return exit_ok;
}

}  // namespace dbn::cli
