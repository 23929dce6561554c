#pragma once

#include <cstddef>
#include <string>

#include "dbn/core/types.hpp"

namespace dbn::blas {

/// @brief One matrix product of an algorithm's inner loop, C (m x n) = op(A) op(B) with k inner,
/// done `count` times per unit of work (a minibatch). The trainer and the network describe their
/// own products with it, so that a benchmark times exactly the shapes the code runs.
struct GemmShape {
    std::string name;
    bool trans_a = false, trans_b = false;
    std::size_t m = 0, n = 0, k = 0;
    int count = 1;
    /// @brief 2 m n k count: the floating-point operations of all `count` products.
    double flops() const { return 2.0 * double(m) * double(n) * double(k) * count; }
};

/// @brief C = alpha * op(A) * op(B) + beta * C in float, through OpenBLAS sgemm.
///
/// op(X) is X or its transpose. Shapes are checked once per call (ShapeError), never per element.
/// C must not alias A or B.
/// @throws ShapeError when the inner or outer dimensions do not agree.
void gemm(bool trans_a, bool trans_b, float alpha, ConstRows a, ConstRows b, float beta, Rows c);

/// @brief Rows [first, first + count) of C = A^T B + beta C (C is a.cols x b.cols, row-major):
/// columns [first, first + count) of A, transposed, times B; `c` points at C's row `first`.
///
/// For a weight gradient X^T delta split across threads by rows of the result: a column block
/// of X is not a ConstRows view (its rows are strided), so X's row length goes to sgemm as the
/// leading dimension. Each element is the product gemm(true, false, ...) computes.
/// @throws ShapeError when A and B have different row counts or the columns are out of range.
void gemm_tn_rows(ConstRows a, std::size_t first, std::size_t count, ConstRows b, float beta,
                  Real* c);

/// @brief Double-precision C = alpha * op(A) * op(B) + beta * C on raw row-major arrays.
/// A is m x k (k x m if transposed), B is k x n (n x k if transposed), C is m x n.
void dgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha,
           const double* a, const double* b, double beta, double* c);

/// @brief Name of the OpenBLAS kernel in use ("Prescott", "SkylakeX", ...).
std::string core_name();
/// @brief OpenBLAS build configuration string.
std::string config();
/// @brief Threads OpenBLAS uses for one call.
int num_threads();
/// @brief Sets the number of OpenBLAS threads (>= 1).
void set_num_threads(int n);

/// @brief Sets OpenBLAS's thread count for a scope and restores it on exit: code that runs its
/// own threads, each calling single-threaded products, holds ScopedThreads(1). n <= 0 leaves the
/// count alone. OpenBLAS's count is global: hold this on one thread only, around the parallel
/// region, not inside it.
class ScopedThreads {
public:
    explicit ScopedThreads(int n) : saved_(num_threads()), active_(n > 0 && n != saved_) {
        if (active_) set_num_threads(n);
    }
    ~ScopedThreads() {
        if (active_) set_num_threads(saved_);
    }
    ScopedThreads(const ScopedThreads&) = delete;
    ScopedThreads& operator=(const ScopedThreads&) = delete;

private:
    int saved_;
    bool active_;
};

}  // namespace dbn::blas
