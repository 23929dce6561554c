#include "dbn/estimate/consistency.hpp"

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "dbn/data/bars_stripes.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "dbn/pretrain/pretrain_checks.hpp"
#include "dbn/io/model_io.hpp"
#include "support/helpers.hpp"

namespace dbn {
namespace {

using estimate::LayerLogZ;
using estimate::LogZOptions;
using estimate::LogZMethod;

Matrix random_binary(std::size_t n, std::size_t d, std::uint64_t seed) {
    Rng rng{seed};
    Matrix p = Matrix::from_shape({n, d});
    p.fill(0.4f);
    Matrix m = Matrix::from_shape({n, d});
    rng.bernoulli(p.data(), m.data(), m.size());
    return m;
}

std::vector<LayerLogZ> all_log_z(const Dbn& m, const Matrix& raw, LogZMethod method,
                                 std::size_t ais_steps = estimate::k_ais_default_steps) {
    LogZOptions opt;
    opt.method = method;
    opt.ais.steps = ais_steps;
    const auto inputs = estimate::layer_inputs(m, raw);
    std::vector<LayerLogZ> z;
    for (std::size_t k = 0; k < m.n_layers(); ++k)
        z.push_back(estimate::layer_log_partition(m, k, inputs[k], opt));
    return z;
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
    c.passed = false, c.bound_change_high = -100.0;
    EXPECT_STREQ(estimate::check_verdict(c), "FAILED");
}

TEST(ConsistencyCheck, TurnedOverLayerPreservesTheFreeEnergy) {
    Rng rng{1};
    Dbn m;
    m.layers.push_back(testing::random_rbm(10, 8, rng, 0.7f));
    m.layers.push_back(m.layers[0].turned_over());
    const Matrix data = random_binary(500, 10, 2);
    const auto z = all_log_z(m, data, LogZMethod::exact);
    ASSERT_EQ(z[0].method, "exact");
    Rng sample_rng{3};
    const auto checks = estimate::consistency_checks(m, data, z, sample_rng);
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
    const auto ce = estimate::consistency_checks(m, d.x, exact, r1)[0];
    const auto ca = estimate::consistency_checks(m, d.x, ais, r2)[0];
    EXPECT_EQ(ce.free_energy_gap, ca.free_energy_gap);
    EXPECT_LE(ca.bound_change_low, ce.bound_change);
    EXPECT_GE(ca.bound_change_high, ce.bound_change);
    EXPECT_NEAR(ca.bound_change, ce.bound_change, 0.5);
    for (std::size_t k = 0; k < 2; ++k) {
        EXPECT_LE(ais[k].log_z.low, exact[k].log_z.value) << "layer " << k;
        EXPECT_GE(ais[k].log_z.high, exact[k].log_z.value) << "layer " << k;
    }
}

// Greedy training of layer 1 from layer 0 turned over (D = 0 at the start) with the exact
// gradient of the likelihood of layer 0's hidden samples raises their log-probability: D >= 0
// within its interval (here exact, so simply D >= 0). The samples of the check differ from the
// training samples, so D is an honest held-out figure.
TEST(ConsistencyCheck, GreedyTrainingFromTheTurnedOverLayerDoesNotLowerTheBound) {
    DbnConfig cfg = parse_dbn_config(R"({"seed": 12, "heldout_fraction": 0,
        "input": {"scale": 1},
        "checks": {"log_z": "exact"},
        "defaults": {"batch_size": 10, "learning_rate": 0.05},
        "layers": [{"hidden": 12, "algorithm": "pcd", "epochs": 300, "sample_up": true},
                   {"hidden": 16, "init": "turned_over", "algorithm": "exact", "epochs": 50,
                    "initial_momentum": 0, "final_momentum": 0, "weight_decay": 0}]})",
                                     "turned.json");
    data::Dataset d;
    d.x = data::bars_and_stripes(4);
    data::Dataset check = d;
    GreedyTrainer trainer(cfg);
    PretrainChecks checks(cfg.checks, nullptr);
    trainer.set_after_layer(std::ref(checks));
    const ModelFile m = trainer.train(d, &check);
    ASSERT_EQ(m.checks.size(), 1u);
    const auto& c = m.checks[0];
    RecordProperty("bound_change", std::to_string(c.bound_change));
    EXPECT_EQ(m.log_z[0].method, "exact");
    EXPECT_GE(c.bound_change, 0.0) << "dF " << c.free_energy_gap << " dlogZ " << c.delta_log_z;
    EXPECT_TRUE(c.passed);
    EXPECT_TRUE(checks.all_passed());
}

TEST(ConsistencyCheck, AHookMakesTheCheckDiagnosticAndChecksAreSaved) {
    DbnConfig cfg = parse_dbn_config(R"({"seed": 13, "heldout_fraction": 0.2,
        "input": {"scale": 1},
        "defaults": {"batch_size": 10, "learning_rate": 0.05, "epochs": 20},
        "layers": [{"hidden": 12, "hook": "standardize"}, {"hidden": 8}]})",
                                     "hooked.json");
    data::Dataset d;
    d.x = random_binary(200, 16, 14);
    GreedyTrainer trainer(cfg);
    PretrainChecks checks(cfg.checks, nullptr);
    trainer.set_after_layer(std::ref(checks));
    const ModelFile m = trainer.train(d);
    ASSERT_EQ(m.log_z.size(), 2u);
    ASSERT_EQ(m.checks.size(), 1u);
    EXPECT_TRUE(m.checks[0].applicable);
    EXPECT_TRUE(m.checks[0].diagnostic);
    EXPECT_NE(m.checks[0].note.find("standardize"), std::string::npos) << m.checks[0].note;

    const std::string path = testing::temp_path("checks.h5");
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    io::save_model(m, path);
    const ModelFile back = io::load_model(path);
    std::filesystem::remove(path);
    ASSERT_EQ(back.checks.size(), 1u);
    ASSERT_EQ(back.log_z.size(), 2u);
    EXPECT_EQ(back.checks[0].bound_change, m.checks[0].bound_change);
    EXPECT_EQ(back.checks[0].bound_change_high, m.checks[0].bound_change_high);
    EXPECT_EQ(back.checks[0].diagnostic, true);
    EXPECT_EQ(back.checks[0].note, m.checks[0].note);
    EXPECT_EQ(back.log_z[1].log_z.value, m.log_z[1].log_z.value);
    EXPECT_EQ(back.log_z[1].method, m.log_z[1].method);
}

TEST(ConsistencyCheck, ReluLayersAreReportedAsNotApplicable) {
    DbnConfig cfg = parse_dbn_config(R"({"seed": 15, "heldout_fraction": 0.2,
        "input": {"scale": 1},
        "defaults": {"batch_size": 10, "learning_rate": 0.01, "epochs": 3},
        "layers": [{"hidden": 12, "hidden_units": "relu"}, {"hidden": 8}]})",
                                     "relu.json");
    data::Dataset d;
    d.x = random_binary(100, 16, 16);
    GreedyTrainer trainer(cfg);
    PretrainChecks checks(cfg.checks, nullptr);
    trainer.set_after_layer(std::ref(checks));
    const ModelFile m = trainer.train(d);
    ASSERT_EQ(m.checks.size(), 1u);
    EXPECT_FALSE(m.checks[0].applicable);
    EXPECT_FALSE(m.log_z[0].available);
    EXPECT_NE(m.checks[0].note.find("Bernoulli hidden units only"), std::string::npos);
}

}  // namespace
}  // namespace dbn
