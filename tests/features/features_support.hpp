#pragma once

#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "support/helpers.hpp"
#include "support/run_command.hpp"

namespace dbn::testing {

/// @brief A fresh, empty folder for the running test (tests run in parallel under ctest).
inline std::string feature_test_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::filesystem::path dir = std::filesystem::path(DBN_BINARY_DIR) / "test_output" /
                                      "features" /
                                      (std::string(info->test_suite_name()) + "." + info->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

inline std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        names.push_back(e.path().filename().string());
    return names;
}

inline void put_be32(std::ofstream& out, std::uint32_t v) {
    const unsigned char b[4] = {static_cast<unsigned char>(v >> 24),
                                static_cast<unsigned char>(v >> 16),
                                static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    out.write(reinterpret_cast<const char*>(b), 4);
}

/// @brief Same length and same bytes (bit-identical floats: -0 != +0).
template <class A, class B>
::testing::AssertionResult same_bits(const A& a, const B& b, const char* what) {
    if (a.size() != b.size())
        return ::testing::AssertionFailure()
               << what << ": sizes " << a.size() << " vs " << b.size();
    if (a.size() > 0 && std::memcmp(&*a.begin(), &*b.begin(), a.size() * sizeof(*a.begin())) != 0)
        return ::testing::AssertionFailure() << what << ": bits differ";
    return ::testing::AssertionSuccess();
}

/// @brief Writes an unsigned-byte IDX file of `rows` x `cols` (as 28x28-style [rows, cols]),
/// one row at a time, pixel (i, j) = value(i, j).
inline void write_idx_images(const std::string& path, std::size_t rows, std::size_t cols,
                             const std::function<unsigned char(std::size_t, std::size_t)>& value) {
    std::ofstream out(path, std::ios::binary);
    put_be32(out, 0x00000802);
    put_be32(out, static_cast<std::uint32_t>(rows));
    put_be32(out, static_cast<std::uint32_t>(cols));
    std::vector<char> row(cols);
    for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) row[j] = static_cast<char>(value(i, j));
        out.write(row.data(), static_cast<std::streamsize>(cols));
    }
}

inline void write_idx_labels(const std::string& path, const std::vector<unsigned char>& labels) {
    std::ofstream out(path, std::ios::binary);
    put_be32(out, 0x00000801);
    put_be32(out, static_cast<std::uint32_t>(labels.size()));
    out.write(reinterpret_cast<const char*>(labels.data()),
              static_cast<std::streamsize>(labels.size()));
}

/// @brief A pseudo-random pixel, the same for the same (i, j).
inline unsigned char pixel(std::size_t i, std::size_t j) {
    std::uint64_t h = (i * 0x9E3779B97F4A7C15ULL) ^ (j * 0xC2B2AE3D27D4EB4FULL);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return static_cast<unsigned char>(h);
}

/// @brief A stack of random layers: sizes[0] visible units, then one layer per further size.
inline Dbn random_stack(const std::vector<std::size_t>& sizes, std::uint64_t seed,
                        UnitType first_visible = UnitType::bernoulli,
                        UnitType hidden = UnitType::bernoulli, float scale = 0.1f) {
    Rng rng{seed};
    Dbn m;
    for (std::size_t k = 0; k + 1 < sizes.size(); ++k) {
        const UnitType vis = k == 0 ? first_visible : UnitType::bernoulli;
        m.layers.push_back(random_rbm(sizes[k], sizes[k + 1], rng, scale, vis, hidden));
        if (vis == UnitType::gaussian)
            for (auto& s : m.layers.back().visible_sigma()) s = 0.5f + rng.uniform();
    }
    return m;
}

/// @brief /features and /labels of an output file.
struct H5Features {
    Matrix x = Matrix::from_shape({0, 0});
    Labels labels = Labels::from_shape({0});
    bool has_labels = false;
};

inline H5Features read_h5_features(const std::string& path) {
    const auto file = hdf5::File::open(path);
    H5Features out;
    const auto ds = file.open_dataset("features");
    const auto shape = ds.shape();
    EXPECT_EQ(shape.size(), 2U);
    EXPECT_EQ(ds.type().name(), "float32");
    out.x = Matrix::from_shape({shape[0], shape[1]});
    ds.read(out.x.data(), out.x.size());
    if (file.has_dataset("labels")) {
        const auto l = file.open_dataset("labels");
        EXPECT_EQ(l.type().name(), "int32");
        out.labels = Labels::from_shape({l.size()});
        l.read(out.labels.data(), out.labels.size());
        out.has_labels = true;
    }
    return out;
}

}  // namespace dbn::testing
