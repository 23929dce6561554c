#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "dbn/hdf5/hdf5.hpp"
#include "dbn/model/model_file.hpp"

namespace dbn::io {

/// Value of the root attribute `format` of every model file.
inline constexpr const char* model_format = "dbn-model";
/// The one `format_version` this library writes and reads (docs/FORMAT.md).
inline constexpr std::int64_t model_format_version = 1;

/// @brief Writes `model` to the HDF5 model file `path` (layout: docs/FORMAT.md, version 1).
///
/// The file is written as `<path>.tmp.<pid>` beside the target, synced, and renamed over it, so
/// that a reader never sees a half-written model and a failed save leaves an existing file as
/// it was. Each part is checked just before it is written; a failure removes the temporary file.
/// Temporary files of `path` left by processes that no longer run are removed first.
/// Not for concurrent saves to the same path from threads of one process (same temporary name).
///
/// @throws ConfigError for an empty stack, or standardization enabled without its statistics.
/// @throws ShapeError when adjacent layers do not fit, arrays disagree with the layer sizes, or
///         there are more records than layers.
/// @throws NumericalError when a parameter is NaN or infinite, or a Gaussian sigma is not > 0.
/// @throws IoError when the directory is missing or the file cannot be written or renamed.
void save_model(const ModelFile& model, const std::string& path);

/// @brief Writes an HDF5 file the way save_model does: `write` fills `<path>.tmp.<pid>`, which
/// is synced and renamed over `path`; on any failure the temporary file is removed and an
/// existing `path` stays as it was. save_model and io::save_checkpoint use it.
/// @throws IoError when the directory is missing, `path` is a directory, or writing fails; and
///         whatever `write` throws.
void write_atomically(const std::string& path, const std::function<void(hdf5::File&)>& write);

/// @brief Writes the content of `model` into the root of `file` (the layout of save_model);
/// `target` names the file in messages.
/// @throws as save_model.
void write_model(hdf5::File& file, const ModelFile& model, const std::string& target);

/// @brief Reads a model file written by save_model or by any tool following docs/FORMAT.md.
///
/// The file is read once in a forked child process first (hdf5::trial_read), so that a damaged
/// file that crashes or hangs the HDF5 library is refused ("<path>: the file is damaged (...)")
/// instead of crashing the caller; the child may use 1 s of CPU time plus 1 s per MiB of file.
/// Not while another thread of the program uses HDF5 (the child could inherit its lock).
///
/// A file with only the binding names (format attributes and `/layers`) is a complete model:
/// identity preprocessing, no training records, seed 0. Names the reader does not know are
/// ignored, so later additions that keep format_version 1 stay readable.
///
/// @throws IoError when the file is missing or unreadable.
/// @throws FormatError naming the file and the HDF5 object: not an HDF5 file, not a dbn model,
///         an unknown format_version, a missing array or attribute, a wrong type or rank, a shape
///         that does not fit, a non-finite parameter, an unknown unit name.
ModelFile load_model(const std::string& path);

}  // namespace dbn::io
