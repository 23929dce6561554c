#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "dbn/core/parallel.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/train/observer.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/epoch_stats.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn {

/// @brief Trains one RBM with CD-k or PCD-k (Tieleman 2008), momentum, L2/L1 weight decay,
/// a hidden sparsity target and a learning-rate schedule (docs/MATH.md#training).
///
/// All training state lives here: velocities, persistent chains, the sparsity running mean, the
/// epoch counter; the model's parameters live in the Rbm and the random stream in the Rng, both
/// owned by the caller. Buffers are sized once for a full minibatch, so that the minibatch loop
/// allocates nothing; a short last batch uses the leading rows of the same buffers.
///
/// One minibatch of B rows costs five matrix products' worth of work (CD-1): up (v0 W), down
/// (h0 W^T), up (v1 W), and the statistics, which are one product written straight into the
/// velocity: with X = [v0 | -v1] (visible x 2B, plus a row of ones) and Y = [p0 ; p1] (2B x
/// hidden, plus a column of ones), vel = momentum vel + lr/B X Y gives the weight gradient and,
/// in the extra column and row, both bias gradients; then W += vel - lr (l2 W + l1 sign W).
///
/// Threads: a minibatch is cut into k_chunks fixed row chunks, each sampled from its own
/// substream of the generator (Rng::jump), and each thread runs the up-down-up products of its
/// chunks, then updates its share of the weight rows. The same seed and thread count give the
/// same model bit for bit. Other thread counts make the same random draws, but OpenBLAS rounds
/// an entry differently depending on where its row falls in a product (edge tiles), so their
/// models agree only as closely as any two float computations of one training run can.
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
    /// @brief Threads that share each minibatch (default: OpenBLAS's thread count at
    /// construction); small models and the exact negative phase use one.
    void set_threads(std::size_t threads);
    std::size_t threads() const { return threads_; }
    /// @brief Threads the next epoch will use: threads() where splitting the minibatch wins.
    std::size_t effective_threads() const;
    /// Row chunks of a minibatch, each with its own random substream.
    static constexpr std::size_t k_chunks = 8;
    double current_learning_rate() const;
    double current_momentum() const;

private:
    /// Rows this minibatch: data rows, negative rows and the length of X's rows.
    struct BatchShape {
        std::size_t first = 0, rows = 0, neg = 0, ld = 0, index = 0;
    };
    void gather_and_up(const Matrix& data, const BatchShape& s, std::size_t r0, std::size_t r1);
    void negative_phase(const BatchShape& s, std::size_t t, std::size_t threads, bool sync_first,
                        const std::function<bool()>& barrier);
    void exact_negative_phase(const BatchShape& s);
    void up_into_y(ConstRows v, std::size_t y_first, Rows act);
    void sample_hidden_rows(ConstRows act, Rows out, Rng& rng);
    void update(const BatchShape& s, std::size_t t, std::size_t threads, double lr, float mom);
    void choose_monitor_rows(std::size_t n_data, std::size_t n_heldout);
    Rng& stream(const BatchShape& s, std::size_t chunk) { return streams_[s.index * k_chunks + chunk]; }

    Rbm& rbm_;
    LayerTrainingConfig config_;
    Rng& rng_;
    std::size_t layer_;
    std::size_t epoch_ = 0;  ///< epochs completed
    std::size_t threads_ = 1;
    std::unique_ptr<ThreadPool> pool_;

    /// Velocities: [n_visible + 1, n_hidden + 1]; weights, then the visible biases' velocity in
    /// the last column and the hidden biases' in the last row.
    Matrix vel_;
    Vector sparsity_q_;  ///< running mean of hidden activations
    bool sparsity_started_ = false;
    Matrix chains_;      ///< PCD persistent hidden states
    bool chains_started_ = false;

    // Minibatch buffers, sized once (batch_size rows; the number of chains for PCD).
    Matrix v0_, act0_, h_, vk_, actk_;
    std::vector<float> x_;  ///< X: (n_visible + 1) x ld, ld = rows + negative rows
    std::vector<float> y_;  ///< Y: ld x (n_hidden + 1)
    std::vector<double> chunk_hsum_;  ///< per-chunk sums of p0 (sparsity only)
    std::vector<double> neg_weight_;  ///< exact negative phase: p(v) of every visible state
    std::vector<Rng> streams_;        ///< this epoch's substreams: k_chunks per minibatch
    std::vector<std::size_t> order_;
    std::vector<std::size_t> monitor_train_, monitor_heldout_;
    std::vector<std::size_t> flip_bits_;
};

}  // namespace dbn
