#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/blas_kernel.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/io/checkpoint_io.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/observe/console_progress.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "dbn/pretrain/pretrain_checks.hpp"
#include "run_control.hpp"

namespace dbn::cli {

void add_pretrain(CLI::App& app, PretrainOptions& o) {
    auto* c =
        app.add_subcommand("pretrain", "Pretrain a DBN greedily, layer by layer, and save it");
    auto* config =
        c->add_option("--config", o.config,
                      "DBN configuration (JSON), e.g. models/quick.json (required unless --resume)")
            ->check(path_validator());
    c->add_option("--data", o.data,
                  "training data SPEC: IDX (*-ubyte, *.idx, optionally .gz), *.csv/.tsv/.txt[.gz], "
                  "*.npy, file.h5:/dataset "
                  "or bars-and-stripes:N (default: Debian's Fashion-MNIST training images)")
        ->check(path_validator());
    add_csv_flags(c, o.csv);
    c->add_option("--validation", o.validation,
                  "held-out data SPEC for the monitors (default: a held-out share of --data)")
        ->check(path_validator());
    c->add_option("--out", o.out, "model file to write (default: <config name>.h5)")
        ->check(path_validator());
    auto* seed = c->add_option("--seed", o.seed, "random seed (overrides the configuration's)")
                     ->check(unsigned_validator())
                     ->each([&o](const std::string&) { o.seed_set = true; });
    auto* epochs =
        c->add_option("--epochs", o.epochs, "epochs for every layer (overrides the configuration)")
            ->check(count_validator());
    auto* limit = c->add_option("--limit", o.limit, "use only the first N rows of --data")
                      ->check(count_validator());
    c->add_option("--threads", o.threads, "BLAS threads (default: OpenBLAS's choice)")
        ->check(count_validator());
    c->add_flag("--quiet", o.quiet, "print only the final summary");
    c->add_flag("--strict", o.strict,
                "exit with status 3 (after saving the model) when a consistency check fails");
    auto* no_checks =
        c->add_flag("--no-checks", o.no_checks, "skip the free-energy consistency checks");
    c->add_option("--checkpoint", o.checkpoint,
                  "checkpoint file, written at every layer's end, as --checkpoint-every and "
                  "--checkpoint-seconds say, and on SIGINT/SIGTERM (default: OUT.checkpoint.h5; "
                  "removed once the model is saved)");
    c->add_option("--checkpoint-every", o.checkpoint_every,
                  "also write the checkpoint every N epochs of a layer (config "
                  "\"checkpoint_every\"; default 0: not by count)")
        ->check(count_validator())
        ->each([&o](const std::string&) { o.checkpoint_every_set = true; });
    c->add_option("--checkpoint-seconds", o.checkpoint_seconds,
                  "also write it at the first epoch end this long after the last one (config "
                  "\"checkpoint_seconds\"; default 300; 0: not by time)")
        ->check(CLI::Range(0.0, 1e9))
        ->each([&o](const std::string&) { o.checkpoint_seconds_set = true; });
    c->add_flag("--no-checkpoint", o.no_checkpoint, "write no checkpoint");
    auto* resume = c->add_option(
        "--resume", o.resume,
        "continue the run a checkpoint was written by, with its configuration, seed and data "
        "(the result is the uninterrupted run's model bit for bit with the same thread count)");
    // A resumed run is the checkpoint's run: nothing that would make it another one.
    for (CLI::Option* other : {config, seed, epochs, limit, no_checks}) resume->excludes(other);
    c->callback([&o] {
        if (o.config.empty() && o.resume.empty())
            throw CLI::RequiredError("--config (or --resume CHECKPOINT)");
    });
}

int run_pretrain(const PretrainOptions& o) {
    std::optional<PretrainCheckpoint> resume;
    DbnConfig cfg;
    PretrainOptions run = o;  // what this run does: the command line, or the checkpoint's run
    if (!o.resume.empty()) {
        resume = io::load_checkpoint(o.resume);
        cfg = parse_dbn_config(resume->config_json, o.resume + ": config_json");
        run.seed_set = true;
        run.seed = resume->seed;
        run.epochs = resume->epochs_override;
        run.no_checks = !resume->checks_enabled;
        run.limit = resume->data.limit;
        if (o.data.empty()) run.data = resume->data.spec;
        if (o.validation.empty()) run.validation = resume->data.validation;
        if (o.out.empty()) run.out = resume->out;
        if (o.checkpoint.empty()) run.checkpoint = o.resume;
        if (o.threads == 0) run.threads = static_cast<int>(resume->threads);
    } else {
        cfg = load_dbn_config(o.config);
    }
    if (run.seed_set) cfg.seed = run.seed;
    if (run.epochs > 0)
        for (auto& l : cfg.layers) l.train.epochs = run.epochs;
    if (run.threads > 0) use_threads(static_cast<std::size_t>(run.threads));
    if (o.checkpoint_every_set) cfg.checkpoint_every = o.checkpoint_every;
    if (o.checkpoint_seconds_set) cfg.checkpoint_seconds = o.checkpoint_seconds;

    std::string out = run.out;
    if (out.empty()) out = (cfg.name.empty() ? std::string("model") : cfg.name) + ".h5";
    // Fail before hours of training, not after: the output's folder must exist.
    const auto parent = std::filesystem::absolute(out).parent_path();
    DBN_CHECK(std::filesystem::is_directory(parent), IoError,
              out << ": cannot write the model: folder " << parent.string() << " does not exist");
    DBN_CHECK(!std::filesystem::is_directory(out), IoError,
              out << ": cannot write the model: it is a folder");
    const std::string checkpoint_path =
        o.no_checkpoint ? std::string()
                        : (run.checkpoint.empty() ? out + ".checkpoint.h5" : run.checkpoint);
    if (!checkpoint_path.empty()) {
        const auto ck_parent = std::filesystem::absolute(checkpoint_path).parent_path();
        DBN_CHECK(std::filesystem::is_directory(ck_parent), IoError,
                  checkpoint_path << ": cannot write the checkpoint: folder " << ck_parent.string()
                                  << " does not exist");
        DBN_CHECK(!std::filesystem::is_directory(checkpoint_path), IoError,
                  checkpoint_path << ": cannot write the checkpoint: it is a folder");
        DBN_CHECK(std::filesystem::absolute(checkpoint_path) != std::filesystem::absolute(out),
                  ConfigError, checkpoint_path << ": the checkpoint cannot be the model file");
        for (const std::string& input : {run.data, run.validation}) {
            std::error_code ec;
            DBN_CHECK(input.empty() || !std::filesystem::equivalent(checkpoint_path, input, ec),
                      ConfigError,
                      checkpoint_path << ": the checkpoint would overwrite the input " << input);
        }
    }

    const std::string spec = run.data.empty() ? k_default_train : run.data;
    // The output must not be one of the inputs.
    std::vector<NamedInput> inputs;
    if (!o.config.empty()) inputs.push_back({"--config", o.config});
    if (!o.resume.empty()) inputs.push_back({"--resume", o.resume});
    for (const auto& f : data::spec_files(spec)) inputs.push_back({"--data", f});
    if (!run.validation.empty())
        for (const auto& f : data::spec_files(run.validation))
            inputs.push_back({"--validation", f});
    check_output(out, run.out.empty() ? "the default output (NAME.h5)" : "--out", "the model",
                 inputs);
    const auto lock = guard_output(out);  // held until the model is saved
    if (run.data.empty() && !std::filesystem::exists(spec)) {
        DBN_CHECK(
            false, IoError,
            spec << ": default training data not found (apt-get install dataset-fashion-mnist, "
                    "or pass --data SPEC)");
    }
    const auto t0 = std::chrono::steady_clock::now();
    // --label-column and --delimiter, else the configuration's input.label_column and
    // input.delimiter.
    CsvFlags flags = run.csv;
    if (!flags.label_column && !cfg.input.label_column.empty())
        flags.label_column = cfg.input.label_column;
    if (!flags.delimiter && !cfg.input.delimiter.empty()) flags.delimiter = cfg.input.delimiter;
    const data::CsvOptions csv = csv_options(flags, {spec, run.validation});
    data::Dataset train = data::first_rows(data::read_dataset(spec, csv), run.limit);
    data::Dataset valid;
    if (!run.validation.empty()) valid = data::read_dataset(run.validation, csv);

    DataFingerprint fingerprint;
    fingerprint.spec = run.data;
    fingerprint.validation = run.validation;
    fingerprint.limit = run.limit;
    fingerprint.rows = train.size();
    fingerprint.columns = train.n_features();
    fingerprint.hash = hash_rows(valid.x, hash_rows(train.x));
    if (resume) {
        DBN_CHECK(
            fingerprint.rows == resume->data.rows && fingerprint.columns == resume->data.columns &&
                fingerprint.hash == resume->data.hash,
            ConfigError,
            o.resume << ": the data differ from the checkpoint's run (" << fingerprint.rows << " x "
                     << fingerprint.columns << " rows of " << spec << "; the checkpoint's run had "
                     << resume->data.rows << " x " << resume->data.columns << " of "
                     << (resume->data.spec.empty() ? k_default_train : resume->data.spec)
                     << ", or other values)");
        if (o.threads > 0 && static_cast<std::size_t>(o.threads) != resume->threads)
            std::cerr << "dbn: warning: the checkpoint's run had "
                      << counted(resume->threads, "BLAS thread") << "; with " << o.threads
                      << " the model can differ from its uninterrupted run's in the last bits"
                      << std::endl;
    }

    std::ostream& log = std::cout;
    if (!run.quiet) {
        log << "data: " << train.source << ": " << counted(train.size(), "row") << " x "
            << counted(train.n_features(), "column");
        if (!run.validation.empty()) log << "; validation " << counted(valid.size(), "row");
        log << "\nBLAS: OpenBLAS kernel " << blas::core_name() << " (chosen by "
            << blas::to_string(blas::kernel_choice().source) << "), "
            << counted(static_cast<std::uint64_t>(blas::num_threads()), "thread") << "; seed "
            << cfg.seed << std::endl;
        if (resume) {
            log << "resuming " << o.resume << ": layer " << resume->layer;
            if (resume->trainer)
                log << " (epochs done: " << resume->trainer->position.epochs_done
                    << ", minibatches of the next: " << resume->trainer->position.minibatch << ")";
            else
                log << (resume->layer < cfg.layers.size() ? " from its start"
                                                          : " (every layer done)");
            log << std::endl;
        }
    }
    observe::ConsoleProgress progress(log, isatty(STDOUT_FILENO) == 1, STDOUT_FILENO);
    if (run.no_checks) cfg.checks.enabled = false;
    GreedyTrainer trainer(cfg);
    PretrainChecks checks(cfg.checks, run.quiet ? nullptr : &progress);
    if (resume && resume->checks) checks.restore(*resume->checks);
    trainer.set_after_layer(std::ref(checks));
    if (cfg.checks.enabled)
        trainer.set_bound_probe(
            [&checks](const ModelFile& m, std::size_t k, const Matrix& raw, const GuideSpec& g) {
                return checks.bound_probe(m, k, raw, g);
            });
    if (!checkpoint_path.empty()) {
        CheckpointPolicy policy;
        policy.every_epochs = cfg.checkpoint_every;
        policy.every_seconds = cfg.checkpoint_seconds;
        trainer.set_checkpoints(
            [&](const PretrainCheckpoint& from) {
                PretrainCheckpoint c = from;
                if (cfg.checks.enabled) c.checks = checks.state();
                c.epochs_override = run.epochs;
                c.checks_enabled = cfg.checks.enabled;
                c.threads = blas::num_threads();
                c.data = fingerprint;
                c.out = out;
                const auto s0 = std::chrono::steady_clock::now();
                try {
                    io::save_checkpoint(c, checkpoint_path);
                } catch (const Error& e) {
                    // The checkpoint a stop writes is the run's result: its failure is the
                    // run's. A periodic one that fails (a full disk) leaves the last one in
                    // place, and training goes on.
                    if (stop_signal() != 0) throw;
                    std::cerr << "dbn: warning: checkpoint not written: " << e.what() << std::endl;
                    return;
                }
                if (!run.quiet) {
                    char buf[160];
                    std::snprintf(
                        buf, sizeof buf, "checkpoint: layer %zu%s (%.2fs)", c.layer,
                        c.trainer ? (", epoch " + std::to_string(c.trainer->position.epochs_done) +
                                     " done")
                                        .c_str()
                                  : " start",
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - s0)
                            .count());
                    progress.on_message(buf);
                }
            },
            policy);
    }
    install_stop_handlers();
    trainer.set_stop_request([] { return stop_signal() != 0; });
    const data::Dataset* validation = run.validation.empty() ? nullptr : &valid;
    std::optional<ModelFile> trained;
    try {
        trained =
            resume ? trainer.train(std::move(train), validation, run.quiet ? nullptr : &progress,
                                   *resume)
                   : trainer.train(std::move(train), validation, run.quiet ? nullptr : &progress);
    } catch (const PretrainingDiverged& e) {
        // The divergence guard gave up: the last good model is the run's result (the checkpoint,
        // which would only diverge again, goes as after a success).
        const ModelFile& last_good = e.model();
        io::save_model(last_good, out);
        if (!checkpoint_path.empty()) {
            std::error_code ignored;
            std::filesystem::remove(checkpoint_path, ignored);
        }
        const std::size_t k = e.layer();
        const LayerRecord& rec = last_good.records.at(k);
        const std::string key = "layers[" + std::to_string(k) + "].learning_rate";
        std::cerr << "dbn: error: layer " << k << " diverged "
                  << counted(rec.divergence_events.size(), "time") << " ("
                  << rec.divergence_events.back().reason << " at epoch "
                  << rec.divergence_events.back().epoch << ", learning rate "
                  << rec.divergence_events.back().learning_rate_before << "); saved the last good "
                  << "model to " << out << " ("
                  << (k == 1  ? std::string("layer 0 finished, ")
                      : k > 1 ? "layers 0-" + std::to_string(k - 1) + " finished, "
                              : std::string())
                  << "layer " << k << " after " << rec.epochs.size() << " of "
                  << counted(rec.config.epochs, "epoch") << "); lower " << key << " ("
                  << rec.config.learning_rate
                  << ") or standardize the data (\"input\": {\"standardize\": true})" << std::endl;
        return exit_numerical;
    } catch (const TrainingStopped& e) {
        const int sig = stop_signal() ? stop_signal() : SIGINT;
        std::cerr << "dbn: interrupted by " << signal_name(sig) << " (" << e.what() << ")";
        if (!checkpoint_path.empty())
            std::cerr << "; resume with: dbn pretrain --resume " << checkpoint_path;
        std::cerr << std::endl;
        return 128 + sig;
    }
    const ModelFile& model = *trained;
    io::save_model(model, out);
    if (!checkpoint_path.empty()) {
        // The model supersedes it.
        std::error_code ignored;
        std::filesystem::remove(checkpoint_path, ignored);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Dbn& stack = model.stack;
    log << "saved " << out << ": " << counted(stack.n_layers(), "layer") << " (";
    for (std::size_t k = 0; k < stack.n_layers(); ++k)
        log << (k ? "-" : "") << stack.layers[k].n_visible();
    log << "-" << stack.layers.back().n_hidden() << "), " << observe::format_duration(secs)
        << std::endl;
    if (!checks.all_passed()) {
        std::cerr << "dbn: " << (run.strict ? "error" : "warning")
                  << ": a free-energy consistency check failed (D < 0 beyond its interval); see "
                     "'dbn info "
                  << out << "'" << std::endl;
        if (run.strict) return exit_check_failed;
    }
    return exit_ok;
}

}  // namespace dbn::cli
