#include "dbn/train/exact_phase.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"

namespace dbn {

ExactPhase::ExactPhase(const Rbm& rbm, std::size_t layer) {
    const std::size_t nv = rbm.n_visible();
    DBN_CHECK(
        rbm.visible_units().binary() && rbm.hidden_units().binary() && nv <= k_max_exact_visible,
        ConfigError,
        "layer " << layer << ": \"algorithm\": \"exact\" needs Bernoulli units "
                 << "and at most " << k_max_exact_visible << " visible units (got " << nv << " "
                 << to_string(rbm.visible_type()) << " -> " << to_string(rbm.hidden_type()) << ")");
    const std::size_t states = std::size_t{1} << nv;
    states_ = Matrix::from_shape({states, nv});
    for (std::size_t r = 0; r < states; ++r)
        for (std::size_t i = 0; i < nv; ++i) states_(r, i) = static_cast<Real>((r >> i) & 1U);
    act_ = Matrix::from_shape({states, rbm.n_hidden()});
    weight_.resize(states);
}

// Every visible state v with weight p(v), -F(v) = a.v + sum_j softplus(act_j), normalized in
// double; X's columns hold -rows p(v) v, so that the product gives lr sum_v p(v) v^T p(h|v).
void ExactPhase::run(const Rbm& rbm, TrainerWorkspace& ws, const MinibatchShape& s,
                     std::size_t /*t*/, std::size_t /*threads*/) {
    const std::size_t nv = rbm.n_visible();
    const std::size_t nh = rbm.n_hidden();
    const std::size_t states = s.neg;
    rbm.hidden_activation(states_, act_);
    const Real* a = rbm.visible_bias().data();
    double max_lw = -std::numeric_limits<double>::infinity();
    for (std::size_t r = 0; r < states; ++r) {
        double lw = 0.0;
        const Real* v = states_.data() + r * nv;
        for (std::size_t i = 0; i < nv; ++i) lw += double(a[i]) * v[i];
        const Real* x = act_.data() + r * nh;
        for (std::size_t j = 0; j < nh; ++j) lw += softplus(x[j]);
        weight_[r] = lw;
        max_lw = std::max(max_lw, lw);
        float* yr = ws.y.data() + (s.rows + r) * (nh + 1);
        rbm.hidden_mean(ConstRows(x, 1, nh), Rows(yr, 1, nh));
        yr[nh] = 1.0f;
    }
    double total = 0.0;
    for (auto& w : weight_) total += (w = std::exp(w - max_lw));
    for (auto& w : weight_) w /= total;
    for (std::size_t r = 0; r < states; ++r) {
        const auto f = static_cast<float>(-static_cast<double>(s.rows) * weight_[r]);
        ws.to_columns(ConstRows(states_).block(r, 1), f, s.ld, s.rows + r);
    }
}

}  // namespace dbn
