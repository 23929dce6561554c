// Micro-benchmarks of the pieces of a CD-1 minibatch (784-500, batch 100, float32): sampling,
// the sigmoid, the free energy, the products, and one whole CD step on 1 and 2 threads.
#include <benchmark/benchmark.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "dbn/bench/measurements.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/math.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/core/vector_math.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/rbm_trainer.hpp"

namespace {

constexpr std::size_t k_batch = 100, k_nv = 784, k_nh = 500;

std::vector<float> activations(std::size_t n) {
    dbn::Rng rng(1);
    std::vector<float> x(n);
    for (auto& v : x) v = 8.0f * rng.uniform() - 4.0f;
    return x;
}

void BM_SigmoidVector(benchmark::State& state) {
    const auto x = activations(k_batch * k_nh);
    std::vector<float> y(x.size());
    for (auto _ : state) {
        dbn::vec::sigmoid(x.data(), y.data(), x.size());
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<long>(x.size()));
}
BENCHMARK(BM_SigmoidVector);

void BM_SigmoidScalar(benchmark::State& state) {
    const auto x = activations(k_batch * k_nh);
    std::vector<float> y(x.size());
    for (auto _ : state) {
        for (std::size_t i = 0; i < x.size(); ++i) y[i] = dbn::sigmoid(x[i]);
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<long>(x.size()));
}
BENCHMARK(BM_SigmoidScalar);

void BM_BernoulliSample(benchmark::State& state) {
    std::vector<float> p(k_batch * k_nh, 0.3f), out(p.size());
    dbn::Rng rng(2);
    for (auto _ : state) {
        rng.bernoulli(p.data(), out.data(), p.size());
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<long>(p.size()));
}
BENCHMARK(BM_BernoulliSample);

void BM_RngJump(benchmark::State& state) {
    dbn::Rng rng(3);
    for (auto _ : state) {
        rng.jump();
        benchmark::DoNotOptimize(rng.state());
    }
}
BENCHMARK(BM_RngJump);

dbn::Rbm model() {
    dbn::Rng rng(4);
    dbn::Rbm rbm(k_nv, k_nh);
    rbm.init_random(rng, 0.05f);
    return rbm;
}

dbn::Matrix pixels(std::size_t rows) {
    dbn::Rng rng(5);
    dbn::Matrix x = dbn::Matrix::from_shape({rows, k_nv});
    for (auto& v : x) v = rng.uniform() < 0.5f ? 0.0f : rng.uniform();
    return x;
}

void BM_FreeEnergy(benchmark::State& state) {
    const dbn::Rbm rbm = model();
    const dbn::Matrix v = pixels(k_batch);
    for (auto _ : state) benchmark::DoNotOptimize(rbm.free_energy(v));
    state.SetItemsProcessed(state.iterations() * static_cast<long>(k_batch));
}
BENCHMARK(BM_FreeEnergy)->Unit(benchmark::kMicrosecond);

void BM_HiddenProbabilities(benchmark::State& state) {
    const dbn::Rbm rbm = model();
    const dbn::Matrix v = pixels(k_batch);
    dbn::Matrix p = dbn::Matrix::from_shape({k_batch, k_nh});
    for (auto _ : state) {
        rbm.hidden_probabilities(v, p);
        benchmark::DoNotOptimize(p.data());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<long>(k_batch));
}
BENCHMARK(BM_HiddenProbabilities)->Unit(benchmark::kMicrosecond);

void BM_VisibleMean(benchmark::State& state) {
    const dbn::Rbm rbm = model();
    dbn::Matrix h = dbn::Matrix::from_shape({k_batch, k_nh});
    h.fill(0.0f);
    for (std::size_t i = 0; i < h.size(); i += 3) h.data()[i] = 1.0f;
    dbn::Matrix v = dbn::Matrix::from_shape({k_batch, k_nv});
    for (auto _ : state) {
        rbm.visible_mean(h, v);
        benchmark::DoNotOptimize(v.data());
    }
}
BENCHMARK(BM_VisibleMean)->Unit(benchmark::kMicrosecond);

// The products of a CD-1 minibatch as the trainer describes them (dbn::bench's binding of
// RbmTrainer::minibatch_products): "up", "down" and the fused "statistics".
dbn::blas::GemmShape minibatch_product(const std::string& name) {
    dbn::LayerTrainingConfig cfg;
    cfg.batch_size = k_batch;
    for (const auto& s : dbn::bench::default_rbm_products()(k_nv, k_nh, cfg))
        if (s.name == name) return s;
    throw std::logic_error("no product named " + name);
}

// One product of a minibatch; arg 0 = BLAS threads.
void gemm_bench(benchmark::State& state, const std::string& name) {
    const dbn::blas::GemmShape s = minibatch_product(name);
    const std::size_t m = s.m, n = s.n, k = s.k;
    dbn::blas::set_num_threads(static_cast<int>(state.range(0)));
    dbn::Matrix a = dbn::Matrix::from_shape({s.trans_a ? k : m, s.trans_a ? m : k});
    dbn::Matrix b = dbn::Matrix::from_shape({s.trans_b ? n : k, s.trans_b ? k : n});
    dbn::Matrix c = dbn::Matrix::from_shape({m, n});
    a.fill(0.5f);
    b.fill(0.25f);
    for (auto _ : state) {
        dbn::blas::gemm(s.trans_a, s.trans_b, 1.0f, a, b, 0.0f, c);
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(m) * double(n) * double(k) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}
void BM_SgemmUp(benchmark::State& s) { gemm_bench(s, "up"); }
void BM_SgemmDown(benchmark::State& s) { gemm_bench(s, "down"); }
void BM_SgemmStatistics(benchmark::State& s) { gemm_bench(s, "statistics"); }
BENCHMARK(BM_SgemmUp)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_SgemmDown)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_SgemmStatistics)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

// CD-1 (arg 1 = 0) or PCD-1 (1) minibatches of 100 rows, end to end, on arg 0 cores (one
// thread with single-threaded BLAS, or the trainer's own threads, as `dbn bench` compares): an
// epoch over 20 minibatches per iteration (the shuffle and the generator's jumps included), so
// that waking the thread team once per epoch weighs as little as in real training; the
// counters are per minibatch.
void BM_CdStep(benchmark::State& state) {
    constexpr std::size_t k_batches = 20;
    dbn::Rbm rbm = model();
    const dbn::Matrix v = pixels(k_batches * k_batch);
    dbn::Rng rng(6);
    dbn::LayerTrainingConfig cfg;
    cfg.algorithm = state.range(1) ? dbn::Algorithm::pcd : dbn::Algorithm::cd;
    cfg.batch_size = k_batch;
    cfg.learning_rate = 0.01;
    cfg.epochs = 1u << 30;
    dbn::RbmTrainer trainer(rbm, cfg, rng);
    trainer.set_threads(static_cast<std::size_t>(state.range(0)));
    const dbn::blas::ScopedThreads blas_threads(state.range(0) == 1 ? 1 : 0);
    for (auto _ : state) trainer.train_epoch(v);
    // The products of a minibatch, as the trainer describes them.
    double flops = 0.0;
    for (const auto& s : dbn::bench::default_rbm_products()(k_nv, k_nh, cfg)) flops += s.flops();
    state.counters["GFLOP/s"] = benchmark::Counter(double(k_batches) * flops * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
    state.counters["minibatches/s"] =
        benchmark::Counter(double(k_batches), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_CdStep)
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->ArgNames({"threads", "pcd"})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
