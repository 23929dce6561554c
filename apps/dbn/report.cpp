#include "report.hpp"

#include <cstdio>
#include <string>

namespace dbn::cli {

void print_checks(std::ostream& out, const std::vector<estimate::LayerLogZ>& log_z,
                  const std::vector<estimate::ConsistencyCheck>& checks) {
    char buf[256];
    if (!log_z.empty()) out << "  log Z per layer:\n";
    for (const auto& z : log_z) {
        if (!z.available) {
            out << "    layer " << z.index << ": n/a (" << z.note << ")\n";
            continue;
        }
        std::snprintf(buf, sizeof buf, "    layer %zu: %12.4f  [%.4f, %.4f]  %s", z.index,
                      z.log_z.value, z.log_z.low, z.log_z.high, z.method.c_str());
        out << buf;
        if (z.method == "ais")
            out << " (" << z.ais_runs << " runs x " << z.ais_steps << " steps, ESS "
                << static_cast<int>(z.ess + 0.5) << ")";
        out << "\n";
    }
    if (checks.empty()) return;
    out << "  consistency checks (D = dF - dlogZ: change of the DBN bound, nats per sample):\n";
    std::snprintf(buf, sizeof buf, "    %-6s %11s %11s %11s %25s  %s\n", "layers", "dF", "dlogZ", "D",
                  "D interval", "result");
    out << buf;
    for (const auto& c : checks) {
        const std::string pair = std::to_string(c.lower) + "->" + std::to_string(c.upper);
        if (!c.applicable) {
            out << "    " << pair << "   n/a (" << c.note << ")\n";
            continue;
        }
        const char* result = estimate::check_verdict(c);
        std::snprintf(buf, sizeof buf, "    %-6s %+11.4f %+11.4f %+11.4f  [%+10.4f, %+10.4f]  %s%s\n",
                      pair.c_str(), c.free_energy_gap, c.delta_log_z, c.bound_change,
                      c.bound_change_low, c.bound_change_high, result,
                      c.diagnostic ? " (diagnostic)" : "");
        out << buf;
    }
}

}  // namespace dbn::cli
