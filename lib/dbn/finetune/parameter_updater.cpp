// ParameterUpdater (declared in network.hpp): SGD with momentum and Adam over a Network's
// parameters, split across the Workspace's threads. Apart from network.cpp so that the forward and
// backward passes and the optimizer each read as one file.
#include <algorithm>
#include <cmath>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "dbn/core/error.hpp"
#include "dbn/core/parallel.hpp"
#include "dbn/finetune/network.hpp"

namespace dbn::finetune {
namespace {

/// @brief Adam's constants for one step.
struct AdamStep {
    Real b1, c1, b2, c2, step, inv_c2, eps;  ///< c1 = 1 - b1, c2 = 1 - b2
};

#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
/// @brief Adam, four values at a time: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g g;
/// w -= step m / (sqrt(v inv_c2) + eps), left to right as written. SSE's multiply, add, divide
/// and square root round as the scalar ones do; the last 1-3 values go through the same code
/// (padded), so the values are the same wherever the arrays are split across threads. (The
/// compiler does not vectorize std::sqrt by itself: it may set errno.) Each product passes
/// through an empty asm statement, so that a build for a CPU with FMA (-march=native) cannot
/// fuse it with the addition that follows, as GCC does by default in C++.
void adam(Real* w, const Real* g, Real* m, Real* v, std::size_t n, const AdamStep& a) {
    const __m128 b1 = _mm_set1_ps(a.b1), c1 = _mm_set1_ps(a.c1);
    const __m128 b2 = _mm_set1_ps(a.b2), c2 = _mm_set1_ps(a.c2);
    const __m128 st = _mm_set1_ps(a.step), inv = _mm_set1_ps(a.inv_c2), eps = _mm_set1_ps(a.eps);
    auto four = [&](Real* wi, const Real* gp, Real* mp, Real* vp) {
        const __m128 gi = _mm_loadu_ps(gp);
        __m128 p1 = _mm_mul_ps(b1, _mm_loadu_ps(mp)), p2 = _mm_mul_ps(c1, gi);
        __m128 p3 = _mm_mul_ps(b2, _mm_loadu_ps(vp)), p4 = _mm_mul_ps(_mm_mul_ps(c2, gi), gi);
        __asm__("" : "+x"(p1), "+x"(p2), "+x"(p3), "+x"(p4));
        const __m128 mi = _mm_add_ps(p1, p2);
        const __m128 vi = _mm_add_ps(p3, p4);
        __m128 q = _mm_mul_ps(vi, inv);
        __asm__("" : "+x"(q));
        const __m128 den = _mm_add_ps(_mm_sqrt_ps(q), eps);
        _mm_storeu_ps(mp, mi);
        _mm_storeu_ps(vp, vi);
        _mm_storeu_ps(wi, _mm_sub_ps(_mm_loadu_ps(wi), _mm_div_ps(_mm_mul_ps(st, mi), den)));
    };
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) four(w + i, g + i, m + i, v + i);
    if (i < n) {
        Real tw[4] = {0, 0, 0, 0}, tg[4] = {0, 0, 0, 0}, tm[4] = {0, 0, 0, 0}, tv[4] = {0, 0, 0, 0};
        const std::size_t k = n - i;
        std::copy(w + i, w + n, tw);
        std::copy(g + i, g + n, tg);
        std::copy(m + i, m + n, tm);
        std::copy(v + i, v + n, tv);
        four(tw, tg, tm, tv);
        std::copy(tw, tw + k, w + i);
        std::copy(tm, tm + k, m + i);
        std::copy(tv, tv + k, v + i);
    }
}
#else
void adam(Real* w, const Real* g, Real* m, Real* v, std::size_t n, const AdamStep& a) {
    for (std::size_t i = 0; i < n; ++i) {
        m[i] = a.b1 * m[i] + a.c1 * g[i];
        v[i] = a.b2 * v[i] + a.c2 * g[i] * g[i];
        w[i] -= a.step * m[i] / (std::sqrt(v[i] * a.inv_c2) + a.eps);
    }
}
#endif

}  // namespace

ParameterUpdater::ParameterUpdater(const Network& net, const FineTuneConfig& config)
    : kind_(config.optimizer),
      momentum_(config.momentum),
      beta1_(config.beta1),
      beta2_(config.beta2),
      epsilon_(config.epsilon) {
    for (const auto& l : net.layers) {
        m_weights_.push_back(xt::zeros<Real>(l.weights.shape()));
        m_bias_.push_back(xt::zeros<Real>(l.bias.shape()));
        if (kind_ == OptimizerKind::adam) {
            v_weights_.push_back(xt::zeros<Real>(l.weights.shape()));
            v_bias_.push_back(xt::zeros<Real>(l.bias.shape()));
        }
    }
}

OptimizerState ParameterUpdater::state() const {
    OptimizerState s;
    s.steps = t_;
    s.m_weights = m_weights_;
    s.v_weights = v_weights_;
    s.m_bias = m_bias_;
    s.v_bias = v_bias_;
    return s;
}

void ParameterUpdater::restore(const OptimizerState& s) {
    auto fit = [](const auto& mine, const auto& theirs, const char* what) {
        DBN_CHECK(theirs.size() == mine.size(), ShapeError,
                  "optimizer state: " << theirs.size() << " " << what << " arrays (expected "
                                      << mine.size() << ")");
        for (std::size_t i = 0; i < mine.size(); ++i)
            DBN_CHECK(theirs[i].shape() == mine[i].shape(), ShapeError,
                      "optimizer state: " << what << " of layer " << i
                                          << " has the wrong shape (expected " << mine[i].size()
                                          << " values)");
    };
    fit(m_weights_, s.m_weights, "weight moment");
    fit(m_bias_, s.m_bias, "bias moment");
    fit(v_weights_, s.v_weights, "weight second moment");
    fit(v_bias_, s.v_bias, "bias second moment");
    t_ = s.steps;
    m_weights_ = s.m_weights;
    m_bias_ = s.m_bias;
    v_weights_ = s.v_weights;
    v_bias_ = s.v_bias;
    if (kind_ == OptimizerKind::adam && t_ > 0) {
        correction1_ = 1.0 - std::pow(beta1_, double(t_));
        correction2_ = 1.0 - std::pow(beta2_, double(t_));
    }
}

void ParameterUpdater::update(Real* w, const Real* g, Real* m, Real* v, std::size_t n,
                              double lr) const {
    if (kind_ == OptimizerKind::sgd) {
        const Real mu = static_cast<Real>(momentum_);
        const Real eta = static_cast<Real>(lr);
        for (std::size_t i = 0; i < n; ++i) {
            m[i] = mu * m[i] - eta * g[i];
            w[i] += m[i];
        }
        return;
    }
    // Adam with bias-corrected moments: w -= lr m^ / (sqrt(v^) + eps).
    AdamStep a;
    a.b1 = static_cast<Real>(beta1_);
    a.b2 = static_cast<Real>(beta2_);
    a.c1 = Real{1} - a.b1;
    a.c2 = Real{1} - a.b2;
    a.step = static_cast<Real>(lr / correction1_);
    a.inv_c2 = static_cast<Real>(1.0 / correction2_);
    a.eps = static_cast<Real>(epsilon_);
    adam(w, g, m, v, n, a);
}

void ParameterUpdater::begin_step(const Network& net) {
    DBN_CHECK(net.n_layers() == m_weights_.size(), ShapeError,
              "ParameterUpdater::step: network has " << net.n_layers() << " layers (expected "
                                                     << m_weights_.size() << ")");
    ++t_;
    if (kind_ == OptimizerKind::adam) {
        correction1_ = 1.0 - std::pow(beta1_, double(t_));
        correction2_ = 1.0 - std::pow(beta2_, double(t_));
    }
}

void ParameterUpdater::update_part(Network& net, const Workspace& ws, std::size_t i,
                                   std::size_t w_first, std::size_t w_last, std::size_t b_first,
                                   std::size_t b_last, double lr) {
    const bool adam = kind_ == OptimizerKind::adam;
    DenseLayer& l = net.layers[i];
    update(l.weights.data() + w_first, ws.grad_weights[i].data() + w_first,
           m_weights_[i].data() + w_first, adam ? v_weights_[i].data() + w_first : nullptr,
           w_last - w_first, lr);
    update(l.bias.data() + b_first, ws.grad_bias[i].data() + b_first, m_bias_[i].data() + b_first,
           adam ? v_bias_[i].data() + b_first : nullptr, b_last - b_first, lr);
}

void ParameterUpdater::step(Network& net, const Workspace& ws, double lr, bool head_only) {
    begin_step(net);
    const std::size_t first = head_only ? net.n_layers() - 1 : 0;
    // Every value is updated on its own: thread t takes its share of each array.
    const std::size_t threads = ws.threads();
    ws.run([&](std::size_t t) {
        for (std::size_t i = first; i < net.n_layers(); ++i) {
            const DenseLayer& l = net.layers[i];
            const auto [a, b] = split_range(l.weights.size(), threads, t);
            const auto [c, d] = split_range(l.bias.size(), threads, t);
            update_part(net, ws, i, a, b, c, d, lr);
        }
    });
}

}  // namespace dbn::finetune
