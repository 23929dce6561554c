#pragma once

#include <optional>
#include <string>

#include "dbn/dbn/dbn.hpp"
#include "dbn/finetune/fine_tuned.hpp"
#include "dbn/hdf5/hdf5.hpp"

namespace dbn::io {

/// @brief Writes the fine-tuned part `ft` of a model whose stack is `stack` (docs/FORMAT.md,
/// "Fine-tuned models"): the root attribute `fine_tuned`, the head (`/classifier`) or the decoder
/// (`/decoder`), and the settings and history (`/fine_tuning`). Called by save_model.
/// @throws ShapeError, ConfigError or NumericalError, prefixed "<target>: cannot save the model",
/// when
///         the part does not fit the stack or holds a non-finite value.
void write_fine_tuned(hdf5::File& file, const Dbn& stack, const finetune::FineTuned& ft,
                      const std::string& target);

/// @brief Reads the fine-tuned part of a model whose stack (read already) is `stack`: empty when
/// the root attribute `fine_tuned` is absent. Called by load_model.
/// @throws FormatError "<path>: <object>: <problem>" for an unknown mode, a missing array or
///         attribute, a wrong type, rank or shape, a non-finite value, unsorted classes.
std::optional<finetune::FineTuned> read_fine_tuned(const hdf5::File& file, const Dbn& stack,
                                                   const std::string& path);

}  // namespace dbn::io
