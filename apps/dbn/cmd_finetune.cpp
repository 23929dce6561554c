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
#include "dbn/data/dataset.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/observe/console_progress.hpp"

namespace dbn::cli {

void add_finetune(CLI::App& app, FinetuneOptions& o) {
    auto* c = app.add_subcommand(
        "finetune", "Fine-tune a pretrained DBN by backpropagation, as a classifier (softmax "
                    "output) or an autoencoder (transposed decoder), and save it");
    c->add_option("model", o.model, "pretrained (or fine-tuned) model file (.h5)")->required();
    c->add_option("--data", o.data, "training data SPEC (IDX, *.csv, file.h5:/dataset)")->required();
    c->add_option("--labels", o.labels,
                  "labels SPEC for --data (default: those that come with the data, e.g. the IDX "
                  "labels file beside the images)");
    c->add_option("--validation", o.validation,
                  "validation data SPEC for early stopping (default: a seeded share of --data, "
                  "see --validation-fraction)");
    c->add_option("--validation-labels", o.validation_labels, "labels SPEC for --validation");
    c->add_option("--mode", o.mode, "classifier or autoencoder")
        ->required()
        ->check(CLI::IsMember({"classifier", "autoencoder"}));
    c->add_option("--out", o.out, "fine-tuned model file to write")->required();
    c->add_option("--epochs", o.epochs, "maximum number of epochs (default 30)")
        ->check(count_validator());
    c->add_option("--seed", o.seed, "random seed (default 1)");
    c->add_option("--optimizer", o.optimizer, "sgd (with momentum) or adam (default)")
        ->check(CLI::IsMember({"sgd", "adam"}));
    c->add_option("--learning-rate", o.learning_rate,
                  "step size (default: sgd 0.1, adam 0.001)")
        ->check(CLI::PositiveNumber);
    c->add_option("--learning-rate-decay", o.learning_rate_decay,
                  "multiply the learning rate by this after every epoch (default 1)")
        ->check(CLI::Range(1e-6, 1.0));
    c->add_option("--momentum", o.momentum, "SGD momentum (default 0.9)")->check(CLI::Range(0.0, 0.999));
    c->add_option("--weight-decay", o.weight_decay, "L2 penalty on the weights (default 1e-5)")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--dropout", o.dropout,
                  "dropout probability of the hidden values in training (default 0)")
        ->check(CLI::Range(0.0, 0.9));
    c->add_option("--input-dropout", o.input_dropout,
                  "dropout probability of the input values in training (default 0)")
        ->check(CLI::Range(0.0, 0.9));
    c->add_option("--batch-size", o.batch_size, "minibatch size (default 100)")
        ->check(count_validator());
    c->add_option("--patience", o.patience,
                  "stop after N epochs without a better validation figure, keeping the best "
                  "weights; 0 trains every epoch (default 5)")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--validation-fraction", o.validation_fraction,
                  "share of --data held out when no --validation is given (default 0.1; 0: none)")
        ->check(CLI::Range(0.0, 0.99));
    c->add_flag("--random-init{glorot}", o.random_init,
                "ignore the pretrained weights: same architecture from random weights, "
                "--random-init=glorot (default) or --random-init=normal (N(0, 0.01^2))");
    c->add_flag("--head-only", o.head_only,
                "classifier: train only the softmax layer on the frozen stack's top-layer "
                "features (logistic regression on the features)");
    c->add_flag("--linear-code", o.linear_code, "autoencoder: the top layer's units become linear");
    c->add_option("--loss", o.loss,
                  "autoencoder loss: cross_entropy (default for data in [0, 1]) or squared_error "
                  "(default for Gaussian visible units)")
        ->check(CLI::IsMember({"cross_entropy", "squared_error"}));
    c->add_option("--limit", o.limit, "use only the first N rows of --data")->check(count_validator());
    c->add_option("--test", o.test,
                  "after training, report accuracy or reconstruction error on this data SPEC "
                  "(never used for training or early stopping)");
    c->add_option("--test-labels", o.test_labels, "labels SPEC for --test");
    c->add_option("--threads", o.threads, "BLAS threads (default: OpenBLAS's choice)")
        ->check(count_validator());
    c->add_flag("--quiet", o.quiet, "print only the final summary");
    c->add_flag("--json", o.json, "print the final summary as one JSON object");
}

namespace {

using json = nlohmann::json;

data::Dataset read_labelled(const std::string& spec, const std::string& labels) {
    data::Dataset d = data::read_dataset(spec);
    if (!labels.empty()) {
        d.labels = data::read_labels(labels);
        DBN_CHECK(d.labels.size() == d.size(), FormatError,
                  labels << ": " << d.labels.size() << " labels for the " << d.size()
                         << " rows of " << spec);
    }
    return d;
}

json value(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

class Progress : public finetune::FineTuneObserver {
public:
    Progress(std::ostream& out, bool classifier, bool quiet)
        : out_(out), classifier_(classifier), quiet_(quiet) {}
    void on_begin(const finetune::Network& net, std::size_t n_train, std::size_t n_valid) override {
        if (quiet_) return;
        out_ << "network: " << net.n_inputs();
        for (const auto& l : net.layers) out_ << "-" << l.n_out();
        out_ << " (" << net.n_parameters() << " parameters); " << n_train << " training rows, "
             << n_valid << " validation rows" << std::endl;
    }
    Control on_epoch_end(const finetune::FineTuneEpoch& e) override {
        if (quiet_) return Control::proceed;
        char buf[256];
        if (classifier_) {
            std::snprintf(buf, sizeof buf,
                          "epoch %3zu: loss %.5f  train acc %.4f  valid acc %.4f  lr %.3g  %s",
                          e.epoch, e.loss, e.train_accuracy, e.valid_accuracy, e.learning_rate,
                          observe::format_duration(e.seconds).c_str());
        } else {
            std::snprintf(buf, sizeof buf,
                          "epoch %3zu: loss %.5f  train recon %.6f  valid recon %.6f  lr %.3g  %s",
                          e.epoch, e.loss, e.train_reconstruction_error,
                          e.valid_reconstruction_error, e.learning_rate,
                          observe::format_duration(e.seconds).c_str());
        }
        out_ << buf << std::endl;
        return Control::proceed;
    }
    void on_message(const char* text) override {
        if (!quiet_) out_ << text << std::endl;
    }

private:
    std::ostream& out_;
    bool classifier_;
    bool quiet_;
};

}  // namespace

int run_finetune(const FinetuneOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    if (o.threads > 0) blas::set_num_threads(o.threads);
    finetune::FineTuneConfig cfg;
    cfg.mode = finetune::parse_fine_tune_mode(o.mode);
    const bool classifier = cfg.mode == finetune::FineTuneMode::classifier;
    if (!o.optimizer.empty()) cfg.optimizer = finetune::parse_optimizer(o.optimizer);
    if (o.epochs > 0) cfg.epochs = o.epochs;
    if (o.batch_size > 0) cfg.batch_size = o.batch_size;
    cfg.seed = o.seed;
    if (o.learning_rate > 0) cfg.learning_rate = o.learning_rate;
    if (o.learning_rate_decay > 0) cfg.learning_rate_decay = o.learning_rate_decay;
    if (o.momentum >= 0) cfg.momentum = o.momentum;
    if (o.weight_decay >= 0) cfg.weight_decay = o.weight_decay;
    if (o.patience >= 0) cfg.patience = static_cast<std::size_t>(o.patience);
    if (o.validation_fraction >= 0) cfg.validation_fraction = o.validation_fraction;
    if (!o.random_init.empty()) cfg.init = finetune::parse_init_scheme(o.random_init);
    DBN_CHECK(cfg.init != finetune::InitScheme::pretrained || o.random_init.empty(), ConfigError,
              "--random-init takes glorot or normal");
    cfg.dropout = o.dropout;
    cfg.input_dropout = o.input_dropout;
    cfg.head_only = o.head_only;
    cfg.linear_code = o.linear_code;
    if (!o.loss.empty()) cfg.loss = finetune::parse_loss(o.loss);
    DBN_CHECK(classifier || (!o.head_only), ConfigError, "--head-only applies to --mode classifier");
    DBN_CHECK(!classifier || (!o.linear_code && o.loss.empty()), ConfigError,
              "--linear-code and --loss apply to --mode autoencoder");
    cfg.validate();

    const ModelFile model = io::load_model(o.model);
    if (!classifier && o.loss.empty() && model.stack.layers[0].visible_type() == UnitType::gaussian)
        cfg.loss = finetune::LossKind::squared_error;
    const auto parent = std::filesystem::absolute(o.out).parent_path();
    DBN_CHECK(std::filesystem::is_directory(parent), IoError,
              o.out << ": cannot write the model: folder " << parent.string() << " does not exist");

    const data::Dataset train = data::first_rows(read_labelled(o.data, o.labels), o.limit);
    data::Dataset valid;
    if (!o.validation.empty()) valid = read_labelled(o.validation, o.validation_labels);
    std::ostream& log = o.json ? std::cerr : std::cout;
    if (!o.quiet) {
        log << "model: " << o.model << " (" << model.stack.n_visible();
        for (const auto& l : model.stack.layers) log << "-" << l.n_hidden();
        log << ")" << (model.fine_tuned ? ", fine-tuned" : "") << "\ndata: " << train.source
            << ": " << train.size() << " rows" << (train.has_labels() ? ", labelled" : "");
        if (!o.validation.empty()) log << "; validation " << valid.source << ": " << valid.size() << " rows";
        log << "\nfine-tuning: " << to_string(cfg.mode) << ", " << to_string(cfg.optimizer)
            << " lr " << cfg.effective_learning_rate() << ", batch " << cfg.batch_size << ", up to "
            << cfg.epochs << " epochs, patience " << cfg.patience << ", weight decay "
            << cfg.weight_decay << ", init " << to_string(cfg.init);
        if (!classifier) log << ", loss " << to_string(cfg.loss) << (cfg.linear_code ? ", linear code" : "");
        if (cfg.dropout > 0 || cfg.input_dropout > 0)
            log << ", dropout " << cfg.dropout << " (input " << cfg.input_dropout << ")";
        if (cfg.head_only) log << ", head only";
        log << ", seed " << cfg.seed << "\nBLAS: OpenBLAS kernel " << blas::core_name() << ", "
            << blas::num_threads() << " threads" << std::endl;
    }
    Progress progress(log, classifier, o.quiet);
    ModelFile tuned = model;
    tuned.set_fine_tuned(finetune::fine_tune(model.stack, train, o.validation.empty() ? nullptr : &valid,
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
    if (!o.test.empty()) {
        const data::Dataset test = read_labelled(o.test, o.test_labels);
        char buf[200];
        if (classifier) {
            DBN_CHECK(test.has_labels(), ConfigError,
                      o.test << ": no labels (give --test-labels SPEC)");
            const finetune::ClassifierEvaluation ev = finetune::evaluate_classifier(tuned.stack, ft, test.x, test.labels);
            summary["test_accuracy"] = ev.accuracy;
            summary["test_confusion_matrix"] = ev.confusion_matrix;
            std::snprintf(buf, sizeof buf, "test: accuracy %.4f on %zu rows of %s", ev.accuracy,
                          ev.n_samples, test.source.c_str());
        } else {
            const finetune::AutoencoderEvaluation ev = finetune::evaluate_autoencoder(tuned.stack, ft, test.x);
            summary["test_reconstruction_error"] = ev.reconstruction_error;
            summary["test_squared_error_per_sample"] = ev.reconstruction_error * double(ev.n_visible);
            summary["test_cross_entropy"] = value(ev.cross_entropy);
            std::snprintf(buf, sizeof buf,
                          "test: reconstruction error %.6f per unit (%.3f per sample) on %zu rows "
                          "of %s",
                          ev.reconstruction_error, ev.reconstruction_error * double(ev.n_visible),
                          ev.n_samples, test.source.c_str());
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
