#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "dbn/core/blas.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/trainer_state.hpp"
#include "dbn/train/trainer_workspace.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn {

/// @brief The negative phase of one training algorithm: estimates the model's expectations by
/// filling X's negative columns and Y's negative rows (see TrainerWorkspace), after the
/// positive phase filled the data's. Chosen once per layer (create()), called once per
/// minibatch on every thread of the team, each doing its chunks of the negative rows.
///
/// Implementations: CdKPhase (k Gibbs steps from the data), PcdPhase (k steps of persistent
/// chains, which it owns), ExactPhase (every visible state, weighted by p(v); it owns the
/// enumeration).
class NegativePhase {
public:
    virtual ~NegativePhase() = default;

    /// @brief The phase of config.algorithm for `rbm`.
    /// @throws ConfigError naming `layer` when the algorithm cannot train this RBM (the exact
    ///         phase needs Bernoulli units and at most k_max_exact_visible visible units).
    static std::unique_ptr<NegativePhase> create(const Rbm& rbm, const LayerTrainingConfig& config,
                                                 std::size_t layer);
    /// @brief Negative rows of a minibatch of `rows` data rows: rows (CD), the persistent
    /// chains (PCD), 2^n_visible (exact).
    static std::size_t negative_rows(const LayerTrainingConfig& config, std::size_t n_visible,
                                     std::size_t rows);
    /// @brief The matrix products run() performs for a minibatch of `rows` data rows, summed
    /// over the thread team (each thread multiplies its chunks' rows).
    static std::vector<blas::GemmShape> products(const LayerTrainingConfig& config,
                                                 std::size_t n_visible, std::size_t n_hidden,
                                                 std::size_t rows);

    /// @brief Thread t's share of minibatch s, once the positive phase of its chunks is in ws.
    /// Every thread of the team calls it; a phase that needs another thread's rows waits on
    /// ws.barrier() (every thread then calls it equally often).
    virtual void run(const Rbm& rbm, TrainerWorkspace& ws, const MinibatchShape& s, std::size_t t,
                     std::size_t threads) = 0;
    /// @brief On one thread, after the minibatch's update and before the next minibatch.
    virtual void minibatch_done() {}
    /// @brief Whether run() can be split across threads (else the team has one thread).
    virtual bool splits_across_threads() const { return true; }

    /// @brief The persistent chains (empty for phases without any).
    virtual ChainState chains() const { return {}; }
    /// @brief Continues from saved chains.
    /// @throws ShapeError when they do not fit this phase (a phase without chains takes none).
    virtual void restore(const ChainState& chains);

protected:
    /// @brief Hidden states drawn from what TrainerWorkspace::up_into_y left in `act`.
    static void sample_hidden_rows(const Rbm& rbm, ConstRows act, Rows out, Rng& rng);
    /// @brief k Gibbs steps of the negative rows of chunks [c0, c1), from the hidden states in
    /// `hidden`: visible means, then (if `persistent` or before the last step) visible samples;
    /// up into Y; then (if `persistent` or before the last step) hidden samples back into
    /// `hidden`. The last visible rows become X's negative columns.
    static void gibbs_steps(const Rbm& rbm, TrainerWorkspace& ws, const MinibatchShape& s,
                            std::size_t c0, std::size_t c1, Matrix& hidden, Matrix& visible,
                            Matrix& act, std::size_t k, bool persistent);
};

}  // namespace dbn
