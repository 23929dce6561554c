#include "dbn/estimate/consistency.hpp"
#include "dbn/estimate/stack_evaluation.hpp"

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/data/bars_stripes.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "support/helpers.hpp"

namespace dbn {
namespace {

using estimate::LayerLogZ;
using estimate::LogZMethod;
using estimate::LogZOptions;

using testing::random_binary;

estimate::StackEvaluationOptions options(LogZMethod method) {
    estimate::StackEvaluationOptions opt;
    opt.log_z.method = method;
    return opt;
}

std::vector<LayerLogZ> all_log_z(const Dbn& m, const Matrix& raw, LogZMethod method) {
    const auto inputs = estimate::layer_inputs(m, raw);
    estimate::StackEvaluator ev(options(method));
    for (std::size_t k = 0; k < m.n_layers(); ++k) ev.add_log_z(m, k, inputs[k]);
    return ev.log_z();
}

std::vector<estimate::ConsistencyCheck> all_checks(const Dbn& m, const Matrix& raw,
                                                   LogZMethod method, Rng& rng) {
    return estimate::evaluate_stack(m, raw, options(method), rng).checks;
}

// Layer 1 = layer 0 turned over: G_0(q) and F_1(q) are the same function, computed through
// W and W^T respectively, so dF vanishes up to float rounding of the activations (|G| ~ 10 here,
// float epsilon 1.2e-7 times a few terms: 1e-4 is generous) and dlogZ vanishes up to the
// double rounding of two enumerations over the same 2^8 states.
TEST(ConsistencyCheck, VerdictSeparatesPassedFailedAndOpenIntervals) {
    const double inf = std::numeric_limits<double>::infinity();
    estimate::ConsistencyCheck c;
    c.applicable = true;
    c.bound_change = 2.0, c.bound_change_low = 1.0, c.bound_change_high = 3.0;
    EXPECT_STREQ(estimate::check_verdict(c), "passed");
    c.bound_change = -1.0, c.bound_change_low = -2.0, c.bound_change_high = 0.5;
    EXPECT_STREQ(estimate::check_verdict(c), "passed (D < 0 within its interval)");
    // An AIS interval open below (mean - 3 s.e. <= 0) opens D's interval above: not a pass.
    c.bound_change = -103.8, c.bound_change_low = -104.9, c.bound_change_high = inf;
    EXPECT_STREQ(estimate::check_verdict(c),
                 "inconclusive (AIS interval open: more AIS runs or steps)");
    // A positive D whose interval is open below (an upper layer's AIS with fewer than ten
    // effective runs, say) has shown nothing either; open above but entirely above zero, it has.
    c.bound_change = 88.9, c.bound_change_low = -inf, c.bound_change_high = inf;
    EXPECT_STREQ(estimate::check_verdict(c),
                 "inconclusive (AIS interval open: more AIS runs or steps)");
    c.bound_change_low = 87.7;
    EXPECT_STREQ(estimate::check_verdict(c), "passed");
    c.bound_change_low = -0.5;
    EXPECT_STREQ(estimate::check_verdict(c),
                 "inconclusive (AIS interval open: more AIS runs or steps)");
    c.passed = false, c.bound_change = -103.8, c.bound_change_low = -104.9,
    c.bound_change_high = -100.0;
    EXPECT_STREQ(estimate::check_verdict(c), "FAILED");
}

TEST(ConsistencyCheck, TurnedOverLayerPreservesTheFreeEnergy) {
    Rng rng{1};
    Dbn m;
    m.layers.push_back(testing::random_rbm(10, 8, rng, 0.7f));
    m.layers.push_back(m.layers[0].turned_over());
    const Matrix data = random_binary(500, 10, 2);
    Rng sample_rng{3};
    const estimate::StackEvaluation ev =
        estimate::evaluate_stack(m, data, options(LogZMethod::exact), sample_rng);
    ASSERT_EQ(ev.log_z[0].method, "exact");
    const auto& checks = ev.checks;
    ASSERT_EQ(checks.size(), 1u);
    const auto& c = checks[0];
    EXPECT_TRUE(c.applicable);
    EXPECT_FALSE(c.diagnostic);
    EXPECT_NEAR(c.free_energy_gap, 0.0, 1e-4);
    EXPECT_NEAR(c.delta_log_z, 0.0, 1e-10);
    EXPECT_NEAR(c.bound_change, 0.0, 1e-4);
    EXPECT_TRUE(c.passed);
}

// With the turned-over layer on top, the DBN is the RBM of layer 0 and the approximate posterior
// Q(h|v) is its exact posterior: every sample of log p(v, h) - log Q(h|v) equals log p(v), so the
// bound equals the exact mean log-likelihood with no sampling noise (float rounding only;
// a wrong term would show as noise of order 0.1 nats with these 300 rows).
TEST(DbnLowerBound, EqualsTheLikelihoodWhenTheTopIsTheTurnedOverLayer) {
    Rng rng{4};
    Dbn m;
    m.layers.push_back(testing::random_rbm(10, 8, rng, 0.7f));
    m.layers.push_back(m.layers[0].turned_over());
    const Matrix data = random_binary(300, 10, 5);
    const auto z = all_log_z(m, data, LogZMethod::exact);
    Rng sample_rng{6};
    const auto b = estimate::dbn_lower_bound(m, data, z[1], sample_rng);
    ASSERT_TRUE(b.available) << b.note;
    const auto ll = estimate::mean_log_likelihood(m.layers[0], data, z[0].log_z);
    EXPECT_NEAR(b.value, ll.mean, 1e-4);
    // Other samples of Q give the same value: there is no sampling noise to average out.
    Rng other_rng{600};
    EXPECT_NEAR(estimate::dbn_lower_bound(m, data, z[1], other_rng).value, b.value, 1e-4);
}

// A small stack trained on bars-and-stripes: exact log Z is cheap for both layers (12 and 10
// enumerated units), so D computed through AIS (default schedule, 100 runs) must agree with
// the exact D within the AIS interval (and within 0.5 nats, the issue's bar for log Z).
TEST(ConsistencyCheck, AisAgreesWithExactOnASmallStack) {
    DbnConfig cfg = parse_dbn_config(R"({"seed": 11, "heldout_fraction": 0,
        "input": {"scale": 1},
        "defaults": {"epochs": 200, "batch_size": 10, "learning_rate": 0.05, "algorithm": "pcd"},
        "layers": [{"hidden": 12}, {"hidden": 10}]})",
                                     "stack.json");
    data::Dataset d;
    d.x = data::bars_and_stripes(4);
    const Dbn m = GreedyTrainer(cfg).train(d).stack;
    const auto exact = all_log_z(m, d.x, LogZMethod::exact);
    const auto ais = all_log_z(m, d.x, LogZMethod::ais);
    Rng r1{7}, r2{7};  // the same samples q for both
    const auto ce = all_checks(m, d.x, LogZMethod::exact, r1)[0];
    const auto ca = all_checks(m, d.x, LogZMethod::ais, r2)[0];
    EXPECT_EQ(ce.free_energy_gap, ca.free_energy_gap);
    EXPECT_LE(ca.bound_change_low, ce.bound_change);
    EXPECT_GE(ca.bound_change_high, ce.bound_change);
    EXPECT_NEAR(ca.bound_change, ce.bound_change, 0.5);
    for (std::size_t k = 0; k < 2; ++k) {
        EXPECT_LE(ais[k].log_z.low, exact[k].log_z.value) << "layer " << k;
        EXPECT_GE(ais[k].log_z.high, exact[k].log_z.value) << "layer " << k;
    }
}

// The evaluator run a layer at a time (as pretraining does) gives the records of the whole-stack
// evaluation (as `dbn eval` does), bit for bit; adding a layer again drops what lay above it.
TEST(StackEvaluator, IncrementalUseGivesTheWholeStackEvaluation) {
    Rng rng{21};
    Dbn m;
    m.layers.push_back(testing::random_rbm(10, 8, rng, 0.7f));
    m.layers.push_back(testing::random_rbm(8, 6, rng, 0.7f));
    m.layers.push_back(testing::random_rbm(6, 5, rng, 0.7f));
    const Matrix data = random_binary(200, 10, 22);
    Rng whole_rng{23};
    const estimate::StackEvaluation whole =
        estimate::evaluate_stack(m, data, options(LogZMethod::automatic), whole_rng);

    estimate::StackEvaluator ev(options(LogZMethod::automatic));
    Rng rng_step{23};
    const auto inputs = estimate::layer_inputs(m, data);
    for (std::size_t k = 0; k < m.n_layers(); ++k) {
        ev.add_log_z(m, k, inputs[k]);
        if (k > 0) ev.add_check(m, k - 1, Matrix(inputs[k - 1]), rng_step);
    }
    ASSERT_EQ(ev.log_z().size(), 3u);
    ASSERT_EQ(ev.checks().size(), 2u);
    for (std::size_t k = 0; k < 3; ++k)
        EXPECT_EQ(ev.log_z()[k].log_z.value, whole.log_z[k].log_z.value) << k;
    for (std::size_t k = 0; k < 2; ++k) {
        EXPECT_EQ(ev.checks()[k].free_energy_gap, whole.checks[k].free_energy_gap) << k;
        EXPECT_EQ(ev.checks()[k].bound_change_low, whole.checks[k].bound_change_low) << k;
        EXPECT_EQ(ev.checks()[k].samples, 200u);
    }
    EXPECT_EQ(ev.all_passed(), whole.checks[0].passed && whole.checks[1].passed);
    ASSERT_TRUE(whole.likelihood && whole.bound);
    EXPECT_EQ(whole.rows, 200u);
    EXPECT_TRUE(whole.binary);

    ev.add_log_z(m, 1, inputs[1]);  // layer 1 again: the records of layers 1, 2 and above go
    EXPECT_EQ(ev.log_z().size(), 2u);
    EXPECT_EQ(ev.checks().size(), 0u);
}

TEST(StackEvaluator, DeltaLogZCarriesBothIntervalsAndReluIsNotApplicable) {
    LayerLogZ a, b;
    a.available = b.available = true;
    a.index = 0, b.index = 1;
    a.log_z = {10.0, 9.5, 10.25};
    b.log_z = {12.0, 11.0, 12.5};
    const estimate::DeltaLogZ d = estimate::delta_log_z(a, b);
    EXPECT_EQ(d.value, 2.0);
    EXPECT_EQ(d.low, 11.0 - 10.25);
    EXPECT_EQ(d.high, 12.5 - 9.5);
    b.available = false;
    EXPECT_THROW(estimate::delta_log_z(a, b), ConfigError);

    Rng rng{31};
    Dbn m;
    m.layers.push_back(testing::random_rbm(6, 5, rng, 0.5f, UnitType::bernoulli, UnitType::relu));
    m.layers.push_back(testing::random_rbm(5, 4, rng, 0.5f, UnitType::gaussian));
    m.layers[1].visible_sigma().fill(1.0f);
    Rng sample_rng{32};
    const auto ev = estimate::evaluate_stack(m, random_binary(40, 6, 33),
                                             options(LogZMethod::exact), sample_rng);
    EXPECT_FALSE(ev.log_z[0].available);
    ASSERT_EQ(ev.checks.size(), 1u);
    EXPECT_FALSE(ev.checks[0].applicable);
    EXPECT_EQ(ev.checks[0].samples, 0u);
    EXPECT_NE(ev.checks[0].note.find("Bernoulli hidden units only"), std::string::npos);
    EXPECT_FALSE(ev.likelihood);
}

}  // namespace
}  // namespace dbn
