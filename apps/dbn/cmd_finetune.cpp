// `dbn finetune`: parses the flags, has finetune::fine_tune_config() check them and fill in the
// defaults (while parsing, so that a bad value is a usage error), fine-tunes, saves and prints.
#include <chrono>
#include <cmath>
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
#include "dbn/data/dataset.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/observe/console_progress.hpp"
#include "finetune_progress.hpp"

namespace dbn::cli {
void add_finetune(CLI::App& app, FinetuneOptions& o) {
    auto* c = app.add_subcommand(
        "finetune",
        "Fine-tune a pretrained DBN by backpropagation, as a classifier (softmax "
        "output) or an autoencoder (transposed decoder), and save it");
    finetune::FineTuneOverrides& s = o.settings;
    c->add_option("model", o.model, "pretrained (or fine-tuned) model file (.h5)")
        ->required()
        ->check(path_validator());
    c->add_option("--data", o.data, "training data SPEC (IDX, *.csv, file.h5:/dataset)")
        ->required()
        ->check(path_validator());
    c->add_option("--labels", o.labels,
                  "labels SPEC for --data (default: those that come with the data, e.g. the IDX "
                  "labels file beside the images)")
        ->check(path_validator());
    c->add_option("--validation", o.validation,
                  "validation data SPEC for early stopping (default: a seeded share of --data, "
                  "see --validation-fraction)")
        ->check(path_validator());
    c->add_option("--validation-labels", o.validation_labels, "labels SPEC for --validation")
        ->check(path_validator());
    c->add_option("--mode", s.mode, "classifier or autoencoder")->required();
    c->add_option("--out", o.out, "fine-tuned model file to write")
        ->required()
        ->check(path_validator());
    c->add_option("--epochs", s.epochs, "maximum number of epochs (default 30)")
        ->check(count_validator());
    c->add_option("--seed", s.seed, "random seed (default 1)")->check(unsigned_validator());
    c->add_option("--optimizer", s.optimizer, "sgd (with momentum) or adam (default)");
    c->add_option("--learning-rate", s.learning_rate,
                  "step size, in (0, 1e6] (default: sgd 0.1, adam 0.001)");
    c->add_option("--learning-rate-decay", s.learning_rate_decay,
                  "multiply the learning rate by this after every epoch, in [1e-6, 1] (default 1)");
    c->add_option("--momentum", s.momentum, "SGD momentum, in [0, 0.999] (default 0.9)");
    c->add_option("--weight-decay", s.weight_decay,
                  "L2 penalty on the weights, in [0, 1e6] (default 1e-5)");
    c->add_option("--dropout", s.dropout,
                  "dropout probability of the hidden values in training, in [0, 0.9] (default 0)");
    c->add_option("--input-dropout", s.input_dropout,
                  "dropout probability of the input values in training, in [0, 0.9] (default 0)");
    c->add_option("--batch-size", s.batch_size, "minibatch size (default 100)")
        ->check(count_validator());
    c->add_option("--patience", s.patience,
                  "stop after N epochs without a better validation figure, keeping the best "
                  "weights; 0 trains every epoch (default 5)");
    c->add_option("--validation-fraction", s.validation_fraction,
                  "share of --data held out when no --validation is given, in [0, 0.99] "
                  "(default 0.1; 0: none)");
    c->add_flag("--random-init{glorot}", s.random_init,
                "ignore the pretrained weights: same architecture from random weights, "
                "--random-init=glorot (default) or --random-init=normal (N(0, 0.01^2))");
    c->add_flag("--head-only", s.head_only,
                "classifier: train only the softmax layer on the frozen stack's top-layer "
                "features (logistic regression on the features)");
    c->add_flag("--linear-code", s.linear_code, "autoencoder: the top layer's units become linear");
    c->add_option("--loss", s.loss,
                  "autoencoder loss: cross_entropy (default for data in [0, 1]) or squared_error "
                  "(default for Gaussian visible units)");
    c->add_option("--limit", o.limit, "use only the first N rows of --data")
        ->check(count_validator());
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
    // The settings are checked once parsing is done: a bad value is a usage error.
    c->final_callback([&s] {
        try {
            (void)finetune::fine_tune_config(s);
        } catch (const ConfigError& e) {
            throw CLI::ValidationError(e.what());
        }
    });
}

namespace {

using json = nlohmann::json;

data::Dataset read_labelled(const std::string& spec, const std::optional<std::string>& labels) {
    data::Dataset d = data::read_dataset(spec);
    if (labels) {
        d.labels = data::read_labels(*labels);
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
    if (o.threads) use_threads(static_cast<std::size_t>(*o.threads));
    const ModelFile model = io::load_model(o.model);
    const finetune::FineTuneConfig cfg =
        finetune::fine_tune_config(o.settings, !model.stack.layers[0].visible_units().binary());
    const bool classifier = cfg.mode == finetune::FineTuneMode::classifier;
    std::vector<NamedInput> inputs = {{"the model", o.model}};
    const auto add = [&inputs](const char* flag, const std::optional<std::string>& spec) {
        if (spec)
            for (const auto& f : data::spec_files(*spec)) inputs.push_back({flag, f});
    };
    add("--data", o.data);
    add("--labels", o.labels);
    add("--validation", o.validation);
    add("--validation-labels", o.validation_labels);
    add("--test", o.test);
    add("--test-labels", o.test_labels);
    check_output(o.out, "--out", "the model", inputs);
    const auto parent = std::filesystem::absolute(o.out).parent_path();
    DBN_CHECK(std::filesystem::is_directory(parent), IoError,
              o.out << ": cannot write the model: folder " << parent.string() << " does not exist");
    const auto lock = guard_output(o.out);  // held until the model is saved

    // Every data set is read and checked before training: a bad --test must not fail after
    // the model has been written.
    data::Dataset train = read_labelled(o.data, o.labels);
    if (o.limit) train = data::first_rows(std::move(train), *o.limit);
    data::Dataset valid;
    if (o.validation) valid = read_labelled(*o.validation, o.validation_labels);
    std::optional<data::Dataset> test;
    if (o.test) test = read_labelled(*o.test, o.test_labels);
    finetune::check_fine_tune_data(model.stack, cfg, train, o.validation ? &valid : nullptr,
                                   test ? &*test : nullptr);
    std::ostream& log = o.json ? std::cerr : std::cout;
    if (!o.quiet) {
        log << "model: " << o.model << " (" << model.stack.n_visible();
        for (const auto& l : model.stack.layers) log << "-" << l.n_hidden();
        log << ")" << (model.fine_tuned ? ", fine-tuned" : "") << "\ndata: " << train.source << ": "
            << train.size() << " rows" << (train.has_labels() ? ", labelled" : "");
        if (o.validation) log << "; validation " << valid.source << ": " << valid.size() << " rows";
        log << "\nfine-tuning: " << to_string(cfg.mode) << ", " << to_string(cfg.optimizer)
            << " lr " << cfg.effective_learning_rate() << ", batch " << cfg.batch_size << ", up to "
            << cfg.epochs << " epochs, patience " << cfg.patience << ", weight decay "
            << cfg.weight_decay << ", init " << to_string(cfg.init);
        if (!classifier)
            log << ", loss " << to_string(cfg.loss) << (cfg.linear_code ? ", linear code" : "");
        if (cfg.dropout > 0 || cfg.input_dropout > 0)
            log << ", dropout " << cfg.dropout << " (input " << cfg.input_dropout << ")";
        if (cfg.head_only) log << ", head only";
        log << ", seed " << cfg.seed << "\nBLAS: OpenBLAS kernel " << blas::core_name() << ", "
            << blas::num_threads() << " threads" << std::endl;
    }
    FineTuneProgress progress(log, classifier, o.quiet);
    ModelFile tuned = model;
    tuned.set_fine_tuned(finetune::fine_tune(model.stack, train, o.validation ? &valid : nullptr,
                                             cfg, &progress, model.fine_tuned));
    io::save_model(tuned, o.out);
    const double train_secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const finetune::FineTuned& ft = *tuned.fine_tuned;
    json summary = {{"model", o.out},
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
    std::cout << "saved " << o.out << ": " << to_string(ft.mode) << ", " << ft.history.size()
              << " epochs, best epoch " << ft.best_epoch;
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
