#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/model/record_fields.hpp"
#include "dbn/rbm/rbm.hpp"
#include "support/helpers.hpp"

namespace dbn::testing {

/// @brief A fresh, empty folder for the running test, so that tests run in parallel by ctest
/// never share a file.
inline std::string test_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::filesystem::path dir = std::filesystem::path(DBN_BINARY_DIR) / "test_output" / "io" /
                                      (std::string(info->test_suite_name()) + "." + info->name());
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
        return ::testing::AssertionFailure()
               << what << ": sizes " << a.size() << " vs " << b.size();
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

/// @brief log Z records and checks with every field away from its default: an exact layer, an
/// AIS layer whose interval is open below, a relu layer; an applicable diagnostic check with an
/// open interval and one that does not apply.
inline void add_checks(ModelFile& m) {
    const double inf = std::numeric_limits<double>::infinity();
    m.log_z.clear();
    m.checks.clear();
    estimate::LayerLogZ z0;
    z0.index = 0;
    z0.available = true;
    z0.method = "exact";
    z0.log_z = estimate::LogPartition::exact(12.0 / 7.0);
    z0.seconds = 0.25;
    estimate::LayerLogZ z1 = z0;
    z1.index = 1;
    z1.method = "ais";
    z1.log_z = {-3.5, -inf, -3.25};
    z1.ess = 17.125;
    z1.ais_runs = 100;
    z1.ais_steps = 1450;
    z1.note = "an AIS note";
    estimate::LayerLogZ z2;
    z2.index = 2;
    z2.note = "relu hidden units have no closed-form free energy, so no log Z";
    m.log_z = {z0, z1, z2};
    estimate::ConsistencyCheck c0;
    c0.lower = 0, c0.upper = 1;
    c0.applicable = true;
    c0.diagnostic = true;
    c0.note = "a hook sits between the layers";
    c0.samples = 321;
    c0.free_energy_gap = -0.75;
    c0.free_energy_gap_standard_error = 1.0 / 3.0;
    c0.delta_log_z = -5.25, c0.delta_log_z_low = -inf, c0.delta_log_z_high = -4.5;
    c0.bound_change = 4.5, c0.bound_change_low = 3.75, c0.bound_change_high = inf;
    c0.passed = true;
    estimate::ConsistencyCheck c1;
    c1.lower = 1, c1.upper = 2;
    c1.note = "defined for Bernoulli hidden units only";
    c1.passed = false;
    m.checks = {c0, c1};
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

inline bool same_value_bits(const FieldValue& a, const FieldValue& b) {
    if (a.index() != b.index()) return false;
    if (const auto* x = std::get_if<double>(&a)) return same_double(*x, std::get<double>(b));
    return a == b;
}

/// @brief Every field of the record's table (dbn/model/record_fields.hpp) equal, doubles bit
/// for bit (NaNs included): a record member the table misses is caught by
/// tests/model/record_fields_test.cpp.
template <class R>
void expect_same_record(const R& a, const R& b) {
    for (const auto& f : fields_of<R>())
        EXPECT_TRUE(same_value_bits(f.get(a), f.get(b))) << "field " << f.name;
}

template <class R>
void expect_same_records(const std::vector<R>& a, const std::vector<R>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        SCOPED_TRACE("row " + std::to_string(i));
        expect_same_record(a[i], b[i]);
    }
}

/// @brief Asserts two model files are identical bit for bit: stack, preprocessing and records.
inline void expect_same_model(const ModelFile& a, const ModelFile& b) {
    expect_same_stack(a.stack, b.stack);
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_EQ(a.config_json, b.config_json);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.sample_shape, b.sample_shape);
    ASSERT_EQ(a.records.size(), b.records.size());
    for (std::size_t k = 0; k < a.records.size(); ++k) {
        SCOPED_TRACE("record " + std::to_string(k));
        expect_same_record(a.records[k].config, b.records[k].config);
        expect_same_records(a.records[k].epochs, b.records[k].epochs);
    }
    expect_same_records(a.log_z, b.log_z);
    expect_same_records(a.checks, b.checks);
}

}  // namespace dbn::testing
