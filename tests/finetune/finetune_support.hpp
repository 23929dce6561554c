#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/hooks/layer_hook.hpp"
#include "support/helpers.hpp"

namespace dbn::testing {

/// @brief A stack of random RBMs (weights N(0, scale^2)) with optional hooks fitted on the
/// stack's own representations of `fit_data` (preprocessed), hidden units per layer as given.
inline Dbn random_stack(const std::vector<std::size_t>& sizes, Rng& rng, float scale,
                        const std::vector<UnitType>& hidden, const std::string& hook,
                        const Matrix& fit_data, UnitType visible = UnitType::bernoulli) {
    Dbn m;
    for (std::size_t k = 0; k + 1 < sizes.size(); ++k)
        m.layers.push_back(random_rbm(sizes[k], sizes[k + 1], rng, scale,
                                      k == 0 ? visible : UnitType::bernoulli, hidden[k]));
    if (visible == UnitType::gaussian) {
        for (auto& s : m.layers[0].visible_sigma()) s = 0.5f + rng.uniform();
    }
    if (hook != "none") {
        m.hooks.assign(m.n_layers() - 1, nullptr);
        for (std::size_t k = 0; k + 1 < m.n_layers(); ++k) {
            std::shared_ptr<LayerHook> h = make_hook(hook);
            h->fit(m.transform(fit_data, k));
            if (auto* ln = dynamic_cast<LayerNormHook*>(h.get())) {
                // Non-trivial gain and shift, so that the test covers their part of backward().
                for (auto& g : ln->gain()) g = 0.5f + rng.uniform();
                for (auto& s : ln->shift()) s = rng.uniform() - 0.5f;
            }
            m.hooks[k] = h;
        }
    }
    return m;
}

/// @brief `n` rows of `d` values in [0, 1] in `c` classes: noisy copies of c random binary
/// prototypes (each value flipped with probability `noise`), labels 10, 20, ... (not 0..c-1, so
/// that the class mapping is exercised).
inline data::Dataset prototypes(std::size_t n, std::size_t d, std::size_t c, float noise,
                                std::uint64_t seed, std::uint64_t proto_seed = 99) {
    Rng proto_rng(proto_seed);
    Matrix protos = Matrix::from_shape({c, d});
    for (auto& p : protos) p = proto_rng.uniform() < 0.5f ? 0.0f : 1.0f;
    Rng rng(seed);
    data::Dataset ds;
    ds.source = "prototypes";
    ds.x = Matrix::from_shape({n, d});
    ds.labels = Labels::from_shape({n});
    for (std::size_t r = 0; r < n; ++r) {
        const std::size_t k = static_cast<std::size_t>(rng.below(c));
        ds.labels(r) = static_cast<std::int32_t>(10 * (k + 1));
        for (std::size_t j = 0; j < d; ++j) {
            const float p = protos(k, j);
            ds.x(r, j) = rng.uniform() < noise ? 1.0f - p : p;
        }
    }
    return ds;
}

inline bool same_bits(const Matrix& a, const Matrix& b) {
    return a.shape() == b.shape() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(Real)) == 0);
}
inline bool same_bits(const Vector& a, const Vector& b) {
    return a.shape() == b.shape() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(Real)) == 0);
}

/// @brief A fresh folder for the running test's files.
inline std::string finetune_test_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::filesystem::path dir = std::filesystem::path(DBN_BINARY_DIR) / "test_output" /
                                      "finetune" /
                                      (std::string(info->test_suite_name()) + "." + info->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

}  // namespace dbn::testing
