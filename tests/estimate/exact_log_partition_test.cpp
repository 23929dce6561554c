#include "dbn/estimate/exact_log_partition.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "support/helpers.hpp"
#include "support/tolerances.hpp"

namespace dbn::estimate {
namespace {

using testing::all_binary_states;
using testing::random_rbm;

/// Both sides are computed in double from the same float parameters; they differ only in the
/// order of summation and in the kernel's polynomial exp (relative error ~1e-15 per term), so
/// they agree to ~1e-14 relative. 1e-9 leaves five orders of margin yet fails on any step done
/// in float (~1e-7).
constexpr double k_rel_tol_exact = 1e-9;

/// log Z by the definition: log sum over every (v, h) pair of exp(-E(v, h)), E from
/// Rbm::energy (double, no free energy involved).
double brute_force_log_z(const Rbm& rbm) {
    const Matrix vs = all_binary_states(rbm.n_visible());
    const Matrix hs = all_binary_states(rbm.n_hidden());
    const std::size_t nv = vs.shape(0), nh = hs.shape(0);
    Matrix v = Matrix::from_shape({nv * nh, rbm.n_visible()});
    Matrix h = Matrix::from_shape({nv * nh, rbm.n_hidden()});
    for (std::size_t a = 0; a < nv; ++a) {
        for (std::size_t b = 0; b < nh; ++b) {
            for (std::size_t i = 0; i < rbm.n_visible(); ++i) v(a * nh + b, i) = vs(a, i);
            for (std::size_t j = 0; j < rbm.n_hidden(); ++j) h(a * nh + b, j) = hs(b, j);
        }
    }
    const DVector e = rbm.energy(v, h);
    LogSumExp acc;
    for (double x : e) acc.add(-x);
    return acc.value();
}

double exact(const Rbm& rbm, EnumeratedSide side, std::size_t threads = 2) {
    ExactOptions o;
    o.side = side;
    o.threads = threads;
    return exact_log_partition(rbm, o);
}

TEST(ExactLogPartition, MatchesBruteForceEnumerationOfBothSides) {
    Rng rng{21};
    for (const auto& [nv, nh] :
         std::vector<std::pair<std::size_t, std::size_t>>{{5, 4}, {3, 7}, {6, 6}, {1, 9}}) {
        const Rbm rbm = random_rbm(nv, nh, rng);
        const double brute = brute_force_log_z(rbm);
        const double tol = k_rel_tol_exact * std::abs(brute);
        EXPECT_NEAR(exact(rbm, EnumeratedSide::visible), brute, tol) << nv << "x" << nh;
        EXPECT_NEAR(exact(rbm, EnumeratedSide::hidden), brute, tol) << nv << "x" << nh;
        EXPECT_NEAR(exact(rbm, EnumeratedSide::smaller), brute, tol) << nv << "x" << nh;
    }
}

TEST(ExactLogPartition, MatchesBruteForceAcrossManyBlocks) {
    // 14 enumerated units: 2^12 low states per block and 4 blocks of high bits, so the
    // high-bit rows and the merging of the blocks' partial sums are exercised.
    Rng rng{22};
    const Rbm rbm = random_rbm(14, 3, rng, 0.7f);
    const double brute = brute_force_log_z(rbm);
    EXPECT_NEAR(exact(rbm, EnumeratedSide::visible), brute, k_rel_tol_exact * std::abs(brute));
    EXPECT_NEAR(exact(rbm, EnumeratedSide::hidden), brute, k_rel_tol_exact * std::abs(brute));
}

TEST(ExactLogPartition, BothSidesAgreeOnALargerModel) {
    // 2^18 visible states in 64 blocks against 2^16 hidden states in 16 blocks.
    Rng rng{23};
    const Rbm rbm = random_rbm(18, 16, rng, 0.5f);
    const double v = exact(rbm, EnumeratedSide::visible);
    const double h = exact(rbm, EnumeratedSide::hidden);
    EXPECT_NEAR(v, h, k_rel_tol_exact * std::abs(h));
}

TEST(ExactLogPartition, ResultDoesNotDependOnTheThreadCount) {
    // Blocks are fixed and merged in block order, whatever thread computed them: bit-identical.
    Rng rng{24};
    const Rbm rbm = random_rbm(40, 15, rng, 0.3f);
    const double one = exact(rbm, EnumeratedSide::smaller, 1);
    EXPECT_EQ(exact(rbm, EnumeratedSide::smaller, 2), one);
    EXPECT_EQ(exact(rbm, EnumeratedSide::smaller, 3), one);
}

TEST(ExactLogPartition, MatchesClosedFormWithoutWeightsAtTheLimit) {
    // W = 0: Z factorizes, log Z = sum_i softplus(a_i) + sum_j softplus(b_j). 24 visible units
    // against 25 hidden: the smaller side is the 24 = k_max_enumerated_units visible units.
    Rng rng{25};
    Rbm rbm(k_max_enumerated_units, k_max_enumerated_units + 1);
    rng.fill_normal(rbm.visible_bias().data(), rbm.n_visible());
    rng.fill_normal(rbm.hidden_bias().data(), rbm.n_hidden());
    double closed = 0.0;
    for (float a : rbm.visible_bias()) closed += softplus(a);
    for (float b : rbm.hidden_bias()) closed += softplus(b);
    EXPECT_NEAR(exact_log_partition(rbm), closed, k_rel_tol_exact * closed);
}

TEST(ExactLogPartition, FiniteForActivationsOfPlusMinusThousand) {
    // act = (+-1000, -+1000) for the one-hot v and 0 for the others:
    // Z = 4 + 2 (1 + e^1000)(1 + e^-1000) + 4, so log Z = 1000 + log 2 + O(e^-1000), with
    // terms far beyond the range of exp in double.
    Rbm rbm(2, 2);
    rbm.weights() = {{1000.0f, -1000.0f}, {-1000.0f, 1000.0f}};
    const double expected = 1000.0 + std::log(2.0);
    for (auto side : {EnumeratedSide::visible, EnumeratedSide::hidden}) {
        const double lz = exact(rbm, side);
        ASSERT_TRUE(std::isfinite(lz));
        EXPECT_NEAR(lz, expected, k_rel_tol_exact * expected);
    }
    // Biases of +-1000 as well: (v, h) = (11, 00) dominates with -E = 2000; against the
    // brute-force sum of exp(-E) over all 16 pairs.
    rbm.visible_bias() = {1000.0f, 1000.0f};
    rbm.hidden_bias() = {-1000.0f, -1000.0f};
    const double brute = brute_force_log_z(rbm);
    ASSERT_TRUE(std::isfinite(brute));
    EXPECT_NEAR(exact(rbm, EnumeratedSide::visible), brute, k_rel_tol_exact * brute);
    EXPECT_NEAR(exact(rbm, EnumeratedSide::hidden), brute, k_rel_tol_exact * brute);
}

TEST(ExactLogPartition, GaussianVisibleMatchesNumericalIntegral) {
    // One Gaussian visible unit, three hidden: log Z = log of the integral over v of
    // sum_h exp(-E(v, h)), by the trapezoid rule on [-40, 40] (the integrand is a mixture of
    // 8 Gaussians with sd 1.3 centred within +-6, so the tails beyond are below e^-400).
    Rng rng{26};
    Rbm rbm = random_rbm(1, 3, rng, 0.8f, UnitType::gaussian);
    rbm.visible_sigma()(0) = 1.3f;
    const Matrix hs = all_binary_states(3);
    const double lo = -40.0, hi = 40.0;
    const int n = 40000;
    const double dv = (hi - lo) / n;
    Matrix v = Matrix::from_shape({hs.shape(0), 1});
    double sum = 0.0;
    for (int k = 0; k <= n; ++k) {
        v.fill(static_cast<float>(lo + k * dv));
        const double weight = (k == 0 || k == n) ? 0.5 : 1.0;
        for (double e : rbm.energy(v, hs)) sum += weight * std::exp(-e);
    }
    // The trapezoid rule on a smooth, rapidly decaying integrand converges faster than any
    // power of dv; the float rounding of the grid points (~1e-7 relative) bounds the agreement.
    EXPECT_NEAR(exact_log_partition(rbm), std::log(sum * dv), 1e-6);
}

TEST(ExactLogPartition, GaussianVisibleMatchesHiddenFreeEnergies) {
    // 3 Gaussian visible units with unequal sigma, 14 hidden (4 blocks): against
    // log sum_h exp(-G(h)) with G from Rbm::hidden_free_energy, whose W h is a float GEMM.
    Rng rng{27};
    Rbm rbm = random_rbm(3, 14, rng, 0.4f, UnitType::gaussian);
    rbm.visible_sigma() = {0.5f, 1.0f, 2.0f};
    const DVector g = rbm.hidden_free_energy(all_binary_states(14));
    LogSumExp acc;
    for (double x : g) acc.add(-x);
    EXPECT_NEAR(exact_log_partition(rbm), acc.value(),
                testing::k_rel_tol_float * std::abs(acc.value()));
}

TEST(ExactLogPartition, RefusesBeyondTheLimit) {
    Rbm big(k_max_enumerated_units + 1, k_max_enumerated_units + 6);
    try {
        exact_log_partition(big);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("2^25 states"), std::string::npos) << what;
        EXPECT_NE(what.find("AIS"), std::string::npos) << what;
    }
    // Gaussian visible units leave only the hidden side, however small the visible one is.
    Rbm gaussian(3, k_max_enumerated_units + 1, UnitType::gaussian);
    try {
        exact_log_partition(gaussian);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("Gaussian"), std::string::npos) << e.what();
    }
    // Forcing the larger side is refused too.
    Rbm wide(30, 4);
    ExactOptions o;
    o.side = EnumeratedSide::visible;
    EXPECT_THROW(exact_log_partition(wide, o), ConfigError);
}

TEST(ExactLogPartition, RefusesRectifiedHiddenUnits) {
    Rbm rbm(4, 3, UnitType::bernoulli, UnitType::relu);
    try {
        exact_log_partition(rbm);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("relu"), std::string::npos) << e.what();
    }
}

TEST(ExactLogPartition, RefusesToEnumerateGaussianVisibleUnitsAndBadOptions) {
    Rbm rbm(3, 4, UnitType::gaussian);
    ExactOptions o;
    o.side = EnumeratedSide::visible;
    EXPECT_THROW(exact_log_partition(rbm, o), ConfigError);
    o.side = EnumeratedSide::smaller;
    o.threads = 0;
    EXPECT_THROW(exact_log_partition(rbm, o), ConfigError);
}

TEST(ExactLogPartition, NonFiniteParametersAreANumericalError) {
    Rbm rbm(3, 2);
    rbm.weights()(1, 1) = std::numeric_limits<float>::quiet_NaN();
    EXPECT_THROW(exact_log_partition(rbm), NumericalError);
}

}  // namespace
}  // namespace dbn::estimate
