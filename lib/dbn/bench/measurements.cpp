#include "dbn/bench/measurements.hpp"

#include <algorithm>

#include "dbn/core/rng.hpp"
#include "dbn/features/features.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "dbn/train/rbm_trainer.hpp"

namespace dbn::bench {

RbmProducts default_rbm_products() { return &RbmTrainer::minibatch_products; }

Settings Settings::make(bool quick, std::size_t threads) {
    Settings s;
    s.threads = threads;
    s.runs = quick ? 1 : 3;
    s.reps = quick ? 3 : 5;
    if (quick) s.rows = 10000;
    s.ais_steps = quick ? estimate::k_ais_quick_steps : estimate::k_ais_default_steps;
    return s;
}

data::Dataset load_data(const std::string& spec, std::optional<std::size_t> rows) {
    data::Dataset d = data::read_dataset(spec);
    if (rows) d = data::first_rows(std::move(d), *rows);
    const float mx = d.x.size() ? *std::max_element(d.x.begin(), d.x.end()) : 1.0f;
    if (mx > 1.0f)
        for (auto& v : d.x) v /= mx;
    return d;
}

// --- the RBM -------------------------------------------------------------------------------

LayerTrainingConfig rbm_config(Algorithm algorithm) {
    LayerTrainingConfig c;
    c.algorithm = algorithm;
    c.k = 1;
    c.batch_size = 100;
    c.epochs = 1;
    c.learning_rate = 0.05;
    c.initial_momentum = 0.5;
    c.weight_decay = 0.0002;
    return c;
}

double time_epochs(const Matrix& x, Algorithm algorithm, std::size_t threads, int runs, Rbm& model,
                   std::size_t n_hidden) {
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
        Rng rng(2006 + static_cast<std::uint64_t>(r));
        Rbm rbm(x.shape(1), n_hidden);
        rbm.init_random(rng, 0.01f);
        RbmTrainer trainer(rbm, rbm_config(algorithm), rng);
        trainer.set_threads(threads);
        trainer.init_visible_bias(x);
        times.push_back(trainer.train_epoch(x));
        model = std::move(rbm);
    }
    return median(times);
}

RbmMeasurement measure_rbm(const Matrix& x, const Settings& settings) {
    RbmMeasurement m;
    const LayerTrainingConfig cd = rbm_config(Algorithm::cd);
    m.n_visible = x.shape(1);
    m.batch_size = cd.batch_size;
    m.minibatches = (x.shape(0) + m.batch_size - 1) / m.batch_size;
    m.limit = measure_limit(settings.rbm_products(m.n_visible, m.n_hidden, cd), settings.threads,
                            settings.reps);
    m.limit_seconds = m.limit.seconds * double(m.minibatches);
    m.cd1_seconds = time_epochs(x, Algorithm::cd, settings.threads, settings.runs, m.model);
    Rbm other;
    m.pcd1_seconds = time_epochs(x, Algorithm::pcd, settings.threads, settings.runs, other);
    if (settings.threads > 1) {
        blas::set_num_threads(1);
        m.cd1_seconds_1_thread = time_epochs(x, Algorithm::cd, 1, settings.runs, other);
        blas::set_num_threads(static_cast<int>(settings.threads));
    }
    return m;
}

// --- AIS -----------------------------------------------------------------------------------

// Per temperature, estimate::Ais runs one up (runs x n_v -> n_h) and one down product.
std::vector<blas::GemmShape> ais_products(std::size_t runs, std::size_t n_visible,
                                          std::size_t n_hidden) {
    return {{"AIS up", false, false, runs, n_hidden, n_visible, 1},
            {"AIS down", false, true, runs, n_visible, n_hidden, 1}};
}

AisMeasurement measure_ais(const Rbm& model, const Matrix& x, const Settings& settings) {
    estimate::AisConfig cfg;
    cfg.runs = estimate::k_ais_default_runs;
    cfg.steps = settings.ais_steps;
    const estimate::Ais estimator(cfg);
    AisMeasurement out;
    out.runs = cfg.runs;
    out.steps = cfg.steps;
    out.groups = estimate::ais_groups(cfg.runs);
    out.limit = measure_limit(ais_products(cfg.runs, model.n_visible(), model.n_hidden()),
                              settings.threads, settings.reps);
    out.limit_seconds = double(cfg.steps) * out.limit.seconds;
    out.flops = double(cfg.steps) * out.limit.flops;
    const Stopwatch clock;
    out.log_z = estimator.estimate(model, x).log_z;
    out.seconds = clock.seconds();
    return out;
}

// --- fine-tuning and feature extraction ----------------------------------------------------

namespace {

std::vector<std::size_t> widths_of(const Dbn& stack) {
    std::vector<std::size_t> w = {stack.n_visible()};
    for (const Rbm& r : stack.layers) w.push_back(r.n_hidden());
    return w;
}

class EpochClock : public finetune::FineTuneObserver {
public:
    double seconds = NAN;
    Control on_epoch_end(const finetune::FineTuneEpoch& e) override {
        seconds = e.seconds;
        return Control::proceed;
    }
};

// Seconds of one fine-tuning epoch (a fresh head from `seed`): finetune::FineTuneEpoch::seconds.
double time_finetune(const Dbn& stack, const data::Dataset& d, std::uint64_t seed) {
    EpochClock clock;
    finetune::fine_tune(stack, d, nullptr, finetune_config(seed), &clock);
    return clock.seconds;
}

// Seconds of the top layer's features of every row, `chunk` rows at a time.
double time_features(const Dbn& stack, const Matrix& x, std::size_t chunk) {
    const std::size_t n = x.shape(0), nv = x.shape(1), top = stack.n_layers() - 1;
    double sink = 0.0;
    auto pass = [&](std::size_t rows_total) {
        for (std::size_t first = 0; first < rows_total; first += chunk) {
            const std::size_t rows = std::min(chunk, rows_total - first);
            Matrix c = Matrix::from_shape({rows, nv});
            std::copy(x.data() + first * nv, x.data() + (first + rows) * nv, c.data());
            const Matrix f = features::features(stack, c, top);
            sink += f.size() ? double(f(0, 0)) : 0.0;
        }
    };
    pass(std::min(chunk, n));  // warm-up: BLAS threads and buffers, the allocator's pages
    const Stopwatch clock;
    pass(n);
    const double s = clock.seconds();
    return std::isfinite(sink) ? s : NAN;  // keeps the work observable
}

}  // namespace

Dbn random_stack(const std::vector<std::size_t>& widths, std::uint64_t seed) {
    Rng rng(seed);
    Dbn m;
    for (std::size_t k = 0; k + 1 < widths.size(); ++k) {
        Rbm r(widths[k], widths[k + 1]);
        r.init_random(rng, 0.01f);
        m.layers.push_back(std::move(r));
    }
    return m;
}

finetune::FineTuneConfig finetune_config(std::uint64_t seed) {
    finetune::FineTuneConfig c;
    c.mode = finetune::FineTuneMode::classifier;
    c.epochs = 1;
    c.validation_fraction = 0.0;
    c.patience = 0;
    c.seed = seed;
    return c;
}

FineTuneMeasurement measure_finetune(const Dbn& stack, data::Dataset& data,
                                     const Settings& settings) {
    const std::size_t n = data.x.shape(0);
    const finetune::FineTuneConfig cfg = finetune_config(1);
    FineTuneMeasurement out;
    out.shape = widths_of(stack);
    out.shape.push_back(k_classes);
    out.batch_size = std::min(cfg.batch_size, n);
    out.optimizer = cfg.optimizer;
    {
        std::vector<std::int32_t> classes(data.labels.begin(), data.labels.end());
        std::sort(classes.begin(), classes.end());
        classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
        if (classes.size() != k_classes) {
            data.labels = Labels::from_shape({n});
            for (std::size_t i = 0; i < n; ++i)
                data.labels(i) = static_cast<std::int32_t>(i % k_classes);
        }
    }
    std::vector<blas::GemmShape> products;
    {
        // The network fine_tune() trains: the unrolled stack and a softmax head.
        finetune::Network net = finetune::unroll_encoder(stack);
        finetune::DenseLayer head;
        head.weights = Matrix::from_shape({out.shape[out.shape.size() - 2], k_classes});
        head.bias = Vector::from_shape({k_classes});
        head.activation = finetune::Activation::softmax;
        net.layers.push_back(std::move(head));
        products = net.training_products(out.batch_size);
    }
    const double batches = double((n + out.batch_size - 1) / out.batch_size);
    std::vector<double> times, limits;
    for (int r = 0; r < settings.runs; ++r) {
        GemmLimit limit = measure_limit(products, settings.threads, settings.reps);
        out.flops = limit.flops * batches;
        limits.push_back(limit.seconds * batches);
        if (r == 0) out.limit = std::move(limit);
        times.push_back(time_finetune(stack, data, 1 + static_cast<std::uint64_t>(r)));
    }
    out.seconds = median(times);
    out.limit_seconds = median(limits);
    return out;
}

FeatureMeasurement measure_features(const Dbn& stack, const Matrix& x, const Settings& settings) {
    FeatureMeasurement out;
    out.shape = widths_of(stack);
    out.rows = x.shape(0);
    out.chunk_rows = std::min<std::size_t>(features::FeatureOptions{}.chunk_rows, out.rows);
    std::vector<blas::GemmShape> products;
    {
        const finetune::Network net = finetune::unroll_encoder(stack);
        products = net.forward_products(out.chunk_rows);
        for (const blas::GemmShape& p : net.forward_products(out.rows)) out.flops += p.flops();
    }
    std::vector<double> times, limits;
    for (int r = 0; r < settings.runs; ++r) {
        GemmLimit limit = measure_limit(products, settings.threads, settings.reps);
        limits.push_back(out.flops / (limit.gflops() * 1e9));
        if (r == 0) out.limit = std::move(limit);
        times.push_back(time_features(stack, x, out.chunk_rows));
    }
    out.seconds = median(times);
    out.limit_seconds = median(limits);
    return out;
}

}  // namespace dbn::bench
