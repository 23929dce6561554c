#include "dbn/units/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

// One clone per instruction-set level, chosen at load time through an ifunc (GCC on x86-64 with
// glibc). Each clone runs the same IEEE operations in the same order (no FMA contraction in ISO
// mode), so results do not depend on the machine.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DBN_VECTOR_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DBN_VECTOR_CLONES
#endif

namespace dbn::detail {
namespace {

/// Terms per chunk: one std::log per chunk, and a product of 64 factors in (1, 2] stays below
/// 2^64, far from overflow.
constexpr std::size_t k_chunk = 64;
/// e^-700 is about 1e-304, still a normal double (so 2^k below is representable), and
/// 1 + e^-t == 1 in double for every t beyond 37: clamping |t| to 700 changes no result.
constexpr double k_max_exp_arg = 700.0;

/// a[k] <- exp(-a[k]) for a[k] in [0, 700]. Straight-line code: GCC vectorizes the loop.
/// exp(-a) = 2^j e^r, j = round(-a / ln 2), r = -a - j ln 2 with |r| <= ln(2)/2 (Cody-Waite:
/// ln 2 split in a high part with trailing zero bits, so j * ln2_hi is exact, and a low part).
/// e^r by Horner on its Taylor series to degree 12: the remainder is (ln(2)/2)^13 / 13! < 2e-16.
/// The rounding uses the 1.5 * 2^52 shifter, whose low mantissa bits then hold j, from which
/// the bits of 2^j are built directly (j >= -1010 here, a normal number).
inline void exp_neg_in_place(double* a, std::size_t m) {
    constexpr double shifter = 0x1.8p52;
    constexpr double log2e = 1.4426950408889634074;
    constexpr double ln2_hi = 0x1.62e42fee00000p-1;
    constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
    for (std::size_t k = 0; k < m; ++k) {
        const double y = -a[k];
        double jd = y * log2e + shifter;
        std::uint64_t bits;
        std::memcpy(&bits, &jd, sizeof bits);
        jd -= shifter;
        double r = y - jd * ln2_hi;
        r = r - jd * ln2_lo;
        double p = 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        // The low 32 bits of `bits` hold j as a two's-complement integer; adding the exponent
        // bias and shifting into the exponent field gives 2^j (the high bits shift out).
        const std::uint64_t scale_bits = (bits + 1023) << 52;
        double scale;
        std::memcpy(&scale, &scale_bits, sizeof scale);
        a[k] = p * scale;
    }
}

/// sum of max(t, 0) over the chunk plus log prod (1 + e^-|t|): `pos` holds max(t, 0), `f` the
/// factors. Fixed accumulation order, so the result does not depend on the clone.
inline double reduce_chunk(const double* pos, const double* f, std::size_t m) {
    double l0 = 0.0, l1 = 0.0, l2 = 0.0, l3 = 0.0;
    double p0 = 1.0, p1 = 1.0, p2 = 1.0, p3 = 1.0;
    std::size_t k = 0;
    for (; k + 4 <= m; k += 4) {
        l0 += pos[k];
        l1 += pos[k + 1];
        l2 += pos[k + 2];
        l3 += pos[k + 3];
        p0 *= f[k];
        p1 *= f[k + 1];
        p2 *= f[k + 2];
        p3 *= f[k + 3];
    }
    for (; k < m; ++k) {
        l0 += pos[k];
        p0 *= f[k];
    }
    return ((l0 + l1) + (l2 + l3)) + std::log((p0 * p1) * (p2 * p3));
}

}  // namespace

// softplus(t) = max(t, 0) + log(1 + e^-|t|). max(t, 0) is written (t + |t|) / 2, exact for
// finite t and NaN for NaN, so that a NaN is never swallowed by a comparison.
/// sum_k softplus(t[k]) over one chunk (m <= k_chunk), with the caller's scratch arrays.
inline double softplus_chunk(const double* t, std::size_t m, double* pos, double* f) {
    for (std::size_t k = 0; k < m; ++k) {
        const double a = std::fabs(t[k]);
        pos[k] = 0.5 * (t[k] + a);
        f[k] = a < k_max_exp_arg ? a : k_max_exp_arg;
    }
    exp_neg_in_place(f, m);
    for (std::size_t k = 0; k < m; ++k) f[k] = 1.0 + f[k];
    return reduce_chunk(pos, f, m);
}

DBN_VECTOR_CLONES
double softplus_sum(const double* x, std::size_t n) {
    double pos[k_chunk];
    double f[k_chunk];
    double total = 0.0;
    for (std::size_t first = 0; first < n; first += k_chunk)
        total += softplus_chunk(x + first, std::min(k_chunk, n - first), pos, f);
    return total;
}

DBN_VECTOR_CLONES
double softplus_sum(const double* x, const double* y, std::size_t n) {
    double t[k_chunk];
    double pos[k_chunk];
    double f[k_chunk];
    double total = 0.0;
    for (std::size_t first = 0; first < n; first += k_chunk) {
        const std::size_t m = std::min(k_chunk, n - first);
        for (std::size_t k = 0; k < m; ++k) t[k] = x[first + k] + y[first + k];
        total += softplus_chunk(t, m, pos, f);
    }
    return total;
}

DBN_VECTOR_CLONES
double scaled_softplus_sum(const float* act, double beta, std::size_t n, float* sigmoid_out) {
    double u[k_chunk];
    double pos[k_chunk];
    double e[k_chunk];
    double total = 0.0;
    for (std::size_t first = 0; first < n; first += k_chunk) {
        const std::size_t m = std::min(k_chunk, n - first);
        const float* t = act + first;
        for (std::size_t k = 0; k < m; ++k) {
            u[k] = beta * static_cast<double>(t[k]);
            const double a = std::fabs(u[k]);
            pos[k] = 0.5 * (u[k] + a);
            e[k] = a < k_max_exp_arg ? a : k_max_exp_arg;
        }
        exp_neg_in_place(e, m);
        if (sigmoid_out != nullptr) {
            // sigmoid(u) = 1 / (1 + e^-u) for u >= 0 and e^u / (1 + e^u) below: e = e^-|u|.
            float* s = sigmoid_out + first;
            for (std::size_t k = 0; k < m; ++k) {
                const double num = u[k] >= 0.0 ? 1.0 : e[k];
                s[k] = static_cast<float>(num / (1.0 + e[k]));
            }
        }
        for (std::size_t k = 0; k < m; ++k) e[k] = 1.0 + e[k];
        total += reduce_chunk(pos, e, m);
    }
    return total;
}

DBN_VECTOR_CLONES
void shifted_sigmoid(const float* in, const float* shift, float* out, std::size_t n) {
    double u[k_chunk];
    double e[k_chunk];
    for (std::size_t first = 0; first < n; first += k_chunk) {
        const std::size_t m = std::min(k_chunk, n - first);
        for (std::size_t k = 0; k < m; ++k) {
            u[k] = static_cast<double>(in[first + k]) + static_cast<double>(shift[first + k]);
            const double a = std::fabs(u[k]);
            e[k] = a < k_max_exp_arg ? a : k_max_exp_arg;
        }
        exp_neg_in_place(e, m);
        for (std::size_t k = 0; k < m; ++k) {
            const double num = u[k] >= 0.0 ? 1.0 : e[k];
            out[first + k] = static_cast<float>(num / (1.0 + e[k]));
        }
    }
}

}  // namespace dbn::detail
