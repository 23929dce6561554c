#include "dbn/core/plural.hpp"

#include <gtest/gtest.h>

namespace dbn {
namespace {

TEST(Counted, SingularForExactlyOne) {
    EXPECT_EQ(counted(1, "thread"), "1 thread");
    EXPECT_EQ(counted(1, "epoch"), "1 epoch");
    EXPECT_EQ(counted(1, "layer"), "1 layer");
}

TEST(Counted, PluralForEveryOtherCount) {
    EXPECT_EQ(counted(0, "layer"), "0 layers");
    EXPECT_EQ(counted(2, "thread"), "2 threads");
    EXPECT_EQ(counted(11, "epoch"), "11 epochs");
    EXPECT_EQ(counted(18446744073709551615ull, "row"), "18446744073709551615 rows");
}

TEST(Counted, IrregularPlural) {
    EXPECT_EQ(counted(1, "matrix", "matrices"), "1 matrix");
    EXPECT_EQ(counted(3, "matrix", "matrices"), "3 matrices");
    EXPECT_EQ(counted(1, "hidden unit"), "1 hidden unit");
}

}  // namespace
}  // namespace dbn
