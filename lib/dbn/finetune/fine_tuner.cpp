#include "dbn/finetune/fine_tuner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>

#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/finetune/evaluate.hpp"

namespace dbn::finetune {
namespace {

/// `role`: what the data is for ("training data"), named when the data has no source.
void check_columns(const Dbn& model, const data::Dataset& d, const char* role) {
    DBN_CHECK(d.x.shape(1) == model.n_visible(), ShapeError,
              (d.source.empty() ? std::string(role) : d.source)
                  << ": " << counted(d.x.shape(1), "column") << ", but the model has "
                  << counted(model.n_visible(), "visible unit"));
}

/// @brief Glorot-uniform or normal weights, zero biases.
void init_random(DenseLayer& l, InitScheme scheme, double stddev, Rng& rng) {
    if (scheme == InitScheme::glorot) {
        const double limit = std::sqrt(6.0 / double(l.n_in() + l.n_out()));
        rng.fill_uniform(l.weights.data(), l.weights.size());
        for (auto& w : l.weights) w = static_cast<Real>((2.0 * w - 1.0) * limit);
    } else {
        rng.fill_normal(l.weights.data(), l.weights.size());
        for (auto& w : l.weights) w = static_cast<Real>(w * stddev);
    }
    l.bias.fill(Real{0});
}

DenseLayer dense(std::size_t n_in, std::size_t n_out, Activation a) {
    DenseLayer l;
    l.weights = xt::zeros<Real>({n_in, n_out});
    l.bias = xt::zeros<Real>({n_out});
    l.activation = a;
    return l;
}

Labels distinct_sorted(const Labels& labels) {
    std::vector<std::int32_t> v(labels.begin(), labels.end());
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    Labels out = Labels::from_shape({v.size()});
    std::copy(v.begin(), v.end(), out.begin());
    return out;
}

/// @brief Position of each label among `classes`.
/// @throws ConfigError naming the first label that is not a class.
std::vector<std::size_t> class_indices(const Labels& labels, const Labels& classes,
                                       const std::string& what) {
    std::vector<std::size_t> idx(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto it = std::lower_bound(classes.begin(), classes.end(), labels(i));
        DBN_CHECK(it != classes.end() && *it == labels(i), ConfigError,
                  what << ": label " << labels(i) << " (row " << i << ") is not one of the model's "
                       << counted(classes.size(), "class", "classes"));
        idx[i] = static_cast<std::size_t>(it - classes.begin());
    }
    return idx;
}

/// @brief Rows `idx` of m.
Matrix take_rows(const Matrix& m, const std::vector<std::size_t>& idx) {
    Matrix out = Matrix::from_shape({idx.size(), m.shape(1)});
    const std::size_t cols = m.shape(1);
    for (std::size_t i = 0; i < idx.size(); ++i)
        std::copy(m.data() + idx[i] * cols, m.data() + (idx[i] + 1) * cols, out.data() + i * cols);
    return out;
}

Labels take_labels(const Labels& l, const std::vector<std::size_t>& idx) {
    Labels out = Labels::from_shape({idx.size()});
    for (std::size_t i = 0; i < idx.size(); ++i) out(i) = l(idx[i]);
    return out;
}

/// @brief One side of the training problem: inputs, and class indices or target rows.
struct Problem {
    const Matrix* x = nullptr;
    std::vector<std::size_t> classes;  ///< classifier
    const Matrix* target = nullptr;    ///< autoencoder
    std::size_t size() const { return x ? x->shape(0) : 0; }
};

struct LoopResult {
    std::vector<FineTuneEpoch> history;
    std::size_t best_epoch = 0;
};

bool same_shape(const DenseLayer& a, const DenseLayer& b) {
    return a.weights.shape() == b.weights.shape() && a.bias.shape() == b.bias.shape();
}

/// @brief Checks that a saved state fits the network and the problem before anything of it is
/// used. @throws ShapeError or ConfigError naming the piece.
void check_resume_state(const FineTuneState& s, const Network& net, std::size_t n,
                        std::size_t n_batches, const FineTuneConfig& cfg, bool has_valid) {
    const char* where = k_resume_state_error;
    DBN_CHECK(
        s.layers.size() == net.n_layers(), ShapeError,
        where << ": " << s.layers.size() << " layers (the network has " << net.n_layers() << ")");
    for (std::size_t i = 0; i < net.n_layers(); ++i)
        DBN_CHECK(same_shape(s.layers[i], net.layers[i]), ShapeError,
                  where << ": layer " << i << " is [" << s.layers[i].n_in() << ", "
                        << s.layers[i].n_out() << "] (the network's is [" << net.layers[i].n_in()
                        << ", " << net.layers[i].n_out() << "])");
    DBN_CHECK(s.best.empty() || s.best.size() == net.n_layers(), ShapeError,
              where << ": best parameters of " << s.best.size() << " layers (the network has "
                    << net.n_layers() << ")");
    for (std::size_t i = 0; i < s.best.size(); ++i)
        DBN_CHECK(same_shape(s.best[i], net.layers[i]), ShapeError,
                  where << ": best parameters of layer " << i << " have the wrong shape");
    DBN_CHECK(!has_valid || s.best_epoch == 0 || !s.best.empty(), ConfigError,
              where << ": best epoch " << s.best_epoch << " without its parameters");
    DBN_CHECK(s.epochs_done < cfg.epochs, ConfigError,
              where << ": " << s.epochs_done << " epochs done of " << cfg.epochs
                    << " (nothing left to train)");
    DBN_CHECK(s.history.size() == s.epochs_done, ConfigError,
              where << ": " << s.history.size() << " epoch records for " << s.epochs_done
                    << " epochs done");
    DBN_CHECK(s.best_epoch <= s.epochs_done, ConfigError,
              where << ": best epoch " << s.best_epoch << " after the " << s.epochs_done
                    << " epochs done");
    DBN_CHECK(s.minibatch < n_batches, ConfigError,
              where << ": minibatch " << s.minibatch << " of an epoch of " << n_batches);
    DBN_CHECK(
        s.order.size() == n, ShapeError,
        where << ": row order of " << s.order.size() << " rows (the training set has " << n << ")");
    std::vector<char> seen(n, 0);
    for (const std::size_t r : s.order) {
        DBN_CHECK(r < n && !seen[r], ConfigError,
                  where << ": the row order is not a permutation of the " << n << " rows");
        seen[r] = 1;
    }
    DBN_CHECK(std::isfinite(s.learning_rate) && s.learning_rate > 0.0, ConfigError,
              where << ": learning rate " << s.learning_rate);
}

/// @brief The minibatch loop: every buffer is allocated before the first epoch.
LoopResult train_loop(Network& net, const Problem& train, const Problem* valid,
                      const FineTuneConfig& cfg, Rng& rng, FineTuneObserver* observer,
                      const FineTuneControl* control) {
    using clock = std::chrono::steady_clock;
    const bool classifier = cfg.mode == FineTuneMode::classifier;
    const std::size_t n = train.size();
    const std::size_t bs = std::min(cfg.batch_size, n);
    const std::size_t n_batches = (n + bs - 1) / bs;
    const std::size_t n_in = net.n_inputs(), n_out = net.n_outputs();
    Workspace ws(net, bs);
    ParameterUpdater updater(net, cfg);
    Matrix xb = Matrix::from_shape({bs, n_in});
    Matrix tb = Matrix::from_shape({bs, n_out});
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::vector<DenseLayer> best = net.layers;
    const bool has_valid = valid != nullptr && valid->size() > 0;
    double best_score = -std::numeric_limits<double>::infinity();
    std::size_t since_best = 0;
    double lr = cfg.effective_learning_rate();
    LoopResult result;
    Rng* dropout_rng = net.dropout > 0.0 || net.input_dropout > 0.0 ? &rng : nullptr;

    std::size_t first_epoch = 1, first_batch = 0;
    double loss_sum = 0.0, sq_sum = 0.0, seconds_before = 0.0;
    std::size_t correct = 0;
    const FineTuneState* from = control ? control->resume : nullptr;
    if (from) {
        check_resume_state(*from, net, n, n_batches, cfg, has_valid);
        for (std::size_t i = 0; i < net.n_layers(); ++i) {
            net.layers[i].weights = from->layers[i].weights;
            net.layers[i].bias = from->layers[i].bias;
            if (!from->best.empty()) {
                best[i].weights = from->best[i].weights;
                best[i].bias = from->best[i].bias;
            }
        }
        try {
            updater.restore(from->optimizer);
        } catch (const ShapeError& e) {
            throw ShapeError(std::string(k_resume_state_error) + ": " + e.what());
        }
        rng.set_state(from->rng);
        order = from->order;
        first_epoch = from->epochs_done + 1;
        first_batch = from->minibatch;
        if (first_batch > 0) {
            loss_sum = from->loss_sum;
            sq_sum = from->squared_error_sum;
            correct = from->correct;
            seconds_before = from->seconds;
        }
        lr = from->learning_rate;
        result.history = from->history;
        result.best_epoch = from->best_epoch;
        best_score = from->best_score;
        since_best = from->since_best;
    }

    // The state between minibatches: `epochs_done` epochs and `batches` minibatches of the next.
    clock::time_point t0 = clock::now();
    auto state = [&](std::size_t epochs_done, std::size_t batches) {
        FineTuneState s;
        s.layers = net.layers;
        s.optimizer = updater.state();
        s.rng = rng.state();
        s.epochs_done = epochs_done;
        s.minibatch = batches;
        s.order = order;
        if (batches > 0) {
            s.loss_sum = loss_sum;
            s.squared_error_sum = sq_sum;
            s.correct = correct;
            s.seconds = std::chrono::duration<double>(clock::now() - t0).count();
        }
        s.learning_rate = lr;
        s.history = result.history;
        s.best_epoch = result.best_epoch;
        s.best_score = best_score;
        s.since_best = since_best;
        if (has_valid) s.best = best;
        return s;
    };
    auto last_checkpoint = clock::now();
    auto save = [&](std::size_t epochs_done, std::size_t batches) {
        if (control && control->checkpoint) control->checkpoint(state(epochs_done, batches));
        last_checkpoint = clock::now();
    };
    auto stop_requested = [&] { return control && control->stop && control->stop(); };

    if (observer) observer->on_begin(net, n, has_valid ? valid->size() : 0);

    for (std::size_t epoch = first_epoch; epoch <= cfg.epochs; ++epoch) {
        t0 = clock::now() - std::chrono::duration_cast<clock::duration>(
                                std::chrono::duration<double>(seconds_before));
        if (epoch != first_epoch || first_batch == 0) {
            for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
            loss_sum = sq_sum = 0.0;
            correct = 0;
        }
        const std::size_t start_batch = epoch == first_epoch ? first_batch : 0;
        seconds_before = 0.0;
        for (std::size_t b = start_batch; b < n_batches; ++b) {
            const std::size_t first = b * bs;
            const std::size_t rows = std::min(bs, n - first);
            for (std::size_t r = 0; r < rows; ++r) {
                const std::size_t s = order[first + r];
                std::copy(train.x->data() + s * n_in, train.x->data() + (s + 1) * n_in,
                          xb.data() + r * n_in);
                Real* t = tb.data() + r * n_out;
                if (classifier) {
                    std::fill(t, t + n_out, Real{0});
                    t[train.classes[s]] = Real{1};
                } else {
                    std::copy(train.target->data() + s * n_out,
                              train.target->data() + (s + 1) * n_out, t);
                }
            }
            const ConstRows xr = ConstRows(xb).block(0, rows);
            const ConstRows tr = ConstRows(tb).block(0, rows);
            // Gradient and step in one pass of the workspace's threads (loss_and_gradient()
            // and updater.step() in one).
            const BatchLoss bl = train_step(net, xr, tr, ws, updater, lr, false, dropout_rng);
            DBN_CHECK(std::isfinite(bl.objective), NumericalError,
                      "fine-tuning diverged: the loss is " << bl.objective << " in epoch " << epoch
                                                           << " (batch starting at row " << first
                                                           << "); lower the learning rate");
            loss_sum += bl.loss * double(rows);
            const ConstRows y = ConstRows(ws.out.back()).block(0, rows);
            for (std::size_t r = 0; r < rows; ++r) {
                const Real* yr = y.row(r);
                const Real* trr = tr.row(r);
                if (classifier) {
                    const std::size_t p = std::size_t(std::max_element(yr, yr + n_out) - yr);
                    if (trr[p] == Real{1}) ++correct;
                } else {
                    for (std::size_t j = 0; j < n_out; ++j) {
                        const double d = double(yr[j]) - trr[j];
                        sq_sum += d * d;
                    }
                }
            }
            if (b + 1 < n_batches && stop_requested()) {
                save(epoch - 1, b + 1);
                throw TrainingStopped("fine-tuning stopped in epoch " + std::to_string(epoch) +
                                      " after minibatch " + std::to_string(b + 1) + " of " +
                                      std::to_string(n_batches));
            }
        }

        FineTuneEpoch e;
        e.epoch = epoch;
        e.loss = loss_sum / double(n);
        e.learning_rate = lr;
        double score = 0.0;
        if (classifier) {
            e.train_accuracy = double(correct) / double(n);
            if (has_valid) {
                const auto pred = predict_indices(net, *valid->x, ws);
                std::size_t ok = 0;
                for (std::size_t i = 0; i < pred.size(); ++i) ok += pred[i] == valid->classes[i];
                e.valid_accuracy = double(ok) / double(pred.size());
                score = e.valid_accuracy;
            }
        } else {
            e.train_reconstruction_error = sq_sum / (double(n) * double(n_out));
            if (has_valid) {
                e.valid_reconstruction_error =
                    squared_error_sum(net, *valid->x, *valid->target, ws) /
                    (double(valid->size()) * double(n_out));
                score = -e.valid_reconstruction_error;
            }
        }
        e.seconds = std::chrono::duration<double>(clock::now() - t0).count();
        DBN_CHECK(std::isfinite(e.loss), NumericalError,
                  "fine-tuning diverged: the mean loss of epoch " << epoch << " is " << e.loss
                                                                  << "; lower the learning rate");
        result.history.push_back(e);

        bool stop = false;
        if (has_valid) {
            if (score > best_score) {
                best_score = score;
                result.best_epoch = epoch;
                since_best = 0;
                for (std::size_t i = 0; i < net.n_layers(); ++i) {
                    best[i].weights = net.layers[i].weights;
                    best[i].bias = net.layers[i].bias;
                }
            } else if (cfg.patience > 0 && ++since_best >= cfg.patience) {
                stop = true;
            }
        } else {
            result.best_epoch = epoch;
        }
        if (observer && observer->on_epoch_end(e) == Control::stop) stop = true;
        if (stop) break;
        lr *= cfg.learning_rate_decay;
        if (epoch < cfg.epochs && control) {
            // Between epochs: the state holds no partial sums.
            loss_sum = sq_sum = 0.0;
            correct = 0;
            if (stop_requested()) {
                save(epoch, 0);
                throw TrainingStopped("fine-tuning stopped after epoch " + std::to_string(epoch) +
                                      " of " + std::to_string(cfg.epochs));
            }
            const CheckpointPolicy& p = control->policy;
            const bool by_count = p.every_epochs > 0 && epoch % p.every_epochs == 0;
            const bool by_time =
                p.every_seconds > 0 &&
                std::chrono::duration<double>(clock::now() - last_checkpoint).count() >=
                    p.every_seconds;
            if (by_count || by_time) save(epoch, 0);
        }
    }
    if (has_valid && result.best_epoch != result.history.size()) {
        for (std::size_t i = 0; i < net.n_layers(); ++i) {
            net.layers[i].weights = best[i].weights;
            net.layers[i].bias = best[i].bias;
        }
    }
    return result;
}

}  // namespace

void check_fine_tune_data(const Dbn& model, const FineTuneConfig& config,
                          const data::Dataset& train, const data::Dataset* validation,
                          const data::Dataset* test) {
    const bool classifier = config.mode == FineTuneMode::classifier;
    DBN_CHECK(train.size() > 0, ConfigError, "training data " << train.source << ": no rows");
    Labels classes = Labels::from_shape({0});
    if (classifier) {
        DBN_CHECK(train.has_labels(), ConfigError,
                  "training data " << train.source
                                   << ": no labels for the classifier (give --labels SPEC)");
        classes = distinct_sorted(train.labels);
        DBN_CHECK(classes.size() >= 2, ConfigError,
                  "training data " << train.source << ": the labels hold "
                                   << counted(classes.size(), "class", "classes")
                                   << " (a classifier needs at least 2)");
    }
    auto check = [&](const data::Dataset& d, const char* role, const char* labels_flag) {
        DBN_CHECK(d.n_features() == model.n_visible(), ShapeError,
                  role << " " << d.source << ": " << d.n_features()
                       << " columns, but the model expects " << model.n_visible());
        if (!classifier) return;
        DBN_CHECK(d.has_labels(), ConfigError,
                  role << " " << d.source << ": no labels for the classifier (give " << labels_flag
                       << " SPEC)");
        DBN_CHECK(d.labels.size() == d.size(), ShapeError,
                  role << " " << d.source << ": " << d.labels.size() << " labels for " << d.size()
                       << " rows");
        for (std::size_t i = 0; i < d.size(); ++i) {
            DBN_CHECK(std::binary_search(classes.begin(), classes.end(), d.labels(i)), ConfigError,
                      role << " " << d.source << ": label " << d.labels(i) << " (row " << i
                           << ") is not one of the " << classes.size()
                           << " classes of the training labels");
        }
    };
    check(train, "training data", "--labels");
    if (validation && validation->size() > 0)
        check(*validation, "validation data", "--validation-labels");
    if (test) {
        DBN_CHECK(test->size() > 0, ConfigError, "test data " << test->source << ": no rows");
        check(*test, "test data", "--test-labels");
    }
}

FineTuneResult fine_tune(const Dbn& model, const data::Dataset& train,
                         const data::Dataset* validation, const FineTuneConfig& config,
                         FineTuneObserver* observer, const std::optional<FineTuned>& previous_part,
                         const FineTuneControl* control) {
    config.validate();
    model.validate();
    const bool classifier = config.mode == FineTuneMode::classifier;
    check_columns(model, train, "the training data");
    DBN_CHECK(train.size() > 0, ConfigError,
              (train.source.empty() ? std::string("the training data") : train.source)
                  << ": no rows to fine-tune on");
    if (classifier)
        DBN_CHECK(train.has_labels() && train.labels.size() == train.size(), ConfigError,
                  "the classifier needs one label per training row ("
                      << train.source << " has " << train.labels.size() << " labels for "
                      << train.size() << " rows)");
    if (validation) {
        check_columns(model, *validation, "the validation data");
        if (classifier && validation->size() > 0)
            DBN_CHECK(validation->labels.size() == validation->size(), ConfigError,
                      "the classifier needs one label per validation row ("
                          << validation->source << " has " << validation->labels.size()
                          << " labels for " << validation->size() << " rows)");
    }
    Rng rng(config.seed);
    auto note = [&](const std::string& s) {
        if (observer) observer->on_message(s.c_str());
    };

    // Training and validation rows, preprocessed once.
    Matrix x_train, x_valid = Matrix::from_shape({0, model.n_visible()});
    Labels y_train, y_valid = Labels::from_shape({0});
    if (validation == nullptr && config.validation_fraction > 0.0) {
        const std::size_t n = train.size();
        const std::size_t n_valid =
            std::min(n - 1, static_cast<std::size_t>(std::llround(config.validation_fraction * n)));
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
        std::vector<std::size_t> vi(order.end() - long(n_valid), order.end());
        order.resize(n - n_valid);
        std::sort(order.begin(), order.end());
        std::sort(vi.begin(), vi.end());
        x_train = network_inputs(model, take_rows(train.x, order));
        x_valid = network_inputs(model, take_rows(train.x, vi));
        if (classifier) {
            y_train = take_labels(train.labels, order);
            y_valid = take_labels(train.labels, vi);
        }
        std::ostringstream s;
        s << "validation: " << n_valid << " of the " << n << " training rows held out (seeded)";
        note(s.str());
    } else {
        x_train = network_inputs(model, train.x);
        if (classifier) y_train = train.labels;
        if (validation && validation->size() > 0) {
            x_valid = network_inputs(model, validation->x);
            if (classifier) y_valid = validation->labels;
        }
    }

    FineTuneResult result{model, {}};
    Dbn& out = result.stack;
    FineTuned& ft = result.fine_tuned;
    ft.mode = config.mode;
    ft.config = config;
    const FineTuned* previous =
        (previous_part && previous_part->mode == config.mode) ? &*previous_part : nullptr;
    const bool random = config.init != InitScheme::pretrained;

    Network net = unroll_encoder(model, false);
    if (random) {
        for (auto& l : net.layers) init_random(l, config.init, config.init_stddev, rng);
        for (auto& r : out.layers) r.visible_bias().fill(Real{0});
    }

    Problem tp, vp;
    tp.x = &x_train;
    vp.x = &x_valid;
    std::size_t n_top = model.layers.back().n_hidden();
    if (classifier) {
        ft.classes = distinct_sorted(y_train);
        DBN_CHECK(ft.classes.size() >= 2, ConfigError,
                  "the training labels hold " << counted(ft.classes.size(), "class", "classes")
                                              << " (a classifier needs at least 2)");
        tp.classes = class_indices(y_train, ft.classes, "the training labels");
        vp.classes = class_indices(y_valid, ft.classes, "the validation labels");
        DenseLayer head = dense(n_top, ft.classes.size(), Activation::softmax);
        const bool continued =
            !random && previous && previous->classes.size() == ft.classes.size() &&
            std::equal(previous->classes.begin(), previous->classes.end(), ft.classes.begin()) &&
            previous->head.n_in() == n_top;
        if (continued) {
            head = previous->head;
            note("classifier: continuing from the model's fine-tuned head");
        } else {
            if (previous) note("classifier: the model's head has other classes; a new one starts");
            init_random(head, random ? config.init : InitScheme::normal,
                        random ? config.init_stddev : config.head_init_stddev, rng);
        }
        if (config.head_only) {
            // Logistic regression on the frozen stack's top-layer features: the stack runs once.
            Workspace ews(net, 1024);
            x_train = network_outputs(net, x_train, ews);
            x_valid = x_valid.shape(0) ? network_outputs(net, x_valid, ews)
                                       : Matrix(Matrix::from_shape({0, n_top}));
            Network head_net;
            head_net.layers.push_back(std::move(head));
            head_net.loss = LossKind::cross_entropy;
            head_net.weight_decay = config.weight_decay;
            head_net.dropout = config.dropout;
            head_net.input_dropout = config.input_dropout;
            const LoopResult r = train_loop(head_net, tp, &vp, config, rng, observer, control);
            ft.head = std::move(head_net.layers.front());
            ft.history = r.history;
            ft.best_epoch = r.best_epoch;
        } else {
            net.layers.push_back(std::move(head));
            net.hooks.push_back(nullptr);
            net.loss = LossKind::cross_entropy;
            net.weight_decay = config.weight_decay;
            net.dropout = config.dropout;
            net.input_dropout = config.input_dropout;
            const LoopResult r = train_loop(net, tp, &vp, config, rng, observer, control);
            ft.head = net.layers.back();
            net.layers.pop_back();
            net.hooks.pop_back();
            ft.history = r.history;
            ft.best_epoch = r.best_epoch;
        }
    } else {
        const bool continued = !random && previous && previous->decoder.size() == model.n_layers();
        ft.linear_code = continued ? previous->linear_code : config.linear_code;
        ft.config.linear_code = ft.linear_code;
        if (ft.linear_code) net.layers.back().activation = Activation::linear;
        std::vector<DenseLayer> decoder = continued ? previous->decoder : transposed_decoder(model);
        if (continued) note("autoencoder: continuing from the model's fine-tuned decoder");
        for (std::size_t k = model.n_layers(); k-- > 0;) {
            if (random) init_random(decoder[k], config.init, config.init_stddev, rng);
            net.layers.push_back(decoder[k]);
            net.hooks.push_back(nullptr);
        }
        net.loss = config.loss;
        net.weight_decay = config.weight_decay;
        net.dropout = config.dropout;
        net.input_dropout = config.input_dropout;
        const Activation out_act = net.layers.back().activation;
        DBN_CHECK(config.loss != LossKind::cross_entropy || out_act == Activation::sigmoid,
                  ConfigError,
                  "the cross-entropy loss needs sigmoid outputs (Bernoulli visible units); "
                  "the output here is "
                      << to_string(out_act) << ": use squared_error");
        if (config.loss == LossKind::cross_entropy) {
            for (const Matrix* m : {&x_train, &x_valid}) {
                const auto [lo, hi] = std::minmax_element(m->begin(), m->end());
                DBN_CHECK(m->size() == 0 || (*lo >= 0.0f && *hi <= 1.0f), ConfigError,
                          "the cross-entropy loss needs preprocessed data in [0, 1] (found "
                              << *lo << " .. " << *hi << "); scale the data or use squared_error");
            }
        }
        tp.target = &x_train;
        vp.target = &x_valid;
        const LoopResult r = train_loop(net, tp, &vp, config, rng, observer, control);
        const std::size_t n = model.n_layers();
        for (std::size_t k = 0; k < n; ++k) {
            ft.decoder.push_back(net.layers[2 * n - 1 - k]);
        }
        net.layers.resize(n);
        net.hooks.resize(n);
        ft.history = r.history;
        ft.best_epoch = r.best_epoch;
    }

    if (!config.head_only || random) {
        // The tuned (or, head_only, randomly initialized) encoder goes back into the stack; unfold
        // the 1/sigma of Gaussian layers.
        for (std::size_t k = 0; k < out.n_layers(); ++k) {
            Rbm& rbm = out.layers[k];
            rbm.weights() = net.layers[k].weights;
            rbm.hidden_bias() = net.layers[k].bias;
            if (rbm.visible_units().has_sigma()) {
                for (std::size_t i = 0; i < rbm.n_visible(); ++i) {
                    const Real s = rbm.visible_sigma()(i);
                    if (s == Real{1}) continue;
                    for (std::size_t j = 0; j < rbm.n_hidden(); ++j) rbm.weights()(i, j) *= s;
                }
            }
        }
    }
    return result;
}

}  // namespace dbn::finetune
