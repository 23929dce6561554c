// Every measurement of `dbn bench` on small models: what it reports and how it uses the
// product shapes (not how fast it is).
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/bench/measurements.hpp"
#include "dbn/bench/scaling.hpp"
#include "dbn/core/rng.hpp"
#include "support/temp_dir.hpp"

namespace dbn {
namespace {

bench::Settings tiny_settings(std::size_t threads = 1) {
    bench::Settings s = bench::Settings::make(true, threads);
    s.reps = 1;
    s.ais_steps = 20;
    return s;
}

Matrix pixels(std::size_t rows, std::size_t cols) {
    Rng rng(7);
    Matrix x = Matrix::from_shape({rows, cols});
    for (auto& v : x) v = rng.uniform() < 0.5f ? 0.0f : 1.0f;
    return x;
}

TEST(BenchSettings, DefaultsAndQuick) {
    const bench::Settings full = bench::Settings::make(false, 2);
    EXPECT_EQ(full.threads, 2u);
    EXPECT_EQ(full.runs, 3);
    EXPECT_EQ(full.reps, 5);
    EXPECT_FALSE(full.rows.has_value());
    EXPECT_EQ(full.ais_steps, estimate::k_ais_default_steps);
    const bench::Settings quick = bench::Settings::make(true, 1);
    EXPECT_EQ(quick.runs, 1);
    EXPECT_EQ(quick.reps, 3);
    EXPECT_EQ(quick.rows, std::optional<std::size_t>(10000));
    EXPECT_EQ(quick.ais_steps, estimate::k_ais_quick_steps);
    ASSERT_TRUE(static_cast<bool>(full.rbm_products));
}

TEST(BenchData, ScaledToUnitIntervalAndCut) {
    testing::TempDir dir;
    const std::string csv = dir.file("x.csv", "0,255,51\n102,0,0\n255,255,0\n");
    const data::Dataset all = bench::load_data(csv, std::nullopt);
    ASSERT_EQ(all.x.shape(0), 3u);
    EXPECT_FLOAT_EQ(all.x(0, 1), 1.0f);
    EXPECT_FLOAT_EQ(all.x(0, 2), 0.2f);
    const data::Dataset two = bench::load_data(csv, 2);
    EXPECT_EQ(two.x.shape(0), 2u);
}

TEST(BenchRbm, EpochsAgainstTheLimitOfTheTrainersProducts) {
    const Matrix x = pixels(250, 16);
    bench::Settings s = tiny_settings(2);
    int calls = 0;
    const bench::RbmProducts trainer = s.rbm_products;
    s.rbm_products = [&](std::size_t nv, std::size_t nh, const LayerTrainingConfig& c) {
        ++calls;
        EXPECT_EQ(nv, 16u);
        EXPECT_EQ(nh, bench::k_rbm_hidden);
        EXPECT_EQ(c.algorithm, Algorithm::cd);
        return trainer(nv, nh, c);
    };
    const bench::RbmMeasurement m = bench::measure_rbm(x, s);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(m.minibatches, 3u);
    EXPECT_EQ(m.batch_size, 100u);
    EXPECT_DOUBLE_EQ(m.limit_seconds, 3.0 * m.limit.seconds);
    // The trainer's own list for CD-1: up (data), down, up (reconstruction), statistics.
    EXPECT_EQ(m.limit.products.size(), 4u);
    EXPECT_GT(m.cd1_seconds, 0.0);
    EXPECT_GT(m.pcd1_seconds, 0.0);
    EXPECT_GT(m.cd1_seconds_1_thread, 0.0);
    EXPECT_EQ(m.model.n_visible(), 16u);
    EXPECT_EQ(m.model.n_hidden(), bench::k_rbm_hidden);

    const bench::AisMeasurement a = bench::measure_ais(m.model, x, s);
    EXPECT_EQ(a.steps, 20u);
    EXPECT_EQ(a.runs, estimate::k_ais_default_runs);
    EXPECT_EQ(a.limit.products.size(), 2u);
    EXPECT_DOUBLE_EQ(a.limit_seconds, 20.0 * a.limit.seconds);
    EXPECT_TRUE(std::isfinite(a.log_z));
    EXPECT_GT(a.seconds, 0.0);
}

TEST(BenchFineTuning, ClassifierEpochAndFeatures) {
    data::Dataset d;
    d.source = "pixels";
    d.x = pixels(150, 32);
    const Dbn stack = bench::random_stack({32, 24, 16}, 2006);
    const bench::Settings s = tiny_settings();
    const bench::FineTuneMeasurement ft = bench::measure_finetune(stack, d, s);
    EXPECT_EQ(ft.shape, (std::vector<std::size_t>{32, 24, 16, bench::k_classes}));
    EXPECT_EQ(ft.batch_size, 100u);
    EXPECT_EQ(ft.limit.products.size(), 8u);           // 3 forward, 3 weight and 2 input gradients
    EXPECT_DOUBLE_EQ(ft.flops, 2.0 * ft.limit.flops);  // two minibatches
    EXPECT_GT(ft.seconds, 0.0);
    EXPECT_GT(ft.limit_seconds, 0.0);
    ASSERT_EQ(d.labels.size(), 150u);  // no labels: the classes in turn
    EXPECT_EQ(d.labels(13), 3);

    const bench::FeatureMeasurement fx = bench::measure_features(stack, d.x, s);
    EXPECT_EQ(fx.shape, (std::vector<std::size_t>{32, 24, 16}));
    EXPECT_EQ(fx.chunk_rows, 150u);
    EXPECT_EQ(fx.limit.products.size(), 2u);
    EXPECT_DOUBLE_EQ(fx.flops, 2.0 * 150 * (32 * 24 + 24 * 16));
    EXPECT_GT(fx.rows_per_second(), 0.0);
    EXPECT_GT(fx.limit_rows_per_second(), 0.0);
}

TEST(BenchScaling, SweepsRowsAndHiddenUnits) {
    const Matrix x = pixels(400, 8);
    std::vector<std::size_t> seen;
    const bench::Scaling sc = bench::measure_scaling(
        x, tiny_settings(), [&](const bench::ScalePoint& p) { seen.push_back(p.nh); });
    ASSERT_EQ(sc.rows.points.size(), 4u);
    EXPECT_EQ(sc.rows.points[0].rows, 50u);
    EXPECT_EQ(sc.rows.points[3].rows, 400u);
    ASSERT_EQ(sc.n_hidden.points.size(), 4u);
    EXPECT_EQ(sc.n_hidden.points[0].nh, 125u);
    EXPECT_EQ(sc.n_hidden.points[3].nh, 1000u);
    EXPECT_EQ(seen.size(), 8u);
    EXPECT_EQ(sc.batch_size, 100u);
    for (const auto& p : sc.rows.points) EXPECT_GT(p.limit, 0.0);
    EXPECT_TRUE(std::isfinite(sc.n_hidden.exponent));
}

}  // namespace
}  // namespace dbn
