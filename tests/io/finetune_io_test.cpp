// Saving and loading fine-tuned models: bit-exact round trips and the rejection of broken files.
#include "dbn/io/finetune_io.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "dbn/io/model_io.hpp"
#include "finetune/finetune_support.hpp"

namespace dbn {
namespace {

using testing::same_bits;

bool same_double_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// A small fine-tuned model, trained from a random 12-6-4 stack with a layernorm hook.
ModelFile tuned_model(finetune::FineTuneMode mode, bool linear_code = false) {
    Rng rng(11);
    const data::Dataset d = testing::prototypes(120, 12, 3, 0.1f, 4);
    ModelFile m;
    m.stack = testing::random_stack({12, 6, 4}, rng, 0.3f, {UnitType::bernoulli, UnitType::relu},
                                    "layernorm", d.x);
    m.name = "tiny";
    finetune::FineTuneConfig c;
    c.mode = mode;
    c.epochs = 3;
    c.batch_size = 16;
    c.linear_code = linear_code;
    c.seed = 123;
    c.dropout = 0.25;
    m.set_fine_tuned(finetune::fine_tune(m.stack, d, nullptr, c));
    return m;
}

void expect_same_fine_tuned(const ModelFile& a, const ModelFile& b) {
    ASSERT_TRUE(a.fine_tuned && b.fine_tuned);
    const finetune::FineTuned& x = *a.fine_tuned;
    const finetune::FineTuned& y = *b.fine_tuned;
    EXPECT_EQ(x.mode, y.mode);
    for (std::size_t k = 0; k < a.stack.n_layers(); ++k) {
        const Rbm &p = a.stack.layers[k], &q = b.stack.layers[k];
        EXPECT_TRUE(same_bits(p.weights(), q.weights())) << k;
        EXPECT_TRUE(same_bits(p.hidden_bias(), q.hidden_bias())) << k;
        EXPECT_TRUE(same_bits(p.visible_bias(), q.visible_bias())) << k;
    }
    EXPECT_TRUE(same_bits(x.head.weights, y.head.weights));
    EXPECT_TRUE(same_bits(x.head.bias, y.head.bias));
    EXPECT_EQ(x.classes, y.classes);
    ASSERT_EQ(x.decoder.size(), y.decoder.size());
    for (std::size_t k = 0; k < x.decoder.size(); ++k) {
        EXPECT_TRUE(same_bits(x.decoder[k].weights, y.decoder[k].weights)) << k;
        EXPECT_TRUE(same_bits(x.decoder[k].bias, y.decoder[k].bias)) << k;
        EXPECT_EQ(x.decoder[k].activation, y.decoder[k].activation) << k;
    }
    EXPECT_EQ(x.linear_code, y.linear_code);
    EXPECT_EQ(x.best_epoch, y.best_epoch);
    const finetune::FineTuneConfig &c = x.config, &d = y.config;
    EXPECT_EQ(c.mode, d.mode);
    EXPECT_EQ(c.optimizer, d.optimizer);
    EXPECT_EQ(c.init, d.init);
    EXPECT_EQ(c.loss, d.loss);
    EXPECT_EQ(c.epochs, d.epochs);
    EXPECT_EQ(c.batch_size, d.batch_size);
    EXPECT_EQ(c.patience, d.patience);
    EXPECT_EQ(c.seed, d.seed);
    EXPECT_EQ(c.linear_code, d.linear_code);
    EXPECT_EQ(c.head_only, d.head_only);
    for (double finetune::FineTuneConfig::*m :
         {&finetune::FineTuneConfig::learning_rate, &finetune::FineTuneConfig::learning_rate_decay,
          &finetune::FineTuneConfig::momentum, &finetune::FineTuneConfig::beta1,
          &finetune::FineTuneConfig::beta2, &finetune::FineTuneConfig::epsilon,
          &finetune::FineTuneConfig::weight_decay, &finetune::FineTuneConfig::validation_fraction,
          &finetune::FineTuneConfig::init_stddev, &finetune::FineTuneConfig::head_init_stddev,
          &finetune::FineTuneConfig::dropout, &finetune::FineTuneConfig::input_dropout})
        EXPECT_TRUE(same_double_bits(c.*m, d.*m));
    ASSERT_EQ(x.history.size(), y.history.size());
    for (std::size_t e = 0; e < x.history.size(); ++e) {
        const finetune::FineTuneEpoch &p = x.history[e], &q = y.history[e];
        EXPECT_EQ(p.epoch, q.epoch);
        for (double finetune::FineTuneEpoch::*m :
             {&finetune::FineTuneEpoch::loss, &finetune::FineTuneEpoch::train_accuracy,
              &finetune::FineTuneEpoch::valid_accuracy,
              &finetune::FineTuneEpoch::train_reconstruction_error,
              &finetune::FineTuneEpoch::valid_reconstruction_error,
              &finetune::FineTuneEpoch::learning_rate, &finetune::FineTuneEpoch::seconds})
            EXPECT_TRUE(same_double_bits(p.*m, q.*m)) << "epoch " << e;  // NaNs included
    }
}

TEST(FineTuneIo, ClassifierRoundTripIsBitExact) {
    const std::string path = testing::finetune_test_dir() + "/classifier.h5";
    const ModelFile m = tuned_model(finetune::FineTuneMode::classifier);
    io::save_model(m, path);
    const ModelFile back = io::load_model(path);
    expect_same_fine_tuned(m, back);
    EXPECT_EQ(back.name, "tiny");
    ASSERT_EQ(back.stack.hooks.size(), 1u);
    const data::Dataset d = testing::prototypes(50, 12, 3, 0.1f, 9);
    EXPECT_EQ(finetune::evaluate_classifier(m.stack, *m.fine_tuned, d.x, d.labels).accuracy,
              finetune::evaluate_classifier(back.stack, *back.fine_tuned, d.x, d.labels).accuracy);

    const hdf5::File f = hdf5::File::open(path);
    EXPECT_EQ(f.read_string_attribute("fine_tuned"), "classifier");
    EXPECT_EQ(f.read_int_attribute("format_version"), 1);
    EXPECT_EQ(f.open_dataset("classifier/weights").shape(), (std::vector<std::size_t>{4, 3}));
    EXPECT_EQ(f.open_dataset("classifier/classes").type().name(), "int32");
}

TEST(FineTuneIo, AutoencoderRoundTripIsBitExactAndLoadsForMoreTuning) {
    const std::string path = testing::finetune_test_dir() + "/autoencoder.h5";
    const ModelFile m = tuned_model(finetune::FineTuneMode::autoencoder, /*linear_code=*/true);
    io::save_model(m, path);
    const ModelFile back = io::load_model(path);
    expect_same_fine_tuned(m, back);
    const hdf5::File f = hdf5::File::open(path);
    EXPECT_EQ(f.open_dataset("decoder/1/weights").shape(), (std::vector<std::size_t>{4, 6}));
    EXPECT_EQ(f.open_group("decoder/1").read_string_attribute("units"), "sigmoid");
    EXPECT_EQ(f.open_group("decoder/0").read_string_attribute("units"), "sigmoid");

    // Further fine-tuning continues from the saved decoder.
    finetune::FineTuneConfig c = back.fine_tuned->config;
    c.epochs = 1;
    const finetune::FineTuneResult more = finetune::fine_tune(
        back.stack, testing::prototypes(60, 12, 3, 0.1f, 4), nullptr, c, nullptr, back.fine_tuned);
    EXPECT_TRUE(more.fine_tuned.linear_code);
    EXPECT_EQ(more.fine_tuned.history.size(), 1u);
}

TEST(FineTuneIo, PlainModelHasNoFineTunedPart) {
    const std::string path = testing::finetune_test_dir() + "/plain.h5";
    Rng rng(1);
    ModelFile m;
    m.stack.layers.push_back(testing::random_rbm(5, 3, rng));
    io::save_model(m, path);
    EXPECT_FALSE(io::load_model(path).fine_tuned);
    EXPECT_FALSE(hdf5::File::open(path).has_attribute("fine_tuned"));
}

/// Saves a tuned model, breaks it with `edit`, and expects load_model to name `object`.
template <class Edit>
void expect_rejected(finetune::FineTuneMode mode, Edit edit, const std::string& object,
                     const std::string& problem) {
    const std::string path = testing::finetune_test_dir() + "/broken.h5";
    io::save_model(tuned_model(mode), path);
    {
        hdf5::File f = hdf5::File::open(path, hdf5::File::Mode::read_write);
        edit(f);
        f.close();
    }
    try {
        io::load_model(path);
        ADD_FAILURE() << "expected FormatError for " << object;
    } catch (const FormatError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(path + ": " + object), std::string::npos) << what;
        EXPECT_NE(what.find(problem), std::string::npos) << what;
    }
}

TEST(FineTuneIo, RejectsMissingHeadArrays) {
    using hdf5::File;
    expect_rejected(
        finetune::FineTuneMode::classifier, [](File& f) { f.remove("classifier/bias"); },
        "/classifier/bias", "missing");
    expect_rejected(
        finetune::FineTuneMode::classifier, [](File& f) { f.remove("classifier/classes"); },
        "/classifier/classes", "missing");
    expect_rejected(
        finetune::FineTuneMode::classifier, [](File& f) { f.remove("classifier"); }, "/classifier",
        "missing");
    expect_rejected(
        finetune::FineTuneMode::autoencoder, [](File& f) { f.remove("decoder/1"); }, "/decoder/1",
        "missing");
    expect_rejected(
        finetune::FineTuneMode::autoencoder, [](File& f) { f.remove("decoder/0/bias"); },
        "/decoder/0/bias", "missing");
}

TEST(FineTuneIo, RejectsWrongShapesAndTypes) {
    using hdf5::File;
    expect_rejected(
        finetune::FineTuneMode::classifier,
        [](File& f) {
            f.remove("classifier/weights");
            const std::vector<float> w(5 * 3, 0.0f);
            f.open_group("classifier").write_dataset("weights", w.data(), {5, 3});
        },
        "/classifier/weights", "shape [5, 3]");
    expect_rejected(
        finetune::FineTuneMode::classifier,
        [](File& f) {
            f.remove("classifier/bias");
            const std::vector<float> b(4, 0.0f);
            f.open_group("classifier").write_dataset("bias", b.data(), {4});
        },
        "/classifier/bias", "shape [4]");
    expect_rejected(
        finetune::FineTuneMode::classifier,
        [](File& f) {
            f.remove("classifier/classes");
            const std::vector<std::int32_t> c = {10, 30, 20};
            f.open_group("classifier").write_dataset("classes", c.data(), {3});
        },
        "/classifier/classes", "not strictly increasing");
    expect_rejected(
        finetune::FineTuneMode::classifier,
        [](File& f) {
            f.remove("classifier/bias");
            const std::vector<double> b(3, 0.0);
            f.open_group("classifier").write_dataset("bias", b.data(), {3});
        },
        "/classifier/bias", "dtype float64");
    expect_rejected(
        finetune::FineTuneMode::autoencoder,
        [](File& f) {
            f.remove("decoder/1/weights");
            const std::vector<float> w(6 * 4, 0.0f);
            f.open_group("decoder/1").write_dataset("weights", w.data(), {6, 4});
        },
        "/decoder/1/weights", "shape [6, 4]");
    expect_rejected(
        finetune::FineTuneMode::autoencoder,
        [](File& f) { f.open_group("decoder/0").write_string_attribute("units", "tanh"); },
        "/decoder/0", "units \"tanh\"");
    expect_rejected(
        finetune::FineTuneMode::classifier,
        [](File& f) { f.write_string_attribute("fine_tuned", "regressor"); }, "/",
        "fine_tuned is \"regressor\"");
    expect_rejected(
        finetune::FineTuneMode::classifier,
        [](File& f) {
            f.remove("classifier/weights");
            std::vector<float> w(4 * 3, 0.0f);
            w[4] = std::nanf("");
            f.open_group("classifier").write_dataset("weights", w.data(), {4, 3});
        },
        "/classifier/weights", "not finite");
}

TEST(FineTuneIo, SaveRefusesAHeadThatDoesNotFit) {
    ModelFile m = tuned_model(finetune::FineTuneMode::classifier);
    m.fine_tuned->head.weights = xt::zeros<Real>({std::size_t{5}, std::size_t{3}});
    EXPECT_THROW(io::save_model(m, testing::finetune_test_dir() + "/x.h5"), ShapeError);
}

}  // namespace
}  // namespace dbn
