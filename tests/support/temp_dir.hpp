#pragma once

#include <unistd.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"

namespace dbn::testing {

/// @brief A directory of its own for each test (ctest runs tests in parallel), removed after it.
class TempDir {
public:
    TempDir() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = std::filesystem::temp_directory_path() /
               ("dbn-test-" + std::string(info->test_suite_name()) + "." + info->name() + "-" +
                std::to_string(::getpid()));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    /// @brief Writes `text` to a file named `name` in the directory and returns its path.
    std::string file(const std::string& name, const std::string& text) const {
        const auto p = (dir_ / name).string();
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }

private:
    std::filesystem::path dir_;
};

/// @brief Runs `f`, expecting an exception of type E (or a subclass); returns its what().
template <class E, class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "unexpected exception type: " << e.what();
        return {};
    }
    ADD_FAILURE() << "no exception";
    return {};
}

/// @brief Runs `f`, expecting an IoError that is not a FormatError (a file that cannot be read
/// at all, not one read and found malformed); returns its what().
template <class F>
std::string io_error_not_format_of(F&& f) {
    try {
        f();
    } catch (const FormatError& e) {
        ADD_FAILURE() << "FormatError where an IoError was expected: " << e.what();
        return {};
    } catch (const IoError& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "unexpected exception type: " << e.what();
        return {};
    }
    ADD_FAILURE() << "no exception";
    return {};
}

}  // namespace dbn::testing
