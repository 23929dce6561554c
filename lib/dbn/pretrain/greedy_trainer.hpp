#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "dbn/core/error.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/model/pretrain_checkpoint.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/train/observer.hpp"
#include "dbn/train/rbm_trainer.hpp"

namespace dbn {

/// @brief Thrown by GreedyTrainer::train when the divergence guard stopped layer `layer()` (its
/// `max_divergence_events`-th event, docs/CONFIG.md#divergence-guard). `model()` is the last good
/// model: the finished layers 0..layer()-1 with their records and checks, and layer() at its
/// last good state (the end of its last epoch that passed the checks, or its start) with its
/// record (the good epochs' monitors and every divergence event) but no check; nothing above.
class PretrainingDiverged : public DivergenceStop {
public:
    PretrainingDiverged(const std::string& what, ModelFile model, std::size_t layer)
        : DivergenceStop(what),
          model_(std::make_shared<const ModelFile>(std::move(model))),
          layer_(layer) {}
    const ModelFile& model() const { return *model_; }
    std::size_t layer() const { return layer_; }

private:
    std::shared_ptr<const ModelFile> model_;  // shared: an exception is copied
    std::size_t layer_;
};

/// @brief Greedy layer-wise pretraining (Hinton, Osindero & Teh 2006;
/// docs/MATH.md#consistency-check).
///
/// Fits the preprocessing on the training rows, trains layer 0 on them, then trains layer k+1 on
/// layer k's hidden probabilities (or binary samples, `sample_up`) of the same rows. Held-out
/// rows (the validation set, or a seeded `heldout_fraction` of the training rows when none is
/// given) travel up the stack beside them and feed the free-energy-gap monitor.
/// One generator seeded from the configuration drives every random draw.
///
/// train() returns a ModelFile rather than the stack alone: pretraining makes exactly the content
/// of a model file (stack, per-layer records, seed, configuration, name, and through the
/// after-layer hook the checks), so that every caller saves or inspects it without wrapping it.
class GreedyTrainer {
public:
    explicit GreedyTrainer(DbnConfig config);

    /// @throws ShapeError when the validation set's columns differ from the training set's;
    ///         ConfigError for an empty data set; PretrainingDiverged when a layer's divergence
    ///         guard gives up; NumericalError when a layer without the guard diverges.
    ModelFile train(const data::Dataset& train, const data::Dataset* validation = nullptr,
                    TrainingObserver* observer = nullptr);
    /// @brief The same, using the training rows' storage for layer 0's input instead of a copy
    /// (peak memory: one copy of the data set fewer).
    ModelFile train(data::Dataset&& train, const data::Dataset* validation = nullptr,
                    TrainingObserver* observer = nullptr);
    /// @brief Continues the run `from` was taken of, on the same data, and gives the model the
    /// uninterrupted run would have given, bit for bit with the same thread count: the finished
    /// layers are taken as they are (their representations recomputed with the generator states
    /// they were computed with), the layer under way continues from its training state.
    /// The caller restores the checks' state (PretrainChecks::restore) before.
    /// @throws ConfigError when the checkpoint does not fit this configuration (layer count,
    ///         shapes, seed).
    ModelFile train(data::Dataset&& train, const data::Dataset* validation,
                    TrainingObserver* observer, const PretrainCheckpoint& from);

    const DbnConfig& config() const { return config_; }

    /// @brief Called after each layer k is trained and appended to the model (whose stack then
    /// holds layers 0..k and the hooks below layer k), with the raw check set: the validation
    /// data when given, else the held-out rows (possibly empty). The consistency checks run here
    /// (PretrainChecks) and record into the model.
    using AfterLayer =
        std::function<void(ModelFile& model, std::size_t k, const Matrix& check_raw)>;
    void set_after_layer(AfterLayer callback) { after_layer_ = std::move(callback); }

    /// @brief D of the pair (k-1, k) for candidate parameters of layer k.
    using BoundProbe = std::function<estimate::BoundPoint(const Rbm& candidate)>;
    /// @brief Makes the probe of layer k before it trains, for bound-guided training
    /// (LayerSpec::guide): `model` holds layers 0..k-1 and their checks, `check_raw` is as for
    /// AfterLayer. PretrainChecks::bound_probe is the one the program installs.
    using BoundProbeFactory = std::function<BoundProbe(
        const ModelFile& model, std::size_t k, const Matrix& check_raw, const GuideSpec& guide)>;
    void set_bound_probe(BoundProbeFactory factory) { bound_probe_ = std::move(factory); }

    /// @brief Receives the state to resume from at the end of every layer (after its checks),
    /// at epoch ends as `policy` says, and when the stop request stops training. The sink writes
    /// it (io::save_checkpoint); GreedyTrainer fills the training part only (the caller adds the
    /// checks' state and what it knows of the data). A layer under bound-guided training is
    /// saved at its start only (the guide's candidates are not part of the state).
    using CheckpointSink = std::function<void(const PretrainCheckpoint&)>;
    void set_checkpoints(CheckpointSink sink, CheckpointPolicy policy = {}) {
        checkpoint_ = std::move(sink);
        policy_ = policy;
    }
    /// @brief Asked after every minibatch and at the end of every layer: true stops training
    /// after the minibatch, hands the state to the checkpoint sink and throws TrainingStopped.
    void set_stop_request(RbmTrainer::StopRequest stop) { stop_ = std::move(stop); }

private:
    ModelFile run(data::Dataset&& train, const data::Dataset* validation,
                  TrainingObserver* observer, const PretrainCheckpoint* from);

    DbnConfig config_;
    CheckpointSink checkpoint_;
    CheckpointPolicy policy_;
    RbmTrainer::StopRequest stop_;
    AfterLayer after_layer_;
    BoundProbeFactory bound_probe_;
};

namespace detail {

/// @brief The representation of the rows of `x` after `rbm`: its hidden probabilities, or binary
/// samples of them when `sample` (drawn from `rng` a block of 4096 rows after another). Used
/// between the layers of GreedyTrainer; declared here for the tests.
///
/// Consumes `x` (left with no rows) to bound the peak memory: the rows are read a block at a
/// time, and the memory pages of the rows already read are handed back to the system while the
/// output fills, so that the two matrices are never resident in full together (at most
/// max(rows x n_visible, rows x n_hidden) values plus a block, rather than their sum).
Matrix propagate_consuming(const Rbm& rbm, Matrix& x, bool sample, Rng& rng);

}  // namespace detail

}  // namespace dbn
