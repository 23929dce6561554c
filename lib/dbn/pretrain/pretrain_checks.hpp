#pragma once

#include <cstddef>

#include "dbn/core/rng.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/estimate/check_types.hpp"
#include "dbn/train/observer.hpp"

namespace dbn::estimate {

/// @brief Runs the free-energy consistency checks while a stack is pretrained.
///
/// Installed with GreedyTrainer::set_after_layer: after layer k is trained it computes log Z of
/// layer k (exact where the enumerated side is small enough, AIS otherwise) on the check set's
/// representation, then the check between layers k-1 and k, and records both in the model
/// (Dbn::log_z, Dbn::checks). Messages go to the observer, one line per layer and per check.
class PretrainChecks {
public:
    PretrainChecks(CheckConfig config, TrainingObserver* observer);

    void operator()(Dbn& model, std::size_t k, const Matrix& check_raw);

    /// @brief Whether every applicable check passed so far.
    bool all_passed() const { return all_passed_; }

private:
    CheckConfig config_;
    TrainingObserver* observer_;
    Rng rng_;
    bool all_passed_ = true;
};

}  // namespace dbn::estimate
