#pragma once

#include <cstddef>
#include <optional>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/finetune/fine_tune_config.hpp"
#include "dbn/finetune/fine_tune_state.hpp"
#include "dbn/finetune/fine_tuned.hpp"
#include "dbn/finetune/network.hpp"
#include "dbn/train/observer.hpp"

namespace dbn::finetune {

/// @brief Watches fine-tuning; every method has a no-op default. The library never prints.
class FineTuneObserver {
public:
    virtual ~FineTuneObserver() = default;
    /// @brief Before the first epoch: the network, the rows trained on and held out.
    virtual void on_begin(const Network& /*net*/, std::size_t /*n_train*/,
                          std::size_t /*n_valid*/) {}
    /// @brief After every epoch; returning stop ends training (the best weights are kept).
    virtual Control on_epoch_end(const FineTuneEpoch& /*epoch*/) { return Control::proceed; }
    /// @brief A one-line note (held-out split, a head that could not be continued, ...).
    virtual void on_message(const char* /*text*/) {}
};

/// @brief The preprocessed data the unrolled network takes (and the autoencoder reconstructs):
/// the model's preprocessing applied to a copy of `raw`.
/// @throws ShapeError when the column count is not the model's visible size.
Matrix network_inputs(const Dbn& model, const Matrix& raw);

/// @brief The stack as a feed-forward encoder: layer k computes f_k(x W_k + b_k) with f_k the
/// mean of its hidden units (sigmoid for Bernoulli, max(0, .) for relu), hooks between layers.
/// Gaussian visible units divide their input by sigma; that is folded into the weights
/// (row i of W_k divided by s_i), so the network takes the preprocessed data as it is.
/// With `linear_code`, the top layer is linear.
Network unroll_encoder(const Dbn& model, bool linear_code = false);

/// @brief The decoder of a pretrained stack (Hinton & Salakhutdinov 2006): for k = n-1 .. 0,
/// weights W_k^T (columns times s for Gaussian visible units) and the visible biases a_k;
/// outputs linear for Gaussian visible units, else the units of the layer below (sigmoid for
/// the data).
std::vector<DenseLayer> transposed_decoder(const Dbn& model);

/// @brief The network of a fine-tuned classifier (stack + softmax head `ft`).
/// @throws ConfigError when `ft` is not a classifier's.
Network classifier_network(const Dbn& model, const FineTuned& ft);
/// @brief The network of a fine-tuned autoencoder (encoder + decoder of `ft`), whose output is
/// the reconstruction of the preprocessed data.
/// @throws ConfigError when `ft` is not an autoencoder's.
Network autoencoder_network(const Dbn& model, const FineTuned& ft);

/// @brief Checks that a fine-tuned part fits its stack: head [n_top, n_classes] with sorted
/// distinct classes, or one decoder layer per RBM layer of the transposed shapes.
/// @throws ShapeError or ConfigError naming the part.
void validate_fine_tuned(const Dbn& model, const FineTuned& ft);

/// @brief Checks, before any training, every data set a fine-tuning run will use: the columns
/// of each against the model, and for the classifier one label per row of the training,
/// validation and test sets, at least 2 classes, and no validation or test label that the
/// training labels do not hold (evaluation could not score it). Messages name the role
/// ("test data") and the source.
/// @throws ShapeError for columns or label counts, ConfigError for missing or unknown labels.
void check_fine_tune_data(const Dbn& model, const FineTuneConfig& config,
                          const data::Dataset& train, const data::Dataset* validation,
                          const data::Dataset* test);

/// @brief Fine-tunes a DBN by backpropagation (docs/MATH.md#fine-tuning).
///
/// Classifier: the stack unrolled (unroll_encoder) plus a softmax layer over the classes found
/// in the training labels, cross-entropy. Autoencoder: encoder plus transposed_decoder, trained
/// on the reconstruction of its own input. Minibatch SGD with momentum or Adam, L2 penalty on
/// the weights, early stopping on the validation figure with the best weights kept. One Rng
/// seeded from the configuration makes the held-out split, the initial head and the shuffles:
/// the same seed, data and settings give the same model.
///
/// When `previous` (the model's earlier fine-tuned part) is in the same mode (and, for the
/// classifier, has the same classes), training continues from its head or decoder; otherwise a
/// new one starts.
///
/// With `control`: its stop request is asked between minibatches, its checkpoint sink receives
/// the whole training state (FineTuneState) at the epoch ends its policy picks and when a stop
/// was requested (then TrainingStopped is thrown), and with `control->resume` the run continues
/// from a state so taken, giving the uninterrupted run's result bit for bit (same model, data,
/// configuration and thread count). The setup (held-out split, initial head, features of a
/// head-only run) is recomputed from the seed as the first run computed it.
///
/// @returns a copy of `model` whose layers hold the tuned weights and hidden biases, and the
///          fine-tuned part. After InitScheme normal or glorot the visible biases are zero
///          (ModelFile::set_fine_tuned then drops the pretraining records too).
/// @throws ConfigError for bad settings, missing labels (classifier), targets outside [0, 1]
///         with cross-entropy, fewer than 2 classes; ShapeError when data and model do not fit;
///         NumericalError when the loss becomes NaN or infinite (naming the epoch);
///         ShapeError or ConfigError when the state to resume from does not fit the network or
///         the data; TrainingStopped after a stop request.
FineTuneResult fine_tune(const Dbn& model, const data::Dataset& train,
                         const data::Dataset* validation, const FineTuneConfig& config,
                         FineTuneObserver* observer = nullptr,
                         const std::optional<FineTuned>& previous = std::nullopt,
                         const FineTuneControl* control = nullptr);

}  // namespace dbn::finetune
