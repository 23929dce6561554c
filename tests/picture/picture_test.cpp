#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/picture/chart.hpp"
#include "dbn/picture/filters.hpp"
#include "dbn/picture/image.hpp"
#include "dbn/picture/png.hpp"
#include "picture/png_read.hpp"
#include "support/helpers.hpp"
#include "support/temp_dir.hpp"

namespace dbn::picture {
namespace {

using dbn::testing::error_of;
using dbn::testing::random_rbm;
using dbn::testing::TempDir;
using testing::read_png;

Matrix ramp_tiles(std::size_t n, std::size_t size) {
    Matrix m = Matrix::from_shape({n, size});
    for (std::size_t t = 0; t < n; ++t)
        for (std::size_t i = 0; i < size; ++i)
            m(t, i) = static_cast<float>((t + 1) * i) - 3.0f * static_cast<float>(t);
    return m;
}

TEST(TileGrid, SizeGapsAndPerTileStretch) {
    const Matrix tiles = ramp_tiles(5, 6);  // 5 tiles of 2x3: 3 columns, 2 rows
    const GrayImage g = tile_grid(tiles, {2, 3});
    EXPECT_EQ(g.width, 3U * 4 - 1);
    EXPECT_EQ(g.height, 2U * 3 - 1);
    ASSERT_EQ(g.pixels.size(), g.width * g.height);
    // Tile t at row t / 3, column t % 3; its first value is its minimum, its last its maximum.
    for (std::size_t t = 0; t < 5; ++t) {
        const std::size_t top = (t / 3) * 3, left = (t % 3) * 4;
        EXPECT_EQ(g.at(top, left), 0) << t;
        EXPECT_EQ(g.at(top + 1, left + 2), 255) << t;
        EXPECT_EQ(g.at(top, left + 1), 51) << t;  // round(255 * 1/5)
    }
    EXPECT_EQ(g.at(0, 3), gap_gray);  // the gap column between tiles 0 and 1
    EXPECT_EQ(g.at(2, 0), gap_gray);  // the gap row
    EXPECT_EQ(g.at(3, 8), gap_gray);  // the empty sixth cell
}

TEST(TileGrid, ConstantTilesAndFixedScale) {
    Matrix tiles = Matrix::from_shape({2, 4});
    tiles.fill(0.25f);
    tiles(1, 0) = -1.0f;
    tiles(1, 1) = 2.0f;
    const GrayImage per_tile = tile_grid(tiles, {2, 2}, 2);
    EXPECT_EQ(per_tile.at(0, 0), 128);  // a constant tile is mid-gray
    EXPECT_EQ(per_tile.at(0, 3), 0);
    EXPECT_EQ(per_tile.at(0, 4), 255);
    const GrayImage fixed = tile_grid(tiles, {2, 2}, 2, GrayScale::fixed(0.0, 1.0));
    EXPECT_EQ(fixed.at(0, 0), 64);  // round(0.25 * 255)
    EXPECT_EQ(fixed.at(0, 3), 0);   // clipped
    EXPECT_EQ(fixed.at(0, 4), 255);
    EXPECT_EQ(fixed.width, 5U);
    EXPECT_EQ(fixed.height, 2U);
}

TEST(TileGrid, RefusesBadShapesAndHugePictures) {
    const Matrix tiles = ramp_tiles(3, 6);
    EXPECT_THROW(tile_grid(tiles, {2, 2}), ShapeError);
    EXPECT_THROW(tile_grid(Matrix::from_shape({0, 4}), {2, 2}), ShapeError);
    const Matrix many = Matrix::from_shape({40000, 1});
    EXPECT_NE(error_of<ConfigError>([&] {
                  tile_grid(many, {1, 1}, 40000);
              }).find("--count"),
              std::string::npos);
}

TEST(Shape, ParseAndChoose) {
    EXPECT_EQ(parse_shape("28x28").height, 28U);
    EXPECT_EQ(parse_shape("4x7").width, 7U);
    for (const char* bad :
         {"", "x", "28", "28x", "x28", "0x4", "4x0", "2x2x2", "-2x3", "a x b", "1234567890x1"})
        EXPECT_THROW(parse_shape(bad), ConfigError) << bad;
    EXPECT_EQ(choose_shape(std::nullopt, std::nullopt, 784, "m.h5").height, 28U);
    EXPECT_EQ(choose_shape(std::nullopt, std::string("2x8"), 16, "m.h5").width, 8U);
    EXPECT_NE(error_of<ConfigError>([] {
                  choose_shape(std::nullopt, std::nullopt, 12, "m.h5");
              }).find("--shape"),
              std::string::npos);
    EXPECT_THROW(choose_shape(std::nullopt, std::string("3x5"), 16, "m.h5"), ConfigError);
    const std::vector<std::int64_t> attr = {3, 4};
    EXPECT_EQ(choose_shape(attr, std::nullopt, 12, "m.h5").width, 4U);
    EXPECT_EQ(choose_shape(attr, std::string("3x4"), 12, "m.h5").height, 3U);
    EXPECT_THROW(choose_shape(attr, std::string("4x3"), 12, "m.h5"), ConfigError);
    EXPECT_THROW(choose_shape(attr, std::nullopt, 16, "m.h5"), ConfigError);
    EXPECT_THROW(choose_shape(std::vector<std::int64_t>{12}, std::nullopt, 12, "m.h5"),
                 ConfigError);
    EXPECT_THROW(choose_shape(std::vector<std::int64_t>{-3, -4}, std::nullopt, 12, "m.h5"),
                 ConfigError);
}

TEST(Filters, LayerZeroIsTheWeightsAndDeeperLayersTheProduct) {
    Rng rng(3);
    Dbn model;
    model.layers.push_back(random_rbm(6, 4, rng));
    model.layers.push_back(random_rbm(4, 3, rng));
    const Matrix& w0 = model.layers[0].weights();
    const Matrix& w1 = model.layers[1].weights();
    const Matrix f0 = layer_filters(model, 0);
    ASSERT_EQ(f0.shape(0), 4U);
    ASSERT_EQ(f0.shape(1), 6U);
    for (std::size_t j = 0; j < 4; ++j)
        for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(f0(j, i), w0(i, j));
    const Matrix f1 = layer_filters(model, 1, 2);
    ASSERT_EQ(f1.shape(0), 2U);
    for (std::size_t j = 0; j < 2; ++j)
        for (std::size_t i = 0; i < 6; ++i) {
            double sum = 0;
            for (std::size_t m = 0; m < 4; ++m) sum += static_cast<double>(w0(i, m)) * w1(m, j);
            EXPECT_NEAR(f1(j, i), sum, 1e-5);
        }
    EXPECT_THROW(layer_filters(model, 2), ConfigError);
    EXPECT_THROW(layer_filters(model, 1, 4), ConfigError);
}

TEST(Png, WritesThePixelsItIsGiven) {
    if (!pictures_available()) GTEST_SKIP() << picture_library();
    TempDir dir;
    const std::string path = dir.path("grid.png");
    const GrayImage g = tile_grid(ramp_tiles(7, 12), {3, 4});
    write_png(path, g);
    const auto d = read_png(path);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.width, g.width);
    EXPECT_EQ(d.height, g.height);
    EXPECT_TRUE(d.gray());
    for (std::size_t r = 0; r < g.height; ++r)
        for (std::size_t c = 0; c < g.width; ++c) ASSERT_EQ(d.r(r, c), g.at(r, c)) << r << "," << c;
    EXPECT_GT(d.variance(), 0.0);
    // Only the picture is left: no temporary beside it.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path("")))
        ++files;
    EXPECT_EQ(files, 1U);
}

TEST(Png, AFailedWriteLeavesNothing) {
    if (!pictures_available()) GTEST_SKIP() << picture_library();
    TempDir dir;
    const std::string path = dir.path("missing/grid.png");
    EXPECT_THROW(write_png(path, tile_grid(ramp_tiles(2, 4), {2, 2})), IoError);
    EXPECT_FALSE(std::filesystem::exists(dir.path("missing")));
}

// tests/picture/data/bas4-filters.png is `dbn show tests/picture/data/bas4.h5 --out ...` of the
// checked-in 16-12 bars-and-stripes RBM (tests/picture/data/README.md says how both were made).
// The filters drawn now must equal it pixel for pixel (decoded, not compared as bytes).
TEST(Png, BarsAndStripesFiltersMatchTheReference) {
    if (!pictures_available()) GTEST_SKIP() << picture_library();
    const std::string data = std::string(DBN_SOURCE_DIR) + "/tests/picture/data/";
    const ModelFile model = io::load_model(data + "bas4.h5");
    const GrayImage g = tile_grid(layer_filters(model.stack, 0), {4, 4});
    const auto ref = read_png(data + "bas4-filters.png");
    ASSERT_TRUE(ref.ok) << ref.error;
    ASSERT_EQ(ref.width, g.width);
    ASSERT_EQ(ref.height, g.height);
    std::size_t differ = 0;
    for (std::size_t r = 0; r < g.height; ++r)
        for (std::size_t c = 0; c < g.width; ++c) differ += ref.r(r, c) != g.at(r, c);
    EXPECT_EQ(differ, 0U);
    EXPECT_GT(ref.variance(), 0.0);
}

ModelFile model_with_records() {
    Rng rng(1);
    ModelFile m;
    m.stack.layers.push_back(random_rbm(16, 8, rng));
    m.stack.layers.push_back(random_rbm(8, 4, rng));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t k = 0; k < 2; ++k) {
        LayerRecord rec;
        for (std::size_t e = 1; e <= 5; ++e) {
            EpochStats s;
            s.layer = k;
            s.epoch = e;
            s.reconstruction_error = 0.3 / static_cast<double>(e + k);
            s.free_energy_gap = 0.1 * static_cast<double>(e);
            s.pseudo_log_likelihood = k == 0 ? -10.0 + static_cast<double>(e) : nan;
            rec.epochs.push_back(s);
        }
        m.records.push_back(rec);
    }
    return m;
}

TEST(Charts, OneChartPerMonitorOneLinePerLayer) {
    const ModelFile m = model_with_records();
    const std::vector<Chart> charts = training_charts(m);
    ASSERT_EQ(charts.size(), 3U);
    EXPECT_EQ(charts[0].title, "Reconstruction error");
    EXPECT_EQ(charts[0].series.size(), 2U);
    EXPECT_EQ(charts[0].series[1].name, "layer 1 (8-4)");
    EXPECT_EQ(charts[2].series.size(), 1U);  // layer 1's pseudo-log-likelihood is all NaN
    EXPECT_EQ(charts[0].series[0].y.size(), 5U);
    EXPECT_TRUE(training_charts(ModelFile(m.stack)).empty());
}

TEST(Charts, FineTuningAddsItsCurves) {
    ModelFile m = model_with_records();
    finetune::FineTuned tuned;
    for (std::size_t e = 1; e <= 4; ++e) {
        finetune::FineTuneEpoch h;
        h.epoch = e;
        h.loss = 1.0 / static_cast<double>(e);
        h.train_accuracy = 0.5 + 0.1 * static_cast<double>(e);
        h.valid_accuracy = 0.45 + 0.1 * static_cast<double>(e);
        tuned.history.push_back(h);
    }
    m.fine_tuned = tuned;
    const std::vector<Chart> charts = training_charts(m);
    ASSERT_EQ(charts.size(), 5U);
    EXPECT_EQ(charts[3].title, "Fine-tuning loss");
    EXPECT_EQ(charts[4].title, "Fine-tuning accuracy");
    ASSERT_EQ(charts[4].series.size(), 2U);
    EXPECT_EQ(charts[4].series[1].name, "validation");
}

TEST(Charts, APageOfPanelsIsWrittenAndNotBlank) {
    if (!pictures_available()) GTEST_SKIP() << picture_library();
    TempDir dir;
    const std::string path = dir.path("curves.png");
    const std::vector<Chart> charts = training_charts(model_with_records());
    write_charts(path, charts, 2);
    const auto d = read_png(path);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.width, 2U * chart_width);
    EXPECT_EQ(d.height, 2U * chart_height);
    EXPECT_GT(d.variance(), 0.0);
    EXPECT_FALSE(d.gray());  // the lines are in colour
    EXPECT_THROW(write_charts(path, {}, 2), ConfigError);
}

}  // namespace
}  // namespace dbn::picture
