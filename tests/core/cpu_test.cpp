#include "dbn/core/cpu.hpp"

#include <gtest/gtest.h>

#include "dbn/core/blas.hpp"
#include "dbn/core/blas_kernel.hpp"

namespace dbn::cpu {
namespace {

// CPUID words of a processor with everything (AVX, FMA, AVX2, AVX-512 F/DQ/CD/BW/VL) and an OS
// that saves the AVX and AVX-512 state.
CpuidWords everything() {
    CpuidWords w;
    w.max_leaf = 0xd;
    w.leaf1_ecx = (1U << 12) | (1U << 27) | (1U << 28);
    w.leaf7_ebx = (1U << 5) | (1U << 16) | (1U << 17) | (1U << 28) | (1U << 30) | (1U << 31);
    w.xcr0 = 0xE7;
    return w;
}

TEST(CpuDecode, AllExtensionsGiveSkylakeX) {
    const Features f = decode(everything());
    EXPECT_TRUE(f.avx512_skylakex());
    EXPECT_TRUE(f.avx2_fma());
    EXPECT_EQ(best_openblas_core(f), "SkylakeX");
    EXPECT_EQ(describe(f), "AVX-512");
}

TEST(CpuDecode, MissingAvx512BwFallsBackToHaswell) {
    CpuidWords w = everything();
    w.leaf7_ebx &= ~(1U << 30);
    const Features f = decode(w);
    EXPECT_FALSE(f.avx512_skylakex());
    EXPECT_EQ(best_openblas_core(f), "Haswell");
}

TEST(CpuDecode, Avx512StateNotEnabledByTheOsFallsBackToHaswell) {
    CpuidWords w = everything();
    w.xcr0 = 0x7;  // x87, SSE, AVX only: a hypervisor that hides the ZMM state
    EXPECT_EQ(best_openblas_core(decode(w)), "Haswell");
}

TEST(CpuDecode, NoOsxsaveMeansNoAvxAtAll) {
    CpuidWords w = everything();
    w.leaf1_ecx &= ~(1U << 27);
    const Features f = decode(w);
    EXPECT_FALSE(f.avx);
    EXPECT_FALSE(f.avx2);
    EXPECT_EQ(best_openblas_core(f), "");
}

TEST(CpuDecode, Avx2WithoutFmaKeepsOpenBlasChoice) {
    CpuidWords w = everything();
    w.leaf1_ecx &= ~(1U << 12);
    w.leaf7_ebx = 1U << 5;
    EXPECT_EQ(best_openblas_core(decode(w)), "");
}

TEST(CpuDecode, OldMaxLeafIgnoresLeaf7) {
    CpuidWords w = everything();
    w.max_leaf = 6;
    const Features f = decode(w);
    EXPECT_FALSE(f.avx2);
    EXPECT_FALSE(f.avx512f);
}

TEST(CpuCoreCovers, KernelsWithTheSameInstructionsNeedNoSwitch) {
    EXPECT_TRUE(core_covers("SkylakeX", "SkylakeX"));
    EXPECT_TRUE(core_covers("Cooperlake", "SkylakeX"));
    EXPECT_TRUE(core_covers("SKYLAKEX", "Haswell"));
    EXPECT_TRUE(core_covers("Zen", "Haswell"));
    EXPECT_FALSE(core_covers("Prescott", "SkylakeX"));
    EXPECT_FALSE(core_covers("Prescott", "Haswell"));
    EXPECT_FALSE(core_covers("Haswell", "SkylakeX"));
    EXPECT_FALSE(core_covers("Zen", "SkylakeX"));
    EXPECT_FALSE(core_covers("Sandybridge", "Haswell"));
}

TEST(CpuDetect, AgreesWithItsOwnDecode) {
    const Features f = detect();
    // Whatever this machine has, the chosen kernel must be runnable by it.
    const std::string core = best_openblas_core(f);
    if (core == "SkylakeX") {
        EXPECT_TRUE(f.avx512f && f.avx2 && f.fma);
    }
    if (core == "Haswell") {
        EXPECT_TRUE(f.avx2 && f.fma);
    }
}

TEST(BlasKernel, SgemmOfTheKernelInUseMatchesAPlainLoop) { EXPECT_TRUE(blas::verify_sgemm()); }

TEST(BlasKernel, ChoiceNamesTheCoreInUse) {
    const blas::KernelChoice c = blas::kernel_choice();
    EXPECT_EQ(c.core, blas::core_name());
    EXPECT_FALSE(c.detail.empty());
}

}  // namespace
}  // namespace dbn::cpu
