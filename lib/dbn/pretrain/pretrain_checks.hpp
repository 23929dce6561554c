#pragma once

#include <cstddef>

#include "dbn/core/rng.hpp"
#include "dbn/estimate/stack_evaluation.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/train/observer.hpp"

namespace dbn {

/// @brief Runs the free-energy consistency checks while a stack is pretrained.
///
/// Installed with GreedyTrainer::set_after_layer: after layer k is trained it computes log Z of
/// layer k (exact where the enumerated side is small enough, AIS otherwise) on the check set's
/// representation, then the check between layers k-1 and k, through one estimate::StackEvaluator
/// (the evaluation `dbn eval` runs over a whole model), and records both in the model
/// (ModelFile::log_z, ModelFile::checks). Messages go to the observer, one line per layer and
/// per check.
class PretrainChecks {
public:
    PretrainChecks(CheckConfig config, TrainingObserver* observer);

    void operator()(ModelFile& model, std::size_t k, const Matrix& check_raw);

    /// @brief Whether every applicable check passed so far.
    bool all_passed() const { return all_passed_; }

    /// @brief The evaluation settings a CheckConfig stands for (AIS seeded per layer).
    /// @throws ConfigError for an unknown log Z method or AIS schedule.
    static estimate::StackEvaluationOptions evaluation_options(const CheckConfig& config);

private:
    CheckConfig config_;
    TrainingObserver* observer_;
    Rng rng_;
    estimate::StackEvaluator evaluator_;
    bool all_passed_ = true;
};

}  // namespace dbn
