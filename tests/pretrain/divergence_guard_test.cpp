// The divergence guard in greedy pretraining (docs/CONFIG.md#divergence-guard): the layer's
// `max_divergence_events` turns RbmTrainer's guard on; events are recorded in the model (and
// read back from its file); the last event stops with PretrainingDiverged carrying the last
// good model; a run that never diverges is bit-identical with the guard on and off.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/data/bars_stripes.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"

namespace dbn {
namespace {

std::string test_path(const std::string& file) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::filesystem::path dir = std::filesystem::path(DBN_BINARY_DIR) / "test_output" /
                                      "pretrain" /
                                      (std::string(info->test_suite_name()) + "." + info->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return (dir / file).string();
}

data::Dataset bars_and_stripes() {
    data::Dataset d;
    d.source = "bars-and-stripes:4";
    d.x = data::bars_and_stripes(4);
    return d;
}

/// Two latent factors in 8 columns plus noise, times `scale`: real-valued data whose spread is
/// `scale` when not standardized.
data::Dataset factor_data(std::size_t n, double scale, std::uint64_t seed) {
    Rng rng{seed};
    double a[2][8];
    for (auto& row : a)
        for (double& x : row) x = rng.normal();
    data::Dataset d;
    d.source = "factors";
    d.x = Matrix::from_shape({n, 8});
    for (std::size_t r = 0; r < n; ++r) {
        const double z0 = rng.normal(), z1 = rng.normal();
        for (std::size_t c = 0; c < 8; ++c)
            d.x(r, c) =
                static_cast<Real>(scale * (z0 * a[0][c] + z1 * a[1][c] + 0.3 * rng.normal()));
    }
    return d;
}

bool all_finite(const Rbm& r) {
    auto finite = [](const auto& a) {
        for (float x : a)
            if (!std::isfinite(x)) return false;
        return true;
    };
    return finite(r.weights()) && finite(r.visible_bias()) && finite(r.hidden_bias());
}

template <class A>
bool same_bits(const A& a, const A& b) {
    return a.shape() == b.shape() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(Real)) == 0);
}

bool same_parameters(const Rbm& a, const Rbm& b) {
    return same_bits(a.weights(), b.weights()) && same_bits(a.visible_bias(), b.visible_bias()) &&
           same_bits(a.hidden_bias(), b.hidden_bias()) &&
           same_bits(a.visible_sigma(), b.visible_sigma());
}

/// Bernoulli units on bars and stripes; learning_rate * weight_decay far above 2 makes the
/// weights grow geometrically until they overflow (docs/CONFIG.md#divergence-guard).
DbnConfig absurd_rate_config(std::size_t max_events) {
    return parse_dbn_config(R"({"name": "absurd", "seed": 3, "input": {"scale": 1},
        "defaults": {"epochs": 6, "batch_size": 1, "learning_rate": 1e5,
                     "max_divergence_events": )" +
                                std::to_string(max_events) + R"(},
        "layers": [{"hidden": 8}]})",
                            "absurd.json");
}

TEST(DivergenceGuardPretraining, AbsurdLearningRateRollsBackHalvesAndContinues) {
    const ModelFile m = GreedyTrainer(absurd_rate_config(10)).train(bars_and_stripes());
    ASSERT_EQ(m.records.size(), 1u);
    const LayerRecord& rec = m.records[0];
    const auto& ev = rec.divergence_events;
    ASSERT_FALSE(ev.empty()) << "the absurd rate did not diverge";
    EXPECT_LT(ev.size(), 10u);
    EXPECT_FALSE(rec.stopped_by_divergence());
    double lr = 1e5;
    for (const auto& e : ev) {
        EXPECT_EQ(e.layer, 0u);
        EXPECT_GE(e.epoch, 1u);
        EXPECT_LE(e.epoch, 6u);
        EXPECT_EQ(e.learning_rate_before, lr) << e.reason;
        EXPECT_EQ(e.learning_rate_after, lr / 2) << e.reason;
        EXPECT_EQ(e.reason.rfind("non-finite", 0), 0u) << e.reason;
        lr /= 2;
    }
    // Every epoch was trained, the last ones at the halved rate, to a finite model.
    ASSERT_EQ(rec.epochs.size(), 6u);
    EXPECT_EQ(rec.epochs.back().learning_rate, lr);
    for (std::size_t i = 0; i < rec.epochs.size(); ++i) EXPECT_EQ(rec.epochs[i].epoch, i + 1);
    EXPECT_TRUE(all_finite(m.stack.layers[0]));
    // The record keeps the configured rate and limit.
    EXPECT_EQ(rec.config.learning_rate, 1e5);
    EXPECT_EQ(rec.config.max_divergence_events, 10u);

    // The events travel through the model file.
    const std::string path = test_path("absurd.h5");
    io::save_model(m, path);
    const ModelFile back = io::load_model(path);
    ASSERT_EQ(back.records.size(), 1u);
    const auto& bev = back.records[0].divergence_events;
    ASSERT_EQ(bev.size(), ev.size());
    for (std::size_t i = 0; i < ev.size(); ++i) {
        EXPECT_EQ(bev[i].layer, 0u);
        EXPECT_EQ(bev[i].epoch, ev[i].epoch);
        EXPECT_EQ(bev[i].minibatch, ev[i].minibatch);
        EXPECT_EQ(bev[i].reason, ev[i].reason);
        EXPECT_EQ(bev[i].learning_rate_before, ev[i].learning_rate_before);
        EXPECT_EQ(bev[i].learning_rate_after, ev[i].learning_rate_after);
    }
    EXPECT_EQ(back.records[0].config.max_divergence_events, 10u);
}

TEST(DivergenceGuardPretraining, ALimitOfOneStopsWithTheLastGoodModel) {
    auto config = [](const std::string& top) {
        return parse_dbn_config(R"({"name": "two", "seed": 4, "input": {"scale": 1},
            "defaults": {"epochs": 4, "batch_size": 5, "learning_rate": 0.05},
            "layers": [{"hidden": 10}, )" +
                                    top + "]}",
                                "two.json");
    };
    const std::string diverging =
        R"({"hidden": 6, "learning_rate": 1e5, "batch_size": 1, "max_divergence_events": 1})";
    const ModelFile healthy = GreedyTrainer(config(R"({"hidden": 6})")).train(bars_and_stripes());
    try {
        GreedyTrainer(config(diverging)).train(bars_and_stripes());
        FAIL() << "expected PretrainingDiverged";
    } catch (const PretrainingDiverged& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("layer 1"), std::string::npos) << what;
        EXPECT_NE(what.find("lower learning_rate"), std::string::npos) << what;
        EXPECT_NE(what.find("standardize"), std::string::npos) << what;
        EXPECT_EQ(e.layer(), 1u);
        const ModelFile& m = e.model();
        ASSERT_EQ(m.stack.n_layers(), 2u);
        ASSERT_EQ(m.records.size(), 2u);
        // Layer 0 is the finished layer, as any run of it trains it.
        EXPECT_TRUE(same_parameters(m.stack.layers[0], healthy.stack.layers[0]));
        EXPECT_TRUE(m.records[0].divergence_events.empty());
        EXPECT_EQ(m.records[0].epochs.size(), 4u);
        // Layer 1 at its last good state: the epochs before the failed one, one event.
        const LayerRecord& top = m.records[1];
        ASSERT_EQ(top.divergence_events.size(), 1u);
        EXPECT_TRUE(top.stopped_by_divergence());
        EXPECT_EQ(top.divergence_events[0].layer, 1u);
        EXPECT_EQ(top.epochs.size(), top.divergence_events[0].epoch - 1);
        EXPECT_LT(top.epochs.size(), 4u);
        EXPECT_TRUE(all_finite(m.stack.layers[1]));
        // A model file like any other.
        const std::string path = test_path("last_good.h5");
        io::save_model(m, path);
        const ModelFile back = io::load_model(path);
        EXPECT_EQ(back.stack.n_layers(), 2u);
        ASSERT_EQ(back.records.size(), 2u);
        EXPECT_TRUE(back.records[1].stopped_by_divergence());
        EXPECT_TRUE(same_parameters(back.stack.layers[1], m.stack.layers[1]));
    }
    // With the guard off the same layer fails as it always did: a NumericalError, no model.
    const std::string unguarded =
        R"({"hidden": 6, "learning_rate": 1e5, "batch_size": 1, "max_divergence_events": 0})";
    try {
        GreedyTrainer(config(unguarded)).train(bars_and_stripes());
        FAIL() << "expected NumericalError";
    } catch (const PretrainingDiverged&) {
        FAIL() << "the guard is off";
    } catch (const NumericalError& e) {
        EXPECT_NE(std::string(e.what()).find("layer 1"), std::string::npos) << e.what();
    }
}

DbnConfig gaussian_config(bool standardize) {
    return parse_dbn_config(R"({"name": "g", "seed": 3,
        "input": {"units": "gaussian", "scale": 1, "standardize": )" +
                                std::string(standardize ? "true" : "false") + R"(},
        "defaults": {"epochs": 10, "batch_size": 10, "max_divergence_events": 10},
        "layers": [{"hidden": 50}]})",
                            "g.json");
}

TEST(DivergenceGuardPretraining, GaussianUnitsOnUnstandardizedDataTriggerTheSpreadRule) {
    // Data with a spread of 1000, not standardized, on Gaussian units of unit sigma, at the
    // default learning rate: the reconstruction's spread runs away once the momentum switches.
    const ModelFile raw = GreedyTrainer(gaussian_config(false)).train(factor_data(200, 1000.0, 5));
    const auto& ev = raw.records.at(0).divergence_events;
    std::size_t spread = 0;
    for (const auto& e : ev) spread += e.reason == "spread";
    EXPECT_GT(spread, 0u) << ev.size() << " events, none of them the spread rule";
    EXPECT_EQ(raw.records[0].epochs.size(), 10u);
    EXPECT_TRUE(all_finite(raw.stack.layers[0]));
    // The same data standardized trains without an event.
    const ModelFile std_ = GreedyTrainer(gaussian_config(true)).train(factor_data(200, 1000.0, 5));
    EXPECT_TRUE(std_.records.at(0).divergence_events.empty());
}

/// Every layer's parameters, hooks aside, and monitors (but seconds) of two models.
void expect_same_model(const ModelFile& a, const ModelFile& b) {
    ASSERT_EQ(a.stack.n_layers(), b.stack.n_layers());
    for (std::size_t k = 0; k < a.stack.n_layers(); ++k) {
        EXPECT_TRUE(same_parameters(a.stack.layers[k], b.stack.layers[k])) << "layer " << k;
        ASSERT_EQ(a.records[k].epochs.size(), b.records[k].epochs.size());
        for (std::size_t e = 0; e < a.records[k].epochs.size(); ++e) {
            const EpochStats &x = a.records[k].epochs[e], &y = b.records[k].epochs[e];
            for (auto [p, q] : {std::pair{x.reconstruction_error, y.reconstruction_error},
                                std::pair{x.free_energy_train, y.free_energy_train},
                                std::pair{x.free_energy_valid, y.free_energy_valid},
                                std::pair{x.pseudo_log_likelihood, y.pseudo_log_likelihood},
                                std::pair{x.learning_rate, y.learning_rate}})
                EXPECT_TRUE(std::memcmp(&p, &q, sizeof p) == 0 || (std::isnan(p) && std::isnan(q)))
                    << "layer " << k << " epoch " << e + 1;
        }
        EXPECT_TRUE(a.records[k].divergence_events.empty()) << "layer " << k;
        EXPECT_TRUE(b.records[k].divergence_events.empty()) << "layer " << k;
    }
}

TEST(DivergenceGuardPretraining, HealthyRunsAreBitIdenticalWithTheGuardOnAndOff) {
    // Bernoulli, PCD, sampling up; Gaussian input with sigma from the data, NReLU hidden units
    // and Gaussian units above them, a hook: every path through the guard's checks.
    const std::string bernoulli = R"({"name": "b", "seed": 9,
        "defaults": {"epochs": 4, "batch_size": 8, "learning_rate": 0.05, "max_divergence_events": %},
        "layers": [{"hidden": 12}, {"hidden": 6, "algorithm": "pcd"},
                   {"hidden": 4, "sample_up": true}]})";
    const std::string gaussian = R"({"name": "g", "seed": 9,
        "input": {"units": "gaussian", "standardize": true, "sigma": "data"},
        "defaults": {"epochs": 4, "batch_size": 10, "learning_rate": 0.01, "max_divergence_events": %},
        "layers": [{"hidden": 10, "hidden_units": "relu"}, {"hidden": 6, "hook": "standardize"},
                   {"hidden": 4}]})";
    auto with = [](std::string text, std::size_t max_events) {
        text.replace(text.find('%'), 1, std::to_string(max_events));
        return parse_dbn_config(text, "cfg.json");
    };
    for (const auto& [text, data] : {std::pair{bernoulli, bars_and_stripes()},
                                     std::pair{gaussian, factor_data(150, 1.0, 7)}}) {
        SCOPED_TRACE(text.substr(0, 20));
        const ModelFile on = GreedyTrainer(with(text, 3)).train(data);
        const ModelFile off = GreedyTrainer(with(text, 0)).train(data);
        expect_same_model(on, off);
        EXPECT_EQ(on.records[0].config.max_divergence_events, 3u);
        EXPECT_EQ(off.records[0].config.max_divergence_events, 0u);
    }
}

TEST(DivergenceGuardPretraining, TheSettingIsValidatedNamingTheKey) {
    for (const char* bad :
         {R"({"defaults": {"max_divergence_events": 51}, "layers": [{"hidden": 4}]})",
          R"({"layers": [{"hidden": 4, "max_divergence_events": -1}]})",
          R"({"layers": [{"hidden": 4, "max_divergence_events": 2.5}]})",
          R"({"layers": [{"hidden": 4, "max_divergence_events": "3"}]})"}) {
        try {
            parse_dbn_config(bad, "bad.json");
            FAIL() << bad;
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("max_divergence_events"), std::string::npos)
                << e.what();
        }
    }
    const DbnConfig c = parse_dbn_config(
        R"({"defaults": {"max_divergence_events": 0}, "layers": [{"hidden": 4},
            {"hidden": 3, "max_divergence_events": 50}]})",
        "ok.json");
    EXPECT_EQ(c.layers[0].train.max_divergence_events, 0u);
    EXPECT_EQ(c.layers[1].train.max_divergence_events, 50u);
    EXPECT_EQ(parse_dbn_config(R"({"layers": [{"hidden": 4}]})", "d.json")
                  .layers[0]
                  .train.max_divergence_events,
              3u);
}

}  // namespace
}  // namespace dbn
