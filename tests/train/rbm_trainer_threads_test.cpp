#include <gtest/gtest.h>

#include <cstring>

#include "dbn/core/rng.hpp"
#include "dbn/train/rbm_trainer.hpp"
#include "support/helpers.hpp"

namespace dbn {
namespace {

// Big enough that the trainer splits minibatches across threads (see effective_threads).
constexpr std::size_t k_nv = 100, k_nh = 256, k_rows = 430, k_batch = 50;

Matrix random_data(std::uint64_t seed) {
    Rng rng(seed);
    Matrix m = Matrix::from_shape({k_rows, k_nv});
    for (auto& x : m) x = rng.uniform() < 0.3f ? 1.0f : rng.uniform();  // pixels in [0, 1]
    return m;
}

struct Trained {
    Rbm rbm;
    Rng::State rng_state;
};

Trained train(Algorithm algorithm, std::size_t threads, std::size_t k = 1,
              UnitType hidden = UnitType::bernoulli, double sparsity = 0.0) {
    const Matrix data = random_data(5);
    Rng rng(99);
    Rbm rbm(k_nv, k_nh, UnitType::bernoulli, hidden);
    rbm.init_random(rng, 0.05f);
    LayerTrainingConfig cfg;
    cfg.algorithm = algorithm;
    cfg.k = k;
    cfg.batch_size = k_batch;
    cfg.epochs = 2;
    cfg.learning_rate = 0.05;
    cfg.weight_decay = 0.001;
    cfg.momentum_switch_epoch = 1;
    if (sparsity > 0.0) {
        cfg.sparsity_target = sparsity;
        cfg.sparsity_cost = 0.5;
    }
    RbmTrainer trainer(rbm, cfg, rng);
    trainer.set_threads(threads);
    EXPECT_EQ(trainer.effective_threads(), threads);
    trainer.init_visible_bias(data);
    trainer.train_epoch(data);
    trainer.train_epoch(data);
    return {rbm, rng.state()};
}

::testing::AssertionResult bit_identical(const Rbm& a, const Rbm& b) {
    auto same = [](const auto& x, const auto& y) {
        return x.size() == y.size() &&
               std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
    };
    if (!same(a.weights(), b.weights())) return ::testing::AssertionFailure() << "weights differ";
    if (!same(a.visible_bias(), b.visible_bias()))
        return ::testing::AssertionFailure() << "visible biases differ";
    if (!same(a.hidden_bias(), b.hidden_bias()))
        return ::testing::AssertionFailure() << "hidden biases differ";
    return ::testing::AssertionSuccess();
}

// Split minibatches draw from per-chunk substreams whatever the thread count, so 1 and 2 threads
// make the same random draws and compute the same sums; only the rounding differs, because
// OpenBLAS's kernels sum an entry differently depending on where its row falls in the block
// (edge tiles). After two short epochs that is far below 1e-4 relative.
void expect_thread_count_does_not_matter(Algorithm algorithm, std::size_t k = 1,
                                         UnitType hidden = UnitType::bernoulli,
                                         double sparsity = 0.0) {
    const Trained one = train(algorithm, 1, k, hidden, sparsity);
    const Trained two = train(algorithm, 2, k, hidden, sparsity);
    EXPECT_TRUE(testing::allclose(two.rbm.weights(), one.rbm.weights(), 1e-4, 1e-6));
    EXPECT_TRUE(testing::allclose(two.rbm.visible_bias(), one.rbm.visible_bias(), 1e-4, 1e-6));
    EXPECT_TRUE(testing::allclose(two.rbm.hidden_bias(), one.rbm.hidden_bias(), 1e-4, 1e-6));
    EXPECT_EQ(one.rng_state, two.rng_state);
}

TEST(RbmTrainerThreads, CdSplitAcrossTwoThreadsEqualsOneThread) {
    expect_thread_count_does_not_matter(Algorithm::cd);
}

TEST(RbmTrainerThreads, PcdSplitAcrossTwoThreadsEqualsOneThread) {
    expect_thread_count_does_not_matter(Algorithm::pcd);
}

TEST(RbmTrainerThreads, CdKWithRectifiedHiddenUnitsAndSparsityEqualsOneThread) {
    expect_thread_count_does_not_matter(Algorithm::cd, 3, UnitType::relu, 0.0);
    expect_thread_count_does_not_matter(Algorithm::cd, 2, UnitType::bernoulli, 0.1);
}

TEST(RbmTrainerThreads, SameSeedSameThreadsIsBitIdentical) {
    for (std::size_t threads : {1u, 2u}) {
        const Trained a = train(Algorithm::cd, threads);
        const Trained b = train(Algorithm::cd, threads);
        EXPECT_TRUE(bit_identical(a.rbm, b.rbm)) << threads << " threads";
        const Trained c = train(Algorithm::pcd, threads);
        const Trained d = train(Algorithm::pcd, threads);
        EXPECT_TRUE(bit_identical(c.rbm, d.rbm)) << threads << " threads (PCD)";
    }
}

TEST(RbmTrainerThreads, SmallModelsStayOnOneThread) {
    Rng rng(1);
    Rbm rbm(16, 8);
    LayerTrainingConfig cfg;
    cfg.batch_size = 10;
    RbmTrainer trainer(rbm, cfg, rng);
    trainer.set_threads(2);
    EXPECT_EQ(trainer.effective_threads(), 1u);
}

}  // namespace
}  // namespace dbn
