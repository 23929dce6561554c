#include "dbn/train/rbm_trainer.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>

#include "dbn/core/error.hpp"
#include "dbn/core/parallel.hpp"

namespace dbn {
namespace {

void check_trainable(const Rbm& rbm, std::size_t layer) {
    for (float s : rbm.visible_sigma()) {
        DBN_CHECK(s == 1.0f, ConfigError,
                  "layer " << layer
                           << ": Gaussian units are trained in standardized units "
                              "(divide the data by sigma first; see GreedyTrainer)");
    }
}

}  // namespace

RbmTrainer::RbmTrainer(Rbm& rbm, const LayerTrainingConfig& config, Rng& rng, std::size_t layer)
    : rbm_(rbm), rng_(rng), config_(config), layer_(layer) {
    config_.validate("layer " + std::to_string(layer));
    check_trainable(rbm_, layer_);
    build();
    set_threads(static_cast<std::size_t>(std::max(1, blas::num_threads())));
}

RbmTrainer::RbmTrainer(Rbm& rbm, Rng& rng, const TrainerState& state)
    : rbm_(rbm), rng_(rng), config_(state.config), layer_(state.layer) {
    restore(state);
    set_threads(static_cast<std::size_t>(std::max(1, blas::num_threads())));
}

void RbmTrainer::build() {
    const std::size_t nv = rbm_.n_visible();
    const std::size_t nh = rbm_.n_hidden();
    negative_ = NegativePhase::create(rbm_, config_, layer_);
    updater_ = RbmUpdater(nv, nh, config_);
    monitors_ = Monitors(layer_, config_.monitor_samples);
    const bool sparsity = config_.sparsity_target > 0.0 && config_.sparsity_cost > 0.0;
    ws_ = TrainerWorkspace(nv, nh, config_.batch_size,
                           NegativePhase::negative_rows(config_, nv, config_.batch_size), sparsity);
    position_ = EpochPosition{};
    training_started_ = false;
    history_.clear();
}

TrainerState RbmTrainer::state() const {
    TrainerState s;
    s.config = config_;
    s.layer = layer_;
    s.rbm = rbm_;
    s.rng = rng_.state();
    s.updater = updater_.state();
    s.chains = negative_->chains();
    s.position = position_;
    s.monitor_rows = monitors_.rows();
    s.training_started = training_started_;
    s.history = history_;
    s.divergence_events = events_;
    if (last_good_ && position_.minibatch > 0) s.guard_start = last_good_;
    return s;
}

void RbmTrainer::restore(const TrainerState& state) {
    state.validate();
    check_trainable(state.rbm, state.layer);
    rbm_ = state.rbm;
    rng_.set_state(state.rng);
    config_ = state.config;
    layer_ = state.layer;
    build();
    updater_.restore(state.updater);
    negative_->restore(state.chains);
    monitors_.restore(state.monitor_rows);
    position_ = state.position;
    training_started_ = state.training_started;
    history_ = state.history;
    events_ = state.divergence_events;
    last_good_ = state.guard_start;
}

void RbmTrainer::set_threads(std::size_t threads) {
    DBN_CHECK(threads >= 1, ConfigError,
              "RbmTrainer::set_threads: needs at least 1 thread (got 0)");
    threads_ = threads;
    ws_.release_team();
}

std::size_t RbmTrainer::effective_threads() const {
    if (threads_ <= 1 || !negative_->splits_across_threads()) return 1;
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
    for (std::size_t r = 0; r < data.shape(0); ++r) {
        const Real* row = data.data() + r * mean.size();
        for (std::size_t c = 0; c < mean.size(); ++c) mean[c] += row[c];
    }
    for (auto& m : mean) m /= static_cast<double>(data.shape(0));
    rbm_.visible_units().base_rate_bias(mean.data(), mean.size(), k_base_rate_clip,
                                        rbm_.visible_bias().data());
}

double RbmTrainer::current_learning_rate() const {
    return updater_.learning_rate(position_.epochs_done);
}

double RbmTrainer::current_momentum() const { return updater_.momentum(position_.epochs_done); }

std::vector<blas::GemmShape> RbmTrainer::minibatch_products(std::size_t n_visible,
                                                            std::size_t n_hidden,
                                                            const LayerTrainingConfig& config) {
    const std::size_t b = config.batch_size;
    std::vector<blas::GemmShape> out = {{"up (data)", false, false, b, n_hidden, n_visible, 1}};
    for (auto& p : NegativePhase::products(config, n_visible, n_hidden, b))
        out.push_back(std::move(p));
    const std::size_t neg = NegativePhase::negative_rows(config, n_visible, b);
    out.push_back(RbmUpdater::product(n_visible, n_hidden, b + neg));
    return out;
}

MinibatchShape RbmTrainer::minibatch(std::size_t index, std::size_t n) const {
    MinibatchShape s;
    s.index = index;
    s.first = index * config_.batch_size;
    s.rows = std::min(config_.batch_size, n - s.first);
    s.neg = NegativePhase::negative_rows(config_, rbm_.n_visible(), s.rows);
    s.ld = s.rows + s.neg;
    return s;
}

void RbmTrainer::start_epoch(std::size_t n, std::size_t n_batches) {
    std::vector<std::size_t>& order = position_.order;
    if (order.size() != n) {
        order.resize(n);
        std::iota(order.begin(), order.end(), 0);
    }
    for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng_.below(i + 1)]);
    // Substreams for every chunk of every minibatch, drawn in order from the one generator, so
    // that its state where they start is all a resumed epoch needs.
    position_.substream_origin = rng_.state();
    ws_.draw_substreams(rng_, n_batches);
}

RbmTrainer::EpochRun RbmTrainer::run_epoch(const Matrix& data, const StopRequest& stop,
                                           TrainingObserver* observer) {
    DBN_CHECK(data.shape(1) == rbm_.n_visible(), ShapeError,
              "RbmTrainer::train_epoch: layer " << layer_ << ": data has " << data.shape(1)
                                                << " columns (expected " << rbm_.n_visible()
                                                << ")");
    const std::size_t n = data.shape(0);
    DBN_CHECK(n > 0, ShapeError,
              "RbmTrainer::train_epoch: layer " << layer_ << ": no training rows");
    const auto start = std::chrono::steady_clock::now();
    const std::size_t n_batches = (n + config_.batch_size - 1) / config_.batch_size;
    if (position_.minibatch == 0) {
        start_epoch(n, n_batches);
    } else {
        DBN_CHECK(position_.order.size() == n, ShapeError,
                  "RbmTrainer::train_epoch: layer " << layer_ << ": the epoch under way is over "
                                                    << position_.order.size() << " rows; data has "
                                                    << n);
        Rng origin;
        origin.set_state(position_.substream_origin);
        ws_.draw_substreams(origin, n_batches);
    }
    const double lr = current_learning_rate();
    const auto mom = static_cast<float>(current_momentum());
    const std::size_t threads = effective_threads();
    const std::size_t first_batch = position_.minibatch;
    std::atomic<bool> stop_now{false};  // set by thread 0, read by all after a barrier

    auto body = [&](std::size_t t) {
        const auto [c0, c1] = split_range(k_chunks, threads, t);
        for (std::size_t batch = first_batch; batch < n_batches; ++batch) {
            const MinibatchShape s = minibatch(batch, n);
            ws_.positive_phase(rbm_, data, position_.order.data(), s,
                               TrainerWorkspace::chunk_start(s.rows, c0),
                               TrainerWorkspace::chunk_start(s.rows, c1));
            negative_->run(rbm_, ws_, s, t, threads);
            if (!ws_.barrier()) return;
            updater_.update(rbm_, ws_, s, t, threads, lr, mom);
            if (t == 0) negative_->minibatch_done();  // read again only after the next barrier
            if (!ws_.barrier()) return;
            if (t == 0) {
                position_.minibatch = batch + 1;
                if (observer)
                    observer->on_batch(layer_, position_.epochs_done + 1, batch + 1, n_batches);
                if (stop && stop()) stop_now.store(true, std::memory_order_relaxed);
            }
            if (!stop) continue;
            if (!ws_.barrier() || stop_now.load(std::memory_order_relaxed)) return;
        }
    };
    ws_.run(threads, body);

    EpochRun run;
    run.minibatches = position_.minibatch - first_batch;
    run.stopped = stop_now.load();
    run.complete = position_.minibatch == n_batches;
    if (run.complete) {
        position_.minibatch = 0;
        ++position_.epochs_done;
        rbm_.check_finite(
            ("layer " + std::to_string(layer_) + ", epoch " + std::to_string(position_.epochs_done))
                .c_str());
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return run;
}

std::string RbmTrainer::divergence_reason(const Matrix& data, const EpochStats* stats) const {
    auto finite = [](const auto& a) {
        for (float x : a)
            if (!std::isfinite(x)) return false;
        return true;
    };
    if (!finite(rbm_.weights()) || !finite(rbm_.visible_bias()) || !finite(rbm_.hidden_bias()))
        return "non-finite parameters";
    if (stats) {
        for (double x :
             {stats->reconstruction_error, stats->free_energy_train, stats->pseudo_log_likelihood})
            if (std::isinf(x)) return "non-finite monitor";
        if (std::isnan(stats->reconstruction_error)) return "non-finite monitor";
    }
    if (rbm_.visible_type() != UnitType::gaussian || data.shape(0) == 0) return "";
    // The spread of the mean reconstruction p(v | p(h | v)) of the first rows, against theirs:
    // two products on at most spread_rows rows, no random draws.
    const std::size_t r = std::min(guard_.spread_rows, data.shape(0));
    const ConstRows v = ConstRows(data).block(0, r);
    Matrix h = Matrix::from_shape({r, rbm_.n_hidden()});
    Matrix recon = Matrix::from_shape({r, rbm_.n_visible()});
    rbm_.hidden_probabilities(v, h);
    rbm_.visible_mean(h, recon);
    auto sd = [](const Real* x, std::size_t n) {
        double m = 0.0, q = 0.0;
        for (std::size_t i = 0; i < n; ++i) m += x[i];
        m /= static_cast<double>(n);
        for (std::size_t i = 0; i < n; ++i) q += (x[i] - m) * (x[i] - m);
        return std::sqrt(q / static_cast<double>(n));
    };
    const std::size_t n = r * rbm_.n_visible();
    const double rs = sd(recon.data(), n);
    if (!std::isfinite(rs)) return "non-finite reconstruction";
    if (rs > guard_.spread_ratio * sd(v.data, n)) return "spread";
    return "";
}

EpochStats RbmTrainer::monitor(const Matrix& data, const Matrix* heldout) {
    return monitors_.measure(rbm_, data, heldout, position_.epochs_done, rng_);
}

std::vector<EpochStats> RbmTrainer::train(const Matrix& data, const Matrix* heldout,
                                          TrainingObserver* observer, const StopRequest& stop) {
    if (heldout && heldout->shape(0) == 0) heldout = nullptr;
    if (heldout)
        DBN_CHECK(heldout->shape(1) == rbm_.n_visible(), ShapeError,
                  "RbmTrainer::train: layer " << layer_ << ": held-out data has "
                                              << heldout->shape(1) << " columns (expected "
                                              << rbm_.n_visible() << ")");
    if (!training_started_) {
        monitors_.choose_rows(data.shape(0), heldout ? heldout->shape(0) : 0, rbm_.n_visible(),
                              rng_);
        training_started_ = true;
    }
    // The divergence guard's last good state: taken at the start and after every epoch end
    // that passed its checks (only with the guard on; docs/CONFIG.md#divergence-guard). A
    // trainer restored inside an epoch keeps the one its state carried (guard_start): the end
    // of the last good epoch, as the uninterrupted run has it.
    const bool guarded = guard_.max_events > 0;
    if (!guarded)
        last_good_.reset();
    else if (!last_good_ || position_.minibatch == 0)
        last_good_ = std::make_shared<const TrainerState>(state());
    while (position_.epochs_done < config_.epochs) {
        const double lr = current_learning_rate();
        const double mom = current_momentum();
        const std::size_t epoch_started = position_.epochs_done + 1;
        EpochRun run;
        std::string reason;
        try {
            run = run_epoch(data, stop, observer);
        } catch (const NumericalError&) {
            if (!guarded) throw;
            reason = "non-finite parameters";
            run.complete = true;
            run.minibatches = (data.shape(0) + config_.batch_size - 1) / config_.batch_size;
        }
        if (!run.complete) break;  // stopped inside the epoch: monitors when it is finished
        EpochStats s;
        if (reason.empty()) {
            s = monitor(data, heldout);
            s.learning_rate = lr;
            s.momentum = mom;
            s.seconds = run.seconds;
            if (guarded) reason = divergence_reason(data, &s);
        }
        if (!reason.empty()) {
            DivergenceEvent e;
            e.layer = layer_;
            e.epoch = epoch_started;
            e.minibatch = run.minibatches;
            e.reason = reason;
            e.learning_rate_before = lr;
            TrainerState good = *last_good_;
            good.config.learning_rate *= 0.5;
            std::vector<DivergenceEvent> events = std::move(events_);
            restore(good);
            e.learning_rate_after = current_learning_rate();
            events.push_back(e);
            events_ = std::move(events);
            last_good_ = std::make_shared<const TrainerState>(state());
            if (observer) {
                std::ostringstream msg;
                msg << "layer " << layer_ << ", epoch " << e.epoch << ": diverged (" << reason
                    << "): rolled back to the end of epoch " << position_.epochs_done;
                if (events_.size() < guard_.max_events)
                    msg << ", learning rate " << e.learning_rate_before << " -> "
                        << e.learning_rate_after << " (divergence event " << events_.size()
                        << " of " << guard_.max_events << ")";
                else
                    msg << " (divergence event " << events_.size() << " of " << guard_.max_events
                        << ": the layer stops there)";
                observer->on_message(msg.str().c_str());
            }
            DBN_CHECK(events_.size() < guard_.max_events, DivergenceStop,
                      "layer " << layer_ << ", epoch " << e.epoch << ": training diverged ("
                               << reason << ") " << events_.size()
                               << " times; the layer is at its last good state; lower "
                                  "learning_rate or standardize the data");
            continue;
        }
        const std::size_t epoch = position_.epochs_done;
        for (double x : {s.reconstruction_error, s.free_energy_train, s.pseudo_log_likelihood}) {
            DBN_CHECK(!std::isinf(x), NumericalError,
                      "layer " << layer_ << ", epoch " << epoch
                               << ": a monitor is infinite; lower the learning rate");
        }
        DBN_CHECK(!std::isnan(s.reconstruction_error), NumericalError,
                  "layer " << layer_ << ", epoch " << epoch
                           << ": reconstruction error is NaN; lower the learning rate");
        history_.push_back(s);
        if (guarded) last_good_ = std::make_shared<const TrainerState>(state());
        if (observer && observer->on_epoch_end(s) == Control::stop) break;
        if (run.stopped) break;
    }
    return history_;
}

}  // namespace dbn
