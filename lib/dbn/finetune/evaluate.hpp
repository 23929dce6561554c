#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dbn/core/types.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/finetune/fine_tuned.hpp"
#include "dbn/finetune/network.hpp"

namespace dbn::finetune {

/// @brief Accuracy and confusion matrix of a fine-tuned classifier on labelled data.
struct ClassifierEvaluation {
    double accuracy = 0.0;  ///< share of rows whose predicted class is their label
    std::size_t n_samples = 0;
    /// The model's classes, in the order of the matrix's rows and columns.
    Labels classes = Labels::from_shape({0});
    /// confusion_matrix[i][j]: rows labelled classes[i] predicted as classes[j].
    std::vector<std::vector<std::int64_t>> confusion_matrix;
};

/// @brief Reconstruction error of a fine-tuned autoencoder.
struct AutoencoderEvaluation {
    /// Mean over rows and units of (reconstruction - preprocessed input)^2: the per-unit mean
    /// squared error of the RBM monitors; multiply by n_visible for the error per sample.
    double reconstruction_error = 0.0;
    /// Mean binary cross-entropy per sample (NaN unless the output is sigmoid and the
    /// preprocessed data lie in [0, 1]).
    double cross_entropy = 0.0;
    std::size_t n_samples = 0;
    std::size_t n_visible = 0;
};

// Each function takes the tuned stack and its fine-tuned part `ft` (FineTuneResult's or
// ModelFile's two members).

/// @brief Evaluates a fine-tuned classifier on raw data (the model's preprocessing is applied).
/// @throws ConfigError when `ft` is not a classifier's or a label is not one of its classes;
///         ShapeError when the columns or the label count do not fit.
ClassifierEvaluation evaluate_classifier(const Dbn& model, const FineTuned& ft, const Matrix& raw,
                                         const Labels& labels);

/// @brief Evaluates a fine-tuned autoencoder on raw data (the model's preprocessing is applied).
/// @throws ConfigError when `ft` is not an autoencoder's; ShapeError for columns.
AutoencoderEvaluation evaluate_autoencoder(const Dbn& model, const FineTuned& ft,
                                           const Matrix& raw);

/// @brief Class probabilities [N, n_classes] of a fine-tuned classifier (columns in the order of
/// ft.classes).
Matrix predict_proba(const Dbn& model, const FineTuned& ft, const Matrix& raw);
/// @brief Predicted class label of each row of a fine-tuned classifier.
Labels predict(const Dbn& model, const FineTuned& ft, const Matrix& raw);
/// @brief Reconstruction of the preprocessed data by a fine-tuned autoencoder [N, n_visible].
Matrix reconstruct(const Dbn& model, const FineTuned& ft, const Matrix& raw);
/// @brief Code of a fine-tuned autoencoder (linear when its code is linear), or the top-layer
/// features of a classifier's stack: the encoder's output [N, n_hidden_top].
Matrix encode(const Dbn& model, const FineTuned& ft, const Matrix& raw);
/// @brief The top-layer features of any stack through the unrolled encoder [N, n_hidden_top].
Matrix encode(const Dbn& model, const Matrix& raw);

/// @brief Output of `net` for every row of `x`, computed in blocks of ws.max_rows() rows.
Matrix network_outputs(const Network& net, ConstRows x, Workspace& ws);
/// @brief Index of the largest output of each row (first on ties), in blocks.
std::vector<std::size_t> predict_indices(const Network& net, ConstRows x, Workspace& ws);
/// @brief Sum over all rows and units of (output - target)^2, in double, in blocks.
double squared_error_sum(const Network& net, ConstRows x, ConstRows target, Workspace& ws);

}  // namespace dbn::finetune
