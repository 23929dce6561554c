#include "dbn/estimate/ais.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/estimate/exact_log_partition.hpp"
#include "estimate/test_models.hpp"
#include "support/helpers.hpp"
#include "support/tolerances.hpp"

namespace dbn::estimate {
namespace {

/// Largest accepted |AIS - exact| in nats. On the 20-hidden-unit models below the estimates'
/// 3-SE half-widths are 0.1 to 0.2 nats with the default schedule (errors seen: below 0.06
/// on bars-and-stripes, 0.06 on the stroke images) and up to 0.5 with the quick preset
/// (errors seen: up to 0.3). 0.5 nats is the accuracy that makes a log-likelihood comparison
/// between models meaningful, and several standard errors away from what the estimator does.
constexpr double k_max_error_nats = 0.5;
/// Identities between double sums of the same 100 log weights: rounding only.
constexpr double k_abs_tol_sum = 1e-10;

AisConfig config(std::uint64_t seed, std::size_t steps = k_ais_default_steps,
                 std::size_t runs = k_ais_default_runs) {
    AisConfig c;
    c.seed = seed;
    c.steps = steps;
    c.runs = runs;
    return c;
}

/// Checks the paper's criteria: the exact value inside log(mean w +- 3 se), and the estimate
/// within k_max_error_nats.
void expect_close_to_exact(const AisResult& r, double exact, const std::string& what) {
    EXPECT_LE(r.log_z_low, exact) << what << ": estimate " << r.log_z << " ess " << r.ess;
    EXPECT_GE(r.log_z_high, exact) << what << ": estimate " << r.log_z << " ess " << r.ess;
    EXPECT_NEAR(r.log_z, exact, k_max_error_nats) << what;
}

/// A 16 x 20 RBM trained with 20,000 CD-1 updates on the 30 4x4 bars-and-stripes images: its
/// weights reach |w| ~ 8, and its distribution has one sharp mode per image.
struct BarsAndStripesModel {
    Matrix data = testing::bars_and_stripes(4);
    Rbm rbm{16, 20};
    double log_z = 0.0;
    BarsAndStripesModel() {
        Rng rng{42};
        rbm.init_random(rng, 0.1f);
        testing::train_cd1(rbm, data, 20000, 30, 0.1f, rng);
        log_z = exact_log_partition(rbm);
    }
};

const BarsAndStripesModel& bars_and_stripes_model() {
    static const BarsAndStripesModel m;
    return m;
}

TEST(AisSchedule, MatchesThePaperForTheDefaultSteps) {
    const std::vector<double> beta = ais_schedule(k_ais_default_steps);
    ASSERT_EQ(beta.size(), 14501u);
    EXPECT_EQ(beta.front(), 0.0);
    EXPECT_EQ(beta.back(), 1.0);
    // Segment ends and spacings 1/1000, 1/10000, 1/100000 (to double rounding).
    EXPECT_NEAR(beta[500], 0.5, 1e-15);
    EXPECT_NEAR(beta[4500], 0.9, 1e-15);
    EXPECT_NEAR(beta[1] - beta[0], 1e-3, 1e-15);
    EXPECT_NEAR(beta[501] - beta[500], 1e-4, 1e-15);
    EXPECT_NEAR(beta[4501] - beta[4500], 1e-5, 1e-15);
    for (std::size_t k = 1; k < beta.size(); ++k) ASSERT_GT(beta[k], beta[k - 1]) << k;
}

TEST(AisSchedule, ScalesTheThreeSegmentsForOtherStepCounts) {
    const std::vector<double> quick = ais_schedule(k_ais_quick_steps);
    ASSERT_EQ(quick.size(), 1451u);
    EXPECT_NEAR(quick[50], 0.5, 1e-15);
    EXPECT_NEAR(quick[450], 0.9, 1e-15);
    EXPECT_EQ(quick.back(), 1.0);
    const std::vector<double> tiny = ais_schedule(3);
    ASSERT_EQ(tiny.size(), 4u);
    EXPECT_NEAR(tiny[1], 0.5, 1e-15);
    EXPECT_NEAR(tiny[2], 0.9, 1e-15);
    EXPECT_THROW(ais_schedule(2), ConfigError);
    EXPECT_EQ(parse_ais_steps("default"), k_ais_default_steps);
    EXPECT_EQ(parse_ais_steps("quick"), k_ais_quick_steps);
    EXPECT_EQ(parse_ais_steps("3000"), 3000u);
    EXPECT_THROW(parse_ais_steps("fast"), ConfigError);
    EXPECT_THROW(parse_ais_steps("2"), ConfigError);
    EXPECT_THROW(parse_ais_steps("-5"), ConfigError);
}

TEST(AisBaseModel, BaseRatesAreClippedAndItsLogZIsExact) {
    Rbm target(4, 3);
    // Column rates 0, 1, 0.25 and 0.5.
    Matrix data = {{0.0f, 1.0f, 1.0f, 1.0f},
                   {0.0f, 1.0f, 0.0f, 0.0f},
                   {0.0f, 1.0f, 0.0f, 1.0f},
                   {0.0f, 1.0f, 0.0f, 0.0f}};
    const Vector a = base_rate_bias(target, data, 1e-3);
    EXPECT_NEAR(a(0), std::log(1e-3 / (1 - 1e-3)), 1e-5);
    EXPECT_NEAR(a(1), -std::log(1e-3 / (1 - 1e-3)), 1e-5);
    EXPECT_NEAR(a(2), std::log(0.25 / 0.75), 1e-6);
    EXPECT_NEAR(a(3), 0.0, 1e-7);
    // The base model is an RBM with W = 0 and hidden biases 0: enumerate it.
    Rbm base(4, 3);
    base.visible_bias() = a;
    EXPECT_NEAR(base_log_partition(target, a), exact_log_partition(base), 1e-12);
    EXPECT_THROW(base_rate_bias(target, data, 0.0), ConfigError);
    EXPECT_THROW(base_rate_bias(target, Matrix::from_shape({2, 5}), 1e-3), ShapeError);
    EXPECT_THROW(base_rate_bias(target, Matrix::from_shape({0, 4}), 1e-3), ShapeError);
    data(2, 2) = std::numeric_limits<float>::quiet_NaN();
    EXPECT_THROW(base_rate_bias(target, data, 1e-3), NumericalError);
}

TEST(AisBaseModel, GaussianBaseLogZMatchesEnumeration) {
    Rng rng{3};
    Rbm target = testing::random_rbm(3, 4, rng, 0.5f, UnitType::gaussian);
    target.visible_sigma() = {0.5f, 1.0f, 3.0f};
    Matrix data = {{1.0f, -2.0f, 0.5f}, {3.0f, 0.0f, 1.5f}};
    const Vector a = base_rate_bias(target, data);
    EXPECT_NEAR(a(0), 2.0, 1e-6);
    EXPECT_NEAR(a(1), -1.0, 1e-6);
    EXPECT_NEAR(a(2), 1.0, 1e-6);
    Rbm base(3, 4, UnitType::gaussian);
    base.visible_bias() = a;
    base.visible_sigma() = target.visible_sigma();
    EXPECT_NEAR(base_log_partition(target, a), exact_log_partition(base), 1e-12);
}

TEST(Ais, TargetEqualToTheBaseGivesUnitWeights) {
    // With W = 0, b = 0 and a = the base biases every ratio p_k / p_{k-1} is 1: all log weights
    // are 0 (to rounding) and log Z is the base's closed form.
    const auto& m = bars_and_stripes_model();
    Rbm target(16, 20);
    target.visible_bias() = base_rate_bias(target, m.data);
    const AisResult r = Ais(config(1, 100, 10)).estimate(target, m.data);
    for (double lw : r.log_weights) EXPECT_NEAR(lw, 0.0, k_abs_tol_sum);
    EXPECT_NEAR(r.log_z, exact_log_partition(target), 1e-9);
    EXPECT_NEAR(r.ess, 10.0, 1e-9);
}

TEST(Ais, WithinThreeStandardErrorsOfExactOnBarsAndStripes) {
    const auto& m = bars_and_stripes_model();
    ASSERT_GT(testing::max_abs_weight(m.rbm), 5.0f) << "the model should be far from the base";
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        const AisResult r = Ais(config(seed)).estimate(m.rbm, m.data);
        expect_close_to_exact(r, m.log_z, "seed " + std::to_string(seed));
    }
}

TEST(Ais, QuickPresetIsCloseOnASmallModel) {
    // A tenth of the steps: wider intervals (ESS ~ 40 of 100) but still within 0.5 nats.
    const auto& m = bars_and_stripes_model();
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        const AisResult r = Ais(config(seed, k_ais_quick_steps)).estimate(m.rbm, m.data);
        EXPECT_NEAR(r.log_z, m.log_z, k_max_error_nats) << "seed " << seed;
        EXPECT_LT(r.log_z_low, r.log_z_high);
    }
}

TEST(Ais, WithinThreeStandardErrorsOfExactOnAStrokeImageModel) {
    // 784 x 20 trained with 500 CD-1 updates on synthetic 28x28 stroke images: MNIST-sized
    // visible layer, exact log Z over 2^20 hidden states. Default schedule, 100 runs, two seeds
    // (about 5 s each: the 784 visible units dominate the cost).
    Rng rng{7};
    const Matrix images = testing::stroke_images(2000, rng);
    Rbm rbm(784, 20);
    rbm.init_random(rng, 0.01f);
    testing::train_cd1(rbm, images, 500, 100, 0.1f, rng);
    const double log_z = exact_log_partition(rbm);
    for (std::uint64_t seed = 1; seed <= 2; ++seed) {
        const AisResult r = Ais(config(seed)).estimate(rbm, images);
        expect_close_to_exact(r, log_z, "seed " + std::to_string(seed));
    }
}

TEST(Ais, GaussianVisibleUnitsWithinThreeStandardErrorsOfExact) {
    // 16 Gaussian visible units (sigma 0.5 to 2) x 12 hidden, trained with CD-1 on noisy,
    // scaled bars-and-stripes; exact log Z integrates v out and enumerates h.
    Rng rng{11};
    const Matrix patterns = testing::bars_and_stripes(4);
    Matrix data = Matrix::from_shape({600, 16});
    Rbm rbm(16, 12, UnitType::gaussian);
    for (std::size_t i = 0; i < 16; ++i) rbm.visible_sigma()(i) = 0.5f + 1.5f * i / 15.0f;
    for (std::size_t r = 0; r < data.shape(0); ++r) {
        const std::size_t p = rng.below(patterns.shape(0));
        for (std::size_t i = 0; i < 16; ++i)
            data(r, i) = 2.0f * patterns(p, i) + rbm.visible_sigma()(i) * float(rng.normal());
    }
    rng.fill_normal(rbm.weights().data(), rbm.weights().size());
    rbm.weights() *= 0.1f;
    testing::train_cd1(rbm, data, 3000, 50, 0.01f, rng);
    const double log_z = exact_log_partition(rbm);
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const AisResult r = Ais(config(seed)).estimate(rbm, data);
        expect_close_to_exact(r, log_z, "seed " + std::to_string(seed));
    }
}

TEST(Ais, SameSeedGivesIdenticalResult) {
    const auto& m = bars_and_stripes_model();
    const Ais ais(config(9, k_ais_quick_steps));
    const AisResult a = ais.estimate(m.rbm, m.data);
    const AisResult b = ais.estimate(m.rbm, m.data);
    // Same seed, same arithmetic: bit for bit (so == is the property, not a tolerance).
    ASSERT_EQ(a.log_weights.size(), b.log_weights.size());
    for (std::size_t i = 0; i < a.log_weights.size(); ++i)
        EXPECT_EQ(a.log_weights[i], b.log_weights[i]) << i;
    EXPECT_EQ(a.log_z, b.log_z);
    EXPECT_EQ(a.log_z_low, b.log_z_low);
    EXPECT_EQ(a.log_z_high, b.log_z_high);
}

TEST(Ais, ThreadCountDoesNotChangeTheResult) {
    // 100 runs are two groups, each annealed alone with single-threaded products, so one thread
    // or two (or four, more than there are groups) make the same arithmetic: bit for bit.
    const auto& m = bars_and_stripes_model();
    const Ais ais(config(5, k_ais_quick_steps));
    ASSERT_EQ(ais_groups(ais.config().runs), 2u);
    const int saved = blas::num_threads();
    std::vector<AisResult> results;
    for (int threads : {1, 2, 4}) {
        blas::set_num_threads(threads);
        results.push_back(ais.estimate(m.rbm, m.data));
    }
    blas::set_num_threads(saved);
    for (std::size_t t = 1; t < results.size(); ++t) {
        ASSERT_EQ(results[t].log_weights.size(), results[0].log_weights.size());
        for (std::size_t i = 0; i < results[0].log_weights.size(); ++i)
            EXPECT_EQ(results[t].log_weights[i], results[0].log_weights[i]) << t << " " << i;
    }
}

TEST(Ais, FirstGroupMakesTheDrawsOfASingleGroupRun) {
    // Group 0 of a 100-run estimate draws from Rng(seed) itself, as a 50-run (one-group)
    // estimate does: its 50 log weights are those of the smaller run, bit for bit.
    const auto& m = bars_and_stripes_model();
    const int saved = blas::num_threads();
    blas::set_num_threads(1);
    const AisResult all = Ais(config(6, k_ais_quick_steps, 100)).estimate(m.rbm, m.data);
    const AisResult half = Ais(config(6, k_ais_quick_steps, 50)).estimate(m.rbm, m.data);
    blas::set_num_threads(saved);
    ASSERT_EQ(half.log_weights.size(), 50u);
    for (std::size_t i = 0; i < 50; ++i) EXPECT_EQ(all.log_weights[i], half.log_weights[i]) << i;
    // The second group has a stream of its own.
    EXPECT_NE(all.log_weights[50], half.log_weights[0]);
}

TEST(Ais, DifferentSeedsGiveDifferentLogWeights) {
    const auto& m = bars_and_stripes_model();
    const AisResult a = Ais(config(1, k_ais_quick_steps)).estimate(m.rbm, m.data);
    const AisResult b = Ais(config(2, k_ais_quick_steps)).estimate(m.rbm, m.data);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < a.log_weights.size(); ++i)
        differ += std::abs(a.log_weights[i] - b.log_weights[i]) > 1e-6 ? 1 : 0;
    // Independent runs: continuous log weights, so every pair differs.
    EXPECT_EQ(differ, a.log_weights.size());
    EXPECT_NE(a.log_z, b.log_z);
}

TEST(Ais, ResultFieldsAreConsistent) {
    const auto& m = bars_and_stripes_model();
    const AisResult r = Ais(config(4, k_ais_quick_steps, 50)).estimate(m.rbm, m.data);
    EXPECT_EQ(r.runs, 50u);
    EXPECT_EQ(r.steps, k_ais_quick_steps);
    ASSERT_EQ(r.log_weights.size(), 50u);
    // log Z = log Z_base + log mean w; ESS = (sum w)^2 / sum w^2 in [1, M].
    const double lse = logsumexp(r.log_weights.begin(), r.log_weights.end());
    EXPECT_NEAR(r.log_z, r.log_z_base + lse - std::log(50.0), k_abs_tol_sum * std::abs(r.log_z));
    std::vector<double> twice(r.log_weights);
    for (auto& x : twice) x *= 2.0;
    const double ess = std::exp(2.0 * lse - logsumexp(twice.begin(), twice.end()));
    EXPECT_NEAR(r.ess, ess, 1e-9 * ess);
    EXPECT_GE(r.ess, 1.0);
    EXPECT_LE(r.ess, 50.0);
    EXPECT_LE(r.log_z_low, r.log_z);
    EXPECT_GE(r.log_z_high, r.log_z);
    Rbm base(16, 20);
    base.visible_bias() = base_rate_bias(m.rbm, m.data);
    EXPECT_NEAR(r.log_z_base, exact_log_partition(base), 1e-9);
}

TEST(Ais, IntervalIsOpenOnBothSidesBelowTenEffectiveRuns) {
    // Two runs on a hard model with a handful of steps: the weights differ by orders of
    // magnitude, so mean - 3 se < 0 and the ESS is below 2; with so few effective runs
    // mean + 3 se bounds nothing either (k_ais_min_ess), and the interval is open on both sides.
    const auto& m = bars_and_stripes_model();
    const AisResult r = Ais(config(1, 3, 2)).estimate(m.rbm, m.data);
    ASSERT_LT(r.ess, k_ais_min_ess);
    EXPECT_TRUE(std::isfinite(r.log_z));
    EXPECT_EQ(r.log_z_low, -std::numeric_limits<double>::infinity());
    EXPECT_EQ(r.log_z_high, std::numeric_limits<double>::infinity());
    // Runs long enough to keep their weights even close it again: 100 runs of 1,000 steps.
    const AisResult many = Ais(config(1, 1000, 100)).estimate(m.rbm, m.data);
    ASSERT_GE(many.ess, k_ais_min_ess);
    EXPECT_TRUE(std::isfinite(many.log_z_low));
    EXPECT_TRUE(std::isfinite(many.log_z_high));
}

TEST(Ais, RefusesRectifiedHiddenUnits) {
    Rbm rbm(4, 3, UnitType::bernoulli, UnitType::relu);
    Matrix data = Matrix::from_shape({2, 4});
    data.fill(0.5f);
    try {
        Ais(config(1, 10)).estimate(rbm, data);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("relu"), std::string::npos) << e.what();
    }
}

TEST(Ais, RejectsBadSettingsAndData) {
    EXPECT_THROW(Ais(config(1, k_ais_default_steps, 1)), ConfigError);
    EXPECT_THROW(Ais(config(1, 2)), ConfigError);
    AisConfig c;
    c.base_rate_clip = 0.5;
    EXPECT_THROW(Ais{c}, ConfigError);
    Rbm rbm(4, 3);
    EXPECT_THROW(Ais(config(1, 10)).estimate(rbm, Matrix::from_shape({3, 5})), ShapeError);
    EXPECT_THROW(Ais(config(1, 10)).estimate_from_base(rbm, Vector::from_shape({3})), ShapeError);
    rbm.hidden_bias()(0) = std::numeric_limits<float>::infinity();
    EXPECT_THROW(Ais(config(1, 10)).estimate(rbm, Matrix::from_shape({3, 4})), NumericalError);
}

}  // namespace
}  // namespace dbn::estimate
