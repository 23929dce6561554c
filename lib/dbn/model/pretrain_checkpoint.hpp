#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dbn/core/rng.hpp"
#include "dbn/estimate/stack_evaluation.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/train/trainer_state.hpp"

namespace dbn {

/// @brief The state of the consistency checks between layers (PretrainChecks::state()).
struct ChecksState {
    Rng::State rng{};                           ///< the checks' own generator (the samples q)
    estimate::StackEvaluator::State evaluator;  ///< log Z, final states, checks so far
    bool all_passed = true;
};

/// @brief Where the run's input came from and what it was: a resumed run must train on the same
/// rows, and refuses others.
struct DataFingerprint {
    std::string spec;        ///< the data SPEC as given
    std::string validation;  ///< the validation SPEC ("" when none)
    std::size_t limit = 0;   ///< --limit (0: all rows)
    std::size_t rows = 0, columns = 0;
    std::uint64_t hash = 0;  ///< FNV-1a of the rows' float values, training then validation
};

/// @brief Everything a greedy pretraining run needs to continue bit for bit (docs/FORMAT.md,
/// "Checkpoints"): the layers finished so far with their records, log Z and checks, the
/// generator's states, the training state of the layer under way, and the checks' state.
///
/// The training representations are not saved: a resumed run recomputes them from the data
/// through the finished layers, with the generator states they were computed with, which gives
/// the same values as the uninterrupted run held.
struct PretrainCheckpoint {
    /// Layers 0..layer-1 with their records, log Z and checks; hooks[j] below layer j+1 for
    /// j < layer-1 (the hook above the last finished layer is refitted on resume: fitting is
    /// deterministic). Seed, name and configuration text as the final model will have them.
    ModelFile model;
    /// The layer under way: the number of finished layers.
    std::size_t layer = 0;
    /// Per finished layer j: the generator's state when the representations for layer j+1 were
    /// computed (binary samples, `sample_up`, draw from it).
    std::vector<Rng::State> propagate_rng;
    /// The generator's state when `layer` was initialized (before its weights were drawn).
    Rng::State layer_rng{};
    /// The training state of `layer` when it stopped inside its training; none when the
    /// checkpoint is at the layer's start.
    std::optional<TrainerState> trainer;
    /// The checks' state; none when the checks are off.
    std::optional<ChecksState> checks;
    /// The configuration file's text, and the command line's overrides of it: the seed as
    /// run, the epochs of every layer (0: the configuration's), checks off.
    std::string config_json;
    std::uint64_t seed = 0;
    std::size_t epochs_override = 0;
    bool checks_enabled = true;
    /// BLAS threads of the run (the same count gives the same model bit for bit).
    std::size_t threads = 0;
    DataFingerprint data;
    /// The model file the run writes.
    std::string out;
};

}  // namespace dbn
