#include <array>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "support/temp_dir.hpp"

namespace dbn::data {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::TempDir;

const fs::path k_fashion_dir = "/usr/share/datasets/fashion-mnist";

TEST(ReadDataset, RejectsUnknownFormNamingFileAndForms) {
    const auto msg = error_of<FormatError>([] { read_dataset("data/pixels.dat"); });
    EXPECT_NE(msg.find("data/pixels.dat"), std::string::npos) << msg;
    for (const char* form : {"-ubyte", ".idx", ".gz", ".csv", ".tsv", ".npy", ".h5:/"})
        EXPECT_NE(msg.find(form), std::string::npos) << form << " missing from: " << msg;
}

TEST(ReadDataset, Hdf5SpecNeedsADatasetPath) {
    const auto msg = error_of<FormatError>([] { read_dataset("model.h5"); });
    EXPECT_NE(msg.find("model.h5:/dataset"), std::string::npos) << msg;
    EXPECT_THROW(read_dataset("model.hdf5:"), FormatError);
    EXPECT_THROW(read_labels("y.h5"), FormatError);
}

TEST(ReadDataset, Hdf5SpecGoesToTheHdf5Reader) {
    // Whatever the HDF5 reader says about a missing file, it is an I/O error and names the file.
    const auto path = (fs::temp_directory_path() / "dbn-data-absent-file.h5").string();
    const auto msg = error_of<IoError>([&] { read_dataset(path + ":/train/x"); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
}

TEST(CheckFinite, NamesSourceRowAndColumn) {
    Matrix x = {{0.0f, 1.0f}, {2.0f, 3.0f}};
    EXPECT_NO_THROW(check_finite(x, "src"));
    x(1, 0) = std::numeric_limits<float>::quiet_NaN();
    const auto msg = error_of<FormatError>([&] { check_finite(x, "src"); });
    EXPECT_NE(msg.find("src: NaN value at row 1, column 0"), std::string::npos) << msg;
    x(1, 0) = -std::numeric_limits<float>::infinity();
    EXPECT_THROW(check_finite(x, "src"), FormatError);
}

/// Checks one Fashion-MNIST split: shape, 8-bit pixel range, ten balanced classes.
void check_fashion(const std::string& images, std::size_t n) {
    const fs::path path = k_fashion_dir / images;
    if (!fs::exists(path)) GTEST_SKIP() << path << " is absent";
    const Dataset d = read_dataset(path.string());
    ASSERT_EQ(d.size(), n);
    ASSERT_EQ(d.n_features(), 784U);
    float lo = 255.0f;
    float hi = 0.0f;
    bool integral = true;
    const float* p = d.x.data();
    for (std::size_t i = 0; i < d.x.size(); ++i) {
        lo = std::min(lo, p[i]);
        hi = std::max(hi, p[i]);
        integral = integral && p[i] == static_cast<float>(static_cast<int>(p[i]));
    }
    EXPECT_EQ(lo, 0.0f);
    EXPECT_EQ(hi, 255.0f);
    EXPECT_TRUE(integral);
    ASSERT_TRUE(d.has_labels());
    ASSERT_EQ(d.labels.size(), n);
    std::array<std::size_t, 10> counts{};
    for (const auto label : d.labels) {
        ASSERT_GE(label, 0);
        ASSERT_LE(label, 9);
        ++counts[static_cast<std::size_t>(label)];
    }
    for (std::size_t c = 0; c < 10; ++c) EXPECT_EQ(counts[c], n / 10) << "class " << c;
}

TEST(FashionMnist, TrainingSetShapeRangeAndLabels) {
    check_fashion("train-images-idx3-ubyte.gz", 60000);
}

TEST(FashionMnist, TestSetShapeRangeAndLabels) {
    check_fashion("t10k-images-idx3-ubyte.gz", 10000);
}

TEST(FashionMnist, LabelsFileReadsAlone) {
    const fs::path path = k_fashion_dir / "t10k-labels-idx1-ubyte.gz";
    if (!fs::exists(path)) GTEST_SKIP() << path << " is absent";
    EXPECT_EQ(read_labels(path.string()).size(), 10000U);
}

}  // namespace
}  // namespace dbn::data
