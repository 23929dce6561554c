// Exchange with Python: python/dbn_reader.py (numpy + h5py) computes the features `dbn features`
// writes, on models trained here, to 1e-5 relative; and models written by h5py following
// docs/FORMAT.md are read by `dbn info` and `dbn features`. Skipped without Debian's
// /usr/bin/python3 and its h5py.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/features/features.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "features/features_support.hpp"

namespace dbn {
namespace {

using testing::feature_test_dir;
using testing::read_h5_features;
using testing::run;
using testing::RunResult;
using testing::shell_quote;

constexpr const char* k_python = "/usr/bin/python3";
/// The issue's bound: Python's features equal the library's to 1e-5 relative. Relative, element
/// by element, to the larger of the value and the layer's RMS feature value: a relu unit just
/// above its hinge is the difference of terms of the layer's size, and float32 rounds those
/// terms, not the small difference (one more figure: the norm-wise relative difference).
constexpr double k_rtol = 1e-5;
constexpr const char* k_fashion_test =
    "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

bool have_h5py() {
    static const bool ok = std::filesystem::exists(k_python) &&
                           run(std::string(k_python) + " -c 'import h5py, numpy'").status == 0;
    return ok;
}

#define DBN_REQUIRE_H5PY()                                                    \
    do {                                                                      \
        if (!have_h5py()) GTEST_SKIP() << k_python << " with h5py not found"; \
    } while (false)

std::string reader() { return shell_quote(std::string(DBN_SOURCE_DIR) + "/python/dbn_reader.py"); }

/// @brief Runs the built `dbn` program (empty status -1 when the tests were built without it).
RunResult dbn_cli(const std::string& args) {
#ifdef DBN_CLI_PATH
    return run(shell_quote(DBN_CLI_PATH) + " " + args);
#else
    return {-1, "built without DBN_CLI_PATH"};
#endif
}

bool have_cli() {
#ifdef DBN_CLI_PATH
    return std::filesystem::exists(DBN_CLI_PATH);
#else
    return false;
#endif
}

/// @brief Features of `spec` at `layer` computed by python/dbn_reader.py.
Matrix python_features(const std::string& model, const std::string& spec, std::size_t layer,
                       const std::string& out) {
    const RunResult r =
        run(std::string(k_python) + " " + reader() + " " + shell_quote(model) + " --data " +
            shell_quote(spec) + " --layer " + std::to_string(layer) + " --out " + shell_quote(out));
    EXPECT_EQ(r.status, 0) << r.output;
    if (r.status != 0) return Matrix::from_shape({0, 0});
    return read_h5_features(out).x;
}

/// @brief `dbn features` (or features::extract_features when the program was not built).
Matrix library_features(const std::string& model, const std::string& spec, std::size_t layer,
                        const std::string& out, std::size_t chunk_rows = 777) {
    if (have_cli()) {
        const RunResult r =
            dbn_cli("features " + shell_quote(model) + " --data " + shell_quote(spec) + " --out " +
                    shell_quote(out) + " --layer " + std::to_string(layer) + " --chunk-rows " +
                    std::to_string(chunk_rows));
        EXPECT_EQ(r.status, 0) << r.output;
    } else {
        features::FeatureOptions o;
        o.layer = layer;
        o.chunk_rows = chunk_rows;
        features::extract_features(io::load_model(model).stack, spec, out, o);
    }
    return read_h5_features(out).x;
}

/// @brief |a - b| <= rtol max(|b|, rms(b)) everywhere, and ||a - b|| <= rtol ||b||.
void expect_match(const Matrix& py, const Matrix& lib, const std::string& what) {
    ASSERT_EQ(py.shape(), lib.shape()) << what;
    ASSERT_GT(lib.size(), 0U) << what;
    double sum_sq = 0.0;
    double diff_sq = 0.0;
    for (std::size_t i = 0; i < lib.size(); ++i) {
        const double d = static_cast<double>(py.data()[i]) - lib.data()[i];
        sum_sq += static_cast<double>(lib.data()[i]) * lib.data()[i];
        diff_sq += d * d;
    }
    const double rms = std::sqrt(sum_sq / static_cast<double>(lib.size()));
    double max_rel = 0.0;
    double max_abs = 0.0;
    std::size_t bad = 0;
    for (std::size_t i = 0; i < lib.size(); ++i) {
        const double a = py.data()[i];
        const double b = lib.data()[i];
        const double diff = std::abs(a - b);
        const double rel = diff / std::max(std::abs(b), rms);
        max_rel = std::max(max_rel, rel);
        max_abs = std::max(max_abs, diff);
        if (!(rel <= k_rtol) && bad++ < 5)
            ADD_FAILURE() << what << ": element " << i << ": python " << a << ", dbn " << b
                          << " (layer rms " << rms << ")";
    }
    EXPECT_EQ(bad, 0U) << what;
    const double norm_rel = std::sqrt(diff_sq / sum_sq);
    EXPECT_LE(norm_rel, k_rtol) << what;
    std::cout << "[ measure  ] " << what << ": largest difference " << max_abs << " absolute, "
              << max_rel << " relative (to max(|x|, rms " << rms << ")), norm-wise " << norm_rel
              << ", over " << lib.size() << " values\n";
}

/// @brief Rows of Fashion-MNIST's test images (or made-up 28x28 images without the package)
/// as an IDX file with labels beside it.
std::string image_data(const std::string& dir, std::size_t rows) {
    const std::string path = dir + "/img-images-idx3-ubyte";
    if (std::filesystem::exists(k_fashion_test)) {
        const data::Dataset d = data::first_rows(data::read_dataset(k_fashion_test), rows);
        testing::write_idx_images(path, rows, 784, [&](std::size_t i, std::size_t j) {
            return static_cast<unsigned char>(d.x(i, j));
        });
        std::vector<unsigned char> labels(d.labels.begin(), d.labels.end());
        testing::write_idx_labels(dir + "/img-labels-idx1-ubyte", labels);
    } else {
        testing::write_idx_images(path, rows, 784, testing::pixel);
        std::vector<unsigned char> labels(rows);
        for (std::size_t i = 0; i < rows; ++i) labels[i] = testing::pixel(i, 0) % 10;
        testing::write_idx_labels(dir + "/img-labels-idx1-ubyte", labels);
    }
    return path;
}

TEST(PythonReader, MatchesDbnFeaturesOnBernoulliModelTrainedInTheTest) {
    DBN_REQUIRE_H5PY();
    const std::string dir = feature_test_dir();
    const std::string spec = image_data(dir, 2000);
    const DbnConfig cfg = parse_dbn_config(R"({
        "name": "py-bernoulli", "seed": 3, "input": {"units": "bernoulli", "scale": "auto"},
        "defaults": {"epochs": 2, "batch_size": 50, "learning_rate": 0.05, "monitor_samples": 200},
        "layers": [{"hidden": 100}, {"hidden": 40, "algorithm": "pcd"}]})",
                                           "test");
    const ModelFile model = GreedyTrainer(cfg).train(data::read_dataset(spec));
    const std::string path = dir + "/model.h5";
    io::save_model(model, path);
    for (std::size_t layer : {0U, 1U}) {
        SCOPED_TRACE("layer " + std::to_string(layer));
        const Matrix lib = library_features(path, spec, layer, dir + "/lib.h5");
        expect_match(python_features(path, spec, layer, dir + "/py.h5"), lib,
                     "bernoulli model, layer " + std::to_string(layer));
    }
}

TEST(PythonReader, MatchesDbnFeaturesOnGaussianReluModelWithStandardization) {
    DBN_REQUIRE_H5PY();
    const std::string dir = feature_test_dir();
    const std::string spec = image_data(dir, 1500);
    // Gaussian visible units on standardized pixels, NReLU hidden units, then a layer whose
    // Gaussian visible units take their sigma from the data: x / sigma on both sides.
    const DbnConfig cfg = parse_dbn_config(R"({
        "name": "py-gaussian", "seed": 4,
        "input": {"units": "gaussian", "scale": "auto", "standardize": true},
        "defaults": {"epochs": 1, "batch_size": 50, "learning_rate": 0.001, "monitor_samples": 200},
        "layers": [{"hidden": 60, "hidden_units": "relu"}, {"hidden": 20}]})",
                                           "test");
    const ModelFile model = GreedyTrainer(cfg).train(data::read_dataset(spec));
    ASSERT_EQ(model.stack.layers[1].visible_type(), UnitType::gaussian);
    const std::string path = dir + "/model.h5";
    io::save_model(model, path);
    for (std::size_t layer : {0U, 1U}) {
        SCOPED_TRACE("layer " + std::to_string(layer));
        const Matrix lib = library_features(path, spec, layer, dir + "/lib.h5", 1000);
        expect_match(python_features(path, spec, layer, dir + "/py.h5"), lib,
                     "gaussian/relu model, layer " + std::to_string(layer));
    }
}

TEST(PythonReader, MatchesDbnFeaturesThroughStandardizeAndLayernormHooks) {
    DBN_REQUIRE_H5PY();
    const std::string dir = feature_test_dir();
    const std::string spec = image_data(dir, 1200);
    const DbnConfig cfg = parse_dbn_config(R"({
        "name": "py-hooks", "seed": 5, "input": {"units": "bernoulli", "scale": "auto"},
        "defaults": {"epochs": 1, "batch_size": 50, "learning_rate": 0.01, "monitor_samples": 200},
        "layers": [{"hidden": 50, "hook": "standardize"},
                   {"hidden": 30, "hook": {"kind": "layernorm", "epsilon": 0.001}},
                   {"hidden": 10}]})",
                                           "test");
    const ModelFile model = GreedyTrainer(cfg).train(data::read_dataset(spec));
    ASSERT_NE(model.stack.hook_after(0), nullptr);
    ASSERT_NE(model.stack.hook_after(1), nullptr);
    const std::string path = dir + "/model.h5";
    io::save_model(model, path);
    for (std::size_t layer : {0U, 1U, 2U}) {
        SCOPED_TRACE("layer " + std::to_string(layer));
        const Matrix lib = library_features(path, spec, layer, dir + "/lib.h5");
        expect_match(python_features(path, spec, layer, dir + "/py.h5"), lib,
                     "hooked model, layer " + std::to_string(layer));
    }
}

TEST(PythonReader, ClassifierOutputsOfAFineTunedModelMatchTheLibrary) {
    DBN_REQUIRE_H5PY();
    const std::string dir = feature_test_dir();
    const std::string spec = image_data(dir, 1000);
    const data::Dataset train = data::read_dataset(spec);
    const DbnConfig cfg = parse_dbn_config(R"({
        "name": "py-classifier", "seed": 6, "input": {"units": "bernoulli", "scale": "auto"},
        "defaults": {"epochs": 1, "batch_size": 50, "learning_rate": 0.05, "monitor_samples": 200},
        "layers": [{"hidden": 64}, {"hidden": 32}]})",
                                           "test");
    finetune::FineTuneConfig tune;
    tune.epochs = 3;
    tune.batch_size = 20;
    tune.learning_rate = 0.01;
    tune.patience = 0;
    ModelFile tuned = GreedyTrainer(cfg).train(train);
    tuned.set_fine_tuned(finetune::fine_tune(tuned.stack, train, nullptr, tune));
    const std::string path = dir + "/tuned.h5";
    io::save_model(tuned, path);

    const RunResult r =
        run(std::string(k_python) + " " + reader() + " " + shell_quote(path) + " --data " +
            shell_quote(spec) + " --out " + shell_quote(dir + "/py.h5"));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("classifier: 32 -> "), std::string::npos) << r.output;
    const auto f = hdf5::File::open(dir + "/py.h5");
    const auto ds = f.open_dataset("probabilities");
    const auto shape = ds.shape();
    ASSERT_EQ(shape.size(), 2U);
    Matrix py = Matrix::from_shape({shape[0], shape[1]});
    ds.read(py.data(), py.size());
    const ModelFile loaded = io::load_model(path);
    expect_match(py, finetune::predict_proba(loaded.stack, *loaded.fine_tuned, train.x),
                 "classifier probabilities");

    // The same predicted classes, except where two classes are within rounding of each other.
    const std::vector<std::int64_t> py_pred = f.open_dataset("predictions").read<std::int64_t>();
    const Labels lib_pred = finetune::predict(loaded.stack, *loaded.fine_tuned, train.x);
    ASSERT_EQ(py_pred.size(), lib_pred.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < lib_pred.size(); ++i) differ += py_pred[i] != lib_pred(i);
    EXPECT_LE(differ, 1U);
}

TEST(PythonReader, DocumentedMinimalModelWrittenByH5pyRunsThroughDbnInfoAndFeatures) {
    DBN_REQUIRE_H5PY();
    if (!have_cli()) GTEST_SKIP() << "the dbn program was not built";
    const std::string dir = feature_test_dir();
    // The snippet of docs/FORMAT.md itself, run by the helper that io_tests use for it.
    const RunResult w = run("cd " + shell_quote(dir) + " && " + k_python + " " +
                            shell_quote(std::string(DBN_SOURCE_DIR) + "/tests/io/doc_snippet.py") +
                            " " + shell_quote(std::string(DBN_SOURCE_DIR) + "/docs/FORMAT.md") +
                            " 'Writing a minimal model with h5py'");
    ASSERT_EQ(w.status, 0) << w.output;
    const std::string model = dir + "/minimal.h5";

    const RunResult info = dbn_cli("info " + shell_quote(model));
    EXPECT_EQ(info.status, 0) << info.output;
    EXPECT_NE(info.output.find("784-500-100"), std::string::npos) << info.output;
    const RunResult json = dbn_cli("info --json " + shell_quote(model));
    EXPECT_EQ(json.status, 0) << json.output;
    EXPECT_NE(json.output.find("\"n_layers\": 2"), std::string::npos) << json.output;

    const std::string spec = image_data(dir, 300);
    const Matrix lib = library_features(model, spec, 1, dir + "/lib.h5", 4096);
    const Matrix raw = data::read_dataset(spec).x;
    EXPECT_TRUE(testing::same_bits(lib, io::load_model(model).stack.transform(raw, 1), "features"));
    expect_match(python_features(model, spec, 1, dir + "/py.h5"), lib, "minimal h5py model");
}

/// Writes, with h5py, a model using every optional part FORMAT.md documents: Gaussian visible
/// units with sigma, relu hidden units, standardization, training attributes; strings both
/// variable-length and fixed-length.
constexpr const char* k_write_full_model = R"PY(
import sys
import h5py
import numpy as np

rng = np.random.default_rng(7)
n_v, n_h, n_top = 784, 50, 10
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["format"] = "dbn-model"
    f.attrs["format_version"] = np.int64(1)
    f.attrs["library_version"] = "test-writer 0.0"
    f.attrs["n_layers"] = np.int64(2)
    g = f.create_group("layers/0")
    g.attrs["visible_units"] = "gaussian"
    g.attrs["hidden_units"] = np.bytes_("relu")
    g["weights"] = (0.05 * rng.standard_normal((n_v, n_h))).astype(np.float32)
    g["visible_bias"] = np.zeros(n_v, dtype=np.float32)
    g["hidden_bias"] = (0.1 * rng.standard_normal(n_h)).astype(np.float32)
    g["visible_sigma"] = rng.uniform(0.5, 1.5, n_v).astype(np.float32)
    g.create_group("hook").attrs["kind"] = "none"
    g = f.create_group("layers/1")
    g.attrs["visible_units"] = "bernoulli"
    g.attrs["hidden_units"] = "bernoulli"
    g["weights"] = (0.1 * rng.standard_normal((n_h, n_top))).astype(np.float32)
    g["visible_bias"] = np.zeros(n_h, dtype=np.float32)
    g["hidden_bias"] = np.zeros(n_top, dtype=np.float32)
    p = f.create_group("preprocessing")
    p.attrs["scale"] = 255.0
    p.attrs["binarize"] = np.int64(0)
    p.attrs["threshold"] = 0.5
    p.attrs["standardize"] = np.int64(1)
    p["mean"] = rng.uniform(0.2, 0.4, n_v).astype(np.float32)
    p["stddev"] = rng.uniform(0.2, 0.5, n_v).astype(np.float32)
    t = f.create_group("training")
    t.attrs["seed"] = np.uint64(5)
    t.attrs["config_json"] = ""
    t.attrs["name"] = "written by h5py"
)PY";

TEST(PythonReader, FullModelWrittenByH5pyRunsThroughDbnInfoAndFeatures) {
    DBN_REQUIRE_H5PY();
    const std::string dir = feature_test_dir();
    std::ofstream(dir + "/write.py") << k_write_full_model;
    const std::string model = dir + "/full.h5";
    const RunResult w = run(std::string(k_python) + " " + shell_quote(dir + "/write.py") + " " +
                            shell_quote(model));
    ASSERT_EQ(w.status, 0) << w.output;
    if (have_cli()) {
        const RunResult info = dbn_cli("info " + shell_quote(model));
        EXPECT_EQ(info.status, 0) << info.output;
        EXPECT_NE(info.output.find("784-50-10"), std::string::npos) << info.output;
        EXPECT_NE(info.output.find("written by h5py"), std::string::npos) << info.output;
    }
    const Dbn m = io::load_model(model).stack;
    EXPECT_TRUE(m.preprocessing.standardize);
    EXPECT_EQ(m.layers[0].visible_type(), UnitType::gaussian);
    const std::string spec = image_data(dir, 500);
    for (std::size_t layer : {0U, 1U}) {
        const Matrix lib = library_features(model, spec, layer, dir + "/lib.h5", 99);
        expect_match(python_features(model, spec, layer, dir + "/py.h5"), lib,
                     "full h5py model, layer " + std::to_string(layer));
    }
}

TEST(PythonReader, RefusesWhatItDoesNotKnowWithAClearMessage) {
    DBN_REQUIRE_H5PY();
    const std::string dir = feature_test_dir();
    const std::string model = dir + "/m.h5";
    io::save_model(ModelFile{testing::random_stack({6, 4, 3}, 2)}, model);
    const RunResult ok = run(std::string(k_python) + " " + reader() + " " + shell_quote(model));
    EXPECT_EQ(ok.status, 0) << ok.output;
    EXPECT_NE(ok.output.find("layer 1: 4 bernoulli -> 3 bernoulli"), std::string::npos)
        << ok.output;

    auto edit_and_run = [&](const std::string& edit) {
        const std::string copy = dir + "/edited.h5";
        std::filesystem::copy_file(model, copy, std::filesystem::copy_options::overwrite_existing);
        const RunResult e =
            run(std::string(k_python) + " -c " +
                shell_quote("import h5py, numpy as np, sys\nf = h5py.File(sys.argv[1], 'r+')\n" +
                            edit + "\nf.close()") +
                " " + shell_quote(copy));
        EXPECT_EQ(e.status, 0) << e.output;
        return run(std::string(k_python) + " " + reader() + " " + shell_quote(copy));
    };
    RunResult r = edit_and_run("f.attrs['format_version'] = np.int64(2)");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("format_version 2 is not supported"), std::string::npos) << r.output;
    r = edit_and_run("del f['layers/1/hidden_bias']");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("/layers/1/hidden_bias: missing"), std::string::npos) << r.output;
    r = edit_and_run(
        "w = f['layers/0/weights'][()]; del f['layers/0/weights']; "
        "f['layers/0/weights'] = w.astype(np.float64)");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("float64 (expected float32)"), std::string::npos) << r.output;
    r = edit_and_run("f['layers/0'].create_group('hook').attrs['kind'] = 'frobnicate'");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.output.find("hook kind \"frobnicate\""), std::string::npos) << r.output;
    r = edit_and_run("f['layers/0'].create_group('hook').attrs['kind'] = 'none'");
    EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace
}  // namespace dbn
