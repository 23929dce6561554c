// read_hdf5 lives in the data module but is built on the HDF5 wrapper, so it is tested here.

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/row_source.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "io/io_support.hpp"

namespace dbn {
namespace {

using hdf5::File;
using ::testing::HasSubstr;
using testing::test_dir;

/// @brief read_hdf5 must throw Err whose message holds every one of `parts`.
template <class Err>
void expect_error(const std::string& path, const std::string& dataset,
                  const std::vector<std::string>& parts) {
    try {
        data::read_hdf5(path, dataset);
        ADD_FAILURE() << "read_hdf5 accepted " << path << ":" << dataset;
    } catch (const Err& e) {
        for (const auto& p : parts) EXPECT_THAT(e.what(), HasSubstr(p));
    }
}

TEST(ReadHdf5, ReadsTwoDimensionalFloatsWithLabels) {
    const std::string path = test_dir() + "/data.h5";
    {
        File f = File::create(path);
        const std::vector<double> x{1, 2, 3, 4, 5, 6};
        const std::vector<std::int64_t> y{0, 9};
        f.write_dataset("/train/x", x.data(), {2, 3});
        f.write_dataset("/train/labels", y.data(), {2});
    }
    const data::Dataset d = data::read_hdf5(path, "/train/x");
    ASSERT_EQ(d.size(), 2U);
    ASSERT_EQ(d.n_features(), 3U);
    EXPECT_EQ(d.x(1, 2), 6.0f);
    ASSERT_TRUE(d.has_labels());
    EXPECT_EQ(d.labels(1), 9);
    EXPECT_EQ(d.source, path + ":/train/x");
}

TEST(ReadHdf5, ReadsIntegersAndOneDimensionAsAColumn) {
    const std::string path = test_dir() + "/ints.h5";
    {
        File f = File::create(path);
        const std::vector<std::int32_t> v{7, -3, 255};
        f.write_dataset("v", v.data(), {3});
    }
    const data::Dataset d = data::read_hdf5(path, "v");
    ASSERT_EQ(d.x.shape(0), 3U);
    ASSERT_EQ(d.x.shape(1), 1U);
    EXPECT_EQ(d.x(2, 0), 255.0f);
    EXPECT_FALSE(d.has_labels());
}

TEST(ReadHdf5, LabelsDatasetReadAsDataHasNoLabelsOfItsOwn) {
    const std::string path = test_dir() + "/labels.h5";
    {
        File f = File::create(path);
        const std::vector<std::int64_t> y{1, 2};
        f.write_dataset("labels", y.data(), {2});
    }
    const data::Dataset d = data::read_hdf5(path, "/labels");
    EXPECT_EQ(d.x(1, 0), 2.0f);
    EXPECT_FALSE(d.has_labels());
}

TEST(ReadHdf5, MissingFileIsAnIoErrorNamingIt) {
    const std::string path = test_dir() + "/absent.h5";
    expect_error<IoError>(path, "/x", {path});
}

TEST(ReadHdf5, MissingDatasetIsAFormatError) {
    const std::string path = test_dir() + "/data.h5";
    { File::create(path).create_group("g"); }
    try {
        data::read_hdf5(path, "/g/x");
        FAIL() << "expected FormatError";
    } catch (const FormatError& e) {
        EXPECT_EQ(std::string(e.what()), path + ":/g/x: no such dataset");
    }
    expect_error<FormatError>(path, "/g", {path + ":/g: no such dataset"});
}

TEST(ReadHdf5, ImagesAreFlattenedPerSampleAndKeepTheirShape) {
    const std::string path = test_dir() + "/cube.h5";
    std::vector<float> v(2 * 3 * 4);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
    { File::create(path).write_dataset("cube", v.data(), {2, 3, 4}); }
    const data::Dataset d = data::read_hdf5(path, "cube");
    ASSERT_EQ(d.size(), 2U);
    ASSERT_EQ(d.n_features(), 12U);
    // Row-major: sample 1, pixel (2, 3) is element 1 * 12 + 2 * 4 + 3.
    EXPECT_EQ(d.x(1, 11), 23.0f);
    EXPECT_EQ(d.x(0, 5), 5.0f);
    EXPECT_EQ(data::open_row_source(path + ":cube")->sample_shape(),
              (std::vector<std::size_t>{3, 4}));
}

TEST(ReadHdf5, StringsAreAFormatError) {
    const std::string path = test_dir() + "/strings.h5";
    { File::create(path).write_strings("s", {"a", "b"}); }
    expect_error<FormatError>(path, "/s", {path + ":/s", "string"});
}

TEST(ReadHdf5, NaNIsAFormatError) {
    const std::string path = test_dir() + "/nan.h5";
    {
        File f = File::create(path);
        const std::vector<float> v{1, 2, std::numeric_limits<float>::quiet_NaN(), 4};
        f.write_dataset("x", v.data(), {2, 2});
    }
    expect_error<FormatError>(path, "/x", {path + ":/x", "row 1, column 0", "nan"});
}

TEST(ReadHdf5, BadLabelsAreFormatErrors) {
    const std::string path = test_dir() + "/labels.h5";
    {
        File f = File::create(path);
        const std::vector<float> x{1, 2, 3};
        const std::vector<std::int64_t> few{1, 2};
        const std::vector<float> floats{1, 2, 3};
        const std::vector<std::int64_t> huge{1, 2, std::int64_t{1} << 40};
        f.write_dataset("a/x", x.data(), {3});
        f.write_dataset("a/labels", few.data(), {2});
        f.write_dataset("b/x", x.data(), {3});
        f.write_dataset("b/labels", floats.data(), {3});
        f.write_dataset("c/x", x.data(), {3});
        f.write_dataset("c/labels", huge.data(), {3});
    }
    expect_error<FormatError>(path, "/a/x", {path + ":/a/labels", "2 labels for 3 samples"});
    expect_error<FormatError>(path, "/b/x", {path + ":/b/labels", "integers"});
    expect_error<FormatError>(path, "/c/x", {path + ":/c/labels", "int32 range"});
}

// Found by fuzz_hdf5_data: a damaged local heap (the names of an old-style group) declares
// 0x200000000000 bytes, which libhdf5's metadata cache asks malloc for while looking up /x. Here
// malloc refuses and HDF5 fails the lookup; under AddressSanitizer the report ends the trial
// read's child process, and the file is refused as damaged. One line naming the file either way.
TEST(ReadHdf5, DamagedLocalHeapIsRefusedNamingTheFile) {
    const std::string source =
        std::string(DBN_SOURCE_DIR) +
        "/tests/fuzz/regressions/fuzz_hdf5_data/metadata-cache-huge-allocation";
    const std::string path = test_dir() + "/local-heap.h5";
    std::filesystem::copy_file(source, path, std::filesystem::copy_options::overwrite_existing);
    try {
        data::read_dataset(path + ":/x");
        ADD_FAILURE() << "read " << path;
    } catch (const IoError& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
        EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
}

}  // namespace
}  // namespace dbn
