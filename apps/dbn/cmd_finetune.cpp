// `dbn finetune`: parses the flags, has finetune::fine_tune_config() check them and fill in the
// defaults (while parsing, so that a bad value is a usage error), fine-tunes, saves and prints.
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "dbn/io/checkpoint_io.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/observe/console_progress.hpp"
#include "finetune_progress.hpp"
#include "run_control.hpp"

namespace dbn::cli {
void add_finetune(CLI::App& app, FinetuneOptions& o) {
    auto* c = app.add_subcommand(
        "finetune",
        "Fine-tune a pretrained DBN by backpropagation, as a classifier (softmax "
        "output) or an autoencoder (transposed decoder), and save it");
    finetune::FineTuneOverrides& s = o.settings;
    c->add_option("model", o.model,
                  "pretrained (or fine-tuned) model file (.h5; required unless --resume)")
        ->check(path_validator());
    c->add_option("--data", o.data,
                  "training data SPEC (IDX, *.csv/.tsv/.txt[.gz], *.npy, file.h5:/dataset; "
                  "required unless --resume)")
        ->check(path_validator());
    c->add_option("--labels", o.labels,
                  "labels SPEC for --data (default: those that come with the data, e.g. the IDX "
                  "labels file beside the images)")
        ->check(path_validator());
    add_csv_flags(c, o.csv);
    c->add_option("--validation", o.validation,
                  "validation data SPEC for early stopping (default: a seeded share of --data, "
                  "see --validation-fraction)")
        ->check(path_validator());
    c->add_option("--validation-labels", o.validation_labels, "labels SPEC for --validation")
        ->check(path_validator());
    // The flags that make the run what it is: a resumed run takes them from its checkpoint.
    std::vector<CLI::Option*> settings;
    settings.push_back(
        c->add_option("--mode", s.mode, "classifier or autoencoder (required unless --resume)"));
    c->add_option("--out", o.out,
                  "fine-tuned model file to write (required unless --resume: the checkpoint's)")
        ->check(path_validator());
    settings.push_back(c->add_option("--epochs", s.epochs, "maximum number of epochs (default 30)")
                           ->check(count_validator()));
    settings.push_back(
        c->add_option("--seed", s.seed, "random seed (default 1)")->check(unsigned_validator()));
    settings.push_back(
        c->add_option("--optimizer", s.optimizer, "sgd (with momentum) or adam (default)"));
    settings.push_back(c->add_option("--learning-rate", s.learning_rate,
                                     "step size, in (0, 1e6] (default: sgd 0.1, adam 0.001)"));
    settings.push_back(c->add_option(
        "--learning-rate-decay", s.learning_rate_decay,
        "multiply the learning rate by this after every epoch, in [1e-6, 1] (default 1)"));
    settings.push_back(
        c->add_option("--momentum", s.momentum, "SGD momentum, in [0, 0.999] (default 0.9)"));
    settings.push_back(c->add_option("--weight-decay", s.weight_decay,
                                     "L2 penalty on the weights, in [0, 1e6] (default 1e-5)"));
    settings.push_back(c->add_option(
        "--dropout", s.dropout,
        "dropout probability of the hidden values in training, in [0, 0.9] (default 0)"));
    settings.push_back(c->add_option(
        "--input-dropout", s.input_dropout,
        "dropout probability of the input values in training, in [0, 0.9] (default 0)"));
    settings.push_back(c->add_option("--batch-size", s.batch_size, "minibatch size (default 100)")
                           ->check(count_validator()));
    settings.push_back(
        c->add_option("--patience", s.patience,
                      "stop after N epochs without a better validation figure, keeping the best "
                      "weights; 0 trains every epoch (default 5)"));
    settings.push_back(
        c->add_option("--validation-fraction", s.validation_fraction,
                      "share of --data held out when no --validation is given, in [0, 0.99] "
                      "(default 0.1; 0: none)"));
    settings.push_back(
        c->add_flag("--random-init{glorot}", s.random_init,
                    "ignore the pretrained weights: the same architecture from random weights, "
                    "Glorot-uniform initialization (--random-init=normal: N(0, 0.01^2) "
                    "weights)"));
    settings.push_back(
        c->add_flag("--head-only", s.head_only,
                    "classifier: train only the softmax layer on the frozen stack's top-layer "
                    "features (logistic regression on the features)"));
    settings.push_back(c->add_flag("--linear-code", s.linear_code,
                                   "autoencoder: the top layer's units become linear"));
    settings.push_back(
        c->add_option("--loss", s.loss,
                      "autoencoder loss: cross_entropy (default for data in [0, 1]) or "
                      "squared_error (default for Gaussian visible units)"));
    settings.push_back(c->add_option("--limit", o.limit, "use only the first N rows of --data")
                           ->check(count_validator()));
    c->add_option("--test", o.test,
                  "after training, report accuracy or reconstruction error on this data SPEC "
                  "(never used for training or early stopping)")
        ->check(path_validator());
    c->add_option("--test-labels", o.test_labels, "labels SPEC for --test")
        ->check(path_validator());
    c->add_option("--threads", o.threads, "BLAS threads (default: OpenBLAS's choice)")
        ->check(count_validator());
    c->add_flag("--quiet", o.quiet, "print only the final summary");
    c->add_flag("--json", o.json, "print the final summary as one JSON object");
    c->add_option("--checkpoint", o.checkpoint,
                  "checkpoint file, written as --checkpoint-every and --checkpoint-seconds say "
                  "and on SIGINT/SIGTERM (default: OUT.checkpoint.h5; removed once the model is "
                  "saved)")
        ->check(path_validator());
    c->add_option("--checkpoint-every", o.checkpoint_every,
                  "also write the checkpoint every N epochs (default: not by count)")
        ->check(count_validator());
    c->add_option("--checkpoint-seconds", o.checkpoint_seconds,
                  "write it at the first epoch end this long after the last one (default 300; "
                  "0: not by time)")
        ->check(CLI::Range(0.0, 1e9));
    c->add_flag("--no-checkpoint", o.no_checkpoint, "write no checkpoint");
    auto* resume = c->add_option(
        "--resume", o.resume,
        "continue the run a checkpoint was written by, with its model, settings and data (the "
        "result is the uninterrupted run's model bit for bit with the same thread count)");
    resume->check(path_validator());
    // A resumed run is the checkpoint's run: nothing that would make it another one.
    for (CLI::Option* other : settings) resume->excludes(other);
    // The settings are checked once parsing is done: a bad value is a usage error.
    c->final_callback([&s, &o] {
        if (!o.resume.empty()) return;
        if (o.model.empty()) throw CLI::RequiredError("model (or --resume CHECKPOINT)");
        if (o.data.empty()) throw CLI::RequiredError("--data (or --resume CHECKPOINT)");
        if (s.mode.empty()) throw CLI::RequiredError("--mode (or --resume CHECKPOINT)");
        if (o.out.empty()) throw CLI::RequiredError("--out (or --resume CHECKPOINT)");
        try {
            (void)finetune::fine_tune_config(s);
        } catch (const ConfigError& e) {
            throw CLI::ValidationError(e.what());
        }
    });
}

namespace {

using json = nlohmann::json;

data::Dataset read_labelled(const std::string& spec, const std::optional<std::string>& labels,
                            const CsvFlags& flags) {
    // With --labels, --label-column names the column of the labels file; --delimiter applies to
    // both files.
    const data::CsvOptions csv = csv_options(flags, {labels.value_or(spec)});
    data::CsvOptions data_csv;
    data_csv.delimiter = csv.delimiter;
    data::Dataset d = data::read_dataset(spec, labels ? data_csv : csv);
    if (labels) {
        d.labels = data::read_labels(*labels, csv);
        DBN_CHECK(d.labels.size() == d.size(), FormatError,
                  *labels << ": " << d.labels.size() << " labels for the " << d.size()
                          << " rows of " << spec);
    }
    return d;
}

json value(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

}  // namespace

int run_finetune(const FinetuneOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    // What this run does: the command line, or the checkpoint's run.
    std::optional<FineTuneCheckpoint> resume;
    FinetuneOptions run = o;
    if (!o.resume.empty()) {
        resume = io::load_finetune_checkpoint(o.resume);
        const auto saved = [](std::optional<std::string>& flag, const std::string& value) {
            if (!flag && !value.empty()) flag = value;
        };
        if (run.model.empty()) run.model = resume->model;
        if (run.data.empty()) run.data = resume->data.spec;
        saved(run.labels, resume->labels);
        saved(run.validation, resume->data.validation);
        saved(run.validation_labels, resume->validation_labels);
        saved(run.test, resume->test);
        saved(run.test_labels, resume->test_labels);
        if (resume->data.limit > 0) run.limit = resume->data.limit;
        if (run.out.empty()) run.out = resume->out;
        if (run.checkpoint.empty()) run.checkpoint = o.resume;
        if (!run.threads && resume->threads > 0) run.threads = static_cast<int>(resume->threads);
    }
    if (run.threads) use_threads(static_cast<std::size_t>(*run.threads));
    const ModelFile model = io::load_model(run.model);
    std::uint64_t model_hash = 0;
    if (resume) {
        model_hash = hash_file(run.model);
        DBN_CHECK(model_hash == resume->model_hash, ConfigError,
                  o.resume << ": " << run.model
                           << " is not the model the checkpoint's run fine-tunes (its bytes "
                              "differ from "
                           << resume->model << "'s then)");
    }
    const finetune::FineTuneConfig cfg =
        resume ? resume->config
               : finetune::fine_tune_config(o.settings,
                                            !model.stack.layers[0].visible_units().binary());
    const bool classifier = cfg.mode == finetune::FineTuneMode::classifier;
    std::vector<NamedInput> inputs = {{"the model", run.model}};
    const auto add = [&inputs](const char* flag, const std::optional<std::string>& spec) {
        if (spec)
            for (const auto& f : data::spec_files(*spec)) inputs.push_back({flag, f});
    };
    add("--data", run.data);
    add("--labels", run.labels);
    add("--validation", run.validation);
    add("--validation-labels", run.validation_labels);
    add("--test", run.test);
    add("--test-labels", run.test_labels);
    const std::vector<NamedInput> data_inputs = inputs;
    if (!o.resume.empty()) inputs.push_back({"--resume", o.resume});
    check_output(run.out, o.out.empty() ? "the checkpoint's --out" : "--out", "the model", inputs);
    const auto parent = std::filesystem::absolute(run.out).parent_path();
    DBN_CHECK(
        std::filesystem::is_directory(parent), IoError,
        run.out << ": cannot write the model: folder " << parent.string() << " does not exist");
    const std::string checkpoint_path =
        o.no_checkpoint ? std::string()
                        : (run.checkpoint.empty() ? run.out + ".checkpoint.h5" : run.checkpoint);
    if (!checkpoint_path.empty()) {
        const auto ck_parent = std::filesystem::absolute(checkpoint_path).parent_path();
        DBN_CHECK(std::filesystem::is_directory(ck_parent), IoError,
                  checkpoint_path << ": cannot write the checkpoint: folder " << ck_parent.string()
                                  << " does not exist");
        DBN_CHECK(!std::filesystem::is_directory(checkpoint_path), IoError,
                  checkpoint_path << ": cannot write the checkpoint: it is a folder");
        DBN_CHECK(std::filesystem::absolute(checkpoint_path) != std::filesystem::absolute(run.out),
                  ConfigError, checkpoint_path << ": the checkpoint cannot be the model file");
        for (const NamedInput& input : data_inputs) {
            std::error_code ec;
            DBN_CHECK(!std::filesystem::equivalent(checkpoint_path, input.path, ec), ConfigError,
                      checkpoint_path << ": the checkpoint would overwrite the input " << input.path
                                      << " (" << input.flag << ")");
        }
    }
    const auto lock = guard_output(run.out);  // held until the model is saved
    if (!checkpoint_path.empty()) {
        // Temporaries of checkpoints that a killed run was writing.
        for (const std::string& tmp : remove_stale_temp_files(checkpoint_path))
            std::cerr << "dbn: warning: " << tmp
                      << " belongs to a running process; left alone (remove it once that "
                         "process has ended)"
                      << std::endl;
    }

    // Every data set is read and checked before training: a bad --test must not fail after
    // the model has been written.
    data::Dataset train = read_labelled(run.data, run.labels, run.csv);
    if (run.limit) train = data::first_rows(std::move(train), *run.limit);
    data::Dataset valid;
    if (run.validation) valid = read_labelled(*run.validation, run.validation_labels, run.csv);
    std::optional<data::Dataset> test;
    if (run.test) test = read_labelled(*run.test, run.test_labels, run.csv);
    finetune::check_fine_tune_data(model.stack, cfg, train, run.validation ? &valid : nullptr,
                                   test ? &*test : nullptr);
    DataFingerprint fingerprint;
    fingerprint.spec = run.data;
    fingerprint.validation = run.validation.value_or("");
    fingerprint.limit = run.limit.value_or(0);
    fingerprint.rows = train.size();
    fingerprint.columns = train.n_features();
    fingerprint.hash = hash_labels(
        valid.labels, hash_rows(valid.x, hash_labels(train.labels, hash_rows(train.x))));
    if (resume) {
        DBN_CHECK(fingerprint.rows == resume->data.rows &&
                      fingerprint.columns == resume->data.columns &&
                      fingerprint.hash == resume->data.hash,
                  ConfigError,
                  o.resume << ": the data differ from the checkpoint's run (" << fingerprint.rows
                           << " x " << fingerprint.columns << " rows of " << run.data
                           << "; the checkpoint's run had " << resume->data.rows << " x "
                           << resume->data.columns << " of " << resume->data.spec
                           << ", or other values or labels)");
        if (o.threads && static_cast<std::size_t>(*o.threads) != resume->threads)
            std::cerr << "dbn: warning: the checkpoint's run had "
                      << counted(resume->threads, "BLAS thread") << "; with " << *o.threads
                      << " the model can differ from its uninterrupted run's in the last bits"
                      << std::endl;
    }
    std::ostream& log = o.json ? std::cerr : std::cout;
    if (!o.quiet) {
        log << "model: " << run.model << " (" << model.stack.n_visible();
        for (const auto& l : model.stack.layers) log << "-" << l.n_hidden();
        log << ")" << (model.fine_tuned ? ", fine-tuned" : "") << "\ndata: " << train.source << ": "
            << counted(train.size(), "row") << (train.has_labels() ? ", labelled" : "");
        if (run.validation)
            log << "; validation " << valid.source << ": " << counted(valid.size(), "row");
        log << "\nfine-tuning: " << to_string(cfg.mode) << ", " << to_string(cfg.optimizer)
            << " lr " << cfg.effective_learning_rate() << ", batch " << cfg.batch_size << ", up to "
            << counted(cfg.epochs, "epoch") << ", patience " << cfg.patience << ", weight decay "
            << cfg.weight_decay << ", init " << to_string(cfg.init);
        if (!classifier)
            log << ", loss " << to_string(cfg.loss) << (cfg.linear_code ? ", linear code" : "");
        if (cfg.dropout > 0 || cfg.input_dropout > 0)
            log << ", dropout " << cfg.dropout << " (input " << cfg.input_dropout << ")";
        if (cfg.head_only) log << ", head only";
        log << ", seed " << cfg.seed << "\nBLAS: OpenBLAS kernel " << blas::core_name() << ", "
            << counted(static_cast<std::uint64_t>(blas::num_threads()), "thread") << std::endl;
        if (resume)
            log << "resuming " << o.resume << ": epochs done: " << resume->state.epochs_done
                << ", minibatches of the next: " << resume->state.minibatch << std::endl;
    }
    FineTuneProgress progress(log, classifier, o.quiet);

    finetune::FineTuneControl control;
    if (resume) control.resume = &resume->state;
    FineTuneCheckpoint base;  // the checkpoints' settings and fingerprints; the state comes in
    if (!checkpoint_path.empty()) {
        base.config = cfg;
        base.model = run.model;
        base.model_hash = resume ? model_hash : hash_file(run.model);
        base.data = fingerprint;
        base.labels = run.labels.value_or("");
        base.validation_labels = run.validation_labels.value_or("");
        base.test = run.test.value_or("");
        base.test_labels = run.test_labels.value_or("");
        base.threads = blas::num_threads();
        base.out = run.out;
        // The flags, else the resumed run's policy, else every 300 seconds.
        CheckpointPolicy policy = resume ? resume->policy : CheckpointPolicy{};
        if (o.checkpoint_every) policy.every_epochs = *o.checkpoint_every;
        if (o.checkpoint_seconds) policy.every_seconds = *o.checkpoint_seconds;
        base.policy = policy;
        control.policy = policy;
        control.checkpoint = [&](const finetune::FineTuneState& state) {
            base.state = state;
            const auto s0 = std::chrono::steady_clock::now();
            try {
                io::save_finetune_checkpoint(base, checkpoint_path);
            } catch (const Error& e) {
                // The checkpoint a stop writes is the run's result: its failure is the run's.
                // A periodic one that fails (a full disk) leaves the last one in place, and
                // training goes on.
                if (stop_signal() != 0) throw;
                std::cerr << "dbn: warning: checkpoint not written: " << e.what() << std::endl;
                return;
            }
            char buf[160];
            std::snprintf(
                buf, sizeof buf, "checkpoint: %zu epochs done%s (%.2fs)", state.epochs_done,
                state.minibatch
                    ? (", " + std::to_string(state.minibatch) + " minibatches of the next").c_str()
                    : "",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count());
            progress.on_message(buf);
        };
    }
    install_stop_handlers();
    control.stop = [] { return stop_signal() != 0; };
    ModelFile tuned = model;
    try {
        tuned.set_fine_tuned(finetune::fine_tune(model.stack, train,
                                                 run.validation ? &valid : nullptr, cfg, &progress,
                                                 model.fine_tuned, &control));
    } catch (const TrainingStopped& e) {
        const int sig = stop_signal() ? stop_signal() : SIGINT;
        std::cerr << "dbn: interrupted by " << signal_name(sig) << " (" << e.what() << ")";
        if (!checkpoint_path.empty())
            std::cerr << "; resume with: dbn finetune --resume " << checkpoint_path;
        std::cerr << std::endl;
        return 128 + sig;
    } catch (const Error& e) {
        // A state that does not fit the network: the checkpoint is at fault, name it.
        if (resume && std::string(e.what()).find(finetune::k_resume_state_error) == 0)
            throw FormatError(o.resume + ": " + e.what());
        throw;
    }
    io::save_model(tuned, run.out);
    {
        // The model supersedes the checkpoint, and the one this run resumed from.
        std::error_code ignored;
        if (!checkpoint_path.empty()) std::filesystem::remove(checkpoint_path, ignored);
        if (!o.resume.empty()) std::filesystem::remove(o.resume, ignored);
    }
    const double train_secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const finetune::FineTuned& ft = *tuned.fine_tuned;
    json summary = {{"model", run.out},
                    {"mode", to_string(ft.mode)},
                    {"init", to_string(ft.config.init)},
                    {"epochs_trained", ft.history.size()},
                    {"best_epoch", ft.best_epoch},
                    {"seconds", train_secs}};
    const finetune::FineTuneEpoch* best =
        ft.best_epoch > 0 ? &ft.history[ft.best_epoch - 1] : nullptr;
    if (best) {
        summary[classifier ? "valid_accuracy" : "valid_reconstruction_error"] =
            value(classifier ? best->valid_accuracy : best->valid_reconstruction_error);
    }
    std::string test_line;
    if (test) {
        char buf[200];
        if (classifier) {
            const finetune::ClassifierEvaluation ev =
                finetune::evaluate_classifier(tuned.stack, ft, test->x, test->labels);
            summary["test_accuracy"] = ev.accuracy;
            summary["test_confusion_matrix"] = ev.confusion_matrix;
            std::snprintf(buf, sizeof buf, "test: accuracy %.4f on %zu rows of %s", ev.accuracy,
                          ev.n_samples, test->source.c_str());
        } else {
            const finetune::AutoencoderEvaluation ev =
                finetune::evaluate_autoencoder(tuned.stack, ft, test->x);
            summary["test_reconstruction_error"] = ev.reconstruction_error;
            summary["test_squared_error_per_sample"] =
                ev.reconstruction_error * double(ev.n_visible);
            summary["test_cross_entropy"] = value(ev.cross_entropy);
            std::snprintf(buf, sizeof buf,
                          "test: reconstruction error %.6f per unit (%.3f per sample) on %zu rows "
                          "of %s",
                          ev.reconstruction_error, ev.reconstruction_error * double(ev.n_visible),
                          ev.n_samples, test->source.c_str());
        }
        test_line = buf;
    }
    if (o.json) {
        std::cout << summary.dump(2) << std::endl;
        return exit_ok;
    }
    std::cout << "saved " << run.out << ": " << to_string(ft.mode) << ", "
              << counted(ft.history.size(), "epoch") << ", best epoch " << ft.best_epoch;
    if (best) {
        char buf[100];
        if (classifier) {
            std::snprintf(buf, sizeof buf, " (valid accuracy %.4f)", best->valid_accuracy);
        } else {
            std::snprintf(buf, sizeof buf, " (valid reconstruction error %.6f)",
                          best->valid_reconstruction_error);
        }
        if (std::isfinite(classifier ? best->valid_accuracy : best->valid_reconstruction_error))
            std::cout << buf;
    }
    std::cout << ", " << observe::format_duration(train_secs) << std::endl;
    if (!test_line.empty()) std::cout << test_line << std::endl;
    return exit_ok;
}

}  // namespace dbn::cli
