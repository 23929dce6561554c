#include "dbn/io/model_io.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/version.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "io/io_support.hpp"

namespace dbn {
namespace {

using hdf5::File;
using hdf5::Group;
using testing::dir_entries;
using testing::expect_same_model;
using testing::file_bytes;
using ::testing::HasSubstr;
using testing::test_dir;

ModelFile one_layer(UnitType vis, UnitType hid, std::size_t nv = 6, std::size_t nh = 4) {
    Rng rng{3};
    ModelFile m;
    m.stack.layers.push_back(testing::random_layer(nv, nh, vis, hid, rng));
    return m;
}

ModelFile round_trip(const ModelFile& m, const std::string& path) {
    io::save_model(m, path);
    return io::load_model(path);
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(ModelIoRoundTrip, BernoulliIsBitExact) {
    const std::string path = test_dir() + "/bernoulli.h5";
    const ModelFile m = one_layer(UnitType::bernoulli, UnitType::bernoulli);
    expect_same_model(m, round_trip(m, path));
}

TEST(ModelIoRoundTrip, GaussianWithSigmaIsBitExact) {
    const std::string path = test_dir() + "/gaussian.h5";
    const ModelFile m = one_layer(UnitType::gaussian, UnitType::bernoulli);
    ASSERT_NE(m.stack.layers[0].visible_sigma()(0), 1.0f);
    const ModelFile back = round_trip(m, path);
    expect_same_model(m, back);
    const File f = File::open(path);
    EXPECT_TRUE(f.has_dataset("/layers/0/visible_sigma"));
}

TEST(ModelIoRoundTrip, ReluHiddenIsBitExact) {
    const std::string path = test_dir() + "/relu.h5";
    const ModelFile m = one_layer(UnitType::bernoulli, UnitType::relu);
    expect_same_model(m, round_trip(m, path));
}

TEST(ModelIoRoundTrip, SeveralLayersWithoutRecordsIsBitExact) {
    const std::string path = test_dir() + "/stack.h5";
    const ModelFile m = testing::mixed_stack();
    const ModelFile back = round_trip(m, path);
    expect_same_model(m, back);
    EXPECT_TRUE(back.records.empty());
    EXPECT_TRUE(back.stack.preprocessing.is_identity());
}

TEST(ModelIoRoundTrip, RecordsAndPreprocessingAreBitExact) {
    const std::string path = test_dir() + "/full.h5";
    ModelFile m = testing::mixed_stack();
    testing::add_records(m);
    testing::add_standardization(m);
    expect_same_model(m, round_trip(m, path));
}

TEST(ModelIoRoundTrip, BinarizeAndEmptyMonitorsAreKept) {
    const std::string path = test_dir() + "/binarize.h5";
    ModelFile m = one_layer(UnitType::bernoulli, UnitType::bernoulli);
    m.stack.preprocessing.scale = 255.0f;
    m.stack.preprocessing.binarize = true;
    m.stack.preprocessing.threshold = 0.25f;
    m.records.resize(1);  // configured but stopped before its first epoch
    expect_same_model(m, round_trip(m, path));
}

TEST(ModelIoRoundTrip, SampleShapeIsKeptAndAbsentForATable) {
    const std::string path = test_dir() + "/shape.h5";
    ModelFile m = one_layer(UnitType::bernoulli, UnitType::bernoulli, 12, 4);
    EXPECT_TRUE(round_trip(m, path).sample_shape.empty());
    EXPECT_FALSE(File::open(path).has_attribute("sample_shape"));
    m.sample_shape = {3, 4};
    expect_same_model(m, round_trip(m, path));
    EXPECT_EQ(File::open(path).read_int_array_attribute("sample_shape", 8),
              (std::vector<std::int64_t>{3, 4}));
    m.sample_shape = {1, 3, 2, 2};
    expect_same_model(m, round_trip(m, path));
}

TEST(ModelIoSave, RefusesASampleShapeThatIsNotTheVisibleUnits) {
    const std::string path = test_dir() + "/bad_shape.h5";
    ModelFile m = one_layer(UnitType::bernoulli, UnitType::bernoulli, 12, 4);
    for (const std::vector<std::size_t>& shape :
         {std::vector<std::size_t>{3, 5}, {12}, {0, 12}, {2, 2, 2, 2, 2, 2, 2, 2, 2}}) {
        m.sample_shape = shape;
        EXPECT_THROW(io::save_model(m, path), ShapeError) << shape.size() << " sizes";
        EXPECT_FALSE(std::filesystem::exists(path));
    }
}

TEST(ModelIoRoundTrip, WritesTheBindingNames) {
    const std::string path = test_dir() + "/names.h5";
    const ModelFile m = testing::mixed_stack();
    io::save_model(m, path);
    const File f = File::open(path);
    EXPECT_EQ(f.read_string_attribute("format"), "dbn-model");
    EXPECT_EQ(f.read_int_attribute("format_version"), 1);
    EXPECT_EQ(f.read_string_attribute("library_version"), library_version);
    EXPECT_EQ(f.read_int_attribute("n_layers"), 3);
    const Group l0 = f.open_group("/layers/0");
    EXPECT_EQ(l0.read_string_attribute("visible_units"), "gaussian");
    EXPECT_EQ(l0.read_string_attribute("hidden_units"), "relu");
    const auto w = f.open_dataset("/layers/1/weights");
    EXPECT_EQ(w.shape(), (std::vector<std::size_t>{7, 3}));
    EXPECT_EQ(w.type().name(), "float32");
    EXPECT_EQ(f.open_dataset("/layers/1/visible_bias").shape(), std::vector<std::size_t>{7});
    EXPECT_EQ(f.open_dataset("/layers/1/hidden_bias").shape(), std::vector<std::size_t>{3});
    EXPECT_FALSE(f.exists("/layers/1/visible_sigma"));
    // Row-major: element (i, j) of the file is W(i, j).
    const std::vector<float> flat = w.read<float>();
    EXPECT_EQ(flat[1 * 3 + 2], m.stack.layers[1].weights()(1, 2));
}

TEST(ModelIoRoundTrip, OnlyBindingNamesIsACompleteModel) {
    const std::string path = test_dir() + "/minimal.h5";
    {
        File f = File::create(path);
        f.write_string_attribute("format", "dbn-model");
        f.write_int_attribute("format_version", 1);
        f.write_string_attribute("library_version", "elsewhere 1.0");
        f.write_int_attribute("n_layers", 1);
        Group g = f.create_group("/layers/0");
        g.write_string_attribute("visible_units", "bernoulli");
        g.write_string_attribute("hidden_units", "bernoulli");
        const std::vector<float> w{1, 2, 3, 4, 5, 6};
        const std::vector<float> a{0.5f, -0.5f};
        const std::vector<float> b{1, 2, 3};
        g.write_dataset("weights", w.data(), {2, 3});
        g.write_dataset("visible_bias", a.data(), {2});
        g.write_dataset("hidden_bias", b.data(), {3});
    }
    const ModelFile m = io::load_model(path);
    ASSERT_EQ(m.stack.n_layers(), 1U);
    EXPECT_EQ(m.stack.layers[0].n_visible(), 2U);
    EXPECT_EQ(m.stack.layers[0].n_hidden(), 3U);
    EXPECT_EQ(m.stack.layers[0].weights()(1, 0), 4.0f);
    EXPECT_EQ(m.stack.layers[0].visible_bias()(1), -0.5f);
    EXPECT_TRUE(m.stack.preprocessing.is_identity());
    EXPECT_TRUE(m.records.empty());
    EXPECT_EQ(m.seed, 0U);
    EXPECT_TRUE(m.config_json.empty());
}

TEST(ModelIoRoundTrip, IgnoresUnknownNames) {
    const std::string path = test_dir() + "/extra.h5";
    const ModelFile m = testing::mixed_stack();
    io::save_model(m, path);
    {
        File f = File::open(path, File::Mode::read_write);
        f.write_string_attribute("comment", "added by a later version");
        f.create_group("/layers/0/future_group").write_string_attribute("kind", "future");
        const std::vector<double> x{1.0};
        f.write_dataset("/checks/something", x.data(), {1});
    }
    expect_same_model(m, io::load_model(path));
}

TEST(ModelIoRoundTrip, OverwritesAnExistingModel) {
    const std::string dir = test_dir();
    const std::string path = dir + "/model.h5";
    io::save_model(testing::mixed_stack(1), path);
    const ModelFile second = one_layer(UnitType::gaussian, UnitType::relu);
    expect_same_model(second, round_trip(second, path));
    EXPECT_EQ(dir_entries(dir), std::vector<std::string>{"model.h5"});
}

// ---------------------------------------------------------------------------------------------
// Atomic save

TEST(ModelIoSave, FailureMidwayLeavesTargetUntouched) {
    const std::string dir = test_dir();
    const std::string path = dir + "/model.h5";
    io::save_model(one_layer(UnitType::bernoulli, UnitType::bernoulli), path);
    const std::string before = file_bytes(path);

    ModelFile broken = testing::mixed_stack();
    broken.stack.layers[2].weights()(1, 1) = std::numeric_limits<float>::quiet_NaN();
    try {
        io::save_model(broken, path);
        FAIL() << "expected NumericalError";
    } catch (const NumericalError& e) {
        EXPECT_THAT(e.what(), HasSubstr(path));
        EXPECT_THAT(e.what(), HasSubstr("layer 2"));
        EXPECT_THAT(e.what(), HasSubstr("weights"));
    }
    EXPECT_EQ(file_bytes(path), before);
    EXPECT_EQ(dir_entries(dir), std::vector<std::string>{"model.h5"});
    EXPECT_NO_THROW(io::load_model(path));
}

TEST(ModelIoSave, FailureLeavesNoFileWhenThereWasNone) {
    const std::string dir = test_dir();
    ModelFile broken = testing::mixed_stack();
    testing::add_records(broken);
    broken.records.pop_back();  // records are written last: the file is nearly complete
    EXPECT_THROW(io::save_model(broken, dir + "/model.h5"), ShapeError);
    EXPECT_TRUE(dir_entries(dir).empty());
}

TEST(ModelIoSave, MissingDirectoryLeavesNoFile) {
    const std::string dir = test_dir();
    const std::string path = dir + "/no/such/dir/model.h5";
    try {
        io::save_model(testing::mixed_stack(), path);
        FAIL() << "expected IoError";
    } catch (const IoError& e) {
        EXPECT_THAT(e.what(), HasSubstr(path));
        EXPECT_THAT(e.what(), HasSubstr("no such directory"));
    }
    EXPECT_TRUE(dir_entries(dir).empty());
}

TEST(ModelIoSave, TargetThatIsADirectoryIsRefused) {
    const std::string dir = test_dir();
    std::filesystem::create_directory(dir + "/model.h5");
    EXPECT_THROW(io::save_model(testing::mixed_stack(), dir + "/model.h5"), IoError);
    EXPECT_EQ(dir_entries(dir), std::vector<std::string>{"model.h5"});
}

TEST(ModelIoSave, RejectsInvalidModels) {
    const std::string dir = test_dir();
    const std::string path = dir + "/model.h5";
    EXPECT_THROW(io::save_model(ModelFile{}, path), ConfigError);

    ModelFile misfit = testing::mixed_stack();
    misfit.stack.layers[1] = Rbm(8, 3);
    try {
        io::save_model(misfit, path);
        FAIL() << "expected ShapeError";
    } catch (const ShapeError& e) {
        EXPECT_THAT(e.what(), HasSubstr("layer 1 has 8 visible units but layer 0 has 7"));
    }

    ModelFile bad_sigma = one_layer(UnitType::gaussian, UnitType::bernoulli);
    bad_sigma.stack.layers[0].visible_sigma()(2) = 0.0f;
    EXPECT_THROW(io::save_model(bad_sigma, path), NumericalError);

    ModelFile unfitted = one_layer(UnitType::bernoulli, UnitType::bernoulli);
    unfitted.stack.preprocessing.standardize = true;
    EXPECT_THROW(io::save_model(unfitted, path), ConfigError);

    ModelFile wrong_stats = one_layer(UnitType::bernoulli, UnitType::bernoulli);
    wrong_stats.stack.preprocessing.standardize = true;
    wrong_stats.stack.preprocessing.mean = xt::zeros<float>({5});
    wrong_stats.stack.preprocessing.stddev = xt::ones<float>({5});
    EXPECT_THROW(io::save_model(wrong_stats, path), ShapeError);

    EXPECT_TRUE(dir_entries(dir).empty());
}

// ---------------------------------------------------------------------------------------------
// Rejections on load. Each case saves a good model, damages one thing with the HDF5 wrapper and
// checks that the message names the file, the object and the problem.

class ModelIoLoad : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = test_dir() + "/model.h5";
        ModelFile m = testing::mixed_stack();
        testing::add_records(m);
        // Layer 0 is Gaussian; standardization statistics make /preprocessing complete too.
        testing::add_standardization(m);
        io::save_model(m, path_);
    }

    void damage(const std::function<void(File&)>& edit) {
        File f = File::open(path_, File::Mode::read_write);
        edit(f);
        f.close();
    }

    /// @brief load_model must throw FormatError whose message holds every one of `parts`.
    void expect_rejected(const std::vector<std::string>& parts) {
        try {
            io::load_model(path_);
            ADD_FAILURE() << "load_model accepted the damaged file";
        } catch (const FormatError& e) {
            EXPECT_THAT(e.what(), HasSubstr(path_ + ": "));
            for (const auto& p : parts) EXPECT_THAT(e.what(), HasSubstr(p));
        }
    }

    template <class T>
    static void replace(File& f, const std::string& name, const std::vector<T>& values,
                        const std::vector<std::size_t>& shape) {
        f.remove(name);
        f.write_dataset(name, values.data(), shape);
    }

    std::string path_;
};

TEST_F(ModelIoLoad, MissingFileIsAnIoErrorNamingIt) {
    const std::string missing = test_dir() + "/absent.h5";
    try {
        io::load_model(missing);
        FAIL() << "expected IoError";
    } catch (const FormatError&) {
        FAIL() << "a missing file is an IoError, not a FormatError";
    } catch (const IoError& e) {
        EXPECT_THAT(e.what(), HasSubstr(missing));
        EXPECT_THAT(e.what(), HasSubstr("no such file"));
    }
}

TEST_F(ModelIoLoad, RejectsAFileThatIsNotHdf5) {
    { std::ofstream(path_, std::ios::trunc) << "epoch,loss\n1,0.5\n"; }
    expect_rejected({"not an HDF5 file"});
}

TEST_F(ModelIoLoad, RejectsMissingFormatAttribute) {
    damage([](File& f) { f.remove_attribute("format"); });
    expect_rejected({"missing attribute \"format\"", "not a dbn model"});
}

TEST_F(ModelIoLoad, RejectsWrongFormat) {
    damage([](File& f) { f.write_string_attribute("format", "keras-model"); });
    expect_rejected({"\"keras-model\"", "expected \"dbn-model\""});
}

TEST_F(ModelIoLoad, RejectsFormatThatIsNotAString) {
    damage([](File& f) { f.write_int_attribute("format", 1); });
    expect_rejected({"\"format\"", "not a string"});
}

TEST_F(ModelIoLoad, RejectsUnknownFormatVersion) {
    damage([](File& f) { f.write_int_attribute("format_version", 2); });
    expect_rejected({"format_version 2", "reads format_version 1"});
}

TEST_F(ModelIoLoad, RejectsFormatVersionOfWrongType) {
    damage([](File& f) { f.write_string_attribute("format_version", "1"); });
    expect_rejected({"format_version", "expected an integer"});
}

TEST_F(ModelIoLoad, RejectsASampleShapeThatIsNotTheVisibleUnits) {
    // mixed_stack()'s layer 0 has 5 visible units.
    ASSERT_EQ(io::load_model(path_).stack.n_visible(), 5u);
    damage([](File& f) { f.write_int_array_attribute("sample_shape", {5, 1}); });
    EXPECT_EQ(io::load_model(path_).sample_shape, (std::vector<std::size_t>{5, 1}));
    damage([](File& f) { f.write_int_array_attribute("sample_shape", {2, 3}); });
    expect_rejected({"/: attribute \"sample_shape\" [2, 3] is not the shape of 5 visible units"});
    damage([](File& f) { f.write_int_array_attribute("sample_shape", {-1, -5}); });
    expect_rejected({"[-1, -5] is not the shape of 5"});
    damage([](File& f) { f.write_int_array_attribute("sample_shape", {5}); });
    expect_rejected({"[5] is not the shape of 5", "2 to 8 positive sizes"});
    // 2^32 x 2^32 wraps to 0 in 64 bits, and 0 x 5 is not 5 either: the product is checked
    // without overflowing.
    damage([](File& f) {
        f.write_int_array_attribute("sample_shape", {4294967296, 4294967296, 5});
    });
    expect_rejected({"is not the shape of 5"});
    damage([](File& f) { f.write_string_attribute("sample_shape", "28x28"); });
    expect_rejected({"sample_shape"});
}

TEST_F(ModelIoLoad, RejectsMissingNLayers) {
    damage([](File& f) { f.remove_attribute("n_layers"); });
    expect_rejected({"missing attribute \"n_layers\""});
}

TEST_F(ModelIoLoad, RejectsMissingArrayNamingIt) {
    damage([](File& f) { f.remove("/layers/1/hidden_bias"); });
    try {
        io::load_model(path_);
        FAIL() << "expected FormatError";
    } catch (const FormatError& e) {
        EXPECT_EQ(std::string(e.what()), path_ + ": /layers/1/hidden_bias: missing");
    }
}

TEST_F(ModelIoLoad, RejectsMissingSigmaOfGaussianLayer) {
    damage([](File& f) { f.remove("/layers/0/visible_sigma"); });
    expect_rejected({"/layers/0/visible_sigma: missing"});
}

TEST_F(ModelIoLoad, RejectsMissingLayer) {
    damage([](File& f) { f.write_int_attribute("n_layers", 4); });
    expect_rejected({"/layers/3: missing"});
}

TEST_F(ModelIoLoad, RejectsLayersBeyondNLayers) {
    damage([](File& f) { f.write_int_attribute("n_layers", 2); });
    expect_rejected({"/layers/2", "n_layers is 2"});
}

TEST_F(ModelIoLoad, RejectsZeroLayers) {
    damage([](File& f) { f.write_int_attribute("n_layers", 0); });
    expect_rejected({"n_layers is 0"});
}

TEST_F(ModelIoLoad, RejectsBiasThatDoesNotFitWeights) {
    // weights are [7, 3] in layer 1: a hidden bias of 2 cannot belong to them.
    damage([](File& f) { replace<float>(f, "/layers/1/hidden_bias", {0, 0}, {2}); });
    expect_rejected({"/layers/1/hidden_bias", "shape [2]", "weights [7, 3]", "expected [3]"});
}

TEST_F(ModelIoLoad, RejectsLayerThatDoesNotFitTheOneBelow) {
    // Layer 0 has 7 hidden units; give layer 1 eight visible units, consistent in itself.
    damage([](File& f) {
        replace<float>(f, "/layers/1/weights", std::vector<float>(8 * 3, 0.0f), {8, 3});
        replace<float>(f, "/layers/1/visible_bias", std::vector<float>(8, 0.0f), {8});
    });
    expect_rejected({"/layers/1/weights", "8 visible units", "7 hidden units of layer 0"});
}

TEST_F(ModelIoLoad, RejectsWeightsOfWrongRank) {
    damage(
        [](File& f) { replace<float>(f, "/layers/2/weights", std::vector<float>(6, 0.0f), {6}); });
    expect_rejected({"/layers/2/weights", "1 dimension(s) (expected 2)"});
}

TEST_F(ModelIoLoad, RejectsWeightsOfWrongDtype) {
    damage([](File& f) {
        replace<double>(f, "/layers/2/weights", std::vector<double>(6, 0.0), {3, 2});
    });
    expect_rejected({"/layers/2/weights", "dtype float64 (expected float32)"});
}

TEST_F(ModelIoLoad, RejectsIntegerBias) {
    damage([](File& f) { replace<std::int32_t>(f, "/layers/2/hidden_bias", {1, 2}, {2}); });
    expect_rejected({"/layers/2/hidden_bias", "dtype int32 (expected float32)"});
}

TEST_F(ModelIoLoad, RejectsNonFiniteWeight) {
    damage([](File& f) {
        std::vector<float> w = f.open_dataset("/layers/1/weights").read<float>();
        w[2 * 3 + 1] = std::numeric_limits<float>::quiet_NaN();
        replace<float>(f, "/layers/1/weights", w, {7, 3});
    });
    expect_rejected({"/layers/1/weights", "element (2, 1) is nan"});
}

TEST_F(ModelIoLoad, RejectsInfiniteBias) {
    damage([](File& f) {
        std::vector<float> b(7, 0.0f);
        b[4] = -std::numeric_limits<float>::infinity();
        replace<float>(f, "/layers/1/visible_bias", b, {7});
    });
    expect_rejected({"/layers/1/visible_bias", "element 4 is -inf"});
}

TEST_F(ModelIoLoad, RejectsNonPositiveSigma) {
    damage([](File& f) { replace<float>(f, "/layers/0/visible_sigma", {1, 1, 0, 1, 1}, {5}); });
    expect_rejected({"/layers/0/visible_sigma", "element 2", "must be positive"});
}

TEST_F(ModelIoLoad, RejectsUnknownUnitName) {
    damage([](File& f) {
        f.open_group("/layers/1").write_string_attribute("hidden_units", "softmax");
    });
    expect_rejected({"/layers/1", "unknown hidden_units \"softmax\""});
}

TEST_F(ModelIoLoad, RejectsUnsupportedUnitSide) {
    damage(
        [](File& f) { f.open_group("/layers/2").write_string_attribute("visible_units", "relu"); });
    expect_rejected({"/layers/2", "visible_units \"relu\" is not supported"});
}

TEST_F(ModelIoLoad, RejectsMissingUnitAttribute) {
    damage([](File& f) { f.open_group("/layers/0").remove_attribute("visible_units"); });
    expect_rejected({"/layers/0", "missing attribute \"visible_units\""});
}

TEST_F(ModelIoLoad, RejectsStandardizeWithoutStatistics) {
    damage([](File& f) {
        f.remove("/preprocessing/mean");
        f.remove("/preprocessing/stddev");
    });
    expect_rejected({"/preprocessing/mean: missing", "standardize"});
}

TEST_F(ModelIoLoad, RejectsStatisticsOfWrongSize) {
    damage([](File& f) {
        replace<float>(f, "/preprocessing/mean", std::vector<float>(4, 0.0f), {4});
    });
    expect_rejected({"/preprocessing/mean", "shape [4]", "expected [5]"});
}

TEST_F(ModelIoLoad, RejectsWrongRecordCount) {
    damage([](File& f) { f.remove("/training/layers/2"); });
    expect_rejected({"/training/layers", "2 records for 3 layers"});
}

TEST_F(ModelIoLoad, RejectsMonitorColumnOfWrongLength) {
    damage([](File& f) { replace<double>(f, "/training/layers/1/seconds", {1.0}, {1}); });
    expect_rejected({"/training/layers/1/seconds", "shape [1]", "does not fit epoch [3]"});
}

TEST_F(ModelIoLoad, RejectsUnknownAlgorithm) {
    damage([](File& f) {
        f.open_group("/training/layers/0").write_string_attribute("algorithm", "gibbs");
    });
    expect_rejected({"/training/layers/0", "unknown algorithm \"gibbs\""});
}

TEST_F(ModelIoLoad, RejectsMissingConfigAttribute) {
    damage([](File& f) { f.open_group("/training/layers/1").remove_attribute("batch_size"); });
    expect_rejected({"/training/layers/1", "missing attribute \"batch_size\""});
}

}  // namespace
}  // namespace dbn
