#pragma once
// Small enumerable stacks and exact reference values shared by the dlogZ estimators' tests.

#include <algorithm>
#include <cmath>
#include <vector>

#include "dbn/core/math.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/estimate/exact_log_partition.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/rbm_trainer.hpp"
#include "estimate/test_models.hpp"
#include "support/helpers.hpp"

namespace dbn::estimate::stacks {

/// A value known exactly in double from float parameters: the sum of a few softplus terms.
constexpr double k_exact_tol = 1e-9;
/// G_k(q) - F_{k+1}(q) of a turned-over layer is zero up to the float rounding of W h against
/// h W^T: 16 activations of magnitude <= ~20, each rounded to ~1e-6, through softplus (slope
/// <= 1): at most ~2e-5 per state, so 1e-4 on the mean leaves room and still catches any
/// error in the formulas (a missing bias term is O(1)).
constexpr double k_turned_over_gap_tol = 1e-4;

/// Exact samples of an RBM's visible units: h ~ p(h) ∝ exp(-G(h)) by enumerating every hidden
/// state (n_hidden <= 20), then v ~ p(v | h).
inline Matrix exact_visible_samples(const Rbm& rbm, std::size_t count, Rng& rng) {
    const std::size_t nh = rbm.n_hidden();
    const Matrix states = testing::all_binary_states(nh);
    const DVector g = rbm.hidden_free_energy(states);
    const double top = -*std::min_element(g.begin(), g.end());
    std::vector<double> cdf(g.size());
    double total = 0.0;
    for (std::size_t s = 0; s < g.size(); ++s) {
        total += std::exp(-g(s) - top);
        cdf[s] = total;
    }
    Matrix h = Matrix::from_shape({count, nh});
    for (std::size_t r = 0; r < count; ++r) {
        const double u = rng.uniform_double() * total;
        const std::size_t s = std::min<std::size_t>(
            std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin(), g.size() - 1);
        std::copy(&states(s, 0), &states(s, 0) + nh, &h(r, 0));
    }
    Matrix mean = Matrix::from_shape({count, rbm.n_visible()});
    Matrix v = Matrix::from_shape({count, rbm.n_visible()});
    rbm.visible_mean(h, mean);
    rbm.sample_visible(mean, v, rng);
    return v;
}

/// Binary samples of the hidden units given each row of x.
inline Matrix hidden_samples(const Rbm& rbm, const Matrix& x, Rng& rng) {
    Matrix p = Matrix::from_shape({x.shape(0), rbm.n_hidden()});
    rbm.hidden_probabilities(x, p);
    Matrix h = Matrix::from_shape(p.shape());
    rng.bernoulli(p.data(), h.data(), h.size());
    return h;
}

/// dF = mean_q [G_k(q) - F_{k+1}(q)] over samples q of layer k's hidden units.
inline double free_energy_gap(const Rbm& lower, const Rbm& upper, const Matrix& q) {
    const DVector g = lower.hidden_free_energy(q);
    const DVector f = upper.free_energy(q);
    double sum = 0.0;
    for (std::size_t i = 0; i < g.size(); ++i) sum += g(i) - f(i);
    return sum / static_cast<double>(g.size());
}

inline double exact_delta_log_z(const Rbm& lower, const Rbm& upper) {
    return exact_log_partition(upper) - exact_log_partition(lower);
}

/// Layer k turned over, widened by extra hidden units with zero weights and biases `extra`
/// (Rbm::widened_turned_over, from a list of biases).
inline Rbm widened_turned_over(const Rbm& lower, const std::vector<float>& extra) {
    Vector c = Vector::from_shape({extra.size()});
    std::copy(extra.begin(), extra.end(), c.begin());
    return lower.widened_turned_over(lower.n_visible() + extra.size(), c);
}

/// 16-12-10: layer 0 trained with CD-1 on the 4x4 bars-and-stripes images, layer 1 (random
/// start) on binary samples of layer 0's hidden units given them.
struct FarStack {
    Rbm lower{16, 12}, upper{12, 10};
    double exact = 0.0;
    FarStack() {
        Rng rng{42};
        const Matrix images = testing::bars_and_stripes(4);
        lower.init_random(rng, 0.1f);
        testing::train_cd1(lower, images, 5000, 30, 0.1f, rng);
        Matrix data = Matrix::from_shape({300, 16});
        for (std::size_t r = 0; r < 300; ++r)
            std::copy(&images(r % 30, 0), &images(r % 30, 0) + 16, &data(r, 0));
        const Matrix h = hidden_samples(lower, data, rng);
        upper.init_random(rng, 0.1f);
        testing::train_cd1(upper, h, 3000, 30, 0.1f, rng);
        exact = exact_delta_log_z(lower, upper);
    }
};

inline const FarStack& far_stack() {
    static const FarStack s;
    return s;
}

/// 20-16-24: layer 0 trained on noisy copies of 6 random 20-pixel prototypes; layer 1 starts
/// as layer 0 widened turned over (4 extra units, biases -1, 0, 0.5, 2, tiny random weights
/// that break their symmetry) and is then trained for 8 epochs by RbmTrainer on layer 0's
/// hidden samples, which moves dlogZ from sum softplus(c) = 4.11 to 5.23.
struct CloseStack {
    Rbm lower{20, 16}, upper;
    double exact = 0.0, start_value = 0.0;
    CloseStack() {
        Rng rng{7};
        Matrix proto = Matrix::from_shape({6, 20});
        for (auto& x : proto) x = rng.uniform() < 0.4f ? 1.0f : 0.0f;
        Matrix data = Matrix::from_shape({600, 20});
        for (std::size_t r = 0; r < 600; ++r)
            for (std::size_t i = 0; i < 20; ++i)
                data(r, i) = (rng.uniform() < 0.1f) ? 1.0f - proto(r % 6, i) : proto(r % 6, i);
        lower.init_random(rng, 0.1f);
        testing::train_cd1(lower, data, 3000, 50, 0.1f, rng);
        const std::vector<float> extra = {-1.0f, 0.0f, 0.5f, 2.0f};
        upper = widened_turned_over(lower, extra);
        for (float c : extra) start_value += softplus(c);
        for (std::size_t i = 0; i < 16; ++i)
            for (std::size_t j = 20; j < 24; ++j)
                upper.weights()(i, j) = 0.01f * static_cast<float>(rng.normal());
        const Matrix h = hidden_samples(lower, data, rng);
        LayerTrainingConfig cfg;
        cfg.epochs = 8;
        cfg.batch_size = 50;
        cfg.learning_rate = 0.05;
        RbmTrainer trainer(upper, cfg, rng);
        for (std::size_t e = 0; e < cfg.epochs; ++e) trainer.train_epoch(h);
        exact = exact_delta_log_z(lower, upper);
    }
};

inline const CloseStack& close_stack() {
    static const CloseStack s;
    return s;
}

}  // namespace dbn::estimate::stacks
