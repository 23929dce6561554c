#pragma once

#include <string>

#include "dbn/dbn/dbn.hpp"
#include "dbn/hdf5/hdf5.hpp"

namespace dbn::io {

/// @brief Writes the fine-tuned part of `model`, when it has one (docs/FORMAT.md, "Fine-tuned
/// models"): the root attribute `fine_tuned`, the head (`/classifier`) or the decoder
/// (`/decoder`), and the settings and history (`/fine_tuning`). Called by save_model.
/// @throws ShapeError, ConfigError or NumericalError, prefixed "io::save_model: <target>", when
///         the part does not fit the stack or holds a non-finite value.
void write_fine_tuned(hdf5::File& file, const Dbn& model, const std::string& target);

/// @brief Reads the fine-tuned part into `model` (whose layers are read already) when the root
/// attribute `fine_tuned` is present. Called by load_model.
/// @throws FormatError "<path>: <object>: <problem>" for an unknown mode, a missing array or
///         attribute, a wrong type, rank or shape, a non-finite value, unsorted classes.
void read_fine_tuned(const hdf5::File& file, Dbn& model, const std::string& path);

}  // namespace dbn::io
