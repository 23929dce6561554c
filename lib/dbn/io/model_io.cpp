#include "dbn/io/model_io.hpp"

// Writing a model file (save_model); reading it is in model_reader.cpp.

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/version.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "dbn/io/detail.hpp"
#include "dbn/io/finetune_io.hpp"
#include "dbn/io/record_io.hpp"

namespace dbn::io {
namespace {

namespace fs = std::filesystem;
using detail::first_non_finite;
using hdf5::File;
using hdf5::Group;

class Writer {
public:
    Writer(const ModelFile& model, const std::string& target)
        : model_(model), stack_(model.stack), target_(target) {}

    void write(File& file) {
        file.write_string_attribute("format", model_format);
        file.write_int_attribute("format_version", model_format_version);
        file.write_string_attribute("library_version", library_version);
        file.write_int_attribute("n_layers", static_cast<std::int64_t>(stack_.n_layers()));
        if (!model_.sample_shape.empty()) {
            DBN_CHECK(is_sample_shape_of(model_.sample_shape, stack_.n_visible()), ShapeError,
                      where() << ": a sample_shape of " << model_.sample_shape.size()
                              << " sizes that is not the shape of " << stack_.n_visible()
                              << " visible units");
            file.write_int_array_attribute(
                "sample_shape",
                std::vector<std::int64_t>(model_.sample_shape.begin(), model_.sample_shape.end()));
        }
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
    std::string where() const { return target_ + ": cannot save the model"; }

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
        const bool sigma = rbm.visible_units().has_sigma();
        DBN_CHECK(!sigma || rbm.visible_sigma().size() == nv, ShapeError,
                  where() << ": layer " << k << ": visible_sigma has " << rbm.visible_sigma().size()
                          << " values (expected " << nv << ")");
        auto check_finite = [&](const auto& a, const char* name) {
            const std::size_t i = first_non_finite(a.begin(), a.size());
            DBN_CHECK(i == a.size(), NumericalError,
                      where() << ": layer " << k << ": " << name << " element " << i << " is "
                              << a.data()[i] << " (parameters must be finite)");
        };
        check_finite(rbm.weights(), "weights");
        check_finite(rbm.visible_bias(), "visible_bias");
        check_finite(rbm.hidden_bias(), "hidden_bias");
        if (sigma) {
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
        if (rbm.visible_units().has_sigma())
            g.write_dataset("visible_sigma", rbm.visible_sigma().data(), {nv});
        if (const LayerHook* hook = stack_.hook_after(k)) write_hook(g, *hook, k);
    }

    // /checks/log_z/<k> and /checks/pairs/<k>: one group of attributes per record.
    void write_checks(File& file) {
        if (model_.log_z.empty() && model_.checks.empty()) return;
        DBN_CHECK(
            model_.log_z.size() <= stack_.n_layers() && model_.checks.size() < stack_.n_layers(),
            ShapeError,
            where() << ": " << model_.log_z.size() << " log Z records and " << model_.checks.size()
                    << " checks for " << stack_.n_layers() << " layers");
        Group checks = file.create_group("checks");
        Group zs = checks.create_group("log_z");
        for (std::size_t k = 0; k < model_.log_z.size(); ++k) {
            Group g = zs.create_group(std::to_string(k));
            write_attributes(g, model_.log_z[k]);
        }
        Group pairs = checks.create_group("pairs");
        for (std::size_t k = 0; k < model_.checks.size(); ++k) {
            Group g = pairs.create_group(std::to_string(k));
            write_attributes(g, model_.checks[k]);
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
            DBN_CHECK(
                name != "kind" && std::isfinite(value), NumericalError,
                where() << ": layer " << k << ": hook number \"" << name << "\" is " << value);
            g.write_double_attribute(name, value);
        }
        for (const auto& [name, v] : p.vectors) {
            DBN_CHECK(v.size() == nh, ShapeError,
                      where() << ": layer " << k << ": hook vector \"" << name << "\" has "
                              << v.size() << " values (expected " << nh << ")");
            DBN_CHECK(
                first_non_finite(v.begin(), v.size()) == v.size(), NumericalError,
                where() << ": layer " << k << ": hook vector \"" << name << "\" is not finite");
            g.write_dataset(name, v.data(), {nh});
        }
    }

    void write_preprocessing(File& file) {
        const data::Preprocessing& p = stack_.preprocessing;
        DBN_CHECK(
            std::isfinite(p.scale) && p.scale > 0.0f, ConfigError,
            where() << ": preprocessing scale must be positive and finite (got " << p.scale << ")");
        DBN_CHECK(
            std::isfinite(p.threshold), ConfigError,
            where() << ": preprocessing threshold must be finite (got " << p.threshold << ")");
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
        DBN_CHECK(
            first_non_finite(p.mean.begin(), n) == n && first_non_finite(p.stddev.begin(), n) == n,
            NumericalError, where() << ": preprocessing statistics are not finite");
        for (std::size_t j = 0; j < n; ++j) {
            DBN_CHECK(p.stddev(j) > 0.0f, NumericalError,
                      where() << ": preprocessing stddev of feature " << j << " is " << p.stddev(j)
                              << " (must be positive)");
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
        write_attributes(g, rec.config);
        write_columns(g, rec.epochs);
        if (!rec.bound.empty()) {
            Group b = g.create_group("bound");
            write_columns(b, rec.bound);
        }
        write_divergence_events(g, rec.divergence_events);
    }

    const ModelFile& model_;
    const Dbn& stack_;
    const std::string& target_;
};

}  // namespace

void write_atomically(const std::string& path, const std::function<void(File&)>& write) {
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code ec;
    DBN_CHECK(fs::is_directory(dir, ec), IoError,
              path << ": cannot save: no such directory " << dir.string());
    DBN_CHECK(!fs::is_directory(target, ec), IoError, path << ": cannot save: it is a folder");

    // Temporaries of runs that were killed while saving this target are garbage now.
    remove_stale_temp_files(path);
    const std::string tmp = temp_path(path);
    try {
        {
            // On any failure the unwinding closes the groups, then the file, in that order.
            File file = File::create(tmp);
            write(file);
            file.close();
        }
        sync_file(tmp);
        fs::rename(tmp, target, ec);
        DBN_CHECK(!ec, IoError,
                  path << ": cannot save: renaming " << tmp << " over it failed (" << ec.message()
                       << ")");
    } catch (...) {
        // An existing target was never touched.
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
}

void write_model(File& file, const ModelFile& model, const std::string& target) {
    DBN_CHECK(!model.stack.layers.empty(), ConfigError,
              target << ": cannot save the model: it has no layers");
    Writer(model, target).write(file);
}

void save_model(const ModelFile& model, const std::string& path) {
    DBN_CHECK(!model.stack.layers.empty(), ConfigError,
              path << ": cannot save the model: it has no layers");
    write_atomically(path, [&](File& file) { write_model(file, model, path); });
}

}  // namespace dbn::io
