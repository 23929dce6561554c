// Predictions and scores: the values of the finetune and Dbn functions they stream, the free
// energy in double against a direct sum, log p summing to 1 over every state, NPY files numpy
// reads, and failures that leave no file.

#include "dbn/predict/predict.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "dbn/predict/score.hpp"
#include "support/helpers.hpp"

namespace dbn {
namespace {

using testing::allclose;
using testing::random_binary;
using testing::random_rbm;

ModelFile two_layer_model(std::uint64_t seed) {
    Rng rng{seed};
    Dbn stack;
    stack.layers.push_back(random_rbm(12, 9, rng, 0.3f));
    stack.layers.push_back(random_rbm(9, 5, rng, 0.3f));
    return ModelFile(std::move(stack));
}

ModelFile classifier_model(std::uint64_t seed) {
    ModelFile m = two_layer_model(seed);
    Rng rng{seed + 1};
    finetune::FineTuned ft;
    ft.mode = finetune::FineTuneMode::classifier;
    ft.head.weights = Matrix::from_shape({5, 3});
    rng.fill_normal(ft.head.weights.data(), ft.head.weights.size());
    ft.head.bias = xt::zeros<Real>({3});
    ft.head.activation = finetune::Activation::softmax;
    ft.classes = Labels::from_shape({3});
    ft.classes(0) = 2;
    ft.classes(1) = 5;
    ft.classes(2) = 7;
    m.fine_tuned = ft;
    return m;
}

std::string out_path(const std::string& name) {
    const std::string p = testing::temp_path("predict_" + name);
    std::filesystem::remove(p);
    return p;
}

template <class T>
std::vector<T> read_h5(const std::string& path, const std::string& name) {
    hdf5::File f = hdf5::File::open(path);
    return f.open_dataset(name).read<T>();
}

TEST(Predict, FeaturesOfAPretrainedModelAreTheStacksTransform) {
    const ModelFile m = two_layer_model(1);
    data::Dataset d;
    d.x = random_binary(37, 12, 2);
    const std::string out = out_path("features.h5");
    auto rows = data::memory_row_source(d);
    predict::PredictOptions o;
    o.chunk_rows = 37;
    const auto s = predict::write_predictions(m, *rows, out, o);
    EXPECT_EQ(s.output, predict::Output::features);
    EXPECT_EQ(s.rows, 37u);
    EXPECT_EQ(s.columns, 5u);
    const auto got = read_h5<float>(out, "features");
    const Matrix want = m.stack.transform(d.x, 1);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float)));
}

TEST(Predict, ClassifierProbabilitiesAndClassesAreFinetunes) {
    const ModelFile m = classifier_model(3);
    data::Dataset d;
    d.x = random_binary(50, 12, 4);
    d.labels = Labels::from_shape({50});
    for (std::size_t i = 0; i < 50; ++i) d.labels(i) = (i % 3 == 0) ? 2 : 7;
    const std::string out = out_path("classifier.h5");
    auto rows = data::memory_row_source(d);
    const auto s = predict::write_predictions(m, *rows, out);
    EXPECT_EQ(s.output, predict::Output::probabilities);
    EXPECT_TRUE(s.labels);
    const auto prob = read_h5<float>(out, "probabilities");
    const auto pred = read_h5<std::int64_t>(out, "predicted");
    const Matrix want = finetune::predict_proba(m.stack, *m.fine_tuned, d.x);
    const Labels want_pred = finetune::predict(m.stack, *m.fine_tuned, d.x);
    EXPECT_TRUE(allclose(prob, want, 1e-6, 1e-7));
    std::size_t correct = 0;
    for (std::size_t i = 0; i < 50; ++i) {
        EXPECT_EQ(pred[i], want_pred(i)) << "row " << i;
        double sum = 0.0;
        for (std::size_t c = 0; c < 3; ++c) sum += prob[i * 3 + c];
        EXPECT_NEAR(sum, 1.0, 1e-6);
        correct += pred[i] == d.labels(i);
    }
    EXPECT_EQ(s.correct, correct);
    EXPECT_EQ(read_h5<std::int64_t>(out, "classes"), (std::vector<std::int64_t>{2, 5, 7}));
}

TEST(Predict, OutputsTheModelCannotGiveAreRefused) {
    const ModelFile m = two_layer_model(5);
    EXPECT_THROW(predict::resolve_output(m, predict::Output::probabilities), ConfigError);
    EXPECT_THROW(predict::resolve_output(m, predict::Output::reconstructions), ConfigError);
    EXPECT_EQ(predict::resolve_output(classifier_model(5), predict::Output::automatic),
              predict::Output::probabilities);
    EXPECT_THROW(predict::parse_output("guess"), ConfigError);
}

TEST(Predict, AFailureLeavesNoFile) {
    const ModelFile m = two_layer_model(6);
    data::Dataset d;
    d.x = random_binary(10, 11, 7);  // one column short
    const std::string out = out_path("fail.csv");
    auto rows = data::memory_row_source(d);
    EXPECT_THROW(predict::write_predictions(m, *rows, out), ShapeError);
    EXPECT_FALSE(std::filesystem::exists(out));
    data::Dataset ok;
    ok.x = random_binary(10, 12, 7);
    predict::PredictOptions o;
    o.labels = Labels::from_shape({4});  // too few labels: found at the end
    o.labels->fill(1);
    auto rows2 = data::memory_row_source(ok);
    EXPECT_THROW(predict::write_predictions(m, *rows2, out, o), ShapeError);
    EXPECT_FALSE(std::filesystem::exists(out));
    auto rows3 = data::memory_row_source(ok);
    EXPECT_THROW(predict::write_predictions(m, *rows3, out_path("x.txt")), ConfigError);
}

TEST(Predict, NpyFileHasAVersion1HeaderAndTheValues) {
    const ModelFile m = two_layer_model(8);
    data::Dataset d;
    d.x = random_binary(21, 12, 9);
    const std::string out = out_path("features.npy");
    auto rows = data::memory_row_source(d);
    predict::PredictOptions o;
    o.chunk_rows = 21;
    predict::write_predictions(m, *rows, out, o);
    std::ifstream f(out, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ASSERT_GE(bytes.size(), 10u);
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const std::size_t header =
        static_cast<unsigned char>(bytes[8]) + 256u * static_cast<unsigned char>(bytes[9]);
    EXPECT_EQ((10 + header) % 64, 0u);
    const std::string dict = bytes.substr(10, header);
    EXPECT_NE(dict.find("'descr': '<f4'"), std::string::npos) << dict;
    EXPECT_NE(dict.find("'shape': (21, 5)"), std::string::npos) << dict;
    EXPECT_EQ(dict.back(), '\n');
    ASSERT_EQ(bytes.size(), 10 + header + 21 * 5 * sizeof(float));
    const Matrix want = m.stack.transform(d.x, 1);
    EXPECT_EQ(0, std::memcmp(bytes.data() + 10 + header, want.data(), want.size() * 4));
}

TEST(Score, FreeEnergyInDoubleMatchesADirectSum) {
    Rng rng{10};
    for (UnitType vis : {UnitType::bernoulli, UnitType::gaussian}) {
        Rbm rbm = random_rbm(7, 5, rng, 0.5f, vis);
        if (vis == UnitType::gaussian)
            for (std::size_t i = 0; i < 7; ++i) rbm.visible_sigma()(i) = 0.5f + 0.1f * i;
        const Matrix v = random_binary(30, 7, 11);
        const DVector f = predict::free_energy_in_double(rbm, v);
        EXPECT_TRUE(allclose(f, rbm.free_energy(v), 1e-5, 1e-5));
        for (std::size_t r = 0; r < 30; ++r) {
            // F(v) = sum_i e_i(v_i) - sum_j softplus(b_j + sum_i x_i W_ij), x = v / s.
            double want = 0.0;
            for (std::size_t i = 0; i < 7; ++i) {
                const double a = rbm.visible_bias()(i), s = rbm.visible_sigma()(i);
                want += vis == UnitType::gaussian ? (v(r, i) - a) * (v(r, i) - a) / (2 * s * s)
                                                  : -a * v(r, i);
            }
            for (std::size_t j = 0; j < 5; ++j) {
                double act = rbm.hidden_bias()(j);
                for (std::size_t i = 0; i < 7; ++i)
                    act += double(v(r, i)) / rbm.visible_sigma()(i) * rbm.weights()(i, j);
                want -= softplus(act);
            }
            // Gaussian units: the input v / s is formed in float, as Units::scale_input does.
            const double tol = vis == UnitType::gaussian ? 1e-7 : 1e-12;
            EXPECT_NEAR(f(r), want, tol * std::max(1.0, std::abs(want))) << to_string(vis);
        }
    }
}

TEST(Score, LogProbabilitiesOfEveryStateSumToOne) {
    Rng rng{12};
    Dbn stack;
    stack.layers.push_back(random_rbm(10, 8, rng, 1.0f));
    const ModelFile m{stack};
    data::Dataset d;
    d.x = testing::all_binary_states(10);
    const std::string out = out_path("scores.h5");
    auto rows = data::memory_row_source(d);
    predict::ScoreOptions o;
    o.chunk_rows = 100;
    const auto s = predict::write_scores(m, *rows, out, o);
    ASSERT_TRUE(s.log_z.known);
    EXPECT_EQ(s.log_z.method, "exact");
    EXPECT_EQ(s.rows, 1024u);
    const auto log_p = read_h5<double>(out, "log_prob");
    double total = 0.0;
    for (double x : log_p) total += std::exp(x);
    EXPECT_NEAR(total, 1.0, 1e-12);
}

TEST(Score, TheFilesLogZIsNotUsedForAFineTunedModel) {
    ModelFile m = classifier_model(13);
    // Layer 0 has 12 visible and 9 hidden units: enumerable, so exact.
    EXPECT_EQ(predict::score_log_z(m).method, "exact");
    Rng rng{14};
    Dbn big;
    big.layers.push_back(random_rbm(30, 25, rng, 0.1f));
    ModelFile b{big};
    estimate::LayerLogZ z;
    z.index = 0;
    z.available = true;
    z.method = "ais";
    z.log_z = {50.0, 49.0, 51.0};
    b.log_z.push_back(z);
    const auto pre = predict::score_log_z(b);
    EXPECT_TRUE(pre.known);
    EXPECT_EQ(pre.value, 50.0);
    EXPECT_EQ(pre.method, "file:ais");
    b.fine_tuned = finetune::FineTuned{};
    EXPECT_FALSE(predict::score_log_z(b).known);
}

}  // namespace
}  // namespace dbn
