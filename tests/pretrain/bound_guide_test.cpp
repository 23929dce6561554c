// Bound-guided training (the "guide" key of a layer) and the wider turned-over start: the bound
// that the kept layer gives, computed exactly on an enumerable stack, and what is saved.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/data/bars_stripes.hpp"
#include "dbn/estimate/exact_log_partition.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "dbn/pretrain/pretrain_checks.hpp"
#include "support/helpers.hpp"

namespace dbn {
namespace {

/// The exact D of the pair (lower, upper) on the rows v of `x` (lower's input): dF with the
/// expectation over p(h | v) summed over every hidden state, minus the exact dlogZ.
double exact_bound_change(const Rbm& lower, const Rbm& upper, const Matrix& x) {
    const std::size_t nh = lower.n_hidden();
    const Matrix states = testing::all_binary_states(nh);
    const DVector g = lower.hidden_free_energy(states);
    const DVector f = upper.free_energy(states);
    Matrix act = Matrix::from_shape({x.shape(0), nh});
    lower.hidden_probabilities(x, act);  // p(h_j = 1 | v)
    double total = 0.0;
    for (std::size_t r = 0; r < x.shape(0); ++r) {
        for (std::size_t s = 0; s < states.shape(0); ++s) {
            double logp = 0.0;
            for (std::size_t j = 0; j < nh; ++j) {
                const double p = std::clamp(static_cast<double>(act(r, j)), 1e-12, 1.0 - 1e-12);
                logp += states(s, j) > 0.5f ? std::log(p) : std::log1p(-p);
            }
            total += std::exp(logp) * (g(s) - f(s));
        }
    }
    const double df = total / static_cast<double>(x.shape(0));
    return df - (estimate::exact_log_partition(upper) - estimate::exact_log_partition(lower));
}

/// Expects `fn` to throw E with a message containing `part`.
template <class E, class Fn>
void expect_throw_with(Fn&& fn, const std::string& part) {
    try {
        fn();
        ADD_FAILURE() << "no exception; expected one containing: " << part;
    } catch (const E& e) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
}

struct Guided {
    ModelFile model;
    std::vector<std::string> messages;
};

class Messages final : public TrainingObserver {
public:
    explicit Messages(std::vector<std::string>& out) : out_(out) {}
    void on_message(const char* text) override { out_.emplace_back(text); }

private:
    std::vector<std::string>& out_;
};

/// 16-12-20 on the 4x4 bars and stripes: layer 1 starts as layer 0 widened and turned over
/// (4 extra units; `init` replaces that start) and trains with `layer1` settings, guided; AIS
/// for layer 0's log Z (so that its final states start the path), exact figures for the test.
Guided train_guided(const std::string& layer1, std::uint64_t seed, bool guided = true,
                    const std::string& init = R"("init": "turned_over", )") {
    const std::string json = R"({"seed": )" + std::to_string(seed) + R"(, "heldout_fraction": 0,
        "input": {"scale": 1},
        "checks": {"log_z": "ais", "ais_steps": 2000, "ais_runs": 200, "path_steps": 2000},
        "defaults": {"batch_size": 10, "learning_rate": 0.05},
        "layers": [{"hidden": 12, "algorithm": "pcd", "epochs": 200, "sample_up": true},
                   {"hidden": 20, )" +
                             init +
                             std::string(guided ? R"("guide": {"every": 1, "patience": 3,
                    "path_steps": 2000}, )"
                                                : "") +
                             layer1 + "}]}";
    const DbnConfig cfg = parse_dbn_config(json, "guided.json");
    data::Dataset d;
    d.x = data::bars_and_stripes(4);
    data::Dataset check = d;
    GreedyTrainer trainer(cfg);
    Guided out;
    Messages observer(out.messages);
    PretrainChecks checks(cfg.checks, &observer);
    trainer.set_after_layer(std::ref(checks));
    trainer.set_bound_probe(
        [&checks](const ModelFile& m, std::size_t k, const Matrix& raw, const GuideSpec& g) {
            return checks.bound_probe(m, k, raw, g);
        });
    out.model = trainer.train(d, &check, &observer);
    return out;
}

TEST(BoundGuide, NeverKeepsALayerWhoseExactBoundIsBelowItsStart) {
    // Two regimes: gentle exact-gradient training, which raises the bound, and a learning rate
    // so large (with momentum 0.9) that CD-1 soon lowers it. The start's exact D is 0 up to the
    // extra units' 1e-4 weights (below 1e-6 here); the kept layer's must not be lower, beyond
    // the path estimates' error on this stack (their half-widths are ~0.01 nats).
    const Matrix x = data::bars_and_stripes(4);
    for (const auto& [settings, seed] :
         {std::pair<std::string, std::uint64_t>{
              R"("algorithm": "exact", "epochs": 8, "initial_momentum": 0, "final_momentum": 0)",
              31},
          std::pair<std::string, std::uint64_t>{
              R"("algorithm": "cd", "epochs": 8, "learning_rate": 2.0, "initial_momentum": 0.9,
                 "final_momentum": 0.9, "weight_decay": 0)",
              32}}) {
        const Guided g = train_guided(settings, seed);
        const ModelFile& m = g.model;
        ASSERT_EQ(m.records.size(), 2u);
        const auto& bound = m.records[1].bound;
        ASSERT_GE(bound.size(), 2u) << settings;
        EXPECT_EQ(bound[0].epoch, 0u);
        EXPECT_NEAR(bound[0].bound_change, 0.0, 0.02) << "the start";
        const double kept = exact_bound_change(m.stack.layers[0], m.stack.layers[1], x);
        RecordProperty("kept_exact_D_" + std::to_string(seed), std::to_string(kept));
        EXPECT_GE(kept, -0.02) << settings;
        // The kept parameters are those of the largest lower end of D's interval.
        std::size_t best = 0;
        for (std::size_t i = 1; i < bound.size(); ++i)
            if (bound[i].bound_change_low > bound[best].bound_change_low) best = i;
        if (best + 1 < bound.size()) {
            bool said = false;
            for (const auto& line : g.messages)
                said = said || line.find("keeping the parameters of epoch " +
                                         std::to_string(bound[best].epoch)) != std::string::npos;
            EXPECT_TRUE(said) << settings;
        }
    }
}

TEST(BoundGuide, AFailedCheckSaysWhatToTry) {
    // A top layer that models h badly: random weights of stddev 2 and one epoch at a learning
    // rate too small to matter. Its p(h) puts its mass on a few states chosen by the random
    // weights, not on the codes of the 30 bars-and-stripes patterns, so the bound falls by
    // tens of nats (-32.8 on the Cooperlake kernel) and the verdict does not depend on the BLAS
    // kernel. (A destructive learning rate, tried first, lowered the bound on one machine and
    // raised it by 0.18 on another; a near-zero random top raises it by 2.8: layer 0's own
    // marginal over h is a poor model of the codes.) The line after the check names the
    // settings that raise the bound.
    const Guided g = train_guided(R"("algorithm": "cd", "epochs": 1, "learning_rate": 1e-9,
        "initial_momentum": 0, "final_momentum": 0, "weight_decay": 0)",
                                  32, false, R"("init_stddev": 2.0, )");
    ASSERT_EQ(g.model.checks.size(), 1u);
    ASSERT_FALSE(g.model.checks[0].passed) << g.model.checks[0].bound_change;
    RecordProperty("bound_change", std::to_string(g.model.checks[0].bound_change));
    EXPECT_LT(g.model.checks[0].bound_change_high, -1.0);
    EXPECT_TRUE(g.model.records[1].bound.empty());
    bool hint = false;
    for (const auto& line : g.messages)
        hint = hint || (line.find("to raise the bound") != std::string::npos &&
                        line.find("\"guide\": \"bound\"") != std::string::npos);
    EXPECT_TRUE(hint);
}

TEST(BoundGuide, TheHistoryIsSavedAndReadBack) {
    const Guided g = train_guided(R"("algorithm": "cd", "epochs": 4)", 33);
    const auto& bound = g.model.records[1].bound;
    ASSERT_FALSE(bound.empty());
    EXPECT_TRUE(g.model.records[0].bound.empty());
    const std::string path = testing::temp_path("guided.h5");
    io::save_model(g.model, path);
    const ModelFile back = io::load_model(path);
    ASSERT_EQ(back.records[1].bound.size(), bound.size());
    for (std::size_t i = 0; i < bound.size(); ++i) {
        EXPECT_EQ(back.records[1].bound[i].epoch, bound[i].epoch);
        EXPECT_EQ(back.records[1].bound[i].bound_change, bound[i].bound_change);
        EXPECT_EQ(back.records[1].bound[i].delta_log_z_high, bound[i].delta_log_z_high);
    }
    EXPECT_TRUE(back.records[0].bound.empty());
    std::filesystem::remove(path);
}

TEST(BoundGuide, WiderTurnedOverStartLeavesTheBoundUnchanged) {
    // No training at all: 1 epoch at a learning rate too small to matter is not needed, the
    // start is read from the guide's first estimate, and the layer itself is checked exactly.
    const Guided g = train_guided(
        R"("algorithm": "cd", "epochs": 1, "learning_rate": 1e-9, "initial_momentum": 0,
           "final_momentum": 0, "weight_decay": 0)",
        34);
    const ModelFile& m = g.model;
    const Rbm& lower = m.stack.layers[0];
    const Rbm& upper = m.stack.layers[1];
    EXPECT_LT(std::abs(exact_bound_change(lower, upper, data::bars_and_stripes(4))), 1e-4);
    // The first 16 hidden units are the layer below turned over.
    for (std::size_t i = 0; i < 12; ++i)
        for (std::size_t j = 0; j < 16; ++j)
            EXPECT_NEAR(upper.weights()(i, j), lower.weights()(j, i), 1e-6);
    ASSERT_EQ(m.checks.size(), 1u);
    EXPECT_EQ(m.checks[0].delta_log_z_method, "turned_over_path");
    EXPECT_LT(std::abs(m.checks[0].bound_change), 1e-3);
    EXPECT_LT(m.checks[0].bound_change_high - m.checks[0].bound_change_low, 1e-2);
}

TEST(BoundGuide, RefusesWhatItCannotDo) {
    const auto parse = [](const std::string& layer1) {
        return parse_dbn_config(R"({"layers": [{"hidden": 12}, {"hidden": 20, )" + layer1 + "}]}",
                                "g.json");
    };
    EXPECT_TRUE(parse(R"("init": "turned_over", "guide": "bound")").layers[1].guide.enabled);
    EXPECT_FALSE(parse(R"("init": "turned_over", "guide": "none")").layers[1].guide.enabled);
    const GuideSpec s =
        parse(R"("init": "turned_over", "guide": {"every": 2, "patience": 4, "path_steps": 9})")
            .layers[1]
            .guide;
    EXPECT_EQ(s.every, 2u);
    EXPECT_EQ(s.patience, 4u);
    EXPECT_EQ(s.path_steps, 9u);
    expect_throw_with<ConfigError>([&] { parse(R"("guide": "bound")"); },
                                   "needs \"init\": \"turned_over\"");
    expect_throw_with<ConfigError>([&] { parse(R"("init": "turned_over", "guide": "best")"); },
                                   "must be \"bound\"");
    expect_throw_with<ConfigError>(
        [&] { parse(R"("init": "turned_over", "guide": {"every": 0})"); }, "at least 1");
    expect_throw_with<ConfigError>(
        [&] { parse(R"("init": "turned_over", "guide": {"patience_": 2})"); }, "unknown key");
    expect_throw_with<ConfigError>(
        [&] {
            parse_dbn_config(R"({"checks": {"dlogz": "independent"}, "layers": [{"hidden": 12},
                {"hidden": 20, "init": "turned_over", "guide": "bound"}]})",
                             "i.json");
        },
        "turns off");
    // Without a probe (the checks off), the trainer says so before any layer trains.
    GreedyTrainer trainer(parse(R"("init": "turned_over", "guide": "bound")"));
    data::Dataset d;
    d.x = data::bars_and_stripes(4);
    expect_throw_with<ConfigError>([&] { trainer.train(d); }, "needs the consistency checks");
    // A narrower layer cannot start turned over: the message says what to use instead.
    GreedyTrainer narrow(parse_dbn_config(
        R"({"layers": [{"hidden": 12}, {"hidden": 10, "init": "turned_over"}]})", "n.json"));
    expect_throw_with<ConfigError>([&] { narrow.train(d); }, "use \"init\": \"random\"");
}

}  // namespace
}  // namespace dbn
