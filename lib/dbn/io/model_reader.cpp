// Reading a model file (load_model, declared in model_io.hpp); writing it is in model_io.cpp.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "dbn/hdf5/trial_read.hpp"
#include "dbn/io/detail.hpp"
#include "dbn/io/finetune_io.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/io/record_io.hpp"
#include "dbn/units/units.hpp"

namespace dbn::io {
namespace {

using detail::first_non_finite;
using hdf5::Dataset;
using hdf5::File;
using hdf5::Group;
using hdf5::TypeClass;

std::string layer_path(std::size_t k) { return "/layers/" + std::to_string(k); }

/// @brief Shortest text that shows a float in a message ("0", "-1e-07"), unlike std::to_string.
std::string number(double x) {
    std::ostringstream s;
    s << x;
    return s.str();
}

class Reader {
public:
    explicit Reader(const std::string& path) : path_(path) {}

    ModelFile read() {
        File file = File::open(path_);
        check_header(file);
        const std::size_t n_layers = read_n_layers(file);
        ModelFile out;
        Dbn& model = out.stack;
        for (std::size_t k = 0; k < n_layers; ++k) {
            std::optional<std::size_t> below;
            if (k > 0) below = model.layers[k - 1].n_hidden();
            model.layers.push_back(read_layer(file, k, below));
        }
        if (file.exists("/layers/" + std::to_string(n_layers)))
            fail("/layers/" + std::to_string(n_layers),
                 "exists, but n_layers is " + std::to_string(n_layers));
        out.sample_shape = read_sample_shape(file, model.n_visible());
        read_hooks(file, model);
        if (file.exists("preprocessing"))
            model.preprocessing = read_preprocessing(file, model.n_visible());
        if (file.exists("training")) read_training(file, out);
        if (file.exists("checks")) read_checks(file, out);
        out.fine_tuned = read_fine_tuned(file, model, path_);
        return out;
    }

private:
    /// @brief Throws FormatError "<file>: <object>: <what>".
    [[noreturn]] void fail(const std::string& object, const std::string& what) const {
        throw FormatError(path_ + ": " + object + ": " + what);
    }

    void require_attribute(const Group& g, const char* name) const {
        if (!g.has_attribute(name))
            fail(g.path(), std::string("missing attribute \"") + name + "\"");
    }

    void check_header(const File& file) const {
        if (!file.has_attribute("format"))
            fail("/", "missing attribute \"format\" (not a dbn model file)");
        if (file.attribute_type("format").type_class != TypeClass::string)
            fail("/", "attribute \"format\" is not a string (not a dbn model file)");
        const std::string format = file.read_string_attribute("format");
        if (format != model_format)
            fail("/", "format is \"" + format + "\" (expected \"" + model_format + "\")");
        require_attribute(file, "format_version");
        const std::int64_t version = file.read_int_attribute("format_version");
        if (version != model_format_version)
            fail("/", "format_version " + std::to_string(version) +
                          " is not supported (this library reads format_version " +
                          std::to_string(model_format_version) + ")");
        // Binding, though informational: a writer that left it out may have left out more.
        require_attribute(file, "library_version");
        if (file.attribute_type("library_version").type_class != TypeClass::string)
            fail("/", "attribute \"library_version\" is not a string");
        file.read_string_attribute("library_version");
    }

    /// The optional root attribute sample_shape: 2 to 8 positive sizes whose product is the
    /// number of visible units.
    std::vector<std::size_t> read_sample_shape(const File& file, std::size_t n_visible) const {
        if (!file.has_attribute("sample_shape")) return {};
        const std::vector<std::int64_t> v = file.read_int_array_attribute("sample_shape", 8);
        std::vector<std::size_t> shape;
        std::string text;
        for (std::int64_t d : v) {
            text += (text.empty() ? "" : ", ") + std::to_string(d);
            shape.push_back(d > 0 ? static_cast<std::size_t>(d) : 0);  // 0 fails the check
        }
        if (!is_sample_shape_of(shape, n_visible))
            fail("/", "attribute \"sample_shape\" [" + text + "] is not the shape of " +
                          std::to_string(n_visible) +
                          " visible units (expected 2 to 8 positive sizes of that product)");
        return shape;
    }

    std::size_t read_n_layers(const File& file) const {
        require_attribute(file, "n_layers");
        const std::int64_t n = file.read_int_attribute("n_layers");
        if (n < 1) fail("/", "n_layers is " + std::to_string(n) + " (expected at least 1)");
        if (!file.has_group("layers")) fail("/layers", "missing");
        return static_cast<std::size_t>(n);
    }

    std::string read_string(const Group& g, const char* name) const {
        require_attribute(g, name);
        return g.read_string_attribute(name);
    }

    /// @brief Opens `name` in `g` and checks it is `dtype` with `rank` dimensions.
    Dataset open_array(const Group& g, const std::string& name, TypeClass cls, std::size_t bytes,
                       std::size_t rank) const {
        const std::string object = g.path() + "/" + name;
        if (!g.has_dataset(name)) fail(object, "missing");
        Dataset ds = g.open_dataset(name);
        const hdf5::TypeInfo type = ds.type();
        if (type.type_class != cls || type.size != bytes) {
            const std::string expected = cls == TypeClass::floating
                                             ? "float" + std::to_string(bytes * 8)
                                             : "int" + std::to_string(bytes * 8);
            fail(object, "dtype " + type.name() + " (expected " + expected + ")");
        }
        const std::size_t r = ds.rank();
        if (r != rank)
            fail(object,
                 std::to_string(r) + " dimension(s) (expected " + std::to_string(rank) + ")");
        return ds;
    }

    std::string shape_text(const std::vector<std::size_t>& shape) const {
        std::ostringstream s;
        s << "[";
        for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
        s << "]";
        return s.str();
    }

    /// @brief Opens a float32 vector and checks that it holds exactly `n` values.
    Dataset open_vector(const Group& g, const std::string& name, std::size_t n,
                        const std::string& expected_from) const {
        Dataset ds = open_array(g, name, TypeClass::floating, 4, 1);
        const auto shape = ds.shape();
        if (shape[0] != n)
            fail(ds.path(), "shape " + shape_text(shape) + " does not fit " + expected_from +
                                " (expected [" + std::to_string(n) + "])");
        return ds;
    }

    /// @brief Reads a float32 vector of exactly `n` finite values.
    Vector read_vector(const Group& g, const std::string& name, std::size_t n,
                       const std::string& expected_from) const {
        Dataset ds = open_vector(g, name, n, expected_from);
        Vector v = Vector::from_shape({n});
        ds.read(v.data(), v.size());
        check_finite(ds.path(), v, 1);
        return v;
    }

    template <class A>
    void check_finite(const std::string& object, const A& a, std::size_t cols) const {
        const std::size_t i = first_non_finite(a.begin(), a.size());
        if (i == a.size()) return;
        std::ostringstream s;
        s << "element ";
        if (cols > 1) {
            s << "(" << i / cols << ", " << i % cols << ")";
        } else {
            s << i;
        }
        s << " is " << a.data()[i] << " (parameters must be finite)";
        fail(object, s.str());
    }

    UnitType read_unit(const Group& g, const char* attr, UnitSide side) const {
        const std::string name = read_string(g, attr);
        const Units* u = find_units(name);
        if (u == nullptr)
            fail(g.path(), std::string("unknown ") + attr + " \"" + name + "\" (expected " +
                               unit_names() + ")");
        if (!u->allowed(side))
            fail(g.path(), std::string(attr) + " \"" + name + "\" is not supported (" +
                               to_string(side) + " units are " + unit_names(side) + ")");
        return u->type();
    }

    /// @brief Reads layer k; `below` is the hidden size of layer k-1, which its visible size
    /// must equal. Every shape is checked against the others before anything is allocated.
    Rbm read_layer(const File& file, std::size_t k, std::optional<std::size_t> below) const {
        const std::string at = layer_path(k);
        if (!file.has_group(at)) fail(at, file.exists(at) ? "is not a group" : "missing");
        const Group g = file.open_group(at);
        const UnitType visible = read_unit(g, "visible_units", UnitSide::visible);
        const UnitType hidden = read_unit(g, "hidden_units", UnitSide::hidden);

        Dataset w = open_array(g, "weights", TypeClass::floating, 4, 2);
        const auto shape = w.shape();
        if (shape[0] == 0 || shape[1] == 0)
            fail(w.path(), "shape " + shape_text(shape) + " (a layer needs at least one unit)");
        const std::size_t nv = shape[0];
        const std::size_t nh = shape[1];
        if (below && *below != nv)
            fail(w.path(), "shape " + shape_text(shape) + ": " + std::to_string(nv) +
                               " visible units do not fit the " + std::to_string(*below) +
                               " hidden units of layer " + std::to_string(k - 1));
        const std::string from = "weights " + shape_text(shape);
        // The biases' shapes vouch for the weights' before the weights are allocated.
        open_vector(g, "visible_bias", nv, from);
        open_vector(g, "hidden_bias", nh, from);
        Rbm rbm(nv, nh, visible, hidden);
        if (rbm.visible_units().has_sigma()) open_vector(g, "visible_sigma", nv, from);
        w.read(rbm.weights().data(), rbm.weights().size());
        check_finite(w.path(), rbm.weights(), nh);

        rbm.visible_bias() = read_vector(g, "visible_bias", nv, from);
        rbm.hidden_bias() = read_vector(g, "hidden_bias", nh, from);
        if (rbm.visible_units().has_sigma()) {
            rbm.visible_sigma() = read_vector(g, "visible_sigma", nv, from);
            for (std::size_t i = 0; i < nv; ++i) {
                if (!(rbm.visible_sigma()(i) > 0.0f))
                    fail(at + "/visible_sigma", "element " + std::to_string(i) + " is " +
                                                    number(rbm.visible_sigma()(i)) +
                                                    " (must be positive)");
            }
        }
        // A visible_sigma beside units without one has no meaning and is ignored.
        return rbm;
    }

    void read_checks(const File& file, ModelFile& model) const {
        const Group checks = file.open_group("checks");
        if (checks.has_group("log_z")) {
            const Group zs = checks.open_group("log_z");
            for (std::size_t k = 0; zs.has_group(std::to_string(k)); ++k) {
                if (k >= model.stack.n_layers()) fail(zs.path(), "more log Z records than layers");
                const Group g = zs.open_group(std::to_string(k));
                estimate::LayerLogZ z;
                z.index = k;
                read_attributes(g, z, path_);
                model.log_z.push_back(z);
            }
        }
        if (checks.has_group("pairs")) {
            const Group pairs = checks.open_group("pairs");
            for (std::size_t k = 0; pairs.has_group(std::to_string(k)); ++k) {
                if (k + 1 >= model.stack.n_layers())
                    fail(pairs.path(), "more checks than pairs of layers");
                const Group g = pairs.open_group(std::to_string(k));
                estimate::ConsistencyCheck c;
                read_attributes(g, c, path_);
                model.checks.push_back(c);
            }
        }
    }

    void read_hooks(const File& file, Dbn& model) const {
        const std::size_t n = model.n_layers();
        bool any = false;
        std::vector<std::shared_ptr<LayerHook>> hooks(n - 1);
        for (std::size_t k = 0; k < n; ++k) {
            const std::string at = layer_path(k) + "/hook";
            if (!file.exists(at)) continue;
            if (!file.has_group(at)) fail(at, "is not a group");
            const Group g = file.open_group(at);
            const std::string kind = read_string(g, "kind");
            if (kind == "none") continue;
            if (k + 1 == n) fail(at, "a hook above the top layer has no layer to feed");
            if (!hook_registered(kind))
                fail(at, "unknown hook kind \"" + kind +
                             "\" (a program that uses it registers it with dbn::register_hook "
                             "before loading the model)");
            HookParameters p;
            for (const auto& name : g.attribute_names())
                if (name != "kind") p.numbers[name] = g.read_double_attribute(name);
            const std::size_t nh = model.layers[k].n_hidden();
            for (const auto& name : g.children()) {
                if (!g.has_dataset(name)) continue;
                p.vectors[name] = read_vector(
                    g, name, nh,
                    "layer " + std::to_string(k) + "'s " + std::to_string(nh) + " hidden units");
            }
            std::shared_ptr<LayerHook> hook = make_hook(kind);
            try {
                hook->set_parameters(p, nh);
            } catch (const FormatError& e) {
                fail(at, e.what());
            }
            hooks[k] = std::move(hook);
            any = true;
        }
        if (any) model.hooks = std::move(hooks);
    }

    bool read_flag(const Group& g, const char* name) const {
        require_attribute(g, name);
        const std::int64_t v = g.read_int_attribute(name);
        if (v != 0 && v != 1)
            fail(g.path(), std::string("attribute \"") + name + "\" is " + std::to_string(v) +
                               " (expected 0 or 1)");
        return v == 1;
    }

    double read_number(const Group& g, const char* name) const {
        require_attribute(g, name);
        return g.read_double_attribute(name);
    }

    std::uint64_t read_count(const Group& g, const char* name) const {
        require_attribute(g, name);
        return g.read_uint_attribute(name);
    }

    data::Preprocessing read_preprocessing(const File& file, std::size_t n_visible) const {
        if (!file.has_group("preprocessing")) fail("/preprocessing", "is not a group");
        const Group g = file.open_group("preprocessing");
        data::Preprocessing p;
        p.scale = static_cast<float>(read_number(g, "scale"));
        p.binarize = read_flag(g, "binarize");
        p.threshold = static_cast<float>(read_number(g, "threshold"));
        p.standardize = read_flag(g, "standardize");
        if (!(std::isfinite(p.scale) && p.scale > 0.0f))
            fail(g.path(), "scale is " + number(p.scale) + " (expected a positive number)");
        if (!std::isfinite(p.threshold)) fail(g.path(), "threshold is not finite");
        if (p.binarize && p.standardize)
            fail(g.path(), "binarize and standardize are both set (they exclude each other)");

        const bool has_mean = g.exists("mean");
        const bool has_stddev = g.exists("stddev");
        if (has_mean != has_stddev)
            fail(g.path() + (has_mean ? "/stddev" : "/mean"),
                 "missing (mean and stddev go "
                 "together)");
        if (!has_mean) {
            if (p.standardize) fail(g.path() + "/mean", "missing (standardize is set)");
            return p;
        }
        const std::string from = "the " + std::to_string(n_visible) + " visible units of layer 0";
        p.mean = read_vector(g, "mean", n_visible, from);
        p.stddev = read_vector(g, "stddev", n_visible, from);
        for (std::size_t j = 0; j < n_visible; ++j) {
            if (!(p.stddev(j) > 0.0f))
                fail(g.path() + "/stddev", "element " + std::to_string(j) + " is " +
                                               number(p.stddev(j)) + " (must be positive)");
        }
        return p;
    }

    void read_training(const File& file, ModelFile& model) const {
        if (!file.has_group("training")) fail("/training", "is not a group");
        const Group g = file.open_group("training");
        model.seed = read_count(g, "seed");
        model.config_json = read_string(g, "config_json");
        model.name = read_string(g, "name");
        if (!g.exists("layers")) return;
        if (!g.has_group("layers")) fail("/training/layers", "is not a group");
        const Group layers = g.open_group("layers");
        const std::size_t n = layers.children().size();
        if (n != model.stack.n_layers())
            fail("/training/layers", "holds " + std::to_string(n) + " records for " +
                                         std::to_string(model.stack.n_layers()) +
                                         " layers (expected one per layer)");
        model.records.reserve(n);
        for (std::size_t k = 0; k < n; ++k) model.records.push_back(read_record(layers, k));
    }

    LayerRecord read_record(const Group& layers, std::size_t k) const {
        const std::string name = std::to_string(k);
        if (!layers.has_group(name)) fail(layers.path() + "/" + name, "missing");
        const Group g = layers.open_group(name);
        LayerRecord rec;
        // Files written before the guard was wired in lack the attribute: trained without it.
        rec.config.max_divergence_events = 0;
        read_attributes(g, rec.config, path_);
        rec.epochs = read_columns<EpochStats>(g, path_);
        for (auto& e : rec.epochs) e.layer = k;
        if (g.has_group("bound"))
            rec.bound = read_columns<estimate::BoundPoint>(g.open_group("bound"), path_);
        rec.divergence_events = read_divergence_events(g, k, path_);
        return rec;
    }

    const std::string& path_;
};

}  // namespace

ModelFile load_model(const std::string& path) {
    hdf5::trial_read(path, [&] { Reader(path).read(); });
    return Reader(path).read();
}

}  // namespace dbn::io
