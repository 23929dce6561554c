// RbmTrainer::minibatch_products() lists the products a minibatch really runs: checked against
// the sgemm calls the trainer makes (recorded by a stand-in for OpenBLAS's cblas_sgemm that
// forwards to the real one) and against the flop count written out by hand.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <tuple>
#include <vector>

#if defined(__GLIBC__)
#include <dlfcn.h>
#endif

#include <gtest/gtest.h>

#include "dbn/core/blas.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/train/rbm_trainer.hpp"

namespace {

// (trans_a, trans_b, m, n, k) of one product.
using Product = std::tuple<bool, bool, std::size_t, std::size_t, std::size_t>;

std::mutex g_mutex;
std::vector<Product> g_calls;
std::atomic<bool> g_recording{false};

// Records the products made between construction and calls().
class Recorder {
public:
    Recorder() {
        std::lock_guard<std::mutex> lock(g_mutex);
        g_calls.clear();
        g_recording = true;
    }
    ~Recorder() { g_recording = false; }
    std::vector<Product> calls() {
        g_recording = false;
        std::lock_guard<std::mutex> lock(g_mutex);
        return g_calls;
    }
};

}  // namespace

#if defined(__GLIBC__)
// The library is linked statically into this program, so its calls to cblas_sgemm land here;
// the real one is the next definition, in libopenblas. CBLAS's enums are passed as ints.
extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                            const float* a, int lda, const float* b, int ldb, float beta, float* c,
                            int ldc) {
    using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*,
                           int, float, float*, int);
    static const auto real = reinterpret_cast<Sgemm>(dlsym(RTLD_NEXT, "cblas_sgemm"));
    if (g_recording) {
        constexpr int k_trans = 112;  // CblasTrans
        std::lock_guard<std::mutex> lock(g_mutex);
        g_calls.emplace_back(trans_a == k_trans, trans_b == k_trans, std::size_t(m), std::size_t(n),
                             std::size_t(k));
    }
    real(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
#endif

namespace dbn {
namespace {

constexpr std::size_t k_nv = 12, k_nh = 7, k_batch = 10;

LayerTrainingConfig config(Algorithm algorithm, std::size_t k, std::size_t chains = 0) {
    LayerTrainingConfig c;
    c.algorithm = algorithm;
    c.k = k;
    c.persistent_chains = chains;
    c.batch_size = k_batch;
    c.epochs = 1;
    c.learning_rate = 0.01;
    return c;
}

std::vector<Product> expanded(const std::vector<blas::GemmShape>& shapes, std::size_t times) {
    std::vector<Product> out;
    for (const auto& s : shapes)
        for (std::size_t i = 0; i < times * static_cast<std::size_t>(s.count); ++i)
            out.emplace_back(s.trans_a, s.trans_b, s.m, s.n, s.k);
    std::sort(out.begin(), out.end());
    return out;
}

double flops(const std::vector<blas::GemmShape>& shapes) {
    double f = 0.0;
    for (const auto& s : shapes) f += s.flops();
    return f;
}

// The products of `batches` full minibatches of one epoch, as the trainer runs them.
std::vector<Product> recorded(const LayerTrainingConfig& cfg, std::size_t batches) {
    Rng rng(3);
    Rbm rbm(k_nv, k_nh);
    rbm.init_random(rng, 0.1f);
    Matrix data = Matrix::from_shape({batches * k_batch, k_nv});
    for (auto& x : data) x = rng.uniform() < 0.4f ? 1.0f : 0.0f;
    RbmTrainer trainer(rbm, cfg, rng);
    trainer.set_threads(1);
    Recorder rec;
    trainer.train_epoch(data);
    std::vector<Product> calls = rec.calls();
    std::sort(calls.begin(), calls.end());
    return calls;
}

bool recording_works() {
    Matrix a = xt::ones<Real>({2, 3}), b = xt::ones<Real>({3, 4}), c = xt::zeros<Real>({2, 4});
    Recorder rec;
    blas::gemm(false, false, 1.0f, a, b, 0.0f, c);
    return rec.calls().size() == 1;
}

void expect_listed_products_are_run(const LayerTrainingConfig& cfg, double expected_flops) {
    const auto shapes = RbmTrainer::minibatch_products(k_nv, k_nh, cfg);
    EXPECT_DOUBLE_EQ(flops(shapes), expected_flops);
    if (!recording_works()) GTEST_SKIP() << "cblas_sgemm cannot be intercepted in this build";
    // Two minibatches: for PCD the first also starts the chains (with no product).
    const auto calls = recorded(cfg, 2);
    EXPECT_EQ(calls, expanded(shapes, 2));
    double run = 0.0;
    for (const auto& [ta, tb, m, n, k] : calls) run += 2.0 * double(m) * double(n) * double(k);
    EXPECT_DOUBLE_EQ(run, 2.0 * expected_flops);
}

// One minibatch of B rows and N negative rows: 2 B nv nh for the data's up, 2 N nv nh for each
// negative down and up, and the fused statistics (nv + 1) x (nh + 1) over B + N.
double cd_flops(double b, double n, double k) {
    const double nv = k_nv, nh = k_nh;
    return 2 * b * nv * nh + 2 * k * 2 * n * nv * nh + 2 * (nv + 1) * (nh + 1) * (b + n);
}

TEST(MinibatchProducts, Cd1) {
    expect_listed_products_are_run(config(Algorithm::cd, 1), cd_flops(10, 10, 1));
}

TEST(MinibatchProducts, Cd3) {
    expect_listed_products_are_run(config(Algorithm::cd, 3), cd_flops(10, 10, 3));
}

TEST(MinibatchProducts, Pcd2WithMoreChainsThanRows) {
    expect_listed_products_are_run(config(Algorithm::pcd, 2, 24), cd_flops(10, 24, 2));
}

TEST(MinibatchProducts, Exact) {
    // One up of all 2^12 visible states, no down.
    const double nv = k_nv, nh = k_nh, b = k_batch, n = 4096;
    expect_listed_products_are_run(
        config(Algorithm::exact, 1),
        2 * b * nv * nh + 2 * n * nv * nh + 2 * (nv + 1) * (nh + 1) * (b + n));
}

TEST(MinibatchProducts, FusedStatisticsShape) {
    const auto shapes = RbmTrainer::minibatch_products(784, 500, config(Algorithm::cd, 1));
    ASSERT_EQ(shapes.size(), 4u);
    const blas::GemmShape& s = shapes.back();
    EXPECT_EQ(s.name, "statistics");
    EXPECT_EQ(s.m, 785u);
    EXPECT_EQ(s.n, 501u);
    EXPECT_EQ(s.k, 2 * k_batch);
    EXPECT_FALSE(s.trans_a);
    EXPECT_FALSE(s.trans_b);
}

}  // namespace
}  // namespace dbn
