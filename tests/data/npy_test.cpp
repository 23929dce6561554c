// The .npy reader against files built byte by byte as numpy.save writes them (format 1.0: the
// magic, the version, a little-endian header length, a Python dict padded to 64 bytes).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/row_source.hpp"
#include "support/temp_dir.hpp"

namespace dbn::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

std::string npy(const std::string& descr, const std::string& shape, bool fortran,
                const std::string& values, unsigned major = 1) {
    std::string dict = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
    const std::size_t prefix = major == 1 ? 10 : 12;
    while ((prefix + dict.size() + 1) % 64 != 0) dict += ' ';
    dict += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major);
    out += '\0';
    const std::size_t len = dict.size();
    out += static_cast<char>(len & 0xff);
    out += static_cast<char>(len >> 8);
    if (major > 1) out += std::string(2, '\0');
    return out + dict + values;
}

template <class T>
std::string bytes_of(const std::vector<T>& v, bool big_endian = false) {
    std::string out(v.size() * sizeof(T), '\0');
    std::memcpy(out.data(), v.data(), out.size());
    if (big_endian)
        for (std::size_t i = 0; i < v.size(); ++i)
            std::reverse(out.begin() + static_cast<long>(i * sizeof(T)),
                         out.begin() + static_cast<long>((i + 1) * sizeof(T)));
    return out;
}

TEST(NpyReader, ReadsEveryNumericTypeInBothByteOrders) {
    TempDir tmp;
    // 2 rows x 3 columns: 1 2 3 / -4 5 6 (unsigned and bool types get their own values).
    const std::vector<float> f{1, 2, 3, -4, 5, 6};
    const std::vector<double> d{1, 2, 3, -4, 5, 6};
    const std::vector<std::int16_t> i2{1, 2, 3, -4, 5, 6};
    const std::vector<std::int64_t> i8{1, 2, 3, -4, 5, 6};
    struct Case {
        const char* name;
        std::string file;
        float x10;
    };
    const Case cases[] = {
        {"f4", npy("<f4", "(2, 3)", false, bytes_of(f)), -4},
        {"f8 big-endian", npy(">f8", "(2, 3)", false, bytes_of(d, true)), -4},
        {"i2", npy("<i2", "(2, 3)", false, bytes_of(i2)), -4},
        {"i8 big-endian", npy(">i8", "(2, 3)", false, bytes_of(i8, true)), -4},
        {"u1", npy("|u1", "(2, 3)", false, std::string("\x01\x02\x03\xFC\x05\x06", 6)), 252},
        {"b1", npy("|b1", "(2, 3)", false, std::string("\x01\x01\x01\x00\x01\x01", 6)), 0},
        {"version 2", npy("<f4", "(2, 3)", false, bytes_of(f), 2), -4},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const Dataset x = read_dataset(tmp.file("a.npy", c.file));
        ASSERT_EQ(x.size(), 2U);
        ASSERT_EQ(x.n_features(), 3U);
        EXPECT_EQ(x.x(1, 0), c.x10);
        EXPECT_EQ(x.x(0, 2), std::string(c.name) == "b1" ? 1.0f : 3.0f);
        EXPECT_FALSE(x.has_labels());
    }
}

TEST(NpyReader, FortranOrderAndImagesGiveTheRowsOfCOrder) {
    TempDir tmp;
    // Shape (2, 2, 3), element (r, i, j) = 100 r + 10 i + j. Fortran order stores r fastest.
    std::vector<float> c_order, f_order(12);
    for (int r = 0; r < 2; ++r)
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 3; ++j) {
                const float v = static_cast<float>(100 * r + 10 * i + j);
                c_order.push_back(v);
                f_order[static_cast<std::size_t>(r + 2 * (i + 2 * j))] = v;
            }
    const Dataset a =
        read_dataset(tmp.file("c.npy", npy("<f4", "(2, 2, 3)", false, bytes_of(c_order))));
    const Dataset b =
        read_dataset(tmp.file("f.npy", npy("<f4", "(2, 2, 3)", true, bytes_of(f_order))));
    ASSERT_EQ(a.n_features(), 6U);
    ASSERT_EQ(b.n_features(), 6U);
    for (std::size_t k = 0; k < 12; ++k) EXPECT_EQ(a.x.data()[k], b.x.data()[k]) << k;
    EXPECT_EQ(a.x(1, 5), 112.0f);
    EXPECT_EQ(open_row_source(tmp.path("f.npy"))->sample_shape(), (std::vector<std::size_t>{2, 3}));
    // One dimension: one column.
    const Dataset one = read_dataset(
        tmp.file("v.npy", npy("<f4", "(3,)", false, bytes_of(std::vector<float>{7, 8, 9}))));
    EXPECT_EQ(one.n_features(), 1U);
    EXPECT_EQ(one.x(2, 0), 9.0f);
}

TEST(NpyReader, LabelsComeFromAOneDimensionalIntegerArray) {
    TempDir tmp;
    const Labels l = read_labels(
        tmp.file("y.npy", npy("<i8", "(3,)", false, bytes_of(std::vector<std::int64_t>{2, 0, 1}))));
    ASSERT_EQ(l.size(), 3U);
    EXPECT_EQ(l(0), 2);
    EXPECT_EQ(l(2), 1);
    EXPECT_THROW(
        read_labels(tmp.file("f.npy", npy("<f4", "(1,)", false, bytes_of(std::vector<float>{1})))),
        FormatError);
    EXPECT_THROW(
        read_labels(tmp.file(
            "big.npy", npy("<i8", "(1,)", false, bytes_of(std::vector<std::int64_t>{1LL << 40})))),
        FormatError);
}

TEST(NpyReader, BadFilesAreRefusedByName) {
    TempDir tmp;
    const std::string six = bytes_of(std::vector<float>{1, 2, 3, 4, 5, 6});
    struct Case {
        std::string file;
        std::string message;
    };
    const Case cases[] = {
        {"not npy at all", "not a NumPy .npy file"},
        {npy("<f4", "(2, 3)", false, six.substr(0, 20)),
         "truncated: shape (2, 3) of <f4 needs 24 bytes of values, the file holds 20"},
        {npy("<f4", "(2, 3)", false, six + "xx"), "2 bytes after the (2, 3) values"},
        {npy("<f2", "(2, 3)", false, six.substr(0, 12)), "float16"},
        {npy("<U3", "(2,)", false, std::string(24, 'a')), "expected numbers"},
        {npy("<f4", "()", false, six.substr(0, 4)), "a single number"},
        {npy("<f4", "(99999999999999999999999, 3)", false, six), "overflows"},
        {npy("<f4", "(4294967296, 4294967296)", false, six), "overflow the address space"},
        {npy("<f4", "(2, 3)", false, bytes_of(std::vector<float>{1, 2, 3, 4, NAN, 6})),
         "row 1, column 1 is nan"},
        {npy("<f8", "(1, 1)", false, bytes_of(std::vector<double>{1e300})),
         "beyond the float range"},
        {npy("<f4", "(2, 3)", false, six, 7), "version 7"},
        {std::string("\x93NUMPY\x02\x00\x00\x00\x10\x00", 12), "a .npy header of 1048576 bytes"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.message);
        const std::string path = tmp.file("bad.npy", c.file);
        try {
            (void)read_dataset(path);
            FAIL() << "expected FormatError";
        } catch (const FormatError& e) {
            EXPECT_THAT(e.what(), HasSubstr(path));
            EXPECT_THAT(e.what(), HasSubstr(c.message));
        }
    }
}

}  // namespace
}  // namespace dbn::data
