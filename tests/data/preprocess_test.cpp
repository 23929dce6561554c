#include "dbn/data/preprocess.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/rng.hpp"

namespace dbn::data {
namespace {

constexpr double k_moment_tol = 1e-5;

/// rows x cols data whose column j is N(10 j - 20, (j + 1)^2): offsets and spreads differ.
Matrix random_data(std::size_t rows, std::size_t cols, std::uint64_t seed) {
    Rng rng{seed};
    Matrix x = Matrix::from_shape({rows, cols});
    rng.fill_normal(x.data(), x.size());
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < cols; ++j)
            x(r, j) = x(r, j) * static_cast<float>(j + 1) + 10.0f * static_cast<float>(j) - 20.0f;
    return x;
}

struct Moments {
    double mean;
    double stddev;
};

Moments column_moments(const Matrix& x, std::size_t j) {
    double s = 0.0;
    for (std::size_t r = 0; r < x.shape(0); ++r) s += x(r, j);
    const double m = s / static_cast<double>(x.shape(0));
    double ss = 0.0;
    for (std::size_t r = 0; r < x.shape(0); ++r) ss += (x(r, j) - m) * (x(r, j) - m);
    return {m, std::sqrt(ss / static_cast<double>(x.shape(0)))};
}

TEST(Preprocessing, DefaultIsIdentity) {
    Preprocessing p;
    EXPECT_TRUE(p.is_identity());
    EXPECT_EQ(p.describe(), "none");
    Matrix x = random_data(5, 3, 1);
    const Matrix before = x;
    p.fit(x);
    p.apply(x);
    EXPECT_EQ(x, before);
}

TEST(Preprocessing, ScalesThenBinarizes) {
    Preprocessing p;
    p.scale = 255.0f;
    p.binarize = true;
    p.threshold = 0.5f;
    Matrix x = {{0.0f, 127.0f, 128.0f, 255.0f}};
    p.fit(x);
    p.apply(x);
    EXPECT_EQ(x, (Matrix{{0.0f, 0.0f, 1.0f, 1.0f}}));
    EXPECT_EQ(p.describe(), "scale 1/255, binarize at 0.5");
}

TEST(Preprocessing, ScaleDividesExactly) {
    Preprocessing p;
    p.scale = 255.0f;
    Matrix x = Matrix::from_shape({1, 256});
    for (std::size_t i = 0; i < 256; ++i) x(0, i) = static_cast<float>(i);
    p.apply(x);
    for (std::size_t i = 0; i < 256; ++i) EXPECT_EQ(x(0, i), static_cast<float>(i) / 255.0f);
}

TEST(Preprocessing, StandardizedColumnsHaveZeroMeanUnitStd) {
    Preprocessing p;
    p.scale = 2.0f;
    p.standardize = true;
    Matrix x = random_data(1000, 6, 42);
    p.fit(x);
    ASSERT_EQ(p.mean.size(), 6U);
    ASSERT_EQ(p.stddev.size(), 6U);
    p.apply(x);
    for (std::size_t j = 0; j < 6; ++j) {
        const Moments m = column_moments(x, j);
        EXPECT_NEAR(m.mean, 0.0, k_moment_tol) << "column " << j;
        EXPECT_NEAR(m.stddev, 1.0, k_moment_tol) << "column " << j;
    }
    EXPECT_EQ(p.describe(), "scale 1/2, standardize (6 features)");
}

TEST(Preprocessing, StandardizeInvertsToScaledData) {
    Preprocessing p;
    p.scale = 4.0f;
    p.standardize = true;
    const Matrix raw = random_data(200, 4, 7);
    Matrix x = raw;
    p.fit(x);
    p.apply(x);
    for (std::size_t r = 0; r < x.shape(0); ++r)
        for (std::size_t j = 0; j < x.shape(1); ++j)
            EXPECT_NEAR(x(r, j) * p.stddev(j) + p.mean(j), raw(r, j) / 4.0f,
                        1e-5 * (1.0 + std::abs(raw(r, j))))
                << r << "," << j;
}

TEST(Preprocessing, FittedStatisticsReplayOnNewData) {
    Preprocessing p;
    p.standardize = true;
    const Matrix train = random_data(500, 3, 3);
    p.fit(train);
    // A second fit on other data must not be needed: apply uses the training statistics.
    Matrix test = random_data(50, 3, 4);
    const Matrix raw = test;
    p.apply(test);
    for (std::size_t r = 0; r < 50; ++r)
        for (std::size_t j = 0; j < 3; ++j)
            EXPECT_FLOAT_EQ(test(r, j), (raw(r, j) - p.mean(j)) / p.stddev(j));
}

TEST(Preprocessing, ConstantFeatureIsCentredNotDivided) {
    Preprocessing p;
    p.standardize = true;
    Matrix x = {{3.0f, 1.0f}, {3.0f, 2.0f}, {3.0f, 3.0f}};
    p.fit(x);
    EXPECT_EQ(p.stddev(0), 1.0f);
    EXPECT_GE(p.stddev(0), Preprocessing::min_stddev);
    p.apply(x);
    for (std::size_t r = 0; r < 3; ++r) EXPECT_EQ(x(r, 0), 0.0f);
    Matrix later = {{3.5f, 2.0f}};
    p.apply(later);
    EXPECT_FLOAT_EQ(later(0, 0), 0.5f);
    EXPECT_TRUE(std::isfinite(later(0, 1)));
}

TEST(Preprocessing, ApplyRejectsColumnMismatch) {
    Preprocessing p;
    p.standardize = true;
    p.fit(random_data(10, 3, 5));
    Matrix wide = random_data(2, 4, 6);
    try {
        p.apply(wide);
        ADD_FAILURE() << "no exception";
    } catch (const ShapeError& e) {
        EXPECT_NE(std::string(e.what()).find("4 columns (expected 3"), std::string::npos)
            << e.what();
    }
}

TEST(Preprocessing, ApplyBeforeFitIsShapeError) {
    Preprocessing p;
    p.standardize = true;
    Matrix x = random_data(2, 2, 8);
    EXPECT_THROW(p.apply(x), ShapeError);
    EXPECT_EQ(p.describe(), "standardize (not fitted)");
}

TEST(Preprocessing, FitWithoutStandardizeClearsStatistics) {
    Preprocessing p;
    p.standardize = true;
    p.fit(random_data(10, 3, 9));
    p.standardize = false;
    p.fit(random_data(10, 3, 9));
    EXPECT_EQ(p.mean.size(), 0U);
    EXPECT_EQ(p.stddev.size(), 0U);
}

TEST(Preprocessing, RejectsBadOptions) {
    Matrix x = random_data(4, 2, 10);
    Preprocessing zero_scale;
    zero_scale.scale = 0.0f;
    EXPECT_THROW(zero_scale.apply(x), ConfigError);
    Preprocessing both;
    both.binarize = true;
    both.standardize = true;
    EXPECT_THROW(both.fit(x), ConfigError);
    Preprocessing empty;
    empty.standardize = true;
    EXPECT_THROW(empty.fit(Matrix::from_shape({0, 3})), ShapeError);
}

}  // namespace
}  // namespace dbn::data
