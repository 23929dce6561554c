#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/rbm/rbm.hpp"

namespace dbn {

class ThreadPool;  // dbn/core/parallel.hpp

/// @brief The rows of one minibatch, as every piece of the trainer reads them.
struct MinibatchShape {
    std::size_t index = 0;  ///< minibatch number in the epoch (0-based)
    std::size_t first = 0;  ///< its first position in the epoch's row order
    std::size_t rows = 0;   ///< data rows: the batch size, fewer in a short last batch
    std::size_t neg = 0;    ///< negative rows: rows (CD), chains (PCD), 2^n_visible (exact)
    std::size_t ld = 0;     ///< rows + neg: the length of X's rows and the rows of Y
};

/// @brief The buffers of one minibatch, allocated once for a full batch (a short last batch
/// uses their leading rows), the random substreams of the epoch, and the thread team.
///
/// The statistics of a minibatch are one product (docs/MATH.md#training): with
///   X = [v0 | -(rows/neg) v_neg]  ((n_visible + 1) x ld, plus a row of ones: the X^T of v's),
///   Y = [p0 ; p_neg]              (ld x (n_hidden + 1), plus a column of ones),
/// X Y holds the weight gradient, and in its last column and row both bias gradients. The
/// positive phase writes the first `rows` columns of X and rows of Y; the negative phase the
/// rest; RbmUpdater multiplies them straight into the velocity.
///
/// Threads: a minibatch is cut into k_chunks fixed row chunks, each sampled from its own
/// substream; thread t of T handles chunks split_range(k_chunks, T, t). The same thread count
/// gives the same model bit for bit.
class TrainerWorkspace {
public:
    /// Row chunks of a minibatch, each with its own random substream.
    static constexpr std::size_t k_chunks = 8;
    /// First row of chunk c when n rows are cut into k_chunks pieces.
    static std::size_t chunk_start(std::size_t n, std::size_t c) { return n * c / k_chunks; }

    TrainerWorkspace();
    /// @param max_negatives the negative rows of a full minibatch.
    /// @param sparsity whether to keep the per-chunk sums of p0 that the sparsity target needs.
    TrainerWorkspace(std::size_t n_visible, std::size_t n_hidden, std::size_t batch_size,
                     std::size_t max_negatives, bool sparsity);
    ~TrainerWorkspace();
    TrainerWorkspace(TrainerWorkspace&&) noexcept;
    TrainerWorkspace& operator=(TrainerWorkspace&&) noexcept;

    /// @brief Calls body(t) for t = 0 .. threads-1 (t = 0 on the calling thread), OpenBLAS
    /// single-threaded meanwhile when threads > 1; rethrows the first exception.
    void run(std::size_t threads, const std::function<void(std::size_t)>& body);
    /// @brief Inside run(): waits for every thread; false when the run is being abandoned.
    bool barrier();
    /// @brief Drops the thread team (the next run() with threads > 1 makes a new one).
    void release_team();

    /// @brief The substreams of an epoch of n_batches minibatches: k_chunks per minibatch,
    /// each a copy of `rng` which then jumps (Rng::jump), so `rng` ends jumped past them all.
    void draw_substreams(Rng& rng, std::size_t n_batches);
    /// @brief The substream of chunk c of minibatch s.
    Rng& stream(const MinibatchShape& s, std::size_t c) { return streams_[s.index * k_chunks + c]; }

    /// @brief Positive phase of batch rows [r0, r1): v0 from `data` in the epoch's `order`, its
    /// columns in X, p(h | v0) in Y, the activations in act0, and (with sparsity) the sums of
    /// p0 over the chunks inside [r0, r1).
    void positive_phase(const Rbm& rbm, const Matrix& data, const std::size_t* order,
                        const MinibatchShape& s, std::size_t r0, std::size_t r1);
    /// @brief Y rows [y_first, y_first + v.rows) = hidden means of v, with the column of ones.
    /// `act` is left holding what sampling needs: the means (Bernoulli units) or the
    /// activations (rectified units).
    void up_into_y(const Rbm& rbm, ConstRows v, std::size_t y_first, Rows act);
    /// @brief X[i][col + r] = factor m[r][i] for every row r of m, and X[n_visible][col + r] =
    /// factor: the rows of m become columns of X (row length ld), with the row of ones.
    void to_columns(ConstRows m, float factor, std::size_t ld, std::size_t col);

    Matrix v0;             ///< [batch, n_visible]: the minibatch's data rows
    Matrix act0;           ///< [batch, n_hidden]: what up_into_y left for sampling h0
    std::vector<float> x;  ///< X: (n_visible + 1) x ld
    std::vector<float> y;  ///< Y: ld x (n_hidden + 1)
    /// [k_chunks * n_hidden]: per-chunk sums of p0 (sparsity only; empty otherwise).
    std::vector<double> chunk_hsum;

private:
    std::vector<Rng> streams_;  ///< this epoch's substreams: k_chunks per minibatch
    std::unique_ptr<ThreadPool> pool_;
    bool team_running_ = false;  ///< inside a run() with more than one thread
};

}  // namespace dbn
