#pragma once

namespace dbn::testing {

/// Identities computed in double from the same float inputs: rounding of O(100) terms.
inline constexpr double k_abs_tol_double = 1e-10;
/// Float computations (sgemm, float sigmoid) compared to a double reference: relative error of a
/// few float epsilons times the number of summed terms, for the tiny models of the tests.
inline constexpr double k_rel_tol_float = 1e-4;
/// Statistical tests: an estimator must land within this many standard errors.
inline constexpr double k_sigmas = 3.0;

}  // namespace dbn::testing
