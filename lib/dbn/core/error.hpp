#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

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
