#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dbn {

/// @brief "1 thread", "2 threads", "0 epochs": a count and its noun, singular for exactly one.
/// `plural` is the noun's plural when it is not `singular` + "s" ("1 matrix", "3 matrices").
inline std::string counted(std::uint64_t n, std::string_view singular,
                           std::string_view plural = {}) {
    std::string out = std::to_string(n);
    out += ' ';
    if (n == 1)
        out += singular;
    else if (!plural.empty())
        out += plural;
    else
        (out += singular) += 's';
    return out;
}

}  // namespace dbn
