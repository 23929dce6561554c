#pragma once

#include <cstdint>
#include <string>

#include "dbn/model/finetune_checkpoint.hpp"
#include "dbn/model/pretrain_checkpoint.hpp"

namespace dbn::io {

/// Value of the attribute `format` of a checkpoint's `/checkpoint` group.
inline constexpr const char* checkpoint_format = "dbn-pretrain-checkpoint";
/// The one checkpoint layout this library writes and reads (docs/FORMAT.md, "Checkpoints").
inline constexpr std::int64_t checkpoint_format_version = 1;

/// @brief Writes a pretraining checkpoint to `path` (atomically, as save_model): the finished
/// layers as a model file (when there is one: `dbn info` reads it), and the rest of the state
/// under `/checkpoint`.
/// @throws as save_model.
void save_checkpoint(const PretrainCheckpoint& checkpoint, const std::string& path);

/// @brief Reads a checkpoint written by save_checkpoint.
/// @throws IoError when the file is missing or unreadable; FormatError naming the file and the
///         object when it is not a checkpoint, of another version, or a piece is missing, of the
///         wrong type or shape, or does not fit the others.
PretrainCheckpoint load_checkpoint(const std::string& path);

/// Value of the attribute `format` of a fine-tuning checkpoint's `/checkpoint` group.
inline constexpr const char* finetune_checkpoint_format = "dbn-finetune-checkpoint";
/// The one fine-tuning checkpoint layout this library writes and reads (docs/FORMAT.md,
/// "Fine-tuning checkpoints").
inline constexpr std::int64_t finetune_checkpoint_format_version = 1;

/// @brief Writes a fine-tuning checkpoint to `path` atomically (a temporary file beside it,
/// renamed over it): the settings, the model's and the data's fingerprints and the whole
/// training state under `/checkpoint`.
/// @throws IoError when it cannot be written (the previous file at `path` is left as it was).
void save_finetune_checkpoint(const FineTuneCheckpoint& checkpoint, const std::string& path);

/// @brief Reads a checkpoint written by save_finetune_checkpoint.
/// @throws IoError when the file is missing or unreadable; FormatError naming the file and the
///         object when it is not a fine-tuning checkpoint (a pretraining one is named as such),
///         of another version, or a piece is missing, of the wrong type or shape, or does not
///         fit the others. finetune::fine_tune checks that the state fits the network.
FineTuneCheckpoint load_finetune_checkpoint(const std::string& path);

/// @brief Whether `path` is an HDF5 file with a `/checkpoint` group (a model file is not).
bool is_checkpoint(const std::string& path);

/// @brief Whether `path` is an HDF5 file with a `/checkpoint` group whose format is
/// finetune_checkpoint_format.
bool is_finetune_checkpoint(const std::string& path);

}  // namespace dbn::io
