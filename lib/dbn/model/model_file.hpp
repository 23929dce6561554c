#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dbn/dbn/dbn.hpp"
#include "dbn/estimate/check_types.hpp"
#include "dbn/finetune/fine_tuned.hpp"
#include "dbn/train/divergence.hpp"
#include "dbn/train/epoch_stats.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn {

/// @brief What training recorded about one layer: its settings and per-epoch monitors.
struct LayerRecord {
    LayerTrainingConfig config;
    std::vector<EpochStats> epochs;
    /// Bound-guided training (LayerSpec::guide): every estimate of D made while the layer
    /// trained; empty otherwise.
    std::vector<estimate::BoundPoint> bound;
    /// Every rollback of the divergence guard while the layer trained (docs/CONFIG.md#divergence-
    /// guard), in order; empty when it never diverged.
    std::vector<DivergenceEvent> divergence_events;

    /// @brief The guard stopped this layer: its events reached config.max_divergence_events
    /// (the layer then holds its last good state and is the model's top layer).
    bool stopped_by_divergence() const {
        return config.max_divergence_events > 0 &&
               divergence_events.size() >= config.max_divergence_events;
    }
};

/// @brief Whether `shape` can be a ModelFile::sample_shape of `n_values` values: 2 to 8 sizes,
/// each at least 1, whose product is `n_values` (computed without overflow).
bool is_sample_shape_of(const std::vector<std::size_t>& shape, std::size_t n_values);

/// @brief The whole content of a model file (docs/FORMAT.md): the stack, and what pretraining,
/// the checks and fine-tuning recorded about it.
///
/// io::save_model writes one and io::load_model reads one; GreedyTrainer::train makes one. A file
/// that holds only the binding arrays gives a ModelFile with a stack and nothing else.
struct ModelFile {
    ModelFile() = default;
    /// @brief A file holding only `stack` (no records, checks or fine-tuned part).
    explicit ModelFile(Dbn stack_only) : stack(std::move(stack_only)) {}

    Dbn stack;
    /// Per layer (empty for a model that was not trained by this library).
    std::vector<LayerRecord> records;
    /// log Z of each layer and the consistency check of each adjacent pair, as pretraining
    /// computed them (empty when checks were off or the model comes from elsewhere).
    std::vector<estimate::LayerLogZ> log_z;
    std::vector<estimate::ConsistencyCheck> checks;
    /// Classifier head or decoder, settings and history of fine-tuning; empty when not
    /// fine-tuned.
    std::optional<finetune::FineTuned> fine_tuned;
    /// The configuration the model was trained from, as JSON text (empty if unknown).
    std::string config_json;
    std::uint64_t seed = 0;
    std::string name;
    /// The shape of one input sample when the training data gave one of rank 2 or more ({28, 28}
    /// for images read from IDX, HDF5 or NumPy arrays): the root attribute `sample_shape` of the
    /// file (docs/FORMAT.md). Empty when unknown or a table. Its product is stack.n_visible().
    std::vector<std::size_t> sample_shape;

    /// @brief Whether training recorded the layers (what `dbn info` calls "trained").
    bool trained() const { return !records.empty(); }

    /// @brief Checks the stack (Dbn::validate), that there is no record, log Z or check without
    /// its layer or pair, and that a sample_shape holds n_visible values.
    /// @throws ConfigError for an empty stack; ShapeError naming what does not fit.
    void validate() const;

    /// @brief Puts the result of finetune::fine_tune into the file: its stack replaces the
    /// stack, its fine-tuned part replaces any earlier one. After a random initialization
    /// (InitScheme normal or glorot) the pretraining records are dropped: nothing of the
    /// pretraining is left in the weights (docs/FORMAT.md, "Fine-tuned models").
    void set_fine_tuned(finetune::FineTuneResult tuned);
};

}  // namespace dbn
