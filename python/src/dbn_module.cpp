// dbn._dbn: the thin pybind11 layer between the library and the Python package dbn/ (a consumer
// of the library, as apps/dbn is: docs/ARCHITECTURE.md). numpy arrays in and out (copied into
// the library's float32 matrices), the GIL released while the library computes, progress
// through a Python callable, the library's exceptions as Python exceptions with their messages.
// The estimators (scikit-learn's conventions) are in python/dbn/estimators.py.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/core/version.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/features/features.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/predict/score.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "dbn/pretrain/pretrain_checks.hpp"

namespace py = pybind11;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using LabelArray = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;
/// Receives one line of progress (called with the GIL held).
using Progress = std::function<void(const std::string&)>;

/// A copy of a 2-D array as the library's matrix, checked finite as the library checks the data
/// it reads (data::check_finite: "X: NaN value at row 3, column 5"); `what` names it in messages.
dbn::Matrix to_matrix(const FloatArray& a, const char* what) {
    DBN_CHECK(a.ndim() == 2, ShapeError,
              what << ": expected a 2-D array [rows, columns], got "
                   << dbn::counted(static_cast<std::uint64_t>(a.ndim()), "dimension"));
    const auto rows = static_cast<std::size_t>(a.shape(0));
    const auto cols = static_cast<std::size_t>(a.shape(1));
    dbn::Matrix m = dbn::Matrix::from_shape({rows, cols});
    if (rows != 0 && cols != 0) std::memcpy(m.data(), a.data(), rows * cols * sizeof(float));
    dbn::data::check_finite(m, what);
    return m;
}

dbn::Labels to_labels(const LabelArray& a, const char* what) {
    DBN_CHECK(a.ndim() == 1, ShapeError,
              what << ": expected a 1-D array of labels, got "
                   << dbn::counted(static_cast<std::uint64_t>(a.ndim()), "dimension"));
    dbn::Labels l = dbn::Labels::from_shape({static_cast<std::size_t>(a.shape(0))});
    if (l.size()) std::memcpy(l.data(), a.data(), l.size() * sizeof(std::int32_t));
    return l;
}

template <class T, std::size_t N>
py::array_t<T> to_numpy(const xt::xtensor<T, N>& m) {
    std::vector<py::ssize_t> shape(m.shape().begin(), m.shape().end());
    py::array_t<T> out(shape);
    if (m.size()) std::memcpy(out.mutable_data(), m.data(), m.size() * sizeof(T));
    return out;
}

/// Calls the Python progress callable with the GIL held (never when it is None).
void report(const Progress& progress, const std::string& line) {
    if (!progress) return;
    py::gil_scoped_acquire gil;
    progress(line);
}

/// Ctrl-C while the library trains with the GIL released: Python's handler only sets a flag,
/// which this asks between minibatches; the library then throws TrainingStopped and the
/// KeyboardInterrupt set here is raised.
bool interrupted() {
    py::gil_scoped_acquire gil;
    return PyErr_CheckSignals() != 0;
}

std::string format_figure(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

/// Pretraining's progress: one line per layer start and per epoch.
class PretrainProgress : public dbn::TrainingObserver {
public:
    explicit PretrainProgress(Progress progress) : progress_(std::move(progress)) {}
    void on_layer_begin(std::size_t layer, std::size_t n_layers, const dbn::Rbm& rbm,
                        const dbn::LayerTrainingConfig& config, std::size_t n_samples) override {
        report(progress_,
               "layer " + std::to_string(layer) + " of " + std::to_string(n_layers) + ": " +
                   std::to_string(rbm.n_visible()) + " " + rbm.visible_units().name() + " -> " +
                   std::to_string(rbm.n_hidden()) + " " + rbm.hidden_units().name() + ", " +
                   dbn::counted(config.epochs, "epoch") + " on " + dbn::counted(n_samples, "row"));
    }
    dbn::Control on_epoch_end(const dbn::EpochStats& s) override {
        std::string line = "layer " + std::to_string(s.layer) + " epoch " +
                           std::to_string(s.epoch) + ": reconstruction error " +
                           format_figure(s.reconstruction_error);
        if (!std::isnan(s.free_energy_gap))
            line += ", free-energy gap " + format_figure(s.free_energy_gap);
        report(progress_, line + " (" + format_figure(s.seconds) + " s)");
        return dbn::Control::proceed;
    }
    void on_message(const char* text) override { report(progress_, text); }

private:
    Progress progress_;
};

class FineTuneProgress : public dbn::finetune::FineTuneObserver {
public:
    explicit FineTuneProgress(Progress progress) : progress_(std::move(progress)) {}
    dbn::Control on_epoch_end(const dbn::finetune::FineTuneEpoch& e) override {
        std::string line =
            "fine-tuning epoch " + std::to_string(e.epoch) + ": loss " + format_figure(e.loss);
        if (!std::isnan(e.valid_accuracy))
            line += ", validation accuracy " + format_figure(e.valid_accuracy);
        report(progress_, line + " (" + format_figure(e.seconds) + " s)");
        return dbn::Control::proceed;
    }
    void on_message(const char* text) override { report(progress_, text); }

private:
    Progress progress_;
};

/// A model file's content, shared by the Python objects that hold it (read-only once made).
struct Model {
    std::shared_ptr<const dbn::ModelFile> file;

    const dbn::Dbn& stack() const { return file->stack; }
    const dbn::finetune::FineTuned& classifier() const {
        DBN_CHECK(
            file->fine_tuned && file->fine_tuned->mode == dbn::finetune::FineTuneMode::classifier,
            ConfigError, "the model is not a fine-tuned classifier");
        return *file->fine_tuned;
    }
};

/// Greedy pretraining of the configuration's stack on the rows of x (the JSON of docs/CONFIG.md;
/// `source` names it in messages), with the checks when the configuration enables them.
Model pretrain(const std::string& config_json, const std::string& source, const FloatArray& x,
               std::optional<FloatArray> validation, int threads, Progress progress) {
    dbn::DbnConfig cfg = dbn::parse_dbn_config(config_json, source);
    dbn::data::Dataset train;
    train.x = to_matrix(x, "X");
    train.source = "X";
    std::optional<dbn::data::Dataset> valid;
    if (validation) {
        valid.emplace();
        valid->x = to_matrix(*validation, "validation");
        valid->source = "validation";
    }
    PretrainProgress observer(progress);
    dbn::TrainingObserver* watch = progress ? &observer : nullptr;
    dbn::ModelFile trained;
    {
        py::gil_scoped_release release;
        const dbn::blas::ScopedThreads scoped(threads);
        dbn::GreedyTrainer trainer(cfg);
        dbn::PretrainChecks checks(cfg.checks, watch);
        trainer.set_after_layer(std::ref(checks));
        if (cfg.checks.enabled)
            trainer.set_bound_probe(
                [&checks](const dbn::ModelFile& m, std::size_t k, const dbn::Matrix& raw,
                          const dbn::GuideSpec& g) { return checks.bound_probe(m, k, raw, g); });
        trainer.set_stop_request(interrupted);
        trained = trainer.train(std::move(train), valid ? &*valid : nullptr, watch);
    }
    return Model{std::make_shared<const dbn::ModelFile>(std::move(trained))};
}

/// The fine-tuning settings from keyword arguments named as FineTuneConfig's members.
dbn::finetune::FineTuneConfig fine_tune_settings(const py::dict& kw) {
    dbn::finetune::FineTuneConfig c;
    for (const auto& item : kw) {
        const auto key = item.first.cast<std::string>();
        const py::handle v = item.second;
        if (key == "epochs")
            c.epochs = v.cast<std::size_t>();
        else if (key == "batch_size")
            c.batch_size = v.cast<std::size_t>();
        else if (key == "learning_rate")
            c.learning_rate = v.cast<double>();
        else if (key == "learning_rate_decay")
            c.learning_rate_decay = v.cast<double>();
        else if (key == "momentum")
            c.momentum = v.cast<double>();
        else if (key == "weight_decay")
            c.weight_decay = v.cast<double>();
        else if (key == "dropout")
            c.dropout = v.cast<double>();
        else if (key == "input_dropout")
            c.input_dropout = v.cast<double>();
        else if (key == "patience")
            c.patience = v.cast<std::size_t>();
        else if (key == "validation_fraction")
            c.validation_fraction = v.cast<double>();
        else if (key == "head_only")
            c.head_only = v.cast<bool>();
        else if (key == "seed")
            c.seed = v.cast<std::uint64_t>();
        else if (key == "optimizer")
            c.optimizer = dbn::finetune::parse_optimizer(v.cast<std::string>());
        else if (key == "init")
            c.init = dbn::finetune::parse_init_scheme(v.cast<std::string>());
        else
            throw dbn::ConfigError("fine-tuning: unknown setting " + dbn::quote_input(key));
    }
    c.mode = dbn::finetune::FineTuneMode::classifier;
    c.validate();
    return c;
}

/// The model fine-tuned as a classifier of `labels` (finetune::fine_tune, as `dbn finetune
/// --mode classifier`).
Model fine_tune_classifier(const Model& model, const FloatArray& x, const LabelArray& labels,
                           int threads, Progress progress, const py::kwargs& settings) {
    const dbn::finetune::FineTuneConfig cfg = fine_tune_settings(settings);
    dbn::data::Dataset train;
    train.x = to_matrix(x, "X");
    train.labels = to_labels(labels, "y");
    train.source = "X";
    FineTuneProgress observer(progress);
    dbn::finetune::FineTuneControl control;
    control.stop = interrupted;
    auto tuned = std::make_shared<dbn::ModelFile>(*model.file);
    {
        py::gil_scoped_release release;
        const dbn::blas::ScopedThreads scoped(threads);
        dbn::finetune::check_fine_tune_data(model.stack(), cfg, train, nullptr, nullptr);
        tuned->set_fine_tuned(dbn::finetune::fine_tune(model.stack(), train, nullptr, cfg,
                                                       progress ? &observer : nullptr, std::nullopt,
                                                       &control));
    }
    return Model{std::move(tuned)};
}

py::array_t<float> transform(const Model& m, const FloatArray& x, long layer) {
    const dbn::Matrix raw = to_matrix(x, "X");
    const std::size_t top = m.stack().n_layers() - 1;
    const std::size_t k = layer < 0 ? top : static_cast<std::size_t>(layer);
    dbn::Matrix f;
    {
        py::gil_scoped_release release;
        f = dbn::features::features(m.stack(), raw, k);
    }
    return to_numpy(f);
}

py::array_t<float> predict_proba(const Model& m, const FloatArray& x) {
    const dbn::Matrix raw = to_matrix(x, "X");
    dbn::Matrix p;
    {
        py::gil_scoped_release release;
        p = dbn::finetune::predict_proba(m.stack(), m.classifier(), raw);
    }
    return to_numpy(p);
}

py::array_t<std::int32_t> predict(const Model& m, const FloatArray& x) {
    const dbn::Matrix raw = to_matrix(x, "X");
    dbn::Labels l;
    {
        py::gil_scoped_release release;
        l = dbn::finetune::predict(m.stack(), m.classifier(), raw);
    }
    return to_numpy(l);
}

/// F(v) of each row under layer 0, after the preprocessing (as `dbn score`, in double).
py::array_t<double> free_energy(const Model& m, const FloatArray& x) {
    const dbn::Matrix raw = to_matrix(x, "X");
    dbn::DVector f;
    {
        py::gil_scoped_release release;
        const dbn::Matrix v = m.stack().preprocess(raw);
        f = dbn::predict::free_energy_in_double(m.stack().layers.at(0), v);
    }
    return to_numpy(f);
}

/// log Z of layer 0 as `dbn score` finds it: (known, value, low, high, method).
py::tuple log_z(const Model& m) {
    dbn::predict::ScoreLogZ z;
    {
        py::gil_scoped_release release;
        z = dbn::predict::score_log_z(*m.file);
    }
    return py::make_tuple(z.known, z.value, z.low, z.high, z.method);
}

Model load(const std::string& path) {
    dbn::ModelFile f;
    {
        py::gil_scoped_release release;
        f = dbn::io::load_model(path);
    }
    return Model{std::make_shared<const dbn::ModelFile>(std::move(f))};
}

void save(const Model& m, const std::string& path) {
    py::gil_scoped_release release;
    dbn::io::save_model(*m.file, path);
}

}  // namespace

PYBIND11_MODULE(_dbn, m) {
    m.doc() = "The dbn library's C++ API for the Python package dbn (docs/PYTHON.md)";
    m.attr("library_version") = dbn::library_version;

    // The library's exceptions: bad arguments, data, settings and files are ValueErrors (as
    // scikit-learn expects), an unreadable file an OSError, divergence an ArithmeticError.
    static py::exception<dbn::Error> error(m, "Error", PyExc_RuntimeError);
    static py::exception<dbn::ShapeError> shape_error(m, "ShapeError", PyExc_ValueError);
    static py::exception<dbn::ConfigError> config_error(m, "ConfigError", PyExc_ValueError);
    static py::exception<dbn::FormatError> format_error(m, "FormatError", PyExc_ValueError);
    static py::exception<dbn::IoError> io_error(m, "IoError", PyExc_OSError);
    static py::exception<dbn::NumericalError> numerical_error(m, "NumericalError",
                                                              PyExc_ArithmeticError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const dbn::TrainingStopped&) {
            // Stopped by interrupted(): its KeyboardInterrupt is pending.
            if (PyErr_Occurred()) return;
            PyErr_SetString(PyExc_KeyboardInterrupt, "training stopped");
        } catch (const dbn::ShapeError& e) {
            shape_error(e.what());
        } catch (const dbn::ConfigError& e) {
            config_error(e.what());
        } catch (const dbn::FormatError& e) {
            format_error(e.what());
        } catch (const dbn::IoError& e) {
            io_error(e.what());
        } catch (const dbn::NumericalError& e) {
            numerical_error(e.what());
        } catch (const dbn::Error& e) {
            error(e.what());
        }
    });

    py::class_<Model>(m, "Model", "A model file's content (docs/FORMAT.md)")
        .def_property_readonly("n_visible", [](const Model& s) { return s.stack().n_visible(); })
        .def_property_readonly("layer_sizes",
                               [](const Model& s) {
                                   std::vector<std::size_t> sizes{s.stack().n_visible()};
                                   for (const auto& l : s.stack().layers)
                                       sizes.push_back(l.n_hidden());
                                   return sizes;
                               })
        .def_property_readonly("units",
                               [](const Model& s) {
                                   std::vector<std::pair<std::string, std::string>> u;
                                   for (const auto& l : s.stack().layers)
                                       u.emplace_back(l.visible_units().name(),
                                                      l.hidden_units().name());
                                   return u;
                               })
        .def_property_readonly(
            "fine_tuned",
            [](const Model& s) {
                if (!s.file->fine_tuned) return std::string();
                return std::string(dbn::finetune::to_string(s.file->fine_tuned->mode));
            })
        .def_property_readonly("classes",
                               [](const Model& s) { return to_numpy(s.classifier().classes); })
        .def_property_readonly("config_json", [](const Model& s) { return s.file->config_json; })
        .def_property_readonly("seed", [](const Model& s) { return s.file->seed; })
        .def_property_readonly("name", [](const Model& s) { return s.file->name; })
        .def("transform", &transform, py::arg("x"), py::arg("layer") = -1,
             "Mean-field features of layer `layer` (-1: the top), as `dbn features`")
        .def("predict_proba", &predict_proba, py::arg("x"),
             "A fine-tuned classifier's class probabilities, columns in the order of classes")
        .def("predict", &predict, py::arg("x"), "A fine-tuned classifier's predicted labels")
        .def("free_energy", &free_energy, py::arg("x"),
             "F(v) of each row under layer 0 after the preprocessing (as `dbn score`)")
        .def("log_z", &log_z,
             "log Z of layer 0 as `dbn score` finds it: (known, value, low, "
             "high, method)")
        .def("save", &save, py::arg("path"), "Writes the model file (as `dbn pretrain --out`)")
        .def("fine_tune_classifier", &fine_tune_classifier, py::arg("x"), py::arg("labels"),
             py::arg("threads") = 0, py::arg("progress") = nullptr,
             "The model fine-tuned as a classifier (as `dbn finetune --mode classifier`); "
             "keyword arguments: FineTuneConfig's settings");

    m.def("pretrain", &pretrain, py::arg("config_json"), py::arg("source"), py::arg("x"),
          py::arg("validation") = std::nullopt, py::arg("threads") = 0,
          py::arg("progress") = nullptr,
          "Greedy pretraining of a configuration (docs/CONFIG.md's JSON) on the rows of x");
    m.def("load", &load, py::arg("path"), "Reads a model file (as every dbn command does)");
}
