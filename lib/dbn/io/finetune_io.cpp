#include "dbn/io/finetune_io.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/finetune/fine_tuned.hpp"
#include "dbn/io/record_io.hpp"

namespace dbn::io {
namespace {

using hdf5::Dataset;
using hdf5::File;
using hdf5::Group;
using hdf5::TypeClass;

template <class A>
bool all_finite(const A& a) {
    for (const auto v : a)
        if (!std::isfinite(v)) return false;
    return true;
}

// ---------------------------------------------------------------------------------------------

class Writer {
public:
    Writer(const Dbn& model, const finetune::FineTuned& ft, const std::string& target)
        : model_(model), ft_(ft), target_(target) {}

    void write(File& file) {
        const finetune::FineTuned& ft = ft_;
        file.write_string_attribute("fine_tuned", to_string(ft.mode));
        if (ft.mode == finetune::FineTuneMode::classifier) {
            write_classifier(file, ft);
        } else {
            write_decoder(file, ft);
        }
        write_settings(file, ft);
    }

private:
    std::string where(const std::string& object) const {
        return target_ + ": cannot save the model: " + object;
    }

    void check_layer(const finetune::DenseLayer& l, std::size_t n_in, std::size_t n_out,
                     const std::string& object) const {
        DBN_CHECK(l.n_in() == n_in && l.n_out() == n_out && l.bias.size() == n_out, ShapeError,
                  where(object) << ": weights [" << l.n_in() << ", " << l.n_out() << "] and bias ["
                                << l.bias.size() << "] (expected [" << n_in << ", " << n_out
                                << "] and [" << n_out << "])");
        DBN_CHECK(all_finite(l.weights) && all_finite(l.bias), NumericalError,
                  where(object) << ": parameters must be finite");
    }

    void write_classifier(File& file, const finetune::FineTuned& ft) {
        const std::size_t n_top = model_.layers.back().n_hidden();
        const std::size_t c = ft.classes.size();
        DBN_CHECK(c >= 2, ConfigError,
                  where("/classifier") << ": " << c << " classes (expected at least 2)");
        for (std::size_t i = 1; i < c; ++i)
            DBN_CHECK(ft.classes(i - 1) < ft.classes(i), ConfigError,
                      where("/classifier/classes") << ": not strictly increasing at element " << i);
        check_layer(ft.head, n_top, c, "/classifier");
        DBN_CHECK(ft.head.activation == finetune::Activation::softmax, ConfigError,
                  where("/classifier") << ": the head must be softmax (got "
                                       << to_string(ft.head.activation) << ")");
        Group g = file.create_group("classifier");
        g.write_dataset("weights", ft.head.weights.data(), {n_top, c});
        g.write_dataset("bias", ft.head.bias.data(), {c});
        g.write_dataset("classes", ft.classes.data(), {c});
    }

    void write_decoder(File& file, const finetune::FineTuned& ft) {
        const std::size_t n = model_.n_layers();
        DBN_CHECK(ft.decoder.size() == n, ShapeError,
                  where("/decoder") << ": " << ft.decoder.size() << " layers for a stack of " << n);
        Group g = file.create_group("decoder");
        g.write_int_attribute("linear_code", ft.linear_code ? 1 : 0);
        for (std::size_t k = 0; k < n; ++k) {
            const finetune::DenseLayer& d = ft.decoder[k];
            const Rbm& r = model_.layers[k];
            const std::string name = std::to_string(k);
            check_layer(d, r.n_hidden(), r.n_visible(), "/decoder/" + name);
            DBN_CHECK(d.activation != finetune::Activation::softmax, ConfigError,
                      where("/decoder/" + name) << ": softmax units are not supported");
            Group l = g.create_group(name);
            l.write_string_attribute("units", to_string(d.activation));
            l.write_dataset("weights", d.weights.data(), {r.n_hidden(), r.n_visible()});
            l.write_dataset("bias", d.bias.data(), {r.n_visible()});
        }
    }

    void write_settings(File& file, const finetune::FineTuned& ft) {
        Group g = file.create_group("fine_tuning");
        write_attributes(g, ft.config);
        g.write_uint_attribute("best_epoch", ft.best_epoch);
        Group h = g.create_group("history");
        write_columns(h, ft.history);
    }

    const Dbn& model_;
    const finetune::FineTuned& ft_;
    const std::string& target_;
};

// ---------------------------------------------------------------------------------------------

class Reader {
public:
    Reader(const File& file, const std::string& path) : file_(file), path_(path) {}

    std::optional<finetune::FineTuned> read(const Dbn& model) {
        std::optional<finetune::FineTuned> ft(std::in_place);
        if (file_.attribute_type("fine_tuned").type_class != TypeClass::string)
            fail("/", "attribute \"fine_tuned\" is not a string");
        const std::string mode = file_.read_string_attribute("fine_tuned");
        if (mode == "classifier") {
            ft->mode = finetune::FineTuneMode::classifier;
            read_classifier(model, *ft);
        } else if (mode == "autoencoder") {
            ft->mode = finetune::FineTuneMode::autoencoder;
            read_decoder(model, *ft);
        } else {
            fail("/",
                 "fine_tuned is \"" + mode + "\" (expected \"classifier\" or \"autoencoder\")");
        }
        ft->config.mode = ft->mode;
        ft->config.linear_code = ft->linear_code;
        if (file_.exists("fine_tuning")) read_settings(*ft);
        return ft;
    }

private:
    [[noreturn]] void fail(const std::string& object, const std::string& what) const {
        throw FormatError(path_ + ": " + object + ": " + what);
    }

    static std::string shape_text(const std::vector<std::size_t>& shape) {
        std::ostringstream s;
        s << "[";
        for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
        s << "]";
        return s.str();
    }

    Group group(const Group& parent, const std::string& name) const {
        const std::string object = (parent.path() == "/" ? "" : parent.path()) + "/" + name;
        if (!parent.has_group(name))
            fail(object, parent.exists(name) ? "is not a group" : "missing");
        return parent.open_group(name);
    }

    /// @brief Opens a dataset of the given class (and byte size, 0 = any) and shape.
    Dataset array(const Group& g, const std::string& name, TypeClass cls, std::size_t bytes,
                  const std::vector<std::size_t>& shape, const std::string& expected_from) const {
        const std::string object = g.path() + "/" + name;
        if (!g.has_dataset(name)) fail(object, "missing");
        Dataset ds = g.open_dataset(name);
        const hdf5::TypeInfo t = ds.type();
        if (t.type_class != cls || (bytes != 0 && t.size != bytes)) {
            const std::string expected = cls == TypeClass::floating
                                             ? "float" + std::to_string(bytes * 8)
                                             : std::string("an integer type");
            fail(object, "dtype " + t.name() + " (expected " + expected + ")");
        }
        if (ds.rank() != shape.size())
            fail(object, std::to_string(ds.rank()) + " dimension(s) (expected " +
                             std::to_string(shape.size()) + ")");
        if (ds.shape() != shape)
            fail(object, "shape " + shape_text(ds.shape()) + " does not fit " + expected_from +
                             " (expected " + shape_text(shape) + ")");
        return ds;
    }

    template <class A>
    void read_floats(const Group& g, const std::string& name, A& out,
                     const std::vector<std::size_t>& shape, const std::string& from) const {
        Dataset ds = array(g, name, TypeClass::floating, 4, shape, from);
        ds.read(out.data(), out.size());
        for (std::size_t i = 0; i < out.size(); ++i)
            if (!std::isfinite(out.data()[i]))
                fail(ds.path(), "element " + std::to_string(i) + " is not finite");
    }

    void read_classifier(const Dbn& model, finetune::FineTuned& ft) const {
        const Group g = group(file_, "classifier");
        const std::size_t n_top = model.layers.back().n_hidden();
        const std::string top = "the top layer's " + std::to_string(n_top) + " hidden units";
        if (!g.has_dataset("weights")) fail(g.path() + "/weights", "missing");
        const auto wshape = g.open_dataset("weights").shape();
        if (wshape.size() != 2)
            fail(g.path() + "/weights",
                 std::to_string(wshape.size()) + " dimension(s) (expected 2)");
        const std::size_t c = wshape[1];
        if (c < 2)
            fail(g.path() + "/weights", "shape " + shape_text(wshape) + ": fewer than 2 classes");
        ft.head.weights = Matrix::from_shape({n_top, c});
        ft.head.bias = Vector::from_shape({c});
        ft.head.activation = finetune::Activation::softmax;
        read_floats(g, "weights", ft.head.weights, {n_top, c}, top);
        const std::string from = "weights " + shape_text(wshape);
        read_floats(g, "bias", ft.head.bias, {c}, from);
        Dataset cls = array(g, "classes", TypeClass::integer, 0, {c}, from);
        const std::vector<std::int64_t> v = cls.read<std::int64_t>();
        ft.classes = Labels::from_shape({c});
        for (std::size_t i = 0; i < c; ++i) {
            if (v[i] < std::numeric_limits<std::int32_t>::min() ||
                v[i] > std::numeric_limits<std::int32_t>::max())
                fail(cls.path(), "element " + std::to_string(i) + " is outside the int32 range");
            if (i > 0 && v[i] <= v[i - 1])
                fail(cls.path(), "not strictly increasing at element " + std::to_string(i));
            ft.classes(i) = static_cast<std::int32_t>(v[i]);
        }
    }

    bool flag(const Group& g, const char* name) const {
        if (!g.has_attribute(name))
            fail(g.path(), std::string("missing attribute \"") + name + "\"");
        const std::int64_t v = g.read_int_attribute(name);
        if (v != 0 && v != 1)
            fail(g.path(), std::string("attribute \"") + name + "\" is " + std::to_string(v) +
                               " (expected 0 or 1)");
        return v == 1;
    }

    std::string text(const Group& g, const char* name) const {
        if (!g.has_attribute(name))
            fail(g.path(), std::string("missing attribute \"") + name + "\"");
        return g.read_string_attribute(name);
    }

    void read_decoder(const Dbn& model, finetune::FineTuned& ft) const {
        const Group g = group(file_, "decoder");
        ft.linear_code = flag(g, "linear_code");
        const std::size_t n = model.n_layers();
        for (std::size_t k = 0; k < n; ++k) {
            const Group l = group(g, std::to_string(k));
            const Rbm& r = model.layers[k];
            finetune::DenseLayer d;
            const std::string units = text(l, "units");
            if (units != "sigmoid" && units != "relu" && units != "linear")
                fail(l.path(),
                     "units \"" + units + "\" (expected \"sigmoid\", \"relu\" or \"linear\")");
            d.activation = finetune::parse_activation(units);
            d.weights = Matrix::from_shape({r.n_hidden(), r.n_visible()});
            d.bias = Vector::from_shape({r.n_visible()});
            const std::string from = "layer " + std::to_string(k) + "'s weights [" +
                                     std::to_string(r.n_visible()) + ", " +
                                     std::to_string(r.n_hidden()) + "] transposed";
            read_floats(l, "weights", d.weights, {r.n_hidden(), r.n_visible()}, from);
            read_floats(l, "bias", d.bias, {r.n_visible()},
                        "layer " + std::to_string(k) + "'s " + std::to_string(r.n_visible()) +
                            " visible units");
            ft.decoder.push_back(std::move(d));
        }
        if (g.exists(std::to_string(n)))
            fail(g.path() + "/" + std::to_string(n),
                 "exists, but the stack has " + std::to_string(n) + " layers");
    }

    void read_settings(finetune::FineTuned& ft) const {
        const Group g = group(file_, "fine_tuning");
        finetune::FineTuneConfig& c = ft.config;
        read_attributes(g, c, path_);
        if (c.mode != ft.mode)
            fail(g.path(), std::string("mode \"") + to_string(c.mode) +
                               "\" differs from the root's fine_tuned");
        if (c.linear_code != ft.linear_code) fail(g.path(), "linear_code differs from /decoder's");
        if (!g.has_attribute("best_epoch")) fail(g.path(), "missing attribute \"best_epoch\"");
        ft.best_epoch = g.read_uint_attribute("best_epoch");
        ft.history = read_columns<finetune::FineTuneEpoch>(group(g, "history"), path_);
    }

    const File& file_;
    const std::string& path_;
};

}  // namespace

void write_fine_tuned(File& file, const Dbn& stack, const finetune::FineTuned& ft,
                      const std::string& target) {
    Writer(stack, ft, target).write(file);
}

std::optional<finetune::FineTuned> read_fine_tuned(const File& file, const Dbn& stack,
                                                   const std::string& path) {
    if (!file.has_attribute("fine_tuned")) return std::nullopt;
    return Reader(file, path).read(stack);
}

}  // namespace dbn::io
