#include "dbn/core/limits.hpp"

#include <unistd.h>

#include <cstdio>
#include <thread>

#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"

namespace dbn {

std::uint64_t physical_memory_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return 0;
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
}

std::size_t hardware_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n > 0 ? n : 1;
}

std::size_t usable_threads(std::size_t requested, const std::string& flag, std::string& note) {
    note.clear();
    const std::size_t have = hardware_threads();
    if (requested <= have) return requested;
    note = flag + " " + std::to_string(requested) + " is more than this machine's " +
           counted(have, "hardware thread") + ": using " + std::to_string(have);
    return have;
}

std::string format_bytes(double bytes) {
    static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    std::size_t u = 0;
    while (bytes >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
        bytes /= 1000.0;
        ++u;
    }
    char buf[48];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%.0f B", bytes);
    else
        std::snprintf(buf, sizeof buf, "%.*f %s", bytes < 10.0 ? 1 : 0, bytes, units[u]);
    return buf;
}

void check_memory(double bytes, const std::string& what) {
    const std::uint64_t have = physical_memory_bytes();
    const double limit = have > 0 ? static_cast<double>(have) : 281474976710656.0;  // 2^48
    DBN_CHECK(bytes <= limit, ConfigError,
              what << " needs about " << format_bytes(bytes) << ", more than "
                   << (have > 0 ? "this machine's " + format_bytes(limit) + " of memory"
                                : "any address space (" + format_bytes(limit) + ")"));
}

}  // namespace dbn
