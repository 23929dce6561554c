#pragma once

#include <cstddef>

#include "dbn/core/rng.hpp"
#include "dbn/estimate/stack_evaluation.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/model/pretrain_checkpoint.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
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
    /// @brief The probe of bound-guided training for layer k (GreedyTrainer::set_bound_probe):
    /// D of the pair (k-1, k) for candidate parameters of layer k, with dF on fixed samples q of
    /// layer k-1's hidden units given the check set, and dlogZ along the parameter path from
    /// layer k-1 turned over (turned_over_path, `guide.path_steps` temperatures, the same seed
    /// for every candidate so that their estimates differ less than their errors).
    /// @throws ConfigError when the checks are off, there is no check set, or layer k-1's log Z
    ///         left no weighted states (an exact log Z, or "dlogz": "independent").
    GreedyTrainer::BoundProbe bound_probe(const ModelFile& model, std::size_t k,
                                          const Matrix& check_raw, const GuideSpec& guide);

    /// @brief Whether every applicable check passed so far.
    bool all_passed() const { return all_passed_; }

    /// @brief What a checkpoint saves: the generator, the evaluator's records and carried
    /// states, and whether every check passed.
    ChecksState state() const { return {rng_.state(), evaluator_.state(), all_passed_}; }
    /// @brief Continues from a saved state (the configuration stays this one's).
    void restore(const ChecksState& state);

    /// @brief The evaluation settings a CheckConfig stands for (AIS seeded per layer).
    /// @throws ConfigError for an unknown log Z method or AIS schedule.
    static estimate::StackEvaluationOptions evaluation_options(const CheckConfig& config);

private:
    /// The check set's input to layer k (its first max_rows rows); `below`, when given,
    /// receives layer k-1's.
    Matrix layer_input(const Dbn& stack, std::size_t k, const Matrix& check_raw,
                       Matrix* below) const;

    CheckConfig config_;
    TrainingObserver* observer_;
    Rng rng_;
    estimate::StackEvaluator evaluator_;
    bool all_passed_ = true;
};

}  // namespace dbn
