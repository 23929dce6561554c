#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "dbn/core/types.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/row_source.hpp"
#include "dbn/model/model_file.hpp"

namespace dbn::predict {

/// @brief What `dbn predict` writes for each row.
enum class Output {
    automatic,        ///< what the model gives: one of the three below
    probabilities,    ///< a fine-tuned classifier's class probabilities and predicted class
    reconstructions,  ///< a fine-tuned autoencoder's reconstruction of the preprocessed row
    features,         ///< the top layer's mean-field features p(h|x) (as `dbn features`)
};

/// @brief "auto", "probabilities", "reconstructions" or "features".
std::string to_string(Output o);
/// @throws ConfigError naming the accepted words.
Output parse_output(const std::string& s);

/// @brief The output a model gives: `requested`, or for automatic the classifier's
/// probabilities, the autoencoder's reconstructions, else the features.
/// @throws ConfigError when the model cannot give `requested` (probabilities without a
///         classifier head, reconstructions without a fine-tuned decoder), naming what it has.
Output resolve_output(const ModelFile& model, Output requested);

/// @brief Settings of write_predictions().
struct PredictOptions {
    Output output = Output::automatic;
    /// Rows read, run through the model and written at a time (bounds memory).
    std::size_t chunk_rows = 4096;
    /// Threads of the network's forward pass (0: OpenBLAS's thread count).
    std::size_t threads = 0;
    /// The model's file and name, recorded in an HDF5 output.
    std::string model_file;
    /// How to read a CSV input (its label column, if any).
    data::CsvOptions csv;
    /// Labels of the rows from elsewhere (`--labels`); they replace those of the data.
    std::optional<Labels> labels;
};

/// @brief What write_predictions() wrote.
struct PredictSummary {
    Output output = Output::features;
    std::size_t rows = 0;
    std::size_t columns = 0;  ///< classes, visible units or top-layer hidden units
    bool labels = false;      ///< whether the rows had labels (then written beside them)
    /// Classifier with labels: rows whose predicted class is their label.
    std::size_t correct = 0;
    double accuracy() const { return rows ? double(correct) / double(rows) : 0.0; }
};

/// @brief Runs a data set through a model chunk by chunk into a file (docs/FORMAT.md,
/// "Prediction files"): a classifier's class probabilities (columns in the order of the
/// model's classes, computed as finetune::predict_proba does) and the predicted class (the
/// first largest probability); an autoencoder's reconstructions (finetune::reconstruct); or the
/// top-layer features (Dbn::transform, as `dbn features`). Written through a temporary file
/// renamed at the end: a failure leaves no file.
/// @throws ConfigError for an unknown output extension, an output the model cannot give or
///         chunk_rows 0; ShapeError when the data's width is not the model's or the labels'
///         count is not the rows'; the readers' errors for bad data.
PredictSummary write_predictions(const ModelFile& model, const std::string& data_spec,
                                 const std::string& out, const PredictOptions& options = {});
/// @brief The same from an open row source.
PredictSummary write_predictions(const ModelFile& model, data::RowSource& rows,
                                 const std::string& out, const PredictOptions& options = {});

}  // namespace dbn::predict
