#include "dbn/io/model_io.hpp"

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "dbn/core/error.hpp"
#include "dbn/core/version.hpp"
#include "dbn/io/finetune_io.hpp"
#include "dbn/hdf5/hdf5.hpp"

namespace dbn::io {
namespace {

namespace fs = std::filesystem;
using hdf5::Dataset;
using hdf5::File;
using hdf5::Group;
using hdf5::TypeClass;

// ---------------------------------------------------------------------------------------------
// Field tables: one list of names for writer and reader, so that the two cannot drift apart.

struct SizeField {
    const char* name;
    std::size_t LayerTrainingConfig::*member;
};
struct DoubleField {
    const char* name;
    double LayerTrainingConfig::*member;
};

constexpr SizeField config_size_fields[] = {
    {"k", &LayerTrainingConfig::k},
    {"persistent_chains", &LayerTrainingConfig::persistent_chains},
    {"epochs", &LayerTrainingConfig::epochs},
    {"batch_size", &LayerTrainingConfig::batch_size},
    {"momentum_switch_epoch", &LayerTrainingConfig::momentum_switch_epoch},
    {"monitor_samples", &LayerTrainingConfig::monitor_samples},
};
constexpr DoubleField config_double_fields[] = {
    {"learning_rate", &LayerTrainingConfig::learning_rate},
    {"learning_rate_decay", &LayerTrainingConfig::learning_rate_decay},
    {"initial_momentum", &LayerTrainingConfig::initial_momentum},
    {"final_momentum", &LayerTrainingConfig::final_momentum},
    {"weight_decay", &LayerTrainingConfig::weight_decay},
    {"l1", &LayerTrainingConfig::l1},
    {"sparsity_target", &LayerTrainingConfig::sparsity_target},
    {"sparsity_cost", &LayerTrainingConfig::sparsity_cost},
    {"sparsity_decay", &LayerTrainingConfig::sparsity_decay},
    {"init_stddev", &LayerTrainingConfig::init_stddev},
};

struct MonitorField {
    const char* name;
    double EpochStats::*member;
};
/// Columns of the per-epoch monitors table besides `epoch` (an integer kept as float64 so that
/// every column has one type and h5py users can stack them).
constexpr MonitorField monitor_fields[] = {
    {"reconstruction_error", &EpochStats::reconstruction_error},
    {"free_energy_train", &EpochStats::free_energy_train},
    {"free_energy_valid", &EpochStats::free_energy_valid},
    {"free_energy_gap", &EpochStats::free_energy_gap},
    {"pseudo_log_likelihood", &EpochStats::pseudo_log_likelihood},
    {"learning_rate", &EpochStats::learning_rate},
    {"momentum", &EpochStats::momentum},
    {"seconds", &EpochStats::seconds},
};


std::string layer_path(std::size_t k) { return "/layers/" + std::to_string(k); }

/// @brief Shortest text that shows a float in a message ("0", "-1e-07"), unlike std::to_string.
std::string number(double x) {
    std::ostringstream s;
    s << x;
    return s.str();
}

// ---------------------------------------------------------------------------------------------
// Writing

/// @brief Index of the first non-finite element, or `size` when all are finite.
template <class It>
std::size_t first_non_finite(It first, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i, ++first) {
        if (!std::isfinite(*first)) return i;
    }
    return size;
}

// The real-valued figures of a consistency check, by attribute name.
const std::vector<std::pair<const char*, double estimate::ConsistencyCheck::*>>& check_numbers() {
    using C = estimate::ConsistencyCheck;
    static const std::vector<std::pair<const char*, double C::*>> fields = {
        {"free_energy_gap", &C::free_energy_gap},   {"free_energy_gap_se", &C::free_energy_gap_se},
        {"delta_log_z", &C::delta_log_z},           {"delta_log_z_low", &C::delta_log_z_low},
        {"delta_log_z_high", &C::delta_log_z_high}, {"bound_change", &C::bound_change},
        {"bound_change_low", &C::bound_change_low}, {"bound_change_high", &C::bound_change_high}};
    return fields;
}

class Writer {
public:
    Writer(const ModelFile& model, const std::string& target)
        : model_(model), stack_(model.stack), target_(target) {}

    void write(File& file) {
        file.write_string_attribute("format", model_format);
        file.write_int_attribute("format_version", model_format_version);
        file.write_string_attribute("library_version", library_version);
        file.write_int_attribute("n_layers", static_cast<std::int64_t>(stack_.n_layers()));
        DBN_CHECK(stack_.hooks.empty() || stack_.hooks.size() + 1 == stack_.n_layers(), ShapeError,
                  where() << ": " << stack_.hooks.size() << " hooks for " << stack_.n_layers()
                          << " layers (expected none or one between each pair)");
        Group layers = file.create_group("layers");
        for (std::size_t k = 0; k < stack_.n_layers(); ++k) write_layer(layers, k);
        write_preprocessing(file);
        write_training(file);
        write_checks(file);
        if (model_.fine_tuned) write_fine_tuned(file, stack_, *model_.fine_tuned, target_);
    }

private:
    std::string where() const { return "io::save_model: " + target_; }

    void check_layer(std::size_t k) const {
        const Rbm& rbm = stack_.layers[k];
        const std::size_t nv = rbm.n_visible();
        const std::size_t nh = rbm.n_hidden();
        DBN_CHECK(nv > 0 && nh > 0, ConfigError,
                  where() << ": layer " << k << " is empty (" << nv << "x" << nh << ")");
        DBN_CHECK(k == 0 || stack_.layers[k - 1].n_hidden() == nv, ShapeError,
                  where() << ": layer " << k << " has " << nv << " visible units but layer "
                          << k - 1 << " has " << stack_.layers[k - 1].n_hidden()
                          << " hidden units");
        DBN_CHECK(rbm.visible_bias().size() == nv && rbm.hidden_bias().size() == nh, ShapeError,
                  where() << ": layer " << k << ": biases of sizes " << rbm.visible_bias().size()
                          << " and " << rbm.hidden_bias().size() << " (expected " << nv << " and "
                          << nh << ")");
        const bool gaussian = rbm.visible_type() == UnitType::gaussian;
        DBN_CHECK(!gaussian || rbm.visible_sigma().size() == nv, ShapeError,
                  where() << ": layer " << k << ": visible_sigma has "
                          << rbm.visible_sigma().size() << " values (expected " << nv << ")");
        auto check_finite = [&](const auto& a, const char* name) {
            const std::size_t i = first_non_finite(a.begin(), a.size());
            DBN_CHECK(i == a.size(), NumericalError,
                      where() << ": layer " << k << ": " << name << " element " << i << " is "
                              << a.data()[i] << " (parameters must be finite)");
        };
        check_finite(rbm.weights(), "weights");
        check_finite(rbm.visible_bias(), "visible_bias");
        check_finite(rbm.hidden_bias(), "hidden_bias");
        if (gaussian) {
            check_finite(rbm.visible_sigma(), "visible_sigma");
            for (std::size_t i = 0; i < nv; ++i) {
                DBN_CHECK(rbm.visible_sigma()(i) > 0.0f, NumericalError,
                          where() << ": layer " << k << ": visible_sigma element " << i << " is "
                                  << rbm.visible_sigma()(i) << " (must be positive)");
            }
        }
    }

    void write_layer(Group& layers, std::size_t k) {
        // Checked here rather than up front: a model broken in a later layer then fails with
        // part of the file written, which is exactly the case the temporary file exists for.
        check_layer(k);
        const Rbm& rbm = stack_.layers[k];
        const std::size_t nv = rbm.n_visible();
        const std::size_t nh = rbm.n_hidden();
        Group g = layers.create_group(std::to_string(k));
        g.write_string_attribute("visible_units", to_string(rbm.visible_type()));
        g.write_string_attribute("hidden_units", to_string(rbm.hidden_type()));
        g.write_dataset("weights", rbm.weights().data(), {nv, nh});
        g.write_dataset("visible_bias", rbm.visible_bias().data(), {nv});
        g.write_dataset("hidden_bias", rbm.hidden_bias().data(), {nh});
        if (rbm.visible_type() == UnitType::gaussian)
            g.write_dataset("visible_sigma", rbm.visible_sigma().data(), {nv});
        if (const LayerHook* hook = stack_.hook_after(k)) write_hook(g, *hook, k);
    }

    // /checks/log_z/<k> and /checks/pairs/<k>: one group of attributes per record.
    void write_checks(File& file) {
        if (model_.log_z.empty() && model_.checks.empty()) return;
        DBN_CHECK(model_.log_z.size() <= stack_.n_layers() && model_.checks.size() < stack_.n_layers(),
                  ShapeError, where() << ": " << model_.log_z.size() << " log Z records and "
                                      << model_.checks.size() << " checks for " << stack_.n_layers()
                                      << " layers");
        Group checks = file.create_group("checks");
        Group zs = checks.create_group("log_z");
        for (std::size_t k = 0; k < model_.log_z.size(); ++k) {
            const auto& z = model_.log_z[k];
            Group g = zs.create_group(std::to_string(k));
            g.write_int_attribute("available", z.available ? 1 : 0);
            g.write_string_attribute("method", z.method);
            g.write_string_attribute("note", z.note);
            g.write_double_attribute("value", z.log_z.value);
            g.write_double_attribute("low", z.log_z.low);
            g.write_double_attribute("high", z.log_z.high);
            g.write_double_attribute("ess", z.ess);
            g.write_uint_attribute("ais_runs", z.ais_runs);
            g.write_uint_attribute("ais_steps", z.ais_steps);
            g.write_double_attribute("seconds", z.seconds);
        }
        Group pairs = checks.create_group("pairs");
        for (std::size_t k = 0; k < model_.checks.size(); ++k) {
            const auto& c = model_.checks[k];
            Group g = pairs.create_group(std::to_string(k));
            g.write_uint_attribute("lower", c.lower);
            g.write_uint_attribute("upper", c.upper);
            g.write_int_attribute("applicable", c.applicable ? 1 : 0);
            g.write_int_attribute("diagnostic", c.diagnostic ? 1 : 0);
            g.write_int_attribute("passed", c.passed ? 1 : 0);
            g.write_string_attribute("note", c.note);
            g.write_uint_attribute("samples", c.samples);
            for (const auto& [name, member] : check_numbers())
                g.write_double_attribute(name, c.*member);
        }
    }

    void write_hook(Group& layer, const LayerHook& hook, std::size_t k) {
        DBN_CHECK(k + 1 < stack_.n_layers(), ShapeError,
                  where() << ": a hook above the top layer " << k << " has no layer to feed");
        const std::size_t nh = stack_.layers[k].n_hidden();
        const HookParameters p = hook.parameters();
        Group g = layer.create_group("hook");
        g.write_string_attribute("kind", hook.kind());
        for (const auto& [name, value] : p.numbers) {
            DBN_CHECK(name != "kind" && std::isfinite(value), NumericalError,
                      where() << ": layer " << k << ": hook number \"" << name << "\" is " << value);
            g.write_double_attribute(name, value);
        }
        for (const auto& [name, v] : p.vectors) {
            DBN_CHECK(v.size() == nh, ShapeError,
                      where() << ": layer " << k << ": hook vector \"" << name << "\" has "
                              << v.size() << " values (expected " << nh << ")");
            DBN_CHECK(first_non_finite(v.begin(), v.size()) == v.size(), NumericalError,
                      where() << ": layer " << k << ": hook vector \"" << name << "\" is not finite");
            g.write_dataset(name, v.data(), {nh});
        }
    }

    void write_preprocessing(File& file) {
        const data::Preprocessing& p = stack_.preprocessing;
        DBN_CHECK(std::isfinite(p.scale) && p.scale > 0.0f, ConfigError,
                  where() << ": preprocessing scale must be positive and finite (got " << p.scale
                          << ")");
        DBN_CHECK(std::isfinite(p.threshold), ConfigError,
                  where() << ": preprocessing threshold must be finite (got " << p.threshold
                          << ")");
        DBN_CHECK(!(p.binarize && p.standardize), ConfigError,
                  where() << ": preprocessing cannot both binarize and standardize");
        const std::size_t n = p.mean.size();
        DBN_CHECK(p.stddev.size() == n, ShapeError,
                  where() << ": preprocessing has " << n << " means but " << p.stddev.size()
                          << " standard deviations");
        DBN_CHECK(n == 0 || n == stack_.n_visible(), ShapeError,
                  where() << ": preprocessing statistics for " << n << " features (the model has "
                          << stack_.n_visible() << " visible units)");
        DBN_CHECK(!p.standardize || n > 0, ConfigError,
                  where() << ": standardize is set but its mean and stddev were never fitted");
        DBN_CHECK(first_non_finite(p.mean.begin(), n) == n &&
                      first_non_finite(p.stddev.begin(), n) == n,
                  NumericalError, where() << ": preprocessing statistics are not finite");
        for (std::size_t j = 0; j < n; ++j) {
            DBN_CHECK(p.stddev(j) > 0.0f, NumericalError,
                      where() << ": preprocessing stddev of feature " << j << " is "
                              << p.stddev(j) << " (must be positive)");
        }

        Group g = file.create_group("preprocessing");
        // float32 settings go into float64 attributes: the widening is exact, so they come back
        // with the same bits.
        g.write_double_attribute("scale", p.scale);
        g.write_int_attribute("binarize", p.binarize ? 1 : 0);
        g.write_double_attribute("threshold", p.threshold);
        g.write_int_attribute("standardize", p.standardize ? 1 : 0);
        if (n > 0) {
            g.write_dataset("mean", p.mean.data(), {n});
            g.write_dataset("stddev", p.stddev.data(), {n});
        }
    }

    void write_training(File& file) {
        const std::size_t n_records = model_.records.size();
        DBN_CHECK(n_records == 0 || n_records == stack_.n_layers(), ShapeError,
                  where() << ": " << n_records << " training records for " << stack_.n_layers()
                          << " layers (expected none or one per layer)");
        Group g = file.create_group("training");
        g.write_uint_attribute("seed", model_.seed);
        g.write_string_attribute("config_json", model_.config_json);
        g.write_string_attribute("name", model_.name);
        if (n_records == 0) return;
        Group layers = g.create_group("layers");
        for (std::size_t k = 0; k < n_records; ++k) write_record(layers, k);
    }

    void write_record(Group& layers, std::size_t k) {
        const LayerRecord& rec = model_.records[k];
        Group g = layers.create_group(std::to_string(k));
        g.write_string_attribute("algorithm", to_string(rec.config.algorithm));
        for (const auto& f : config_size_fields)
            g.write_uint_attribute(f.name, rec.config.*f.member);
        for (const auto& f : config_double_fields)
            g.write_double_attribute(f.name, rec.config.*f.member);
        g.write_int_attribute("sample_up", rec.config.sample_up ? 1 : 0);

        const std::size_t n = rec.epochs.size();
        std::vector<double> column(n);
        for (std::size_t e = 0; e < n; ++e) column[e] = static_cast<double>(rec.epochs[e].epoch);
        g.write_dataset("epoch", column.data(), {n});
        for (const auto& f : monitor_fields) {
            for (std::size_t e = 0; e < n; ++e) column[e] = rec.epochs[e].*f.member;
            g.write_dataset(f.name, column.data(), {n});
        }
    }

    const ModelFile& model_;
    const Dbn& stack_;
    const std::string& target_;
};

/// @brief Forces the file's bytes to disk, so that the rename cannot publish a file whose
/// content a crash would lose.
void sync_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    DBN_CHECK(fd >= 0, IoError,
              path << ": cannot reopen to sync (" << std::error_code(errno, std::generic_category())
                                                         .message()
                   << ")");
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    DBN_CHECK(rc == 0, IoError,
              path << ": cannot sync to disk (" << std::error_code(err, std::generic_category())
                                                      .message()
                   << ")");
}

// ---------------------------------------------------------------------------------------------
// Reading

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
            model.layers.push_back(read_layer(file, k));
            if (k > 0) check_fit(model, k);
        }
        if (file.exists("/layers/" + std::to_string(n_layers)))
            fail("/layers/" + std::to_string(n_layers),
                 "exists, but n_layers is " + std::to_string(n_layers));
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
            fail(object, std::to_string(r) + " dimension(s) (expected " + std::to_string(rank) +
                             ")");
        return ds;
    }

    std::string shape_text(const std::vector<std::size_t>& shape) const {
        std::ostringstream s;
        s << "[";
        for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
        s << "]";
        return s.str();
    }

    /// @brief Reads a float32 vector of exactly `n` finite values.
    Vector read_vector(const Group& g, const std::string& name, std::size_t n,
                       const std::string& expected_from) const {
        Dataset ds = open_array(g, name, TypeClass::floating, 4, 1);
        const auto shape = ds.shape();
        if (shape[0] != n)
            fail(ds.path(), "shape " + shape_text(shape) + " does not fit " + expected_from +
                                " (expected [" + std::to_string(n) + "])");
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

    UnitType read_unit(const Group& g, const char* attr, bool visible) const {
        const std::string name = read_string(g, attr);
        UnitType t;
        if (name == "bernoulli") {
            t = UnitType::bernoulli;
        } else if (name == "gaussian") {
            t = UnitType::gaussian;
        } else if (name == "relu") {
            t = UnitType::relu;
        } else {
            fail(g.path(), std::string("unknown ") + attr + " \"" + name +
                               "\" (expected \"bernoulli\", \"gaussian\" or \"relu\")");
        }
        if (visible && t == UnitType::relu)
            fail(g.path(), "visible_units \"relu\" is not supported (visible units are "
                           "\"bernoulli\" or \"gaussian\")");
        if (!visible && t == UnitType::gaussian)
            fail(g.path(), "hidden_units \"gaussian\" is not supported (hidden units are "
                           "\"bernoulli\" or \"relu\")");
        return t;
    }

    Rbm read_layer(const File& file, std::size_t k) const {
        const std::string at = layer_path(k);
        if (!file.has_group(at)) fail(at, file.exists(at) ? "is not a group" : "missing");
        const Group g = file.open_group(at);
        const UnitType visible = read_unit(g, "visible_units", true);
        const UnitType hidden = read_unit(g, "hidden_units", false);

        Dataset w = open_array(g, "weights", TypeClass::floating, 4, 2);
        const auto shape = w.shape();
        if (shape[0] == 0 || shape[1] == 0)
            fail(w.path(), "shape " + shape_text(shape) + " (a layer needs at least one unit)");
        const std::size_t nv = shape[0];
        const std::size_t nh = shape[1];
        Rbm rbm(nv, nh, visible, hidden);
        w.read(rbm.weights().data(), rbm.weights().size());
        check_finite(w.path(), rbm.weights(), nh);

        const std::string from = "weights " + shape_text(shape);
        rbm.visible_bias() = read_vector(g, "visible_bias", nv, from);
        rbm.hidden_bias() = read_vector(g, "hidden_bias", nh, from);
        if (visible == UnitType::gaussian) {
            rbm.visible_sigma() = read_vector(g, "visible_sigma", nv, from);
            for (std::size_t i = 0; i < nv; ++i) {
                if (!(rbm.visible_sigma()(i) > 0.0f))
                    fail(at + "/visible_sigma", "element " + std::to_string(i) + " is " +
                                                    number(rbm.visible_sigma()(i)) +
                                                    " (must be positive)");
            }
        }
        // A visible_sigma beside non-Gaussian units has no meaning and is ignored.
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
                z.available = read_flag(g, "available");
                z.method = read_string(g, "method");
                z.note = read_string(g, "note");
                z.log_z.value = read_number(g, "value");
                z.log_z.low = read_number(g, "low");
                z.log_z.high = read_number(g, "high");
                z.ess = read_number(g, "ess");
                z.ais_runs = read_count(g, "ais_runs");
                z.ais_steps = read_count(g, "ais_steps");
                z.seconds = read_number(g, "seconds");
                model.log_z.push_back(z);
            }
        }
        if (checks.has_group("pairs")) {
            const Group pairs = checks.open_group("pairs");
            for (std::size_t k = 0; pairs.has_group(std::to_string(k)); ++k) {
                if (k + 1 >= model.stack.n_layers()) fail(pairs.path(), "more checks than pairs of layers");
                const Group g = pairs.open_group(std::to_string(k));
                estimate::ConsistencyCheck c;
                c.lower = read_count(g, "lower");
                c.upper = read_count(g, "upper");
                c.applicable = read_flag(g, "applicable");
                c.diagnostic = read_flag(g, "diagnostic");
                c.passed = read_flag(g, "passed");
                c.note = read_string(g, "note");
                c.samples = read_count(g, "samples");
                for (const auto& [name, member] : check_numbers()) c.*member = read_number(g, name);
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
                p.vectors[name] = read_vector(g, name, nh, "layer " + std::to_string(k) + "'s " +
                                                               std::to_string(nh) + " hidden units");
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

    void check_fit(const Dbn& model, std::size_t k) const {
        const std::size_t below = model.layers[k - 1].n_hidden();
        const std::size_t here = model.layers[k].n_visible();
        if (below != here)
            fail(layer_path(k) + "/weights",
                 std::to_string(here) + " visible units do not fit the " + std::to_string(below) +
                     " hidden units of layer " + std::to_string(k - 1));
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
            fail(g.path() + (has_mean ? "/stddev" : "/mean"), "missing (mean and stddev go "
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
                fail(g.path() + "/stddev",
                     "element " + std::to_string(j) + " is " + number(p.stddev(j)) +
                         " (must be positive)");
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
        rec.config.algorithm = read_algorithm(g);
        for (const auto& f : config_size_fields) rec.config.*f.member = read_count(g, f.name);
        for (const auto& f : config_double_fields) rec.config.*f.member = read_number(g, f.name);
        rec.config.sample_up = read_flag(g, "sample_up");

        Dataset epoch_ds = open_array(g, "epoch", TypeClass::floating, 8, 1);
        const std::size_t n = epoch_ds.shape()[0];
        const std::vector<double> epochs = epoch_ds.read<double>();
        rec.epochs.resize(n);
        for (std::size_t e = 0; e < n; ++e) {
            const double v = epochs[e];
            if (!(std::isfinite(v) && v >= 0.0 && v == std::floor(v) && v < 9.0e15))
                fail(epoch_ds.path(), "element " + std::to_string(e) + " is " +
                                          number(v) +
                                          " (expected a non-negative whole number)");
            rec.epochs[e].layer = k;
            rec.epochs[e].epoch = static_cast<std::size_t>(v);
        }
        for (const auto& f : monitor_fields) {
            Dataset ds = open_array(g, f.name, TypeClass::floating, 8, 1);
            const auto shape = ds.shape();
            if (shape[0] != n)
                fail(ds.path(), "shape " + shape_text(shape) + " does not fit epoch [" +
                                    std::to_string(n) + "]");
            const std::vector<double> column = ds.read<double>();
            for (std::size_t e = 0; e < n; ++e) rec.epochs[e].*f.member = column[e];
        }
        return rec;
    }

    Algorithm read_algorithm(const Group& g) const {
        const std::string a = read_string(g, "algorithm");
        if (a == "cd") return Algorithm::cd;
        if (a == "pcd") return Algorithm::pcd;
        if (a == "exact") return Algorithm::exact;
        fail(g.path(), "unknown algorithm \"" + a + "\" (expected \"cd\", \"pcd\" or \"exact\")");
    }

    const std::string& path_;
};

}  // namespace

void save_model(const ModelFile& model, const std::string& path) {
    DBN_CHECK(!model.stack.layers.empty(), ConfigError,
              "io::save_model: " << path << ": the model has no layers");
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code ec;
    DBN_CHECK(fs::is_directory(dir, ec), IoError,
              "io::save_model: " << path << ": no such directory " << dir.string());
    DBN_CHECK(!fs::is_directory(target, ec), IoError,
              "io::save_model: " << path << ": is a directory");

    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    try {
        {
            File file = File::create(tmp);
            Writer(model, path).write(file);
            file.close();
        }
        sync_file(tmp);
        fs::rename(tmp, target, ec);
        DBN_CHECK(!ec, IoError,
                  "io::save_model: " << path << ": cannot rename " << tmp << " over it ("
                                     << ec.message() << ")");
    } catch (...) {
        // The File above is already closed (its scope ended during unwinding), so the temporary
        // file can go; an existing target was never touched.
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
}

ModelFile load_model(const std::string& path) { return Reader(path).read(); }

}  // namespace dbn::io
