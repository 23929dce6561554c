#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "dbn/core/types.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/row_source.hpp"
#include "dbn/dbn/dbn.hpp"

namespace dbn::features {

/// @brief Settings of extract_features().
struct FeatureOptions {
    /// Layer whose hidden values are the features (0 = the first hidden layer, numbered as in the
    /// model file and `dbn info`); empty for the top layer.
    std::optional<std::size_t> layer;
    /// Rows read, transformed and written at a time: memory is proportional to this times the
    /// widest layer, whatever the number of rows.
    std::size_t chunk_rows = 4096;
    /// The model's file, recorded in the output (attribute `model`); empty if none.
    std::string model_file;
    /// The model's name (ModelFile::name), recorded in the output (attribute `model_name`).
    std::string model_name;
    /// How to read a CSV input (its label column, if it has one).
    data::CsvOptions csv;
};

/// @brief What extract_features() wrote.
struct FeatureSummary {
    std::size_t rows = 0;
    std::size_t n_features = 0;  ///< hidden units of the layer
    std::size_t layer = 0;
    bool labels = false;  ///< whether labels were written beside the features
};

/// @brief Mean-field features of raw data: Dbn::transform (preprocessing, layers 0..layer and
/// the hooks between them), with the checks of extract_features() first.
/// @throws ConfigError for a layer the model does not have (the message names the valid
///         range); ShapeError when raw's columns differ from the model's visible units.
Matrix features(const Dbn& model, const Matrix& raw, std::size_t layer);

/// @brief Streams a data set through the model into a file: reads `chunk_rows` rows of the SPEC
/// (any form read_dataset() accepts), transforms them with Dbn::transform, appends them to the
/// output, and goes on until the data ends. Memory stays bounded whatever the number of rows,
/// and the features are bit for bit those of one Dbn::transform over all of the rows.
///
/// Output by the name's extension:
/// - `.h5` / `.hdf5`: float32 dataset `/features` [N, n_K] (chunked, extendible) and, when the
///   input has labels, int32 `/labels` [N]; root attributes `format` = "dbn-features",
///   `library_version`, `model` (options.model_file), `model_name` (options.model_name), `layer`,
///   `source` (the SPEC).
/// - `.csv`: a header line (`label,f0,f1,...`, `label` only when the input has labels), then
///   one row per line, features printed with `%.9g` (which reads back as the same float32).
/// - `.npy`: the features alone, a float32 array [N, n_K] (NPY 1.0, little-endian, C order).
/// (table::write_table writes them.)
///
/// The file is written as `<out>.tmp.<pid>` and renamed over `out` when complete: a failure at
/// any point leaves no file behind and an existing `out` untouched.
/// @throws ConfigError for an unknown output extension, a layer out of range (naming the valid
///         range) or chunk_rows = 0; ShapeError when the data's columns differ from the model's
///         visible units (naming both); IoError / FormatError for unreadable or bad input and
///         unwritable output. Every check that needs no data runs before anything is written.
FeatureSummary extract_features(const Dbn& model, const std::string& data_spec,
                                const std::string& out_path, const FeatureOptions& options = {});

/// @brief The same from an open row source (for data already in memory, memory_row_source()).
FeatureSummary extract_features(const Dbn& model, data::RowSource& rows,
                                const std::string& out_path, const FeatureOptions& options = {});

}  // namespace dbn::features
