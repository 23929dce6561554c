#include "dbn/units/kernels.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/math.hpp"
#include "dbn/core/rng.hpp"

namespace dbn::detail {
namespace {

/// The kernels' exp is a degree-12 polynomial (truncation < 2e-16) and sums run in double:
/// a sum of n softplus terms agrees with the libm reference to a few ulps per term...
constexpr double k_rel_tol_kernel = 1e-13;
/// ...plus, per term, the rounding of 1 + e^-|t| (half an ulp of 1, 1.1e-16) in the product
/// that replaces log1p: an absolute error that only shows for terms below ~1e-13, e.g.
/// softplus(-40) = 4e-18 comes out as 0.
constexpr double k_abs_tol_per_term = 2.3e-16;

double reference_sum(const std::vector<double>& x) {
    double s = 0.0;
    for (double t : x) s += softplus(t);  // core/math.hpp: max(t, 0) + log1p(exp(-|t|))
    return s;
}

std::vector<double> test_values(std::size_t n, Rng& rng, double scale) {
    std::vector<double> x(n);
    for (auto& t : x) t = scale * rng.normal();
    return x;
}

TEST(SoftplusKernels, SumMatchesLibmForEveryLengthAndRange) {
    Rng rng{41};
    // Lengths around the 64-term chunks, scales from tiny to beyond exp's range.
    for (std::size_t n : {1u, 2u, 3u, 63u, 64u, 65u, 127u, 128u, 129u, 500u, 784u}) {
        for (double scale : {1e-8, 0.1, 1.0, 10.0, 100.0, 1000.0}) {
            const std::vector<double> x = test_values(n, rng, scale);
            const double ref = reference_sum(x);
            EXPECT_NEAR(softplus_sum(x.data(), n), ref,
                        k_rel_tol_kernel * std::abs(ref) + k_abs_tol_per_term * n)
                << "n " << n << " scale " << scale;
        }
    }
}

TEST(SoftplusKernels, SpecialArguments) {
    // 0 -> log 2; the ends of the clamp (700) and far beyond; tiny magnitudes.
    const std::vector<double> x = {0.0,   -0.0,   700.0, -700.0, 701.0,  -701.0,
                                   745.0, -745.0, 1e300, -1e300, 1e-300, -1e-300,
                                   36.0,  -36.0,  40.0,  -40.0,  1e4,    -1e4};
    for (double t : x) {
        const double got = softplus_sum(&t, 1);
        EXPECT_NEAR(got, softplus(t), k_rel_tol_kernel * std::abs(softplus(t)) + k_abs_tol_per_term)
            << t;
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> with_nan = {1.0, nan, -2.0};
    EXPECT_TRUE(std::isnan(softplus_sum(with_nan.data(), 3)));
}

TEST(SoftplusKernels, ShiftedSumMatchesTheSumOfTheShiftedValues) {
    Rng rng{42};
    const std::vector<double> x = test_values(300, rng, 20.0);
    const std::vector<double> y = test_values(300, rng, 20.0);
    std::vector<double> z(300);
    for (std::size_t k = 0; k < 300; ++k) z[k] = x[k] + y[k];
    // Same rounded inputs, same code path: identical.
    EXPECT_EQ(softplus_sum(x.data(), y.data(), 300), softplus_sum(z.data(), 300));
}

TEST(SoftplusKernels, ScaledSumAndSigmoidMatchReferences) {
    Rng rng{43};
    for (double beta : {0.0, 1e-3, 0.5, 1.0}) {
        std::vector<float> act(777);
        for (auto& a : act) a = static_cast<float>(30.0 * rng.normal());
        std::vector<float> sig(777);
        const double got = scaled_softplus_sum(act.data(), beta, act.size(), sig.data());
        double ref = 0.0;
        for (std::size_t k = 0; k < act.size(); ++k) {
            const double u = beta * static_cast<double>(act[k]);
            ref += softplus(u);
            // Float outputs: a float ulp of the probability.
            EXPECT_NEAR(sig[k], 1.0 / (1.0 + std::exp(-u)), 1e-7) << k;
        }
        EXPECT_NEAR(got, ref, k_rel_tol_kernel * std::abs(ref) + k_abs_tol_per_term * act.size())
            << "beta " << beta;
        EXPECT_EQ(scaled_softplus_sum(act.data(), beta, act.size(), nullptr), got);
    }
}

TEST(SoftplusKernels, ShiftedSigmoidMatchesSigmoid) {
    Rng rng{44};
    std::vector<float> in(200), shift(200), out(200);
    for (auto& a : in) a = static_cast<float>(10.0 * rng.normal());
    for (auto& a : shift) a = static_cast<float>(3.0 * rng.normal());
    shifted_sigmoid(in.data(), shift.data(), out.data(), in.size());
    for (std::size_t k = 0; k < in.size(); ++k) {
        const double u = static_cast<double>(in[k]) + shift[k];
        EXPECT_NEAR(out[k], 1.0 / (1.0 + std::exp(-u)), 1e-7) << k;
    }
    // In place.
    shifted_sigmoid(in.data(), shift.data(), in.data(), in.size());
    for (std::size_t k = 0; k < in.size(); ++k) EXPECT_EQ(in[k], out[k]) << k;
}

}  // namespace
}  // namespace dbn::detail
