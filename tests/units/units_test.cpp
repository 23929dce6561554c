#include "dbn/units/units.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/rbm/rbm.hpp"

// The unit families against first principles: log-marginals against brute-force sums (binary
// units) and numerical integrals (Gaussian units) at several inverse temperatures, means against
// finite differences of the log-marginal, samples against their distribution, names, sides.
//
// Sampling bounds: every statistic is checked within k_sigmas = 5 standard errors of its exact
// value (a false alarm has probability below 6e-7 per check for a sound generator; the seeds
// are fixed, so the outcome is reproducible).

namespace dbn {
namespace {

constexpr double k_sigmas = 5.0;
constexpr double k_betas[] = {0.1, 0.5, 1.0, 2.0};

const Units& bernoulli() { return units(UnitType::bernoulli); }
const Units& gaussian() { return units(UnitType::gaussian); }
const Units& nrelu() { return units(UnitType::relu); }

Matrix column(const std::vector<float>& x) {
    Matrix m = Matrix::from_shape({x.size(), 1});
    for (std::size_t r = 0; r < x.size(); ++r) m(r, 0) = x[r];
    return m;
}

/// log sum over u in {0, 1} of exp(beta x u).
double brute_binary(double x, double beta) {
    const double t[] = {0.0, beta * x};
    return logsumexp(std::begin(t), std::end(t));
}

/// log integral over v of exp(-beta ((v - a)^2 / (2 s^2) - v c / s)) by the trapezoid rule over
/// +-14 standard deviations around the maximum (no closed form used).
double brute_gaussian(double c, double a, double s, double beta) {
    const double centre = a + s * c;
    const double sd = s / std::sqrt(beta);
    const int n = 40000;
    const double lo = centre - 14.0 * sd;
    const double dv = 28.0 * sd / n;
    std::vector<double> f(n + 1);
    for (int k = 0; k <= n; ++k) {
        const double v = lo + k * dv;
        f[k] = -beta * ((v - a) * (v - a) / (2.0 * s * s) - v * c / s);
    }
    double top = -std::numeric_limits<double>::infinity();
    for (double x : f) top = std::max(top, x);
    double sum = 0.0;
    for (int k = 0; k <= n; ++k) sum += (k == 0 || k == n ? 0.5 : 1.0) * std::exp(f[k] - top);
    return top + std::log(sum * dv);
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// --- Names and sides --------------------------------------------------------------------------

TEST(UnitNames, RoundTripThroughTheRegistry) {
    ASSERT_EQ(unit_families().size(), 3u);
    for (const Units* u : unit_families()) {
        EXPECT_EQ(&units(u->type()), u);
        EXPECT_EQ(find_units(u->name()), u) << u->name();
        EXPECT_EQ(parse_unit_type(u->name()), u->type());
        EXPECT_STREQ(to_string(u->type()), u->name());
        for (const std::string& alias : u->aliases()) {
            EXPECT_EQ(parse_unit_type(alias), u->type()) << alias;
            EXPECT_EQ(find_units(alias), nullptr) << "model files take canonical names only";
        }
    }
    EXPECT_EQ(parse_unit_type("binary"), UnitType::bernoulli);
    EXPECT_EQ(parse_unit_type("nrelu"), UnitType::relu);
    EXPECT_EQ(find_units("softmax"), nullptr);
    EXPECT_EQ(unit_names(), "\"bernoulli\", \"gaussian\" or \"relu\"");
    EXPECT_EQ(unit_names(UnitSide::visible), "\"bernoulli\" or \"gaussian\"");
    EXPECT_EQ(unit_names(UnitSide::hidden), "\"bernoulli\" or \"relu\"");
}

TEST(UnitNames, UnknownNameIsAConfigErrorNamingTheSetting) {
    try {
        parse_unit_type("tanh", "cfg.json: layers[1].hidden_units");
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(),
                     "cfg.json: layers[1].hidden_units: unknown unit type \"tanh\" "
                     "(expected \"bernoulli\", \"gaussian\" or \"relu\")");
    }
}

TEST(UnitSides, WhereEachFamilyIsAllowed) {
    EXPECT_TRUE(bernoulli().allowed(UnitSide::visible) && bernoulli().allowed(UnitSide::hidden));
    EXPECT_TRUE(gaussian().allowed(UnitSide::visible) && !gaussian().allowed(UnitSide::hidden));
    EXPECT_TRUE(!nrelu().allowed(UnitSide::visible) && nrelu().allowed(UnitSide::hidden));
    EXPECT_TRUE(swappable(UnitType::bernoulli));
    EXPECT_FALSE(swappable(UnitType::gaussian) || swappable(UnitType::relu));
}

std::string config_error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no ConfigError)";
}

TEST(UnitSides, RefusedPositionsAreClearConfigErrors) {
    EXPECT_EQ(config_error_of([] { check_unit_side(UnitType::relu, UnitSide::visible, "what"); }),
              "what: visible units must be \"bernoulli\" or \"gaussian\" (got \"relu\")");
    EXPECT_EQ(
        config_error_of([] { check_unit_side(UnitType::gaussian, UnitSide::hidden, "what"); }),
        "what: hidden units must be \"bernoulli\" or \"relu\" (got \"gaussian\")");
    EXPECT_NO_THROW(check_unit_side(UnitType::bernoulli, UnitSide::hidden, "what"));
    // The RBM asks the same rule.
    EXPECT_EQ(config_error_of([] { Rbm(3, 2, UnitType::relu, UnitType::bernoulli); }),
              "Rbm: visible units must be \"bernoulli\" or \"gaussian\" (got \"relu\")");
    EXPECT_EQ(config_error_of([] { Rbm(3, 2, UnitType::bernoulli, UnitType::gaussian); }),
              "Rbm: hidden units must be \"bernoulli\" or \"relu\" (got \"gaussian\")");
    const std::string turned = config_error_of([] { Rbm(3, 2, UnitType::gaussian).turned_over(); });
    EXPECT_NE(turned.find("Rbm::turned_over"), std::string::npos) << turned;
    EXPECT_NE(turned.find("gaussian/bernoulli"), std::string::npos) << turned;
}

TEST(UnitProperties, WhatCallersAsk) {
    EXPECT_TRUE(bernoulli().binary());
    EXPECT_FALSE(gaussian().binary());
    EXPECT_FALSE(nrelu().binary());
    EXPECT_TRUE(bernoulli().closed_form());
    EXPECT_TRUE(gaussian().closed_form());
    EXPECT_FALSE(nrelu().closed_form());
    EXPECT_TRUE(gaussian().has_sigma());
    EXPECT_FALSE(bernoulli().has_sigma() || nrelu().has_sigma());
    EXPECT_FALSE(gaussian().bias_adds_to_input());
    EXPECT_TRUE(bernoulli().bias_adds_to_input() && nrelu().bias_adds_to_input());
    EXPECT_TRUE(nrelu().samples_from_input());
    EXPECT_EQ(bernoulli().mean_function(), MeanFunction::logistic);
    EXPECT_EQ(gaussian().mean_function(), MeanFunction::affine);
    EXPECT_EQ(nrelu().mean_function(), MeanFunction::rectified);
    EXPECT_EQ(bernoulli().visible_model(), UnitType::bernoulli);
    EXPECT_EQ(nrelu().visible_model(), UnitType::gaussian);
}

// --- Log-marginals against brute force ------------------------------------------------------

TEST(BernoulliLogMarginal, MatchesTheSumOverBothStatesAtSeveralBeta) {
    const std::vector<float> x = {-40.0f, -7.5f, -1.0f, -0.1f, 0.0f, 0.3f, 2.0f, 9.0f, 35.0f};
    const Matrix input = column(x);
    for (double beta : k_betas) {
        std::vector<double> lm(x.size());
        Matrix mean = Matrix::from_shape(input.shape());
        bernoulli().tempered_log_marginals(input, {}, beta, lm.data(), mean);
        for (std::size_t r = 0; r < x.size(); ++r) {
            const double want = brute_binary(x[r], beta);
            EXPECT_NEAR(lm[r], want, 1e-13 * (1.0 + want)) << "x " << x[r] << " beta " << beta;
            EXPECT_NEAR(mean(r, 0), sigmoid(static_cast<float>(beta * x[r])), 1e-7);
        }
    }
    // At beta = 1 the free energies' form, with the bias in the input or apart from it.
    const std::vector<Real> bias = {0.7f};
    std::vector<double> folded(x.size(), 1.0), apart(x.size(), 1.0);
    bernoulli().subtract_log_marginals(input, {}, folded.data());
    bernoulli().subtract_log_marginals(input, {bias.data()}, apart.data());
    for (std::size_t r = 0; r < x.size(); ++r) {
        EXPECT_NEAR(folded[r], 1.0 - brute_binary(x[r], 1.0), 1e-12 * (1.0 + std::abs(x[r])));
        EXPECT_NEAR(apart[r], 1.0 - brute_binary(double(x[r]) + 0.7f, 1.0),
                    1e-12 * (1.0 + std::abs(x[r])));
    }
}

TEST(BernoulliLogMarginal, RowsAndUncoupledFormsAgree) {
    // Enumeration's form: rows of x plus a shared y, against the sum of single-unit terms.
    Rng rng{3};
    const std::size_t rows = 5, n = 70;
    std::vector<double> x(rows * n), y(n), out(rows);
    for (auto& t : x) t = 3.0 * rng.normal();
    for (auto& t : y) t = 3.0 * rng.normal();
    bernoulli().log_marginal_rows(x.data(), rows, y.data(), n, {}, out.data());
    for (std::size_t z = 0; z < rows; ++z) {
        double want = 0.0;
        for (std::size_t i = 0; i < n; ++i) want += brute_binary(x[z * n + i] + y[i], 1.0);
        EXPECT_NEAR(out[z], want, 1e-12 * want);
    }
    EXPECT_EQ(bernoulli().log_marginal_constant({}, n), 0.0);
    const std::vector<Real> b = {-2.0f, 0.0f, 1.5f};
    EXPECT_NEAR(bernoulli().add_uncoupled_log_partition({b.data()}, 3, 1.0),
                1.0 + brute_binary(-2.0, 1.0) + brute_binary(0.0, 1.0) + brute_binary(1.5, 1.0),
                1e-14);
    EXPECT_DOUBLE_EQ(bernoulli().add_uncoupled_log_partition({}, 4, 0.0), 4.0 * std::log(2.0));
}

TEST(GaussianLogMarginal, MatchesNumericalIntegrationAtSeveralBeta) {
    const std::vector<Real> a = {0.3f, -1.2f, 2.0f};
    const std::vector<Real> s = {1.0f, 0.4f, 2.5f};
    const UnitParams p{a.data(), s.data()};
    const std::vector<float> cs = {-3.0f, -0.5f, 0.0f, 1.7f};
    Matrix input = Matrix::from_shape({cs.size(), 3});
    for (std::size_t r = 0; r < cs.size(); ++r)
        for (std::size_t i = 0; i < 3; ++i) input(r, i) = cs[r] * static_cast<float>(i + 1) / 2;
    for (double beta : k_betas) {
        std::vector<double> lm(cs.size());
        Matrix mean = Matrix::from_shape(input.shape());
        gaussian().tempered_log_marginals(input, p, beta, lm.data(), mean);
        for (std::size_t r = 0; r < cs.size(); ++r) {
            double want = 0.0;
            for (std::size_t i = 0; i < 3; ++i) {
                want += brute_gaussian(input(r, i), a[i], s[i], beta);
                // The tempered conditional keeps its mean a + s c.
                EXPECT_NEAR(mean(r, i), a[i] + s[i] * input(r, i), 1e-6);
            }
            EXPECT_NEAR(lm[r], want, 1e-9 * (1.0 + std::abs(want))) << "beta " << beta;
        }
    }
    // Beta = 1: the free energies' form and the enumeration's form (plus its constant).
    std::vector<double> f(cs.size(), 0.0), rows(cs.size()), x(cs.size() * 3);
    gaussian().subtract_log_marginals(input, p, f.data());
    for (std::size_t k = 0; k < x.size(); ++k) x[k] = input.data()[k];
    const std::vector<double> zero(3, 0.0);
    gaussian().log_marginal_rows(x.data(), cs.size(), zero.data(), 3,
                                 gaussian().log_marginal_coefficients(p, 3), rows.data());
    const double constant = gaussian().log_marginal_constant(p, 3);
    for (std::size_t r = 0; r < cs.size(); ++r) {
        double want = 0.0;
        for (std::size_t i = 0; i < 3; ++i) want += brute_gaussian(input(r, i), a[i], s[i], 1.0);
        EXPECT_NEAR(-f[r], want, 1e-9 * (1.0 + std::abs(want)));
        EXPECT_NEAR(rows[r] + constant, want, 1e-9 * (1.0 + std::abs(want)));
    }
    // Units on their own: the log-marginals at input 0.
    double at_zero = 0.0;
    for (std::size_t i = 0; i < 3; ++i) at_zero += brute_gaussian(0.0, a[i], s[i], 1.0);
    EXPECT_NEAR(gaussian().add_uncoupled_log_partition(p, 3, 0.0), at_zero, 1e-9);
    EXPECT_THROW(gaussian().tempered_log_marginals(input, p, 0.0, f.data(), {}), ConfigError);
}

TEST(NReluLogMarginal, HasNoClosedFormAndSaysSo) {
    const Matrix input = column({0.5f});
    std::vector<double> out(1, 0.0);
    const std::vector<double> x(1, 0.0);
    const auto names_itself = [](const std::function<void()>& f) {
        const std::string what = config_error_of(f);
        return what.find("relu") != std::string::npos &&
               what.find("closed-form") != std::string::npos;
    };
    EXPECT_TRUE(names_itself([&] { nrelu().subtract_log_marginals(input, {}, out.data()); }));
    EXPECT_TRUE(
        names_itself([&] { nrelu().tempered_log_marginals(input, {}, 1.0, out.data(), Rows()); }));
    EXPECT_TRUE(
        names_itself([&] { nrelu().log_marginal_rows(x.data(), 1, x.data(), 1, {}, out.data()); }));
    EXPECT_TRUE(names_itself([&] { nrelu().add_uncoupled_log_partition({}, 1, 0.0); }));
    EXPECT_TRUE(names_itself([&] { nrelu().add_log_conditional(input, input, {}, out.data()); }));
    const double mean = 0.5;
    EXPECT_THROW(nrelu().base_rate_bias(&mean, 1, k_base_rate_clip, nullptr), ConfigError);
}

// --- Means are the derivative of the log-marginal ---------------------------------------------

TEST(UnitMeans, AreTheDerivativeOfTheLogMarginal) {
    // d/dc log-marginal(c; beta) = beta E[phi(u)]: beta * mean for Bernoulli units,
    // beta * mean / s for Gaussian ones (phi(v) = v / s). Central differences, step 1e-4.
    const double h = 1e-4;
    for (double beta : k_betas) {
        for (float x : {-6.0f, -1.0f, 0.0f, 0.4f, 3.0f}) {
            std::vector<double> lm(1), up(1), down(1);
            Matrix mean = Matrix::from_shape({1, 1});
            bernoulli().tempered_log_marginals(column({x}), {}, beta, lm.data(), mean);
            bernoulli().tempered_log_marginals(column({x + float(h)}), {}, beta, up.data(), {});
            bernoulli().tempered_log_marginals(column({x - float(h)}), {}, beta, down.data(), {});
            // The input is float: divide by the step actually taken.
            const double step = double(x + float(h)) - double(x - float(h));
            EXPECT_NEAR((up[0] - down[0]) / step, beta * mean(0, 0), 2e-6) << x << " " << beta;
        }
    }
    // The model path's mean (float, bias in the input) is the same logistic.
    const Matrix xs = column({-6.0f, -1.0f, 0.0f, 0.4f, 3.0f});
    Matrix m = Matrix::from_shape(xs.shape());
    bernoulli().mean(xs, {}, m);
    for (std::size_t r = 0; r < xs.shape(0); ++r) {
        std::vector<double> u(1, 0.0), d(1, 0.0);
        bernoulli().subtract_log_marginals(column({xs(r, 0) + float(h)}), {}, u.data());
        bernoulli().subtract_log_marginals(column({xs(r, 0) - float(h)}), {}, d.data());
        const double step = double(xs(r, 0) + float(h)) - double(xs(r, 0) - float(h));
        EXPECT_NEAR(-(u[0] - d[0]) / step, m(r, 0), 2e-6);
    }
    // Gaussian.
    const std::vector<Real> a = {0.8f};
    const std::vector<Real> s = {1.7f};
    const UnitParams p{a.data(), s.data()};
    for (double beta : k_betas) {
        for (float c : {-2.0f, 0.0f, 1.3f}) {
            std::vector<double> u(1), d(1);
            Matrix mean = Matrix::from_shape({1, 1});
            gaussian().tempered_log_marginals(column({c + float(h)}), p, beta, u.data(), {});
            gaussian().tempered_log_marginals(column({c - float(h)}), p, beta, d.data(), {});
            gaussian().mean(column({c}), p, mean);
            const double step = double(c + float(h)) - double(c - float(h));
            EXPECT_NEAR((u[0] - d[0]) / step, beta * mean(0, 0) / s[0], 1e-5) << c << " " << beta;
        }
    }
}

// --- Sampling against the distribution --------------------------------------------------------

TEST(UnitSampling, BernoulliFrequenciesMatchTheMeans) {
    const std::size_t n = 100000;
    const std::vector<float> act = {-3.0f, -0.5f, 0.0f, 1.0f, 4.0f};
    Matrix input = Matrix::from_shape({n, act.size()});
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t j = 0; j < act.size(); ++j) input(r, j) = act[j];
    Matrix mean = Matrix::from_shape(input.shape());
    Matrix out = Matrix::from_shape(input.shape());
    bernoulli().mean(input, {}, mean);
    Rng rng{11};
    bernoulli().sample(input, mean, {}, out, rng);
    for (std::size_t j = 0; j < act.size(); ++j) {
        double ones = 0.0;
        for (std::size_t r = 0; r < n; ++r) {
            ASSERT_TRUE(out(r, j) == 0.0f || out(r, j) == 1.0f);
            ones += out(r, j);
        }
        const double p = mean(0, j), f = ones / n;
        EXPECT_NEAR(f, p, k_sigmas * std::sqrt(p * (1.0 - p) / n)) << "activation " << act[j];
    }
    // Units on their own: Bernoulli(sigmoid(b)) in every row.
    const std::vector<Real> b = {-1.0f, 0.0f, 2.0f};
    Matrix base = Matrix::from_shape({n, 3});
    bernoulli().sample_uncoupled({b.data()}, base, rng);
    for (std::size_t j = 0; j < 3; ++j) {
        double ones = 0.0;
        for (std::size_t r = 0; r < n; ++r) ones += base(r, j);
        const double p = sigmoid(b[j]);
        EXPECT_NEAR(ones / n, p, k_sigmas * std::sqrt(p * (1.0 - p) / n));
    }
}

TEST(UnitSampling, GaussianMeansAndVariancesMatch) {
    const std::size_t n = 100000;
    const std::vector<Real> a = {0.5f, -2.0f};
    const std::vector<Real> s = {1.0f, 0.3f};
    const UnitParams p{a.data(), s.data()};
    Matrix input = Matrix::from_shape({n, 2});
    for (std::size_t r = 0; r < n; ++r) {
        input(r, 0) = 1.5f;
        input(r, 1) = -4.0f;
    }
    Matrix mean = Matrix::from_shape(input.shape());
    Matrix out = Matrix::from_shape(input.shape());
    gaussian().mean(input, p, mean);
    Rng rng{12};
    gaussian().sample(input, mean, p, out, rng);
    Matrix base = Matrix::from_shape(input.shape());
    gaussian().sample_uncoupled(p, base, rng);
    for (std::size_t i = 0; i < 2; ++i) {
        const double mu = a[i] + s[i] * input(0, i);
        EXPECT_NEAR(mean(0, i), mu, 1e-6);
        for (const auto& [draws, centre] : {std::pair<const Matrix*, double>{&out, mu},
                                            std::pair<const Matrix*, double>{&base, a[i]}}) {
            double m = 0.0, sq = 0.0;
            for (std::size_t r = 0; r < n; ++r) m += (*draws)(r, i);
            m /= n;
            for (std::size_t r = 0; r < n; ++r) sq += ((*draws)(r, i) - m) * ((*draws)(r, i) - m);
            const double var = sq / (n - 1), s2 = double(s[i]) * s[i];
            EXPECT_NEAR(m, centre, k_sigmas * s[i] / std::sqrt(double(n)));
            EXPECT_NEAR(var, s2, k_sigmas * s2 * std::sqrt(2.0 / (n - 1)));
        }
    }
}

TEST(UnitSampling, NReluMatchesItsRectifiedGaussian) {
    // h = max(0, y), y ~ N(x, sigmoid(x)): P(h = 0) = Phi(-x / sd) and
    // E[h] = x Phi(x / sd) + sd phi(x / sd), sd = sqrt(sigmoid(x)).
    const std::size_t n = 100000;
    const std::vector<float> act = {-1.5f, 0.0f, 0.7f, 3.0f};
    Matrix input = Matrix::from_shape({n, act.size()});
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t j = 0; j < act.size(); ++j) input(r, j) = act[j];
    Matrix mean = Matrix::from_shape(input.shape());
    Matrix out = Matrix::from_shape(input.shape());
    nrelu().mean(input, {}, mean);
    Rng rng{13};
    nrelu().sample(input, mean, {}, out, rng);
    for (std::size_t j = 0; j < act.size(); ++j) {
        const double x = act[j], sd = std::sqrt(double(sigmoid(act[j])));
        EXPECT_EQ(mean(0, j), std::max(0.0f, act[j]));  // the noise-free value
        double zeros = 0.0, m = 0.0, sq = 0.0;
        for (std::size_t r = 0; r < n; ++r) {
            ASSERT_GE(out(r, j), 0.0f);
            zeros += out(r, j) == 0.0f ? 1.0 : 0.0;
            m += out(r, j);
        }
        m /= n;
        for (std::size_t r = 0; r < n; ++r) sq += (out(r, j) - m) * (out(r, j) - m);
        const double p0 = normal_cdf(-x / sd);
        const double phi = std::exp(-0.5 * (x / sd) * (x / sd)) / std::sqrt(2.0 * M_PI);
        const double expected = x * normal_cdf(x / sd) + sd * phi;
        EXPECT_NEAR(zeros / n, p0, k_sigmas * std::sqrt(p0 * (1.0 - p0) / n) + 1e-12);
        EXPECT_NEAR(m, expected, k_sigmas * std::sqrt(sq / (n - 1) / n)) << "activation " << x;
    }
}

// --- Energy terms, conditionals, base rates, scaling ------------------------------------------

TEST(UnitEnergy, TermsAndTheirDifferences) {
    const Matrix v = {{1.0f, 0.0f, 1.0f}, {0.5f, -2.0f, 3.0f}};
    const std::vector<Real> a = {0.5f, -1.0f, 2.0f}, b = {-0.3f, 0.2f, 1.0f};
    const std::vector<Real> s = {1.0f, 2.0f, 0.5f};
    for (std::size_t r = 0; r < 2; ++r) {
        std::vector<double> e(2, 0.0), g(2, 0.0), d(2, 0.0), dg(2, 0.0);
        bernoulli().add_energy(v, {a.data()}, e.data());
        gaussian().add_energy(v, {a.data(), s.data()}, g.data());
        bernoulli().add_energy_difference(v, {a.data()}, {b.data()}, d.data());
        gaussian().add_energy_difference(v, {a.data(), s.data()}, {b.data(), s.data()}, dg.data());
        double want_e = 0.0, want_g = 0.0, want_eb = 0.0, want_gb = 0.0;
        for (std::size_t i = 0; i < 3; ++i) {
            const double x = v(r, i);
            want_e += -a[i] * x;
            want_eb += -b[i] * x;
            want_g += (x - a[i]) * (x - a[i]) / (2.0 * s[i] * s[i]);
            want_gb += (x - b[i]) * (x - b[i]) / (2.0 * s[i] * s[i]);
        }
        EXPECT_NEAR(e[r], want_e, 1e-12);
        EXPECT_NEAR(g[r], want_g, 1e-12);
        EXPECT_NEAR(d[r], want_e - want_eb, 1e-12);
        EXPECT_NEAR(dg[r], want_g - want_gb, 1e-12);
        std::vector<double> n(2, 0.0);
        nrelu().add_energy(v, {a.data()}, n.data());
        EXPECT_NEAR(n[r], want_e, 1e-12);
    }
}

TEST(UnitConditionals, LogConditionalsAreNormalizedDensities) {
    // Bernoulli: p(0 | x) + p(1 | x) = 1, and log p(1 | x) = log sigmoid(x).
    for (float x : {-20.0f, -1.0f, 0.0f, 2.5f}) {
        std::vector<double> l0(1, 0.0), l1(1, 0.0);
        bernoulli().add_log_conditional(column({0.0f}), column({x}), {}, l0.data());
        bernoulli().add_log_conditional(column({1.0f}), column({x}), {}, l1.data());
        EXPECT_NEAR(std::exp(l0[0]) + std::exp(l1[0]), 1.0, 1e-12);
        EXPECT_NEAR(l1[0], std::log(sigmoid(x)), 1e-6);
    }
    // Gaussian: integral of p(v | c) dv = 1 (trapezoid), peak at a + s c.
    const std::vector<Real> a = {0.4f}, s = {0.6f};
    const UnitParams p{a.data(), s.data()};
    const float c = 1.2f;
    const double centre = a[0] + s[0] * c;
    const int n = 4000;
    const double lo = centre - 10.0 * s[0], dv = 20.0 * s[0] / n;
    Matrix states = Matrix::from_shape({std::size_t(n + 1), 1});
    Matrix inputs = Matrix::from_shape({std::size_t(n + 1), 1});
    for (int k = 0; k <= n; ++k) {
        states(k, 0) = static_cast<float>(lo + k * dv);
        inputs(k, 0) = c;
    }
    std::vector<double> l(n + 1, 0.0);
    gaussian().add_log_conditional(states, inputs, p, l.data());
    double integral = 0.0;
    for (int k = 0; k <= n; ++k) integral += (k == 0 || k == n ? 0.5 : 1.0) * std::exp(l[k]) * dv;
    EXPECT_NEAR(integral, 1.0, 1e-5);
    std::vector<double> at_peak(1, 0.0);
    gaussian().add_log_conditional(column({float(centre)}), column({c}), p, at_peak.data());
    EXPECT_NEAR(at_peak[0], -std::log(std::sqrt(2.0 * M_PI) * s[0]), 1e-6);
}

TEST(UnitBaseRates, BiasesReproduceTheColumnMeans) {
    const std::vector<double> mean = {0.0, 0.2, 0.5, 0.97, 1.0};
    std::vector<Real> bias(mean.size());
    bernoulli().base_rate_bias(mean.data(), mean.size(), k_base_rate_clip, bias.data());
    for (std::size_t i = 0; i < mean.size(); ++i) {
        const double want = std::min(std::max(mean[i], k_base_rate_clip), 1.0 - k_base_rate_clip);
        EXPECT_NEAR(sigmoid(bias[i]), want, 1e-6) << i;
    }
    gaussian().base_rate_bias(mean.data(), mean.size(), k_base_rate_clip, bias.data());
    for (std::size_t i = 0; i < mean.size(); ++i) EXPECT_EQ(bias[i], static_cast<Real>(mean[i]));
}

TEST(UnitScaling, GaussianStatesEnterTheWeightsDividedBySigma) {
    const Matrix v = {{1.0f, -3.0f}, {0.25f, 6.0f}};
    const std::vector<Real> s = {2.0f, 3.0f}, ones = {1.0f, 1.0f}, inv = {0.5f, 1.0f / 3.0f};
    EXPECT_FALSE(gaussian().input_is_state({nullptr, s.data()}, 2));
    EXPECT_TRUE(gaussian().input_is_state({nullptr, ones.data()}, 2));
    EXPECT_TRUE(bernoulli().input_is_state({}, 2));
    Matrix x = Matrix::from_shape({2, 2});
    gaussian().scale_input(v, {nullptr, s.data()}, x);
    EXPECT_EQ(x(0, 0), 0.5f);
    EXPECT_EQ(x(1, 1), 2.0f);
    gaussian().scale_input(v, {nullptr, s.data(), inv.data()}, x);  // through the reciprocals
    EXPECT_EQ(x(0, 1), -3.0f * (1.0f / 3.0f));
    bernoulli().scale_input(v, {}, x);
    EXPECT_EQ(x(1, 0), 0.25f);
}

}  // namespace
}  // namespace dbn
