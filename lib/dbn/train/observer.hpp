#pragma once

#include <cstddef>

#include "dbn/core/error.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/epoch_stats.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn {

/// @brief Thrown by a training run (GreedyTrainer::train, finetune::fine_tune) when its stop
/// request said stop: the checkpoint sink has received the state to resume from.
class TrainingStopped : public Error {
public:
    using Error::Error;
};

/// @brief When a training run (GreedyTrainer, finetune::fine_tune) hands its state to the
/// checkpoint sink, besides a stop request (and, in pretraining, the end of every layer).
struct CheckpointPolicy {
    /// After every this many epochs (of a layer, in pretraining; 0: not by count).
    std::size_t every_epochs = 0;
    /// At the first epoch end this long after the last checkpoint (0: not by time).
    double every_seconds = 300.0;
};

/// @brief Whether training goes on after an epoch.
enum class Control { proceed, stop };

/// @brief Watches training; every method has a no-op default. Observers never change the model.
///
/// The library itself never writes to stdout: only observers the program installs do.
class TrainingObserver {
public:
    virtual ~TrainingObserver() = default;
    /// @brief Before layer `layer` (0-based) of `n_layers` starts training on `n_samples` rows.
    virtual void on_layer_begin(std::size_t /*layer*/, std::size_t /*n_layers*/, const Rbm& /*rbm*/,
                                const LayerTrainingConfig& /*config*/, std::size_t /*n_samples*/) {}
    /// @brief After every minibatch (cheap: called once per batch, not per element).
    virtual void on_batch(std::size_t /*layer*/, std::size_t /*epoch*/, std::size_t /*batch*/,
                          std::size_t /*n_batches*/) {}
    /// @brief After every epoch, with its monitors; returning stop ends this layer's training.
    virtual Control on_epoch_end(const EpochStats& /*stats*/) { return Control::proceed; }
    /// @brief After layer `layer` finished training.
    virtual void on_layer_end(std::size_t /*layer*/, const Rbm& /*rbm*/) {}
    /// @brief A one-line message from the library (held-out split, dropped settings, ...).
    virtual void on_message(const char* /*text*/) {}
};

}  // namespace dbn
