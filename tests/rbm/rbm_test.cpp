#include "dbn/rbm/rbm.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "support/helpers.hpp"
#include "support/tolerances.hpp"

namespace dbn {
namespace {

using testing::all_binary_states;
using testing::random_rbm;

// Brute-force F(v) = -log sum_h exp(-E(v,h)) over every binary h.
double brute_free_energy(const Rbm& rbm, const Matrix& v_row) {
    const Matrix hs = all_binary_states(rbm.n_hidden());
    Matrix vs = Matrix::from_shape({hs.shape(0), rbm.n_visible()});
    for (std::size_t r = 0; r < hs.shape(0); ++r)
        for (std::size_t i = 0; i < rbm.n_visible(); ++i) vs(r, i) = v_row(0, i);
    const DVector e = rbm.energy(vs, hs);
    std::vector<double> neg(e.begin(), e.end());
    for (auto& x : neg) x = -x;
    return -logsumexp(neg.begin(), neg.end());
}

double brute_hidden_free_energy(const Rbm& rbm, const Matrix& h_row) {
    const Matrix vs = all_binary_states(rbm.n_visible());
    Matrix hs = Matrix::from_shape({vs.shape(0), rbm.n_hidden()});
    for (std::size_t r = 0; r < vs.shape(0); ++r)
        for (std::size_t j = 0; j < rbm.n_hidden(); ++j) hs(r, j) = h_row(0, j);
    const DVector e = rbm.energy(vs, hs);
    std::vector<double> neg(e.begin(), e.end());
    for (auto& x : neg) x = -x;
    return -logsumexp(neg.begin(), neg.end());
}

Matrix row_of(const Matrix& m, std::size_t r) {
    Matrix out = Matrix::from_shape({1, m.shape(1)});
    for (std::size_t k = 0; k < m.shape(1); ++k) out(0, k) = m(r, k);
    return out;
}

TEST(RbmFreeEnergy, MatchesBruteForceMarginalBernoulli) {
    Rng rng{7};
    const Rbm rbm = random_rbm(5, 4, rng);
    const Matrix states = all_binary_states(5);
    const DVector f = rbm.free_energy(states);
    for (std::size_t r = 0; r < states.shape(0); ++r)
        EXPECT_NEAR(f(r), brute_free_energy(rbm, row_of(states, r)),
                    testing::k_rel_tol_float * (1.0 + std::abs(f(r))))
            << "state " << r;
}

TEST(RbmFreeEnergy, HiddenSideMatchesBruteForceBernoulli) {
    Rng rng{8};
    const Rbm rbm = random_rbm(5, 4, rng);
    const Matrix hs = all_binary_states(4);
    const DVector g = rbm.hidden_free_energy(hs);
    for (std::size_t r = 0; r < hs.shape(0); ++r)
        EXPECT_NEAR(g(r), brute_hidden_free_energy(rbm, row_of(hs, r)),
                    testing::k_rel_tol_float * (1.0 + std::abs(g(r))))
            << "state " << r;
}

TEST(RbmFreeEnergy, BothSidesGiveTheSameLogZ) {
    Rng rng{9};
    const Rbm rbm = random_rbm(6, 5, rng);
    const DVector f = rbm.free_energy(all_binary_states(6));
    const DVector g = rbm.hidden_free_energy(all_binary_states(5));
    std::vector<double> nf(f.begin(), f.end()), ng(g.begin(), g.end());
    for (auto& x : nf) x = -x;
    for (auto& x : ng) x = -x;
    EXPECT_NEAR(logsumexp(nf.begin(), nf.end()), logsumexp(ng.begin(), ng.end()), 1e-4);
}

TEST(RbmFreeEnergy, GaussianHiddenSideMatchesNumericalIntegral) {
    // One Gaussian visible unit, two hidden: integrate exp(-E(v,h)) over v by the trapezoid rule.
    Rng rng{10};
    Rbm rbm = random_rbm(1, 2, rng, 0.7f, UnitType::gaussian);
    rbm.visible_sigma()(0) = 1.7f;
    const Matrix hs = all_binary_states(2);
    const DVector g = rbm.hidden_free_energy(hs);
    for (std::size_t r = 0; r < hs.shape(0); ++r) {
        const double lo = -40.0, hi = 40.0;
        const int n = 200000;
        const double dv = (hi - lo) / n;
        double sum = 0.0;
        Matrix v = Matrix::from_shape({1, 1});
        const Matrix h = row_of(hs, r);
        for (int k = 0; k <= n; ++k) {
            v(0, 0) = static_cast<float>(lo + k * dv);
            const double w = (k == 0 || k == n) ? 0.5 : 1.0;
            sum += w * std::exp(-rbm.energy(v, h)(0));
        }
        EXPECT_NEAR(g(r), -std::log(sum * dv), 1e-4) << "hidden state " << r;
    }
}

TEST(RbmFreeEnergy, StableForHugeActivations) {
    Rbm rbm(2, 2);
    rbm.weights() = {{1000.0f, -1000.0f}, {-1000.0f, 1000.0f}};
    Matrix v = {{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 1.0f}};
    const DVector f = rbm.free_energy(v);
    // act = (1000, -1000): softplus = 1000 + log1p(e^-1000) and log1p(e^-1000).
    EXPECT_NEAR(f(0), -1000.0, 1e-9);
    EXPECT_NEAR(f(1), -1000.0, 1e-9);
    EXPECT_NEAR(f(2), -2.0 * std::log(2.0), 1e-9);
    const DVector g = rbm.hidden_free_energy(v);
    for (double x : g) EXPECT_TRUE(std::isfinite(x));
    EXPECT_NEAR(g(0), -1000.0, 1e-9);
}

TEST(RbmConditionals, HiddenProbabilitiesMatchBruteForce) {
    Rng rng{11};
    const Rbm rbm = random_rbm(4, 3, rng);
    const Matrix vs = all_binary_states(4);
    Matrix p = Matrix::from_shape({vs.shape(0), 3});
    rbm.hidden_probabilities(vs, p);
    const Matrix hs = all_binary_states(3);
    for (std::size_t r = 0; r < vs.shape(0); ++r) {
        // p(h_j = 1 | v) = sum_{h: h_j=1} exp(-E) / sum_h exp(-E)
        Matrix vrep = Matrix::from_shape({hs.shape(0), 4});
        for (std::size_t s = 0; s < hs.shape(0); ++s)
            for (std::size_t i = 0; i < 4; ++i) vrep(s, i) = vs(r, i);
        const DVector e = rbm.energy(vrep, hs);
        double z = 0.0;
        std::vector<double> on(3, 0.0);
        for (std::size_t s = 0; s < hs.shape(0); ++s) {
            const double w = std::exp(-e(s));
            z += w;
            for (std::size_t j = 0; j < 3; ++j) on[j] += hs(s, j) * w;
        }
        for (std::size_t j = 0; j < 3; ++j) EXPECT_NEAR(p(r, j), on[j] / z, 1e-6);
    }
}

TEST(RbmConditionals, VisibleMeanMatchesBruteForce) {
    Rng rng{12};
    const Rbm rbm = random_rbm(3, 4, rng);
    const Matrix hs = all_binary_states(4);
    Matrix m = Matrix::from_shape({hs.shape(0), 3});
    rbm.visible_mean(hs, m);
    const Matrix vs = all_binary_states(3);
    for (std::size_t r = 0; r < hs.shape(0); ++r) {
        Matrix hrep = Matrix::from_shape({vs.shape(0), 4});
        for (std::size_t s = 0; s < vs.shape(0); ++s)
            for (std::size_t j = 0; j < 4; ++j) hrep(s, j) = hs(r, j);
        const DVector e = rbm.energy(vs, hrep);
        double z = 0.0;
        std::vector<double> on(3, 0.0);
        for (std::size_t s = 0; s < vs.shape(0); ++s) {
            const double w = std::exp(-e(s));
            z += w;
            for (std::size_t i = 0; i < 3; ++i) on[i] += vs(s, i) * w;
        }
        for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(m(r, i), on[i] / z, 1e-6);
    }
}

TEST(RbmConditionals, GaussianVisibleMeanAndSampleMoments) {
    Rng rng{13};
    Rbm rbm = random_rbm(2, 3, rng, 0.5f, UnitType::gaussian);
    rbm.visible_sigma() = {0.5f, 2.0f};
    Matrix h = {{1.0f, 0.0f, 1.0f}};
    Matrix m = Matrix::from_shape({1, 2});
    rbm.visible_mean(h, m);
    for (std::size_t i = 0; i < 2; ++i) {
        const double wh = rbm.weights()(i, 0) + rbm.weights()(i, 2);
        EXPECT_NEAR(m(0, i), rbm.visible_bias()(i) + rbm.visible_sigma()(i) * wh, 1e-6);
    }
    const std::size_t n = 200000;
    Matrix means = Matrix::from_shape({n, 2});
    for (std::size_t r = 0; r < n; ++r) {
        means(r, 0) = m(0, 0);
        means(r, 1) = m(0, 1);
    }
    Matrix s = Matrix::from_shape({n, 2});
    rbm.sample_visible(means, s, rng);
    for (std::size_t i = 0; i < 2; ++i) {
        double mu = 0.0, var = 0.0;
        for (std::size_t r = 0; r < n; ++r) mu += s(r, i);
        mu /= n;
        for (std::size_t r = 0; r < n; ++r) var += (s(r, i) - mu) * (s(r, i) - mu);
        var /= (n - 1);
        const double sd = rbm.visible_sigma()(i);
        // Standard error of the mean is sd/sqrt(n); of the variance about sd^2 sqrt(2/n).
        EXPECT_NEAR(mu, m(0, i), 4.0 * sd / std::sqrt(double(n)));
        EXPECT_NEAR(var, sd * sd, 4.0 * sd * sd * std::sqrt(2.0 / n));
    }
}

TEST(RbmConditionals, GaussianFreeEnergyMatchesNumericalIntegralOverHidden) {
    // F(v) for Gaussian visible units: brute force over the binary hidden states.
    Rng rng{14};
    Rbm rbm = random_rbm(3, 4, rng, 0.8f, UnitType::gaussian);
    rbm.visible_sigma() = {0.5f, 1.0f, 2.0f};
    Matrix v = {{0.3f, -1.2f, 2.5f}};
    EXPECT_NEAR(rbm.free_energy(v)(0), brute_free_energy(rbm, v), 1e-4);
}

TEST(RbmConditionals, ReluHiddenHasNoFreeEnergy) {
    Rbm rbm(3, 2, UnitType::bernoulli, UnitType::relu);
    Matrix v = {{1.0f, 0.0f, 1.0f}};
    EXPECT_THROW(rbm.free_energy(v), ConfigError);
}

TEST(RbmConditionals, ReluSamplesAreNonNegativeWithTheRightMean) {
    Rbm rbm(1, 1, UnitType::bernoulli, UnitType::relu);
    const std::size_t n = 200000;
    Matrix act = Matrix::from_shape({n, 1});
    act.fill(0.5f);
    Matrix mean = Matrix::from_shape({n, 1});
    rbm.hidden_mean(act, mean);
    EXPECT_FLOAT_EQ(mean(0, 0), 0.5f);
    Matrix s = Matrix::from_shape({n, 1});
    Rng rng{15};
    rbm.sample_hidden(act, mean, s, rng);
    // E[max(0, x + sd Z)] = x Phi(x/sd) + sd phi(x/sd), sd = sqrt(sigmoid(x)).
    const double x = 0.5, sd = std::sqrt(sigmoid(0.5f));
    const double z = x / sd;
    const double expected = x * 0.5 * std::erfc(-z / std::sqrt(2.0)) +
                            sd * std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI);
    double mu = 0.0;
    for (std::size_t r = 0; r < n; ++r) {
        ASSERT_GE(s(r, 0), 0.0f);
        mu += s(r, 0);
    }
    EXPECT_NEAR(mu / n, expected, 4.0 * sd / std::sqrt(double(n)));
}

TEST(RbmShapes, WrongColumnCountIsAShapeError) {
    Rbm rbm(4, 3);
    Matrix v = Matrix::from_shape({2, 5});
    Matrix out = Matrix::from_shape({2, 3});
    EXPECT_THROW(rbm.hidden_activation(v, out), ShapeError);
    EXPECT_THROW(rbm.free_energy(v), ShapeError);
    EXPECT_THROW(Rbm(0, 3), ConfigError);
    EXPECT_THROW(Rbm(3, 3, UnitType::relu, UnitType::bernoulli), ConfigError);
}

TEST(RbmTurnedOver, FreeEnergiesSwapSides) {
    Rng rng{16};
    const Rbm rbm = random_rbm(5, 3, rng);
    const Rbm t = rbm.turned_over();
    const Matrix hs = all_binary_states(3);
    EXPECT_TRUE(testing::allclose(t.free_energy(hs), rbm.hidden_free_energy(hs), 1e-6, 1e-6));
    EXPECT_EQ(t.visible_type(), UnitType::bernoulli);
    EXPECT_EQ(t.hidden_type(), UnitType::bernoulli);
}

TEST(RbmTurnedOver, RefusesUnitsThatCannotSwapSides) {
    EXPECT_THROW(Rbm(3, 2, UnitType::gaussian).turned_over(), ConfigError);
    EXPECT_THROW(Rbm(3, 2, UnitType::bernoulli, UnitType::relu).turned_over(), ConfigError);
}

TEST(RbmUnits, MethodsDispatchToTheFamilies) {
    Rng rng{17};
    Rbm rbm = random_rbm(3, 4, rng, 0.5f, UnitType::gaussian, UnitType::relu);
    rbm.visible_sigma() = {0.5f, 2.0f, 1.5f};
    EXPECT_EQ(&rbm.visible_units(), &units(UnitType::gaussian));
    EXPECT_EQ(&rbm.hidden_units(), &units(UnitType::relu));
    EXPECT_EQ(rbm.visible_params().bias, rbm.visible_bias().data());
    EXPECT_EQ(rbm.visible_params().sigma, rbm.visible_sigma().data());
    EXPECT_EQ(rbm.hidden_params().bias, rbm.hidden_bias().data());
    // hidden_activation is the visible units' scaling, then hidden_activation_of_input.
    const Matrix v = {{0.3f, -1.2f, 2.5f}, {1.0f, 0.0f, -0.5f}};
    Matrix act = Matrix::from_shape({2, 4}), by_parts = Matrix::from_shape({2, 4});
    Matrix x = Matrix::from_shape({2, 3});
    rbm.hidden_activation(v, act);
    rbm.visible_units().scale_input(v, rbm.visible_params(), x);
    rbm.hidden_activation_of_input(x, by_parts);
    EXPECT_EQ(act, by_parts);
    // visible_mean: a + s (W h) for Gaussian units.
    const Matrix h = {{1.0f, 0.0f, 2.0f, 0.5f}};
    Matrix mean = Matrix::from_shape({1, 3});
    rbm.visible_mean(h, mean);
    for (std::size_t i = 0; i < 3; ++i) {
        double wh = 0.0;
        for (std::size_t j = 0; j < 4; ++j) wh += double(rbm.weights()(i, j)) * h(0, j);
        EXPECT_NEAR(mean(0, i), rbm.visible_bias()(i) + rbm.visible_sigma()(i) * wh, 1e-5);
    }
}

}  // namespace
}  // namespace dbn
