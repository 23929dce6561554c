#pragma once

#include <functional>

#include "dbn/data/dataset.hpp"
#include "dbn/dbn/config.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/observe/observer.hpp"

namespace dbn {

/// @brief Greedy layer-wise pretraining (Hinton, Osindero & Teh 2006; DESIGN.md section 4).
///
/// Fits the preprocessing on the training rows, trains layer 0 on them, then trains layer k+1 on
/// layer k's hidden probabilities (or binary samples, `sample_up`) of the same rows. Held-out
/// rows (the validation set, or a seeded `heldout_fraction` of the training rows when none is
/// given) travel up the stack beside them and feed the free-energy-gap monitor.
/// One generator seeded from the configuration drives every random draw.
class GreedyTrainer {
public:
    explicit GreedyTrainer(DbnConfig config);

    /// @throws ShapeError when the validation set's columns differ from the training set's;
    ///         ConfigError for an empty data set; NumericalError when training diverges.
    Dbn train(const data::Dataset& train, const data::Dataset* validation = nullptr,
              TrainingObserver* observer = nullptr);
    /// @brief The same, using the training rows' storage for layer 0's input instead of a copy
    /// (peak memory: one copy of the data set fewer).
    Dbn train(data::Dataset&& train, const data::Dataset* validation = nullptr,
              TrainingObserver* observer = nullptr);

    const DbnConfig& config() const { return config_; }

    /// @brief Called after each layer k is trained and appended to the model (which then holds
    /// layers 0..k), with the raw check set: the validation data when given, else the held-out
    /// rows (possibly empty). The consistency checks run here (estimate::PretrainChecks).
    using AfterLayer = std::function<void(Dbn& model, std::size_t k, const Matrix& check_raw)>;
    void set_after_layer(AfterLayer callback) { after_layer_ = std::move(callback); }

private:
    DbnConfig config_;
    AfterLayer after_layer_;
};

}  // namespace dbn
