#pragma once

#include <cstddef>

#include "dbn/rbm/rbm.hpp"

namespace dbn::estimate {

/// @brief Which layer exact_log_partition enumerates.
enum class EnumeratedSide {
    smaller,  ///< the smaller Bernoulli layer (the hidden layer when the visible one is Gaussian)
    visible,  ///< every visible state, summing exp(-F(v)); Bernoulli visible units only
    hidden,   ///< every hidden state, summing exp(-G(h))
};

/// Most units exact_log_partition enumerates. The work is 2^n states x n_other softplus terms:
/// on this project's 2-core reference machine about 0.5-0.7 ns per term (2 threads, vectorized
/// kernel) plus ~15 ns per state, so 2^20 states x 784 units take 0.65 s, 2^24 x 784 about 9 s,
/// and every unit more doubles it (25: ~20 s, 28: ~2.5 min). 24 keeps an MNIST-sized exact
/// value within seconds, as a test oracle should be; beyond it AIS is the tool
/// (docs/MATH.md#free-energies).
inline constexpr std::size_t k_max_enumerated_units = 24;

/// @brief Whether exact_log_partition enumerates the hidden side for `side`: a side of binary
/// units whose other side sums out in closed form; `smaller` picks the smaller such side.
/// @throws ConfigError when `side` is visible and the visible units cannot be enumerated.
bool enumerates_hidden(const Rbm& rbm, EnumeratedSide side = EnumeratedSide::smaller);

/// @brief How many units exact_log_partition enumerates for `side` (2^n states).
std::size_t enumerated_units(const Rbm& rbm, EnumeratedSide side = EnumeratedSide::smaller);

/// @brief Options of exact_log_partition.
struct ExactOptions {
    EnumeratedSide side = EnumeratedSide::smaller;
    /// Worker threads (>= 1). The result does not depend on it: states are summed in fixed
    /// blocks whose partial log-sum-exps are merged in block order.
    std::size_t threads = 2;
};

/// @brief Exact log partition function of an RBM by enumeration (docs/MATH.md#free-energies):
///
///     log Z = log sum_v exp(-F(v)) = log sum_h exp(-G(h)),
///     F(v) = -a.v - sum_j softplus(b_j + (v W)_j)
///     G(h) = -b.h - sum_i softplus(a_i + (W h)_i)                               Bernoulli visible
///     G(h) = -b.h - sum_i [a_i c_i / s_i + c_i^2 / 2] - sum_i log(sqrt(2 pi) s_i), c = W h,
///                                                                               Gaussian visible
///
/// States are enumerated in blocks: the first up-to-12 units ("low bits") take all their
/// values within a block, and one double GEMM of those binary rows by W (or W^T) gives a table
/// of their products, computed once; each block (a setting of the remaining units) adds one
/// row for its high bits. The other side's units are summed out against a block's rows by their
/// Units object (Units::log_marginal_rows: vectorized softplus sums for Bernoulli units), and a
/// log-sum-exp per block are kept in double, so nothing overflows (activations of +-1000 give
/// finite results) and the value is accurate to ~1e-14 relative. The blocks are shared among
/// `options.threads` threads and merged in block order, so the result is the same bits for any
/// thread count.
/// The smaller side is chosen by default (either side when both are Bernoulli; only the hidden
/// side can be enumerated when the visible units are Gaussian, since they are integrated out).
///
/// @param rbm   Bernoulli or Gaussian visible units, Bernoulli hidden units.
/// @throws ConfigError for rectified (relu) hidden units, which have no closed-form free energy;
///         for enumerating Gaussian visible units; for more than k_max_enumerated_units units on
///         the enumerated side (the message gives the state count and a time estimate); for
///         threads == 0.
/// @throws NumericalError when a parameter is NaN or infinite.
double exact_log_partition(const Rbm& rbm, const ExactOptions& options = {});

}  // namespace dbn::estimate
