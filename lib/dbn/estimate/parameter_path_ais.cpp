#include "dbn/estimate/parameter_path_ais.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/core/vector_math.hpp"
#include "dbn/estimate/kernels.hpp"
#include "dbn/estimate/path_ais.hpp"
#include "dbn/estimate/weighted_ratio.hpp"

namespace dbn::estimate {
namespace {

void check_pair(const Rbm& from, const Rbm& to, ConstRows start,
                const std::vector<double>& start_log_w) {
    DBN_CHECK(from.n_visible() == to.n_visible() && from.n_hidden() == to.n_hidden(), ShapeError,
              "ParameterPathAis::estimate: the RBMs are "
                  << from.n_visible() << "-" << from.n_hidden() << " and " << to.n_visible() << "-"
                  << to.n_hidden());
    DBN_CHECK(from.visible_units().binary() && from.hidden_units().binary() &&
                  to.visible_units().binary() && to.hidden_units().binary(),
              ConfigError, "ParameterPathAis::estimate: needs Bernoulli visible and hidden units");
    DBN_CHECK(start.cols == from.n_visible() && start.rows >= 2, ShapeError,
              "ParameterPathAis::estimate: start states are " << start.rows << " x " << start.cols
                                                              << " (expected two or more rows of "
                                                              << from.n_visible() << ")");
    DBN_CHECK(start_log_w.empty() || start_log_w.size() == start.rows, ShapeError,
              "ParameterPathAis::estimate: " << start_log_w.size() << " start weights for "
                                             << start.rows << " runs");
    from.check_finite("ParameterPathAis::estimate (from)");
    to.check_finite("ParameterPathAis::estimate (to)");
}

bool same_parameters(const Rbm& a, const Rbm& b) {
    return std::equal(a.weights().begin(), a.weights().end(), b.weights().begin()) &&
           std::equal(a.visible_bias().begin(), a.visible_bias().end(), b.visible_bias().begin()) &&
           std::equal(a.hidden_bias().begin(), a.hidden_bias().end(), b.hidden_bias().begin());
}

double dot(const Real* a, const Real* b, std::size_t n) {
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s += double(a[i]) * b[i];
    return s;
}

}  // namespace

ParameterPathAis::ParameterPathAis(ParameterPathConfig config) : config_(config) {
    DBN_CHECK(config_.steps >= 1, ConfigError,
              "ParameterPathAis: needs at least 1 step (got " << config_.steps << ")");
}

ParameterPathResult ParameterPathAis::estimate(const Rbm& from, const Rbm& to,
                                               ConstRows start_visible,
                                               const std::vector<double>& start_log_w) const {
    check_pair(from, to, start_visible, start_log_w);
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t m = start_visible.rows, nv = from.n_visible(), nh = from.n_hidden();
    const std::size_t steps = config_.steps;
    if (same_parameters(from, to)) {
        // Every intermediate RBM is `from` itself: each increment is exactly zero (computing it
        // would only add the rounding of (1 - beta) x + beta x), and the start states are
        // already weighted samples of `to`.
        ParameterPathResult out;
        out.ess = weighted_ratio(start_log_w.empty() ? std::vector<double>(m, 0.0) : start_log_w,
                                 std::vector<double>(m, 0.0), 0.0, "ParameterPathAis::estimate")
                      .ess;
        out.runs = m;
        out.final_visible = Matrix::from_shape({m, nv});
        std::copy(start_visible.data, start_visible.data + m * nv, out.final_visible.data());
        out.final_log_weights = start_log_w.empty() ? std::vector<double>(m, 0.0) : start_log_w;
        out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return out;
    }

    Matrix v = Matrix::from_shape({m, nv});
    std::copy(start_visible.data, start_visible.data + m * nv, v.data());
    Matrix xa = Matrix::from_shape({m, nh}), xb = Matrix::from_shape({m, nh});
    Matrix h = Matrix::from_shape({m, nh}), p = Matrix::from_shape({m, nh});
    Matrix vact = Matrix::from_shape({m, nv});
    Matrix w_beta = Matrix::from_shape({nv, nh});
    Vector a_beta = Vector::from_shape({nv});
    std::vector<double> t(nh), va(m), vb(m), logw(m, 0.0);
    const Real* wa = from.weights().data();
    const Real* wb = to.weights().data();
    const Real* aa = from.visible_bias().data();
    const Real* ab = to.visible_bias().data();
    const Real* ba = from.hidden_bias().data();
    const Real* bb = to.hidden_bias().data();
    Rng rng(config_.seed);

    // F_beta(v) of run r from x_a = v W_a + b_a and x_b = v W_b + b_b (hidden activations of the
    // two ends): -[(1 - beta) a_a.v + beta a_b.v] - sum_j softplus((1 - beta) x_a + beta x_b).
    auto free_energy = [&](std::size_t r, double beta) {
        const Real* xar = xa.data() + r * nh;
        const Real* xbr = xb.data() + r * nh;
        for (std::size_t j = 0; j < nh; ++j)
            t[j] = (1.0 - beta) * double(xar[j]) + beta * double(xbr[j]);
        return -((1.0 - beta) * va[r] + beta * vb[r]) - detail::softplus_sum(t.data(), nh);
    };

    const std::vector<double> start =
        start_log_w.empty() ? std::vector<double>(m, 0.0) : start_log_w;
    double beta_prev = 0.0;
    for (std::size_t i = 1; i <= steps; ++i) {
        const double beta = static_cast<double>(i) / static_cast<double>(steps);
        blas::gemm(false, false, 1.0f, v, from.weights(), 0.0f, xa);
        blas::gemm(false, false, 1.0f, v, to.weights(), 0.0f, xb);
        for (std::size_t r = 0; r < m; ++r) {
            Real* xar = xa.data() + r * nh;
            Real* xbr = xb.data() + r * nh;
            for (std::size_t j = 0; j < nh; ++j) {
                xar[j] += ba[j];
                xbr[j] += bb[j];
            }
            const Real* vr = v.data() + r * nv;
            va[r] = dot(aa, vr, nv);
            vb[r] = dot(ab, vr, nv);
            logw[r] += free_energy(r, beta_prev) - free_energy(r, beta);
        }
        beta_prev = beta;
        // Checkpoints every 5% of the path from 10% on (i is the first step past each): a path
        // whose runs have lost their weights gives up.
        const bool checkpoint = config_.abandon_below_ess > 0.0 && i < steps && i * 10 >= steps &&
                                (i * 20) % steps < 20;
        const WeightedRatio part =
            checkpoint ? weighted_ratio(start, logw, 0.0, "ParameterPathAis::estimate")
                       : WeightedRatio{};
        if (checkpoint && part.ess < config_.abandon_below_ess) {
            ParameterPathResult out;
            const double inf = std::numeric_limits<double>::infinity();
            out.log_ratio = part.log_ratio;
            out.low = -inf;
            out.high = inf;
            out.ess = part.ess;
            out.runs = m;
            out.steps = i;
            out.abandoned = true;
            out.final_visible = Matrix::from_shape({0, nv});
            out.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            return out;
        }
        if (i == steps) break;
        // One Gibbs sweep at theta_beta: h ~ p(h | v), then v ~ p(v | h).
        const auto fb = static_cast<Real>(beta), fa = static_cast<Real>(1.0 - beta);
        for (std::size_t k = 0; k < m * nh; ++k)
            p.data()[k] = fa * xa.data()[k] + fb * xb.data()[k];
        vec::sigmoid(p.data(), p.data(), m * nh);
        rng.bernoulli(p.data(), h.data(), m * nh);
        Real* wbeta = w_beta.data();
        for (std::size_t k = 0; k < nv * nh; ++k) wbeta[k] = fa * wa[k] + fb * wb[k];
        for (std::size_t k = 0; k < nv; ++k) a_beta(k) = fa * aa[k] + fb * ab[k];
        blas::gemm(false, true, 1.0f, h, w_beta, 0.0f, vact);
        for (std::size_t r = 0; r < m; ++r)
            detail::shifted_sigmoid(vact.data() + r * nv, a_beta.data(), vact.data() + r * nv, nv);
        rng.bernoulli(vact.data(), v.data(), m * nv);
    }

    WeightedRatio ratio = weighted_ratio(start, logw, k_path_min_ess, "ParameterPathAis::estimate");
    ParameterPathResult out;
    out.log_ratio = ratio.log_ratio;
    out.low = ratio.low;
    out.high = ratio.high;
    out.ess = ratio.ess;
    out.runs = m;
    out.steps = steps;
    out.final_visible = std::move(v);
    out.final_log_weights = std::move(ratio.total);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

bool turned_over_path_applies(const Rbm& lower, const Rbm& upper) {
    return lower.visible_units().binary() && lower.hidden_units().binary() &&
           upper.visible_units().binary() && upper.hidden_units().binary() &&
           upper.n_visible() == lower.n_hidden() && upper.n_hidden() >= lower.n_visible();
}

TurnedOverPath turned_over_path(const Rbm& lower, const Rbm& upper, ConstRows lower_visible,
                                const std::vector<double>& log_w,
                                const ParameterPathConfig& config) {
    DBN_CHECK(turned_over_path_applies(lower, upper), ConfigError,
              "turned_over_path: needs Bernoulli units on both layers, the upper layer's visible "
              "units the lower layer's hidden units, and at least as many hidden units above ("
                  << upper.n_hidden() << ") as visible units below (" << lower.n_visible() << ")");
    DBN_CHECK(lower_visible.cols == lower.n_visible(), ShapeError,
              "turned_over_path: start states have " << lower_visible.cols << " columns (expected "
                                                     << lower.n_visible() << ")");
    const std::size_t extra = upper.n_hidden() - lower.n_visible();
    Vector c = Vector::from_shape({extra});
    for (std::size_t j = 0; j < extra; ++j) c(j) = upper.hidden_bias()(lower.n_visible() + j);
    TurnedOverPath out;
    const Rbm ref = lower.widened_turned_over(upper.n_hidden(), c);
    for (std::size_t j = 0; j < extra; ++j) out.exact_part += softplus(static_cast<double>(c(j)));
    // Weighted samples of p_k(h): h ~ p_k(h | v) for weighted samples v of layer k.
    Rng rng(config.seed);
    rng.jump();  // not the path's own stream
    Matrix p = Matrix::from_shape({lower_visible.rows, lower.n_hidden()});
    Matrix h = Matrix::from_shape({lower_visible.rows, lower.n_hidden()});
    lower.hidden_probabilities(lower_visible, p);
    rng.bernoulli(p.data(), h.data(), p.size());
    out.path = ParameterPathAis(config).estimate(ref, upper, h, log_w);
    return out;
}

}  // namespace dbn::estimate
