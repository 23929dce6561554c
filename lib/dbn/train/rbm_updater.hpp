#pragma once

#include <cstddef>

#include "dbn/core/blas.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/trainer_state.hpp"
#include "dbn/train/trainer_workspace.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn {

/// @brief The parameter update of RBM training (docs/MATH.md#training): momentum, L2 and L1
/// weight decay, the hidden sparsity penalty, and the learning-rate and momentum schedules.
/// Owns the velocities and the sparsity running estimate (UpdaterState).
///
/// One minibatch of `rows` data rows, with X and Y of the workspace filled:
///   vel = momentum vel + lr / rows X Y          (one product: weights and both biases)
///   vel_W -= lr (l2 W + l1 sign W),  W += vel_W,  a += vel_a,
///   vel_b += lr cost (target - q),   b += vel_b
/// with q the running mean of the hidden activations (Hinton 2010, section 11).
class RbmUpdater {
public:
    RbmUpdater() = default;
    RbmUpdater(std::size_t n_visible, std::size_t n_hidden, const LayerTrainingConfig& config);

    /// @brief The statistics product of a minibatch whose X and Y have `ld` columns and rows:
    /// (n_visible + 1) x (n_hidden + 1), inner ld (over the thread team's row shares).
    static blas::GemmShape product(std::size_t n_visible, std::size_t n_hidden, std::size_t ld);

    /// @brief Learning rate of the epoch after `epochs_done`: lr * decay^epochs_done.
    double learning_rate(std::size_t epochs_done) const;
    /// @brief Momentum of the epoch after `epochs_done`: the initial one for the first
    /// momentum_switch_epoch epochs, the final one after.
    double momentum(std::size_t epochs_done) const;

    /// @brief Thread t's share of minibatch s: rows split_range(n_visible + 1, threads, t) of
    /// the velocity and the weights; the owner of the last row (the hidden biases') also
    /// applies the sparsity penalty. Call after every thread's negative phase (a barrier).
    void update(Rbm& rbm, const TrainerWorkspace& ws, const MinibatchShape& s, std::size_t t,
                std::size_t threads, double lr, float momentum);

    const UpdaterState& state() const { return state_; }
    /// @throws ShapeError when the state's arrays do not fit this RBM.
    void restore(const UpdaterState& state);

private:
    LayerTrainingConfig config_;
    UpdaterState state_;
};

}  // namespace dbn
