#pragma once

// Shared by the libFuzzer harnesses of tests/fuzz/: the fuzz input as a file, for the readers
// that take a path, and the one rule about outcomes. A documented exception (dbn::Error and its
// subclasses, core/error.hpp) is the expected answer to a bad input; anything else escaping the
// harness (another exception type, which ends in std::terminate), a crash, a sanitizer report,
// a hang past -timeout or an allocation past -malloc_limit_mb is a finding.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "dbn/core/error.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#define DBN_FUZZ_CHILDREN_QUIET 1
#endif
#endif

namespace dbn::fuzz {

#ifdef DBN_FUZZ_CHILDREN_QUIET
/// The HDF5 readers read a file in a forked child first (hdf5::trial_read): a sanitizer report
/// there ends the child, whose end the parent refuses as a damaged file. libFuzzer's death
/// callback would still write the input as a crash artifact from the child; in a child it is
/// cleared.
inline const int k_quiet_children =
    pthread_atfork(nullptr, nullptr, [] { __sanitizer_set_death_callback(nullptr); });
#endif

/// @brief The folder for the temporary files: /dev/shm (memory) when it is there.
inline std::string temp_dir() {
    if (const char* d = std::getenv("DBN_FUZZ_TMPDIR")) return d;
    if (access("/dev/shm", W_OK) == 0) return "/dev/shm";
    if (const char* d = std::getenv("TMPDIR")) return d;
    return "/tmp";
}

/// @brief A file holding the fuzz input, named `dbn-fuzz-<pid>-<name>` (the name carries the
/// suffix the reader tells the format by); removed by the destructor.
class TempFile {
public:
    TempFile(const std::string& name, const std::uint8_t* data, std::size_t size)
        : path_(temp_dir() + "/dbn-fuzz-" + std::to_string(getpid()) + "-" + name) {
        write(data, size);
    }
    ~TempFile() { std::remove(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    const std::string& path() const { return path_; }

    /// @brief Replaces the content with `size` bytes at `data`.
    void write(const std::uint8_t* data, std::size_t size) {
        std::FILE* f = std::fopen(path_.c_str(), "wb");
        if (f == nullptr) throw std::runtime_error("fuzz: cannot create " + path_);
        const bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
        if (std::fclose(f) != 0 || !ok) throw std::runtime_error("fuzz: cannot write " + path_);
    }

private:
    std::string path_;
};

/// @brief Runs `f`; a dbn::Error is the documented outcome of a bad input and ends the run as
/// a pass. Returns whether `f` finished without one.
template <class F>
bool expect_documented_errors(F&& f) {
    try {
        f();
        return true;
    } catch (const dbn::Error&) {
        return false;
    }
}

/// @brief A property of an accepted input that does not hold: a finding (libFuzzer reports the
/// abort with the input that caused it).
[[noreturn]] inline void violated(const char* what) {
    std::fprintf(stderr, "fuzz: property violated: %s\n", what);
    std::abort();
}

}  // namespace dbn::fuzz
