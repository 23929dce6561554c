// The streaming reader gives, chunk by chunk, exactly what read_dataset gives at once: the same
// values, labels and errors, for every SPEC form.

#include "dbn/data/row_source.hpp"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "features/features_support.hpp"

namespace dbn {
namespace {

using data::CsvOptions;
using data::Dataset;
using testing::feature_test_dir;
using testing::same_bits;

/// @brief All the rows of a source, read `chunk` at a time, checking every chunk's shape.
Dataset read_all(data::RowSource& src, std::size_t chunk) {
    std::vector<Real> x;
    std::vector<std::int32_t> labels;
    Dataset c;
    std::size_t rows = 0;
    while (const std::size_t n = src.read(chunk, c)) {
        EXPECT_LE(n, chunk);
        EXPECT_EQ(c.x.shape(0), n);
        EXPECT_EQ(c.x.shape(1), src.n_features());
        EXPECT_EQ(c.labels.size(), src.has_labels() ? n : 0U);
        x.insert(x.end(), c.x.begin(), c.x.end());
        labels.insert(labels.end(), c.labels.begin(), c.labels.end());
        rows += n;
    }
    EXPECT_EQ(src.read(chunk, c), 0U) << "a finished source stays finished";
    Dataset d;
    d.x = Matrix::from_shape({rows, src.n_features()});
    std::copy(x.begin(), x.end(), d.x.begin());
    d.labels = Labels::from_shape({labels.size()});
    std::copy(labels.begin(), labels.end(), d.labels.begin());
    return d;
}

void expect_same_as_read_dataset(const std::string& spec, const CsvOptions& csv = {}) {
    const Dataset whole = data::read_dataset(spec, csv);
    for (const std::size_t chunk :
         {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{100000}}) {
        SCOPED_TRACE(spec + ", chunk " + std::to_string(chunk));
        const auto src = data::open_row_source(spec, csv);
        EXPECT_EQ(src->n_features(), whole.n_features());
        EXPECT_EQ(src->has_labels(), whole.has_labels());
        if (src->size()) {
            EXPECT_EQ(*src->size(), whole.size());
        }
        const Dataset got = read_all(*src, chunk);
        ASSERT_EQ(got.x.shape(), whole.x.shape());
        EXPECT_TRUE(same_bits(got.x, whole.x, "x"));
        EXPECT_TRUE(same_bits(got.labels, whole.labels, "labels"));
    }
}

template <class Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

/// @brief The first error of reading `spec` whole and of streaming it; both must throw FormatError.
void expect_same_error(const std::string& spec, const CsvOptions& csv = {}) {
    std::string whole;
    EXPECT_THROW(
        {
            try {
                data::read_dataset(spec, csv);
            } catch (const FormatError& e) {
                whole = e.what();
                throw;
            }
        },
        FormatError);
    std::string streamed;
    EXPECT_THROW(
        {
            try {
                auto src = data::open_row_source(spec, csv);
                read_all(*src, 3);
            } catch (const FormatError& e) {
                streamed = e.what();
                throw;
            }
        },
        FormatError);
    EXPECT_EQ(streamed, whole);
}

TEST(RowSourceIdx, RawAndGzipWithLabelsMatchReadDataset) {
    const std::string dir = feature_test_dir();
    const std::string images = dir + "/t-images-idx3-ubyte";
    testing::write_idx_images(images, 103, 12, testing::pixel);
    std::vector<unsigned char> labels(103);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<unsigned char>(i % 10);
    testing::write_idx_labels(dir + "/t-labels-idx1-ubyte", labels);
    expect_same_as_read_dataset(images);
    ASSERT_EQ(std::system(("gzip -k " + testing::shell_quote(images)).c_str()), 0);
    expect_same_as_read_dataset(images + ".gz");  // labels found uncompressed beside it
    EXPECT_TRUE(data::open_row_source(images + ".gz")->has_labels());
}

TEST(RowSourceIdx, WithoutLabelsAndOtherElementTypes) {
    const std::string dir = feature_test_dir();
    testing::write_idx_images(dir + "/plain.idx", 9, 5, testing::pixel);
    expect_same_as_read_dataset(dir + "/plain.idx");
    EXPECT_FALSE(data::open_row_source(dir + "/plain.idx")->has_labels());

    // Big-endian float32, 3-D (4 x 2 x 3): columns are the flattened trailing dimensions.
    std::ofstream out(dir + "/floats.idx", std::ios::binary);
    testing::put_be32(out, 0x00000D03);
    for (std::uint32_t d : {4U, 2U, 3U}) testing::put_be32(out, d);
    for (int i = 0; i < 24; ++i) {
        const float f = 0.25f * static_cast<float>(i) - 2.0f;
        std::uint32_t u;
        std::memcpy(&u, &f, 4);
        testing::put_be32(out, u);
    }
    out.close();
    expect_same_as_read_dataset(dir + "/floats.idx");
    EXPECT_EQ(data::open_row_source(dir + "/floats.idx")->n_features(), 6U);
}

TEST(RowSourceIdx, TruncatedAndTrailingDataFailLikeReadDataset) {
    const std::string dir = feature_test_dir();
    testing::write_idx_images(dir + "/full.idx", 20, 4, testing::pixel);
    std::ifstream in(dir + "/full.idx", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir + "/short.idx", std::ios::binary) << bytes.substr(0, bytes.size() - 5);
    std::ofstream(dir + "/long.idx", std::ios::binary) << bytes << "x";
    std::ofstream(dir + "/magic.idx", std::ios::binary) << "\x01\x02\x03\x04";
    expect_same_error(dir + "/short.idx");
    expect_same_error(dir + "/long.idx");
    expect_same_error(dir + "/magic.idx");
    // The error names the file and what is wrong.
    const std::string msg =
        error_of([&] { read_all(*data::open_row_source(dir + "/short.idx"), 7); });
    EXPECT_NE(msg.find("short.idx: truncated"), std::string::npos) << msg;
}

TEST(RowSourceIdx, LabelsThatDoNotFitAreRefusedAtOpen) {
    const std::string dir = feature_test_dir();
    testing::write_idx_images(dir + "/x-images-idx3-ubyte", 10, 3, testing::pixel);
    testing::write_idx_labels(dir + "/x-labels-idx1-ubyte", std::vector<unsigned char>(9, 1));
    EXPECT_THROW(data::open_row_source(dir + "/x-images-idx3-ubyte"), FormatError);
    expect_same_error(dir + "/x-images-idx3-ubyte");
}

TEST(RowSourceCsv, HeaderBlankLinesCrlfAndLabelColumn) {
    const std::string dir = feature_test_dir();
    const std::string path = dir + "/d.csv";
    std::ofstream(path) << "\xEF\xBB\xBF"
                           "label,a,b,c\r\n1,0.5,-3e-2,-3\r\n\n2, +1.25 ,0,7\r\n"
                        << "3,1e-3,4,5\n   \n4,9,8,7";
    CsvOptions features;  // `none`: four columns, the first a feature like any other
    features.no_labels = true;
    expect_same_as_read_dataset(path, features);
    CsvOptions csv;
    csv.label_column = 0;
    expect_same_as_read_dataset(path, csv);
    const auto src = data::open_row_source(path, csv);
    EXPECT_FALSE(src->size().has_value());
    EXPECT_EQ(src->n_features(), 3U);
    csv.label_column = -1;
    expect_same_as_read_dataset(path, csv);
}

TEST(RowSourceCsv, NoHeaderManyRows) {
    const std::string dir = feature_test_dir();
    const std::string path = dir + "/n.csv";
    std::ofstream out(path);
    for (int i = 0; i < 1000; ++i) out << i % 7 << "," << i * 0.001 << "," << -i << "\n";
    out.close();
    expect_same_as_read_dataset(path);
}

TEST(RowSourceCsv, ErrorsNameTheLineLikeReadCsv) {
    const std::string dir = feature_test_dir();
    std::ofstream(dir + "/ragged.csv") << "1,2,3\n4,5,6\n7,8\n";
    std::ofstream(dir + "/text.csv") << "1,2\n3,x4\n";
    std::ofstream(dir + "/nan.csv") << "1,2\n3,nan\n";
    std::ofstream(dir + "/empty.csv") << "\n\n";
    std::ofstream(dir + "/header_only.csv") << "a,b\n";
    std::ofstream(dir + "/label.csv") << "1.5,2\n";
    for (const char* name : {"ragged.csv", "text.csv", "nan.csv", "empty.csv", "header_only.csv"}) {
        SCOPED_TRACE(name);
        expect_same_error(dir + "/" + name);
    }
    CsvOptions csv;
    csv.label_column = 0;
    expect_same_error(dir + "/label.csv", csv);
    const std::string msg =
        error_of([&] { read_all(*data::open_row_source(dir + "/ragged.csv"), 1); });
    EXPECT_NE(msg.find("ragged.csv:3: 2 fields separated by commas (expected 3)"),
              std::string::npos)
        << msg;
    csv.label_column = 5;
    EXPECT_THROW(data::open_row_source(dir + "/label.csv", csv), ConfigError);
}

TEST(RowSourceHdf5, HyperslabsMatchReadDatasetWithLabels) {
    const std::string dir = feature_test_dir();
    const std::string path = dir + "/d.h5";
    {
        auto f = hdf5::File::create(path);
        std::vector<double> x(57 * 6);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1 * static_cast<double>(i) - 3.0;
        f.write_dataset("train/x", x.data(), {57, 6});
        std::vector<std::int64_t> labels(57);
        for (std::size_t i = 0; i < labels.size(); ++i)
            labels[i] = static_cast<std::int64_t>(i % 5);
        f.write_dataset("train/labels", labels.data(), {57});
        std::vector<std::int32_t> column(11, 3);
        f.write_dataset("column", column.data(), {11});
        f.close();
    }
    expect_same_as_read_dataset(path + ":/train/x");
    EXPECT_TRUE(data::open_row_source(path + ":/train/x")->has_labels());
    expect_same_as_read_dataset(path + ":/column");
    EXPECT_EQ(data::open_row_source(path + ":column")->n_features(), 1U);
    EXPECT_THROW(data::open_row_source(path + ":/nothing"), FormatError);
}

TEST(RowSourceHdf5, NonFiniteValueIsRefused) {
    const std::string dir = feature_test_dir();
    const std::string path = dir + "/bad.h5";
    {
        auto f = hdf5::File::create(path);
        std::vector<float> x(20, 1.0f);
        x[13] = std::numeric_limits<float>::quiet_NaN();
        f.write_dataset("x", x.data(), {10, 2});
        f.close();
    }
    auto src = data::open_row_source(path + ":/x");
    EXPECT_THROW(read_all(*src, 4), FormatError);
}

TEST(RowSource, GeneratedAndUnknownSpecs) {
    expect_same_as_read_dataset("bars-and-stripes:3");
    EXPECT_THROW(data::open_row_source("notes.doc"), FormatError);
    EXPECT_THROW(data::open_row_source("/no/such/file.csv"), IoError);
    EXPECT_THROW(data::open_row_source("/no/such/x-ubyte"), IoError);
    Dataset c;
    EXPECT_THROW(data::open_row_source("bars-and-stripes:2")->read(0, c), ConfigError);
}

TEST(Hdf5Rows, AppendThenReadRowsRoundTrip) {
    const std::string path = feature_test_dir() + "/rows.h5";
    std::vector<float> all;
    {
        auto f = hdf5::File::create(path);
        auto ds = f.create_row_dataset<float>("m", {3}, 4);
        auto ls = f.create_row_dataset<std::int32_t>("l", {}, 16);
        EXPECT_EQ(ds.shape(), (std::vector<std::size_t>{0, 3}));
        for (std::size_t n : {5U, 0U, 1U, 7U}) {
            std::vector<float> rows(n * 3);
            for (auto& v : rows) v = static_cast<float>(all.size() + (&v - rows.data())) * 0.5f;
            ds.append_rows(rows.data(), n);
            std::vector<std::int32_t> l(n, static_cast<std::int32_t>(n));
            ls.append_rows(l.data(), n);
            all.insert(all.end(), rows.begin(), rows.end());
        }
        EXPECT_EQ(ds.shape(), (std::vector<std::size_t>{13, 3}));
        EXPECT_EQ(ls.shape(), (std::vector<std::size_t>{13}));
    }
    const auto f = hdf5::File::open(path);
    const auto ds = f.open_dataset("m");
    EXPECT_EQ(ds.read<float>(), all);
    std::vector<double> part(4 * 3);
    ds.read_rows(6, 4, part.data(), part.size());
    for (std::size_t i = 0; i < part.size(); ++i) EXPECT_EQ(part[i], all[18 + i]);
    EXPECT_THROW(ds.read_rows(10, 4, part.data(), part.size()), ShapeError);
    EXPECT_THROW(ds.read_rows(0, 4, part.data(), 5), ShapeError);
    std::vector<std::int64_t> l(13);
    f.open_dataset("l").read_rows(0, 13, l.data(), 13);
    EXPECT_EQ(l[0], 5);
    EXPECT_EQ(l[5], 1);
    EXPECT_EQ(l[12], 7);
}

}  // namespace
}  // namespace dbn
