#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/rbm/rbm.hpp"
#include "support/helpers.hpp"

namespace dbn::testing {

/// @brief A fresh, empty folder for the running test, so that tests run in parallel by ctest
/// never share a file.
inline std::string test_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::filesystem::path dir = std::filesystem::path(DBN_BINARY_DIR) / "test_output" /
                                      "io" / (std::string(info->test_suite_name()) + "." +
                                               info->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

/// @brief The bytes of a file, to prove that a failed save left it untouched.
inline std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// @brief Names in `dir` (files left behind by a save, temporary or not).
inline std::vector<std::string> dir_entries(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        names.push_back(e.path().filename().string());
    return names;
}

/// @brief Same length and same bytes: NaNs with the same payload compare equal, -0 != +0.
template <class A, class B>
::testing::AssertionResult same_bits(const A& a, const B& b, const char* what) {
    if (a.size() != b.size())
        return ::testing::AssertionFailure() << what << ": sizes " << a.size() << " vs "
                                             << b.size();
    if (a.size() > 0 && std::memcmp(&*a.begin(), &*b.begin(), a.size() * sizeof(*a.begin())) != 0)
        return ::testing::AssertionFailure() << what << ": bits differ";
    return ::testing::AssertionSuccess();
}

inline bool same_double(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// @brief An RBM with random weights and biases; Gaussian layers get sigma in [0.5, 1.5).
inline Rbm random_layer(std::size_t nv, std::size_t nh, UnitType vis, UnitType hid, Rng& rng) {
    Rbm rbm = random_rbm(nv, nh, rng, 0.5f, vis, hid);
    if (vis == UnitType::gaussian) {
        for (auto& s : rbm.visible_sigma()) s = 0.5f + rng.uniform();
    }
    return rbm;
}

/// @brief A three-layer stack touching every unit type: gaussian->relu, bernoulli->bernoulli,
/// bernoulli->relu.
inline ModelFile mixed_stack(std::uint64_t seed = 11) {
    Rng rng{seed};
    ModelFile m;
    m.stack.layers.push_back(random_layer(5, 7, UnitType::gaussian, UnitType::relu, rng));
    m.stack.layers.push_back(random_layer(7, 3, UnitType::bernoulli, UnitType::bernoulli, rng));
    m.stack.layers.push_back(random_layer(3, 2, UnitType::bernoulli, UnitType::relu, rng));
    return m;
}

/// @brief Training records with every field away from its default, and NaNs where a monitor
/// does not apply, the way the trainer leaves them.
inline void add_records(ModelFile& m) {
    m.seed = 0xFEDCBA9876543210ULL;  // above 2^63: must survive as unsigned
    m.config_json = R"({"name": "t\u00e9st", "layers": [5, 7, 3, 2], "quote": "\""})";
    m.name = "mixed stack \xce\xbb";  // UTF-8 lambda
    m.records.clear();
    for (std::size_t k = 0; k < m.stack.layers.size(); ++k) {
        LayerRecord r;
        r.config.algorithm = k % 2 == 0 ? Algorithm::pcd : Algorithm::cd;
        r.config.k = 3 + k;
        r.config.persistent_chains = 17;
        r.config.epochs = 2 + k;
        r.config.batch_size = 33;
        r.config.learning_rate = 0.1 / 3.0;
        r.config.learning_rate_decay = 0.97;
        r.config.initial_momentum = 0.45;
        r.config.final_momentum = 0.875;
        r.config.momentum_switch_epoch = 1;
        r.config.weight_decay = 1e-7;
        r.config.l1 = 3e-5;
        r.config.sparsity_target = 0.05;
        r.config.sparsity_cost = 0.25;
        r.config.sparsity_decay = 0.95;
        r.config.init_stddev = 0.001;
        r.config.sample_up = k == 1;
        r.config.monitor_samples = 123;
        for (std::size_t e = 1; e <= r.config.epochs; ++e) {
            EpochStats s;
            s.layer = k;
            s.epoch = e;
            s.reconstruction_error = 1.0 / (3.0 * e);
            s.free_energy_train = -12.5 * e;
            s.free_energy_valid = k == 0 ? EpochStats::nan : -12.0 * e;
            s.free_energy_gap = k == 0 ? EpochStats::nan : 0.5 * e;
            s.pseudo_log_likelihood = -std::sqrt(2.0) * e;
            s.learning_rate = 0.1 * std::pow(0.97, e - 1.0);
            s.momentum = e == 1 ? 0.45 : 0.875;
            s.seconds = 0.001 * e + 1e-9;
            r.epochs.push_back(s);
        }
        m.records.push_back(r);
    }
}

/// @brief Standardization fitted on made-up statistics.
inline void add_standardization(ModelFile& file) {
    Dbn& m = file.stack;
    m.preprocessing.scale = 255.0f;
    m.preprocessing.standardize = true;
    m.preprocessing.threshold = 0.3f;
    const std::size_t n = m.n_visible();
    m.preprocessing.mean = Vector::from_shape({n});
    m.preprocessing.stddev = Vector::from_shape({n});
    for (std::size_t j = 0; j < n; ++j) {
        m.preprocessing.mean(j) = 0.1f * static_cast<float>(j) - 0.2f;
        m.preprocessing.stddev(j) = 1.0f / (1.0f + static_cast<float>(j));
    }
}

/// @brief Asserts two models are identical bit for bit, records and preprocessing included.
inline void expect_same_stack(const Dbn& a, const Dbn& b) {
    ASSERT_EQ(a.n_layers(), b.n_layers());
    for (std::size_t k = 0; k < a.n_layers(); ++k) {
        SCOPED_TRACE("layer " + std::to_string(k));
        const Rbm& x = a.layers[k];
        const Rbm& y = b.layers[k];
        EXPECT_EQ(x.visible_type(), y.visible_type());
        EXPECT_EQ(x.hidden_type(), y.hidden_type());
        ASSERT_EQ(x.weights().shape(), y.weights().shape());
        EXPECT_TRUE(same_bits(x.weights(), y.weights(), "weights"));
        EXPECT_TRUE(same_bits(x.visible_bias(), y.visible_bias(), "visible_bias"));
        EXPECT_TRUE(same_bits(x.hidden_bias(), y.hidden_bias(), "hidden_bias"));
        EXPECT_TRUE(same_bits(x.visible_sigma(), y.visible_sigma(), "visible_sigma"));
    }
    const auto& p = a.preprocessing;
    const auto& q = b.preprocessing;
    EXPECT_TRUE(same_bits(std::vector<float>{p.scale, p.threshold},
                          std::vector<float>{q.scale, q.threshold}, "scale, threshold"));
    EXPECT_EQ(p.binarize, q.binarize);
    EXPECT_EQ(p.standardize, q.standardize);
    EXPECT_TRUE(same_bits(p.mean, q.mean, "mean"));
    EXPECT_TRUE(same_bits(p.stddev, q.stddev, "stddev"));
}

/// @brief Asserts two model files are identical bit for bit: stack, preprocessing and records.
inline void expect_same_model(const ModelFile& a, const ModelFile& b) {
    expect_same_stack(a.stack, b.stack);
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_EQ(a.config_json, b.config_json);
    EXPECT_EQ(a.name, b.name);
    ASSERT_EQ(a.records.size(), b.records.size());
    for (std::size_t k = 0; k < a.records.size(); ++k) {
        SCOPED_TRACE("record " + std::to_string(k));
        const LayerTrainingConfig& c = a.records[k].config;
        const LayerTrainingConfig& d = b.records[k].config;
        EXPECT_EQ(c.algorithm, d.algorithm);
        EXPECT_EQ(c.k, d.k);
        EXPECT_EQ(c.persistent_chains, d.persistent_chains);
        EXPECT_EQ(c.epochs, d.epochs);
        EXPECT_EQ(c.batch_size, d.batch_size);
        EXPECT_TRUE(same_double(c.learning_rate, d.learning_rate));
        EXPECT_TRUE(same_double(c.learning_rate_decay, d.learning_rate_decay));
        EXPECT_TRUE(same_double(c.initial_momentum, d.initial_momentum));
        EXPECT_TRUE(same_double(c.final_momentum, d.final_momentum));
        EXPECT_EQ(c.momentum_switch_epoch, d.momentum_switch_epoch);
        EXPECT_TRUE(same_double(c.weight_decay, d.weight_decay));
        EXPECT_TRUE(same_double(c.l1, d.l1));
        EXPECT_TRUE(same_double(c.sparsity_target, d.sparsity_target));
        EXPECT_TRUE(same_double(c.sparsity_cost, d.sparsity_cost));
        EXPECT_TRUE(same_double(c.sparsity_decay, d.sparsity_decay));
        EXPECT_TRUE(same_double(c.init_stddev, d.init_stddev));
        EXPECT_EQ(c.sample_up, d.sample_up);
        EXPECT_EQ(c.monitor_samples, d.monitor_samples);
        const auto& ea = a.records[k].epochs;
        const auto& eb = b.records[k].epochs;
        ASSERT_EQ(ea.size(), eb.size());
        for (std::size_t e = 0; e < ea.size(); ++e) {
            SCOPED_TRACE("epoch row " + std::to_string(e));
            EXPECT_EQ(ea[e].layer, eb[e].layer);
            EXPECT_EQ(ea[e].epoch, eb[e].epoch);
            EXPECT_TRUE(same_double(ea[e].reconstruction_error, eb[e].reconstruction_error));
            EXPECT_TRUE(same_double(ea[e].free_energy_train, eb[e].free_energy_train));
            EXPECT_TRUE(same_double(ea[e].free_energy_valid, eb[e].free_energy_valid));
            EXPECT_TRUE(same_double(ea[e].free_energy_gap, eb[e].free_energy_gap));
            EXPECT_TRUE(same_double(ea[e].pseudo_log_likelihood, eb[e].pseudo_log_likelihood));
            EXPECT_TRUE(same_double(ea[e].learning_rate, eb[e].learning_rate));
            EXPECT_TRUE(same_double(ea[e].momentum, eb[e].momentum));
            EXPECT_TRUE(same_double(ea[e].seconds, eb[e].seconds));
        }
    }
}

}  // namespace dbn::testing
