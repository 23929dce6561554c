#include "dbn/hooks/layer_hook.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "support/helpers.hpp"

namespace dbn {
namespace {

Matrix random_matrix(std::size_t n, std::size_t d, std::uint64_t seed, float scale = 1.0f) {
    Rng rng{seed};
    Matrix m = Matrix::from_shape({n, d});
    rng.fill_normal(m.data(), m.size());
    for (auto& x : m) x = x * scale + 0.3f;
    return m;
}

// Central finite differences of L = sum(upstream * hook(x)) with respect to x, in float on
// values of order 1: step 1e-2 keeps the rounding error (~1e-7 / 1e-2) and the truncation error
// (~1e-4 * third derivative) near 1e-4, hence the 2e-3 tolerance.
void expect_backward_matches_finite_differences(const LayerHook& hook, const Matrix& x) {
    const Matrix upstream = random_matrix(x.shape(0), x.shape(1), 99);
    Matrix grad = Matrix::from_shape(x.shape());
    hook.backward(x, upstream, grad);
    const float h = 1e-2f;
    for (std::size_t r = 0; r < x.shape(0); ++r) {
        for (std::size_t c = 0; c < x.shape(1); ++c) {
            Matrix plus = x, minus = x;
            plus(r, c) += h;
            minus(r, c) -= h;
            hook.apply(plus);
            hook.apply(minus);
            double lp = 0.0, lm = 0.0;
            for (std::size_t i = 0; i < x.size(); ++i) {
                lp += double(upstream.data()[i]) * plus.data()[i];
                lm += double(upstream.data()[i]) * minus.data()[i];
            }
            EXPECT_NEAR(grad(r, c), (lp - lm) / (2.0 * h), 2e-3) << "row " << r << " col " << c;
        }
    }
}

TEST(StandardizeHook, FitsZScoresAndBackpropagates) {
    const Matrix x = random_matrix(200, 6, 1, 2.0f);
    StandardizeHook hook;
    hook.fit(x);
    Matrix y = x;
    hook.apply(y);
    for (std::size_t c = 0; c < 6; ++c) {
        double m = 0.0, sq = 0.0;
        for (std::size_t r = 0; r < 200; ++r) m += y(r, c);
        m /= 200;
        for (std::size_t r = 0; r < 200; ++r) sq += (y(r, c) - m) * (y(r, c) - m);
        EXPECT_NEAR(m, 0.0, 1e-5);
        EXPECT_NEAR(std::sqrt(sq / 200), 1.0, 1e-5);
    }
    expect_backward_matches_finite_differences(hook, random_matrix(3, 6, 2));
    Matrix wrong = Matrix::from_shape({2, 5});
    EXPECT_THROW(hook.apply(wrong), ShapeError);
}

TEST(LayerNormHook, NormalizesEachRowAndBackpropagates) {
    LayerNormHook hook(1e-5);
    const Matrix x = random_matrix(4, 7, 3, 1.5f);
    hook.fit(x);
    Matrix y = x;
    hook.apply(y);
    for (std::size_t r = 0; r < 4; ++r) {
        double m = 0.0, sq = 0.0;
        for (std::size_t c = 0; c < 7; ++c) m += y(r, c);
        m /= 7;
        for (std::size_t c = 0; c < 7; ++c) sq += (y(r, c) - m) * (y(r, c) - m);
        EXPECT_NEAR(m, 0.0, 1e-6);
        EXPECT_NEAR(std::sqrt(sq / 7), 1.0, 1e-4);  // sd / (sd + eps)
    }
    // Non-trivial gain and shift take part in the gradient too.
    for (std::size_t c = 0; c < 7; ++c) {
        hook.gain()(c) = 0.5f + 0.1f * static_cast<float>(c);
        hook.shift()(c) = -0.2f * static_cast<float>(c);
    }
    expect_backward_matches_finite_differences(hook, x);
}

// A user-defined hook: multiplies by a fitted per-unit factor (the inverse of the max).
class MaxScaleHook : public LayerHook {
public:
    std::string kind() const override { return "test-max-scale"; }
    void fit(const Matrix& x) override {
        factor_ = xt::ones<Real>({x.shape(1)});
        for (std::size_t c = 0; c < x.shape(1); ++c) {
            float mx = 1e-3f;
            for (std::size_t r = 0; r < x.shape(0); ++r) mx = std::max(mx, x(r, c));
            factor_(c) = 1.0f / mx;
        }
    }
    void apply(Rows x) const override {
        for (std::size_t r = 0; r < x.rows; ++r)
            for (std::size_t c = 0; c < x.cols; ++c) x.row(r)[c] *= factor_(c);
    }
    void backward(ConstRows, ConstRows g, Rows out) const override {
        for (std::size_t r = 0; r < g.rows; ++r)
            for (std::size_t c = 0; c < g.cols; ++c) out.row(r)[c] = g.row(r)[c] * factor_(c);
    }
    HookParameters parameters() const override {
        HookParameters p;
        p.vectors["factor"] = factor_;
        p.numbers["version"] = 2.0;
        return p;
    }
    void set_parameters(const HookParameters& p, std::size_t size) override {
        const auto it = p.vectors.find("factor");
        DBN_CHECK(it != p.vectors.end() && it->second.size() == size, FormatError,
                  "test-max-scale: factor missing or misshapen");
        DBN_CHECK(p.numbers.count("version") && p.numbers.at("version") == 2.0, FormatError,
                  "test-max-scale: version missing");
        factor_ = it->second;
    }

private:
    Vector factor_ = Vector::from_shape({0});
};

data::Dataset images(std::size_t n, std::size_t d, std::uint64_t seed) {
    Rng rng{seed};
    data::Dataset ds;
    ds.source = "images";
    ds.x = Matrix::from_shape({n, d});
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < d; ++c)
            ds.x(r, c) = ((c + r % 3) % 4 < 2 ? 0.8f : 0.1f) + 0.1f * rng.uniform();
    return ds;
}

std::string config_with_hook(const std::string& hook) {
    return R"({"seed": 3, "defaults": {"epochs": 2, "batch_size": 10, "learning_rate": 0.02},
        "layers": [{"hidden": 9, "hook": )" +
           hook + R"(}, {"hidden": 5}]})";
}

bool same_bits(const Vector& a, const Vector& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(Real)) == 0;
}

void expect_round_trip(const Dbn& m, const data::Dataset& d, const std::string& name) {
    const std::string path = testing::temp_path(name);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    io::save_model(ModelFile{m}, path);
    const Dbn back = io::load_model(path).stack;
    ASSERT_EQ(back.hooks.size(), 1u);
    ASSERT_TRUE(back.hooks[0]);
    EXPECT_EQ(back.hooks[0]->kind(), m.hooks[0]->kind());
    const HookParameters a = m.hooks[0]->parameters(), b = back.hooks[0]->parameters();
    ASSERT_EQ(a.vectors.size(), b.vectors.size());
    for (const auto& [key, v] : a.vectors) EXPECT_TRUE(same_bits(v, b.vectors.at(key))) << key;
    EXPECT_EQ(a.numbers, b.numbers);
    const Matrix f1 = m.transform(d.x, 1), f2 = back.transform(d.x, 1);
    EXPECT_EQ(std::memcmp(f1.data(), f2.data(), f1.size() * sizeof(Real)), 0);
    std::filesystem::remove(path);
}

TEST(LayerHooks, BuiltInHooksTrainSaveAndReplay) {
    const data::Dataset d = images(120, 12, 4);
    for (const std::string hook :
         {R"("standardize")", R"({"kind": "layernorm", "epsilon": 0.001})"}) {
        const Dbn m =
            GreedyTrainer(parse_dbn_config(config_with_hook(hook), "h.json")).train(d).stack;
        ASSERT_EQ(m.hooks.size(), 1u) << hook;
        // The layer above a hook models real values: Gaussian units with sigma 1.
        EXPECT_EQ(m.layers[1].visible_type(), UnitType::gaussian);
        for (float s : m.layers[1].visible_sigma()) EXPECT_EQ(s, 1.0f);
        // transform applies the hook between the layers.
        Matrix h0 = m.transform(d.x, 0);
        m.hooks[0]->apply(h0);
        Matrix h1 = Matrix::from_shape({d.size(), 5});
        m.layers[1].hidden_probabilities(h0, h1);
        EXPECT_TRUE(testing::allclose(m.transform(d.x, 1), h1, 0.0, 0.0)) << hook;
        expect_round_trip(m, d, "hooked.h5");
    }
}

TEST(LayerHooks, UserRegisteredHookIsTrainedSavedAndLoaded) {
    if (!hook_registered("test-max-scale"))
        register_hook("test-max-scale",
                      [](const HookOptions&) { return std::make_unique<MaxScaleHook>(); });
    EXPECT_THROW(register_hook("test-max-scale",
                               [](const HookOptions&) { return std::make_unique<MaxScaleHook>(); }),
                 ConfigError);
    EXPECT_THROW(
        register_hook("none", [](const HookOptions&) { return std::make_unique<MaxScaleHook>(); }),
        ConfigError);
    const data::Dataset d = images(100, 12, 5);
    const Dbn m = GreedyTrainer(parse_dbn_config(config_with_hook(R"("test-max-scale")"), "u.json"))
                      .train(d)
                      .stack;
    ASSERT_EQ(m.hooks.size(), 1u);
    EXPECT_EQ(m.hooks[0]->kind(), "test-max-scale");
    expect_round_trip(m, d, "user-hook.h5");
}

TEST(LayerHooks, ConfigurationErrorsNameTheLayer) {
    try {
        parse_dbn_config(config_with_hook(R"("batchnorm")"), "c.json");
        FAIL();
    } catch (const ConfigError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("c.json: layers[0].hook: unknown hook \"batchnorm\""), std::string::npos)
            << msg;
        EXPECT_NE(msg.find("\"layernorm\""), std::string::npos) << msg;  // lists the known ones
    }
    EXPECT_THROW(
        parse_dbn_config(R"({"layers": [{"hidden": 3, "hook": "standardize"}]})", "top.json"),
        ConfigError);
    EXPECT_THROW(
        parse_dbn_config(config_with_hook(R"({"kind": "layernorm", "gain": 2})"), "o.json"),
        ConfigError);
    EXPECT_THROW(
        parse_dbn_config(config_with_hook(R"({"kind": "layernorm", "epsilon": -1})"), "o.json"),
        ConfigError);
}

TEST(LayerHooks, UnknownKindInAModelFileIsAFormatError) {
    const data::Dataset d = images(60, 12, 6);
    Dbn m = GreedyTrainer(parse_dbn_config(config_with_hook(R"("standardize")"), "h.json"))
                .train(d)
                .stack;
    const std::string path = testing::temp_path("unknown-hook.h5");
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    // A hook kind this process never registered: written through a hook whose kind() is foreign.
    class Foreign : public StandardizeHook {
    public:
        std::string kind() const override { return "someone-elses-hook"; }
    };
    auto foreign = std::make_shared<Foreign>();
    foreign->set_parameters(m.hooks[0]->parameters(), 9);
    m.hooks[0] = foreign;
    io::save_model(ModelFile{m}, path);
    try {
        io::load_model(path);
        FAIL();
    } catch (const FormatError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("/layers/0/hook: unknown hook kind \"someone-elses-hook\""),
                  std::string::npos)
            << msg;
    }
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace dbn
