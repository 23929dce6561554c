#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace dbn {

/// @brief Seeded pseudo-random generator (xoshiro256++, Blackman & Vigna 2019).
///
/// One generator per model: every random draw of training comes from it, so that the same seed,
/// data, settings and thread count give the same model bit for bit. Bulk draws fill a buffer in
/// one call. `jump()` advances by 2^128 draws, which gives independent streams for threads.
/// The state is four 64-bit words (`state()` / `set_state()`), saved with checkpoints.
class Rng {
public:
    using State = std::array<std::uint64_t, 4>;

    /// @brief Seeds the state from `seed` through splitmix64, as the xoshiro authors advise.
    explicit Rng(std::uint64_t seed = 0);

    std::uint64_t next_u64();
    /// @brief Uniform float in [0, 1) with 24 random bits.
    float uniform();
    /// @brief Uniform double in [0, 1) with 53 random bits.
    double uniform_double();
    /// @brief Standard normal draw (Box-Muller, no cached second value, so the stream is simple).
    double normal();
    /// @brief Uniform integer in [0, n) without modulo bias; n > 0.
    std::uint64_t below(std::uint64_t n);

    /// @brief out[i] = 1 if uniform < p[i] else 0, for i < n.
    void bernoulli(const float* p, float* out, std::size_t n);
    /// @brief out[i] = uniform in [0, 1).
    void fill_uniform(float* out, std::size_t n);
    /// @brief out[i] = standard normal draw.
    void fill_normal(float* out, std::size_t n);

    /// @brief Advances the state by 2^128 steps (independent substream).
    void jump();

    const State& state() const { return s_; }
    void set_state(const State& s) { s_ = s; }

private:
    State s_{};
};

}  // namespace dbn
