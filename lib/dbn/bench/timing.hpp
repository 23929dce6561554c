#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <vector>

#include "dbn/core/blas.hpp"

namespace dbn::bench {

/// @brief Wall seconds since construction (steady clock).
class Stopwatch {
public:
    Stopwatch() : start_(std::chrono::steady_clock::now()) {}
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::chrono::steady_clock::time_point start_;
};

/// @brief The median of `v` (the mean of the middle two for an even count); NaN when empty.
double median(std::vector<double> v);

/// @brief Peak resident memory of this process so far, in MiB (getrusage).
double peak_rss_mib();

/// @brief Seconds per call of one product on the whole unit of work with the BLAS threads, and
/// with its rows split across as many single-threaded products running concurrently (the way
/// the trainer and the network's Workspace run them); each the median of several timings.
struct ProductTiming {
    blas::GemmShape shape;
    double blas_threads_seconds = NAN;
    double split_seconds = NAN;  ///< NaN with one thread

    /// @brief 2 m n k: the operations of one call (GemmShape::flops() counts all `count`).
    double flops_per_call() const {
        return 2.0 * double(shape.m) * double(shape.n) * double(shape.k);
    }
    double best_seconds() const {
        return std::isnan(split_seconds) ? blas_threads_seconds
                                         : std::min(blas_threads_seconds, split_seconds);
    }
    double gflops_blas_threads() const { return flops_per_call() / blas_threads_seconds / 1e9; }
    double gflops_split() const { return flops_per_call() / split_seconds / 1e9; }
    double gflops_best() const { return flops_per_call() / best_seconds() / 1e9; }
};

/// @brief Times `s` on constant matrices: `reps` timings of about 20 ms of calls each, with
/// `threads` BLAS threads and (threads > 1) split by rows across `threads` threads of one
/// thread each. The up and down products (A not transposed) split A's rows; a product with A
/// transposed splits the rows of its result. OpenBLAS's thread count is restored afterwards.
ProductTiming time_product(const blas::GemmShape& s, std::size_t threads, int reps);

/// @brief The GEMM limit of a unit of work (a minibatch, a chunk of rows, a temperature): each
/// of its products at the best rate this machine gives for it, times how often the unit does
/// it, summed. No implementation of the work can do its products faster.
struct GemmLimit {
    std::vector<ProductTiming> products;  ///< in the order given
    double seconds = 0.0;                 ///< per unit of work
    double flops = 0.0;                   ///< per unit of work
    double gflops() const { return flops / seconds / 1e9; }
};

/// @brief time_product() of every shape, and their limit.
GemmLimit measure_limit(const std::vector<blas::GemmShape>& shapes, std::size_t threads, int reps);

}  // namespace dbn::bench
