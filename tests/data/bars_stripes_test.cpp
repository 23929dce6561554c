#include "dbn/data/bars_stripes.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"

namespace dbn::data {
namespace {

std::string row_key(const Matrix& x, std::size_t r) {
    std::string key;
    for (std::size_t k = 0; k < x.shape(1); ++k) key += x(r, k) == 1.0f ? '1' : '0';
    return key;
}

/// True when every row of the n x n image is constant, or every column is.
bool is_bars_or_stripes(const Matrix& x, std::size_t r, std::size_t n) {
    bool rows_constant = true;
    bool cols_constant = true;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            rows_constant = rows_constant && x(r, i * n + j) == x(r, i * n);
            cols_constant = cols_constant && x(r, i * n + j) == x(r, j);
        }
    return rows_constant || cols_constant;
}

TEST(BarsAndStripes, FourByFourGivesThirty) {
    const Matrix x = bars_and_stripes(4);
    EXPECT_EQ(x.shape(0), 30U);
    EXPECT_EQ(x.shape(1), 16U);
}

TEST(BarsAndStripes, CountIsTwoToTheNPlusOneMinusTwo) {
    for (std::size_t n = 1; n <= 10; ++n) {
        const Matrix x = bars_and_stripes(n);
        EXPECT_EQ(x.shape(0), (std::size_t{2} << n) - 2) << "n = " << n;
        EXPECT_EQ(x.shape(1), n * n) << "n = " << n;
    }
}

TEST(BarsAndStripes, PatternsAreDistinctBinaryAndValid) {
    // Distinct, valid and as many as there are valid images: the set is complete.
    for (std::size_t n = 1; n <= 6; ++n) {
        const Matrix x = bars_and_stripes(n);
        std::set<std::string> seen;
        for (std::size_t r = 0; r < x.shape(0); ++r) {
            for (std::size_t k = 0; k < x.shape(1); ++k)
                ASSERT_TRUE(x(r, k) == 0.0f || x(r, k) == 1.0f) << n << ": " << r << "," << k;
            EXPECT_TRUE(is_bars_or_stripes(x, r, n)) << "n = " << n << ", row " << r;
            EXPECT_TRUE(seen.insert(row_key(x, r)).second)
                << "duplicate row " << r << ", n = " << n;
        }
    }
}

TEST(BarsAndStripes, RejectsZeroAndTooLarge) {
    EXPECT_THROW(bars_and_stripes(0), ConfigError);
    EXPECT_THROW(bars_and_stripes(11), ConfigError);
}

}  // namespace
}  // namespace dbn::data
