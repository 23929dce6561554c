// The consistency checks run during pretraining (PretrainChecks): what they record in the model
// file, with hooks and relu units, and that they are the stack evaluation of `dbn eval`.
#include "dbn/pretrain/pretrain_checks.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/data/bars_stripes.hpp"
#include "dbn/estimate/stack_evaluation.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "support/helpers.hpp"

namespace dbn {
namespace {

using testing::random_binary;

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

// The checks recorded by pretraining are those of the stack evaluation run by hand on the check
// set with the same settings (AIS seeded per layer), to the bit.
TEST(PretrainChecks, RecordWhatTheStackEvaluatorComputes) {
    DbnConfig cfg = parse_dbn_config(R"({"seed": 17, "heldout_fraction": 0,
        "input": {"scale": 1},
        "checks": {"log_z": "ais", "ais_runs": 8, "ais_steps": 50, "seed": 5},
        "defaults": {"batch_size": 10, "learning_rate": 0.05, "epochs": 3},
        "layers": [{"hidden": 10}, {"hidden": 8}, {"hidden": 6}]})",
                                     "eval.json");
    data::Dataset d;
    d.x = random_binary(120, 12, 18);
    const data::Dataset check = d;
    GreedyTrainer trainer(cfg);
    PretrainChecks checks(cfg.checks, nullptr);
    trainer.set_after_layer(std::ref(checks));
    const ModelFile m = trainer.train(d, &check);
    ASSERT_EQ(m.log_z.size(), 3u);
    ASSERT_EQ(m.checks.size(), 2u);

    Rng rng(cfg.checks.seed);
    estimate::StackEvaluator ev(PretrainChecks::evaluation_options(cfg.checks));
    const auto inputs = estimate::layer_inputs(m.stack, check.x);
    for (std::size_t k = 0; k < 3; ++k) {
        ev.add_log_z(m.stack, k, inputs[k]);
        if (k > 0) ev.add_check(m.stack, k - 1, inputs[k - 1], rng);
    }
    for (std::size_t k = 0; k < 3; ++k) {
        EXPECT_EQ(ev.log_z()[k].log_z.value, m.log_z[k].log_z.value) << k;
        EXPECT_EQ(ev.log_z()[k].ess, m.log_z[k].ess) << k;
    }
    for (std::size_t k = 0; k < 2; ++k) {
        EXPECT_EQ(ev.checks()[k].free_energy_gap, m.checks[k].free_energy_gap) << k;
        EXPECT_EQ(ev.checks()[k].bound_change, m.checks[k].bound_change) << k;
    }
    EXPECT_EQ(checks.all_passed(), ev.all_passed());
}

}  // namespace
}  // namespace dbn
