#include "dbn/train/rbm_trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"

namespace dbn {
namespace {

void gather_rows(const Matrix& src, const std::size_t* idx, std::size_t n, Rows dst) {
    const std::size_t cols = src.shape(1);
    for (std::size_t r = 0; r < n; ++r)
        std::memcpy(dst.row(r), src.data() + idx[r] * cols, cols * sizeof(Real));
}

Matrix gather(const Matrix& src, const std::vector<std::size_t>& idx) {
    Matrix out = Matrix::from_shape({idx.size(), src.shape(1)});
    gather_rows(src, idx.data(), idx.size(), out);
    return out;
}

// Adds the column sums of `m` to `acc`.
void add_column_sums(ConstRows m, std::vector<double>& acc) {
    for (std::size_t r = 0; r < m.rows; ++r) {
        const Real* row = m.row(r);
        for (std::size_t c = 0; c < m.cols; ++c) acc[c] += row[c];
    }
}

// The first n entries of a fresh random permutation of [0, total): partial Fisher-Yates.
std::vector<std::size_t> random_subset(std::size_t total, std::size_t n, Rng& rng) {
    std::vector<std::size_t> idx(total);
    std::iota(idx.begin(), idx.end(), 0);
    n = std::min(n, total);
    for (std::size_t i = 0; i < n; ++i) std::swap(idx[i], idx[i + rng.below(total - i)]);
    idx.resize(n);
    return idx;
}

double mean_of(const DVector& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return v.size() ? s / static_cast<double>(v.size()) : EpochStats::nan;
}

}  // namespace

RbmTrainer::RbmTrainer(Rbm& rbm, const LayerTrainingConfig& config, Rng& rng, std::size_t layer)
    : rbm_(rbm), config_(config), rng_(rng), layer_(layer) {
    config_.validate("layer " + std::to_string(layer));
    for (float s : rbm_.visible_sigma()) {
        DBN_CHECK(s == 1.0f, ConfigError,
                  "RbmTrainer: layer " << layer
                                       << ": Gaussian units are trained in standardized units "
                                          "(divide the data by sigma first; see GreedyTrainer)");
    }
    const std::size_t nv = rbm.n_visible();
    const std::size_t nh = rbm.n_hidden();
    const std::size_t b = config_.batch_size;
    std::size_t chains = b;
    if (config_.algorithm == Algorithm::pcd) {
        chains = config_.persistent_chains ? config_.persistent_chains : b;
        chains_ = Matrix::from_shape({chains, nh});
    } else if (config_.algorithm == Algorithm::exact) {
        DBN_CHECK(rbm.visible_type() == UnitType::bernoulli && rbm.hidden_type() == UnitType::bernoulli &&
                      nv <= k_max_exact_visible,
                  ConfigError,
                  "RbmTrainer: layer " << layer << ": the exact negative phase needs Bernoulli units "
                                       << "and at most " << k_max_exact_visible
                                       << " visible units (got " << nv << " "
                                       << to_string(rbm.visible_type()) << " -> "
                                       << to_string(rbm.hidden_type()) << ")");
        chains = std::size_t{1} << nv;
    }
    vel_w_ = xt::zeros<Real>({nv, nh});
    vel_a_ = xt::zeros<Real>({nv});
    vel_b_ = xt::zeros<Real>({nh});
    sparsity_q_ = xt::zeros<Real>({nh});
    v0_ = Matrix::from_shape({b, nv});
    act0_ = Matrix::from_shape({b, nh});
    p0_ = Matrix::from_shape({b, nh});
    h_ = Matrix::from_shape({chains, nh});
    vk_ = Matrix::from_shape({chains, nv});
    actk_ = Matrix::from_shape({chains, nh});
    pk_ = Matrix::from_shape({chains, nh});
    if (config_.algorithm == Algorithm::exact) {
        // Every visible state once; h_ holds the weighted copy of the states.
        for (std::size_t r = 0; r < chains; ++r)
            for (std::size_t i = 0; i < nv; ++i) vk_(r, i) = static_cast<Real>((r >> i) & 1U);
        neg_weight_.resize(chains);
        h_ = Matrix::from_shape({chains, nv});
    }
    mean_a_.reserve(nv);
    mean_b_.reserve(nh);
    mean_neg_.reserve(std::max(nv, nh));
}

void RbmTrainer::init_visible_bias(const Matrix& data) {
    DBN_CHECK(data.shape(1) == rbm_.n_visible(), ShapeError,
              "RbmTrainer::init_visible_bias: data has " << data.shape(1) << " columns (expected "
                                                         << rbm_.n_visible() << ")");
    if (data.shape(0) == 0) return;
    std::vector<double> mean(rbm_.n_visible(), 0.0);
    add_column_sums(data, mean);
    for (auto& m : mean) m /= static_cast<double>(data.shape(0));
    for (std::size_t i = 0; i < mean.size(); ++i) {
        if (rbm_.visible_type() == UnitType::bernoulli) {
            const double p = std::clamp(mean[i], 0.001, 0.999);
            rbm_.visible_bias()(i) = static_cast<Real>(std::log(p / (1.0 - p)));
        } else {
            rbm_.visible_bias()(i) = static_cast<Real>(mean[i]);
        }
    }
}

double RbmTrainer::current_learning_rate() const {
    return config_.learning_rate * std::pow(config_.learning_rate_decay, static_cast<double>(epoch_));
}

double RbmTrainer::current_momentum() const {
    return epoch_ < config_.momentum_switch_epoch ? config_.initial_momentum : config_.final_momentum;
}

void RbmTrainer::negative_phase(ConstRows p0, Rows act0) {
    const std::size_t b = p0.rows;
    const std::size_t nh = rbm_.n_hidden();
    const std::size_t chains = vk_.shape(0);
    Rows vk = Rows(vk_).block(0, chains);
    Rows actk = Rows(actk_).block(0, chains);
    Rows pk = Rows(pk_).block(0, chains);

    if (config_.algorithm == Algorithm::exact) {
        // p(v) over every visible state: -F(v) = a.v + sum_j softplus(act_j), normalized in double.
        rbm_.hidden_activation(vk, actk);
        rbm_.hidden_mean(actk, pk);
        const std::size_t nv = rbm_.n_visible();
        const Real* a = rbm_.visible_bias().data();
        double max_lw = -std::numeric_limits<double>::infinity();
        for (std::size_t r = 0; r < chains; ++r) {
            double lw = 0.0;
            const Real* v = vk.row(r);
            for (std::size_t i = 0; i < nv; ++i) lw += double(a[i]) * v[i];
            const Real* x = actk.row(r);
            for (std::size_t j = 0; j < nh; ++j) lw += softplus(x[j]);
            neg_weight_[r] = lw;
            max_lw = std::max(max_lw, lw);
        }
        double total = 0.0;
        for (auto& w : neg_weight_) total += (w = std::exp(w - max_lw));
        for (auto& w : neg_weight_) w /= total;
        // h_ holds the states scaled by p(v), so that one product gives sum_v p(v) v^T p(h|v).
        for (std::size_t r = 0; r < chains; ++r) {
            const auto w = static_cast<Real>(neg_weight_[r]);
            const Real* v = vk.row(r);
            Real* out = h_.data() + r * nv;
            for (std::size_t i = 0; i < nv; ++i) out[i] = w * v[i];
        }
        return;
    }

    // Hidden states that drive the chain are sampled; the CD chain's visible reconstruction is
    // its mean (Hinton 2010, section 3); a persistent chain samples it, so that it remains a
    // Markov chain of the model.
    const bool pcd = config_.algorithm == Algorithm::pcd;
    Rows h = Rows(h_).block(0, pcd ? chains : b);
    if (pcd) {
        if (!chains_started_) {
            // Chains start from the hidden states of the first minibatch's rows (cycled).
            Rows start = Rows(chains_);
            for (std::size_t r = 0; r < chains; ++r) {
                if (rbm_.hidden_type() == UnitType::bernoulli)
                    rng_.bernoulli(p0.row(r % b), start.row(r), nh);
                else
                    std::memcpy(start.row(r), p0.row(r % b), nh * sizeof(Real));
            }
            chains_started_ = true;
        }
        std::memcpy(h.data, chains_.data(), chains * nh * sizeof(Real));
    } else {
        rbm_.sample_hidden(act0, p0, h, rng_);
        vk = vk.block(0, b);
        actk = actk.block(0, b);
        pk = pk.block(0, b);
    }
    for (std::size_t step = 1; step <= config_.k; ++step) {
        rbm_.visible_mean(h, vk);
        if (pcd || step < config_.k) rbm_.sample_visible(vk, vk, rng_);
        rbm_.hidden_activation(vk, actk);
        rbm_.hidden_mean(actk, pk);
        if (step < config_.k) rbm_.sample_hidden(actk, pk, h, rng_);
    }
    // The chains' next hidden states, drawn with the weights they were computed with (as
    // scikit-learn does): PCD then costs the same five products as CD.
    if (pcd) rbm_.sample_hidden(actk, pk, Rows(chains_), rng_);
}

void RbmTrainer::minibatch(ConstRows v0) {
    const std::size_t b = v0.rows;
    const std::size_t nv = rbm_.n_visible();
    const std::size_t nh = rbm_.n_hidden();
    Rows act0 = Rows(act0_).block(0, b);
    Rows p0 = Rows(p0_).block(0, b);

    // Positive phase, then the negative statistics' rows (vk, pk) and their weights.
    rbm_.hidden_activation(v0, act0);
    rbm_.hidden_mean(act0, p0);
    negative_phase(p0, act0);
    const bool exact = config_.algorithm == Algorithm::exact;
    const std::size_t neg_rows = config_.algorithm == Algorithm::cd ? b : vk_.shape(0);
    const ConstRows vk = ConstRows(vk_).block(0, neg_rows);
    const ConstRows pk = ConstRows(pk_).block(0, neg_rows);
    // Exact: rows of h_ are p(v) v, and the weights sum to one.
    const ConstRows vneg = exact ? ConstRows(h_.data(), neg_rows, nv) : vk;
    const double neg_scale = exact ? 1.0 : 1.0 / static_cast<double>(neg_rows);

    // Weights: the statistics go straight into the velocity (beta = momentum).
    const double lr = current_learning_rate();
    const float mom = static_cast<float>(current_momentum());
    blas::gemm(true, false, static_cast<float>(lr / b), v0, p0, mom, vel_w_);
    blas::gemm(true, false, static_cast<float>(-lr * neg_scale), vneg, pk, 1.0f, vel_w_);
    Real* w = rbm_.weights().data();
    Real* vw = vel_w_.data();
    const std::size_t nw = nv * nh;
    const float l2 = static_cast<float>(lr * config_.weight_decay);
    if (config_.l1 > 0.0) {
        const float l1 = static_cast<float>(lr * config_.l1);
        for (std::size_t i = 0; i < nw; ++i) {
            const float sign = w[i] > 0.0f ? 1.0f : (w[i] < 0.0f ? -1.0f : 0.0f);
            vw[i] -= l2 * w[i] + l1 * sign;
            w[i] += vw[i];
        }
    } else {
        for (std::size_t i = 0; i < nw; ++i) {
            vw[i] -= l2 * w[i];
            w[i] += vw[i];
        }
    }

    // Biases: column means of the data's and the chains' statistics (buffers sized once).
    auto& pos = mean_a_;
    auto& neg = mean_neg_;
    pos.assign(nv, 0.0);
    neg.assign(nv, 0.0);
    add_column_sums(v0, pos);
    add_column_sums(vneg, neg);
    for (std::size_t i = 0; i < nv; ++i) {
        const double g = pos[i] / static_cast<double>(b) - neg[i] * neg_scale;
        vel_a_(i) = mom * vel_a_(i) + static_cast<Real>(lr * g);
        rbm_.visible_bias()(i) += vel_a_(i);
    }
    auto& hpos = mean_b_;
    hpos.assign(nh, 0.0);
    neg.assign(nh, 0.0);
    add_column_sums(p0, hpos);
    if (exact) {
        for (std::size_t r = 0; r < neg_rows; ++r) {
            const double wr = neg_weight_[r];
            const Real* row = pk.row(r);
            for (std::size_t j = 0; j < nh; ++j) neg[j] += wr * row[j];
        }
    } else {
        add_column_sums(pk, neg);
    }
    const bool sparse = config_.sparsity_target > 0.0 && config_.sparsity_cost > 0.0;
    for (std::size_t j = 0; j < nh; ++j) {
        const double q_batch = hpos[j] / static_cast<double>(b);
        double g = q_batch - neg[j] * neg_scale;
        if (sparse) {
            // Running mean q of the activation; the penalty's gradient acts on the hidden bias
            // (Hinton 2010, section 11): cost * (target - q).
            const double q = sparsity_started_ ? config_.sparsity_decay * sparsity_q_(j) +
                                                     (1.0 - config_.sparsity_decay) * q_batch
                                               : q_batch;
            sparsity_q_(j) = static_cast<Real>(q);
            g += config_.sparsity_cost * (config_.sparsity_target - q);
        }
        vel_b_(j) = mom * vel_b_(j) + static_cast<Real>(lr * g);
        rbm_.hidden_bias()(j) += vel_b_(j);
    }
    sparsity_started_ = true;
}

double RbmTrainer::train_epoch(const Matrix& data, TrainingObserver* observer) {
    DBN_CHECK(data.shape(1) == rbm_.n_visible(), ShapeError,
              "RbmTrainer::train_epoch: layer " << layer_ << ": data has " << data.shape(1)
                                                << " columns (expected " << rbm_.n_visible() << ")");
    const std::size_t n = data.shape(0);
    DBN_CHECK(n > 0, ShapeError, "RbmTrainer::train_epoch: layer " << layer_ << ": no training rows");
    const auto start = std::chrono::steady_clock::now();
    if (order_.size() != n) {
        order_.resize(n);
        std::iota(order_.begin(), order_.end(), 0);
    }
    for (std::size_t i = n - 1; i > 0; --i) std::swap(order_[i], order_[rng_.below(i + 1)]);

    const std::size_t b = config_.batch_size;
    const std::size_t n_batches = (n + b - 1) / b;
    for (std::size_t batch = 0; batch < n_batches; ++batch) {
        const std::size_t first = batch * b;
        const std::size_t rows = std::min(b, n - first);
        Rows v0 = Rows(v0_).block(0, rows);
        gather_rows(data, order_.data() + first, rows, v0);
        minibatch(v0);
        if (observer) observer->on_batch(layer_, epoch_ + 1, batch + 1, n_batches);
    }
    ++epoch_;
    rbm_.check_finite(("layer " + std::to_string(layer_) + ", epoch " + std::to_string(epoch_)).c_str());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void RbmTrainer::choose_monitor_rows(std::size_t n_data, std::size_t n_heldout) {
    std::size_t m = std::min(config_.monitor_samples, n_data);
    if (n_heldout > 0) m = std::min(m, n_heldout);
    monitor_train_ = random_subset(n_data, m, rng_);
    monitor_heldout_ = n_heldout > 0 ? random_subset(n_heldout, m, rng_) : std::vector<std::size_t>{};
    flip_bits_.resize(m);
    for (auto& f : flip_bits_) f = rng_.below(rbm_.n_visible());
}

EpochStats RbmTrainer::monitor(const Matrix& data, const Matrix* heldout) {
    const std::size_t n_held = heldout ? heldout->shape(0) : 0;
    if (monitor_train_.empty() || monitor_train_.back() >= data.shape(0))
        choose_monitor_rows(data.shape(0), n_held);
    EpochStats s;
    s.layer = layer_;
    s.epoch = epoch_;
    const Matrix v = gather(data, monitor_train_);
    const std::size_t m = v.shape(0);
    const std::size_t nv = rbm_.n_visible();
    const std::size_t nh = rbm_.n_hidden();

    // Reconstruction: v -> h sampled -> mean of v given h. A fixed generator seeded from the
    // layer keeps this monitor from consuming the training stream's draws.
    Rng mrng(0x5eedULL + layer_);
    Matrix act = Matrix::from_shape({m, nh});
    Matrix p = Matrix::from_shape({m, nh});
    Matrix h = Matrix::from_shape({m, nh});
    Matrix recon = Matrix::from_shape({m, nv});
    rbm_.hidden_activation(v, act);
    rbm_.hidden_mean(act, p);
    rbm_.sample_hidden(act, p, h, mrng);
    rbm_.visible_mean(h, recon);
    double err = 0.0;
    for (std::size_t i = 0; i < m * nv; ++i) {
        const double d = double(v.data()[i]) - recon.data()[i];
        err += d * d;
    }
    s.reconstruction_error = err / static_cast<double>(m * nv);

    if (rbm_.hidden_type() == UnitType::bernoulli) {
        const DVector f = rbm_.free_energy(v);
        s.free_energy_train = mean_of(f);
        if (n_held > 0 && !monitor_heldout_.empty()) {
            s.free_energy_valid = mean_of(rbm_.free_energy(gather(*heldout, monitor_heldout_)));
            s.free_energy_gap = s.free_energy_valid - s.free_energy_train;
        }
        if (rbm_.visible_type() == UnitType::bernoulli) {
            // Stochastic pseudo-log-likelihood: n_v log sigmoid(F(v~) - F(v)), v~ = v with one
            // (fixed, randomly chosen) bit flipped.
            Matrix flipped = v;
            for (std::size_t r = 0; r < m; ++r) {
                Real& bit = flipped(r, flip_bits_[r]);
                bit = bit > 0.5f ? 0.0f : 1.0f;
            }
            const DVector ff = rbm_.free_energy(flipped);
            double pll = 0.0;
            for (std::size_t r = 0; r < m; ++r) pll += -softplus(-(ff(r) - f(r)));
            s.pseudo_log_likelihood = static_cast<double>(nv) * pll / static_cast<double>(m);
        }
    }
    return s;
}

std::vector<EpochStats> RbmTrainer::train(const Matrix& data, const Matrix* heldout,
                                          TrainingObserver* observer) {
    if (heldout && heldout->shape(0) == 0) heldout = nullptr;
    if (heldout)
        DBN_CHECK(heldout->shape(1) == rbm_.n_visible(), ShapeError,
                  "RbmTrainer::train: layer " << layer_ << ": held-out data has "
                                              << heldout->shape(1) << " columns (expected "
                                              << rbm_.n_visible() << ")");
    choose_monitor_rows(data.shape(0), heldout ? heldout->shape(0) : 0);
    std::vector<EpochStats> history;
    while (epoch_ < config_.epochs) {
        const double lr = current_learning_rate();
        const double mom = current_momentum();
        const double seconds = train_epoch(data, observer);
        EpochStats s = monitor(data, heldout);
        s.learning_rate = lr;
        s.momentum = mom;
        s.seconds = seconds;
        for (double x : {s.reconstruction_error, s.free_energy_train, s.pseudo_log_likelihood}) {
            DBN_CHECK(!std::isinf(x), NumericalError,
                      "layer " << layer_ << ", epoch " << epoch_
                               << ": a monitor is infinite; lower the learning rate");
        }
        DBN_CHECK(!std::isnan(s.reconstruction_error), NumericalError,
                  "layer " << layer_ << ", epoch " << epoch_
                           << ": reconstruction error is NaN; lower the learning rate");
        history.push_back(s);
        if (observer && observer->on_epoch_end(s) == Control::stop) break;
    }
    return history;
}

}  // namespace dbn
