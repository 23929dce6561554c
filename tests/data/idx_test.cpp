#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/row_source.hpp"
#include "support/temp_dir.hpp"

namespace dbn::data {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::io_error_not_format_of;
using testing::TempDir;
using Bytes = std::vector<unsigned char>;

void write_file(const std::string& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
}

void put_be(Bytes& b, std::uint64_t v, int size) {
    for (int k = size - 1; k >= 0; --k) b.push_back(static_cast<unsigned char>(v >> (8 * k)));
}

/// IDX header: two zero bytes, the type code, the number of dimensions, then each size.
Bytes idx_header(unsigned char type, const std::vector<std::uint32_t>& dims) {
    Bytes b{0, 0, type, static_cast<unsigned char>(dims.size())};
    for (auto d : dims) put_be(b, d, 4);
    return b;
}

Bytes idx_ubyte(const std::vector<std::uint32_t>& dims, const Bytes& values) {
    Bytes b = idx_header(0x08, dims);
    b.insert(b.end(), values.begin(), values.end());
    return b;
}

Bytes idx_floats(const std::vector<std::uint32_t>& dims, const std::vector<float>& values) {
    Bytes b = idx_header(0x0D, dims);
    for (float f : values) {
        std::uint32_t u;
        std::memcpy(&u, &f, sizeof u);
        put_be(b, u, 4);
    }
    return b;
}

std::uint32_t crc32(const Bytes& data) {
    std::uint32_t c = 0xFFFFFFFFU;
    for (unsigned char byte : data) {
        c ^= byte;
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320U & (0U - (c & 1U)));
    }
    return ~c;
}

/// A valid gzip member made of stored (uncompressed) deflate blocks, so the test needs no zlib of
/// its own; real compressed data is covered by the Fashion-MNIST test.
Bytes gzip_stored(const Bytes& data) {
    Bytes g{0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF};
    std::size_t pos = 0;
    do {
        const std::size_t len = std::min<std::size_t>(data.size() - pos, 65535);
        const bool last = pos + len == data.size();
        g.push_back(last ? 1 : 0);
        g.push_back(static_cast<unsigned char>(len & 0xFF));
        g.push_back(static_cast<unsigned char>(len >> 8));
        g.push_back(static_cast<unsigned char>(~len & 0xFF));
        g.push_back(static_cast<unsigned char>((~len >> 8) & 0xFF));
        g.insert(g.end(), data.begin() + static_cast<std::ptrdiff_t>(pos),
                 data.begin() + static_cast<std::ptrdiff_t>(pos + len));
        pos += len;
    } while (pos < data.size());
    const std::uint32_t crc = crc32(data);
    const auto size = static_cast<std::uint32_t>(data.size());
    for (int k = 0; k < 4; ++k) g.push_back(static_cast<unsigned char>(crc >> (8 * k)));
    for (int k = 0; k < 4; ++k) g.push_back(static_cast<unsigned char>(size >> (8 * k)));
    return g;
}

Bytes pixels(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>((i * 37) % 256);
    return b;
}

TEST(IdxReader, FlattensImagesIntoRows) {
    TempDir tmp;
    const auto path = tmp.path("x-images-idx3-ubyte");
    write_file(path, idx_ubyte({3, 2, 2}, pixels(12)));
    const Matrix x = read_idx(path);
    ASSERT_EQ(x.shape(0), 3U);
    ASSERT_EQ(x.shape(1), 4U);
    for (std::size_t i = 0; i < 12; ++i)
        EXPECT_EQ(x.data()[i], static_cast<float>((i * 37) % 256)) << "value " << i;
}

TEST(IdxReader, OneDimensionIsOneColumn) {
    TempDir tmp;
    const auto path = tmp.path("v.idx");
    write_file(path, idx_ubyte({5}, {1, 2, 3, 4, 255}));
    const Matrix x = read_idx(path);
    ASSERT_EQ(x.shape(0), 5U);
    ASSERT_EQ(x.shape(1), 1U);
    EXPECT_EQ(x(4, 0), 255.0f);
}

TEST(IdxReader, DecodesEveryElementTypeBigEndian) {
    TempDir tmp;
    struct Case {
        unsigned char type;
        int size;
        std::vector<std::uint64_t> raw;
        std::vector<float> expected;
    };
    const double dv = -2.5e10;
    std::uint64_t du;
    std::memcpy(&du, &dv, sizeof du);
    const float fv = 3.25f;
    std::uint32_t fu;
    std::memcpy(&fu, &fv, sizeof fu);
    const std::vector<Case> cases = {
        {0x08, 1, {0, 200}, {0.0f, 200.0f}},
        {0x09, 1, {0x7F, 0x80}, {127.0f, -128.0f}},
        {0x0B, 2, {0x0102, 0xFFFE}, {258.0f, -2.0f}},
        {0x0C, 4, {0x01020304, 0xFFFFFFFF}, {16909060.0f, -1.0f}},
        {0x0D, 4, {fu, 0}, {3.25f, 0.0f}},
        {0x0E, 8, {du, 0}, {static_cast<float>(dv), 0.0f}},
    };
    for (const auto& c : cases) {
        Bytes b = idx_header(c.type, {1, 2});
        for (auto v : c.raw) put_be(b, v, c.size);
        const auto path = tmp.path("t" + std::to_string(c.type) + ".idx");
        write_file(path, b);
        const Matrix x = read_idx(path);
        ASSERT_EQ(x.shape(0), 1U);
        ASSERT_EQ(x.shape(1), 2U);
        EXPECT_EQ(x(0, 0), c.expected[0]) << "type " << int{c.type};
        EXPECT_EQ(x(0, 1), c.expected[1]) << "type " << int{c.type};
    }
}

TEST(IdxReader, ReadsGzipLikeRaw) {
    TempDir tmp;
    // More than one stored block (65535 bytes) so the stream has several.
    const Bytes content = idx_ubyte({100, 28, 28}, pixels(100 * 784));
    write_file(tmp.path("a-ubyte"), content);
    write_file(tmp.path("a-ubyte.gz"), gzip_stored(content));
    const Matrix raw = read_idx(tmp.path("a-ubyte"));
    const Matrix gz = read_idx(tmp.path("a-ubyte.gz"));
    ASSERT_EQ(gz.shape(0), 100U);
    ASSERT_EQ(gz.shape(1), 784U);
    EXPECT_TRUE(std::equal(raw.begin(), raw.end(), gz.begin()));
}

TEST(IdxReader, RejectsWrongMagic) {
    TempDir tmp;
    const auto path = tmp.path("bad.idx");
    write_file(path, {0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7});
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find(path + ": not an IDX file (magic 0x12340801)"), std::string::npos) << msg;
}

TEST(IdxReader, RejectsUnknownTypeCode) {
    TempDir tmp;
    const auto path = tmp.path("bad.idx");
    write_file(path, {0, 0, 0x0A, 1, 0, 0, 0, 1, 7});
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find("not an IDX file (magic 0x00000A01)"), std::string::npos) << msg;
}

TEST(IdxReader, RejectsFileShorterThanMagic) {
    TempDir tmp;
    const auto path = tmp.path("empty.idx");
    write_file(path, {});
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find("not an IDX file"), std::string::npos) << msg;
}

TEST(IdxReader, RejectsTruncatedHeader) {
    TempDir tmp;
    const auto path = tmp.path("short.idx");
    write_file(path, {0, 0, 0x08, 3, 0, 0, 0, 2});
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

// Found by fuzz_idx: 3.7e9 rows of 0 columns were read one empty row at a time (minutes).
TEST(IdxReader, RejectsRowsOfNoValues) {
    TempDir tmp;
    const auto path = tmp.path("zero-columns-idx2-ubyte");
    write_file(path, idx_ubyte({0xE1000000u, 0}, {}));
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find("3774873600 rows of no values"), std::string::npos) << msg;
    EXPECT_THROW(open_row_source(path), FormatError);
    // No rows of any width is still an empty data set.
    write_file(path, idx_ubyte({0, 0}, {}));
    EXPECT_EQ(read_idx(path).shape(0), 0u);
}

// Found by fuzz_idx: a header of 0 rows by 2^17 x 2^17 columns holds nothing to contradict it,
// but the read that finds the end shaped a buffer of one such row (64 GB). Now the end is
// found with no buffer at all; 0 rows of any width stay an empty data set.
TEST(IdxReader, NoRowsOfAHugeWidthAllocateNothing) {
    TempDir tmp;
    const auto path = tmp.path("wide-idx3-ubyte");
    write_file(path, idx_ubyte({0, 1u << 17, 1u << 17}, {}));
    const Matrix x = read_idx(path);
    EXPECT_EQ(x.shape(0), 0u);
    EXPECT_EQ(x.shape(1), std::size_t{1} << 34);
    auto source = open_row_source(path);
    Dataset chunk;
    EXPECT_EQ(source->read(3, chunk), 0u);
    EXPECT_EQ(chunk.size(), 0u);
    EXPECT_EQ(source->read(3, chunk), 0u);
    // fuzz_idx's declared-rows-probe-allocation-oom: 0 rows of 0x57575757 columns and 5 bytes
    // behind the header allocated 5.9 GB before the trailing bytes were found.
    const auto trailing = tmp.path("trailing-idx2-ubyte");
    write_file(trailing, idx_ubyte({0, 0x57575757u}, {0x57, 0, 0, 0, 4}));
    const auto msg = error_of<FormatError>([&] { read_idx(trailing); });
    EXPECT_NE(msg.find("file holds more (trailing data)"), std::string::npos) << msg;
    EXPECT_THROW(
        {
            auto s = open_row_source(trailing);
            while (s->read(3, chunk) > 0) {}
        },
        FormatError);
}

// A header announcing more values than the file can hold is refused when the file is opened,
// before a buffer is shaped by it: a raw file by its size, a gzip one by deflate's limit.
TEST(IdxReader, HeaderBeyondTheFileSizeIsRefusedAtOpen) {
    TempDir tmp;
    const auto raw = tmp.path("short-ubyte");
    write_file(raw, idx_ubyte({1000, 1000}, pixels(1000)));  // one row of 1000 is there
    const auto msg = error_of<FormatError>([&] { open_row_source(raw); });
    EXPECT_NE(msg.find(raw + ": truncated: header says 1000000 values, file holds 1000"),
              std::string::npos)
        << msg;
    const auto gz = tmp.path("short-ubyte.gz");
    write_file(gz, gzip_stored(idx_ubyte({1u << 20, 1u << 10}, pixels(1u << 10))));
    const auto msg2 = error_of<FormatError>([&] { open_row_source(gz); });
    EXPECT_NE(msg2.find("more than a gzip file of"), std::string::npos) << msg2;
}

TEST(IdxReader, RejectsTruncatedData) {
    TempDir tmp;
    const auto path = tmp.path("cut-ubyte");
    Bytes b = idx_ubyte({3, 2, 2}, pixels(12));
    b.resize(b.size() - 2);
    write_file(path, b);
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find(path + ": truncated: header says 12 values, file holds 10"),
              std::string::npos)
        << msg;
}

TEST(IdxReader, RejectsTruncatedMultiByteData) {
    TempDir tmp;
    const auto path = tmp.path("cut.idx");
    Bytes b = idx_floats({2, 2}, {1, 2, 3, 4});
    b.resize(b.size() - 1);  // half a value counts as missing
    write_file(path, b);
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find("header says 4 values, file holds 3"), std::string::npos) << msg;
}

TEST(IdxReader, RejectsAbsurdHeaderWithoutAllocatingIt) {
    TempDir tmp;
    // 2^64 - 2^33 + 1 bytes announced: a truncation error, not an attempt to allocate them.
    const auto huge = tmp.path("huge-ubyte");
    write_file(huge, idx_ubyte({0xFFFFFFFF, 0xFFFFFFFF}, pixels(8)));
    const auto msg = error_of<FormatError>([&] { read_idx(huge); });
    EXPECT_NE(msg.find("file holds 8"), std::string::npos) << msg;
    const auto overflow = tmp.path("overflow-ubyte");
    write_file(overflow, idx_ubyte({2, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, pixels(8)));
    const auto msg2 = error_of<FormatError>([&] { read_idx(overflow); });
    EXPECT_NE(msg2.find("overflow"), std::string::npos) << msg2;
}

TEST(IdxReader, RejectsTruncatedGzip) {
    TempDir tmp;
    const auto path = tmp.path("cut-ubyte.gz");
    Bytes g = gzip_stored(idx_ubyte({10, 10}, pixels(100)));
    g.resize(g.size() - 8 - 30);  // drop the trailer and 30 bytes of data
    write_file(path, g);
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find("truncated: header says 100 values, file holds 70"), std::string::npos)
        << msg;
}

TEST(IdxReader, RejectsGzipWithoutItsTrailer) {
    // Every value is there; only the CRC-32 and length that vouch for them are cut, in part or
    // in full: zlib reports the early end only after the last value. Images and labels both.
    TempDir tmp;
    for (std::size_t cut : {1, 4, 8}) {
        const auto path = tmp.path("notrailer-" + std::to_string(cut) + "-ubyte.gz");
        Bytes g = gzip_stored(idx_ubyte({10, 10}, pixels(100)));
        g.resize(g.size() - cut);
        write_file(path, g);
        const auto msg = error_of<FormatError>([&] { read_idx(path); });
        EXPECT_NE(msg.find(path + ": truncated gzip stream"), std::string::npos) << msg;
        EXPECT_THROW(read_idx_labels(path), FormatError) << cut;
    }
    const auto labels = tmp.path("cut-labels-idx1-ubyte.gz");
    Bytes g = gzip_stored(idx_ubyte({10}, pixels(10)));
    g.resize(g.size() - 4);
    write_file(labels, g);
    const auto msg = error_of<FormatError>([&] { read_idx_labels(labels); });
    EXPECT_NE(msg.find("truncated gzip stream"), std::string::npos) << msg;
    // The control: the whole file reads.
    const auto whole = tmp.path("whole-ubyte.gz");
    write_file(whole, gzip_stored(idx_ubyte({10, 10}, pixels(100))));
    EXPECT_EQ(read_idx(whole).shape(0), 10u);
}

TEST(IdxReader, RejectsCorruptGzip) {
    TempDir tmp;
    const auto path = tmp.path("crc-ubyte.gz");
    Bytes g = gzip_stored(idx_ubyte({10, 10}, pixels(100)));
    g[g.size() - 8] ^= 0xFF;  // wrong CRC
    write_file(path, g);
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find(path + ": corrupt gzip data"), std::string::npos) << msg;
}

TEST(IdxReader, RejectsTrailingData) {
    TempDir tmp;
    const auto path = tmp.path("long-ubyte");
    Bytes b = idx_ubyte({2, 2}, pixels(4));
    b.push_back(9);
    write_file(path, b);
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find("header says 4 values, file holds more"), std::string::npos) << msg;
}

TEST(IdxReader, RejectsNaN) {
    TempDir tmp;
    const auto path = tmp.path("nan.idx");
    write_file(path, idx_floats({2, 3}, {0, 1, 2, 3, std::nanf(""), 5}));
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find(path + ": NaN float value at row 1, column 1"), std::string::npos) << msg;
}

TEST(IdxReader, RejectsInfinity) {
    TempDir tmp;
    const auto path = tmp.path("inf.idx");
    write_file(path, idx_floats({1, 2}, {std::numeric_limits<float>::infinity(), 0}));
    EXPECT_THROW(read_idx(path), FormatError);
}

TEST(IdxReader, RejectsDoubleBeyondFloatRange) {
    TempDir tmp;
    const auto path = tmp.path("big.idx");
    Bytes b = idx_header(0x0E, {1, 1});
    const double big = 1e300;
    std::uint64_t u;
    std::memcpy(&u, &big, sizeof u);
    put_be(b, u, 8);
    write_file(path, b);
    const auto msg = error_of<FormatError>([&] { read_idx(path); });
    EXPECT_NE(msg.find("out-of-range double value at row 0, column 0"), std::string::npos) << msg;
}

TEST(IdxReader, MissingFileIsIoErrorNotFormatError) {
    TempDir tmp;
    const auto path = tmp.path("absent-ubyte.gz");
    const std::string msg = io_error_not_format_of([&] { read_idx(path); });
    EXPECT_NE(msg.find(path + ": cannot open (No such file"), std::string::npos) << msg;
}

TEST(IdxReader, DirectoryIsIoError) {
    TempDir tmp;
    const auto path = tmp.path("dir.idx");
    fs::create_directory(path);
    EXPECT_THROW(read_idx(path), IoError);
}

TEST(IdxLabels, ReadsOneDimensionalIntegers) {
    TempDir tmp;
    const auto path = tmp.path("l-labels-idx1-ubyte");
    write_file(path, idx_ubyte({4}, {3, 0, 9, 1}));
    const Labels l = read_idx_labels(path);
    ASSERT_EQ(l.size(), 4U);
    EXPECT_EQ(l(0), 3);
    EXPECT_EQ(l(2), 9);
    EXPECT_EQ(l(3), 1);
}

TEST(IdxLabels, ReadsSignedIntLabels) {
    TempDir tmp;
    const auto path = tmp.path("l.idx");
    Bytes b = idx_header(0x0C, {2});
    put_be(b, 0xFFFFFFFF, 4);
    put_be(b, 70000, 4);
    write_file(path, b);
    const Labels l = read_idx_labels(path);
    EXPECT_EQ(l(0), -1);
    EXPECT_EQ(l(1), 70000);
}

TEST(IdxLabels, RejectsImages) {
    TempDir tmp;
    const auto path = tmp.path("i-ubyte");
    write_file(path, idx_ubyte({2, 2}, pixels(4)));
    const auto msg = error_of<FormatError>([&] { read_idx_labels(path); });
    EXPECT_NE(msg.find("labels must have one dimension (got 2)"), std::string::npos) << msg;
}

TEST(IdxLabels, RejectsFloatLabels) {
    TempDir tmp;
    const auto path = tmp.path("f.idx");
    write_file(path, idx_floats({2}, {1, 2}));
    EXPECT_THROW(read_idx_labels(path), FormatError);
}

TEST(IdxDataset, AttachesSiblingLabels) {
    TempDir tmp;
    for (const std::string gz : {"", ".gz"}) {
        const Bytes images = idx_ubyte({3, 2, 2}, pixels(12));
        const Bytes labels = idx_ubyte({3}, {7, 8, 9});
        write_file(tmp.path("train-images-idx3-ubyte" + gz),
                   gz.empty() ? images : gzip_stored(images));
        write_file(tmp.path("train-labels-idx1-ubyte" + gz),
                   gz.empty() ? labels : gzip_stored(labels));
        const Dataset d = read_dataset(tmp.path("train-images-idx3-ubyte" + gz));
        ASSERT_EQ(d.size(), 3U) << gz;
        ASSERT_EQ(d.n_features(), 4U) << gz;
        ASSERT_TRUE(d.has_labels()) << gz;
        EXPECT_EQ(d.labels(0), 7);
        EXPECT_EQ(d.labels(2), 9);
        EXPECT_EQ(d.source, tmp.path("train-images-idx3-ubyte" + gz));
    }
}

TEST(IdxDataset, FindsLabelsWithTheOtherCompression) {
    TempDir tmp;
    write_file(tmp.path("t-images-idx3-ubyte.gz"), gzip_stored(idx_ubyte({2, 1, 1}, {1, 2})));
    write_file(tmp.path("t-labels-idx1-ubyte"), idx_ubyte({2}, {4, 5}));
    const Dataset d = read_dataset(tmp.path("t-images-idx3-ubyte.gz"));
    ASSERT_TRUE(d.has_labels());
    EXPECT_EQ(d.labels(1), 5);
}

TEST(IdxDataset, NoSiblingMeansNoLabels) {
    TempDir tmp;
    write_file(tmp.path("t-images-idx3-ubyte"), idx_ubyte({2, 1, 1}, {1, 2}));
    write_file(tmp.path("plain.idx"), idx_ubyte({2, 3}, pixels(6)));
    EXPECT_FALSE(read_dataset(tmp.path("t-images-idx3-ubyte")).has_labels());
    const Dataset d = read_dataset(tmp.path("plain.idx"));
    EXPECT_FALSE(d.has_labels());
    EXPECT_EQ(d.n_features(), 3U);
}

TEST(IdxDataset, RejectsLabelCountMismatch) {
    TempDir tmp;
    write_file(tmp.path("t-images-idx3-ubyte"), idx_ubyte({3, 1, 1}, {1, 2, 3}));
    write_file(tmp.path("t-labels-idx1-ubyte"), idx_ubyte({2}, {4, 5}));
    const auto msg = error_of<FormatError>([&] { read_dataset(tmp.path("t-images-idx3-ubyte")); });
    EXPECT_NE(msg.find("2 labels for 3 images"), std::string::npos) << msg;
}

TEST(IdxDataset, ReadLabelsTakesIdxSpec) {
    TempDir tmp;
    write_file(tmp.path("t-labels-idx1-ubyte.gz"), gzip_stored(idx_ubyte({3}, {2, 1, 0})));
    const Labels l = read_labels(tmp.path("t-labels-idx1-ubyte.gz"));
    ASSERT_EQ(l.size(), 3U);
    EXPECT_EQ(l(0), 2);
}

TEST(IdxDataset, MissingFileIsIoError) {
    TempDir tmp;
    const auto path = tmp.path("none-images-idx3-ubyte.gz");
    const auto msg = error_of<IoError>([&] { read_dataset(path); });
    EXPECT_NE(msg.find(path + ": cannot open (No such file"), std::string::npos) << msg;
}

}  // namespace
}  // namespace dbn::data
