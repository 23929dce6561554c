#include "dbn/core/parallel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace dbn {
namespace {

TEST(ThreadPool, EveryMemberRunsOnceAndBarriersOrderThePhases) {
    ThreadPool pool(3);
    std::vector<int> phase1(3, 0), seen(3, 0);
    pool.run([&](std::size_t t) {
        for (int round = 0; round < 200; ++round) {
            phase1[t] = round + 1;
            ASSERT_TRUE(pool.barrier());
            // After the barrier every member has written this round's value.
            int sum = 0;
            for (int v : phase1) sum += v;
            seen[t] = sum;
            EXPECT_EQ(sum, 3 * (round + 1));
            ASSERT_TRUE(pool.barrier());
        }
    });
    for (int v : seen) EXPECT_EQ(v, 600);
}

TEST(ThreadPool, AnExceptionReleasesTheOthersAndIsRethrown) {
    ThreadPool pool(2);
    std::atomic<int> released{0};
    EXPECT_THROW(pool.run([&](std::size_t t) {
        if (t == 1) throw std::runtime_error("boom");
        if (!pool.barrier()) ++released;
    }),
                 std::runtime_error);
    EXPECT_EQ(released.load(), 1);
    // The pool stays usable.
    std::atomic<int> count{0};
    pool.run([&](std::size_t) { ++count; });
    EXPECT_EQ(count.load(), 2);
}

TEST(SplitRange, CoversEveryItemOnce) {
    for (std::size_t n : {0u, 1u, 7u, 100u, 785u}) {
        std::size_t next = 0;
        for (std::size_t t = 0; t < 3; ++t) {
            const auto [a, b] = split_range(n, 3, t);
            EXPECT_EQ(a, next);
            next = b;
        }
        EXPECT_EQ(next, n);
    }
}

}  // namespace
}  // namespace dbn
