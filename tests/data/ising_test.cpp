#include "dbn/data/ising.hpp"

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/data/readers.hpp"
#include "dbn/data/row_source.hpp"
#include "support/helpers.hpp"

namespace dbn::data {
namespace {

constexpr double k_pi = 3.14159265358979323846;
const std::vector<double> k_temperatures = {0.5, 1.0, 1.5, 2.0, k_ising_critical_temperature,
                                            2.5, 3.0, 5.0, 10.0};

// Every state of the L x L lattice: energies (by bonds counted directly, not by ising_energy)
// and |magnetization|.
struct Enumeration {
    std::vector<double> energy, magnetization;
    explicit Enumeration(std::size_t size) {
        const std::size_t n = size * size;
        for (std::size_t state = 0; state < (std::size_t{1} << n); ++state) {
            auto s = [&](std::size_t i, std::size_t j) {
                return ((state >> ((i % size) * size + (j % size))) & 1U) ? 1 : -1;
            };
            long e = 0, m = 0;
            for (std::size_t i = 0; i < size; ++i)
                for (std::size_t j = 0; j < size; ++j) {
                    e -= s(i, j) * s(i, j + 1) + s(i, j) * s(i + 1, j);
                    m += s(i, j);
                }
            energy.push_back(static_cast<double>(e));
            magnetization.push_back(std::abs(static_cast<double>(m)));
        }
    }
    double log_z(double t) const {
        double top = -1e300;
        for (double e : energy) top = std::max(top, -e / t);
        double sum = 0.0;
        for (double e : energy) sum += std::exp(-e / t - top);
        return top + std::log(sum);
    }
    // <f> under p at temperature t.
    template <class F>
    double mean(double t, F f) const {
        const double lz = log_z(t);
        double sum = 0.0;
        for (std::size_t k = 0; k < energy.size(); ++k) sum += std::exp(-energy[k] / t - lz) * f(k);
        return sum;
    }
};

// Kaufman's formula against enumeration of all 2^(L^2) states for every lattice up to 4 x 4, on
// both sides of T_c (below it Z_4 is negative): the two sums of 2^16 terms agree to double
// rounding, so 1e-10 relative is far above what they can differ by and far below any error of the
// formula (a wrong sign of one term moves log Z by ~1e-3 or more at these sizes).
TEST(Ising, ExactLogZMatchesEnumerationUpToFourByFour) {
    for (std::size_t size : {2, 3, 4}) {
        const Enumeration all(size);
        for (double t : k_temperatures) {
            const double exact = all.log_z(t);
            EXPECT_NEAR(ising_log_partition(size, t), exact, 1e-10 * std::abs(exact))
                << size << "x" << size << " at T = " << t;
        }
    }
}

// log Z / L^2 approaches Onsager's free energy: away from T_c the finite-size correction of a
// torus is exponentially small in L / xi, except that below T_c the finite lattice holds both
// ordered phases, Z ~ 2 Z_phase, so log Z / N exceeds the limit by log 2 / N (measured at
// L = 64: 1.692e-4 = log 2 / 4096 at T = 1 and 1.5). At T_c the correction falls as 1/L^2.
TEST(Ising, ExactLogZPerSpinApproachesOnsager) {
    const double n64 = 64.0 * 64.0;
    for (double t : {1.0, 1.5, 3.0, 5.0}) {
        const double f = ising_onsager_log_partition_per_spin(t);
        const double phases = t < k_ising_critical_temperature ? std::log(2.0) / n64 : 0.0;
        EXPECT_NEAR(ising_log_partition(64, t) / n64, f + phases, 1e-9) << "T = " << t;
    }
    const double fc = ising_onsager_log_partition_per_spin(k_ising_critical_temperature);
    double previous = 1.0;
    for (std::size_t size : {32, 64, 128, 256}) {
        const double n = static_cast<double>(size * size);
        const double diff =
            std::abs(ising_log_partition(size, k_ising_critical_temperature) / n - fc);
        EXPECT_LT(diff, 1.0 / n) << size;
        EXPECT_LT(diff, previous) << size;
        previous = diff;
    }
    // Onsager at T_c in closed form: log(sqrt 2) + 2 G / pi, G Catalan's constant.
    EXPECT_NEAR(fc, 0.5 * std::log(2.0) + 2.0 * 0.915965594177219015 / k_pi, 1e-8);
    // Large L at any temperature stays finite (the products are summed in logarithms).
    for (double t : {0.05, 1e6}) EXPECT_TRUE(std::isfinite(ising_log_partition(1024, t))) << t;
}

TEST(Ising, MeanEnergyIsTheDerivativeOfLogZ) {
    const Enumeration all(4);
    for (double t : k_temperatures) {
        const double exact = all.mean(t, [&](std::size_t k) { return all.energy[k]; });
        EXPECT_NEAR(ising_mean_energy(4, t), exact, 1e-7 * std::max(1.0, std::abs(exact))) << t;
    }
}

// C = K^2 (d^2 log Z / dK^2) / N against Var(E) / (T^2 N) of the enumeration, at every lattice up
// to 4 x 4 and nine temperatures: measured errors are below 2e-9 absolute (rounding of the second
// difference of log Z, ~1e-16 |log Z| / step^2); 1e-7 absolute plus 1e-7 relative leaves room on
// other compilers and is far below the sampling errors this is compared with (1e-3 and more).
TEST(Ising, SpecificHeatIsTheSecondDerivativeOfLogZ) {
    for (std::size_t size : {2, 3, 4}) {
        const Enumeration all(size);
        const double n = static_cast<double>(size * size);
        for (double t : k_temperatures) {
            const double mean = all.mean(t, [&](std::size_t k) { return all.energy[k]; });
            const double var =
                all.mean(t, [&](std::size_t k) { return std::pow(all.energy[k] - mean, 2); });
            const double exact = var / (t * t * n);
            EXPECT_NEAR(ising_specific_heat(size, t), exact, 1e-7 + 1e-7 * exact)
                << size << "x" << size << " at T = " << t;
        }
    }
    // Finite and positive on large lattices, and peaked near T_c at L = 64.
    const double at_tc = ising_specific_heat(64, k_ising_critical_temperature);
    EXPECT_GT(at_tc, ising_specific_heat(64, 2.0));
    EXPECT_GT(at_tc, ising_specific_heat(64, 2.6));
    for (double t : {0.5, 1.0, k_ising_critical_temperature, 10.0}) {
        const double c = ising_specific_heat(1024, t);
        EXPECT_TRUE(std::isfinite(c) && c >= 0.0) << t << ": " << c;
    }
}

// Every state of the 4 x 4 lattice as a row, weighted by its exact probability: the observables
// are the exact ones, up to the rounding of sums of 2^16 terms and of the finite differences
// (energy and C against the derivatives of Kaufman's log Z, |m| and chi against the enumeration).
TEST(Ising, ObservablesOfExactlyWeightedStatesAreTheExactOnes) {
    const std::size_t size = 4, n = 16, states = std::size_t{1} << n;
    const Enumeration all(size);
    Matrix rows = Matrix::from_shape({states, n});
    for (std::size_t state = 0; state < states; ++state)
        for (std::size_t k = 0; k < n; ++k) rows(state, k) = ((state >> k) & 1U) ? 1.0f : 0.0f;
    for (double t : {1.0, 1.8, k_ising_critical_temperature, 3.0, 5.0}) {
        const double lz = all.log_z(t);
        std::vector<double> p(states);
        for (std::size_t k = 0; k < states; ++k) p[k] = std::exp(-all.energy[k] / t - lz);
        const IsingObservables o = ising_observables(rows, size, t, p);
        EXPECT_EQ(o.count, states);
        EXPECT_NEAR(o.energy.value, ising_mean_energy(size, t) / 16.0, 1e-8) << t;
        EXPECT_NEAR(o.specific_heat.value, ising_specific_heat(size, t), 1e-7) << t;
        const double m1 = all.mean(t, [&](std::size_t k) { return all.magnetization[k]; }) / 16.0;
        const double m2 =
            all.mean(t, [&](std::size_t k) { return std::pow(all.magnetization[k] / 16.0, 2); });
        EXPECT_NEAR(o.magnetization.value, m1, 1e-10) << t;
        EXPECT_NEAR(o.susceptibility.value, 16.0 * (m2 - m1 * m1) / t, 1e-9) << t;
        EXPECT_EQ(o.energy.standard_error, 0.0);
        EXPECT_EQ(o.specific_heat.standard_error, 0.0);
    }
    // Equal weights are the same as none, but for the standard errors.
    Matrix few = Matrix::from_shape({3, n});
    for (std::size_t k = 0; k < n; ++k) few(0, k) = 1.0f, few(1, k) = 0.0f, few(2, k) = k % 2;
    const IsingObservables a = ising_observables(few, size, 2.0),
                           b = ising_observables(few, size, 2.0, {1.0, 1.0, 1.0});
    EXPECT_DOUBLE_EQ(a.energy.value, b.energy.value);
    EXPECT_DOUBLE_EQ(a.specific_heat.value, b.specific_heat.value);
    EXPECT_DOUBLE_EQ(a.susceptibility.value, b.susceptibility.value);
    // All up, all down, a stripe pattern: E/N = -2, -2, 0; |m| = 1, 1, 0.
    EXPECT_NEAR(a.energy.value, -4.0 / 3.0, 1e-12);
    EXPECT_NEAR(a.magnetization.value, 2.0 / 3.0, 1e-12);
    EXPECT_NEAR(a.susceptibility.value, 16.0 * (2.0 / 9.0) / 2.0, 1e-12);
    EXPECT_GT(a.energy.standard_error, 0.0);

    EXPECT_THROW(ising_observables(few, 5, 2.0), ShapeError);
    EXPECT_THROW(ising_observables(Matrix::from_shape({0, 16}), 4, 2.0), ShapeError);
    EXPECT_THROW(ising_observables(few, 4, 2.0, {1.0, 1.0}), ShapeError);
    EXPECT_THROW(ising_observables(few, 4, 2.0, {1.0, -1.0, 1.0}), ConfigError);
    EXPECT_THROW(ising_observables(few, 4, 2.0, {0.0, 0.0, 0.0}), ConfigError);
    EXPECT_THROW(ising_observables(few, 4, 0.0), ConfigError);
}

// Wolff samples against the exact observables: all four on the 4 x 4 lattice (enumeration), the
// energy and specific heat on the 16 x 16 lattice (Kaufman), on both sides of T_c and at it,
// each within 4 of its standard errors, inflated by 1.5 as in WolffSamplesHaveTheExactMeans for
// the correlation left between samples 2 tau + 1 flips apart.
TEST(Ising, ObservablesOfWolffSamplesMatchTheExactOnes) {
    const Enumeration all(4);
    for (double t : {1.8, k_ising_critical_temperature, 3.0}) {
        for (std::size_t size : {4, 16}) {
            IsingSpec spec;
            spec.size = size;
            spec.temperature = t;
            spec.count = 20000;
            spec.seed = 21;
            const IsingObservables o = ising_observables(ising_samples(spec).visible, size, t);
            const auto near = [&](const IsingEstimate& x, double exact, const char* what) {
                EXPECT_GT(x.standard_error, 0.0) << what;
                EXPECT_NEAR(x.value, exact, 4.0 * 1.5 * x.standard_error)
                    << what << " of " << size << "x" << size << " at T = " << t;
            };
            near(o.energy, ising_mean_energy(size, t) / static_cast<double>(size * size), "energy");
            near(o.specific_heat, ising_specific_heat(size, t), "specific heat");
            if (size == 4) {
                const double m1 =
                    all.mean(t, [&](std::size_t k) { return all.magnetization[k]; }) / 16.0;
                const double m2 = all.mean(
                    t, [&](std::size_t k) { return std::pow(all.magnetization[k] / 16.0, 2); });
                near(o.magnetization, m1, "|m|");
                near(o.susceptibility, 16.0 * (m2 - m1 * m1) / t, "susceptibility");
            }
        }
    }
}

// Wolff samples of the 4 x 4 lattice: mean energy and |magnetization| per spin within 4 standard
// errors of the exact values, on both sides of T_c and at it. The samples are spaced by 2 tau + 1
// flips, so about independent; the standard error is inflated by 1.5 for what correlation is left.
TEST(Ising, WolffSamplesHaveTheExactMeans) {
    const Enumeration all(4);
    for (double t : {1.5, k_ising_critical_temperature, 4.0}) {
        IsingSpec spec;
        spec.size = 4;
        spec.temperature = t;
        spec.count = 20000;
        spec.seed = 7;
        const IsingSamples s = ising_samples(spec);
        ASSERT_EQ(s.visible.shape(0), 20000u);
        ASSERT_EQ(s.visible.shape(1), 16u);
        std::vector<double> e(spec.count), m(spec.count);
        for (std::size_t r = 0; r < spec.count; ++r) {
            const float* v = s.visible.data() + r * 16;
            e[r] = ising_energy(v, 4) / 16.0;
            double mag = 0.0;
            for (std::size_t k = 0; k < 16; ++k) mag += v[k] > 0.5f ? 1.0 : -1.0;
            m[r] = std::abs(mag) / 16.0;
            // The recorded log-probability is the exact one of the row.
            ASSERT_NEAR(s.log_prob[r], -ising_energy(v, 4) / t - s.log_z, 1e-12);
        }
        auto mean_se = [](const std::vector<double>& x) {
            double mu = 0.0, var = 0.0;
            for (double v : x) mu += v;
            mu /= static_cast<double>(x.size());
            for (double v : x) var += (v - mu) * (v - mu);
            var /= static_cast<double>(x.size() - 1);
            return std::pair<double, double>{mu,
                                             1.5 * std::sqrt(var / static_cast<double>(x.size()))};
        };
        const auto [me, se_e] = mean_se(e);
        const auto [mm, se_m] = mean_se(m);
        const double exact_e = all.mean(t, [&](std::size_t k) { return all.energy[k]; }) / 16.0;
        const double exact_m =
            all.mean(t, [&](std::size_t k) { return all.magnetization[k]; }) / 16.0;
        EXPECT_NEAR(me, exact_e, 4.0 * se_e) << "T = " << t;
        EXPECT_NEAR(mm, exact_m, 4.0 * se_m) << "T = " << t;
        EXPECT_NEAR(s.log_z, all.log_z(t), 1e-10 * std::abs(s.log_z));
        EXPECT_GE(s.tau_energy, 0.5);
        EXPECT_EQ(s.spacing, static_cast<std::size_t>(
                                 std::ceil(2.0 * std::max(s.tau_energy, s.tau_magnetization))) +
                                 1);
    }
}

// On the 3 x 3 lattice the whole distribution: 50,000 samples over 512 states, total variation
// distance from the exact p below 2.5 times its expectation for independent samples,
// 1/2 sum_s sqrt(2 p(s) / (pi N)) (the mean |p_hat - p| of a binomial frequency).
TEST(Ising, WolffSamplesFollowTheExactDistribution) {
    const Enumeration all(3);
    const double t = 2.0, lz = all.log_z(t);
    IsingSpec spec;
    spec.size = 3;
    spec.temperature = t;
    spec.count = 50000;
    spec.seed = 11;
    const IsingSamples s = ising_samples(spec);
    std::vector<double> freq(512, 0.0);
    for (std::size_t r = 0; r < spec.count; ++r) {
        std::size_t state = 0;
        for (std::size_t k = 0; k < 9; ++k)
            if (s.visible(r, k) > 0.5f) state |= std::size_t{1} << k;
        freq[state] += 1.0 / static_cast<double>(spec.count);
    }
    double tv = 0.0, expected = 0.0;
    for (std::size_t k = 0; k < 512; ++k) {
        const double p = std::exp(-all.energy[k] / t - lz);
        tv += 0.5 * std::abs(freq[k] - p);
        expected += 0.5 * std::sqrt(2.0 * p / (k_pi * static_cast<double>(spec.count)));
    }
    EXPECT_LT(tv, 2.5 * expected) << "expected about " << expected;
}

TEST(Ising, SameSpecSameSamplesAndBadSpecsRefused) {
    IsingSpec spec;
    spec.size = 8;
    spec.count = 50;
    const IsingSamples a = ising_samples(spec), b = ising_samples(spec);
    ASSERT_EQ(a.visible.size(), b.visible.size());
    EXPECT_TRUE(std::equal(a.visible.begin(), a.visible.end(), b.visible.begin()));
    spec.seed = 2;
    const IsingSamples c = ising_samples(spec);
    EXPECT_FALSE(std::equal(a.visible.begin(), a.visible.end(), c.visible.begin()));

    IsingSpec bad = spec;
    bad.size = 1;
    EXPECT_THROW(ising_samples(bad), ConfigError);
    bad = spec;
    bad.temperature = std::nan("");
    EXPECT_THROW(ising_samples(bad), ConfigError);
    bad = spec;
    bad.temperature = 0.0;
    EXPECT_THROW(ising_samples(bad), ConfigError);
    bad = spec;
    bad.count = 0;
    EXPECT_THROW(ising_samples(bad), ConfigError);
    EXPECT_THROW(ising_log_partition(k_ising_max_size + 1, 2.0), ConfigError);
}

TEST(Ising, SpecGivesTheGeneratorsRowsAndRefusesNonsenseNamingTheKey) {
    const IsingSpec s = parse_ising_spec("ising:L=12,T=2.5,n=300,seed=9");
    EXPECT_EQ(s.size, 12u);
    EXPECT_EQ(s.temperature, 2.5);
    EXPECT_EQ(s.count, 300u);
    EXPECT_EQ(s.seed, 9u);
    const IsingSpec d = parse_ising_spec("ising:");
    EXPECT_EQ(d.size, 16u);
    EXPECT_EQ(d.temperature, k_ising_critical_temperature);

    auto d1 = detail::read_all(*open_row_source("ising:L=6,T=3,n=40,seed=4"));
    IsingSpec spec;
    spec.size = 6, spec.temperature = 3.0, spec.count = 40, spec.seed = 4;
    const IsingSamples direct = ising_samples(spec);
    ASSERT_EQ(d1.x.shape(0), 40u);
    ASSERT_EQ(d1.x.shape(1), 36u);
    EXPECT_TRUE(std::equal(d1.x.begin(), d1.x.end(), direct.visible.begin()));

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"ising:L=1", "L must be a whole number in [2, 1024]"},
        {"ising:L=16,L=8", "L given twice"},
        {"ising:T=nan", "T must be a temperature"},
        {"ising:T=0", "T must be a temperature"},
        {"ising:T=2.5x", "T must be a temperature"},
        {"ising:n=-5", "n must be a whole number"},
        {"ising:size=8", "unknown key \"size\""},
        {"ising:L8", "is not KEY=VALUE"},
        {"ising:L=1024,n=2000", "more than 1073741824 values"},
    };
    for (const auto& [text, message] : bad) {
        try {
            (void)parse_ising_spec(text);
            ADD_FAILURE() << text << " was accepted";
        } catch (const FormatError& e) {
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos)
                << text << ": " << e.what();
            EXPECT_EQ(std::string(e.what()).rfind(text, 0), 0u) << "names the SPEC: " << e.what();
        }
    }
}

// What `dbn eval` compares a model with: the exact log p of the rows, from the SPEC itself or from
// the file `dbn dataset ising` wrote, the same either way; other data has none.
TEST(Ising, LogProbOfTheRowsFromTheSpecOrTheFile) {
    IsingSpec spec;
    spec.size = 5, spec.temperature = 2.0, spec.count = 30, spec.seed = 8;
    const IsingSamples s = ising_samples(spec);
    const std::vector<double> from_spec = ising_log_prob_of("ising:L=5,T=2,n=30,seed=8", s.visible);
    ASSERT_EQ(from_spec.size(), 30u);
    for (std::size_t r = 0; r < 30; ++r) EXPECT_NEAR(from_spec[r], s.log_prob[r], 1e-12) << r;

    const std::string path = testing::temp_path("ising_log_prob.h5");
    write_ising_file(s, spec, path);
    const Dataset d = detail::read_all(*open_row_source(path + ":/data"));
    const std::vector<double> from_file = ising_log_prob_of(path + ":/data", d.x);
    ASSERT_EQ(from_file.size(), 30u);
    EXPECT_TRUE(std::equal(from_file.begin(), from_file.end(), s.log_prob.begin()));
    EXPECT_TRUE(std::equal(d.x.begin(), d.x.end(), s.visible.begin()));

    EXPECT_TRUE(ising_log_prob_of("bars-and-stripes:4", d.x).empty());
    Matrix more = Matrix::from_shape({31, 25});
    EXPECT_THROW(ising_log_prob_of(path + ":/data", more), FormatError);
    EXPECT_THROW(ising_log_prob_of("ising:L=4", d.x), FormatError);  // 25 columns, not 16
}

}  // namespace
}  // namespace dbn::data
