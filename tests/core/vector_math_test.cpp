#include "dbn/core/vector_math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "dbn/core/math.hpp"

namespace dbn {
namespace {

std::int64_t ulp_distance(float a, float b) {
    std::int32_t ia, ib;
    std::memcpy(&ia, &a, 4);
    std::memcpy(&ib, &b, 4);
    // Both results are in [0, 1]: their bit patterns are ordered like their values.
    return std::llabs(static_cast<std::int64_t>(ia) - ib);
}

// The vector sigmoid against the scalar reference (std::exp) on a dense sweep of [-120, 120],
// which covers the polynomial's whole reduced range many times, the denormal tail below -87 and
// the saturation above 17.
TEST(VectorSigmoid, WithinTwoUlpOfTheScalarSigmoid) {
    std::vector<float> x;
    for (float v = -120.0f; v <= 120.0f; v += 0.00173f) x.push_back(v);
    for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 88.0f, -88.0f, -103.9f, -104.0f, -105.0f, -150.0f,
                    104.0f, 1e30f, -1e30f})
        x.push_back(v);
    std::vector<float> y(x.size());
    vec::sigmoid(x.data(), y.data(), x.size());
    std::int64_t worst = 0;
    float worst_x = 0.0f;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const std::int64_t d = ulp_distance(y[i], sigmoid(x[i]));
        if (d > worst) {
            worst = d;
            worst_x = x[i];
        }
    }
    EXPECT_LE(worst, 2) << "at x = " << worst_x;
}

TEST(VectorSigmoid, InfinitiesAndNan) {
    const float inf = std::numeric_limits<float>::infinity();
    const float x[] = {inf, -inf, std::numeric_limits<float>::quiet_NaN()};
    float y[3];
    vec::sigmoid(x, y, 3);
    EXPECT_EQ(y[0], 1.0f);
    EXPECT_EQ(y[1], 0.0f);
    EXPECT_TRUE(std::isnan(y[2]));
}

TEST(VectorSigmoid, BiasVariantAddsFirstAndWorksInPlace) {
    std::vector<float> x = {-3.0f, -0.5f, 0.0f, 0.25f, 7.0f};
    const std::vector<float> b = {1.0f, 0.5f, -2.0f, 0.0f, -7.0f};
    std::vector<float> y = x;
    vec::sigmoid_bias(y.data(), b.data(), y.data(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i)
        EXPECT_LE(ulp_distance(y[i], sigmoid(x[i] + b[i])), 2) << i;
}

}  // namespace
}  // namespace dbn
