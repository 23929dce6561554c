#include "dbn/core/cpu.hpp"

#include <algorithm>
#include <cctype>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace dbn::cpu {
namespace {

bool bit(std::uint64_t word, int b) { return ((word >> b) & 1U) != 0; }

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

Features decode(const CpuidWords& w) {
    Features f;
    if (w.max_leaf < 1) return f;
    const bool osxsave = bit(w.leaf1_ecx, 27);
    // XCR0: SSE (1) and AVX (2) state for AVX; opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7) for AVX-512.
    const bool os_avx = osxsave && (w.xcr0 & 0x6U) == 0x6U;
    const bool os_avx512 = os_avx && (w.xcr0 & 0xE0U) == 0xE0U;
    f.avx = os_avx && bit(w.leaf1_ecx, 28);
    f.fma = f.avx && bit(w.leaf1_ecx, 12);
    if (w.max_leaf >= 7) {
        f.avx2 = f.avx && bit(w.leaf7_ebx, 5);
        f.avx512f = os_avx512 && bit(w.leaf7_ebx, 16);
        f.avx512dq = f.avx512f && bit(w.leaf7_ebx, 17);
        f.avx512cd = f.avx512f && bit(w.leaf7_ebx, 28);
        f.avx512bw = f.avx512f && bit(w.leaf7_ebx, 30);
        f.avx512vl = f.avx512f && bit(w.leaf7_ebx, 31);
    }
    return f;
}

CpuidWords read_cpuid() {
    CpuidWords w;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(0, &a, &b, &c, &d) == 0) return w;
    w.max_leaf = a;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) return w;
    w.leaf1_ecx = c;
    if (w.max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        w.leaf7_ebx = b;
    }
    if (bit(w.leaf1_ecx, 27)) {
        // XGETBV with ECX = 0 (by opcode, so that no -mxsave is needed).
        std::uint32_t lo = 0, hi = 0;
        __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
        w.xcr0 = (static_cast<std::uint64_t>(hi) << 32) | lo;
    }
#endif
    return w;
}

Features detect() { return decode(read_cpuid()); }

std::string best_openblas_core(const Features& f) {
    if (f.avx512_skylakex()) return "SkylakeX";
    if (f.avx2_fma()) return "Haswell";
    return "";
}

bool core_covers(const std::string& detected, const std::string& target) {
    const std::string d = lower(detected);
    const std::string t = lower(target);
    if (d == t) return true;
    // OpenBLAS 0.3.21's x86-64 kernels that use AVX-512 for sgemm, and those that use AVX2+FMA.
    static const char* const avx512[] = {"skylakex", "cooperlake", "sapphirerapids"};
    static const char* const avx2[] = {"haswell", "zen", "skylakex", "cooperlake",
                                       "sapphirerapids"};
    auto in = [&d](const auto& set) {
        return std::any_of(std::begin(set), std::end(set), [&d](const char* s) { return d == s; });
    };
    if (t == "skylakex") return in(avx512);
    if (t == "haswell") return in(avx2);
    return false;
}

std::string describe(const Features& f) {
    if (f.avx512_skylakex()) return "AVX-512";
    if (f.avx2_fma()) return "AVX2+FMA";
    return "no AVX2";
}

}  // namespace dbn::cpu
