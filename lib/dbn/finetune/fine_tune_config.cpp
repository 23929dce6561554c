#include "dbn/finetune/fine_tune_config.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "dbn/core/error.hpp"
#include "dbn/finetune/dense_layer.hpp"

namespace dbn::finetune {

const char* to_string(Activation a) {
    switch (a) {
        case Activation::sigmoid:
            return "sigmoid";
        case Activation::relu:
            return "relu";
        case Activation::linear:
            return "linear";
        case Activation::softmax:
            return "softmax";
    }
    return "?";
}

Activation parse_activation(const std::string& name, const std::string& what) {
    if (name == "sigmoid") return Activation::sigmoid;
    if (name == "relu") return Activation::relu;
    if (name == "linear") return Activation::linear;
    if (name == "softmax") return Activation::softmax;
    DBN_CHECK(false, ConfigError,
              what << ": unknown activation \"" << name
                   << "\" (expected \"sigmoid\", \"relu\", \"linear\" or \"softmax\")");
}

const char* to_string(FineTuneMode m) {
    return m == FineTuneMode::classifier ? "classifier" : "autoencoder";
}
const char* to_string(OptimizerKind o) { return o == OptimizerKind::sgd ? "sgd" : "adam"; }
const char* to_string(InitScheme s) {
    switch (s) {
        case InitScheme::pretrained:
            return "pretrained";
        case InitScheme::normal:
            return "normal";
        case InitScheme::glorot:
            return "glorot";
    }
    return "?";
}
const char* to_string(LossKind l) {
    return l == LossKind::cross_entropy ? "cross_entropy" : "squared_error";
}

FineTuneMode parse_fine_tune_mode(const std::string& name) {
    if (name == "classifier") return FineTuneMode::classifier;
    if (name == "autoencoder") return FineTuneMode::autoencoder;
    DBN_CHECK(false, ConfigError,
              "fine-tuning mode " << quote_input(name)
                                  << " is unknown (expected \"classifier\" or "
                                     "\"autoencoder\")");
}
OptimizerKind parse_optimizer(const std::string& name) {
    if (name == "sgd") return OptimizerKind::sgd;
    if (name == "adam") return OptimizerKind::adam;
    DBN_CHECK(false, ConfigError,
              "optimizer " << quote_input(name) << " is unknown (expected \"sgd\" or \"adam\")");
}
InitScheme parse_init_scheme(const std::string& name) {
    if (name == "pretrained") return InitScheme::pretrained;
    if (name == "normal") return InitScheme::normal;
    if (name == "glorot") return InitScheme::glorot;
    DBN_CHECK(false, ConfigError,
              "initialization \"" << name
                                  << "\" is unknown (expected \"pretrained\", \"normal\" or "
                                     "\"glorot\")");
}
LossKind parse_loss(const std::string& name) {
    if (name == "cross_entropy") return LossKind::cross_entropy;
    if (name == "squared_error") return LossKind::squared_error;
    DBN_CHECK(false, ConfigError,
              "loss " << quote_input(name)
                      << " is unknown (expected \"cross_entropy\" or \"squared_error\")");
}

double FineTuneConfig::effective_learning_rate() const {
    if (learning_rate > 0.0) return learning_rate;
    return optimizer == OptimizerKind::sgd ? 0.1 : 0.001;
}

void FineTuneConfig::validate() const {
    auto finite_in = [](double v, double lo, double hi) {
        return std::isfinite(v) && v >= lo && v <= hi;
    };
    DBN_CHECK(epochs > 0, ConfigError, "FineTuneConfig: epochs must be positive");
    DBN_CHECK(batch_size > 0, ConfigError, "FineTuneConfig: batch_size must be positive");
    DBN_CHECK(finite_in(learning_rate, 0.0, 1e6), ConfigError,
              "FineTuneConfig: learning_rate must be >= 0 (0: the optimizer's default), got "
                  << learning_rate);
    DBN_CHECK(std::isfinite(learning_rate_decay) && learning_rate_decay > 0.0 &&
                  learning_rate_decay <= 1.0,
              ConfigError,
              "FineTuneConfig: learning_rate_decay must be in (0, 1], got " << learning_rate_decay);
    DBN_CHECK(finite_in(momentum, 0.0, 0.999999), ConfigError,
              "FineTuneConfig: momentum must be in [0, 1), got " << momentum);
    DBN_CHECK(
        finite_in(beta1, 0.0, 0.999999) && finite_in(beta2, 0.0, 0.999999), ConfigError,
        "FineTuneConfig: beta1 and beta2 must be in [0, 1), got " << beta1 << " and " << beta2);
    DBN_CHECK(std::isfinite(epsilon) && epsilon > 0.0, ConfigError,
              "FineTuneConfig: epsilon must be positive, got " << epsilon);
    DBN_CHECK(finite_in(weight_decay, 0.0, 1e6), ConfigError,
              "FineTuneConfig: weight_decay must be >= 0, got " << weight_decay);
    DBN_CHECK(finite_in(dropout, 0.0, 0.9) && finite_in(input_dropout, 0.0, 0.9), ConfigError,
              "FineTuneConfig: dropout and input_dropout must be in [0, 0.9], got "
                  << dropout << " and " << input_dropout);
    DBN_CHECK(std::isfinite(validation_fraction) && validation_fraction >= 0.0 &&
                  validation_fraction < 1.0,
              ConfigError,
              "FineTuneConfig: validation_fraction must be in [0, 1), got " << validation_fraction);
    DBN_CHECK(std::isfinite(init_stddev) && init_stddev > 0.0, ConfigError,
              "FineTuneConfig: init_stddev must be positive, got " << init_stddev);
    DBN_CHECK(std::isfinite(head_init_stddev) && head_init_stddev > 0.0, ConfigError,
              "FineTuneConfig: head_init_stddev must be positive, got " << head_init_stddev);
    DBN_CHECK(!head_only || mode == FineTuneMode::classifier, ConfigError,
              "FineTuneConfig: head_only applies to the classifier only");
}

namespace {

// `parse(value)`, its ConfigError prefixed with the flag.
template <class Parse>
auto parse_flag(const std::string& value, const char* flag, Parse parse) {
    try {
        return parse(value);
    } catch (const ConfigError& e) {
        throw ConfigError(std::string(flag) + ": " + e.what());
    }
}

// Nothing when `value` is unset or in [lo, hi] (and finite); else a ConfigError that names the
// flag and `range`, the interval as the message shows it.
void check_range(const std::optional<double>& value, const char* flag, double lo, double hi,
                 const char* range) {
    if (!value) return;
    DBN_CHECK(std::isfinite(*value) && *value >= lo && *value <= hi, ConfigError,
              flag << " must be in " << range << ", got " << *value);
}

}  // namespace

FineTuneConfig fine_tune_config(const FineTuneOverrides& o, bool gaussian_visible) {
    FineTuneConfig c;
    c.mode = parse_flag(o.mode, "--mode", parse_fine_tune_mode);
    const bool classifier = c.mode == FineTuneMode::classifier;
    DBN_CHECK(classifier || !o.head_only, ConfigError, "--head-only applies to --mode classifier");
    DBN_CHECK(!classifier || (!o.linear_code && !o.loss), ConfigError,
              "--linear-code and --loss apply to --mode autoencoder");
    if (o.optimizer) c.optimizer = parse_flag(*o.optimizer, "--optimizer", parse_optimizer);
    if (o.loss)
        c.loss = parse_flag(*o.loss, "--loss", parse_loss);
    else if (!classifier && gaussian_visible)
        c.loss = LossKind::squared_error;
    if (o.random_init) {
        DBN_CHECK(*o.random_init == "glorot" || *o.random_init == "normal", ConfigError,
                  "--random-init takes glorot or normal, got \"" << *o.random_init << "\"");
        c.init = parse_init_scheme(*o.random_init);
    }
    DBN_CHECK(o.epochs.value_or(1) > 0, ConfigError, "--epochs must be at least 1, got 0");
    DBN_CHECK(o.batch_size.value_or(1) > 0, ConfigError, "--batch-size must be at least 1, got 0");
    DBN_CHECK(o.patience.value_or(0) >= 0, ConfigError,
              "--patience must be at least 0, got " << *o.patience);
    const double lr_min = std::numeric_limits<double>::min();  // (0, 1e6]: 0 is not a rate
    check_range(o.learning_rate, "--learning-rate", lr_min, 1e6, "(0, 1e6]");
    check_range(o.learning_rate_decay, "--learning-rate-decay", 1e-6, 1.0, "[1e-6, 1]");
    check_range(o.momentum, "--momentum", 0.0, 0.999, "[0, 0.999]");
    check_range(o.weight_decay, "--weight-decay", 0.0, 1e6, "[0, 1e6]");
    check_range(o.dropout, "--dropout", 0.0, 0.9, "[0, 0.9]");
    check_range(o.input_dropout, "--input-dropout", 0.0, 0.9, "[0, 0.9]");
    check_range(o.validation_fraction, "--validation-fraction", 0.0, 0.99, "[0, 0.99]");
    c.epochs = o.epochs.value_or(c.epochs);
    c.batch_size = o.batch_size.value_or(c.batch_size);
    c.seed = o.seed.value_or(c.seed);
    c.learning_rate = o.learning_rate.value_or(c.learning_rate);
    c.learning_rate_decay = o.learning_rate_decay.value_or(c.learning_rate_decay);
    c.momentum = o.momentum.value_or(c.momentum);
    c.weight_decay = o.weight_decay.value_or(c.weight_decay);
    c.dropout = o.dropout.value_or(c.dropout);
    c.input_dropout = o.input_dropout.value_or(c.input_dropout);
    if (o.patience) c.patience = static_cast<std::size_t>(*o.patience);
    c.validation_fraction = o.validation_fraction.value_or(c.validation_fraction);
    c.head_only = o.head_only;
    c.linear_code = o.linear_code;
    c.validate();
    return c;
}

}  // namespace dbn::finetune
