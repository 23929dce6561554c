#include "dbn/core/output_file.hpp"

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "io/io_support.hpp"

namespace dbn {
namespace {

using testing::file_bytes;
using ::testing::HasSubstr;
using testing::test_dir;

TEST(ReplaceFile, WritesTheWholeFileAndLeavesNoTemporary) {
    const std::string target = test_dir() + "/page.html";
    const std::string first = "old page";
    replace_file(target, first.data(), first.size(), "the report");
    const std::string second(100000, 'x');
    replace_file(target, second.data(), second.size(), "the report");
    EXPECT_EQ(file_bytes(target), second);
    EXPECT_FALSE(std::filesystem::exists(temp_path(target)));
}

// A target that cannot be written (its name is a folder): an IoError naming the target and what
// it holds; the folder and the folder around it are as they were.
TEST(ReplaceFile, AFailureNamesTheTargetAndLeavesNothing) {
    const std::string dir = test_dir();
    const std::string target = dir + "/taken";
    std::filesystem::create_directory(target);
    const std::string bytes = "page";
    try {
        replace_file(target, bytes.data(), bytes.size(), "the report");
        FAIL() << "no error";
    } catch (const IoError& e) {
        EXPECT_THAT(e.what(), HasSubstr(target + ": cannot write the report"));
    }
    EXPECT_TRUE(std::filesystem::is_directory(target));
    EXPECT_FALSE(std::filesystem::exists(temp_path(target)));
}

}  // namespace
}  // namespace dbn
