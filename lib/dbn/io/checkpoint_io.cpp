#include "dbn/io/checkpoint_io.hpp"

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/finetune/dense_layer.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/io/record_io.hpp"
#include "dbn/units/units.hpp"

namespace dbn::io {
namespace {

using hdf5::File;
using hdf5::Group;

// ---- writing -------------------------------------------------------------------------------

void write_state(Group& g, const std::string& name, const Rng::State& s) {
    g.write_dataset(name, s.data(), {s.size()});
}

void write_indices(Group& g, const std::string& name, const std::vector<std::size_t>& v) {
    std::vector<std::uint64_t> u(v.begin(), v.end());
    g.write_dataset(name, u.data(), {u.size()});
}

void write_matrix(Group& g, const std::string& name, const Matrix& m) {
    g.write_dataset(name, m.data(), {m.shape(0), m.shape(1)});
}

void write_vector(Group& g, const std::string& name, const Vector& v) {
    g.write_dataset(name, v.data(), {v.size()});
}

void write_trainer(Group& g, const TrainerState& t) {
    Group r = g.create_group("rbm");
    r.write_string_attribute("visible", to_string(t.rbm.visible_type()));
    r.write_string_attribute("hidden", to_string(t.rbm.hidden_type()));
    write_matrix(r, "weights", t.rbm.weights());
    write_vector(r, "visible_bias", t.rbm.visible_bias());
    write_vector(r, "hidden_bias", t.rbm.hidden_bias());
    write_vector(r, "visible_sigma", t.rbm.visible_sigma());
    write_state(g, "rng", t.rng);
    write_matrix(g, "velocity", t.updater.velocity);
    write_vector(g, "sparsity_estimate", t.updater.sparsity_estimate);
    g.write_int_attribute("sparsity_started", t.updater.sparsity_started ? 1 : 0);
    write_matrix(g, "chains", t.chains.hidden);
    g.write_int_attribute("chains_started", t.chains.started ? 1 : 0);
    g.write_uint_attribute("epochs_done", t.position.epochs_done);
    g.write_uint_attribute("minibatch", t.position.minibatch);
    write_indices(g, "order", t.position.order);
    write_state(g, "substream_origin", t.position.substream_origin);
    write_indices(g, "monitor_train_rows", t.monitor_rows.train);
    write_indices(g, "monitor_heldout_rows", t.monitor_rows.heldout);
    write_indices(g, "monitor_flip_bits", t.monitor_rows.flip_bits);
    g.write_int_attribute("training_started", t.training_started ? 1 : 0);
    Group h = g.create_group("history");
    write_columns(h, t.history);
    write_divergence_events(g, t.divergence_events);
    if (t.guard_start) {
        Group s = g.create_group("guard_start");
        write_trainer(s, *t.guard_start);
    }
}

void write_checks(Group& g, const ChecksState& c) {
    write_state(g, "rng", c.rng);
    g.write_int_attribute("all_passed", c.all_passed ? 1 : 0);
    Group states = g.create_group("states");
    for (std::size_t k = 0; k < c.evaluator.states.size(); ++k) {
        const estimate::WeightedStates& w = c.evaluator.states[k];
        if (w.empty()) continue;
        Group s = states.create_group(std::to_string(k));
        write_matrix(s, "visible", w.visible);
        s.write_dataset("log_weights", w.log_weights.data(), {w.log_weights.size()});
    }
    g.write_uint_attribute("layers", c.evaluator.states.size());
    Group paths = g.create_group("path_delta");
    g.write_uint_attribute("pairs", c.evaluator.path_delta.size());
    for (std::size_t k = 0; k < c.evaluator.path_delta.size(); ++k) {
        const auto& d = c.evaluator.path_delta[k];
        if (!d) continue;
        Group p = paths.create_group(std::to_string(k));
        p.write_double_attribute("value", d->value);
        p.write_double_attribute("low", d->low);
        p.write_double_attribute("high", d->high);
        p.write_string_attribute("method", d->method);
    }
}

void write_dense(Group& g, const finetune::DenseLayer& l) {
    g.write_string_attribute("units", finetune::to_string(l.activation));
    write_matrix(g, "weights", l.weights);
    write_vector(g, "bias", l.bias);
}

void write_fine_tune_state(Group& g, const finetune::FineTuneState& s) {
    g.write_uint_attribute("epochs_done", s.epochs_done);
    g.write_uint_attribute("minibatch", s.minibatch);
    g.write_double_attribute("loss_sum", s.loss_sum);
    g.write_double_attribute("squared_error_sum", s.squared_error_sum);
    g.write_uint_attribute("correct", s.correct);
    g.write_double_attribute("seconds", s.seconds);
    g.write_double_attribute("learning_rate", s.learning_rate);
    g.write_uint_attribute("best_epoch", s.best_epoch);
    g.write_double_attribute("best_score", s.best_score);
    g.write_uint_attribute("since_best", s.since_best);
    g.write_uint_attribute("optimizer_steps", s.optimizer.steps);
    g.write_uint_attribute("layers", s.layers.size());
    write_state(g, "rng", s.rng);
    write_indices(g, "order", s.order);
    Group net = g.create_group("network");
    const finetune::OptimizerState& o = s.optimizer;
    for (std::size_t i = 0; i < s.layers.size(); ++i) {
        Group l = net.create_group(std::to_string(i));
        write_dense(l, s.layers[i]);
        if (i < o.m_weights.size()) write_matrix(l, "m_weights", o.m_weights[i]);
        if (i < o.m_bias.size()) write_vector(l, "m_bias", o.m_bias[i]);
        if (i < o.v_weights.size()) write_matrix(l, "v_weights", o.v_weights[i]);
        if (i < o.v_bias.size()) write_vector(l, "v_bias", o.v_bias[i]);
    }
    if (!s.best.empty()) {
        Group best = g.create_group("best");
        for (std::size_t i = 0; i < s.best.size(); ++i) {
            Group l = best.create_group(std::to_string(i));
            write_dense(l, s.best[i]);
        }
    }
    Group h = g.create_group("history");
    write_columns(h, s.history);
}

// ---- reading -------------------------------------------------------------------------------

class Reader {
public:
    Reader(std::string path, const File& file) : path_(std::move(path)), file_(file) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(path_, ec);
        file_bytes_ = ec ? 0 : static_cast<std::size_t>(size);
    }

    [[noreturn]] void fail(const std::string& object, const std::string& what) const {
        throw FormatError(path_ + ": " + object + ": " + what);
    }

    /// A dataset's elements after checking its rank, its shape against `expected` (entries of 0
    /// are free) and its bytes against the file's size (the layout stores arrays uncompressed),
    /// so that a damaged shape never sizes an allocation.
    template <class T>
    std::vector<T> read(const Group& g, const std::string& name, std::size_t rank,
                        std::vector<std::size_t> expected = {}) const {
        const std::string object = g.path() + "/" + name;
        if (!g.has_dataset(name)) fail(object, "missing");
        const hdf5::Dataset ds = g.open_dataset(name);
        const std::vector<std::size_t> shape = ds.shape();
        if (shape.size() != rank)
            fail(object, std::to_string(shape.size()) + " dimension(s) (expected " +
                             std::to_string(rank) + ")");
        std::size_t n = 1;
        for (std::size_t d = 0; d < rank; ++d) {
            if (d < expected.size() && expected[d] != 0 && shape[d] != expected[d])
                fail(object, "dimension " + std::to_string(d) + " is " + std::to_string(shape[d]) +
                                 " (expected " + std::to_string(expected[d]) + ")");
            if (shape[d] != 0 && n > file_bytes_ / shape[d]) fail(object, "larger than the file");
            n *= shape[d];
        }
        if (n > file_bytes_ / std::max<std::size_t>(ds.type().size, 1))
            fail(object, "larger than the file");
        std::vector<T> v(n);
        ds.read(v.data(), n);
        return v;
    }

    std::vector<std::size_t> shape(const Group& g, const std::string& name) const {
        if (!g.has_dataset(name)) fail(g.path() + "/" + name, "missing");
        return g.open_dataset(name).shape();
    }

    Rng::State state(const Group& g, const std::string& name) const {
        const auto v = read<std::uint64_t>(g, name, 1, {4});
        Rng::State s{};
        std::copy(v.begin(), v.end(), s.begin());
        return s;
    }

    Matrix matrix(const Group& g, const std::string& name, std::size_t rows,
                  std::size_t cols) const {
        const auto shape_ = shape(g, name);
        const auto v = read<float>(g, name, 2, {rows, cols});
        Matrix m = Matrix::from_shape({shape_[0], shape_[1]});
        std::copy(v.begin(), v.end(), m.data());
        return m;
    }

    Vector vector(const Group& g, const std::string& name, std::size_t n) const {
        const auto v = read<float>(g, name, 1, {n});
        Vector out = Vector::from_shape({v.size()});
        std::copy(v.begin(), v.end(), out.data());
        return out;
    }

    std::vector<std::size_t> indices(const Group& g, const std::string& name) const {
        const auto v = read<std::uint64_t>(g, name, 1);
        return {v.begin(), v.end()};
    }

    bool flag(const Group& g, const std::string& name) const {
        const std::int64_t v = g.read_int_attribute(name);
        if (v != 0 && v != 1) fail(g.path() + "@" + name, "not 0 or 1");
        return v == 1;
    }

    /// The training state of layer `layer`; its guard_start, only when not `nested` (a damaged
    /// file cannot make the reading recurse).
    TrainerState trainer(const Group& g, std::size_t layer, bool nested = false) const {
        TrainerState t;
        t.layer = layer;
        const Group r = g.open_group("rbm");
        const auto w = shape(r, "weights");
        if (w.size() != 2) fail(r.path() + "/weights", "not a matrix");
        const UnitType vt = parse_unit_type(r.read_string_attribute("visible"));
        const UnitType ht = parse_unit_type(r.read_string_attribute("hidden"));
        t.rbm = Rbm(w[0], w[1], vt, ht);
        t.rbm.weights() = matrix(r, "weights", w[0], w[1]);
        t.rbm.visible_bias() = vector(r, "visible_bias", w[0]);
        t.rbm.hidden_bias() = vector(r, "hidden_bias", w[1]);
        t.rbm.visible_sigma() = vector(r, "visible_sigma", w[0]);
        t.rng = state(g, "rng");
        const auto vel = shape(g, "velocity");
        if (vel.size() != 2) fail(g.path() + "/velocity", "not a matrix");
        t.updater.velocity = matrix(g, "velocity", vel[0], vel[1]);
        t.updater.sparsity_estimate = vector(g, "sparsity_estimate", 0);
        t.updater.sparsity_started = flag(g, "sparsity_started");
        const auto ch = shape(g, "chains");
        if (ch.size() != 2) fail(g.path() + "/chains", "not a matrix");
        t.chains.hidden = matrix(g, "chains", ch[0], ch[1]);
        t.chains.started = flag(g, "chains_started");
        t.position.epochs_done = g.read_uint_attribute("epochs_done");
        t.position.minibatch = g.read_uint_attribute("minibatch");
        t.position.order = indices(g, "order");
        t.position.substream_origin = state(g, "substream_origin");
        t.monitor_rows.train = indices(g, "monitor_train_rows");
        t.monitor_rows.heldout = indices(g, "monitor_heldout_rows");
        t.monitor_rows.flip_bits = indices(g, "monitor_flip_bits");
        t.training_started = flag(g, "training_started");
        t.history = read_columns<EpochStats>(g.open_group("history"), path_);
        t.divergence_events = read_divergence_events(g, layer, path_);
        if (g.exists("guard_start")) {
            if (nested || !g.has_group("guard_start"))
                fail(g.path() + "/guard_start", "unexpected here");
            t.guard_start = std::make_shared<const TrainerState>(
                trainer(g.open_group("guard_start"), layer, true));
        }
        return t;
    }

    ChecksState checks(const Group& g, const ModelFile& model) const {
        ChecksState c;
        c.rng = state(g, "rng");
        c.all_passed = flag(g, "all_passed");
        const std::size_t layers = g.read_uint_attribute("layers");
        const std::size_t pairs = g.read_uint_attribute("pairs");
        if (layers != model.log_z.size())
            fail(g.path(), "final states of " + std::to_string(layers) + " layers, log Z of " +
                               std::to_string(model.log_z.size()));
        if (pairs > layers) fail(g.path(), "more path estimates than layers");
        c.evaluator.log_z = model.log_z;
        c.evaluator.checks = model.checks;
        c.evaluator.states.resize(layers);
        const Group states = g.open_group("states");
        for (std::size_t k = 0; k < layers; ++k) {
            const std::string name = std::to_string(k);
            if (!states.has_group(name)) continue;
            const Group s = states.open_group(name);
            const auto vs = shape(s, "visible");
            if (vs.size() != 2) fail(s.path() + "/visible", "not a matrix");
            estimate::WeightedStates& w = c.evaluator.states[k];
            w.visible = matrix(s, "visible", vs[0], vs[1]);
            w.log_weights = read<double>(s, "log_weights", 1, {vs[0]});
        }
        c.evaluator.path_delta.resize(pairs);
        const Group paths = g.open_group("path_delta");
        for (std::size_t k = 0; k < pairs; ++k) {
            const std::string name = std::to_string(k);
            if (!paths.has_group(name)) continue;
            const Group p = paths.open_group(name);
            estimate::DeltaLogZ d;
            d.value = p.read_double_attribute("value");
            d.low = p.read_double_attribute("low");
            d.high = p.read_double_attribute("high");
            d.method = p.read_string_attribute("method");
            c.evaluator.path_delta[k] = d;
        }
        return c;
    }

    finetune::DenseLayer dense(const Group& g) const {
        finetune::DenseLayer l;
        try {
            l.activation = finetune::parse_activation(g.read_string_attribute("units"));
        } catch (const ConfigError& e) {
            fail(g.path() + "@units", e.what());
        }
        const auto w = shape(g, "weights");
        if (w.size() != 2) fail(g.path() + "/weights", "not a matrix");
        l.weights = matrix(g, "weights", w[0], w[1]);
        l.bias = vector(g, "bias", w[1]);
        return l;
    }

    finetune::FineTuneState fine_tune_state(const Group& g) const {
        finetune::FineTuneState s;
        s.epochs_done = g.read_uint_attribute("epochs_done");
        s.minibatch = g.read_uint_attribute("minibatch");
        s.loss_sum = g.read_double_attribute("loss_sum");
        s.squared_error_sum = g.read_double_attribute("squared_error_sum");
        s.correct = g.read_uint_attribute("correct");
        s.seconds = g.read_double_attribute("seconds");
        s.learning_rate = g.read_double_attribute("learning_rate");
        s.best_epoch = g.read_uint_attribute("best_epoch");
        s.best_score = g.read_double_attribute("best_score");
        s.since_best = g.read_uint_attribute("since_best");
        s.optimizer.steps = g.read_uint_attribute("optimizer_steps");
        const std::size_t layers = g.read_uint_attribute("layers");
        s.rng = state(g, "rng");
        s.order = indices(g, "order");
        const Group net = g.open_group("network");
        for (std::size_t i = 0; i < layers; ++i) {
            const std::string name = std::to_string(i);
            if (!net.has_group(name)) fail(net.path() + "/" + name, "missing");
            const Group l = net.open_group(name);
            s.layers.push_back(dense(l));
            const auto& d = s.layers.back();
            s.optimizer.m_weights.push_back(
                matrix(l, "m_weights", d.weights.shape(0), d.weights.shape(1)));
            s.optimizer.m_bias.push_back(vector(l, "m_bias", d.bias.size()));
            if (l.has_dataset("v_weights") || l.has_dataset("v_bias")) {
                s.optimizer.v_weights.push_back(
                    matrix(l, "v_weights", d.weights.shape(0), d.weights.shape(1)));
                s.optimizer.v_bias.push_back(vector(l, "v_bias", d.bias.size()));
            }
        }
        if (net.has_group(std::to_string(layers)))
            fail(net.path() + "/" + std::to_string(layers),
                 "exists, but the checkpoint has " + std::to_string(layers) + " layers");
        if (g.has_group("best")) {
            const Group best = g.open_group("best");
            for (std::size_t i = 0; i < layers; ++i) {
                const std::string name = std::to_string(i);
                if (!best.has_group(name)) fail(best.path() + "/" + name, "missing");
                s.best.push_back(dense(best.open_group(name)));
            }
        }
        s.history = read_columns<finetune::FineTuneEpoch>(g.open_group("history"), path_);
        if (s.history.size() != s.epochs_done)
            fail(g.path() + "/history", std::to_string(s.history.size()) +
                                            " epochs for epochs_done " +
                                            std::to_string(s.epochs_done));
        return s;
    }

private:
    std::string path_;
    const File& file_;
    std::size_t file_bytes_ = 0;
};

}  // namespace

void save_checkpoint(const PretrainCheckpoint& c, const std::string& path) {
    write_atomically(path, [&](File& file) {
        if (!c.model.stack.layers.empty()) write_model(file, c.model, path);
        Group g = file.create_group("checkpoint");
        g.write_string_attribute("format", checkpoint_format);
        g.write_int_attribute("format_version", checkpoint_format_version);
        g.write_uint_attribute("layer", c.layer);
        g.write_string_attribute("config_json", c.config_json);
        g.write_uint_attribute("seed", c.seed);
        g.write_uint_attribute("epochs_override", c.epochs_override);
        g.write_int_attribute("checks_enabled", c.checks_enabled ? 1 : 0);
        g.write_uint_attribute("threads", c.threads);
        g.write_string_attribute("out", c.out);
        write_state(g, "layer_rng", c.layer_rng);
        std::vector<std::uint64_t> prop;
        for (const Rng::State& s : c.propagate_rng) prop.insert(prop.end(), s.begin(), s.end());
        g.write_dataset("propagate_rng", prop.data(), {c.propagate_rng.size(), 4});
        Group d = g.create_group("data");
        d.write_string_attribute("spec", c.data.spec);
        d.write_string_attribute("validation", c.data.validation);
        d.write_uint_attribute("limit", c.data.limit);
        d.write_uint_attribute("rows", c.data.rows);
        d.write_uint_attribute("columns", c.data.columns);
        d.write_uint_attribute("hash", c.data.hash);
        if (c.trainer) {
            Group t = g.create_group("trainer");
            write_trainer(t, *c.trainer);
        }
        if (c.checks) {
            Group k = g.create_group("checks");
            write_checks(k, *c.checks);
        }
    });
}

bool is_checkpoint(const std::string& path) {
    if (!hdf5::is_hdf5(path)) return false;
    const File file = File::open(path);
    return file.has_group("checkpoint");
}

bool is_finetune_checkpoint(const std::string& path) {
    if (!hdf5::is_hdf5(path)) return false;
    const File file = File::open(path);
    if (!file.has_group("checkpoint")) return false;
    const Group g = file.open_group("checkpoint");
    return g.has_attribute("format") &&
           g.attribute_type("format").type_class == hdf5::TypeClass::string &&
           g.read_string_attribute("format") == finetune_checkpoint_format;
}

PretrainCheckpoint load_checkpoint(const std::string& path) {
    DBN_CHECK(hdf5::is_hdf5(path), FormatError, path << ": not an HDF5 file");
    PretrainCheckpoint c;
    bool has_layers = false;
    {
        const File file = File::open(path);
        DBN_CHECK(file.has_group("checkpoint"), FormatError,
                  path << ": not a pretraining checkpoint (no /checkpoint group)");
        has_layers = file.has_group("layers");
    }
    // The finished layers are a model file of their own, read as one.
    if (has_layers) c.model = load_model(path);
    const File file = File::open(path);
    const Reader r(path, file);
    const Group g = file.open_group("checkpoint");
    if (g.has_attribute("format") &&
        g.read_string_attribute("format") == finetune_checkpoint_format)
        r.fail("/checkpoint",
               "a fine-tuning checkpoint, not a pretraining one (resume it with dbn finetune "
               "--resume)");
    if (!g.has_attribute("format") || g.read_string_attribute("format") != checkpoint_format)
        r.fail("/checkpoint", "not a dbn pretraining checkpoint (attribute format)");
    if (g.read_int_attribute("format_version") != checkpoint_format_version)
        r.fail("/checkpoint",
               "format_version " + std::to_string(g.read_int_attribute("format_version")) +
                   " (this program reads " + std::to_string(checkpoint_format_version) + ")");
    c.layer = g.read_uint_attribute("layer");
    if (c.layer != c.model.stack.n_layers())
        r.fail("/checkpoint", "layer " + std::to_string(c.layer) + " with " +
                                  std::to_string(c.model.stack.n_layers()) + " finished layers");
    c.config_json = g.read_string_attribute("config_json");
    c.seed = g.read_uint_attribute("seed");
    c.epochs_override = g.read_uint_attribute("epochs_override");
    c.checks_enabled = r.flag(g, "checks_enabled");
    c.threads = g.read_uint_attribute("threads");
    c.out = g.read_string_attribute("out");
    c.layer_rng = r.state(g, "layer_rng");
    const auto prop = r.read<std::uint64_t>(g, "propagate_rng", 2, {0, 4});
    for (std::size_t i = 0; i + 4 <= prop.size(); i += 4) {
        Rng::State s{};
        std::copy(prop.begin() + static_cast<std::ptrdiff_t>(i),
                  prop.begin() + static_cast<std::ptrdiff_t>(i + 4), s.begin());
        c.propagate_rng.push_back(s);
    }
    const Group d = g.open_group("data");
    c.data.spec = d.read_string_attribute("spec");
    c.data.validation = d.read_string_attribute("validation");
    c.data.limit = d.read_uint_attribute("limit");
    c.data.rows = d.read_uint_attribute("rows");
    c.data.columns = d.read_uint_attribute("columns");
    c.data.hash = d.read_uint_attribute("hash");
    if (g.has_group("trainer")) {
        c.trainer = r.trainer(g.open_group("trainer"), c.layer);
    }
    if (g.has_group("checks")) c.checks = r.checks(g.open_group("checks"), c.model);
    return c;
}

// ---- fine-tuning checkpoints ----------------------------------------------------------------

void save_finetune_checkpoint(const FineTuneCheckpoint& c, const std::string& path) {
    write_atomically(path, [&](File& file) {
        Group g = file.create_group("checkpoint");
        g.write_string_attribute("format", finetune_checkpoint_format);
        g.write_int_attribute("format_version", finetune_checkpoint_format_version);
        g.write_string_attribute("model", c.model);
        g.write_uint_attribute("model_hash", c.model_hash);
        g.write_uint_attribute("threads", c.threads);
        g.write_string_attribute("out", c.out);
        g.write_string_attribute("labels", c.labels);
        g.write_string_attribute("validation_labels", c.validation_labels);
        g.write_string_attribute("test", c.test);
        g.write_string_attribute("test_labels", c.test_labels);
        g.write_uint_attribute("checkpoint_every", c.policy.every_epochs);
        g.write_double_attribute("checkpoint_seconds", c.policy.every_seconds);
        Group cfg = g.create_group("config");
        write_attributes(cfg, c.config);
        Group d = g.create_group("data");
        d.write_string_attribute("spec", c.data.spec);
        d.write_string_attribute("validation", c.data.validation);
        d.write_uint_attribute("limit", c.data.limit);
        d.write_uint_attribute("rows", c.data.rows);
        d.write_uint_attribute("columns", c.data.columns);
        d.write_uint_attribute("hash", c.data.hash);
        Group t = g.create_group("trainer");
        write_fine_tune_state(t, c.state);
    });
}

FineTuneCheckpoint load_finetune_checkpoint(const std::string& path) {
    DBN_CHECK(std::filesystem::exists(path), IoError, path << ": no such file");
    DBN_CHECK(hdf5::is_hdf5(path), FormatError, path << ": not an HDF5 file");
    const File file = File::open(path);
    const Reader r(path, file);
    DBN_CHECK(file.has_group("checkpoint"), FormatError,
              path << ": not a fine-tuning checkpoint (no /checkpoint group)");
    const Group g = file.open_group("checkpoint");
    const std::string format =
        g.has_attribute("format") ? g.read_string_attribute("format") : std::string();
    if (format == checkpoint_format)
        r.fail("/checkpoint",
               "a pretraining checkpoint, not a fine-tuning one (resume it with dbn pretrain "
               "--resume)");
    if (format != finetune_checkpoint_format)
        r.fail("/checkpoint", "not a dbn fine-tuning checkpoint (attribute format)");
    if (g.read_int_attribute("format_version") != finetune_checkpoint_format_version)
        r.fail("/checkpoint", "format_version " +
                                  std::to_string(g.read_int_attribute("format_version")) +
                                  " (this program reads " +
                                  std::to_string(finetune_checkpoint_format_version) + ")");
    FineTuneCheckpoint c;
    c.model = g.read_string_attribute("model");
    c.model_hash = g.read_uint_attribute("model_hash");
    c.threads = g.read_uint_attribute("threads");
    c.out = g.read_string_attribute("out");
    c.labels = g.read_string_attribute("labels");
    c.validation_labels = g.read_string_attribute("validation_labels");
    c.test = g.read_string_attribute("test");
    c.test_labels = g.read_string_attribute("test_labels");
    c.policy.every_epochs = g.read_uint_attribute("checkpoint_every");
    c.policy.every_seconds = g.read_double_attribute("checkpoint_seconds");
    if (!(c.policy.every_seconds >= 0.0 && c.policy.every_seconds <= 1e9))
        r.fail("/checkpoint@checkpoint_seconds", "not in [0, 1e9]");
    read_attributes(g.open_group("config"), c.config, path);
    try {
        c.config.validate();
    } catch (const ConfigError& e) {
        r.fail("/checkpoint/config", e.what());
    }
    const Group d = g.open_group("data");
    c.data.spec = d.read_string_attribute("spec");
    c.data.validation = d.read_string_attribute("validation");
    c.data.limit = d.read_uint_attribute("limit");
    c.data.rows = d.read_uint_attribute("rows");
    c.data.columns = d.read_uint_attribute("columns");
    c.data.hash = d.read_uint_attribute("hash");
    c.state = r.fine_tune_state(g.open_group("trainer"));
    return c;
}

}  // namespace dbn::io
