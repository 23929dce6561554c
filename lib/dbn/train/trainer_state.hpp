#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/divergence.hpp"
#include "dbn/train/epoch_stats.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn {

/// @brief What RbmUpdater carries from one minibatch to the next.
struct UpdaterState {
    /// [n_visible + 1, n_hidden + 1]: the weights' velocities, the visible biases' in the last
    /// column and the hidden biases' in the last row (the layout of the fused statistics product).
    Matrix velocity = Matrix::from_shape({0, 0});
    /// Running mean of the hidden activations, [n_hidden] (used with a sparsity target).
    Vector sparsity_estimate = Vector::from_shape({0});
    /// False until the first minibatch: the first estimate is that minibatch's mean.
    bool sparsity_started = false;
};

/// @brief The persistent chains of PCD (empty for CD and the exact negative phase).
struct ChainState {
    /// [chains, n_hidden]: the hidden states the chains continue from.
    Matrix hidden = Matrix::from_shape({0, 0});
    /// False until the first minibatch, which starts the chains from its data.
    bool started = false;
};

/// @brief Where training stands: epochs done and the position inside the epoch under way.
struct EpochPosition {
    /// Epochs completed. Also the position of both schedules: the learning rate of the next
    /// epoch is lr * decay^epochs_done, its momentum switches at momentum_switch_epoch.
    std::size_t epochs_done = 0;
    /// Minibatches done in the epoch under way: 0 between epochs; n_batches when the epoch's
    /// last minibatch is done but the epoch is not yet closed (counted, checked, monitored).
    std::size_t minibatch = 0;
    /// Row order of the epoch under way, or of the last one: the next shuffle permutes it, so
    /// it is state even between epochs. Empty before the first epoch.
    std::vector<std::size_t> order;
    /// Generator state the epoch's substreams were drawn from (minibatch i, chunk c uses it
    /// jumped i * k_chunks + c times); meaningful while minibatch > 0.
    Rng::State substream_origin{};
};

/// @brief The rows the per-epoch monitors use, chosen once.
struct MonitorRows {
    std::vector<std::size_t> train;      ///< rows of the training data
    std::vector<std::size_t> heldout;    ///< rows of the held-out data (empty: none)
    std::vector<std::size_t> flip_bits;  ///< per train row, the bit the pseudo-likelihood flips
};

/// @brief Every piece of the training state of one RBM layer: what a checkpoint saves, so that
/// a trainer built from it (RbmTrainer(Rbm&, Rng&, const TrainerState&)) continues bit for bit
/// as the one it was taken from would have, given the same data and thread count.
///
/// A plain value: copying it copies every array (nothing is shared with the trainer it came
/// from; `guard_start` is immutable, so sharing it is copying it). The training data are not
/// part of it; `position.order` refers to their rows.
struct TrainerState {
    LayerTrainingConfig config;
    std::size_t layer = 0;
    Rbm rbm;           ///< the parameters
    Rng::State rng{};  ///< the training generator
    UpdaterState updater;
    ChainState chains;
    EpochPosition position;
    MonitorRows monitor_rows;
    /// train() has begun: the monitor rows are chosen and `history` is being filled, so that a
    /// resumed train() continues without choosing them again.
    bool training_started = false;
    /// Monitors of every epoch train() completed.
    std::vector<EpochStats> history;
    /// The divergence guard's events so far (docs/CONFIG.md#divergence-guard); each one halved
    /// config.learning_rate.
    std::vector<DivergenceEvent> divergence_events;
    /// Inside an epoch of a guarded train() (position.minibatch > 0): the state the guard rolls
    /// back to should the epoch fail, i.e. the end of the last good epoch (itself without a
    /// guard_start). Null between epochs and without the guard: the state itself is the last
    /// good one. It makes a run stopped inside an epoch and resumed roll back as the
    /// uninterrupted run would.
    std::shared_ptr<const TrainerState> guard_start;

    /// @brief Checks that the pieces fit together: the configuration is valid, every array has
    /// the shape the configuration and the RBM give it, the row order is a permutation, and
    /// every index is in range.
    /// @throws ConfigError or ShapeError naming the layer and the piece that does not fit.
    void validate() const;
};

}  // namespace dbn
