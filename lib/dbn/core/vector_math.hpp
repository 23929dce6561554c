#pragma once

#include <cstddef>

namespace dbn::vec {

/// @brief y[i] = sigmoid(x[i]) for i < n; x and y may be the same array.
///
/// Vectorized (SSE2, AVX2 or AVX-512 chosen at run time): e^-|x| comes from a degree-6
/// polynomial on [-ln2/2, ln2/2] and an exact power of two (Cephes' expf), so the result is
/// within 2 ulp of the scalar `dbn::sigmoid` for every input, underflows to 0 for x < -104, is
/// 1 for large x and NaN for NaN. The AVX2 and AVX-512 versions contract multiply-adds, so
/// results can differ in the last bit between machines (as OpenBLAS's kernels do), never between
/// runs on one machine.
void sigmoid(const float* x, float* y, std::size_t n);

/// @brief y[i] = sigmoid(x[i] + bias[i]) for i < n (one row of activations plus its biases).
void sigmoid_bias(const float* x, const float* bias, float* y, std::size_t n);

/// @brief y[i] = scale * x[i] for i < n.
void scale(const float* x, float scale, float* y, std::size_t n);

}  // namespace dbn::vec
