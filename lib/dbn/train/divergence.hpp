#pragma once

#include <cstddef>
#include <string>

#include "dbn/core/error.hpp"

namespace dbn {

/// @brief The divergence guard of RbmTrainer::train() (docs/CONFIG.md#divergence-guard).
///
/// At every epoch end the trainer checks the parameters and the monitors for NaN or Inf and,
/// with Gaussian visible units, the spread of the reconstruction of up to `spread_rows` fixed
/// training rows against the data's. A failed check rolls the layer back to the TrainerState
/// taken at the last epoch end that passed (or at the start of train()), halves the learning
/// rate and records a DivergenceEvent; the `max_events`-th event stops with DivergenceStop,
/// the layer left at its last good state. max_events = 0 turns the guard off (a failed check
/// throws NumericalError, as without a guard). GreedyTrainer sets max_events from the layer's
/// `max_divergence_events` setting.
struct DivergenceGuard {
    std::size_t max_events = 0;  ///< 0: off
    double spread_ratio = 2.0;   ///< reconstruction sd above spread_ratio * data sd diverges
    std::size_t spread_rows = 256;
};

/// @brief One rollback of the divergence guard: a record of the model file
/// (/training/layers/<k>/divergence_events/<i>, docs/FORMAT.md) and of the checkpoint.
struct DivergenceEvent {
    std::size_t layer = 0;
    std::size_t epoch = 0;      ///< 1-based epoch whose end failed the check
    std::size_t minibatch = 0;  ///< minibatches of that epoch run (the check is at epoch end)
    /// "non-finite parameters", "non-finite monitor", "non-finite reconstruction", "spread"
    std::string reason;
    double learning_rate_before = 0.0;  ///< learning rate of the failed epoch
    double learning_rate_after = 0.0;   ///< learning rate of the epoch run again
};

/// @brief The guard's limit was reached: the layer is at its last good state.
class DivergenceStop : public NumericalError {
public:
    using NumericalError::NumericalError;
};

}  // namespace dbn
