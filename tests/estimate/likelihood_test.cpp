#include "dbn/estimate/likelihood.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/estimate/exact_log_partition.hpp"
#include "support/helpers.hpp"
#include "support/tolerances.hpp"

namespace dbn::estimate {
namespace {

using testing::all_binary_states;
using testing::random_rbm;

/// F(v) comes from Rbm::free_energy, whose activations are a float GEMM: relative agreement
/// with double references to about 1e-6 for these sizes (the shared float tolerance, 1e-4,
/// bounds it).
constexpr double k_tol = testing::k_rel_tol_float;

/// log p(v) by the definition: log sum_h exp(-E(v, h)) - log sum_{v', h} exp(-E(v', h)).
double brute_log_p(const Rbm& rbm, const Matrix& v_row) {
    const Matrix vs = all_binary_states(rbm.n_visible());
    const Matrix hs = all_binary_states(rbm.n_hidden());
    LogSumExp all, mine;
    for (std::size_t a = 0; a < vs.shape(0); ++a) {
        Matrix v = Matrix::from_shape({hs.shape(0), rbm.n_visible()});
        bool same = true;
        for (std::size_t i = 0; i < rbm.n_visible(); ++i) same = same && vs(a, i) == v_row(0, i);
        for (std::size_t b = 0; b < hs.shape(0); ++b)
            for (std::size_t i = 0; i < rbm.n_visible(); ++i) v(b, i) = vs(a, i);
        for (double e : rbm.energy(v, hs)) {
            all.add(-e);
            if (same) mine.add(-e);
        }
    }
    return mine.value() - all.value();
}

TEST(MeanLogLikelihood, MatchesBruteForceProbabilities) {
    Rng rng{31};
    const Rbm rbm = random_rbm(5, 4, rng);
    const Matrix data = {{1, 0, 1, 1, 0}, {0, 0, 0, 1, 1}, {1, 1, 1, 1, 1}, {1, 0, 1, 1, 0}};
    double expected = 0.0;
    for (std::size_t r = 0; r < data.shape(0); ++r) {
        Matrix row = Matrix::from_shape({1, 5});
        for (std::size_t i = 0; i < 5; ++i) row(0, i) = data(r, i);
        expected += brute_log_p(rbm, row) / data.shape(0);
    }
    const LogLikelihood ll = mean_log_likelihood(rbm, data, exact_log_partition(rbm));
    EXPECT_NEAR(ll.mean, expected, k_tol * std::abs(expected));
    EXPECT_EQ(ll.low, ll.mean);
    EXPECT_EQ(ll.high, ll.mean);
    EXPECT_EQ(ll.samples, 4u);
}

TEST(MeanLogLikelihood, ProbabilitiesOfAllStatesSumToOne) {
    Rng rng{32};
    const Rbm rbm = random_rbm(7, 5, rng, 0.8f);
    const double log_z = exact_log_partition(rbm);
    const Matrix states = all_binary_states(7);
    LogSumExp total;
    for (std::size_t r = 0; r < states.shape(0); ++r)
        total.add(mean_log_likelihood(rbm, ConstRows(states).block(r, 1), log_z).mean);
    // log sum_v p(v) = 0; each log p carries the float-GEMM error of its F(v).
    EXPECT_NEAR(total.value(), 0.0, k_tol);
}

TEST(MeanLogLikelihood, LogZIntervalEntersWithFlippedSigns) {
    Rng rng{33};
    const Rbm rbm = random_rbm(6, 3, rng);
    const Matrix data = all_binary_states(6);
    const double mean_f = mean_free_energy(rbm, data);
    AisResult ais;
    ais.log_z = 10.0;
    ais.log_z_low = 9.5;
    ais.log_z_high = 10.8;
    const LogLikelihood ll = mean_log_likelihood(rbm, data, ais);
    EXPECT_NEAR(ll.mean_free_energy, mean_f, testing::k_abs_tol_double);
    EXPECT_NEAR(ll.mean, -mean_f - 10.0, testing::k_abs_tol_double);
    EXPECT_NEAR(ll.low, -mean_f - 10.8, testing::k_abs_tol_double);
    EXPECT_NEAR(ll.high, -mean_f - 9.5, testing::k_abs_tol_double);
    // An AIS interval open below (mean w - 3 se <= 0) leaves the likelihood open above.
    ais.log_z_low = -std::numeric_limits<double>::infinity();
    const LogLikelihood open = mean_log_likelihood(rbm, data, ais);
    EXPECT_EQ(open.high, std::numeric_limits<double>::infinity());
    EXPECT_NEAR(open.low, -mean_f - 10.8, testing::k_abs_tol_double);
}

TEST(MeanLogLikelihood, RejectsBadInputs) {
    Rbm rbm(4, 3);
    const Matrix data = Matrix::from_shape({2, 4});
    EXPECT_THROW(mean_log_likelihood(rbm, data, std::numeric_limits<double>::quiet_NaN()),
                 NumericalError);
    EXPECT_THROW(mean_log_likelihood(rbm, Matrix::from_shape({2, 5}), 1.0), ShapeError);
    EXPECT_THROW(mean_log_likelihood(rbm, Matrix::from_shape({0, 4}), 1.0), ShapeError);
    EXPECT_THROW(mean_log_likelihood(rbm, data, LogPartition{1.0, 2.0, 3.0}), NumericalError);
    Rbm relu(4, 3, UnitType::bernoulli, UnitType::relu);
    EXPECT_THROW(mean_log_likelihood(relu, data, 1.0), ConfigError);
}

TEST(MeanFreeEnergy, MatchesRbmFreeEnergyAcrossBlocks) {
    // 2,500 rows: two full blocks of 1,024 and a partial one.
    Rng rng{34};
    const Rbm rbm = random_rbm(10, 6, rng, 0.5f);
    Matrix data = Matrix::from_shape({2500, 10});
    for (auto& x : data) x = rng.uniform() < 0.4f ? 1.0f : 0.0f;
    const DVector f = rbm.free_energy(data);
    double mean = 0.0;
    for (double x : f) mean += x;
    mean /= 2500.0;
    EXPECT_NEAR(mean_free_energy(rbm, data), mean, 1e-12 * std::abs(mean) + 1e-12);
}

}  // namespace
}  // namespace dbn::estimate
