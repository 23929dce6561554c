#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace dbn::finetune {

/// @brief What the unrolled stack is trained for.
enum class FineTuneMode { classifier, autoencoder };
/// @brief Minibatch update rule.
enum class OptimizerKind { sgd, adam };
/// @brief Where the unrolled network's weights start.
///
/// pretrained: the RBM weights and hidden biases (decoder: their transposes and the visible
/// biases). normal: N(0, init_stddev^2). glorot: uniform in +-sqrt(6 / (n_in + n_out))
/// (Glorot & Bengio 2010). With the last two, every bias starts at zero: the same architecture
/// trained without pretraining, for comparison.
enum class InitScheme { pretrained, normal, glorot };
/// @brief Reconstruction loss of the autoencoder (the classifier always uses cross-entropy).
///
/// cross_entropy: -sum_i [t_i log y_i + (1 - t_i) log(1 - y_i)] per sample, for sigmoid outputs
/// and targets in [0, 1] (Hinton & Salakhutdinov 2006 used it for MNIST). squared_error:
/// 0.5 sum_i (y_i - t_i)^2 per sample, for any output (Gaussian visible units).
enum class LossKind { cross_entropy, squared_error };

const char* to_string(FineTuneMode m);
const char* to_string(OptimizerKind o);
const char* to_string(InitScheme s);
const char* to_string(LossKind l);
/// @throws ConfigError for an unknown name.
FineTuneMode parse_fine_tune_mode(const std::string& name);
OptimizerKind parse_optimizer(const std::string& name);
InitScheme parse_init_scheme(const std::string& name);
LossKind parse_loss(const std::string& name);

/// @brief Settings of fine-tuning by backpropagation (saved with the model under /fine_tuning).
struct FineTuneConfig {
    FineTuneMode mode = FineTuneMode::classifier;
    OptimizerKind optimizer = OptimizerKind::adam;
    std::size_t epochs = 30;
    std::size_t batch_size = 100;
    /// Step size; 0 picks the optimizer's default (sgd 0.1, adam 0.001).
    double learning_rate = 0.0;
    /// Multiplies the learning rate after every epoch (1: constant).
    double learning_rate_decay = 1.0;
    /// SGD momentum: v <- momentum v - lr g; w <- w + v.
    double momentum = 0.9;
    /// Adam (Kingma & Ba 2015) moment decay rates and denominator offset.
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
    /// L2 penalty (weight_decay / 2) sum ||W||^2 on every weight matrix (not the biases).
    double weight_decay = 1e-5;
    /// Dropout probability of the hidden values feeding each layer above the first, and of the
    /// input data, during training (0: none). See Network::dropout.
    double dropout = 0.0;
    double input_dropout = 0.0;
    /// Stop after this many epochs without improvement of the validation figure (accuracy for
    /// the classifier, reconstruction error for the autoencoder) and keep the best weights;
    /// 0 trains every epoch (the best weights are still the ones kept).
    std::size_t patience = 5;
    /// Share of the training rows held out (seeded) for validation when no validation set is
    /// given; 0 holds out nothing (then the last epoch's weights are kept).
    double validation_fraction = 0.1;
    InitScheme init = InitScheme::pretrained;
    /// Standard deviation of InitScheme::normal.
    double init_stddev = 0.01;
    /// Standard deviation of the classifier head's initial weights (pretrained init).
    double head_init_stddev = 0.01;
    /// Autoencoder: the top layer's hidden units become linear code units.
    bool linear_code = false;
    LossKind loss = LossKind::cross_entropy;
    /// Classifier: train only the softmax head on the frozen stack's top-layer features
    /// (multinomial logistic regression on the features).
    bool head_only = false;
    std::uint64_t seed = 1;

    /// @brief The learning rate in use (the optimizer's default when learning_rate is 0).
    double effective_learning_rate() const;
    /// @brief Checks every value.
    /// @throws ConfigError naming the setting and its allowed range.
    void validate() const;
};

/// @brief The settings of `dbn finetune` as its flags give them: an unset one takes its
/// default. fine_tune_config() checks them and builds the FineTuneConfig; its messages name the
/// flags.
struct FineTuneOverrides {
    std::string mode;                           ///< --mode: classifier or autoencoder
    std::optional<std::string> optimizer;       ///< --optimizer: sgd or adam
    std::optional<std::size_t> epochs;          ///< --epochs, at least 1
    std::optional<std::size_t> batch_size;      ///< --batch-size, at least 1
    std::optional<std::uint64_t> seed;          ///< --seed
    std::optional<double> learning_rate;        ///< --learning-rate, in (0, 1e6]
    std::optional<double> learning_rate_decay;  ///< --learning-rate-decay, in [1e-6, 1]
    std::optional<double> momentum;             ///< --momentum, in [0, 0.999]
    std::optional<double> weight_decay;         ///< --weight-decay, in [0, 1e6]
    std::optional<double> dropout;              ///< --dropout, in [0, 0.9]
    std::optional<double> input_dropout;        ///< --input-dropout, in [0, 0.9]
    std::optional<long> patience;               ///< --patience, at least 0
    std::optional<double> validation_fraction;  ///< --validation-fraction, in [0, 0.99]
    std::optional<std::string> random_init;     ///< --random-init: glorot or normal
    std::optional<std::string> loss;            ///< --loss (autoencoder): cross_entropy, ...
    bool head_only = false;                     ///< --head-only (classifier)
    bool linear_code = false;                   ///< --linear-code (autoencoder)
};

/// @brief The configuration the overrides ask for: FineTuneConfig's defaults where they are
/// unset, InitScheme::pretrained without random_init, and for an autoencoder without a loss
/// squared error when `gaussian_visible` (the data's units are Gaussian), else cross-entropy.
/// @throws ConfigError naming the flag: an unknown name, a value outside its range (given
///         above), --head-only without --mode classifier, --linear-code or --loss without
///         --mode autoencoder.
FineTuneConfig fine_tune_config(const FineTuneOverrides& overrides, bool gaussian_visible = false);

/// @brief What one epoch of fine-tuning recorded. Figures that do not apply are NaN.
struct FineTuneEpoch {
    static constexpr double nan = std::numeric_limits<double>::quiet_NaN();

    std::size_t epoch = 0;        ///< 1-based
    double loss = nan;            ///< mean training loss per sample (no penalty)
    double train_accuracy = nan;  ///< on the minibatches as they were trained
    double valid_accuracy = nan;
    double train_reconstruction_error = nan;  ///< mean squared error per unit
    double valid_reconstruction_error = nan;
    double learning_rate = nan;
    double seconds = nan;  ///< wall time of the epoch, validation included
};

}  // namespace dbn::finetune
