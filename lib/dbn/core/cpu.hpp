#pragma once

#include <cstdint>
#include <string>

namespace dbn::cpu {

/// @brief Instruction-set extensions that decide which OpenBLAS kernel can run.
///
/// An extension counts only when the processor has it (CPUID) and the operating system saves
/// its registers on a context switch (XGETBV): a hypervisor may show AVX-512 in CPUID and still
/// not enable its state.
struct Features {
    bool avx = false;
    bool avx2 = false;
    bool fma = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512dq = false;
    bool avx512vl = false;
    bool avx512cd = false;

    /// AVX-512 F, BW, DQ, VL and CD: the instructions of OpenBLAS's SkylakeX kernels.
    bool avx512_skylakex() const { return avx512f && avx512bw && avx512dq && avx512vl && avx512cd; }
    /// AVX2 and FMA: the instructions of OpenBLAS's Haswell kernels.
    bool avx2_fma() const { return avx && avx2 && fma; }
};

/// @brief The raw CPUID and XCR0 words that Features is read from (for tests).
struct CpuidWords {
    std::uint32_t max_leaf = 0;   ///< CPUID leaf 0, EAX
    std::uint32_t leaf1_ecx = 0;  ///< CPUID leaf 1, ECX: FMA (12), OSXSAVE (27), AVX (28)
    std::uint32_t leaf7_ebx = 0;  ///< CPUID leaf 7 subleaf 0, EBX: AVX2 (5), AVX-512 F/DQ/CD/BW/VL
    std::uint64_t xcr0 = 0;       ///< XGETBV(0), meaningful only with OSXSAVE
};

/// @brief Decodes the CPUID words (Intel SDM vol. 2A, CPUID; AMD APM vol. 3 agrees on these bits).
Features decode(const CpuidWords& w);

/// @brief Reads CPUID and XCR0 of this processor (all zero on non-x86 builds).
CpuidWords read_cpuid();

/// @brief decode(read_cpuid()).
Features detect();

/// @brief The OpenBLAS kernel (OPENBLAS_CORETYPE value) this CPU can run best: "SkylakeX" with
/// AVX-512 (F, BW, DQ, VL, CD), "Haswell" with AVX2 and FMA, else "" (leave OpenBLAS's choice).
std::string best_openblas_core(const Features& f);

/// @brief Whether OpenBLAS's own choice `detected` (openblas_get_corename(), e.g. "Prescott",
/// "Haswell", "Zen", "SkylakeX", "Cooperlake") already uses the instructions of `target`, so
/// that switching to `target` would gain nothing. Case-insensitive.
bool core_covers(const std::string& detected, const std::string& target);

/// @brief "AVX-512", "AVX2+FMA" or "no AVX2": the best relevant extension, for log lines.
std::string describe(const Features& f);

}  // namespace dbn::cpu
