#include "dbn/pretrain/greedy_trainer.hpp"

#include <cstdio>
#include <optional>
#include <string>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <sstream>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/train/rbm_trainer.hpp"

namespace dbn {
namespace {

// Splits `x` into the rows listed in `keep` and the others, in a seeded random order.
void split_heldout(Matrix& x, Matrix& heldout, double fraction, Rng& rng) {
    const std::size_t n = x.shape(0);
    const auto n_out = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(n)));
    if (n_out == 0 || n_out >= n) return;
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
    std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n - n_out));
    std::sort(order.begin() + static_cast<std::ptrdiff_t>(n - n_out), order.end());
    const std::size_t cols = x.shape(1);
    Matrix keep = Matrix::from_shape({n - n_out, cols});
    heldout = Matrix::from_shape({n_out, cols});
    for (std::size_t r = 0; r < n - n_out; ++r)
        std::memcpy(keep.data() + r * cols, x.data() + order[r] * cols, cols * sizeof(Real));
    for (std::size_t r = 0; r < n_out; ++r)
        std::memcpy(heldout.data() + r * cols, x.data() + order[n - n_out + r] * cols,
                    cols * sizeof(Real));
    x = std::move(keep);
}

// Hands the memory pages lying wholly inside [begin, end) back to the system, keeping the
// allocation itself: the values there are lost (pages touched again read as zeros). For rows of a
// matrix that have been read for the last time, so that the matrix stops counting in the resident
// memory before it is freed. Elsewhere than Linux it does nothing: the memory then goes back when
// the matrix is freed.
void release_pages(Real* begin, Real* end) {
#if defined(__linux__)
    static const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const std::uintptr_t first = (reinterpret_cast<std::uintptr_t>(begin) + page - 1) & ~(page - 1);
    const std::uintptr_t last = reinterpret_cast<std::uintptr_t>(end) & ~(page - 1);
    // Advice, not a requirement: should it fail, the pages simply stay until the free.
    if (last > first) (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
#else
    (void)begin;
    (void)end;
#endif
}

}  // namespace

namespace detail {

Matrix propagate_consuming(const Rbm& rbm, Matrix& x, bool sample, Rng& rng) {
    const std::size_t n = x.shape(0), n_in = x.shape(1);
    // Not initialised by from_shape: its pages become resident only as the blocks are written.
    Matrix out = Matrix::from_shape({n, rbm.n_hidden()});
    constexpr std::size_t block = 4096;
    Matrix act = Matrix::from_shape({std::min(block, n), rbm.n_hidden()});
    for (std::size_t first = 0; first < n; first += block) {
        const std::size_t rows = std::min(block, n - first);
        Rows a = Rows(act).block(0, rows);
        Rows o = Rows(out).block(first, rows);
        rbm.hidden_activation(ConstRows(x).block(first, rows), a);
        // Rows 0 .. first+rows of x are not read again; the pages they fill go back now, as the
        // output grows, so that x and the output are never both resident in full (60,000
        // Fashion-MNIST rows at layer 0: 179 MiB resident at most instead of 179 + 114 MiB).
        release_pages(x.data(), x.data() + (first + rows) * n_in);
        // The same per-block calls, on the same blocks, in the same order as on an untouched x:
        // the values and the generator's draws do not depend on the release.
        rbm.hidden_mean(a, o);
        if (sample) rbm.sample_hidden(a, o, o, rng);
    }
    x = Matrix::from_shape({0, n_in});
    return out;
}

}  // namespace detail

namespace {

Vector column_stddev(const Matrix& x) {
    const std::size_t n = x.shape(0), d = x.shape(1);
    std::vector<double> mean(d, 0.0), sq(d, 0.0);
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < d; ++c) mean[c] += x(r, c);
    for (auto& m : mean) m /= static_cast<double>(std::max<std::size_t>(n, 1));
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < d; ++c) sq[c] += (x(r, c) - mean[c]) * (x(r, c) - mean[c]);
    Vector s = Vector::from_shape({d});
    // A floor keeps constant features from dividing by zero; 1e-3 of a unit is far below any
    // feature that carries information after scaling.
    for (std::size_t c = 0; c < d; ++c)
        s(c) = static_cast<Real>(
            std::max(std::sqrt(sq[c] / static_cast<double>(std::max<std::size_t>(n, 1))), 1e-3));
    return s;
}

void divide_columns(Matrix& x, const Vector& s) {
    const std::size_t d = x.shape(1);
    for (std::size_t r = 0; r < x.shape(0); ++r) {
        Real* row = x.data() + r * d;
        for (std::size_t c = 0; c < d; ++c) row[c] /= s(c);
    }
}

}  // namespace

namespace {

/// Bound-guided training of one layer: passes everything on to the caller's observer, and after
/// every `every`-th epoch (and before the first) asks the probe for D; keeps a copy of the
/// parameters with the largest lower end of D's interval and says stop when `patience`
/// estimates in a row did not beat it. The lower end, not D itself: an estimate whose runs
/// lost their effective sample size has an open interval (low end -inf) and a meaningless D,
/// and what the check must show is D > 0 beyond its interval. Choosing the best of several
/// estimates makes the kept one optimistic; the check after the layer estimates D again with a
/// stream of its own.
class BoundGuide final : public TrainingObserver {
public:
    BoundGuide(TrainingObserver* inner, const Rbm& rbm, GreedyTrainer::BoundProbe probe,
               const GuideSpec& spec, std::size_t layer, std::size_t epochs)
        : inner_(inner),
          rbm_(rbm),
          probe_(std::move(probe)),
          spec_(spec),
          layer_(layer),
          epochs_(epochs) {}

    void on_layer_begin(std::size_t layer, std::size_t n_layers, const Rbm& rbm,
                        const LayerTrainingConfig& config, std::size_t n_samples) override {
        if (inner_) inner_->on_layer_begin(layer, n_layers, rbm, config, n_samples);
    }
    void on_batch(std::size_t layer, std::size_t epoch, std::size_t batch,
                  std::size_t n_batches) override {
        if (inner_) inner_->on_batch(layer, epoch, batch, n_batches);
    }
    Control on_epoch_end(const EpochStats& stats) override {
        Control c = inner_ ? inner_->on_epoch_end(stats) : Control::proceed;
        if (stats.epoch % spec_.every == 0 || stats.epoch == epochs_) {
            estimate(stats.epoch);
            if (since_best_ >= spec_.patience && stats.epoch < epochs_) {
                say("layer " + std::to_string(layer_) + ": D's lower end has not grown for " +
                    std::to_string(since_best_) + " estimates: training stops");
                c = Control::stop;
            }
        }
        return c;
    }
    void on_layer_end(std::size_t layer, const Rbm& rbm) override {
        if (inner_) inner_->on_layer_end(layer, rbm);
    }
    void on_message(const char* text) override {
        if (inner_) inner_->on_message(text);
    }

    /// D of the parameters as they are (epoch 0: before training).
    void estimate(std::size_t epoch) {
        estimate::BoundPoint p = probe_(rbm_);
        p.epoch = epoch;
        points_.push_back(p);
        const bool better = !best_ || p.bound_change_low > best_low_;
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      "  layer %zu epoch %zu: D = %+.4f [%+.4f, %+.4f] (dF %+.4f, dlogZ %+.4f, "
                      "ESS %.0f, %.1fs)%s",
                      layer_, epoch, p.bound_change, p.bound_change_low, p.bound_change_high,
                      p.free_energy_gap, p.delta_log_z, p.ess, p.seconds, better ? " best" : "");
        say(buf);
        if (better) {
            best_ = rbm_;
            best_low_ = p.bound_change_low;
            best_epoch_ = epoch;
            since_best_ = 0;
        } else {
            ++since_best_;
        }
    }

    /// Puts the kept parameters into `rbm` (a no-op when the last estimate was the best).
    void restore_best(Rbm& rbm) {
        if (!best_ || best_epoch_ == points_.back().epoch) return;
        say("layer " + std::to_string(layer_) + ": keeping the parameters of epoch " +
            std::to_string(best_epoch_) + " (the largest lower end of D's interval)");
        rbm = *best_;
    }
    std::vector<estimate::BoundPoint> points() const { return points_; }

private:
    void say(const std::string& line) {
        if (inner_) inner_->on_message(line.c_str());
    }

    TrainingObserver* inner_;
    const Rbm& rbm_;
    GreedyTrainer::BoundProbe probe_;
    GuideSpec spec_;
    std::size_t layer_, epochs_;
    std::vector<estimate::BoundPoint> points_;
    std::optional<Rbm> best_;
    double best_low_ = 0.0;
    std::size_t best_epoch_ = 0, since_best_ = 0;
};

}  // namespace

GreedyTrainer::GreedyTrainer(DbnConfig config) : config_(std::move(config)) {
    DBN_CHECK(!config_.layers.empty(), ConfigError, "the configuration has no layers");
    for (std::size_t k = 0; k < config_.layers.size(); ++k)
        config_.layers[k].train.validate("layer " + std::to_string(k));
}

ModelFile GreedyTrainer::train(const data::Dataset& train, const data::Dataset* validation,
                               TrainingObserver* observer) {
    return run(data::Dataset(train), validation, observer, nullptr);
}

ModelFile GreedyTrainer::train(data::Dataset&& train, const data::Dataset* validation,
                               TrainingObserver* observer) {
    return run(std::move(train), validation, observer, nullptr);
}

ModelFile GreedyTrainer::train(data::Dataset&& train, const data::Dataset* validation,
                               TrainingObserver* observer, const PretrainCheckpoint& from) {
    return run(std::move(train), validation, observer, &from);
}

namespace {

/// Passes everything on, and hands the trainer's state to the checkpoint sink at the epoch ends
/// the policy names.
class EpochCheckpoints final : public TrainingObserver {
public:
    using Clock = std::chrono::steady_clock;
    EpochCheckpoints(TrainingObserver* inner, const CheckpointPolicy& policy,
                     Clock::time_point& last, std::function<void()> save)
        : inner_(inner), policy_(policy), last_(last), save_(std::move(save)) {}

    void on_layer_begin(std::size_t layer, std::size_t n_layers, const Rbm& rbm,
                        const LayerTrainingConfig& config, std::size_t n_samples) override {
        if (inner_) inner_->on_layer_begin(layer, n_layers, rbm, config, n_samples);
    }
    void on_batch(std::size_t layer, std::size_t epoch, std::size_t batch,
                  std::size_t n_batches) override {
        if (inner_) inner_->on_batch(layer, epoch, batch, n_batches);
    }
    Control on_epoch_end(const EpochStats& stats) override {
        const Control c = inner_ ? inner_->on_epoch_end(stats) : Control::proceed;
        const bool by_count = policy_.every_epochs > 0 && stats.epoch % policy_.every_epochs == 0;
        const bool by_time =
            policy_.every_seconds > 0 &&
            std::chrono::duration<double>(Clock::now() - last_).count() >= policy_.every_seconds;
        if (by_count || by_time) save_();
        return c;
    }
    void on_layer_end(std::size_t layer, const Rbm& rbm) override {
        if (inner_) inner_->on_layer_end(layer, rbm);
    }
    void on_message(const char* text) override {
        if (inner_) inner_->on_message(text);
    }

private:
    TrainingObserver* inner_;
    CheckpointPolicy policy_;
    Clock::time_point& last_;
    std::function<void()> save_;
};

}  // namespace

ModelFile GreedyTrainer::run(data::Dataset&& train, const data::Dataset* validation,
                             TrainingObserver* observer, const PretrainCheckpoint* from) {
    DBN_CHECK(train.size() > 0 && train.n_features() > 0, ConfigError,
              (train.source.empty() ? "the training data" : train.source)
                  << ": no rows to train on");
    if (validation && validation->size() == 0) validation = nullptr;
    if (validation)
        DBN_CHECK(validation->n_features() == train.n_features(), ShapeError,
                  (validation->source.empty() ? "the validation data" : validation->source)
                      << ": " << counted(validation->n_features(), "column")
                      << ", but the training data has " << train.n_features());
    data::check_finite(train.x, train.source.empty() ? "training data" : train.source);
    if (validation) data::check_finite(validation->x, validation->source);

    for (std::size_t k = 0; k < config_.layers.size(); ++k)
        DBN_CHECK(!config_.layers[k].guide.enabled || bound_probe_, ConfigError,
                  "layers[" << k
                            << "].guide: bound-guided training needs the consistency "
                               "checks, which are off");
    // The layers a checkpoint finished are taken as they are; the first one to train is its
    // layer under way.
    const std::size_t first = from ? from->layer : 0;
    if (from) {
        const std::string where = "checkpoint";
        DBN_CHECK(first <= config_.layers.size() && from->model.stack.n_layers() == first &&
                      from->propagate_rng.size() == std::min(first, config_.layers.size() - 1) &&
                      from->model.records.size() == first,
                  ConfigError,
                  where << ": " << from->model.stack.n_layers() << " finished layers at layer "
                        << first << " of a configuration of " << config_.layers.size());
        DBN_CHECK(from->seed == config_.seed && (first == 0 || from->model.seed == config_.seed),
                  ConfigError,
                  where << ": seed " << from->seed << ", the configuration says " << config_.seed);
        for (std::size_t k = 0; k < first; ++k)
            DBN_CHECK(
                from->model.stack.layers[k].n_hidden() == config_.layers[k].n_hidden, ConfigError,
                where << ": layer " << k << " has " << from->model.stack.layers[k].n_hidden()
                      << " hidden units, the configuration says " << config_.layers[k].n_hidden);
    }
    Rng rng(config_.seed);
    ModelFile model;
    if (from) {
        model = from->model;
        model.stack.hooks.resize(first > 0 ? first - 1 : 0);
    }
    model.seed = config_.seed;
    model.config_json = config_.json;
    model.name = config_.name;
    // An array of images keeps its sample shape for the pictures and readers; a table (rank 1)
    // has none, nor has a shape the file cannot hold (more than 8 sizes).
    if (is_sample_shape_of(train.sample_shape, train.n_features()))
        model.sample_shape = train.sample_shape;
    Dbn& stack = model.stack;
    std::vector<Rng::State> propagate_rng;
    auto last_checkpoint = std::chrono::steady_clock::now();
    // The state to resume layer k from: its start (no trainer), or inside its training.
    auto checkpoint = [&](std::size_t k, const Rng::State& layer_rng, const RbmTrainer* trainer) {
        if (!checkpoint_) return;
        PretrainCheckpoint c;
        c.model = model;
        c.model.stack.hooks.resize(k > 0 ? k - 1 : 0);
        bool any_hook = false;
        for (const auto& h : c.model.stack.hooks) any_hook = any_hook || h;
        if (!any_hook) c.model.stack.hooks.clear();
        c.layer = k;
        c.propagate_rng = propagate_rng;
        c.layer_rng = layer_rng;
        if (trainer) c.trainer = trainer->state();
        c.config_json = config_.json;
        c.seed = config_.seed;
        checkpoint_(c);
        last_checkpoint = std::chrono::steady_clock::now();
    };
    auto stop_requested = [&] { return stop_ && stop_(); };

    // Preprocessing, fitted on the training rows.
    data::Preprocessing& pre = stack.preprocessing;
    pre.scale = config_.input.scale;
    if (pre.scale == 0.0f) {
        const float mx = train.x.size() ? *std::max_element(train.x.begin(), train.x.end()) : 1.0f;
        pre.scale = mx > 1.0f ? mx : 1.0f;
    }
    pre.binarize = config_.input.binarize;
    pre.threshold = config_.input.threshold;
    pre.standardize = config_.input.standardize;

    const std::size_t n_rows = train.size();
    // The training rows become layer 0's input in place: no second copy of the data set.
    Matrix x = std::move(train.x);
    Matrix heldout = Matrix::from_shape({0, x.shape(1)});
    if (validation) {
        heldout = validation->x;
    } else if (config_.heldout_fraction > 0.0) {
        split_heldout(x, heldout, config_.heldout_fraction, rng);
        if (observer && heldout.shape(0) > 0 && !from) {
            std::ostringstream msg;
            msg << "no validation data: holding out " << heldout.shape(0) << " of " << n_rows
                << " training rows for the monitors";
            observer->on_message(msg.str().c_str());
        }
    }
    // The raw rows of the check set, before preprocessing: what a user would pass to eval. The
    // validation set itself when given (no copy); else the held-out rows as split off.
    const Matrix heldout_raw = validation ? Matrix::from_shape({0, x.shape(1)}) : heldout;
    const Matrix& check_raw = validation ? validation->x : heldout_raw;
    // Before any layer trains: every layer must fit in memory with the data's real shape.
    check_memory(config_, x.shape(1), x.shape(0) + heldout.shape(0));
    pre.fit(x);
    pre.apply(x);
    if (heldout.shape(0) > 0) pre.apply(heldout);

    UnitType visible = config_.input.units;
    bool hooked_below = false;
    for (std::size_t k = 0; k < config_.layers.size(); ++k) {
        const LayerSpec& spec = config_.layers[k];
        const bool finished = k < first;
        const bool last = k + 1 == config_.layers.size();
        // Gaussian units are trained on x / sigma with unit variance; the parameters are mapped
        // back afterwards (a = sigma * a', same W), which is the same model.
        Vector sigma = xt::ones<Real>({x.shape(1)});
        const bool gaussian = units(visible).has_sigma();
        // Sigma from the data: when asked for layer 0, and above an NReLU layer; a hook below
        // has already normalized the representation, so sigma stays 1 there.
        const bool sigma_from_data = k == 0 ? config_.input.sigma == "data" : !hooked_below;
        if (gaussian && sigma_from_data) {
            sigma = column_stddev(x);
            divide_columns(x, sigma);
            if (heldout.shape(0) > 0) divide_columns(heldout, sigma);
        }

        Rbm rbm(x.shape(1), spec.n_hidden, visible, spec.hidden);
        LayerRecord record;
        if (finished) {
            // As it was trained: in the space of x / sigma (going up reads only the weights and
            // the hidden biases).
            rbm = stack.layers[k];
            DBN_CHECK(rbm.n_visible() == x.shape(1) && rbm.visible_type() == visible &&
                          rbm.hidden_type() == spec.hidden,
                      ConfigError,
                      "checkpoint: layer " << k << " is " << rbm.n_visible() << " "
                                           << to_string(rbm.visible_type()) << " -> "
                                           << rbm.n_hidden() << " " << to_string(rbm.hidden_type())
                                           << ", not what the configuration and data make of it");
            if (gaussian) rbm.visible_sigma() = xt::ones<Real>({x.shape(1)});
        } else {
            const Rng::State layer_rng = k == first && from ? from->layer_rng : rng.state();
            const bool resumed = k == first && from && from->trainer;
            if (k == first && from) rng.set_state(from->layer_rng);
            if (k > first) checkpoint(k, layer_rng, nullptr);
            if (k > first && stop_requested())
                throw TrainingStopped("training stopped before layer " + std::to_string(k));
            const bool turned_over = spec.init == "turned_over";
            if (resumed) {
                // The trainer below takes the parameters and the generator from the state.
            } else if (turned_over) {
                const Rbm& below = stack.layers.back();
                DBN_CHECK(below.n_visible() <= spec.n_hidden && swappable(visible) &&
                              swappable(below.visible_type()),
                          ConfigError,
                          "layer " << k << ": \"turned_over\" needs at least " << below.n_visible()
                                   << " Bernoulli hidden units, as many as layer " << k - 1
                                   << " has Bernoulli visible units (got " << spec.n_hidden
                                   << "); a narrower layer cannot start as the one below turned "
                                      "over: use \"init\": \"random\"");
                // The first units are the layer below turned over; the extra ones start as a
                // random layer's would, weights from N(0, init_stddev^2) and zero biases (equal
                // zero weights would keep them identical forever: equal gradients). The weights
                // come in antithetic pairs, unit j and unit j + e/2 its negation, so that every
                // visible unit's extra weights sum to zero: D's first-order change, half of
                // sum_i (sum_j w_ij) (E_data[h_i] - E_model[h_i]), is then exactly zero and D
                // starts at 0 up to second order (docs/CHECK.md gives the measured values;
                // independent draws move it by a first-order amount that a precise check can call
                // failed). The check's reference is this layer with the extra weights at zero,
                // whose log Z is exact.
                rbm = below.widened_turned_over(spec.n_hidden);
                const std::size_t first_extra = below.n_visible();
                const std::size_t extra = spec.n_hidden - first_extra;
                const double extra_stddev = spec.train.init_stddev;
                Real* w = rbm.weights().data();
                for (std::size_t i = 0; i < rbm.n_visible(); ++i) {
                    Real* row = w + i * spec.n_hidden + first_extra;
                    for (std::size_t j = 0; j < extra / 2; ++j) {
                        row[j] = static_cast<Real>(extra_stddev * rng.normal());
                        row[j + extra / 2] = -row[j];
                    }
                    if (extra % 2 == 1)
                        row[extra - 1] = static_cast<Real>(extra_stddev * rng.normal());
                }
            } else {
                rbm.init_random(rng, static_cast<float>(spec.train.init_stddev));
            }

            // A batch larger than the data is all of it: the buffers (and PCD's default chain
            // count) are sized by the rows there are, not by the number asked for.
            LayerTrainingConfig train_config = spec.train;
            train_config.batch_size = std::min(train_config.batch_size, x.shape(0));
            std::optional<RbmTrainer> trainer;
            if (resumed) {
                // The configuration is the run's (the checkpoint does not save it), with the
                // learning rate halved once per divergence event, as the guard left it.
                auto own_config = [&](TrainerState& st) {
                    st.config = train_config;
                    for (std::size_t e = 0; e < st.divergence_events.size(); ++e)
                        st.config.learning_rate *= 0.5;
                    st.layer = k;
                };
                TrainerState state = *from->trainer;
                own_config(state);
                if (state.guard_start) {
                    TrainerState start = *state.guard_start;
                    own_config(start);
                    state.guard_start = std::make_shared<const TrainerState>(std::move(start));
                }
                DBN_CHECK(
                    state.rbm.n_visible() == rbm.n_visible() &&
                        state.rbm.n_hidden() == rbm.n_hidden() &&
                        state.rbm.visible_type() == rbm.visible_type() &&
                        state.rbm.hidden_type() == rbm.hidden_type() &&
                        (state.position.order.empty() || state.position.order.size() == x.shape(0)),
                    ConfigError,
                    "checkpoint: the training state of layer "
                        << k << " is of a " << state.rbm.n_visible() << "x" << state.rbm.n_hidden()
                        << " RBM over " << state.position.order.size() << " rows, not of the "
                        << rbm.n_visible() << "x" << rbm.n_hidden() << " one over " << x.shape(0)
                        << " rows the configuration and data make");
                trainer.emplace(rbm, rng, state);
            } else {
                trainer.emplace(rbm, train_config, rng, k);
                if (!turned_over) trainer->init_visible_bias(x);
            }
            DivergenceGuard divergence_guard;
            divergence_guard.max_events = train_config.max_divergence_events;
            trainer->set_divergence_guard(divergence_guard);
            std::optional<BoundGuide> guide;
            if (spec.guide.enabled) {  // bound_probe_ is set: checked before layer 0
                guide.emplace(observer, rbm, bound_probe_(model, k, check_raw, spec.guide),
                              spec.guide, k, spec.train.epochs);
            }
            // A guided layer is saved at its start only; others at epoch ends too.
            std::optional<EpochCheckpoints> epoch_checkpoints;
            if (!guide && checkpoint_)
                epoch_checkpoints.emplace(observer, policy_, last_checkpoint,
                                          [&] { checkpoint(k, layer_rng, &*trainer); });
            TrainingObserver* watcher = guide
                                            ? static_cast<TrainingObserver*>(&*guide)
                                            : (epoch_checkpoints ? &*epoch_checkpoints : observer);
            if (observer)
                observer->on_layer_begin(k, config_.layers.size(), rbm, train_config, x.shape(0));
            if (guide) guide->estimate(0);
            bool stopped = false;
            RbmTrainer::StopRequest stop;
            if (stop_)
                stop = [&] {
                    stopped = stopped || stop_();
                    return stopped;
                };
            record.config = train_config;
            try {
                record.epochs =
                    trainer->train(x, heldout.shape(0) > 0 ? &heldout : nullptr, watcher, stop);
            } catch (const DivergenceStop& e) {
                // The guard gave up: the layer is at its last good state (the end of its last
                // epoch that passed the checks, or its start). The model so far is the finished
                // layers and this one as it stands, without its checks and with nothing above.
                record.epochs = trainer->state().history;
                record.divergence_events = trainer->divergence_events();
                if (guide) {
                    guide->restore_best(rbm);
                    record.bound = guide->points();
                }
                if (gaussian) {
                    for (std::size_t i = 0; i < rbm.n_visible(); ++i)
                        rbm.visible_bias()(i) *= sigma(i);
                    rbm.visible_sigma() = sigma;
                }
                stack.layers.push_back(std::move(rbm));
                model.records.push_back(std::move(record));
                bool any = false;
                for (const auto& h : stack.hooks) any = any || h;
                if (!any) stack.hooks.clear();
                model.validate();
                throw PretrainingDiverged(e.what(), std::move(model), k);
            }
            record.divergence_events = trainer->divergence_events();
            if (stopped) {
                checkpoint(k, layer_rng, guide ? nullptr : &*trainer);
                throw TrainingStopped("training stopped in layer " + std::to_string(k) +
                                      ", epoch " + std::to_string(trainer->epochs_done() + 1));
            }
            if (guide) {
                guide->restore_best(rbm);
                record.bound = guide->points();
            }
        }

        std::shared_ptr<LayerHook> pending_hook;
        if (last) {
            // Nothing reads the training or held-out representations any more: freed before
            // the checks below, whose own arrays (the check set through the whole stack) would
            // otherwise come on top of them.
            x = Matrix::from_shape({0, x.shape(1)});
            heldout = Matrix::from_shape({0, heldout.shape(1)});
        } else {
            // Representations for layer k+1, computed in the space the layer was trained in.
            // Each replaces its input, which is released while the representation is written
            // (the training rows are the largest thing pretraining holds: see propagate_consuming).
            // A resumed run computes them again from the generator state they were drawn with.
            if (finished) rng.set_state(from->propagate_rng[k]);
            propagate_rng.push_back(rng.state());
            x = detail::propagate_consuming(rbm, x, spec.train.sample_up, rng);
            if (heldout.shape(0) > 0)
                heldout = detail::propagate_consuming(rbm, heldout, spec.train.sample_up, rng);
            std::shared_ptr<LayerHook> hook;
            if (finished && k + 1 < first) {
                hook = stack.hooks[k];  // as saved
                if (hook) {
                    hook->apply(x);
                    if (heldout.shape(0) > 0) hook->apply(heldout);
                }
            } else if (spec.hook != "none") {
                // Fitted on the training representation, replayed on the held-out rows.
                hook = make_hook(spec.hook, spec.hook_options);
                hook->fit(x);
                hook->apply(x);
                if (heldout.shape(0) > 0) hook->apply(heldout);
            }
            pending_hook = hook;
            hooked_below = static_cast<bool>(hook);
        }
        if (!finished) {
            if (gaussian) {
                for (std::size_t i = 0; i < rbm.n_visible(); ++i) rbm.visible_bias()(i) *= sigma(i);
                rbm.visible_sigma() = sigma;
            }
            if (observer) observer->on_layer_end(k, rbm);
            stack.layers.push_back(std::move(rbm));
            model.records.push_back(std::move(record));
            if (after_layer_) after_layer_(model, k, check_raw);
        }
        // (A finished layer below the last finished one has its hook in place already.)
        if (!last && !(finished && k + 1 < first)) stack.hooks.push_back(std::move(pending_hook));
        // A normalized or rectified representation is real-valued: Gaussian units model it.
        visible = hooked_below ? UnitType::gaussian : units(spec.hidden).visible_model();
    }
    // Every layer finished: a failed save of the model can still be resumed from here.
    if (first < config_.layers.size()) checkpoint(config_.layers.size(), rng.state(), nullptr);
    bool any_hook = false;
    for (const auto& h : stack.hooks) any_hook = any_hook || h;
    if (!any_hook) stack.hooks.clear();
    model.validate();
    return model;
}

}  // namespace dbn
