#pragma once

#include <cstddef>
#include <vector>

#include "dbn/core/types.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/finetune/dense_layer.hpp"
#include "dbn/finetune/fine_tune_config.hpp"

namespace dbn::finetune {

/// @brief The part of a fine-tuned model that is not an RBM stack: the classifier head or the
/// decoder, the settings and the per-epoch history (docs/FORMAT.md, "Fine-tuned models").
///
/// The tuned encoder itself lives in the stack's layers (weights and hidden biases), so that
/// feature extraction uses it; the visible biases stay the pretrained ones. A model file holds
/// one beside its stack (ModelFile::fine_tuned).
struct FineTuned {
    FineTuneMode mode = FineTuneMode::classifier;

    /// Classifier: softmax layer, weights [n_hidden_top, n_classes].
    DenseLayer head;
    /// Classifier: the label of each output, strictly increasing.
    Labels classes = Labels::from_shape({0});

    /// Autoencoder: decoder[k] maps layer k's hidden values back to its visible values, weights
    /// [n_hidden_k, n_visible_k]; applied for k = n_layers-1 down to 0.
    std::vector<DenseLayer> decoder;
    /// Autoencoder: the code (top hidden layer) is linear, z = x W + b, instead of the layer's
    /// own units.
    bool linear_code = false;

    FineTuneConfig config;
    std::vector<FineTuneEpoch> history;
    /// Epoch whose weights were kept (1-based; 0 when none was trained).
    std::size_t best_epoch = 0;

    std::size_t n_classes() const { return classes.size(); }
};

/// @brief What fine_tune() returns: the stack with the tuned encoder, and the fine-tuned part.
/// ModelFile::set_fine_tuned() puts both into a model file.
struct FineTuneResult {
    Dbn stack;
    FineTuned fine_tuned;
};

}  // namespace dbn::finetune
