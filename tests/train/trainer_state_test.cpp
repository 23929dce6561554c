// Stopping a trainer after any minibatch and continuing from its TrainerState, copied or
// rebuilt array by array as a checkpoint file would, gives the model that training straight
// through gives, bit for bit: parameters, velocities, sparsity estimate, chains, generator,
// position and monitors.
#include "dbn/train/trainer_state.hpp"

#include <cstring>
#include <limits>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/train/rbm_trainer.hpp"

namespace dbn {
namespace {

struct Scenario {
    const char* name;
    Algorithm algorithm;
    std::size_t threads;
};
void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

// CD and PCD are big enough that two threads split each minibatch (see effective_threads);
// the exact phase enumerates 2^8 states and always runs on one.
struct Problem {
    std::size_t nv, nh, rows, heldout;
    LayerTrainingConfig config;
};

Problem problem(Algorithm algorithm) {
    Problem p{100, 256, 430, 60, {}};
    LayerTrainingConfig& c = p.config;
    c.algorithm = algorithm;
    c.batch_size = 50;  // 9 minibatches, the last of 30 rows
    c.epochs = 3;
    c.learning_rate = 0.05;
    c.learning_rate_decay = 0.9;
    c.momentum_switch_epoch = 1;
    c.weight_decay = 0.001;
    c.monitor_samples = 40;
    if (algorithm == Algorithm::pcd) {
        c.k = 2;
        c.persistent_chains = 36;
        c.l1 = 1e-4;
        c.sparsity_target = 0.1;
        c.sparsity_cost = 0.5;
    } else if (algorithm == Algorithm::exact) {
        p = {8, 5, 40, 12, c};
        p.config.batch_size = 6;  // 7 minibatches, the last of 4 rows
        p.config.learning_rate = 0.2;
    }
    return p;
}

std::size_t minibatches_per_epoch(const Problem& p) {
    return (p.rows + p.config.batch_size - 1) / p.config.batch_size;
}

Matrix pixels(std::size_t rows, std::size_t cols, std::uint64_t seed, bool binary) {
    Rng rng(seed);
    Matrix m = Matrix::from_shape({rows, cols});
    for (auto& x : m) x = rng.uniform() < 0.3f ? 1.0f : (binary ? 0.0f : rng.uniform());
    return m;
}

struct Data {
    Matrix train, heldout;
    explicit Data(const Problem& p)
        : train(pixels(p.rows, p.nv, 5, p.config.algorithm == Algorithm::exact)),
          heldout(pixels(p.heldout, p.nv, 6, p.config.algorithm == Algorithm::exact)) {}
};

// A fresh trainer's model: weights from the generator, visible biases from the data.
struct Fresh {
    Rbm rbm;
    Rng rng{99};
    std::unique_ptr<RbmTrainer> trainer;
    Fresh(const Problem& p, const Data& d, std::size_t threads) : rbm(p.nv, p.nh) {
        rbm.init_random(rng, 0.05f);
        trainer = std::make_unique<RbmTrainer>(rbm, p.config, rng, 1);
        trainer->set_threads(threads);
        trainer->init_visible_bias(d.train);
    }
};

// Rebuilds every array from its values, as reading a checkpoint would: nothing is shared.
Matrix rebuilt(const Matrix& m) {
    const std::vector<Real> values(m.begin(), m.end());
    Matrix out = Matrix::from_shape({m.shape(0), m.shape(1)});
    std::copy(values.begin(), values.end(), out.begin());
    return out;
}
Vector rebuilt(const Vector& v) {
    const std::vector<Real> values(v.begin(), v.end());
    Vector out = Vector::from_shape({v.size()});
    std::copy(values.begin(), values.end(), out.begin());
    return out;
}

TrainerState deep_copy(const TrainerState& s) {
    TrainerState c;
    c.config = s.config;
    c.layer = s.layer;
    c.rbm = Rbm(s.rbm.n_visible(), s.rbm.n_hidden(), s.rbm.visible_type(), s.rbm.hidden_type());
    c.rbm.weights() = rebuilt(s.rbm.weights());
    c.rbm.visible_bias() = rebuilt(s.rbm.visible_bias());
    c.rbm.hidden_bias() = rebuilt(s.rbm.hidden_bias());
    c.rbm.visible_sigma() = rebuilt(s.rbm.visible_sigma());
    c.rng = s.rng;
    c.updater.velocity = rebuilt(s.updater.velocity);
    c.updater.sparsity_estimate = rebuilt(s.updater.sparsity_estimate);
    c.updater.sparsity_started = s.updater.sparsity_started;
    c.chains.hidden = rebuilt(s.chains.hidden);
    c.chains.started = s.chains.started;
    c.position.epochs_done = s.position.epochs_done;
    c.position.minibatch = s.position.minibatch;
    c.position.order.assign(s.position.order.begin(), s.position.order.end());
    c.position.substream_origin = s.position.substream_origin;
    c.monitor_rows.train.assign(s.monitor_rows.train.begin(), s.monitor_rows.train.end());
    c.monitor_rows.heldout.assign(s.monitor_rows.heldout.begin(), s.monitor_rows.heldout.end());
    c.monitor_rows.flip_bits.assign(s.monitor_rows.flip_bits.begin(),
                                    s.monitor_rows.flip_bits.end());
    c.training_started = s.training_started;
    c.history = s.history;
    return c;
}

// Overwrites every array of a state, so that a copy sharing any of them would show it.
void poison(TrainerState& s) {
    const Real nan = std::numeric_limits<Real>::quiet_NaN();
    s.rbm.weights().fill(nan);
    s.rbm.visible_bias().fill(nan);
    s.rbm.hidden_bias().fill(nan);
    s.updater.velocity.fill(nan);
    s.updater.sparsity_estimate.fill(nan);
    s.chains.hidden.fill(nan);
    std::fill(s.position.order.begin(), s.position.order.end(), 0);
    std::fill(s.monitor_rows.train.begin(), s.monitor_rows.train.end(), 0);
}

template <class A>
bool same_bits(const A& a, const A& b) {
    // memcmp must not see the null data() of an empty array, even for zero bytes (UBSan).
    return a.size() == b.size() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(*a.data())) == 0);
}

bool same_monitors(const EpochStats& a, const EpochStats& b) {
    auto bits = [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; };
    return a.layer == b.layer && a.epoch == b.epoch &&
           bits(a.reconstruction_error, b.reconstruction_error) &&
           bits(a.free_energy_train, b.free_energy_train) &&
           bits(a.free_energy_valid, b.free_energy_valid) &&
           bits(a.free_energy_gap, b.free_energy_gap) &&
           bits(a.pseudo_log_likelihood, b.pseudo_log_likelihood) &&
           bits(a.learning_rate, b.learning_rate) && bits(a.momentum, b.momentum);
}

void expect_same_state(const TrainerState& a, const TrainerState& b) {
    EXPECT_TRUE(same_bits(a.rbm.weights(), b.rbm.weights())) << "weights";
    EXPECT_TRUE(same_bits(a.rbm.visible_bias(), b.rbm.visible_bias())) << "visible biases";
    EXPECT_TRUE(same_bits(a.rbm.hidden_bias(), b.rbm.hidden_bias())) << "hidden biases";
    EXPECT_TRUE(same_bits(a.updater.velocity, b.updater.velocity)) << "velocities";
    EXPECT_TRUE(same_bits(a.updater.sparsity_estimate, b.updater.sparsity_estimate))
        << "sparsity estimate";
    EXPECT_EQ(a.updater.sparsity_started, b.updater.sparsity_started);
    EXPECT_TRUE(same_bits(a.chains.hidden, b.chains.hidden)) << "persistent chains";
    EXPECT_EQ(a.chains.started, b.chains.started);
    EXPECT_EQ(a.rng, b.rng) << "generator";
    EXPECT_EQ(a.position.epochs_done, b.position.epochs_done);
    EXPECT_EQ(a.position.minibatch, b.position.minibatch);
    EXPECT_EQ(a.position.order, b.position.order);
    EXPECT_EQ(a.position.substream_origin, b.position.substream_origin);
    EXPECT_EQ(a.monitor_rows.train, b.monitor_rows.train);
    EXPECT_EQ(a.monitor_rows.heldout, b.monitor_rows.heldout);
    EXPECT_EQ(a.monitor_rows.flip_bits, b.monitor_rows.flip_bits);
    EXPECT_EQ(a.training_started, b.training_started);
    ASSERT_EQ(a.history.size(), b.history.size());
    for (std::size_t e = 0; e < a.history.size(); ++e)
        EXPECT_TRUE(same_monitors(a.history[e], b.history[e])) << "monitors of epoch " << e + 1;
}

TrainerState train_straight(const Problem& p, const Data& d, std::size_t threads) {
    Fresh f(p, d, threads);
    f.trainer->train(d.train, &d.heldout);
    EXPECT_EQ(f.trainer->epochs_done(), p.config.epochs);
    return f.trainer->state();
}

enum class Copy { plain, deep };

// Trains, stops after `stop_after` minibatches in all, copies the state, destroys the trainer,
// its model and its generator, and finishes with a new trainer built from the copy.
TrainerState train_interrupted(const Problem& p, const Data& d, std::size_t threads,
                               std::size_t stop_after, Copy how) {
    TrainerState saved;
    {
        Fresh f(p, d, threads);
        std::size_t done = 0;
        f.trainer->train(d.train, &d.heldout, nullptr, [&] { return ++done == stop_after; });
        EXPECT_EQ(done, stop_after);
        const std::size_t per_epoch = minibatches_per_epoch(p);
        EXPECT_EQ(f.trainer->epochs_done(), stop_after / per_epoch);
        EXPECT_EQ(f.trainer->minibatches_done(), stop_after % per_epoch);
        saved = f.trainer->state();
    }
    TrainerState copy = how == Copy::deep ? deep_copy(saved) : saved;
    poison(saved);
    Rbm rbm(3, 2);
    Rng rng(12345);
    RbmTrainer trainer(rbm, rng, copy);
    trainer.set_threads(threads);
    trainer.train(d.train, &d.heldout);
    return trainer.state();
}

class TrainerResume : public ::testing::TestWithParam<Scenario> {};

TEST_P(TrainerResume, StoppedAfterAnyMinibatchContinuesBitForBit) {
    const Scenario sc = GetParam();
    const Problem p = problem(sc.algorithm);
    const Data d(p);
    const TrainerState straight = train_straight(p, d, sc.threads);
    const std::size_t per_epoch = minibatches_per_epoch(p);
    // The first minibatch (chains just started), inside the first epoch, its last minibatch
    // (the epoch then closes before the stop), inside the second, the next to last of all.
    for (std::size_t stop : {std::size_t{1}, std::size_t{4}, per_epoch, per_epoch + 3,
                             p.config.epochs * per_epoch - 1}) {
        for (Copy how : {Copy::plain, Copy::deep}) {
            SCOPED_TRACE(::testing::Message() << "stopped after minibatch " << stop << " of "
                                              << p.config.epochs * per_epoch
                                              << (how == Copy::deep ? ", deep copy" : ""));
            expect_same_state(train_interrupted(p, d, sc.threads, stop, how), straight);
        }
    }
}

// train_epoch() stopped after every single minibatch, each time through a state restored into
// the same trainer, equals whole epochs (no monitors involved).
TEST_P(TrainerResume, EveryMinibatchThroughRestoreEqualsWholeEpochs) {
    const Scenario sc = GetParam();
    const Problem p = problem(sc.algorithm);
    const Data d(p);
    Fresh whole(p, d, sc.threads);
    whole.trainer->train_epoch(d.train);
    whole.trainer->train_epoch(d.train);

    Fresh steps(p, d, sc.threads);
    std::size_t calls = 0;
    while (steps.trainer->epochs_done() < 2) {
        const auto run = steps.trainer->run_epoch(d.train, [] { return true; });
        EXPECT_EQ(run.minibatches, 1u);
        EXPECT_TRUE(run.stopped);
        TrainerState s = deep_copy(steps.trainer->state());
        steps.rbm.weights().fill(0.0f);  // restore() must bring everything back
        steps.rng.jump();
        steps.trainer->restore(s);
        ++calls;
    }
    EXPECT_EQ(calls, 2 * minibatches_per_epoch(p));
    expect_same_state(steps.trainer->state(), whole.trainer->state());
}

INSTANTIATE_TEST_SUITE_P(Algorithms, TrainerResume,
                         ::testing::Values(Scenario{"cd_1_thread", Algorithm::cd, 1},
                                           Scenario{"cd_2_threads", Algorithm::cd, 2},
                                           Scenario{"pcd_sparsity_l1_1_thread", Algorithm::pcd, 1},
                                           Scenario{"pcd_sparsity_l1_2_threads", Algorithm::pcd, 2},
                                           Scenario{"exact_1_thread", Algorithm::exact, 1},
                                           Scenario{"exact_2_threads", Algorithm::exact, 2}),
                         [](const ::testing::TestParamInfo<Scenario>& i) {
                             return std::string(i.param.name);
                         });

TEST(TrainerState, TwoThreadsReallySplitTheMinibatches) {
    for (Algorithm a : {Algorithm::cd, Algorithm::pcd}) {
        const Problem p = problem(a);
        const Data d(p);
        Fresh f(p, d, 2);
        EXPECT_EQ(f.trainer->effective_threads(), 2u) << to_string(a);
    }
}

TEST(TrainerState, HoldsEveryPieceWithItsShape) {
    const Problem p = problem(Algorithm::pcd);
    const Data d(p);
    Fresh f(p, d, 1);
    std::size_t done = 0;
    f.trainer->train(d.train, &d.heldout, nullptr, [&] { return ++done == 12; });
    const TrainerState s = f.trainer->state();
    EXPECT_NO_THROW(s.validate());
    EXPECT_EQ(s.layer, 1u);
    EXPECT_EQ(s.updater.velocity.shape(0), p.nv + 1);
    EXPECT_EQ(s.updater.velocity.shape(1), p.nh + 1);
    EXPECT_TRUE(s.updater.sparsity_started);
    EXPECT_EQ(s.chains.hidden.shape(0), p.config.persistent_chains);
    EXPECT_TRUE(s.chains.started);
    EXPECT_EQ(s.position.epochs_done, 1u);
    EXPECT_EQ(s.position.minibatch, 12 - minibatches_per_epoch(p));
    EXPECT_EQ(s.position.order.size(), p.rows);
    EXPECT_EQ(s.monitor_rows.train.size(), p.config.monitor_samples);
    EXPECT_EQ(s.monitor_rows.heldout.size(), p.config.monitor_samples);
    EXPECT_TRUE(s.training_started);
    ASSERT_EQ(s.history.size(), 1u);
    EXPECT_EQ(s.rng, f.rng.state());
    EXPECT_DOUBLE_EQ(f.trainer->current_learning_rate(), 0.05 * 0.9);
}

TEST(TrainerState, StatesThatDoNotFitAreRefused) {
    const Problem p = problem(Algorithm::pcd);
    const Data d(p);
    Fresh f(p, d, 1);
    std::size_t done = 0;
    f.trainer->train(d.train, &d.heldout, nullptr, [&] { return ++done == 3; });
    const TrainerState good = f.trainer->state();
    Rbm rbm;
    Rng rng;
    auto refused = [&](auto change) {
        TrainerState s = good;
        change(s);
        EXPECT_THROW(RbmTrainer(rbm, rng, s), ShapeError);
    };
    refused([](TrainerState& s) { s.updater.velocity = xt::zeros<Real>({3, 3}); });
    refused([](TrainerState& s) { s.updater.sparsity_estimate = xt::zeros<Real>({2}); });
    refused([](TrainerState& s) { s.chains.hidden = xt::zeros<Real>({5, 256}); });
    refused([](TrainerState& s) { s.position.order[0] = s.position.order[1]; });
    refused([](TrainerState& s) { s.position.minibatch = 10; });
    refused([](TrainerState& s) { s.monitor_rows.flip_bits.pop_back(); });
    refused([](TrainerState& s) { s.monitor_rows.flip_bits[0] = 100; });
    TrainerState cd = good;
    cd.config.algorithm = Algorithm::cd;  // CD has no chains to continue
    EXPECT_THROW(RbmTrainer(rbm, rng, cd), ShapeError);

    // The epoch under way was over 430 rows: other data cannot continue it.
    RbmTrainer trainer(rbm, rng, good);
    const Matrix fewer = pixels(100, p.nv, 7, false);
    EXPECT_THROW(trainer.train_epoch(fewer), ShapeError);
}

}  // namespace
}  // namespace dbn
