// Fine-tuning stopped at a minibatch or an epoch end, its state saved as a checkpoint file, read
// back and continued: the result is the uninterrupted run's bit for bit (every parameter and
// every history figure but wall-clock seconds). A damaged or mismatched state is refused.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "dbn/io/checkpoint_io.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "finetune/finetune_support.hpp"

namespace dbn {
namespace {

using testing::prototypes;
using testing::same_bits;

constexpr std::size_t k_dim = 24;
constexpr std::size_t k_classes = 4;

/// A 24-16-8 DBN pretrained for a few epochs on the prototype data.
const Dbn& pretrained() {
    static const Dbn model = [] {
        const DbnConfig cfg = parse_dbn_config(R"({
            "name": "ft-resume", "seed": 5,
            "defaults": {"epochs": 3, "batch_size": 20, "learning_rate": 0.1, "monitor_samples": 50},
            "layers": [{"hidden": 16}, {"hidden": 8}]})",
                                               "ft-resume.json");
        return GreedyTrainer(cfg).train(prototypes(300, k_dim, k_classes, 0.2f, 1)).stack;
    }();
    return model;
}

const data::Dataset& train_set() {
    static const data::Dataset d = prototypes(300, k_dim, k_classes, 0.2f, 1);
    return d;
}

finetune::FineTuneConfig base_config() {
    finetune::FineTuneConfig c;
    c.mode = finetune::FineTuneMode::classifier;
    c.epochs = 6;
    c.batch_size = 32;  // 270 training rows: 9 minibatches, the last one short
    c.seed = 11;
    c.patience = 0;
    return c;
}

/// The settings the resume tests run: both optimizers, dropout, a decaying learning rate,
/// validation with early stopping, an autoencoder, a head-only classifier.
std::vector<std::pair<std::string, finetune::FineTuneConfig>> variants() {
    std::vector<std::pair<std::string, finetune::FineTuneConfig>> v;
    finetune::FineTuneConfig c = base_config();
    c.dropout = 0.2;
    c.input_dropout = 0.1;
    v.emplace_back("adam-dropout-validation", c);
    c = base_config();
    c.optimizer = finetune::OptimizerKind::sgd;
    c.learning_rate_decay = 0.9;
    c.validation_fraction = 0.0;
    c.batch_size = 34;  // all 300 rows: 9 minibatches too
    v.emplace_back("sgd-decay-no-validation", c);
    c = base_config();
    c.patience = 2;
    c.epochs = 12;
    c.learning_rate = 0.05;  // large enough to overfit the held-out rows and stop early
    v.emplace_back("adam-early-stopping", c);
    c = base_config();
    c.mode = finetune::FineTuneMode::autoencoder;
    c.dropout = 0.1;
    v.emplace_back("autoencoder", c);
    c = base_config();
    c.head_only = true;
    v.emplace_back("head-only", c);
    return v;
}

void expect_same_result(const finetune::FineTuneResult& a, const finetune::FineTuneResult& b,
                        const std::string& what) {
    ASSERT_EQ(a.stack.n_layers(), b.stack.n_layers()) << what;
    for (std::size_t k = 0; k < a.stack.n_layers(); ++k) {
        EXPECT_TRUE(same_bits(a.stack.layers[k].weights(), b.stack.layers[k].weights()))
            << what << ": layer " << k << " weights";
        EXPECT_TRUE(same_bits(a.stack.layers[k].hidden_bias(), b.stack.layers[k].hidden_bias()))
            << what << ": layer " << k << " hidden bias";
    }
    const finetune::FineTuned& fa = a.fine_tuned;
    const finetune::FineTuned& fb = b.fine_tuned;
    EXPECT_TRUE(same_bits(fa.head.weights, fb.head.weights)) << what << ": head";
    EXPECT_TRUE(same_bits(fa.head.bias, fb.head.bias)) << what << ": head bias";
    ASSERT_EQ(fa.decoder.size(), fb.decoder.size()) << what;
    for (std::size_t k = 0; k < fa.decoder.size(); ++k) {
        EXPECT_TRUE(same_bits(fa.decoder[k].weights, fb.decoder[k].weights))
            << what << ": decoder " << k;
        EXPECT_TRUE(same_bits(fa.decoder[k].bias, fb.decoder[k].bias))
            << what << ": decoder " << k << " bias";
    }
    EXPECT_EQ(fa.best_epoch, fb.best_epoch) << what;
    ASSERT_EQ(fa.history.size(), fb.history.size()) << what;
    auto bits = [](double x) {
        std::uint64_t u;
        std::memcpy(&u, &x, sizeof u);
        return u;
    };
    for (std::size_t e = 0; e < fa.history.size(); ++e) {
        const auto &x = fa.history[e], &y = fb.history[e];
        EXPECT_EQ(x.epoch, y.epoch) << what;
        EXPECT_EQ(bits(x.loss), bits(y.loss)) << what << ": loss of epoch " << e + 1;
        EXPECT_EQ(bits(x.train_accuracy), bits(y.train_accuracy)) << what << ": epoch " << e + 1;
        EXPECT_EQ(bits(x.valid_accuracy), bits(y.valid_accuracy)) << what << ": epoch " << e + 1;
        EXPECT_EQ(bits(x.train_reconstruction_error), bits(y.train_reconstruction_error))
            << what << ": epoch " << e + 1;
        EXPECT_EQ(bits(x.valid_reconstruction_error), bits(y.valid_reconstruction_error))
            << what << ": epoch " << e + 1;
        EXPECT_EQ(bits(x.learning_rate), bits(y.learning_rate)) << what << ": epoch " << e + 1;
    }
}

/// Runs `cfg` with a stop request that says stop at its `stop_at`-th question (1-based) and
/// returns the state the sink received.
finetune::FineTuneState stopped_state(const finetune::FineTuneConfig& cfg, std::size_t stop_at) {
    std::size_t asked = 0;
    std::vector<finetune::FineTuneState> saved;
    finetune::FineTuneControl control;
    control.policy.every_seconds = 0;
    control.stop = [&] { return ++asked == stop_at; };
    control.checkpoint = [&](const finetune::FineTuneState& s) { saved.push_back(s); };
    EXPECT_THROW(
        finetune::fine_tune(pretrained(), train_set(), nullptr, cfg, nullptr, {}, &control),
        TrainingStopped)
        << "stop at question " << stop_at;
    EXPECT_EQ(saved.size(), 1u);
    return saved.empty() ? finetune::FineTuneState{} : saved.back();
}

FineTuneCheckpoint as_checkpoint(const finetune::FineTuneState& s,
                                 const finetune::FineTuneConfig& cfg) {
    FineTuneCheckpoint c;
    c.state = s;
    c.config = cfg;
    c.model = "pretrained.h5";
    c.model_hash = 42;
    c.data.spec = "prototypes";
    c.data.rows = train_set().size();
    c.data.columns = k_dim;
    c.data.hash = 7;
    c.labels = "labels.csv";
    c.threads = 1;
    c.out = "tuned.h5";
    return c;
}

finetune::FineTuneResult resumed(const finetune::FineTuneState& s,
                                 const finetune::FineTuneConfig& cfg) {
    finetune::FineTuneControl control;
    control.resume = &s;
    return finetune::fine_tune(pretrained(), train_set(), nullptr, cfg, nullptr, {}, &control);
}

TEST(FineTuneResume, StoppedAtAMinibatchSavedLoadedAndContinuedIsBitIdentical) {
    const std::string dir = testing::finetune_test_dir();
    for (const auto& [name, cfg] : variants()) {
        const finetune::FineTuneResult full =
            finetune::fine_tune(pretrained(), train_set(), nullptr, cfg);
        const std::size_t h = full.fine_tuned.history.size();
        if (name == "adam-early-stopping") {
            EXPECT_LT(h, cfg.epochs) << "early stopping did not stop the run";
            EXPECT_LT(full.fine_tuned.best_epoch, h) << "the best weights are the last ones";
        }
        // Questions: 8 after the minibatches of an epoch but its last, 1 after the epoch.
        // 1: after the first minibatch; 9: at the end of epoch 1; 13: inside epoch 2; the last:
        // inside the last epoch trained.
        for (const std::size_t stop_at :
             {std::size_t{1}, std::size_t{9}, std::size_t{13}, 9 * (h - 1) + 4}) {
            const std::string what = name + ", stopped at question " + std::to_string(stop_at);
            const finetune::FineTuneState s = stopped_state(cfg, stop_at);
            EXPECT_EQ(s.epochs_done * 9 + s.minibatch, stop_at) << what;
            const std::string path = dir + "/" + name + std::to_string(stop_at) + ".h5";
            io::save_finetune_checkpoint(as_checkpoint(s, cfg), path);
            const FineTuneCheckpoint back = io::load_finetune_checkpoint(path);
            EXPECT_EQ(back.model, "pretrained.h5");
            EXPECT_EQ(back.model_hash, 42u);
            EXPECT_EQ(back.data.rows, train_set().size());
            EXPECT_EQ(back.labels, "labels.csv");
            EXPECT_EQ(back.out, "tuned.h5");
            EXPECT_EQ(back.config.seed, cfg.seed);
            EXPECT_EQ(back.config.head_only, cfg.head_only);
            EXPECT_EQ(back.state.epochs_done, s.epochs_done) << what;
            EXPECT_EQ(back.state.minibatch, s.minibatch) << what;
            expect_same_result(full, resumed(back.state, back.config), what);
        }
    }
}

TEST(FineTuneResume, PeriodicCheckpointsAtEpochEndsContinueBitIdentically) {
    finetune::FineTuneConfig cfg = variants().front().second;
    const finetune::FineTuneResult full =
        finetune::fine_tune(pretrained(), train_set(), nullptr, cfg);
    std::vector<finetune::FineTuneState> saved;
    finetune::FineTuneControl control;
    control.policy.every_epochs = 2;
    control.policy.every_seconds = 0;
    control.checkpoint = [&](const finetune::FineTuneState& s) { saved.push_back(s); };
    const finetune::FineTuneResult watched =
        finetune::fine_tune(pretrained(), train_set(), nullptr, cfg, nullptr, {}, &control);
    expect_same_result(full, watched, "with checkpoints");
    // Epochs 2 and 4 (not 6: the run ends there).
    ASSERT_EQ(saved.size(), 2u);
    EXPECT_EQ(saved[0].epochs_done, 2u);
    EXPECT_EQ(saved[1].epochs_done, 4u);
    for (const auto& s : saved) {
        EXPECT_EQ(s.minibatch, 0u);
        EXPECT_EQ(s.history.size(), s.epochs_done);
        expect_same_result(full, resumed(s, cfg), "from epoch " + std::to_string(s.epochs_done));
    }
}

TEST(FineTuneResume, StateThatDoesNotFitIsRefused) {
    const finetune::FineTuneConfig cfg = variants().front().second;
    const finetune::FineTuneState good = stopped_state(cfg, 13);
    auto refused = [&](const finetune::FineTuneState& s, const std::string& what) {
        try {
            resumed(s, cfg);
            ADD_FAILURE() << what << ": accepted";
        } catch (const Error& e) {
            EXPECT_EQ(std::string(e.what()).rfind(finetune::k_resume_state_error, 0), 0u)
                << what << ": " << e.what();
        }
    };
    finetune::FineTuneState s = good;
    s.layers[1].weights = Matrix::from_shape({3, 3});
    refused(s, "a layer of another shape");
    s = good;
    s.layers.pop_back();
    refused(s, "a layer missing");
    s = good;
    s.order[0] = s.order[1];
    refused(s, "an order that is not a permutation");
    s = good;
    s.order.pop_back();
    refused(s, "an order of fewer rows");
    s = good;
    s.optimizer.v_weights.clear();
    refused(s, "Adam's second moments missing");
    s = good;
    s.history.pop_back();
    refused(s, "a history shorter than the epochs done");
    s = good;
    s.minibatch = 9;
    refused(s, "a minibatch beyond the epoch");
    s = good;
    s.epochs_done = cfg.epochs;
    s.history.resize(cfg.epochs);
    refused(s, "every epoch done");
    // Other data: fewer rows than the state's order.
    finetune::FineTuneControl control;
    control.resume = &good;
    const data::Dataset fewer = prototypes(200, k_dim, k_classes, 0.2f, 1);
    EXPECT_THROW(finetune::fine_tune(pretrained(), fewer, nullptr, cfg, nullptr, {}, &control),
                 ShapeError);
}

TEST(FineTuneResume, DamagedOrForeignCheckpointFilesAreRefused) {
    const std::string dir = testing::finetune_test_dir();
    const finetune::FineTuneConfig cfg = variants().front().second;
    const finetune::FineTuneState s = stopped_state(cfg, 13);
    const std::string good = dir + "/good.h5";
    io::save_finetune_checkpoint(as_checkpoint(s, cfg), good);
    auto copy = [&](const std::string& name) {
        const std::string p = dir + "/" + name;
        std::filesystem::copy_file(good, p, std::filesystem::copy_options::overwrite_existing);
        return p;
    };
    auto expect_refused = [](const std::string& path, const std::string& pattern) {
        try {
            io::load_finetune_checkpoint(path);
            ADD_FAILURE() << path << ": accepted";
        } catch (const Error& e) {
            const std::string m = e.what();
            EXPECT_NE(m.find(path), std::string::npos) << m;
            EXPECT_NE(m.find(pattern), std::string::npos) << m;
        }
    };
    {
        const std::string p = copy("format.h5");
        {
            hdf5::File f = hdf5::File::open(p, hdf5::File::Mode::read_write);
            f.open_group("checkpoint").write_string_attribute("format", "something-else");
        }
        expect_refused(p, "not a dbn fine-tuning checkpoint");
    }
    {
        const std::string p = copy("version.h5");
        {
            hdf5::File f = hdf5::File::open(p, hdf5::File::Mode::read_write);
            f.open_group("checkpoint").write_int_attribute("format_version", 2);
        }
        expect_refused(p, "format_version 2");
    }
    {
        const std::string p = copy("missing.h5");
        {
            hdf5::File f = hdf5::File::open(p, hdf5::File::Mode::read_write);
            f.remove("checkpoint/trainer/network/1/m_weights");
        }
        expect_refused(p, "/checkpoint/trainer/network/1/m_weights: missing");
    }
    {
        const std::string p = copy("shape.h5");
        {
            hdf5::File f = hdf5::File::open(p, hdf5::File::Mode::read_write);
            f.remove("checkpoint/trainer/network/0/bias");
            const std::vector<float> v(3, 0.0f);
            f.write_dataset("checkpoint/trainer/network/0/bias", v.data(), {3});
        }
        expect_refused(p, "/checkpoint/trainer/network/0/bias");
    }
    {
        // Truncated: half the bytes.
        const std::string p = copy("truncated.h5");
        std::filesystem::resize_file(p, std::filesystem::file_size(p) / 2);
        EXPECT_THROW(io::load_finetune_checkpoint(p), Error);
    }
    {
        const std::string p = dir + "/text.h5";
        std::ofstream(p) << "not hdf5\n";
        expect_refused(p, "not an HDF5 file");
    }
    {
        // A pretraining checkpoint is named as such, both ways.
        PretrainCheckpoint pc;
        pc.config_json = "{}";
        const std::string p = dir + "/pretrain.h5";
        io::save_checkpoint(pc, p);
        expect_refused(p, "a pretraining checkpoint, not a fine-tuning one");
        try {
            io::load_checkpoint(good);
            ADD_FAILURE() << "a fine-tuning checkpoint read as a pretraining one";
        } catch (const FormatError& e) {
            EXPECT_NE(std::string(e.what()).find("a fine-tuning checkpoint"), std::string::npos)
                << e.what();
        }
    }
    EXPECT_THROW(io::load_finetune_checkpoint(dir + "/absent.h5"), IoError);
}

}  // namespace
}  // namespace dbn
