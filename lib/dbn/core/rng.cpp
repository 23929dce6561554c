#include "dbn/core/rng.hpp"

#include <cmath>

namespace dbn {
namespace {

inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

constexpr double k_two_pi = 6.283185307179586476925286766559;

}  // namespace

Rng::Rng(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& w : s_) w = splitmix64(x);
}

std::uint64_t Rng::next_u64() {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

float Rng::uniform() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }

double Rng::uniform_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::normal() {
    // 1 - u lies in (0, 1], so the log is finite.
    const double u1 = 1.0 - uniform_double();
    const double u2 = uniform_double();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(k_two_pi * u2);
}

std::uint64_t Rng::below(std::uint64_t n) {
    // Lemire's nearly divisionless method.
    __uint128_t m = static_cast<__uint128_t>(next_u64()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
        const std::uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = static_cast<__uint128_t>(next_u64()) * n;
            low = static_cast<std::uint64_t>(m);
        }
    }
    return static_cast<std::uint64_t>(m >> 64);
}

void Rng::bernoulli(const float* p, float* out, std::size_t n) {
    std::size_t i = 0;
    // Two 24-bit uniforms per 64-bit draw: sampling stays far below the cost of the GEMMs.
    for (; i + 1 < n; i += 2) {
        const std::uint64_t r = next_u64();
        const float u0 = static_cast<float>(r >> 40) * 0x1.0p-24f;
        const float u1 = static_cast<float>((r >> 8) & 0xFFFFFFULL) * 0x1.0p-24f;
        out[i] = u0 < p[i] ? 1.0f : 0.0f;
        out[i + 1] = u1 < p[i + 1] ? 1.0f : 0.0f;
    }
    if (i < n) out[i] = uniform() < p[i] ? 1.0f : 0.0f;
}

void Rng::fill_uniform(float* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = uniform();
}

void Rng::fill_normal(float* out, std::size_t n) {
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) {
        const double u1 = 1.0 - uniform_double();
        const double u2 = uniform_double();
        const double r = std::sqrt(-2.0 * std::log(u1));
        out[i] = static_cast<float>(r * std::cos(k_two_pi * u2));
        out[i + 1] = static_cast<float>(r * std::sin(k_two_pi * u2));
    }
    if (i < n) out[i] = static_cast<float>(normal());
}

void Rng::jump() {
    static constexpr std::uint64_t k_jump[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                               0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
    State t{};
    for (std::uint64_t j : k_jump) {
        for (int b = 0; b < 64; ++b) {
            if (j & (std::uint64_t{1} << b)) {
                for (int w = 0; w < 4; ++w) t[w] ^= s_[w];
            }
            next_u64();
        }
    }
    s_ = t;
}

}  // namespace dbn
