#include "dbn/estimate/parameter_path_ais.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/estimate/ais.hpp"
#include "dbn/estimate/exact_log_partition.hpp"
#include "estimate/stacks.hpp"
#include "support/helpers.hpp"

namespace dbn::estimate {
namespace {

using namespace stacks;

/// On the close stack (20-16-24, KL 0.27 nats either way) 2,000 temperatures and 100 exact
/// start samples give half-widths 0.02-0.04 nats; errors over 20 seeds were at most 0.03.
constexpr double k_max_error_close = 0.08;
/// Two unrelated random 12-10 RBMs (log Z differ by ~6 nats, weights N(0, 0.5^2)): half-widths
/// 0.05-0.1 nats with 2,000 temperatures; errors seen at most 0.06.
constexpr double k_max_error_random = 0.2;

ParameterPathConfig config(std::uint64_t seed, std::size_t steps = 2000) {
    ParameterPathConfig c;
    c.seed = seed;
    c.steps = steps;
    return c;
}

template <class R>
void expect_covers(const R& r, double value, double low, double high, double exact,
                   double max_error, const std::string& what) {
    EXPECT_LE(low, exact) << what << ": " << value << " ess " << r.ess;
    EXPECT_GE(high, exact) << what << ": " << value << " ess " << r.ess;
    EXPECT_NEAR(value, exact, max_error) << what;
}

TEST(ParameterPathAis, MatchesExactLogRatioOfTwoRandomRbms) {
    Rng rng{21};
    const Rbm from = testing::random_rbm(12, 10, rng, 0.5f);
    const Rbm to = testing::random_rbm(12, 10, rng, 0.5f);
    const double exact = exact_log_partition(to) - exact_log_partition(from);
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const Matrix start = exact_visible_samples(from, 100, rng);
        const ParameterPathResult r = ParameterPathAis(config(seed)).estimate(from, to, start);
        EXPECT_EQ(r.steps, 2000u);
        EXPECT_EQ(r.runs, 100u);
        expect_covers(r, r.log_ratio, r.low, r.high, exact, k_max_error_random,
                      "seed " + std::to_string(seed));
    }
}

// abandon_below_ess: a path of only 20 steps between an RBM and its mirror image ends with an
// ESS below 30 of 100 runs; with 30 as the threshold it stops at a checkpoint before the end
// (every step from 10% on, for so short a path) with an open interval and no final states;
// a threshold it never reaches changes nothing, bit for bit; a path that keeps its weights (the
// close stack's, 2,000 steps) is not abandoned with the checks' threshold.
TEST(ParameterPathAis, AbandonsAPathWhoseWeightsCollapse) {
    Rng rng{25};
    const Rbm from = testing::random_rbm(20, 16, rng, 1.0f);
    Rbm to = from;  // the mirror image: v -> 1 - v moves every mode of `from` to where it has none
    to.weights() *= -1.0f;
    to.visible_bias() *= -1.0f;
    const Matrix start = exact_visible_samples(from, 100, rng);
    ParameterPathConfig c = config(4, 20);
    const ParameterPathResult whole = ParameterPathAis(c).estimate(from, to, start);
    ASSERT_LT(whole.ess, 30.0) << "the pair should be far apart";
    EXPECT_FALSE(whole.abandoned);
    EXPECT_EQ(whole.steps, 20u);
    c.abandon_below_ess = 30.0;
    const ParameterPathResult cut = ParameterPathAis(c).estimate(from, to, start);
    EXPECT_TRUE(cut.abandoned);
    EXPECT_GE(cut.steps, 2u);
    EXPECT_LT(cut.steps, 20u);
    EXPECT_EQ(cut.low, -std::numeric_limits<double>::infinity());
    EXPECT_EQ(cut.high, std::numeric_limits<double>::infinity());
    EXPECT_EQ(cut.final_visible.shape(0), 0u);
    EXPECT_TRUE(cut.final_log_weights.empty());
    c.abandon_below_ess = 1e-9;  // never reached: the same answer as without it
    const ParameterPathResult kept = ParameterPathAis(c).estimate(from, to, start);
    EXPECT_FALSE(kept.abandoned);
    EXPECT_EQ(kept.log_ratio, whole.log_ratio);

    const CloseStack& s = close_stack();
    ParameterPathConfig close = config(5);
    close.abandon_below_ess = k_path_abandon_ess;
    const TurnedOverPath t =
        turned_over_path(s.lower, s.upper, exact_visible_samples(s.lower, 100, rng), {}, close);
    EXPECT_FALSE(t.path.abandoned);
    EXPECT_TRUE(std::isfinite(t.low()) && std::isfinite(t.high()));
}

TEST(ParameterPathAis, TurnedOverPathMatchesExactOnTheWidenedTurnedOverStack) {
    // The use it is made for: layer 1 started as layer 0 widened and turned over, then trained,
    // which moved dlogZ from its start value 4.11 to 5.23.
    const CloseStack& s = close_stack();
    ASSERT_TRUE(turned_over_path_applies(s.lower, s.upper));
    ASSERT_GT(std::abs(s.exact - s.start_value), 0.2) << s.exact;
    double extra = 0.0;  // the reference's closed-form part, from the trained extra biases
    for (std::size_t j = 20; j < 24; ++j) extra += softplus(double(s.upper.hidden_bias()(j)));
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        Rng rng{500 + seed};
        const Matrix start = exact_visible_samples(s.lower, 100, rng);
        const TurnedOverPath t = turned_over_path(s.lower, s.upper, start, {}, config(seed));
        EXPECT_NEAR(t.exact_part, extra, k_exact_tol);
        expect_covers(t.path, t.value(), t.low(), t.high(), s.exact, k_max_error_close,
                      "seed " + std::to_string(seed));
    }
}

TEST(ParameterPathAis, IntervalHoldsTheExactValueInAtLeast18Of20Seeds) {
    // 20 seeds with different exact start samples and streams: 20 of 20 were seen.
    const CloseStack& s = close_stack();
    int held = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        Rng rng{600 + seed};
        const Matrix start = exact_visible_samples(s.lower, 100, rng);
        const TurnedOverPath t = turned_over_path(s.lower, s.upper, start, {}, config(seed));
        held += t.low() <= s.exact && s.exact <= t.high() ? 1 : 0;
    }
    EXPECT_GE(held, 18);
}

TEST(ParameterPathAis, ChainsFromAnAisRunOfTheLowerLayer) {
    // As the stack evaluation uses it: AIS of layer 0 with its final states and weights, then
    // the path from there. The result covers the exact dlogZ, whatever AIS's own error.
    const CloseStack& s = close_stack();
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        AisConfig ac;
        ac.seed = seed;
        ac.keep_final_states = true;
        Rng rng{700 + seed};
        const Matrix base_data = exact_visible_samples(s.lower, 200, rng);
        const AisResult a0 = Ais(ac).estimate(s.lower, base_data);
        const TurnedOverPath t =
            turned_over_path(s.lower, s.upper, a0.final_states, a0.log_weights, config(seed));
        expect_covers(t.path, t.value(), t.low(), t.high(), s.exact, k_max_error_close,
                      "seed " + std::to_string(seed));
    }
}

TEST(ParameterPathAis, TurnedOverAndWidenedTurnedOverLayersAreExact) {
    const Rbm& lower = close_stack().lower;
    Vector extra = Vector::from_shape({4});
    extra(0) = -1.5f;
    extra(1) = 0.0f;
    extra(2) = 0.75f;
    extra(3) = 3.0f;
    double widened = 0.0;
    for (float c : extra) widened += softplus(static_cast<double>(c));
    Rng rng{9};
    const Matrix start = exact_visible_samples(lower, 60, rng);
    std::vector<double> start_w(60);
    for (auto& w : start_w) w = 2.0 * rng.normal();
    for (const auto& [upper, expected] :
         {std::pair<Rbm, double>{lower.turned_over(), 0.0},
          std::pair<Rbm, double>{lower.widened_turned_over(24, extra), widened}}) {
        const TurnedOverPath t = turned_over_path(lower, upper, start, start_w, config(4));
        EXPECT_NEAR(t.value(), expected, k_exact_tol);
        EXPECT_EQ(t.path.log_ratio, 0.0);
        EXPECT_EQ(t.high() - t.low(), 0.0);  // an interval of width exactly 0
        EXPECT_EQ(t.path.final_log_weights, start_w);
        const Matrix q = hidden_samples(lower, start, rng);
        const double d = free_energy_gap(lower, upper, q) - t.value();
        EXPECT_LT(std::abs(d), k_turned_over_gap_tol) << "D = dF - dlogZ = " << d;
    }
}

TEST(ParameterPathAis, TinyExtraWeightsMoveDlogZByLittle) {
    // The start GreedyTrainer gives a wider turned-over layer: extra weights N(0, 1e-3^2). The
    // path then runs (the parameters differ), and its estimate stays within 1e-3 of the exact
    // value (the weights move it by ~1e-5 here; the path's arithmetic, a dt or a bias term
    // wrong, would be off by O(0.1)).
    const Rbm& lower = close_stack().lower;
    Vector extra = Vector::from_shape({4});
    for (std::size_t j = 0; j < 4; ++j) extra(j) = 0.5f * static_cast<float>(j) - 1.0f;
    Rbm upper = lower.widened_turned_over(24, extra);
    Rng rng{10};
    for (std::size_t i = 0; i < 16; ++i)
        for (std::size_t j = 20; j < 24; ++j)
            upper.weights()(i, j) = static_cast<float>(1e-3 * rng.normal());
    const double exact = exact_log_partition(upper) - exact_log_partition(lower);
    const Matrix start = exact_visible_samples(lower, 100, rng);
    const TurnedOverPath t = turned_over_path(lower, upper, start, {}, config(5, 200));
    EXPECT_EQ(t.path.steps, 200u);
    EXPECT_NEAR(t.value(), exact, 1e-3);
    EXPECT_LT(t.high() - t.low(), 1e-2);
}

TEST(ParameterPathAis, SameSeedGivesIdenticalBits) {
    const CloseStack& s = close_stack();
    Rng rng{11};
    const Matrix start = exact_visible_samples(s.lower, 50, rng);
    const TurnedOverPath a = turned_over_path(s.lower, s.upper, start, {}, config(3, 300));
    const TurnedOverPath b = turned_over_path(s.lower, s.upper, start, {}, config(3, 300));
    const TurnedOverPath c = turned_over_path(s.lower, s.upper, start, {}, config(4, 300));
    EXPECT_EQ(a.value(), b.value());
    EXPECT_EQ(a.path.final_log_weights, b.path.final_log_weights);
    EXPECT_NE(a.value(), c.value());
}

TEST(ParameterPathAis, RefusesWhatItCannotEstimate) {
    const FarStack& far = far_stack();  // 16-12-10: the upper layer is narrower than 16
    Rng rng{12};
    const Matrix start = exact_visible_samples(far.lower, 20, rng);
    EXPECT_FALSE(turned_over_path_applies(far.lower, far.upper));
    EXPECT_THROW(turned_over_path(far.lower, far.upper, start, {}, config(1)), ConfigError);
    EXPECT_THROW(ParameterPathAis(config(1, 0)), ConfigError);
    // Different shapes, a start of the wrong width, too few runs, mismatched weights.
    const Rbm a = testing::random_rbm(16, 12, rng, 0.3f), b = testing::random_rbm(16, 10, rng);
    EXPECT_THROW(ParameterPathAis(config(1, 10)).estimate(a, b, start), ShapeError);
    const Matrix narrow = Matrix::from_shape({20, 15});
    EXPECT_THROW(ParameterPathAis(config(1, 10)).estimate(a, a, narrow), ShapeError);
    const Matrix one = Matrix::from_shape({1, 16});
    EXPECT_THROW(ParameterPathAis(config(1, 10)).estimate(a, far.lower, one), ShapeError);
    EXPECT_THROW(ParameterPathAis(config(1, 10)).estimate(a, far.lower, start, {0.0, 1.0}),
                 ShapeError);
    // Rectified hidden units have no parameter path of RBMs here, and NaN parameters are named.
    const Rbm relu = testing::random_rbm(16, 12, rng, 0.3f, UnitType::bernoulli, UnitType::relu);
    EXPECT_THROW(ParameterPathAis(config(1, 10)).estimate(a, relu, start), ConfigError);
    Rbm nan = a;
    nan.weights()(0, 0) = std::nanf("");
    EXPECT_THROW(ParameterPathAis(config(1, 10)).estimate(a, nan, start), NumericalError);
}

}  // namespace
}  // namespace dbn::estimate
