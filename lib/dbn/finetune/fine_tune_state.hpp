#pragma once

// The whole state of a fine-tuning run between two minibatches: what a checkpoint saves so that
// fine_tune() continues bit for bit (docs/FORMAT.md, "Fine-tuning checkpoints").

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/finetune/dense_layer.hpp"
#include "dbn/finetune/fine_tune_config.hpp"
#include "dbn/train/observer.hpp"

namespace dbn::finetune {

/// @brief What ParameterUpdater carries from one step to the next.
struct OptimizerState {
    /// Steps taken (Adam's bias corrections are computed from it).
    std::uint64_t steps = 0;
    /// Per layer: SGD's velocities or Adam's first moments (m), and Adam's second moments (v;
    /// empty for SGD), of the weights and the biases.
    std::vector<Matrix> m_weights, v_weights;
    std::vector<Vector> m_bias, v_bias;
};

/// @brief Where a fine-tuning run stands, taken between two minibatches (FineTuneControl).
///
/// A plain value; the data are not part of it: `order` refers to the rows of the training
/// problem as fine_tune() builds it from the data and the seed (held-out split included), so a
/// resumed run must be given the same data and configuration.
struct FineTuneState {
    /// Parameters of the network under training, bottom to top (the encoder and the head or the
    /// decoder; with head_only the head alone). Activations are the network's own.
    std::vector<DenseLayer> layers;
    OptimizerState optimizer;
    /// The run's generator (shuffles and dropout masks).
    Rng::State rng{};
    /// Epochs completed.
    std::size_t epochs_done = 0;
    /// Minibatches done in epoch epochs_done + 1 (0: between epochs, before its shuffle).
    std::size_t minibatch = 0;
    /// Row order of the epoch under way, or of the last one when minibatch is 0 (the next
    /// shuffle permutes it in place, so it is state between epochs too).
    std::vector<std::size_t> order;
    /// Sums of the epoch under way over its minibatches done: loss times rows, squared error
    /// (autoencoder), correct predictions (classifier), and wall-clock seconds.
    double loss_sum = 0.0;
    double squared_error_sum = 0.0;
    std::size_t correct = 0;
    double seconds = 0.0;
    /// Learning rate of the epoch under way (or the next): the decay is applied by
    /// multiplication after every epoch, so it is carried, not recomputed.
    double learning_rate = 0.0;
    /// Every completed epoch's record.
    std::vector<FineTuneEpoch> history;
    /// Early stopping: the best epoch so far (0: none), its validation score (higher is better:
    /// accuracy, or minus the reconstruction error), epochs since, and its parameters (empty
    /// without validation rows).
    std::size_t best_epoch = 0;
    double best_score = -std::numeric_limits<double>::infinity();
    std::size_t since_best = 0;
    std::vector<DenseLayer> best;
};

/// The start of the message of every error fine_tune() raises because the state to resume from
/// does not fit the network or the data.
inline constexpr const char* k_resume_state_error = "the checkpoint's fine-tuning state";

/// @brief Checkpoints, stop requests and resumption of fine_tune().
struct FineTuneControl {
    /// Asked after every minibatch but an epoch's last, and after every epoch but the last:
    /// true hands the state to `checkpoint` and throws TrainingStopped.
    std::function<bool()> stop;
    /// Receives the state at the epoch ends `policy` picks and when a stop is requested.
    std::function<void(const FineTuneState&)> checkpoint;
    CheckpointPolicy policy;
    /// Continue from this state instead of the start (the same model, data and configuration
    /// as the run it was taken from).
    const FineTuneState* resume = nullptr;
};

}  // namespace dbn::finetune
