#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace dbn::testing {

/// @brief Exit status and output of a shell command.
struct RunResult {
    int status = -1;
    std::string output;  ///< stdout and stderr together
};

/// @brief `s` in single quotes for a POSIX shell (embedded quotes escaped).
inline std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

/// @brief Runs a shell command and collects its output and exit status.
inline RunResult run(const std::string& command) {
    RunResult r;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return r;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
    const int raw = ::pclose(pipe);
    r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return r;
}

}  // namespace dbn::testing
