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
#include "dbn/core/vector_math.hpp"

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
    vel_ = xt::zeros<Real>({nv + 1, nh + 1});
    sparsity_q_ = xt::zeros<Real>({nh});
    v0_ = Matrix::from_shape({b, nv});
    act0_ = Matrix::from_shape({b, nh});
    h_ = Matrix::from_shape({config_.algorithm == Algorithm::cd ? b : std::size_t{0}, nh});
    vk_ = Matrix::from_shape({chains, nv});
    actk_ = Matrix::from_shape({chains, nh});
    x_.assign((nv + 1) * (b + chains), 0.0f);
    y_.assign((b + chains) * (nh + 1), 0.0f);
    if (config_.sparsity_target > 0.0 && config_.sparsity_cost > 0.0)
        chunk_hsum_.assign(k_chunks * nh, 0.0);
    if (config_.algorithm == Algorithm::exact) {
        // Every visible state once.
        for (std::size_t r = 0; r < chains; ++r)
            for (std::size_t i = 0; i < nv; ++i) vk_(r, i) = static_cast<Real>((r >> i) & 1U);
        neg_weight_.resize(chains);
    }
    set_threads(static_cast<std::size_t>(std::max(1, blas::num_threads())));
}

void RbmTrainer::set_threads(std::size_t threads) {
    DBN_CHECK(threads >= 1, ConfigError, "RbmTrainer::set_threads: needs at least 1 thread (got 0)");
    threads_ = threads;
    pool_.reset();
}

std::size_t RbmTrainer::effective_threads() const {
    if (threads_ <= 1 || config_.algorithm == Algorithm::exact) return 1;
    // Below ~16 rows per product, or ~1 M multiply-adds per product, the barriers and the
    // packing of W that every thread repeats cost more than the split saves.
    const std::size_t b = config_.batch_size;
    const std::size_t work = b * rbm_.n_visible() * rbm_.n_hidden();
    if (b < 16 || work < (std::size_t{1} << 20)) return 1;
    return std::min({threads_, k_chunks, b / 8});
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

namespace {

// First row of chunk c when n rows are cut into k_chunks pieces.
std::size_t chunk_start(std::size_t n, std::size_t c) { return n * c / RbmTrainer::k_chunks; }

// X[i][col + r] = factor * m[r][i] for every row r of m, and X[nv][col + r] = factor: the rows
// of m become columns of X (the A^T of the statistics product), with the row of ones.
void to_columns(ConstRows m, float factor, float* x, std::size_t ld, std::size_t col) {
    const std::size_t nv = m.cols;
    for (std::size_t i = 0; i < nv; ++i) {
        float* out = x + i * ld + col;
        const Real* in = m.data + i;
        for (std::size_t r = 0; r < m.rows; ++r) out[r] = factor * in[r * nv];
    }
    float* ones = x + nv * ld + col;
    for (std::size_t r = 0; r < m.rows; ++r) ones[r] = factor;
}

}  // namespace

// Y rows [y_first, y_first + v.rows) = hidden means of v, plus the column of ones. `act` is left
// holding what sampling needs: the means (Bernoulli units) or the activations (rectified units).
void RbmTrainer::up_into_y(ConstRows v, std::size_t y_first, Rows act) {
    const std::size_t nh = rbm_.n_hidden();
    float* y = y_.data() + y_first * (nh + 1);
    rbm_.hidden_activation(v, act);  // biases, then one product with beta = 1
    if (rbm_.hidden_type() == UnitType::bernoulli) {
        vec::sigmoid(act.data, act.data, act.rows * nh);
        for (std::size_t r = 0; r < v.rows; ++r) {
            float* yr = y + r * (nh + 1);
            std::memcpy(yr, act.row(r), nh * sizeof(Real));
            yr[nh] = 1.0f;
        }
    } else {
        for (std::size_t r = 0; r < v.rows; ++r) {
            const Real* a = act.row(r);
            float* yr = y + r * (nh + 1);
            for (std::size_t j = 0; j < nh; ++j) yr[j] = a[j] > 0.0f ? a[j] : 0.0f;
            yr[nh] = 1.0f;
        }
    }
}

// Hidden states drawn from what up_into_y left in `act`.
void RbmTrainer::sample_hidden_rows(ConstRows act, Rows out, Rng& rng) {
    if (rbm_.hidden_type() == UnitType::bernoulli) {
        rng.bernoulli(act.data, out.data, act.rows * act.cols);
    } else {
        rbm_.sample_hidden(act, act, out, rng);
    }
}

// Positive phase of batch rows [r0, r1): v0 from the data in the epoch's order, its columns in
// X, p(h | v0) in Y.
void RbmTrainer::gather_and_up(const Matrix& data, const BatchShape& s, std::size_t r0,
                               std::size_t r1) {
    if (r0 == r1) return;
    const std::size_t n = r1 - r0;
    Rows v0 = Rows(v0_).block(r0, n);
    gather_rows(data, order_.data() + s.first + r0, n, v0);
    to_columns(v0, 1.0f, x_.data(), s.ld, r0);
    up_into_y(v0, r0, Rows(act0_).block(r0, n));
    if (!chunk_hsum_.empty()) {
        const std::size_t nh = rbm_.n_hidden();
        for (std::size_t c = 0; c < k_chunks; ++c) {
            const std::size_t a = std::max(chunk_start(s.rows, c), r0);
            const std::size_t b = std::min(chunk_start(s.rows, c + 1), r1);
            double* sum = chunk_hsum_.data() + c * nh;
            if (a >= b) continue;
            std::fill(sum, sum + nh, 0.0);
            for (std::size_t r = a; r < b; ++r) {
                const float* yr = y_.data() + r * (nh + 1);
                for (std::size_t j = 0; j < nh; ++j) sum[j] += yr[j];
            }
        }
    }
}

// The negative rows of chunks [c0, c1) of this thread: k Gibbs steps from h0 (CD) or from the
// persistent chains (PCD). Hidden states that drive the chain are sampled; the CD chain's visible
// reconstruction is its mean (Hinton 2010, section 3); a persistent chain samples it, so that it
// remains a Markov chain of the model. The chains' next hidden states are drawn with the weights
// they were computed with (as scikit-learn does): PCD then costs the same five products as CD.
void RbmTrainer::negative_phase(const BatchShape& s, std::size_t t, std::size_t threads,
                                bool sync_first, const std::function<bool()>& barrier) {
    const bool pcd = config_.algorithm == Algorithm::pcd;
    const std::size_t nh = rbm_.n_hidden();
    const auto [c0, c1] = split_range(k_chunks, threads, t);
    const std::size_t q0 = chunk_start(s.neg, c0);
    const std::size_t q1 = chunk_start(s.neg, c1);
    Matrix& hidden = pcd ? chains_ : h_;
    const std::size_t y0 = s.rows;  // Y's negative rows start after the data rows

    if (pcd && sync_first) {
        // Chains start from the hidden states of the first minibatch's rows (cycled), which
        // other threads computed: wait for them.
        if (!barrier()) return;
        for (std::size_t c = c0; c < c1; ++c) {
            for (std::size_t q = chunk_start(s.neg, c); q < chunk_start(s.neg, c + 1); ++q) {
                const float* p0 = y_.data() + (q % s.rows) * (nh + 1);
                Real* out = chains_.data() + q * nh;
                if (rbm_.hidden_type() == UnitType::bernoulli)
                    stream(s, c).bernoulli(p0, out, nh);
                else
                    std::memcpy(out, p0, nh * sizeof(Real));
            }
        }
    } else if (!pcd) {
        for (std::size_t c = c0; c < c1; ++c) {
            const std::size_t a = chunk_start(s.rows, c), n = chunk_start(s.rows, c + 1) - a;
            sample_hidden_rows(ConstRows(act0_).block(a, n), Rows(h_).block(a, n), stream(s, c));
        }
    }
    if (q0 == q1) return;
    const std::size_t nq = q1 - q0;
    Rows h = Rows(hidden).block(q0, nq);
    Rows vk = Rows(vk_).block(q0, nq);
    Rows actk = Rows(actk_).block(q0, nq);
    for (std::size_t step = 1; step <= config_.k; ++step) {
        rbm_.visible_mean(h, vk);
        if (pcd || step < config_.k) {
            for (std::size_t c = c0; c < c1; ++c) {
                const std::size_t a = chunk_start(s.neg, c), n = chunk_start(s.neg, c + 1) - a;
                Rows m = Rows(vk_).block(a, n);
                rbm_.sample_visible(m, m, stream(s, c));
            }
        }
        up_into_y(vk, y0 + q0, actk);
        if (step < config_.k || pcd) {
            for (std::size_t c = c0; c < c1; ++c) {
                const std::size_t a = chunk_start(s.neg, c), n = chunk_start(s.neg, c + 1) - a;
                sample_hidden_rows(ConstRows(actk_).block(a, n), Rows(hidden).block(a, n), stream(s, c));
            }
        }
    }
    // CD's mean reconstruction (or PCD's sampled states) become X's negative columns, scaled so
    // that lr / rows X Y subtracts lr / neg times their statistics.
    const float factor = -static_cast<float>(static_cast<double>(s.rows) / static_cast<double>(s.neg));
    to_columns(vk, factor, x_.data(), s.ld, s.rows + q0);
}

// The exact negative phase: every visible state v with weight p(v), -F(v) = a.v + sum_j
// softplus(act_j), normalized in double; X's columns hold -rows p(v) v, so that the product gives
// lr sum_v p(v) v^T p(h|v).
void RbmTrainer::exact_negative_phase(const BatchShape& s) {
    const std::size_t nv = rbm_.n_visible();
    const std::size_t nh = rbm_.n_hidden();
    const std::size_t chains = s.neg;
    Rows vk = Rows(vk_).block(0, chains);
    Rows actk = Rows(actk_).block(0, chains);
    rbm_.hidden_activation(vk, actk);
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
        float* yr = y_.data() + (s.rows + r) * (nh + 1);
        rbm_.hidden_mean(ConstRows(x, 1, nh), Rows(yr, 1, nh));
        yr[nh] = 1.0f;
    }
    double total = 0.0;
    for (auto& w : neg_weight_) total += (w = std::exp(w - max_lw));
    for (auto& w : neg_weight_) w /= total;
    for (std::size_t r = 0; r < chains; ++r) {
        const auto f = static_cast<float>(-static_cast<double>(s.rows) * neg_weight_[r]);
        to_columns(ConstRows(vk).block(r, 1), f, x_.data(), s.ld, s.rows + r);
    }
}

// Rows [i0, i1) of the velocity (thread t's share): vel = mom vel + lr/rows X Y, then the weights,
// biases, and (in the bias row's owner) the sparsity penalty.
void RbmTrainer::update(const BatchShape& s, std::size_t t, std::size_t threads, double lr,
                        float mom) {
    const std::size_t nv = rbm_.n_visible();
    const std::size_t nh = rbm_.n_hidden();
    const auto [i0, i1] = split_range(nv + 1, threads, t);
    if (t == 0) chains_started_ = true;  // read again only after the next barrier
    if (i0 == i1) return;
    const std::size_t m = i1 - i0;
    blas::gemm(false, false, static_cast<float>(lr / static_cast<double>(s.rows)),
               ConstRows(x_.data() + i0 * s.ld, m, s.ld), ConstRows(y_.data(), s.ld, nh + 1), mom,
               Rows(vel_).block(i0, m));
    Real* w = rbm_.weights().data();
    Real* a = rbm_.visible_bias().data();
    const float l2 = static_cast<float>(lr * config_.weight_decay);
    const float l1 = static_cast<float>(lr * config_.l1);
    for (std::size_t i = i0; i < std::min(i1, nv); ++i) {
        Real* vw = vel_.data() + i * (nh + 1);
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
    Real* vb = vel_.data() + nv * (nh + 1);
    Real* b = rbm_.hidden_bias().data();
    if (!chunk_hsum_.empty()) {
        // Running mean q of the activation; the penalty's gradient acts on the hidden bias
        // (Hinton 2010, section 11): cost * (target - q).
        for (std::size_t j = 0; j < nh; ++j) {
            double sum = 0.0;
            for (std::size_t c = 0; c < k_chunks; ++c)
                if (chunk_start(s.rows, c) < chunk_start(s.rows, c + 1)) sum += chunk_hsum_[c * nh + j];
            const double q_batch = sum / static_cast<double>(s.rows);
            const double q = sparsity_started_ ? config_.sparsity_decay * sparsity_q_(j) +
                                                     (1.0 - config_.sparsity_decay) * q_batch
                                               : q_batch;
            sparsity_q_(j) = static_cast<Real>(q);
            vb[j] += static_cast<Real>(lr * config_.sparsity_cost * (config_.sparsity_target - q));
        }
    }
    for (std::size_t j = 0; j < nh; ++j) b[j] += vb[j];
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
    // Substreams for every chunk of every minibatch, drawn in order from the one generator, so
    // that the generator's state between epochs is all a checkpoint needs.
    streams_.resize(n_batches * k_chunks);
    for (auto& st : streams_) {
        st = rng_;
        rng_.jump();
    }
    const double lr = current_learning_rate();
    const auto mom = static_cast<float>(current_momentum());
    const std::size_t threads = effective_threads();
    if (threads > 1 && (!pool_ || pool_->size() != threads)) pool_ = std::make_unique<ThreadPool>(threads);
    // Our threads run single-threaded products: BLAS threads would only compete with them.
    blas::ScopedThreads blas_threads(threads > 1 ? 1 : 0);
    const bool exact = config_.algorithm == Algorithm::exact;
    const std::size_t chains = vk_.shape(0);
    const std::function<bool()> barrier = [this, threads] {
        return threads > 1 ? pool_->barrier() : true;
    };

    auto body = [&](std::size_t t) {
        for (std::size_t batch = 0; batch < n_batches; ++batch) {
            BatchShape s;
            s.index = batch;
            s.first = batch * b;
            s.rows = std::min(b, n - s.first);
            s.neg = config_.algorithm == Algorithm::cd ? s.rows : chains;
            s.ld = s.rows + s.neg;
            const auto [c0, c1] = split_range(k_chunks, threads, t);
            gather_and_up(data, s, chunk_start(s.rows, c0), chunk_start(s.rows, c1));
            if (exact) {
                exact_negative_phase(s);
            } else {
                negative_phase(s, t, threads, config_.algorithm == Algorithm::pcd && !chains_started_,
                               barrier);
            }
            if (!barrier()) return;
            update(s, t, threads, lr, mom);
            if (!barrier()) return;
            if (t == 0 && observer) observer->on_batch(layer_, epoch_ + 1, batch + 1, n_batches);
        }
    };
    if (threads > 1) {
        pool_->run(body);
    } else {
        body(0);
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
