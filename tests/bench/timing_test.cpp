// The benchmark's arithmetic (medians, line fits, limits) and the trainer's product shapes.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/bench/line_fit.hpp"
#include "dbn/bench/scaling.hpp"
#include "dbn/bench/timing.hpp"

namespace dbn {
namespace {

TEST(BenchMedian, OddEvenAndEmpty) {
    EXPECT_DOUBLE_EQ(bench::median({3.0, 1.0, 2.0}), 2.0);
    EXPECT_DOUBLE_EQ(bench::median({4.0, 1.0, 3.0, 2.0}), 2.5);
    EXPECT_TRUE(std::isnan(bench::median({})));
}

TEST(BenchLineFit, ExactLineAndDegenerateInput) {
    const bench::LineFit f = bench::fit_line({1.0, 2.0, 3.0, 4.0}, {2.5, 4.5, 6.5, 8.5});
    EXPECT_NEAR(f.slope, 2.0, 1e-12);
    EXPECT_NEAR(f.intercept, 0.5, 1e-12);
    EXPECT_NEAR(f.r_squared, 1.0, 1e-12);
    EXPECT_TRUE(std::isnan(bench::fit_line({1.0}, {1.0}).slope));
    EXPECT_TRUE(std::isnan(bench::fit_line({2.0, 2.0}, {1.0, 3.0}).slope));
    EXPECT_DOUBLE_EQ(bench::fit_line({1.0, 2.0}, {5.0, 5.0}).r_squared, 1.0);
    // Noisy points: r^2 below 1.
    EXPECT_LT(bench::fit_line({1.0, 2.0, 3.0}, {1.0, 3.0, 2.0}).r_squared, 1.0);
}

TEST(BenchLineFit, LogLogSlopeIsTheExponent) {
    std::vector<double> u, t;
    for (double x : {1.0, 2.0, 5.0, 10.0}) {
        u.push_back(x);
        t.push_back(3.0 * x * x);
    }
    EXPECT_NEAR(bench::loglog_slope(u, t), 2.0, 1e-12);
}

TEST(BenchScaling, SummaryOfALinearSweep) {
    std::vector<bench::ScalePoint> pts;
    for (std::size_t rows : {100, 200, 400}) {
        bench::ScalePoint p;
        p.rows = rows;
        p.nv = 10;
        p.nh = 20;
        p.seconds = 0.5 + 1e-4 * double(rows * 10 * 20);
        pts.push_back(p);
    }
    const bench::Sweep s = bench::summarize(pts);
    ASSERT_EQ(s.points.size(), 3u);
    EXPECT_NEAR(s.fit.intercept, 0.5, 1e-9);
    EXPECT_NEAR(s.fit.slope, 1e-4, 1e-12);
    EXPECT_NEAR(s.fit.r_squared, 1.0, 1e-12);
    EXPECT_LT(s.exponent, 1.0);  // the intercept makes the cost grow less than linearly
    EXPECT_GT(s.cost_ratio_max_min, 1.0);
}

TEST(BenchTiming, ProductTimingAndLimit) {
    const std::vector<blas::GemmShape> shapes = {{"a", false, false, 64, 32, 48, 2},
                                                 {"b", true, false, 48, 32, 64, 1},
                                                 {"c", false, true, 64, 48, 32, 3}};
    for (std::size_t threads : {1, 2}) {
        const bench::GemmLimit l = bench::measure_limit(shapes, threads, 1);
        ASSERT_EQ(l.products.size(), 3u);
        double seconds = 0.0;
        for (std::size_t i = 0; i < 3; ++i) {
            const bench::ProductTiming& p = l.products[i];
            EXPECT_EQ(p.shape.name, shapes[i].name);
            EXPECT_GT(p.blas_threads_seconds, 0.0);
            EXPECT_EQ(std::isnan(p.split_seconds), threads == 1);
            EXPECT_LE(p.best_seconds(), p.blas_threads_seconds);
            EXPECT_DOUBLE_EQ(p.flops_per_call() * shapes[i].count, shapes[i].flops());
            seconds += shapes[i].count * p.best_seconds();
        }
        EXPECT_DOUBLE_EQ(l.seconds, seconds);
        EXPECT_DOUBLE_EQ(l.flops, shapes[0].flops() + shapes[1].flops() + shapes[2].flops());
        EXPECT_GT(l.gflops(), 0.0);
    }
}

}  // namespace
}  // namespace dbn
