// Backpropagation against central finite differences, for both heads, with and without hooks,
// with sigmoid, relu and linear units; and the unrolled encoder and decoder against the RBMs.
#include "dbn/finetune/network.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "finetune/finetune_support.hpp"
#include "support/tolerances.hpp"

namespace dbn {
namespace {

using testing::random_stack;

struct GradCase {
    const char* name;
    finetune::FineTuneMode mode;
    const char* hook;
    bool relu;
    bool linear_code;
    finetune::LossKind loss;
    bool gaussian;
};

std::ostream& operator<<(std::ostream& os, const GradCase& c) { return os << c.name; }

/// @brief The network of `c` built from a random 6-5-4 stack, and a batch with its targets.
struct Problem {
    finetune::Network net;
    Matrix x;
    Matrix t;
};

Problem make_problem(const GradCase& c) {
    Rng rng(42);
    constexpr std::size_t rows = 7;
    Matrix x = Matrix::from_shape({rows, 6});
    rng.fill_uniform(x.data(), x.size());
    const std::vector<UnitType> hidden = {c.relu ? UnitType::relu : UnitType::bernoulli,
                                          UnitType::bernoulli};
    Matrix fit = Matrix::from_shape({30, 6});
    rng.fill_uniform(fit.data(), fit.size());
    Dbn m = random_stack({6, 5, 4}, rng, 0.8f, hidden, c.hook, fit,
                         c.gaussian ? UnitType::gaussian : UnitType::bernoulli);
    if (c.relu) {
        // Keep every pre-activation of the batch at least 0.1 from relu's kink, so that no
        // finite-difference step crosses it (the derivative does not exist there).
        const Rbm& r = m.layers[0];
        Matrix z = Matrix::from_shape({rows, r.n_hidden()});
        blas::gemm(false, false, 1.0f, x, r.weights(), 0.0f, z);
        for (std::size_t j = 0; j < r.n_hidden(); ++j) {
            Real& b = m.layers[0].hidden_bias()(j);
            for (bool moved = true; moved;) {
                moved = false;
                for (std::size_t i = 0; i < rows; ++i)
                    if (std::abs(z(i, j) + b) < 0.1f) {
                        b += 0.07f;
                        moved = true;
                    }
            }
        }
    }
    Problem p;
    p.x = x;
    if (c.mode == finetune::FineTuneMode::classifier) {
        p.net = finetune::unroll_encoder(m);
        finetune::DenseLayer head;
        head.weights = Matrix::from_shape({4, 3});
        rng.fill_normal(head.weights.data(), head.weights.size());
        head.bias = Vector::from_shape({3});
        rng.fill_normal(head.bias.data(), 3);
        head.activation = finetune::Activation::softmax;
        p.net.layers.push_back(head);
        p.net.hooks.push_back(nullptr);
        p.t = xt::zeros<Real>({rows, std::size_t{3}});
        for (std::size_t r = 0; r < rows; ++r) p.t(r, rng.below(3)) = 1.0f;
    } else {
        p.net = finetune::unroll_encoder(m, c.linear_code);
        auto dec = finetune::transposed_decoder(m);
        for (std::size_t k = dec.size(); k-- > 0;) {
            p.net.layers.push_back(dec[k]);
            p.net.hooks.push_back(nullptr);
        }
        p.t = x;
    }
    p.net.loss = c.loss;
    p.net.weight_decay = 0.01;
    p.net.validate();
    return p;
}

class GradientCheck : public ::testing::TestWithParam<GradCase> {};

TEST_P(GradientCheck, MatchesCentralFiniteDifferences) {
    const GradCase& c = GetParam();
    Problem p = make_problem(c);
    finetune::Workspace ws(p.net, p.x.shape(0));
    finetune::loss_and_gradient(p.net, p.x, p.t, ws);
    const std::vector<Matrix> gw = ws.grad_weights;
    const std::vector<Vector> gb = ws.grad_bias;

    // Central differences of J in double from float parameters: step 1e-2 keeps the float
    // rounding of J (~1e-7 relative) well below the gradients; the truncation error is O(h^2).
    constexpr float h = 1e-2f;
    std::size_t checked = 0;
    auto check = [&](Real& param, double analytic, const std::string& what) {
        const Real saved = param;
        const Real up = saved + h, down = saved - h;
        param = up;
        const double jp = finetune::loss_and_gradient(p.net, p.x, p.t, ws).objective;
        param = down;
        const double jm = finetune::loss_and_gradient(p.net, p.x, p.t, ws).objective;
        param = saved;
        const double numeric = (jp - jm) / (double(up) - double(down));
        EXPECT_NEAR(analytic, numeric, 3e-4 + 2e-2 * std::abs(numeric)) << what;
        ++checked;
    };
    for (std::size_t i = 0; i < p.net.n_layers(); ++i) {
        finetune::DenseLayer& l = p.net.layers[i];
        for (std::size_t a = 0; a < l.n_in(); ++a)
            for (std::size_t b = 0; b < l.n_out(); ++b)
                check(l.weights(a, b), gw[i](a, b),
                      "layer " + std::to_string(i) + " W(" + std::to_string(a) + "," +
                          std::to_string(b) + ")");
        for (std::size_t b = 0; b < l.n_out(); ++b)
            check(l.bias(b), gb[i](b),
                  "layer " + std::to_string(i) + " b(" + std::to_string(b) + ")");
    }
    EXPECT_EQ(checked, p.net.n_parameters());
}

INSTANTIATE_TEST_SUITE_P(
    Backprop, GradientCheck,
    ::testing::Values(
        GradCase{"classifier", finetune::FineTuneMode::classifier, "none", false, false,
                 finetune::LossKind::cross_entropy, false},
        GradCase{"classifier_standardize", finetune::FineTuneMode::classifier, "standardize", false,
                 false, finetune::LossKind::cross_entropy, false},
        GradCase{"classifier_layernorm", finetune::FineTuneMode::classifier, "layernorm", false,
                 false, finetune::LossKind::cross_entropy, false},
        GradCase{"classifier_relu_layernorm", finetune::FineTuneMode::classifier, "layernorm", true,
                 false, finetune::LossKind::cross_entropy, false},
        GradCase{"classifier_gaussian", finetune::FineTuneMode::classifier, "none", false, false,
                 finetune::LossKind::cross_entropy, true},
        GradCase{"autoencoder_xent", finetune::FineTuneMode::autoencoder, "none", false, false,
                 finetune::LossKind::cross_entropy, false},
        GradCase{"autoencoder_xent_standardize", finetune::FineTuneMode::autoencoder, "standardize",
                 false, false, finetune::LossKind::cross_entropy, false},
        GradCase{"autoencoder_xent_layernorm_linear_code", finetune::FineTuneMode::autoencoder,
                 "layernorm", false, true, finetune::LossKind::cross_entropy, false},
        GradCase{"autoencoder_squared_relu", finetune::FineTuneMode::autoencoder, "standardize",
                 true, true, finetune::LossKind::squared_error, false},
        GradCase{"autoencoder_squared_gaussian", finetune::FineTuneMode::autoencoder, "none", false,
                 true, finetune::LossKind::squared_error, true}),
    [](const ::testing::TestParamInfo<GradCase>& p) { return std::string(p.param.name); });

TEST(Backprop, DropoutGradientMatchesFiniteDifferencesUnderAFixedMask) {
    // The same seed before every pass draws the same masks, so J is a smooth function of the
    // parameters and its gradient is checked like any other.
    for (const char* hook : {"none", "layernorm"}) {
        Problem p = make_problem({"c", finetune::FineTuneMode::classifier, hook, false, false,
                                  finetune::LossKind::cross_entropy, false});
        p.net.dropout = 0.3;
        p.net.input_dropout = 0.2;
        finetune::Workspace ws(p.net, p.x.shape(0));
        auto objective = [&] {
            Rng masks(77);
            return finetune::loss_and_gradient(p.net, p.x, p.t, ws, false, &masks).objective;
        };
        objective();
        const std::vector<Matrix> gw = ws.grad_weights;
        std::size_t zeros = 0;
        for (std::size_t k = 0; k < ws.mask[0].shape(1) * p.x.shape(0); ++k)
            zeros += ws.mask[0].data()[k] == 0.0f;
        EXPECT_GT(zeros, 0u) << "some units are dropped";
        constexpr float h = 1e-2f;
        for (std::size_t i = 0; i < p.net.n_layers(); ++i) {
            Matrix& w = p.net.layers[i].weights;
            for (std::size_t k = 0; k < w.size(); ++k) {
                const Real saved = w.data()[k];
                w.data()[k] = saved + h;
                const double jp = objective();
                w.data()[k] = saved - h;
                const double jm = objective();
                w.data()[k] = saved;
                const double numeric = (jp - jm) / (2.0 * h);
                EXPECT_NEAR(gw[i].data()[k], numeric, 3e-4 + 2e-2 * std::abs(numeric))
                    << hook << " layer " << i << " weight " << k;
            }
        }
        // Without a generator nothing is dropped: inference is deterministic.
        finetune::Workspace plain(p.net, p.x.shape(0));
        const ConstRows a = forward(p.net, p.x, plain);
        const std::vector<Real> first(a.data, a.data + a.rows * a.cols);
        const ConstRows b = forward(p.net, p.x, plain);
        EXPECT_TRUE(std::equal(first.begin(), first.end(), b.data));
    }
}

TEST(Backprop, HeadOnlyGivesTheSameHeadGradient) {
    Problem p = make_problem({"c", finetune::FineTuneMode::classifier, "layernorm", false, false,
                              finetune::LossKind::cross_entropy, false});
    finetune::Workspace ws(p.net, p.x.shape(0));
    finetune::loss_and_gradient(p.net, p.x, p.t, ws);
    const Matrix full = ws.grad_weights.back();
    const Vector full_b = ws.grad_bias.back();
    finetune::Workspace ws2(p.net, p.x.shape(0));
    finetune::loss_and_gradient(p.net, p.x, p.t, ws2, /*head_only=*/true);
    EXPECT_TRUE(testing::same_bits(full, ws2.grad_weights.back()));
    EXPECT_TRUE(testing::same_bits(full_b, ws2.grad_bias.back()));
}

TEST(Backprop, PartialBatchUsesOnlyItsRows) {
    Problem p = make_problem({"c", finetune::FineTuneMode::classifier, "standardize", false, false,
                              finetune::LossKind::cross_entropy, false});
    finetune::Workspace big(p.net, 50);
    finetune::Workspace exact(p.net, p.x.shape(0));
    const double a = finetune::loss_and_gradient(p.net, p.x, p.t, big).objective;
    const double b = finetune::loss_and_gradient(p.net, p.x, p.t, exact).objective;
    EXPECT_NEAR(a, b, 1e-6 * std::abs(b));
    EXPECT_TRUE(testing::allclose(big.grad_weights[0], exact.grad_weights[0], 1e-5, 1e-7));
}

/// @brief A classifier big enough for a finetune::Workspace to split it across threads: 30-24-20
/// stack with hooks, a 5-class head, dropout and weight decay, and `rows` rows with one-hot
/// targets.
Problem threaded_problem(const char* hook, std::size_t rows) {
    Rng rng(11);
    Matrix fit = Matrix::from_shape({50, 30});
    rng.fill_uniform(fit.data(), fit.size());
    const Dbn m =
        random_stack({30, 24, 20}, rng, 0.3f, {UnitType::relu, UnitType::bernoulli}, hook, fit);
    Problem p;
    p.net = finetune::unroll_encoder(m);
    finetune::DenseLayer head;
    head.weights = Matrix::from_shape({20, 5});
    rng.fill_normal(head.weights.data(), head.weights.size());
    head.bias = Vector::from_shape({5});
    rng.fill_normal(head.bias.data(), 5);
    head.activation = finetune::Activation::softmax;
    p.net.layers.push_back(head);
    p.net.hooks.push_back(nullptr);
    p.net.loss = finetune::LossKind::cross_entropy;
    p.net.weight_decay = 0.01;
    p.net.dropout = 0.2;
    p.net.input_dropout = 0.1;
    p.x = Matrix::from_shape({rows, 30});
    rng.fill_uniform(p.x.data(), p.x.size());
    p.t = xt::zeros<Real>({rows, std::size_t{5}});
    for (std::size_t r = 0; r < rows; ++r) p.t(r, rng.below(5)) = 1.0f;
    return p;
}

TEST(Backprop, ThreadCountDoesNotChangeGradientsOrSteps) {
    // Rows, weight-gradient rows, bias columns and parameters are split across the team, every
    // value computed as one thread computes it and the sums kept in their order. Products of
    // fewer rows may round differently in OpenBLAS (another kernel for the edge): the gradients
    // agree to float rounding; the steps, elementwise, bit for bit.
    for (const char* hook : {"none", "layernorm"}) {
        for (const std::size_t rows : {std::size_t{64}, std::size_t{37}}) {
            for (const bool head_only : {false, true}) {
                SCOPED_TRACE(std::string(hook) + ", " + std::to_string(rows) + " rows" +
                             (head_only ? ", head only" : ""));
                Problem p = threaded_problem(hook, rows);
                std::vector<finetune::BatchLoss> losses;
                std::vector<finetune::Workspace> spaces;
                for (const std::size_t threads : {1, 2, 3}) {
                    finetune::Workspace ws(p.net, 64, threads);
                    EXPECT_EQ(ws.threads(), threads);
                    Rng masks(5);
                    losses.push_back(
                        finetune::loss_and_gradient(p.net, p.x, p.t, ws, head_only, &masks));
                    spaces.push_back(std::move(ws));
                }
                const std::size_t first = head_only ? p.net.n_layers() - 1 : 0;
                for (std::size_t k = 1; k < spaces.size(); ++k) {
                    EXPECT_NEAR(losses[k].loss, losses[0].loss, 1e-6 * losses[0].loss) << k;
                    EXPECT_NEAR(losses[k].objective, losses[0].objective,
                                1e-6 * losses[0].objective)
                        << k;
                    // The buffers hold 64 rows; the pass wrote the first `rows`.
                    auto first_rows = [&](const Matrix& m) {
                        Matrix out = Matrix::from_shape({rows, m.shape(1)});
                        std::copy(m.data(), m.data() + out.size(), out.data());
                        return out;
                    };
                    EXPECT_TRUE(testing::allclose(first_rows(spaces[k].out.back()),
                                                  first_rows(spaces[0].out.back()), 1e-5, 1e-7))
                        << k;
                    EXPECT_TRUE(testing::same_bits(first_rows(spaces[k].mask[0]),
                                                   first_rows(spaces[0].mask[0])))
                        << "the same dropout masks, " << k;
                    EXPECT_TRUE(testing::same_bits(first_rows(spaces[k].mask_x),
                                                   first_rows(spaces[0].mask_x)))
                        << "the same dropout masks, " << k;
                    for (std::size_t i = first; i < p.net.n_layers(); ++i) {
                        EXPECT_TRUE(testing::allclose(spaces[k].grad_weights[i],
                                                      spaces[0].grad_weights[i], 1e-5, 1e-7))
                            << "layer " << i << ", " << k;
                        EXPECT_TRUE(testing::allclose(spaces[k].grad_bias[i],
                                                      spaces[0].grad_bias[i], 1e-5, 1e-7))
                            << "layer " << i << ", " << k;
                    }
                }
                // The same gradient in every workspace: the steps agree bit for bit.
                for (const finetune::OptimizerKind kind :
                     {finetune::OptimizerKind::adam, finetune::OptimizerKind::sgd}) {
                    finetune::FineTuneConfig cfg;
                    cfg.optimizer = kind;
                    std::vector<finetune::Network> nets;
                    for (finetune::Workspace& ws : spaces) {
                        ws.grad_weights = spaces[0].grad_weights;
                        ws.grad_bias = spaces[0].grad_bias;
                        finetune::Network net = p.net;
                        finetune::ParameterUpdater up(net, cfg);
                        up.step(net, ws, 0.05, head_only);
                        up.step(net, ws, 0.05, head_only);
                        nets.push_back(std::move(net));
                    }
                    for (std::size_t k = 1; k < nets.size(); ++k)
                        for (std::size_t i = 0; i < p.net.n_layers(); ++i) {
                            EXPECT_TRUE(testing::same_bits(nets[k].layers[i].weights,
                                                           nets[0].layers[i].weights))
                                << to_string(kind) << " layer " << i << ", " << k;
                            EXPECT_TRUE(
                                testing::same_bits(nets[k].layers[i].bias, nets[0].layers[i].bias))
                                << to_string(kind) << " layer " << i << ", " << k;
                        }
                }
            }
        }
    }
}

TEST(Backprop, TrainStepIsLossAndGradientThenStep) {
    for (const char* hook : {"none", "layernorm"}) {
        for (const std::size_t threads : {1, 3}) {
            for (const finetune::OptimizerKind kind :
                 {finetune::OptimizerKind::adam, finetune::OptimizerKind::sgd}) {
                SCOPED_TRACE(std::string(hook) + ", " + std::to_string(threads) + " threads, " +
                             to_string(kind));
                const Problem p = threaded_problem(hook, 50);
                finetune::FineTuneConfig cfg;
                cfg.optimizer = kind;
                finetune::Network a = p.net, b = p.net;
                finetune::Workspace wa(a, 64, threads), wb(b, 64, threads);
                finetune::ParameterUpdater ua(a, cfg), ub(b, cfg);
                for (int step = 0; step < 3; ++step) {
                    Rng ra(9 + step), rb(9 + step);
                    const finetune::BatchLoss la =
                        finetune::loss_and_gradient(a, p.x, p.t, wa, false, &ra);
                    ua.step(a, wa, 0.01);
                    const finetune::BatchLoss lb =
                        finetune::train_step(b, p.x, p.t, wb, ub, 0.01, false, &rb);
                    EXPECT_EQ(la.loss, lb.loss);
                    EXPECT_EQ(la.objective, lb.objective);
                }
                for (std::size_t i = 0; i < a.n_layers(); ++i) {
                    EXPECT_TRUE(testing::same_bits(wa.grad_weights[i], wb.grad_weights[i])) << i;
                    EXPECT_TRUE(testing::same_bits(a.layers[i].weights, b.layers[i].weights)) << i;
                    EXPECT_TRUE(testing::same_bits(a.layers[i].bias, b.layers[i].bias)) << i;
                }
            }
        }
    }
}

TEST(Backprop, SmallWorkspacesKeepOneThread) {
    Problem p = threaded_problem("none", 20);
    EXPECT_EQ(finetune::Workspace(p.net, 20, 4).threads(), 1u);
    EXPECT_EQ(
        finetune::Workspace(p.net, 2 * finetune::Workspace::k_min_rows_per_thread, 4).threads(),
        2u);
}

TEST(Unroll, EncoderMatchesDbnTransformWithHooksAndSigma) {
    for (const char* hook : {"none", "standardize", "layernorm"}) {
        Rng rng(3);
        Matrix fit = Matrix::from_shape({40, 6});
        rng.fill_uniform(fit.data(), fit.size());
        const Dbn m = random_stack({6, 5, 4, 3}, rng, 0.7f,
                                   {UnitType::relu, UnitType::bernoulli, UnitType::bernoulli}, hook,
                                   fit, UnitType::gaussian);
        const finetune::Network net = finetune::unroll_encoder(m);
        finetune::Workspace ws(net, 40);
        const ConstRows y = forward(net, finetune::network_inputs(m, fit), ws);
        const Matrix expected = m.transform(fit, 2);
        Matrix got = Matrix::from_shape({40, 3});
        std::copy(y.data, y.data + got.size(), got.data());
        EXPECT_TRUE(testing::allclose(got, expected, testing::k_rel_tol_float, 1e-6)) << hook;
    }
}

TEST(Unroll, DecoderIsTheRbmsVisibleMean) {
    Rng rng(5);
    Matrix fit = Matrix::from_shape({10, 6});
    rng.fill_uniform(fit.data(), fit.size());
    for (UnitType vis : {UnitType::bernoulli, UnitType::gaussian}) {
        const Dbn m = random_stack({6, 4}, rng, 0.7f, {UnitType::bernoulli}, "none", fit, vis);
        const auto dec = finetune::transposed_decoder(m);
        ASSERT_EQ(dec.size(), 1u);
        finetune::Network net;
        net.layers.push_back(dec[0]);
        net.loss = finetune::LossKind::squared_error;
        Matrix h = Matrix::from_shape({10, 4});
        rng.fill_uniform(h.data(), h.size());
        finetune::Workspace ws(net, 10);
        const ConstRows y = forward(net, h, ws);
        Matrix got = Matrix::from_shape({10, 6});
        std::copy(y.data, y.data + got.size(), got.data());
        Matrix expected = Matrix::from_shape({10, 6});
        m.layers[0].visible_mean(h, expected);
        EXPECT_TRUE(testing::allclose(got, expected, testing::k_rel_tol_float, 1e-6))
            << to_string(vis);
    }
}

TEST(NetworkValidate, RejectsMisfitsAndLossOutputMismatch) {
    Problem p = make_problem({"c", finetune::FineTuneMode::classifier, "none", false, false,
                              finetune::LossKind::cross_entropy, false});
    finetune::Network bad = p.net;
    bad.loss = finetune::LossKind::squared_error;
    EXPECT_THROW(bad.validate(), ConfigError);  // softmax with squared error
    bad = p.net;
    bad.layers[1].weights = xt::zeros<Real>({3, 4});
    EXPECT_THROW(bad.validate(), ShapeError);
    bad = p.net;
    bad.layers.back().activation = finetune::Activation::linear;
    EXPECT_THROW(bad.validate(), ConfigError);  // cross-entropy on a linear output
    finetune::Workspace ws(p.net, 3);
    EXPECT_THROW(forward(p.net, p.x, ws), ShapeError);  // 7 rows for a workspace of 3
}

}  // namespace
}  // namespace dbn
