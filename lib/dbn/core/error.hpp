#pragma once

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dbn {

/// @brief Base of every exception the library throws across its API.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
/// @brief An array or argument whose shape does not fit (rows, columns, sizes).
class ShapeError : public Error {
public:
    using Error::Error;
};
/// @brief A configuration value or combination that makes no sense.
class ConfigError : public Error {
public:
    using Error::Error;
};
/// @brief A file that cannot be opened, read or written.
class IoError : public Error {
public:
    using Error::Error;
};
/// @brief A file that opened but whose content is not what it should be (bad data, bad model).
class FormatError : public IoError {
public:
    using IoError::IoError;
};
/// @brief NaN, Inf or a computation that diverged.
class NumericalError : public Error {
public:
    using Error::Error;
};

/// @brief Longest piece of input an error message quotes (docs/ROBUSTNESS.md).
inline constexpr std::size_t k_quote_chars = 40;

/// @brief `text` in double quotes for an error message: its first k_quote_chars characters and
/// "..." when it is longer, so that a 5 MB CSV cell or JSON value does not fill the terminal.
inline std::string quote_input(std::string_view text) {
    if (text.size() <= k_quote_chars) return "\"" + std::string(text) + "\"";
    return "\"" + std::string(text.substr(0, k_quote_chars)) + "...\" (" +
           std::to_string(text.size()) + " characters)";
}

/// @brief `text` cut as quote_input() cuts it, without the quotes (for JSON shown as it is).
inline std::string shortened(std::string_view text) {
    if (text.size() <= k_quote_chars) return std::string(text);
    return std::string(text.substr(0, k_quote_chars)) + "... (" + std::to_string(text.size()) +
           " characters)";
}

/// @brief A bound or value for a message, compactly (printf's %g): 1.79769e+308, not 300 digits.
inline std::string compact(double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", value);
    return buf;
}

}  // namespace dbn

/// Always-on check at public entry points: throws `dbn::Err` with a streamed message.
#define DBN_CHECK(cond, Err, msg)             \
    do {                                      \
        if (!(cond)) {                        \
            std::ostringstream dbn_msg_;      \
            dbn_msg_ << msg;                  \
            throw ::dbn::Err(dbn_msg_.str()); \
        }                                     \
    } while (false)

/// Internal invariant, compiled out under NDEBUG.
#ifdef NDEBUG
#define DBN_ASSERT(cond) ((void)0)
#else
#include <cassert>
#define DBN_ASSERT(cond) assert(cond)
#endif
