#include "dbn/core/blas_kernel.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "dbn/core/blas.hpp"
#include "dbn/core/cpu.hpp"
#include "dbn/core/rng.hpp"

namespace dbn::blas {
namespace {

// Marker values: "pending:<core>:<detected>" before the restarted process verified the kernel,
// "chosen:<core>:<detected>" after, "rejected:<core>:<detected>" when the check failed.
struct Marker {
    std::string state, core, detected;
};

Marker parse_marker(const char* s) {
    Marker m;
    if (s == nullptr) return m;
    const std::string v(s);
    const auto a = v.find(':');
    const auto b = a == std::string::npos ? a : v.find(':', a + 1);
    if (b == std::string::npos) return m;
    m.state = v.substr(0, a);
    m.core = v.substr(a + 1, b - a - 1);
    m.detected = v.substr(b + 1);
    return m;
}

void set_marker(const std::string& state, const std::string& core, const std::string& detected) {
    setenv(k_kernel_marker_env, (state + ":" + core + ":" + detected).c_str(), 1);
}

bool keep_requested() {
    const char* keep = std::getenv(k_keep_kernel_env);
    return keep != nullptr && std::string(keep) != "0";
}

bool same_name(const std::string& a, const std::string& b) {
    return cpu::core_covers(a, b) && cpu::core_covers(b, a);
}

bool check_product(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, Rng& rng) {
    std::vector<float> a(m * k), b(k * n), c(m * n, 0.25f);
    for (auto& x : a) x = 2.0f * rng.uniform() - 1.0f;
    for (auto& x : b) x = 2.0f * rng.uniform() - 1.0f;
    const std::vector<float> c0 = c;
    const float alpha = 0.75f, beta = 0.5f;
    gemm(ta, tb, alpha, ConstRows(a.data(), ta ? k : m, ta ? m : k),
         ConstRows(b.data(), tb ? n : k, tb ? k : n), beta, Rows(c.data(), m, n));
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            double s = 0.0, mag = 0.0;
            for (std::size_t l = 0; l < k; ++l) {
                const double x = ta ? a[l * m + i] : a[i * k + l];
                const double y = tb ? b[j * k + l] : b[l * n + j];
                s += x * y;
                mag += std::abs(x * y);
            }
            const double ref = alpha * s + beta * c0[i * n + j];
            // Float rounding of k products and sums: a few eps times the sum of magnitudes.
            const double tol = 8.0 * 1.2e-7 * (alpha * mag + std::abs(beta * c0[i * n + j])) + 1e-6;
            if (!(std::abs(c[i * n + j] - ref) <= tol)) return false;
        }
    }
    return true;
}

}  // namespace

bool verify_sgemm() {
    Rng rng(12345);
    return check_product(false, false, 37, 29, 53, rng) &&
           check_product(false, true, 41, 67, 19, rng) &&
           check_product(true, false, 67, 35, 47, rng) &&
           check_product(false, false, 100, 48, 64, rng);
}

void choose_kernel_at_startup(char** argv, std::ostream& log, bool announce) {
    const Marker marker = parse_marker(std::getenv(k_kernel_marker_env));
    if (marker.state == "pending") {
        // The restarted process: check the kernel, then say once what is in use.
        const char* env = std::getenv("OPENBLAS_CORETYPE");
        const bool honoured = env != nullptr && std::string(env) == marker.core &&
                              same_name(core_name(), marker.core);
        if (honoured && verify_sgemm()) {
            set_marker("chosen", marker.core, marker.detected);
            if (announce)
                log << "dbn: using OpenBLAS kernel " << marker.core << " (CPU supports "
                    << cpu::describe(cpu::detect()) << "; OpenBLAS detected " << marker.detected
                    << "; set " << k_keep_kernel_env << "=1 to keep OpenBLAS's choice)"
                    << std::endl;
            return;
        }
        set_marker("rejected", marker.core, marker.detected);
        unsetenv("OPENBLAS_CORETYPE");
        if (!honoured) {
            log << "dbn: OpenBLAS did not switch to kernel " << marker.core << "; keeping "
                << core_name() << std::endl;
            return;
        }
        log << "dbn: OpenBLAS kernel " << marker.core
            << " failed a check of sgemm against a plain loop; restarting with OpenBLAS's choice ("
            << marker.detected << ")" << std::endl;
        execv("/proc/self/exe", argv);
        log << "dbn: could not restart; continuing with kernel " << core_name() << std::endl;
        return;
    }
    if (!marker.state.empty()) return;                        // chosen or rejected earlier
    if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's or the system's
    if (keep_requested()) return;
    const std::string target = cpu::best_openblas_core(cpu::detect());
    const std::string detected = core_name();
    if (target.empty() || cpu::core_covers(detected, target)) return;
    setenv("OPENBLAS_CORETYPE", target.c_str(), 1);
    set_marker("pending", target, detected);
    execv("/proc/self/exe", argv);
    // No /proc or no permission: carry on with OpenBLAS's choice, and say why it is slow.
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(k_kernel_marker_env);
    log << "dbn: could not restart with OpenBLAS kernel " << target << " (OpenBLAS detected "
        << detected << "); set OPENBLAS_CORETYPE=" << target << " for faster training" << std::endl;
}

KernelChoice kernel_choice() {
    KernelChoice c;
    c.core = core_name();
    const Marker marker = parse_marker(std::getenv(k_kernel_marker_env));
    const char* env = std::getenv("OPENBLAS_CORETYPE");
    if (marker.state == "chosen" && env != nullptr && marker.core == env) {
        c.source = KernelSource::dbn;
        c.detail = "CPU supports " + cpu::describe(cpu::detect()) + "; OpenBLAS detected " +
                   marker.detected + "; " + k_keep_kernel_env + "=1 keeps OpenBLAS's choice";
    } else if (env != nullptr) {
        c.source = KernelSource::environment;
        c.detail = std::string("OPENBLAS_CORETYPE=") + env;
    } else {
        c.source = KernelSource::openblas;
        if (marker.state == "rejected")
            c.detail = "dbn's choice " + marker.core + " failed its sgemm check";
        else if (keep_requested())
            c.detail = std::string(k_keep_kernel_env) + " is set";
        else
            c.detail = "CPU supports " + cpu::describe(cpu::detect());
    }
    return c;
}

const char* to_string(KernelSource s) {
    switch (s) {
        case KernelSource::openblas:
            return "OpenBLAS";
        case KernelSource::environment:
            return "OPENBLAS_CORETYPE";
        case KernelSource::dbn:
            return "dbn";
    }
    return "unknown";
}

}  // namespace dbn::blas
