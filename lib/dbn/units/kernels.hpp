#pragma once

#include <cstddef>

// Element-wise kernels of Bernoulli units in the estimators (BernoulliUnits' log_marginal_rows,
// tempered_log_marginals and mean with a separate bias): the sums of softplus terms and the
// logistic function over long rows, in double. They are the inner loops of exact enumeration
// (2^n states x n_other terms) and of AIS (runs x units terms at each of ~14,500
// temperatures), so they are written to be vectorized: a branch-free exp on [-700, 0] instead
// of calls to std::exp / std::log1p, which do not vectorize, and products of (1 + e^-|t|) over
// chunks of 64 terms so that one std::log serves 64 terms. On x86-64 with GCC each kernel is
// also compiled for AVX2 and AVX-512 and the best one is picked at load time (target_clones);
// the default build targets plain SSE2.
//
// Accuracy: the exp is a degree-12 Taylor polynomial after Cody-Waite reduction to
// |r| <= ln(2)/2 (truncation error below 2e-16 relative). A sum of n softplus terms is within
// ~1e-15 relative plus n * 2.3e-16 absolute of the exact value: the absolute part is the rounding
// of each factor 1 + e^-|t| (so softplus(-40) = 4e-18 counts as 0), harmless next to the
// magnitudes of the free energies that these sums build (the kernel test checks both parts
// against std::log1p(std::exp(.))). No FMA contraction is used (ISO C++ mode), so every clone
// gives the same bits.

namespace dbn::detail {

/// @brief sum_k softplus(x[k]), softplus(t) = log(1 + e^t), in double, for any finite x.
/// NaN in x gives NaN.
double softplus_sum(const double* x, std::size_t n);

/// @brief sum_k softplus(x[k] + y[k]) in double (the sum x[k] + y[k] rounded once).
double softplus_sum(const double* x, const double* y, std::size_t n);

/// @brief sum_k softplus(beta * act[k]) in double; when `sigmoid_out` is not null it also
/// receives sigmoid(beta * act[k]) (as float), the probabilities of units with activation
/// beta * act.
double scaled_softplus_sum(const float* act, double beta, std::size_t n, float* sigmoid_out);

/// @brief out[k] = sigmoid(in[k] + shift[k]) for k < n (in and out may be the same array).
void shifted_sigmoid(const float* in, const float* shift, float* out, std::size_t n);

}  // namespace dbn::detail
