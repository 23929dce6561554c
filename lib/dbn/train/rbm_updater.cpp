#include "dbn/train/rbm_updater.hpp"

#include <algorithm>
#include <cmath>

#include "dbn/core/error.hpp"
#include "dbn/core/parallel.hpp"

namespace dbn {

RbmUpdater::RbmUpdater(std::size_t n_visible, std::size_t n_hidden,
                       const LayerTrainingConfig& config)
    : config_(config) {
    state_.velocity = xt::zeros<Real>({n_visible + 1, n_hidden + 1});
    state_.sparsity_estimate = xt::zeros<Real>({n_hidden});
}

blas::GemmShape RbmUpdater::product(std::size_t n_visible, std::size_t n_hidden, std::size_t ld) {
    return {"statistics", false, false, n_visible + 1, n_hidden + 1, ld, 1};
}

double RbmUpdater::learning_rate(std::size_t epochs_done) const {
    return config_.learning_rate *
           std::pow(config_.learning_rate_decay, static_cast<double>(epochs_done));
}

double RbmUpdater::momentum(std::size_t epochs_done) const {
    return epochs_done < config_.momentum_switch_epoch ? config_.initial_momentum
                                                       : config_.final_momentum;
}

void RbmUpdater::restore(const UpdaterState& state) {
    const auto& v = state_.velocity;
    DBN_CHECK(state.velocity.shape(0) == v.shape(0) && state.velocity.shape(1) == v.shape(1) &&
                  state.sparsity_estimate.size() == state_.sparsity_estimate.size(),
              ShapeError,
              "RbmUpdater::restore: the state's velocity is "
                  << state.velocity.shape(0) << "x" << state.velocity.shape(1)
                  << " and its sparsity estimate has " << state.sparsity_estimate.size()
                  << " entries (expected " << v.shape(0) << "x" << v.shape(1) << " and "
                  << state_.sparsity_estimate.size() << ")");
    state_ = state;
}

void RbmUpdater::update(Rbm& rbm, const TrainerWorkspace& ws, const MinibatchShape& s,
                        std::size_t t, std::size_t threads, double lr, float momentum) {
    using W = TrainerWorkspace;
    const std::size_t nv = rbm.n_visible();
    const std::size_t nh = rbm.n_hidden();
    const auto [i0, i1] = split_range(nv + 1, threads, t);
    if (i0 == i1) return;
    const std::size_t m = i1 - i0;
    Matrix& vel = state_.velocity;
    blas::gemm(false, false, static_cast<float>(lr / static_cast<double>(s.rows)),
               ConstRows(ws.x.data() + i0 * s.ld, m, s.ld), ConstRows(ws.y.data(), s.ld, nh + 1),
               momentum, Rows(vel).block(i0, m));
    Real* w = rbm.weights().data();
    Real* a = rbm.visible_bias().data();
    const float l2 = static_cast<float>(lr * config_.weight_decay);
    const float l1 = static_cast<float>(lr * config_.l1);
    for (std::size_t i = i0; i < std::min(i1, nv); ++i) {
        Real* vw = vel.data() + i * (nh + 1);
        Real* wr = w + i * nh;
        if (config_.l1 > 0.0) {
            for (std::size_t j = 0; j < nh; ++j) {
                const float sign = wr[j] > 0.0f ? 1.0f : (wr[j] < 0.0f ? -1.0f : 0.0f);
                vw[j] -= l2 * wr[j] + l1 * sign;
                wr[j] += vw[j];
            }
        } else {
            for (std::size_t j = 0; j < nh; ++j) {
                vw[j] -= l2 * wr[j];
                wr[j] += vw[j];
            }
        }
        a[i] += vw[nh];
    }
    if (i1 != nv + 1) return;
    Real* vb = vel.data() + nv * (nh + 1);
    Real* b = rbm.hidden_bias().data();
    if (!ws.chunk_hsum.empty()) {
        // Running mean q of the activation; the penalty's gradient acts on the hidden bias
        // (Hinton 2010, section 11): cost * (target - q).
        Vector& q_run = state_.sparsity_estimate;
        for (std::size_t j = 0; j < nh; ++j) {
            double sum = 0.0;
            for (std::size_t c = 0; c < W::k_chunks; ++c)
                if (W::chunk_start(s.rows, c) < W::chunk_start(s.rows, c + 1))
                    sum += ws.chunk_hsum[c * nh + j];
            const double q_batch = sum / static_cast<double>(s.rows);
            const double q = state_.sparsity_started ? config_.sparsity_decay * q_run(j) +
                                                           (1.0 - config_.sparsity_decay) * q_batch
                                                     : q_batch;
            q_run(j) = static_cast<Real>(q);
            vb[j] += static_cast<Real>(lr * config_.sparsity_cost * (config_.sparsity_target - q));
        }
    }
    for (std::size_t j = 0; j < nh; ++j) b[j] += vb[j];
    state_.sparsity_started = true;
}

}  // namespace dbn
