#include "dbn/core/rng.hpp"

#include <algorithm>
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

// One xoshiro256++ step on a state held by the caller: the bulk loops below run it on a local
// copy of the state, which stays in registers (the member would be reloaded and stored at every
// draw, since the loops also store through float pointers).
inline std::uint64_t advance(Rng::State& s) {
    const std::uint64_t result = rotl(s[0] + s[3], 23) + s[0];
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

constexpr double k_two_pi = 6.283185307179586476925286766559;

}  // namespace

Rng::Rng(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& w : s_) w = splitmix64(x);
}

std::uint64_t Rng::next_u64() { return advance(s_); }

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
    // Uniforms are drawn into a small block first, then compared in a separate loop that the
    // compiler vectorizes: a compare-and-branch per unit mispredicts half the time when p is
    // near 0.5, which cost more than the generator itself.
    constexpr std::size_t k_block = 256;
    alignas(64) float u[k_block];
    State s = s_;
    std::size_t i = 0;
    for (; i + 1 < n; i += k_block) {
        const std::size_t m = std::min(k_block, (n - i) & ~std::size_t{1});
        // Two 24-bit uniforms per 64-bit draw.
        for (std::size_t j = 0; j < m; j += 2) {
            const std::uint64_t r = advance(s);
            u[j] = static_cast<float>(r >> 40) * 0x1.0p-24f;
            u[j + 1] = static_cast<float>((r >> 8) & 0xFFFFFFULL) * 0x1.0p-24f;
        }
        const float* pi = p + i;
        float* oi = out + i;
        for (std::size_t j = 0; j < m; ++j) oi[j] = u[j] < pi[j] ? 1.0f : 0.0f;
        if (m < k_block) {
            i += m;
            break;
        }
    }
    s_ = s;
    if (i < n) out[i] = uniform() < p[i] ? 1.0f : 0.0f;
}

void Rng::fill_uniform(float* out, std::size_t n) {
    State s = s_;
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(advance(s) >> 40) * 0x1.0p-24f;
    s_ = s;
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
