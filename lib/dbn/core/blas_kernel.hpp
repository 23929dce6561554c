#pragma once

#include <ostream>
#include <string>

namespace dbn::blas {

/// @brief Who chose the OpenBLAS kernel this process runs.
enum class KernelSource {
    openblas,     ///< OpenBLAS's own detection (dbn left it, or had nothing better)
    environment,  ///< OPENBLAS_CORETYPE set by the user or the system
    dbn,          ///< dbn set OPENBLAS_CORETYPE from CPUID (see choose_kernel_at_startup)
};

/// @brief The kernel in use and how it was chosen, for `dbn info --system` and logs.
struct KernelChoice {
    std::string core;  ///< openblas_get_corename()
    KernelSource source = KernelSource::openblas;
    std::string detail;  ///< e.g. "CPU supports AVX-512; OpenBLAS detected Prescott"
};

/// Environment variable that keeps OpenBLAS's own kernel choice when set to anything but "0".
inline constexpr const char* k_keep_kernel_env = "DBN_KEEP_BLAS_KERNEL";
/// Environment variable by which a process tells its re-executed self what it chose.
inline constexpr const char* k_kernel_marker_env = "DBN_BLAS_KERNEL_CHOICE";

/// @brief For a program's main(), first thing: runs OpenBLAS with the best kernel the CPU has.
///
/// OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernel from the CPU model in its library
/// constructor, before main() runs, and falls back to a generic SSE3 kernel ("Prescott") on
/// virtual machines whose CPU model is masked: 3-4x slower products. OPENBLAS_CORETYPE overrides
/// that choice, but only when set before the library loads. So when OPENBLAS_CORETYPE is not set,
/// DBN_KEEP_BLAS_KERNEL is not set, and CPUID (with the OS's XCR0) shows AVX-512 F/BW/DQ/VL/CD
/// (-> SkylakeX) or AVX2+FMA (-> Haswell) while OpenBLAS picked a kernel without them, this
/// sets OPENBLAS_CORETYPE and re-executes the program once (/proc/self/exe, same arguments and
/// environment; a marker variable prevents a loop). The restarted process checks a few small
/// products against a plain loop and, when `announce` is true, says once on `log` which kernel it
/// uses; if the check fails it says so and restarts again without the variable, i.e. with
/// OpenBLAS's own choice. (dbn's main passes announce = stderr is a terminal: scripts and tests
/// rely on a silent stderr when all goes well, and `dbn info --system`, `dbn bench` and the
/// training log show the kernel and who chose it.)
///
/// Why re-exec and not a constructor that sets the variable in a small library loaded first:
/// the order in which the loader runs constructors of unrelated libraries is not something
/// to rely on (it changes with link order, LD_PRELOAD, static linking and the loader's
/// version), and a library that changes the environment of every program linking it is a
/// surprise; re-executing depends on nothing but execv, costs one process start (a few ms),
/// happens only on machines where OpenBLAS chose badly, and leaves library users alone.
/// A value of OPENBLAS_CORETYPE that the user or the system set is never changed.
/// @param argv main()'s argv, passed unchanged to the restarted program.
void choose_kernel_at_startup(char** argv, std::ostream& log, bool announce);

/// @brief How the kernel of this process was chosen (reads the environment; cheap).
KernelChoice kernel_choice();

/// @brief "OpenBLAS", "OPENBLAS_CORETYPE" or "dbn".
const char* to_string(KernelSource s);

/// @brief Checks sgemm (no transpose, A^T, B^T, odd sizes that reach the kernels' edge cases)
/// against a plain triple loop in double; true when every entry agrees within float rounding.
bool verify_sgemm();

}  // namespace dbn::blas
