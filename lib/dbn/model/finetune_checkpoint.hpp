#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dbn/finetune/fine_tune_config.hpp"
#include "dbn/finetune/fine_tune_state.hpp"
#include "dbn/model/pretrain_checkpoint.hpp"

namespace dbn {

/// @brief Everything `dbn finetune --resume` needs to continue a run bit for bit (docs/FORMAT.md,
/// "Fine-tuning checkpoints"): the training state, the settings, which model and data the run
/// started from (a resumed run refuses others), and its files.
struct FineTuneCheckpoint {
    finetune::FineTuneState state;
    finetune::FineTuneConfig config;
    /// The model file the run fine-tunes, as given, and an FNV-1a hash of its bytes.
    std::string model;
    std::uint64_t model_hash = 0;
    /// The training data (spec, --limit, rows, columns) and --validation; `hash` covers the
    /// training rows, their labels, the validation rows and their labels, in that order.
    DataFingerprint data;
    /// The label and test SPECs as given ("" when none).
    std::string labels, validation_labels, test, test_labels;
    /// BLAS threads of the run (the same count gives the same model bit for bit).
    std::size_t threads = 0;
    /// The fine-tuned model file the run writes.
    std::string out;
    /// The run's checkpoint policy (--checkpoint-every, --checkpoint-seconds), which a resumed
    /// run keeps unless its own flags say otherwise.
    CheckpointPolicy policy;
};

}  // namespace dbn
