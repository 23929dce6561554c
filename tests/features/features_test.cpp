// Streamed feature extraction: the same features as one Dbn::transform, bit for bit, whatever the
// chunk size; .h5 and .csv output; labels carried; bounded memory; errors that leave nothing.

#include "dbn/features/features.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "dbn/hooks/layer_hook.hpp"
#include "features/features_support.hpp"

namespace dbn {
namespace {

using testing::entries;
using testing::feature_test_dir;
using testing::read_h5_features;
using testing::same_bits;

/// Gaussian visible units with standardization, then relu and bernoulli layers and both hooks:
/// every path of Dbn::transform.
Dbn mixed_model(std::size_t n_visible) {
    Dbn m = testing::random_stack({n_visible, 40, 30, 20}, 5, UnitType::gaussian, UnitType::relu);
    m.layers[1] = testing::random_stack({40, 30}, 6).layers[0];
    m.preprocessing.scale = 255.0f;
    m.preprocessing.standardize = true;
    m.preprocessing.mean = Vector::from_shape({n_visible});
    m.preprocessing.stddev = Vector::from_shape({n_visible});
    for (std::size_t j = 0; j < n_visible; ++j) {
        m.preprocessing.mean(j) = 0.4f + 0.001f * static_cast<float>(j);
        m.preprocessing.stddev(j) = 0.2f + 0.002f * static_cast<float>(j);
    }
    // Both built-in hooks: standardize after layer 0, layernorm after layer 1.
    Rng rng{8};
    Matrix h0 = Matrix::from_shape({64, 40});
    rng.fill_normal(h0.data(), h0.size());
    auto standardize = make_hook("standardize");
    standardize->fit(h0);
    auto layernorm = make_hook("layernorm", {{"epsilon", 1e-3}});
    layernorm->fit(Matrix::from_shape({1, 30}));
    m.hooks = {std::move(standardize), std::move(layernorm)};
    return m;
}

/// An IDX image file of `rows` x `cols` with labels beside it; returns the images' path.
std::string labelled_idx(const std::string& dir, std::size_t rows, std::size_t cols) {
    const std::string images = dir + "/d-images-idx3-ubyte";
    testing::write_idx_images(images, rows, cols, testing::pixel);
    std::vector<unsigned char> labels(rows);
    for (std::size_t i = 0; i < rows; ++i) labels[i] = static_cast<unsigned char>((i * 7) % 10);
    testing::write_idx_labels(dir + "/d-labels-idx1-ubyte", labels);
    return images;
}

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> out;
    std::stringstream s(line);
    for (std::string f; std::getline(s, f, sep);) out.push_back(f);
    return out;
}

/// Dbn::transform applied to consecutive chunks of `chunk` rows, concatenated.
Matrix chunked_transform(const Dbn& model, const Matrix& x, std::size_t layer, std::size_t chunk) {
    const std::size_t n = x.shape(0);
    Matrix out = Matrix::from_shape({n, model.layers[layer].n_hidden()});
    for (std::size_t first = 0; first < n; first += chunk) {
        const std::size_t rows = std::min(chunk, n - first);
        Matrix part = Matrix::from_shape({rows, x.shape(1)});
        std::copy_n(x.data() + first * x.shape(1), part.size(), part.data());
        const Matrix f = model.transform(part, layer);
        std::copy_n(f.data(), f.size(), out.data() + first * out.shape(1));
    }
    return out;
}

TEST(ExtractFeatures, StreamingIsBitIdenticalToOneTransform) {
    const std::string dir = feature_test_dir();
    // 5003 rows: more than Dbn::transform's internal block (4096), and no chunk below divides it.
    const std::size_t rows = 5003;
    const std::string spec = labelled_idx(dir, rows, 50);
    const Dbn model = mixed_model(50);
    const data::Dataset whole = data::read_dataset(spec);
    for (std::size_t layer = 0; layer < model.n_layers(); ++layer) {
        const Matrix expected = model.transform(whole.x, layer);
        for (const std::size_t chunk :
             {std::size_t{4096}, std::size_t{8192}, std::size_t{5003}, std::size_t{100000}}) {
            SCOPED_TRACE("layer " + std::to_string(layer) + ", chunk " + std::to_string(chunk));
            features::FeatureOptions o;
            o.layer = layer;
            o.chunk_rows = chunk;
            const std::string out = dir + "/f.h5";
            const features::FeatureSummary s = features::extract_features(model, spec, out, o);
            EXPECT_EQ(s.rows, rows);
            EXPECT_EQ(s.layer, layer);
            EXPECT_EQ(s.n_features, model.layers[layer].n_hidden());
            EXPECT_TRUE(s.labels);
            const auto got = read_h5_features(out);
            ASSERT_EQ(got.x.shape(), expected.shape());
            EXPECT_TRUE(same_bits(got.x, expected, "features"));
            EXPECT_TRUE(same_bits(got.labels, whole.labels, "labels"));
        }
    }
}

TEST(ExtractFeatures, NpyOutputIsTheFeaturesAloneBitForBit) {
    // Written in two chunks (the header's row count is rewritten at the end; chunks of 4096 rows
    // or more give one transform's bits) and read back by the library's own NPY reader.
    const std::string dir = feature_test_dir();
    const std::string spec = labelled_idx(dir, 5003, 50);
    const Dbn model = mixed_model(50);
    const Matrix expected = model.transform(data::read_dataset(spec).x, 1);
    features::FeatureOptions o;
    o.layer = 1;
    o.chunk_rows = 4096;
    const features::FeatureSummary s = features::extract_features(model, spec, dir + "/f.npy", o);
    EXPECT_EQ(s.rows, 5003U);
    const data::Dataset back = data::read_dataset(dir + "/f.npy");
    ASSERT_EQ(back.x.shape(), expected.shape());
    EXPECT_TRUE(same_bits(back.x, expected, "features"));
    EXPECT_FALSE(back.has_labels());
    EXPECT_EQ(entries(dir).size(), 3U);  // the two IDX files and f.npy, no temporary
}

TEST(ExtractFeatures, AnyChunkSizeIsTransformOfTheSameChunksBitForBit) {
    // OpenBLAS rounds a row differently depending on where it falls in the batch (the row tiles
    // of its kernels), so chunks that are not multiples of 4096 change the last bits: the
    // features are then bit for bit Dbn::transform of those chunks, and within float rounding
    // of one transform over all rows.
    const std::string dir = feature_test_dir();
    const std::size_t rows = 1000;
    const std::string spec = labelled_idx(dir, rows, 50);
    const Dbn model = mixed_model(50);
    const data::Dataset whole = data::read_dataset(spec);
    for (std::size_t layer = 0; layer < model.n_layers(); ++layer) {
        const Matrix one_go = model.transform(whole.x, layer);
        for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{333}}) {
            SCOPED_TRACE("layer " + std::to_string(layer) + ", chunk " + std::to_string(chunk));
            features::FeatureOptions o;
            o.layer = layer;
            o.chunk_rows = chunk;
            features::extract_features(model, spec, dir + "/f.h5", o);
            const auto got = read_h5_features(dir + "/f.h5");
            EXPECT_TRUE(same_bits(got.x, chunked_transform(model, whole.x, layer, chunk), "x"));
            EXPECT_TRUE(same_bits(got.labels, whole.labels, "labels"));
            EXPECT_TRUE(testing::allclose(got.x, one_go, 1e-5, 1e-6));
        }
    }
    // The default layer is the top.
    features::FeatureOptions o;
    o.chunk_rows = 7;
    EXPECT_EQ(features::extract_features(model, spec, dir + "/top.h5", o).layer, 2U);
}

TEST(ExtractFeatures, Hdf5OutputRecordsModelLayerAndSource) {
    const std::string dir = feature_test_dir();
    const std::string spec = labelled_idx(dir, 20, 50);
    features::FeatureOptions o;
    o.layer = 1;
    o.model_file = "models/mixed.h5";
    o.model_name = "mixed";
    features::extract_features(mixed_model(50), spec, dir + "/f.hdf5", o);
    const auto f = hdf5::File::open(dir + "/f.hdf5");
    EXPECT_EQ(f.read_string_attribute("format"), "dbn-features");
    EXPECT_EQ(f.read_string_attribute("model"), "models/mixed.h5");
    EXPECT_EQ(f.read_string_attribute("model_name"), "mixed");
    EXPECT_EQ(f.read_int_attribute("layer"), 1);
    EXPECT_EQ(f.read_string_attribute("source"), spec);
    EXPECT_FALSE(f.read_string_attribute("library_version").empty());
    EXPECT_EQ(f.open_dataset("features").shape(), (std::vector<std::size_t>{20, 30}));
    EXPECT_EQ(f.open_dataset("labels").shape(), (std::vector<std::size_t>{20}));
}

TEST(ExtractFeatures, CsvOutputIsFullPrecisionWithLabelFirst) {
    const std::string dir = feature_test_dir();
    const std::string spec = labelled_idx(dir, 23, 50);
    const Dbn model = mixed_model(50);
    const data::Dataset whole = data::read_dataset(spec);
    const Matrix expected = chunked_transform(model, whole.x, 0, 5);
    features::FeatureOptions o;
    o.layer = 0;
    o.chunk_rows = 5;
    features::extract_features(model, spec, dir + "/f.csv", o);

    std::ifstream in(dir + "/f.csv");
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    const auto header = split(line, ',');
    ASSERT_EQ(header.size(), 41U);
    EXPECT_EQ(header[0], "label");
    EXPECT_EQ(header[1], "f0");
    EXPECT_EQ(header[40], "f39");
    std::size_t i = 0;
    for (; std::getline(in, line); ++i) {
        ASSERT_LT(i, 23U);
        const auto fields = split(line, ',');
        ASSERT_EQ(fields.size(), 41U) << line;
        EXPECT_EQ(std::stoi(fields[0]), whole.labels(i));
        for (std::size_t j = 0; j < 40; ++j) {
            char want[32];
            std::snprintf(want, sizeof want, "%.9g", static_cast<double>(expected(i, j)));
            EXPECT_EQ(fields[j + 1], want) << "row " << i << ", column " << j;
            // Nine significant digits give back the float32 exactly.
            const float back = std::strtof(fields[j + 1].c_str(), nullptr);
            EXPECT_EQ(std::memcmp(&back, &expected(i, j), sizeof back), 0);
        }
    }
    EXPECT_EQ(i, 23U);
    // What it wrote reads back through the library's CSV reader, labels and all.
    data::CsvOptions csv;
    csv.label_column = 0;
    const data::Dataset back = data::read_csv(dir + "/f.csv", csv);
    EXPECT_TRUE(same_bits(back.x, expected, "features read back"));
    EXPECT_TRUE(same_bits(back.labels, whole.labels, "labels read back"));
}

TEST(ExtractFeatures, CsvInOutWithoutLabels) {
    const std::string dir = feature_test_dir();
    std::ofstream out(dir + "/in.csv");
    for (int i = 0; i < 10; ++i) {
        for (int j = 0; j < 50; ++j) out << (j ? "," : "") << (i * 31 + j * 17) % 256;
        out << "\n";
    }
    out.close();
    const Dbn model = mixed_model(50);
    features::extract_features(model, dir + "/in.csv", dir + "/f.csv");
    std::ifstream in(dir + "/f.csv");
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line.substr(0, 6), "f0,f1,");
    const data::Dataset back = data::read_csv(dir + "/f.csv");
    EXPECT_FALSE(back.has_labels());
    EXPECT_TRUE(same_bits(back.x, model.transform(data::read_csv(dir + "/in.csv").x, 2), "x"));
    features::extract_features(model, dir + "/in.csv", dir + "/f.h5");
    EXPECT_FALSE(read_h5_features(dir + "/f.h5").has_labels);
}

TEST(ExtractFeatures, LabelsFromCsvColumnAndHdf5Sibling) {
    const std::string dir = feature_test_dir();
    const Dbn model = testing::random_stack({4, 3}, 9);
    std::ofstream(dir + "/in.csv") << "a,b,y,c,d\n1,2,7,3,4\n0,0,8,1,1\n0.5,0.25,9,0,1\n";
    features::FeatureOptions o;
    o.csv.label_column = 2;
    o.chunk_rows = 2;
    features::extract_features(model, dir + "/in.csv", dir + "/a.h5", o);
    const auto a = read_h5_features(dir + "/a.h5");
    ASSERT_TRUE(a.has_labels);
    EXPECT_EQ(std::vector<std::int32_t>(a.labels.begin(), a.labels.end()),
              (std::vector<std::int32_t>{7, 8, 9}));

    {
        auto f = hdf5::File::create(dir + "/in.h5");
        const std::vector<float> x{1, 2, 3, 4, 0, 0, 1, 1, 5, 6, 7, 8, 1, 0, 1, 0, 2, 2, 2, 2};
        f.write_dataset("set/x", x.data(), {5, 4});
        const std::vector<std::int32_t> y{3, 1, 4, 1, 5};
        f.write_dataset("set/labels", y.data(), {5});
        f.close();
    }
    o.chunk_rows = 3;
    features::extract_features(model, dir + "/in.h5:/set/x", dir + "/b.h5", o);
    const auto b = read_h5_features(dir + "/b.h5");
    ASSERT_TRUE(b.has_labels);
    EXPECT_EQ(std::vector<std::int32_t>(b.labels.begin(), b.labels.end()),
              (std::vector<std::int32_t>{3, 1, 4, 1, 5}));
    EXPECT_TRUE(same_bits(b.x, model.transform(data::read_dataset(dir + "/in.h5:/set/x").x, 0),
                          "features"));
}

TEST(ExtractFeatures, EmptyIdxGivesEmptyDatasets) {
    const std::string dir = feature_test_dir();
    const std::string spec = labelled_idx(dir, 0, 50);
    const features::FeatureSummary s =
        features::extract_features(mixed_model(50), spec, dir + "/f.h5");
    EXPECT_EQ(s.rows, 0U);
    const auto f = hdf5::File::open(dir + "/f.h5");
    EXPECT_EQ(f.open_dataset("features").shape(), (std::vector<std::size_t>{0, 20}));
    EXPECT_EQ(f.open_dataset("labels").shape(), (std::vector<std::size_t>{0}));
}

TEST(ExtractFeatures, InMemoryFeaturesAndRowSource) {
    const Dbn model = mixed_model(50);
    Matrix raw = Matrix::from_shape({9, 50});
    for (std::size_t i = 0; i < raw.size(); ++i) raw.data()[i] = static_cast<float>(i % 256);
    EXPECT_TRUE(same_bits(features::features(model, raw, 1), model.transform(raw, 1), "features"));
    EXPECT_THROW(features::features(model, raw, 3), ConfigError);
    EXPECT_THROW(features::features(model, Matrix::from_shape({2, 49}), 0), ShapeError);

    const std::string dir = feature_test_dir();
    data::Dataset d;
    d.x = raw;
    d.source = "memory";
    auto rows = data::memory_row_source(d);
    features::FeatureOptions o;
    o.chunk_rows = 4;
    features::extract_features(model, *rows, dir + "/f.h5", o);
    EXPECT_TRUE(same_bits(read_h5_features(dir + "/f.h5").x, model.transform(raw, 2), "x"));
}

template <class Err, class Fn>
std::string message_of(Fn&& fn) {
    try {
        fn();
    } catch (const Err& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("wrong exception: ") + e.what();
    }
    return "(no exception)";
}

TEST(ExtractFeaturesErrors, BadLayerNamesTheValidRange) {
    const std::string dir = feature_test_dir();
    const std::string spec = labelled_idx(dir, 5, 50);
    features::FeatureOptions o;
    o.layer = 3;
    const std::string msg = message_of<ConfigError>(
        [&] { features::extract_features(mixed_model(50), spec, dir + "/f.h5", o); });
    EXPECT_NE(msg.find("layer 3 does not exist"), std::string::npos) << msg;
    EXPECT_NE(msg.find("0..2"), std::string::npos) << msg;
    EXPECT_EQ(entries(dir).size(), 2U) << "only the input files";
}

TEST(ExtractFeaturesErrors, ColumnMismatchNamesBoth) {
    const std::string dir = feature_test_dir();
    const std::string spec = labelled_idx(dir, 5, 49);
    const std::string msg = message_of<ShapeError>(
        [&] { features::extract_features(mixed_model(50), spec, dir + "/f.h5"); });
    EXPECT_NE(msg.find("49 columns"), std::string::npos) << msg;
    EXPECT_NE(msg.find("50 visible units"), std::string::npos) << msg;
    EXPECT_EQ(entries(dir).size(), 2U);
}

TEST(ExtractFeaturesErrors, UnknownOutputExtension) {
    const std::string dir = feature_test_dir();
    const std::string spec = labelled_idx(dir, 5, 50);
    for (const char* name : {"/f.txt", "/f", "/f.h5.bak", "/f.npz"}) {
        const std::string msg = message_of<ConfigError>(
            [&] { features::extract_features(mixed_model(50), spec, dir + name); });
        EXPECT_NE(msg.find("unknown output extension"), std::string::npos) << msg;
    }
    features::FeatureOptions o;
    o.chunk_rows = 0;
    EXPECT_THROW(features::extract_features(mixed_model(50), spec, dir + "/f.h5", o), ConfigError);
    EXPECT_EQ(entries(dir).size(), 2U);
}

TEST(ExtractFeaturesErrors, FailureMidStreamLeavesNothingAndKeepsTheOldFile) {
    const std::string dir = feature_test_dir();
    // A CSV whose row 500 is bad: the first chunks are written before the error.
    std::ofstream out(dir + "/in.csv");
    for (int i = 0; i < 1000; ++i) {
        for (int j = 0; j < 4; ++j) out << (j ? "," : "") << (i == 500 && j == 2 ? "oops" : "1");
        out << "\n";
    }
    out.close();
    const Dbn model = testing::random_stack({4, 3}, 9);
    features::FeatureOptions o;
    o.chunk_rows = 7;
    for (const char* name : {"/f.h5", "/f.csv"}) {
        SCOPED_TRACE(name);
        EXPECT_THROW(features::extract_features(model, dir + "/in.csv", dir + name, o),
                     FormatError);
        EXPECT_EQ(entries(dir), std::vector<std::string>{"in.csv"});
    }
    // An existing output is left as it was.
    std::ofstream(dir + "/f.csv") << "old";
    EXPECT_THROW(features::extract_features(model, dir + "/in.csv", dir + "/f.csv", o),
                 FormatError);
    std::ifstream in(dir + "/f.csv");
    std::string old;
    std::getline(in, old);
    EXPECT_EQ(old, "old");
    EXPECT_EQ(entries(dir).size(), 2U);

    // A truncated IDX file: same.
    const std::string spec = labelled_idx(dir, 100, 4);
    std::filesystem::resize_file(spec, std::filesystem::file_size(spec) - 10);
    EXPECT_THROW(features::extract_features(model, spec, dir + "/g.h5", o), FormatError);
    EXPECT_FALSE(std::filesystem::exists(dir + "/g.h5"));
    EXPECT_EQ(entries(dir).size(), 4U);
}

TEST(ExtractFeaturesErrors, MissingInputOrOutputFolder) {
    const std::string dir = feature_test_dir();
    const Dbn model = testing::random_stack({4, 3}, 9);
    EXPECT_THROW(features::extract_features(model, dir + "/none.csv", dir + "/f.h5"), IoError);
    std::ofstream(dir + "/in.csv") << "1,2,3,4\n";
    EXPECT_THROW(features::extract_features(model, dir + "/in.csv", dir + "/no/such/f.h5"),
                 IoError);
    EXPECT_THROW(features::extract_features(model, dir + "/in.csv", dir + "/no/such/f.csv"),
                 IoError);
    EXPECT_EQ(entries(dir), std::vector<std::string>{"in.csv"});
}

/// Peak resident set size (VmHWM) in KiB, or 0 when unavailable.
std::size_t peak_rss_kib() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6));
    return 0;
}

TEST(ExtractFeaturesMemory, PeakRssGrowthIsFarBelowTheDataSize) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer's allocator keeps freed memory; RSS says nothing here";
#endif
    const std::string dir = feature_test_dir();
    const std::size_t rows = 100000;
    const std::size_t cols = 784;
    testing::write_idx_images(dir + "/big-images-idx3-ubyte", rows, cols,
                              [](std::size_t i, std::size_t j) {
                                  return static_cast<unsigned char>((i * 13 + j * 7) % 256);
                              });
    std::vector<unsigned char> labels(rows, 3);
    testing::write_idx_labels(dir + "/big-labels-idx1-ubyte", labels);
    Dbn model = testing::random_stack({cols, 64}, 3);
    model.preprocessing.scale = 255.0f;

    // Start the peak count afresh ("5" resets VmHWM, Linux >= 4.0).
    std::ofstream("/proc/self/clear_refs") << "5";
    const std::size_t before = peak_rss_kib();
    if (before == 0) GTEST_SKIP() << "no /proc/self/status";
    features::FeatureOptions o;
    o.chunk_rows = 1024;
    const features::FeatureSummary s =
        features::extract_features(model, dir + "/big-images-idx3-ubyte", dir + "/f.h5", o);
    const std::size_t growth_kib = peak_rss_kib() - before;
    EXPECT_EQ(s.rows, rows);
    const double data_mib = static_cast<double>(rows * cols * sizeof(float)) / (1 << 20);
    std::cout << "[ measure  ] peak RSS growth " << growth_kib / 1024.0 << " MiB for " << data_mib
              << " MiB of float data (" << rows << " x " << cols << ")\n";
    // One chunk is 3 MiB of floats; the whole data set 299 MiB.
    EXPECT_LT(static_cast<double>(growth_kib) / 1024.0, 32.0);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dbn
