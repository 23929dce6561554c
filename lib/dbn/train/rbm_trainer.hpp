#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/divergence.hpp"
#include "dbn/train/epoch_stats.hpp"
#include "dbn/train/monitors.hpp"
#include "dbn/train/negative_phase.hpp"
#include "dbn/train/observer.hpp"
#include "dbn/train/rbm_updater.hpp"
#include "dbn/train/trainer_state.hpp"
#include "dbn/train/trainer_workspace.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn {

/// @brief Trains one RBM with CD-k, PCD-k (Tieleman 2008) or the exact gradient, momentum,
/// L2/L1 weight decay, a hidden sparsity target and a learning-rate schedule
/// (docs/MATH.md#training).
///
/// A short driver over the pieces: the epochs, the shuffle, the minibatch loop and the thread
/// team. Each minibatch runs the positive phase (TrainerWorkspace), the negative phase of the
/// algorithm (NegativePhase: CdKPhase, PcdPhase, ExactPhase), then the update (RbmUpdater),
/// and each epoch ends with the monitors (Monitors). The model's parameters live in the Rbm and
/// the random stream in the Rng, both owned by the caller; every other piece of training state
/// lives in the pieces, and state() gathers all of it into one TrainerState, from which a
/// trainer continues bit for bit (RbmTrainer(Rbm&, Rng&, const TrainerState&) or restore()).
///
/// One minibatch of B rows costs five matrix products' worth of work (CD-1): up (v0 W), down
/// (h0 W^T), up (v1 W), and the statistics, one product written straight into the velocity
/// (see TrainerWorkspace and RbmUpdater); minibatch_products() lists them.
///
/// Threads: a minibatch is cut into k_chunks fixed row chunks, each sampled from its own
/// substream of the generator (Rng::jump), and each thread runs the up-down-up products of its
/// chunks, then updates its share of the weight rows. The same seed and thread count give the
/// same model bit for bit. Other thread counts make the same random draws, but OpenBLAS rounds
/// an entry differently depending on where its row falls in a product (edge tiles), so their
/// models agree only as closely as any two float computations of one training run can.
class RbmTrainer {
public:
    /// @brief Asked after every minibatch, on the calling thread, once the minibatch is complete
    /// and while the team's other threads wait (so it may read the trainer and the model, and
    /// take state()): true stops training there. A SIGINT handler that sets a flag this returns
    /// gives "finish the minibatch, save the state, exit".
    using StopRequest = std::function<bool()>;

    /// @brief What run_epoch() did.
    struct EpochRun {
        double seconds = 0.0;         ///< wall time
        std::size_t minibatches = 0;  ///< minibatches run by this call
        bool complete = false;        ///< the epoch ended (epochs_done() counts it)
        bool stopped = false;         ///< the stop request said stop (possibly at the last batch)
    };

    /// @pre rbm has its final shape; config validated.
    RbmTrainer(Rbm& rbm, const LayerTrainingConfig& config, Rng& rng, std::size_t layer = 0);
    /// @brief A trainer that continues from `state`: `rbm` and `rng` are set to the state's
    /// parameters and generator, the configuration and layer are the state's.
    /// @throws ConfigError or ShapeError when the state does not fit together.
    RbmTrainer(Rbm& rbm, Rng& rng, const TrainerState& state);

    /// @brief Every piece of training state, copied: parameters, velocities, sparsity estimate,
    /// chains, the generator, the epoch and minibatch position, monitor rows and history.
    TrainerState state() const;
    /// @brief Continues from `state` instead (this trainer's Rbm and Rng take its parameters and
    /// generator; the thread setting stays).
    /// @throws ConfigError or ShapeError when the state does not fit together.
    void restore(const TrainerState& state);

    /// @brief Visible biases from the data's base rates: log(p / (1 - p)) with p clipped to
    /// [0.001, 0.999] (Bernoulli), or the column means (Gaussian, unit sigma).
    void init_visible_bias(const Matrix& data);

    /// @brief Trains until config.epochs epochs are done (continuing a stopped run); returns
    /// the per-epoch monitors of every epoch train() completed.
    /// @param heldout rows for the free-energy gap (may be null or empty: the gap is then NaN).
    /// @param stop checked after every minibatch: when it says stop, training ends there (after
    ///        the epoch's monitors, if that minibatch was the epoch's last).
    /// @throws NumericalError naming the layer and epoch when parameters become non-finite.
    std::vector<EpochStats> train(const Matrix& data, const Matrix* heldout,
                                  TrainingObserver* observer = nullptr,
                                  const StopRequest& stop = {});

    /// @brief The rest of the current epoch over `data` (shuffled when it starts), without
    /// monitors, stopping early when `stop` says so.
    /// @throws ShapeError when data do not fit the RBM, or a started epoch had other rows.
    EpochRun run_epoch(const Matrix& data, const StopRequest& stop,
                       TrainingObserver* observer = nullptr);
    /// @brief One epoch (or the rest of a started one), without monitors; its wall seconds.
    double train_epoch(const Matrix& data, TrainingObserver* observer = nullptr) {
        return run_epoch(data, {}, observer).seconds;
    }

    /// @brief Monitors of the current parameters on fixed subsets of the data and held-out rows.
    EpochStats monitor(const Matrix& data, const Matrix* heldout);

    /// @brief The products of one full minibatch of `config` on a n_visible x n_hidden RBM, in
    /// the order the trainer runs them (a team of threads splits their rows, not their count):
    /// the up of the data, the negative phase's (NegativePhase::products), the statistics.
    static std::vector<blas::GemmShape> minibatch_products(std::size_t n_visible,
                                                           std::size_t n_hidden,
                                                           const LayerTrainingConfig& config);

    std::size_t epochs_done() const { return position_.epochs_done; }
    /// @brief Minibatches done in the epoch under way (0 between epochs).
    std::size_t minibatches_done() const { return position_.minibatch; }
    /// @brief Threads that share each minibatch (default: OpenBLAS's thread count at
    /// construction); small models and the exact negative phase use one.
    void set_threads(std::size_t threads);
    std::size_t threads() const { return threads_; }
    /// @brief Threads the next epoch will use: threads() where splitting the minibatch wins.
    std::size_t effective_threads() const;
    /// Row chunks of a minibatch, each with its own random substream.
    static constexpr std::size_t k_chunks = TrainerWorkspace::k_chunks;
    double current_learning_rate() const;
    double current_momentum() const;

    /// @brief Turns the divergence guard on (max_events > 0) or off; off by default, and a run
    /// that never diverges trains bit for bit as without it. Not part of the TrainerState (the
    /// caller sets it again on a resumed trainer, as GreedyTrainer does from the layer's
    /// max_divergence_events).
    void set_divergence_guard(const DivergenceGuard& guard) { guard_ = guard; }
    const DivergenceGuard& divergence_guard() const { return guard_; }
    /// @brief The guard's rollbacks so far: part of state() (TrainerState::divergence_events),
    /// so a trainer built from a state or restore()d continues with that state's events.
    /// Each event is also told to train()'s observer as one on_message line.
    const std::vector<DivergenceEvent>& divergence_events() const { return events_; }
    /// @brief Why the current parameters and `stats` fail the guard's checks ("" when they
    /// pass); `stats` may be null (parameters and spread only).
    std::string divergence_reason(const Matrix& data, const EpochStats* stats) const;

private:
    /// Makes the pieces for config_ and layer_ (fresh state).
    void build();
    MinibatchShape minibatch(std::size_t index, std::size_t n) const;
    /// Shuffles the row order and draws the epoch's substreams from the generator.
    void start_epoch(std::size_t n, std::size_t n_batches);

    Rbm& rbm_;
    Rng& rng_;
    LayerTrainingConfig config_;
    std::size_t layer_;
    std::size_t threads_ = 1;

    std::unique_ptr<NegativePhase> negative_;
    RbmUpdater updater_;
    Monitors monitors_;
    TrainerWorkspace ws_;
    EpochPosition position_;
    bool training_started_ = false;
    std::vector<EpochStats> history_;
    DivergenceGuard guard_;
    std::vector<DivergenceEvent> events_;
    /// The guard's last good state while train() runs and after it stopped inside an epoch
    /// (state() hands it on as TrainerState::guard_start); null otherwise.
    std::shared_ptr<const TrainerState> last_good_;
};

}  // namespace dbn
