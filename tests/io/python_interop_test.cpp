// The model file is meant for other tools: h5py must read what the library writes, and the
// library must load what h5py writes following docs/FORMAT.md. Skipped without Debian's
// /usr/bin/python3 and its h5py.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <gtest/gtest.h>

#include "dbn/io/model_io.hpp"
#include "io/io_support.hpp"
#include "support/run_command.hpp"
#include "support/tolerances.hpp"

namespace dbn {
namespace {

using testing::test_dir;

constexpr const char* k_python = "/usr/bin/python3";

using testing::run;
using testing::RunResult;
using testing::shell_quote;

bool have_h5py() {
    if (!std::filesystem::exists(k_python)) return false;
    return run(std::string(k_python) + " -c 'import h5py, numpy'").status == 0;
}

std::string script(const std::string& name) {
    return shell_quote(std::string(DBN_SOURCE_DIR) + "/tests/io/" + name);
}

std::string format_md() { return shell_quote(std::string(DBN_SOURCE_DIR) + "/docs/FORMAT.md"); }

#define DBN_REQUIRE_H5PY()                                                    \
    do {                                                                      \
        if (!have_h5py()) GTEST_SKIP() << k_python << " with h5py not found"; \
    } while (false)

/// @brief Saves `model`, lets tests/io/read_model.py (with the FORMAT.md snippet) compute
/// layer-0 hidden values of a fixed input, and compares them with Dbn::transform.
void check_python_reads(const ModelFile& model, const std::string& path) {
    io::save_model(model, path);
    constexpr std::size_t rows = 4;
    const RunResult r = run(std::string(k_python) + " " + script("read_model.py") + " " +
                            shell_quote(path) + " " + std::to_string(rows) + " " + format_md());
    ASSERT_EQ(r.status, 0) << r.output;

    std::istringstream out(r.output);
    std::string format;
    long version = 0;
    std::size_t n_layers = 0;
    double w12 = 0.0;
    out >> format >> version >> n_layers >> w12;
    EXPECT_EQ(format, "dbn-model");
    EXPECT_EQ(version, 1);
    EXPECT_EQ(n_layers, model.stack.n_layers());
    // The value h5py sees is the float the library holds, to the bit.
    EXPECT_EQ(w12, static_cast<double>(model.stack.layers[0].weights()(1, 2)));

    const std::size_t nv = model.stack.n_visible();
    Matrix raw = Matrix::from_shape({rows, nv});
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < nv; ++j)
            raw(i, j) = static_cast<float>(static_cast<double>((7 * i + 3 * j) % 11) / 10.0);
    const Matrix expected = model.stack.transform(raw, 0);
    std::vector<double> got;
    for (double v = 0; out >> v;) got.push_back(v);
    ASSERT_EQ(got.size(), expected.size()) << r.output;
    EXPECT_TRUE(testing::allclose(got, expected, testing::k_rel_tol_float, 1e-6));
}

TEST(PythonInterop, H5pyReadsGaussianReluModelWithStandardization) {
    DBN_REQUIRE_H5PY();
    ModelFile m = testing::mixed_stack();
    testing::add_records(m);
    testing::add_standardization(m);
    check_python_reads(m, test_dir() + "/model.h5");
}

TEST(PythonInterop, H5pyReadsBernoulliModelWithBinarization) {
    DBN_REQUIRE_H5PY();
    Rng rng{21};
    ModelFile m;
    m.stack.layers.push_back(
        testing::random_layer(6, 5, UnitType::bernoulli, UnitType::bernoulli, rng));
    m.stack.preprocessing.scale = 2.0f;
    m.stack.preprocessing.binarize = true;
    m.stack.preprocessing.threshold = 0.2f;
    check_python_reads(m, test_dir() + "/model.h5");
}

float expected_value(std::size_t m) {
    return static_cast<float>(static_cast<double>(m) * 0.01 - 0.05);
}

TEST(PythonInterop, LoadsMinimalModelWrittenByH5py) {
    DBN_REQUIRE_H5PY();
    const std::string path = test_dir() + "/minimal.h5";
    const RunResult r = run(std::string(k_python) + " " + script("write_minimal_model.py") + " " +
                            shell_quote(path));
    ASSERT_EQ(r.status, 0) << r.output;

    const ModelFile m = io::load_model(path);
    ASSERT_EQ(m.stack.n_layers(), 2U);
    const Rbm& l0 = m.stack.layers[0];
    const Rbm& l1 = m.stack.layers[1];
    EXPECT_EQ(l0.visible_type(), UnitType::gaussian);
    EXPECT_EQ(l0.hidden_type(), UnitType::bernoulli);
    EXPECT_EQ(l1.visible_type(), UnitType::bernoulli);  // fixed-length string attribute
    EXPECT_EQ(l1.hidden_type(), UnitType::relu);
    ASSERT_EQ(l0.n_visible(), 4U);
    ASSERT_EQ(l0.n_hidden(), 3U);
    ASSERT_EQ(l1.n_hidden(), 2U);
    for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t j = 0; j < 3; ++j)
            EXPECT_EQ(l0.weights()(i, j), expected_value(i * 3 + j));
        EXPECT_EQ(l0.visible_bias()(i), expected_value(i));
        EXPECT_EQ(l0.visible_sigma()(i), 0.5f + 0.25f * static_cast<float>(i));
    }
    EXPECT_EQ(l1.weights()(2, 1), expected_value(5));
    EXPECT_EQ(l1.hidden_bias()(1), expected_value(1));
    EXPECT_TRUE(m.stack.preprocessing.is_identity());
    EXPECT_TRUE(m.records.empty());
}

TEST(PythonInterop, FormatDocWriterSnippetIsLoadable) {
    DBN_REQUIRE_H5PY();
    const std::string dir = test_dir();
    // The snippet writes "minimal.h5" in the current folder.
    const RunResult r =
        run("cd " + shell_quote(dir) + " && " + k_python + " " + script("doc_snippet.py") + " " +
            format_md() + " 'Writing a minimal model with h5py'");
    ASSERT_EQ(r.status, 0) << r.output;
    const ModelFile m = io::load_model(dir + "/minimal.h5");
    ASSERT_EQ(m.stack.n_layers(), 2U);
    EXPECT_EQ(m.stack.layers[0].n_visible(), 784U);
    EXPECT_EQ(m.stack.layers[1].n_visible(), 500U);
    EXPECT_EQ(m.stack.layers[1].n_hidden(), 100U);
}

}  // namespace
}  // namespace dbn
