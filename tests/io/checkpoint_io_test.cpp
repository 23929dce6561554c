// Checkpoints of greedy pretraining: a run stopped at any minibatch, or killed after any
// checkpoint, and resumed from the checkpoint file gives the uninterrupted run's model bit for
// bit (parameters, hooks, monitors, log Z and checks; only wall-clock seconds differ).

#include "dbn/io/checkpoint_io.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "dbn/io/model_io.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/model/record_fields.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "dbn/pretrain/pretrain_checks.hpp"
#include "io_support.hpp"

namespace dbn {
namespace {

data::Dataset structured_rows(std::size_t n, std::size_t d, std::uint64_t seed) {
    Rng rng{seed};
    data::Dataset ds;
    ds.source = "structured";
    ds.x = Matrix::from_shape({n, d});
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < d; ++c) {
            const bool on = ((c + (r % 3) * 2) % 5) < 2;
            ds.x(r, c) = (on ? 0.85f : 0.1f) + 0.1f * static_cast<Real>(rng.normal()) > 0.5f;
        }
    return ds;
}

// Two stacks that between them use every piece of state a checkpoint carries: CD and PCD
// (persistent chains), momentum and sparsity (velocities, the sparsity estimate), binary
// samples between layers (the generator of the representations), a hook refitted on resume and
// Gaussian units above it, and AIS checks whose final states feed the turned-over path of a
// wider top layer.
DbnConfig config(const std::string& which) {
    const std::string checks =
        R"("checks": {"log_z": "ais", "ais_runs": 16, "ais_steps": 300, "path_steps": 200},)";
    if (which == "hooked")
        return parse_dbn_config(R"({"name": "hooked", "seed": 5, )" + checks + R"(
            "defaults": {"epochs": 3, "batch_size": 20, "learning_rate": 0.05,
                         "monitor_samples": 40, "sparsity_target": 0.2, "sparsity_cost": 0.1},
            "layers": [{"hidden": 10, "hook": "standardize"},
                       {"hidden": 6, "algorithm": "pcd", "learning_rate": 0.01},
                       {"hidden": 5}]})",
                                "hooked.json");
    if (which == "diverging")  // layer 1's divergence guard rolls back and halves its rate
        return parse_dbn_config(R"({"name": "diverging", "seed": 6, )" + checks + R"(
            "defaults": {"epochs": 3, "batch_size": 20, "learning_rate": 0.05,
                         "monitor_samples": 40},
            "layers": [{"hidden": 10},
                       {"hidden": 6, "learning_rate": 1e5, "batch_size": 5,
                        "max_divergence_events": 20},
                       {"hidden": 5}]})",
                                "diverging.json");
    return parse_dbn_config(R"({"name": "turned", "seed": 7, )" + checks + R"(
        "defaults": {"epochs": 3, "batch_size": 20, "learning_rate": 0.05, "monitor_samples": 40},
        "layers": [{"hidden": 10, "sample_up": true}, {"hidden": 8, "sample_up": true},
                   {"hidden": 12, "init": "turned_over", "init_stddev": 0.0001,
                    "learning_rate": 0.001, "epochs": 2}]})",
                            "turned.json");
}

struct RunResult {
    ModelFile model;
    std::vector<PretrainCheckpoint> checkpoints;  // every one the sink received
    bool stopped = false;
};

/// One run of `cfg` on `data`, from scratch or from `from`; stops at minibatch `stop_at` (1-based
/// count of stop requests; 0: never). Checkpoints after every epoch.
RunResult run(const DbnConfig& cfg, const data::Dataset& data, const PretrainCheckpoint* from,
              std::size_t stop_at) {
    RunResult r;
    GreedyTrainer trainer(cfg);
    PretrainChecks checks(cfg.checks, nullptr);
    if (from && from->checks) checks.restore(*from->checks);
    trainer.set_after_layer(std::ref(checks));
    trainer.set_bound_probe(
        [&checks](const ModelFile& m, std::size_t k, const Matrix& raw, const GuideSpec& g) {
            return checks.bound_probe(m, k, raw, g);
        });
    CheckpointPolicy policy;
    policy.every_epochs = 1;
    policy.every_seconds = 0;
    trainer.set_checkpoints(
        [&](const PretrainCheckpoint& c) {
            r.checkpoints.push_back(c);
            r.checkpoints.back().checks = checks.state();
        },
        policy);
    std::size_t asked = 0;
    trainer.set_stop_request([&] { return stop_at > 0 && ++asked >= stop_at; });
    try {
        r.model = from ? trainer.train(data::Dataset(data), nullptr, nullptr, *from)
                       : trainer.train(data::Dataset(data), nullptr, nullptr);
    } catch (const TrainingStopped&) {
        r.stopped = true;
    }
    return r;
}

bool same_value(const FieldValue& a, const FieldValue& b) {
    if (a.index() != b.index()) return false;
    if (const double* x = std::get_if<double>(&a)) {
        const double y = std::get<double>(b);
        return std::memcmp(x, &y, sizeof y) == 0 || (std::isnan(*x) && std::isnan(y));
    }
    return a == b;
}

/// Every in-file field of two records but their wall-clock seconds.
template <class R>
::testing::AssertionResult same_records(const std::vector<R>& a, const std::vector<R>& b,
                                        const std::string& what) {
    if (a.size() != b.size())
        return ::testing::AssertionFailure()
               << what << ": " << a.size() << " vs " << b.size() << " records";
    for (std::size_t i = 0; i < a.size(); ++i)
        for (const auto& f : fields_of<R>()) {
            if (!f.used_in(in_file) || std::string(f.name) == "seconds") continue;
            if (!same_value(f.get(a[i]), f.get(b[i])))
                return ::testing::AssertionFailure()
                       << what << "[" << i << "]." << f.name << " differs";
        }
    return ::testing::AssertionSuccess();
}

bool same_bits(const xt::xtensor<Real, 2>& a, const xt::xtensor<Real, 2>& b) {
    return a.shape() == b.shape() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(Real)) == 0);
}
bool same_bits(const Vector& a, const Vector& b) {
    return a.shape() == b.shape() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(Real)) == 0);
}

::testing::AssertionResult same_model(const ModelFile& a, const ModelFile& b) {
    if (a.stack.n_layers() != b.stack.n_layers())
        return ::testing::AssertionFailure()
               << a.stack.n_layers() << " vs " << b.stack.n_layers() << " layers";
    for (std::size_t k = 0; k < a.stack.n_layers(); ++k) {
        const Rbm &x = a.stack.layers[k], &y = b.stack.layers[k];
        if (!same_bits(x.weights(), y.weights()) ||
            !same_bits(x.visible_bias(), y.visible_bias()) ||
            !same_bits(x.hidden_bias(), y.hidden_bias()) ||
            !same_bits(x.visible_sigma(), y.visible_sigma()))
            return ::testing::AssertionFailure() << "layer " << k << "'s parameters differ";
        const LayerHook* hx = a.stack.hook_after(k);
        const LayerHook* hy = b.stack.hook_after(k);
        if (!hx != !hy) return ::testing::AssertionFailure() << "hook " << k << " missing";
        if (hx)
            for (const auto& [name, v] : hx->parameters().vectors)
                if (!same_bits(v, hy->parameters().vectors.at(name)))
                    return ::testing::AssertionFailure() << "hook " << k << "." << name;
        if (auto r = same_records(a.records[k].epochs, b.records[k].epochs,
                                  "layer " + std::to_string(k) + " epochs");
            !r)
            return r;
        if (auto r = same_records(a.records[k].divergence_events, b.records[k].divergence_events,
                                  "layer " + std::to_string(k) + " divergence events");
            !r)
            return r;
    }
    if (auto r = same_records(a.log_z, b.log_z, "log_z"); !r) return r;
    return same_records(a.checks, b.checks, "checks");
}

class Checkpoints : public ::testing::TestWithParam<std::string> {};

TEST_P(Checkpoints, ResumingFromEveryCheckpointGivesTheUninterruptedModel) {
    const DbnConfig cfg = config(GetParam());
    const data::Dataset data = structured_rows(200, 16, 3);
    const RunResult full = run(cfg, data, nullptr, 0);
    ASSERT_FALSE(full.stopped);
    ASSERT_EQ(full.model.checks.size(), cfg.layers.size() - 1);
    if (GetParam() == "diverging") {
        ASSERT_GE(full.model.records[1].divergence_events.size(), 2u);
        EXPECT_FALSE(full.model.records[1].stopped_by_divergence());
    }
    // One at every epoch end and every layer's start above the first, and one at the end.
    std::size_t epochs = 0;
    for (const auto& l : cfg.layers) epochs += l.train.epochs;
    ASSERT_EQ(full.checkpoints.size(), epochs + cfg.layers.size());
    const std::string path = testing::test_dir() + "/run.checkpoint.h5";
    for (std::size_t i = 0; i < full.checkpoints.size(); ++i) {
        SCOPED_TRACE("checkpoint " + std::to_string(i));
        io::save_checkpoint(full.checkpoints[i], path);
        const PretrainCheckpoint c = io::load_checkpoint(path);
        const RunResult resumed = run(cfg, data, &c, 0);
        ASSERT_FALSE(resumed.stopped);
        EXPECT_TRUE(same_model(resumed.model, full.model));
    }
}

TEST_P(Checkpoints, AStopAtAnyMinibatchResumesToTheUninterruptedModel) {
    const DbnConfig cfg = config(GetParam());
    const data::Dataset data = structured_rows(200, 16, 3);
    const RunResult full = run(cfg, data, nullptr, 0);
    const std::string path = testing::test_dir() + "/stop.checkpoint.h5";
    std::size_t inside_a_guarded_epoch = 0;  // stops that save the guard's last good state
    // 180 training rows in minibatches of 20: 9 per epoch; stop at every 4th, across layers.
    std::size_t tried = 0;
    for (std::size_t at = 1;; at += 4) {
        SCOPED_TRACE("stop at minibatch " + std::to_string(at));
        const RunResult stopped = run(cfg, data, nullptr, at);
        if (!stopped.stopped) break;  // past the last minibatch
        ASSERT_FALSE(stopped.checkpoints.empty());
        io::save_checkpoint(stopped.checkpoints.back(), path);
        const PretrainCheckpoint c = io::load_checkpoint(path);
        if (const auto& t = stopped.checkpoints.back().trainer; t && t->guard_start) {
            ++inside_a_guarded_epoch;
            // The guard's state comes back from the file as it went in.
            EXPECT_TRUE(c.trainer && c.trainer->guard_start);
            if (c.trainer && c.trainer->guard_start) {
                EXPECT_EQ(c.trainer->guard_start->position.epochs_done,
                          t->guard_start->position.epochs_done);
                EXPECT_TRUE(same_bits(c.trainer->guard_start->rbm.weights(),
                                      t->guard_start->rbm.weights()));
                EXPECT_TRUE(same_records(c.trainer->guard_start->divergence_events,
                                         t->guard_start->divergence_events, "guard_start events"));
            }
            EXPECT_TRUE(
                same_records(c.trainer->divergence_events, t->divergence_events, "trainer events"));
        }
        // A second stop inside the resumed run, then the rest.
        const RunResult again = run(cfg, data, &c, 3);
        ASSERT_FALSE(again.checkpoints.empty());
        const PretrainCheckpoint c2 = again.stopped ? again.checkpoints.back() : c;
        const RunResult resumed = again.stopped ? run(cfg, data, &c2, 0) : again;
        ASSERT_FALSE(resumed.stopped);
        EXPECT_TRUE(same_model(resumed.model, full.model));
        ++tried;
    }
    EXPECT_GE(tried, 5u);
    // Every stop inside an epoch of a guarded layer (all layers here: the default limit is 3).
    EXPECT_GT(inside_a_guarded_epoch, 0u);
}

INSTANTIATE_TEST_SUITE_P(Stacks, Checkpoints, ::testing::Values("hooked", "turned", "diverging"));

TEST(Checkpoint, RefusesACheckpointOfAnotherRun) {
    const DbnConfig cfg = config("hooked");
    const data::Dataset data = structured_rows(200, 16, 3);
    const RunResult stopped = run(cfg, data, nullptr, 12);
    ASSERT_TRUE(stopped.stopped);
    const PretrainCheckpoint& c = stopped.checkpoints.back();
    // Another seed.
    DbnConfig other = cfg;
    other.seed = 6;
    EXPECT_THROW(GreedyTrainer(other).train(data::Dataset(data), nullptr, nullptr, c), ConfigError);
    // Fewer rows than the layer under way was training on.
    data::Dataset fewer = structured_rows(150, 16, 3);
    EXPECT_THROW(GreedyTrainer(cfg).train(std::move(fewer), nullptr, nullptr, c), ConfigError);
    // Another width.
    DbnConfig wider = parse_dbn_config(R"({"name": "hooked", "seed": 5,
        "layers": [{"hidden": 11}, {"hidden": 6}, {"hidden": 5}]})",
                                       "wider.json");
    EXPECT_THROW(GreedyTrainer(wider).train(data::Dataset(data), nullptr, nullptr, c), ConfigError);
}

TEST(Checkpoint, DamagedOrForeignFilesAreRefusedWithTheirName) {
    const DbnConfig cfg = config("hooked");
    const data::Dataset data = structured_rows(200, 16, 3);
    const RunResult stopped = run(cfg, data, nullptr, 40);  // in layer 1
    ASSERT_TRUE(stopped.stopped);
    const std::string dir = testing::test_dir();
    const std::string path = dir + "/ck.h5";
    io::save_checkpoint(stopped.checkpoints.back(), path);
    EXPECT_TRUE(io::is_checkpoint(path));
    // A model file is not a checkpoint.
    const std::string model = dir + "/model.h5";
    io::save_model(stopped.checkpoints.back().model, model);
    EXPECT_FALSE(io::is_checkpoint(model));
    try {
        io::load_checkpoint(model);
        ADD_FAILURE() << "a model file was read as a checkpoint";
    } catch (const FormatError& e) {
        EXPECT_NE(std::string(e.what()).find("not a pretraining checkpoint"), std::string::npos)
            << e.what();
    }
    // A missing piece is named.
    {
        hdf5::File f = hdf5::File::open(path, hdf5::File::Mode::read_write);
        f.remove("/checkpoint/trainer/velocity");
    }
    try {
        io::load_checkpoint(path);
        ADD_FAILURE() << "a checkpoint without its velocity was read";
    } catch (const FormatError& e) {
        EXPECT_NE(std::string(e.what()).find("velocity"), std::string::npos) << e.what();
    }
    // A shape that does not fit the others is refused before training.
    io::save_checkpoint(stopped.checkpoints.back(), path);
    {
        hdf5::File f = hdf5::File::open(path, hdf5::File::Mode::read_write);
        f.remove("/checkpoint/trainer/order");
        const std::vector<std::uint64_t> order = {0, 1, 1};
        f.write_dataset("/checkpoint/trainer/order", order.data(), {3});
    }
    const PretrainCheckpoint bad = io::load_checkpoint(path);
    EXPECT_THROW(GreedyTrainer(cfg).train(data::Dataset(data), nullptr, nullptr, bad), Error);
}

}  // namespace
}  // namespace dbn
