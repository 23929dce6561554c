#pragma once

#include <cstddef>
#include <vector>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/observe/observer.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/epoch_stats.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn {

/// @brief Trains one RBM with CD-k or PCD-k (Tieleman 2008), momentum, L2/L1 weight decay,
/// a hidden sparsity target and a learning-rate schedule (DESIGN.md section 3).
///
/// All training state lives here: velocities, persistent chains, the sparsity running mean, the
/// epoch counter; the model's parameters live in the Rbm and the random stream in the Rng, both
/// owned by the caller. Buffers are sized once for a full minibatch, so that the minibatch loop
/// allocates nothing; a short last batch uses the leading rows of the same buffers.
///
/// One minibatch of B rows costs five matrix products (CD-1): up (v0 W), down (h0 W^T), up
/// (v1 W), and the two statistics v0^T p0 and v1^T p1, which are written straight into the
/// weight velocity: vel = momentum vel + lr/B (v0^T p0 - v1^T p1) - lr (l2 W + l1 sign W).
class RbmTrainer {
public:
    /// @pre rbm has its final shape; config validated.
    RbmTrainer(Rbm& rbm, const LayerTrainingConfig& config, Rng& rng, std::size_t layer = 0);

    /// @brief Visible biases from the data's base rates: log(p / (1 - p)) with p clipped to
    /// [0.001, 0.999] (Bernoulli), or the column means (Gaussian, unit sigma).
    void init_visible_bias(const Matrix& data);

    /// @brief Trains for config.epochs epochs; returns the per-epoch monitors.
    /// @param heldout rows for the free-energy gap (may be null or empty: the gap is then NaN).
    /// @throws NumericalError naming the layer and epoch when parameters become non-finite.
    std::vector<EpochStats> train(const Matrix& data, const Matrix* heldout,
                                  TrainingObserver* observer = nullptr);

    /// @brief One epoch over `data` (shuffled), without monitors; returns its wall seconds.
    double train_epoch(const Matrix& data, TrainingObserver* observer = nullptr);

    /// @brief Monitors of the current parameters on fixed subsets of the data and held-out rows.
    EpochStats monitor(const Matrix& data, const Matrix* heldout);

    std::size_t epochs_done() const { return epoch_; }
    double current_learning_rate() const;
    double current_momentum() const;

private:
    void minibatch(ConstRows v0);
    void negative_phase(ConstRows p0, Rows act0);
    void choose_monitor_rows(std::size_t n_data, std::size_t n_heldout);

    Rbm& rbm_;
    LayerTrainingConfig config_;
    Rng& rng_;
    std::size_t layer_;
    std::size_t epoch_ = 0;  ///< epochs completed

    Matrix vel_w_;
    Vector vel_a_, vel_b_;
    Vector sparsity_q_;  ///< running mean of hidden activations
    bool sparsity_started_ = false;
    Matrix chains_;      ///< PCD persistent visible states
    bool chains_started_ = false;
    std::size_t chain_pos_ = 0;

    // Minibatch buffers (batch_size rows, or the number of chains for PCD).
    Matrix v0_, act0_, p0_, h_, vk_, actk_, pk_, scratch_;
    std::vector<double> mean_a_, mean_b_, mean_neg_;
    std::vector<double> neg_weight_;  ///< exact negative phase: p(v) of every visible state
    std::vector<std::size_t> order_;
    std::vector<std::size_t> monitor_train_, monitor_heldout_;
    std::vector<std::size_t> flip_bits_;
};

}  // namespace dbn
