#include "dbn/core/vector_math.hpp"

#include <cstdint>
#include <cstring>

// Elementwise loops compiled three times and chosen by the loader from the CPU (GCC's
// target_clones, an ifunc): the library stays runnable on any x86-64 without -march=native.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DBN_VEC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DBN_VEC_CLONES
#endif

namespace dbn::vec {
namespace {

inline float from_bits(std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

inline std::uint32_t to_bits(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

// sigmoid(x) from e = exp(-|x|): 1 / (1 + e) for x >= 0, e / (1 + e) otherwise. Every select is
// a bit mask, never a branch: GCC keeps conditional float operations as branches (they might
// trap), which would stop it from vectorizing the loops that inline this.
inline float sigmoid_one(float x) {
    constexpr float log2e = 1.44269504088896341f;
    constexpr float ln2_hi = 0.693359375f;  // Cephes' split of ln 2: exact in float
    constexpr float ln2_lo = -2.12194440e-4f;
    const std::uint32_t xb = to_bits(x);
    const std::uint32_t neg = 0u - (xb >> 31);  // all ones when x < 0 (or -0, -NaN)
    const std::uint32_t nan = 0u - static_cast<std::uint32_t>((xb & 0x7fffffffu) > 0x7f800000u);
    const float t = from_bits(xb | 0x80000000u);  // -|x|
    // e^-104 underflows: clamp there (NaN stays NaN).
    const std::uint32_t low = 0u - static_cast<std::uint32_t>(t < -104.0f);
    const float tc = from_bits((to_bits(t) & ~low) | (to_bits(-104.0f) & low));
    // round(tc log2 e) for tc <= 0, NaN mapped to 0 so the conversion is defined.
    const float z = from_bits(to_bits(tc * log2e - 0.5f) & ~nan);
    const auto n = static_cast<std::int32_t>(z);
    const auto fn = static_cast<float>(n);
    const float r = (tc - fn * ln2_hi) - fn * ln2_lo;  // |r| <= ln2 / 2
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    // 2^n as two normal factors, so that n down to -150 (denormal results) stays exact.
    const std::int32_t n1 = n >> 1;
    const std::int32_t n2 = n - n1;
    const float s1 = from_bits(static_cast<std::uint32_t>(n1 + 127) << 23);
    const float s2 = from_bits(static_cast<std::uint32_t>(n2 + 127) << 23);
    const float e = (p * s1) * s2;
    const float inv = 1.0f / (1.0f + e);
    const float small = e * inv;
    const std::uint32_t y = (to_bits(inv) & ~neg) | (to_bits(small) & neg);
    return from_bits((y & ~nan) | (xb & nan));
}

}  // namespace

DBN_VEC_CLONES
void sigmoid(const float* x, float* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = sigmoid_one(x[i]);
}

DBN_VEC_CLONES
void sigmoid_bias(const float* x, const float* bias, float* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = sigmoid_one(x[i] + bias[i]);
}

DBN_VEC_CLONES
void scale(const float* x, float s, float* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = s * x[i];
}

}  // namespace dbn::vec
