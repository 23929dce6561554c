#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>

#include "commands.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/blas_kernel.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/observe/console_progress.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "dbn/pretrain/pretrain_checks.hpp"

namespace dbn::cli {

void add_pretrain(CLI::App& app, PretrainOptions& o) {
    auto* c =
        app.add_subcommand("pretrain", "Pretrain a DBN greedily, layer by layer, and save it");
    c->add_option("--config", o.config, "DBN configuration (JSON), e.g. models/quick.json")
        ->required()
        ->check(path_validator());
    c->add_option(
         "--data", o.data,
         "training data SPEC: IDX (*-ubyte, *.idx, optionally .gz), *.csv, file.h5:/dataset "
         "or bars-and-stripes:N (default: Debian's Fashion-MNIST training images)")
        ->check(path_validator());
    c->add_option("--validation", o.validation,
                  "held-out data SPEC for the monitors (default: a held-out share of --data)")
        ->check(path_validator());
    c->add_option("--out", o.out, "model file to write (default: <config name>.h5)")
        ->check(path_validator());
    c->add_option("--seed", o.seed, "random seed (overrides the configuration's)")
        ->check(unsigned_validator())
        ->each([&o](const std::string&) { o.seed_set = true; });
    c->add_option("--epochs", o.epochs, "epochs for every layer (overrides the configuration)")
        ->check(count_validator());
    c->add_option("--limit", o.limit, "use only the first N rows of --data")
        ->check(count_validator());
    c->add_option("--threads", o.threads, "BLAS threads (default: OpenBLAS's choice)")
        ->check(count_validator());
    c->add_flag("--quiet", o.quiet, "print only the final summary");
    c->add_flag("--strict", o.strict,
                "exit with status 3 (after saving the model) when a consistency check fails");
    c->add_flag("--no-checks", o.no_checks, "skip the free-energy consistency checks");
}

int run_pretrain(const PretrainOptions& o) {
    DbnConfig cfg = load_dbn_config(o.config);
    if (o.seed_set) cfg.seed = o.seed;
    if (o.epochs > 0)
        for (auto& l : cfg.layers) l.train.epochs = o.epochs;
    if (o.threads > 0) use_threads(static_cast<std::size_t>(o.threads));

    std::string out = o.out;
    if (out.empty()) out = (cfg.name.empty() ? std::string("model") : cfg.name) + ".h5";
    const std::string spec = o.data.empty() ? k_default_train : o.data;
    // Fail before hours of training, not after: the output's folder must exist, and the output
    // must not be one of the inputs.
    std::vector<NamedInput> inputs = {{"--config", o.config}};
    for (const auto& f : data::spec_files(spec)) inputs.push_back({"--data", f});
    if (!o.validation.empty())
        for (const auto& f : data::spec_files(o.validation)) inputs.push_back({"--validation", f});
    check_output(out, o.out.empty() ? "the default output (NAME.h5)" : "--out", "the model",
                 inputs);

    if (o.data.empty() && !std::filesystem::exists(spec)) {
        DBN_CHECK(
            false, IoError,
            spec << ": default training data not found (apt-get install dataset-fashion-mnist, "
                    "or pass --data SPEC)");
    }
    const auto t0 = std::chrono::steady_clock::now();
    data::Dataset train = data::first_rows(data::read_dataset(spec), o.limit);
    data::Dataset valid;
    if (!o.validation.empty()) valid = data::read_dataset(o.validation);

    std::ostream& log = std::cout;
    if (!o.quiet) {
        log << "data: " << train.source << ": " << train.size() << " rows x " << train.n_features()
            << " columns";
        if (!o.validation.empty()) log << "; validation " << valid.size() << " rows";
        log << "\nBLAS: OpenBLAS kernel " << blas::core_name() << " (chosen by "
            << blas::to_string(blas::kernel_choice().source) << "), " << blas::num_threads()
            << " threads; seed " << cfg.seed << std::endl;
    }
    observe::ConsoleProgress progress(log, isatty(STDOUT_FILENO) == 1);
    if (o.no_checks) cfg.checks.enabled = false;
    GreedyTrainer trainer(cfg);
    PretrainChecks checks(cfg.checks, o.quiet ? nullptr : &progress);
    trainer.set_after_layer(std::ref(checks));
    if (cfg.checks.enabled)
        trainer.set_bound_probe(
            [&checks](const ModelFile& m, std::size_t k, const Matrix& raw, const GuideSpec& g) {
                return checks.bound_probe(m, k, raw, g);
            });
    const ModelFile model = trainer.train(std::move(train), o.validation.empty() ? nullptr : &valid,
                                          o.quiet ? nullptr : &progress);
    io::save_model(model, out);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Dbn& stack = model.stack;
    log << "saved " << out << ": " << stack.n_layers() << " layers (";
    for (std::size_t k = 0; k < stack.n_layers(); ++k)
        log << (k ? "-" : "") << stack.layers[k].n_visible();
    log << "-" << stack.layers.back().n_hidden() << "), " << observe::format_duration(secs)
        << std::endl;
    if (!checks.all_passed()) {
        std::cerr << "dbn: " << (o.strict ? "error" : "warning")
                  << ": a free-energy consistency check failed (D < 0 beyond its interval); see "
                     "'dbn info "
                  << out << "'" << std::endl;
        if (o.strict) return exit_check_failed;
    }
    return exit_ok;
}

}  // namespace dbn::cli
