// Fine-tuning on small data: the loss goes down, accuracy beats chance by a stated margin, early
// stopping keeps the best weights, results are reproducible, and bad input is refused.
#include "dbn/finetune/fine_tuner.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/pretrain/config.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"
#include "finetune/finetune_support.hpp"

namespace dbn {
namespace {

using testing::prototypes;
using testing::same_bits;

constexpr std::size_t k_dim = 24;
constexpr std::size_t k_classes = 4;

/// A 24-16-8 DBN pretrained for a few epochs on the prototype data (seconds).
const Dbn& pretrained() {
    static const Dbn model = [] {
        const DbnConfig cfg = parse_dbn_config(R"({
            "name": "ft-small", "seed": 5,
            "defaults": {"epochs": 4, "batch_size": 20, "learning_rate": 0.1, "monitor_samples": 50},
            "layers": [{"hidden": 16}, {"hidden": 8}]})",
                                               "ft-small.json");
        return GreedyTrainer(cfg).train(prototypes(600, k_dim, k_classes, 0.1f, 1)).stack;
    }();
    return model;
}

const data::Dataset& train_set() {
    static const data::Dataset d = prototypes(600, k_dim, k_classes, 0.1f, 1);
    return d;
}
const data::Dataset& test_set() {
    static const data::Dataset d = prototypes(400, k_dim, k_classes, 0.1f, 2);
    return d;
}

finetune::FineTuneConfig classifier_config() {
    finetune::FineTuneConfig c;
    c.mode = finetune::FineTuneMode::classifier;
    c.epochs = 8;
    c.batch_size = 20;
    c.seed = 7;
    c.patience = 0;
    c.learning_rate = 0.01;
    return c;
}

TEST(FineTuneClassifier, LossFallsAndAccuracyBeatsChance) {
    for (finetune::OptimizerKind opt :
         {finetune::OptimizerKind::adam, finetune::OptimizerKind::sgd}) {
        finetune::FineTuneConfig c = classifier_config();
        c.optimizer = opt;
        c.learning_rate = opt == finetune::OptimizerKind::adam ? 0.01 : 0.2;
        const finetune::FineTuneResult tuned =
            finetune::fine_tune(pretrained(), train_set(), nullptr, c);
        const auto& h = tuned.fine_tuned.history;
        ASSERT_EQ(h.size(), c.epochs);
        EXPECT_LT(h.back().loss, 0.5 * h.front().loss) << to_string(opt);
        // 4 classes: chance is 25%; prototypes with 10% flipped bits are easy.
        const finetune::ClassifierEvaluation ev = finetune::evaluate_classifier(
            tuned.stack, tuned.fine_tuned, test_set().x, test_set().labels);
        EXPECT_GE(ev.accuracy, 0.95) << to_string(opt) << ": chance is 0.25";
        ASSERT_EQ(ev.confusion_matrix.size(), k_classes);
        std::int64_t total = 0, diagonal = 0;
        for (std::size_t i = 0; i < k_classes; ++i)
            for (std::size_t j = 0; j < k_classes; ++j) {
                total += ev.confusion_matrix[i][j];
                if (i == j) diagonal += ev.confusion_matrix[i][j];
            }
        EXPECT_EQ(total, 400);
        EXPECT_NEAR(double(diagonal) / 400.0, ev.accuracy, 1e-12);
        EXPECT_EQ(ev.classes(0), 10);
        EXPECT_EQ(ev.classes(3), 40);
        const Labels pred = finetune::predict(tuned.stack, tuned.fine_tuned, test_set().x);
        EXPECT_TRUE(pred(0) % 10 == 0 && pred(0) >= 10 && pred(0) <= 40);
    }
}

TEST(FineTuneClassifier, RandomInitAndHeadOnlyTrainToo) {
    finetune::FineTuneConfig c = classifier_config();
    c.init = finetune::InitScheme::glorot;
    const finetune::FineTuneResult random =
        finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    ModelFile file;
    file.stack = pretrained();
    file.records.resize(file.stack.n_layers());
    file.set_fine_tuned(random);
    EXPECT_TRUE(file.records.empty()) << "nothing of the pretraining is left";
    EXPECT_GE(finetune::evaluate_classifier(random.stack, random.fine_tuned, test_set().x,
                                            test_set().labels)
                  .accuracy,
              0.75);

    c.init = finetune::InitScheme::pretrained;
    c.head_only = true;
    c.learning_rate = 0.02;
    const finetune::FineTuneResult head =
        finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    for (std::size_t k = 0; k < head.stack.n_layers(); ++k)
        EXPECT_TRUE(same_bits(head.stack.layers[k].weights(), pretrained().layers[k].weights()));
    EXPECT_GE(
        finetune::evaluate_classifier(head.stack, head.fine_tuned, test_set().x, test_set().labels)
            .accuracy,
        0.6)
        << "logistic regression on 8 pretrained features; chance is 0.25";
}

TEST(FineTuneClassifier, DropoutTrainsAndIsReproducible) {
    finetune::FineTuneConfig c = classifier_config();
    c.dropout = 0.3;
    c.input_dropout = 0.1;
    const finetune::FineTuneResult a = finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    const finetune::FineTuneResult b = finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    EXPECT_TRUE(same_bits(a.stack.layers[1].weights(), b.stack.layers[1].weights()));
    EXPECT_GE(finetune::evaluate_classifier(a.stack, a.fine_tuned, test_set().x, test_set().labels)
                  .accuracy,
              0.9)
        << "chance is 0.25";
}

TEST(FineTuneClassifier, SameSeedSameModelOtherSeedOtherModel) {
    finetune::FineTuneConfig c = classifier_config();
    c.epochs = 2;
    const finetune::FineTuneResult a = finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    const finetune::FineTuneResult b = finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    c.seed = 8;
    const finetune::FineTuneResult other =
        finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    EXPECT_TRUE(same_bits(a.stack.layers[0].weights(), b.stack.layers[0].weights()));
    EXPECT_TRUE(same_bits(a.fine_tuned.head.weights, b.fine_tuned.head.weights));
    EXPECT_FALSE(same_bits(a.stack.layers[0].weights(), other.stack.layers[0].weights()));
}

TEST(FineTuneClassifier, FeatureExtractionUsesTheTunedEncoder) {
    finetune::FineTuneConfig c = classifier_config();
    c.epochs = 2;
    const finetune::FineTuneResult tuned =
        finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    EXPECT_FALSE(same_bits(tuned.stack.layers[0].weights(), pretrained().layers[0].weights()));
    EXPECT_TRUE(
        same_bits(tuned.stack.layers[0].visible_bias(), pretrained().layers[0].visible_bias()));
    EXPECT_TRUE(testing::allclose(tuned.stack.transform(test_set().x, 1),
                                  finetune::encode(tuned.stack, tuned.fine_tuned, test_set().x),
                                  1e-5, 1e-6));
}

TEST(FineTuneClassifier, ContinuesFromItsHead) {
    finetune::FineTuneConfig c = classifier_config();
    c.epochs = 3;
    const finetune::FineTuneResult first =
        finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    struct Notes : finetune::FineTuneObserver {
        std::vector<std::string> lines;
        void on_message(const char* t) override { lines.push_back(t); }
    } notes;
    const finetune::FineTuneResult second =
        finetune::fine_tune(first.stack, train_set(), nullptr, c, &notes, first.fine_tuned);
    EXPECT_TRUE(std::any_of(notes.lines.begin(), notes.lines.end(), [](const std::string& s) {
        return s.find("continuing") != std::string::npos;
    }));
    EXPECT_LT(second.fine_tuned.history.front().loss, first.fine_tuned.history.front().loss);
}

TEST(FineTuneClassifier, EarlyStoppingKeepsTheBestWeights) {
    // Validation labels are the training labels shifted by one class: the better the net fits
    // the training data, the worse it does on them, so epoch 1 is the best and training stops
    // `patience` epochs later, restoring epoch 1's weights.
    data::Dataset valid = prototypes(200, k_dim, k_classes, 0.1f, 3);
    for (auto& l : valid.labels) l = l == 40 ? 10 : l + 10;
    finetune::FineTuneConfig c = classifier_config();
    c.epochs = 10;
    c.patience = 2;
    const finetune::FineTuneResult stopped =
        finetune::fine_tune(pretrained(), train_set(), &valid, c);
    const auto& h = stopped.fine_tuned.history;
    ASSERT_EQ(stopped.fine_tuned.best_epoch, 1u);
    EXPECT_EQ(h.size(), 3u) << "stops after `patience` epochs without improvement";
    EXPECT_GT(h[0].valid_accuracy, h[2].valid_accuracy);
    EXPECT_DOUBLE_EQ(
        finetune::evaluate_classifier(stopped.stack, stopped.fine_tuned, valid.x, valid.labels)
            .accuracy,
        h[0].valid_accuracy);

    // The same run for exactly one epoch, without validation: bit-identical weights.
    c.epochs = 1;
    c.validation_fraction = 0.0;
    const finetune::FineTuneResult one = finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    for (std::size_t k = 0; k < one.stack.n_layers(); ++k)
        EXPECT_TRUE(same_bits(stopped.stack.layers[k].weights(), one.stack.layers[k].weights()))
            << k;
    EXPECT_TRUE(same_bits(stopped.fine_tuned.head.weights, one.fine_tuned.head.weights));
}

TEST(FineTuneAutoencoder, ReconstructionErrorFalls) {
    finetune::FineTuneConfig c;
    c.mode = finetune::FineTuneMode::autoencoder;
    c.epochs = 8;
    c.batch_size = 20;
    c.learning_rate = 0.01;
    c.patience = 0;
    const finetune::FineTuneResult tuned =
        finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    const auto& h = tuned.fine_tuned.history;
    ASSERT_EQ(h.size(), 8u);
    EXPECT_LT(h.back().loss, h.front().loss);
    EXPECT_LT(h.back().valid_reconstruction_error, h.front().valid_reconstruction_error);

    // The untuned unrolled stack (transposed decoder) as the reference.
    finetune::FineTuned untuned;
    untuned.mode = finetune::FineTuneMode::autoencoder;
    untuned.decoder = finetune::transposed_decoder(pretrained());
    const double before =
        finetune::evaluate_autoencoder(pretrained(), untuned, test_set().x).reconstruction_error;
    const finetune::AutoencoderEvaluation after =
        finetune::evaluate_autoencoder(tuned.stack, tuned.fine_tuned, test_set().x);
    EXPECT_LT(after.reconstruction_error, 0.7 * before);
    EXPECT_EQ(after.n_visible, k_dim);
    EXPECT_TRUE(std::isfinite(after.cross_entropy));
    const Matrix r = finetune::reconstruct(tuned.stack, tuned.fine_tuned, test_set().x);
    EXPECT_EQ(r.shape(1), k_dim);
}

TEST(FineTuneAutoencoder, LinearCodeAndEarlyStoppingOnReconstruction) {
    finetune::FineTuneConfig c;
    c.mode = finetune::FineTuneMode::autoencoder;
    c.epochs = 4;
    c.batch_size = 20;
    c.linear_code = true;
    c.loss = finetune::LossKind::squared_error;
    c.optimizer = finetune::OptimizerKind::sgd;
    c.learning_rate = 0.05;
    const finetune::FineTuneResult tuned =
        finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    const finetune::FineTuned& ft = tuned.fine_tuned;
    EXPECT_TRUE(ft.linear_code);
    ASSERT_GE(ft.best_epoch, 1u);
    const double best = ft.history[ft.best_epoch - 1].valid_reconstruction_error;
    for (const auto& e : ft.history) EXPECT_GE(e.valid_reconstruction_error, best);
    EXPECT_LT(ft.history.back().loss, ft.history.front().loss);
}

TEST(FineTuneErrors, RefusesBadInput) {
    finetune::FineTuneConfig c = classifier_config();
    data::Dataset unlabelled = train_set();
    unlabelled.labels = Labels::from_shape({0});
    EXPECT_THROW(finetune::fine_tune(pretrained(), unlabelled, nullptr, c), ConfigError);

    data::Dataset one_class = train_set();
    one_class.labels.fill(3);
    EXPECT_THROW(finetune::fine_tune(pretrained(), one_class, nullptr, c), ConfigError);

    data::Dataset narrow = train_set();
    narrow.x = xt::zeros<Real>({std::size_t{10}, std::size_t{5}});
    EXPECT_THROW(finetune::fine_tune(pretrained(), narrow, nullptr, c), ShapeError);

    c.epochs = 0;
    EXPECT_THROW(finetune::fine_tune(pretrained(), train_set(), nullptr, c), ConfigError);

    finetune::FineTuneConfig ae;
    ae.mode = finetune::FineTuneMode::autoencoder;
    data::Dataset big = train_set();
    big.x *= 3.0f;  // outside [0, 1]: no cross-entropy
    EXPECT_THROW(finetune::fine_tune(pretrained(), big, nullptr, ae), ConfigError);

    // A part of the other mode is refused.
    finetune::FineTuned autoencoder_part, classifier_part;
    autoencoder_part.mode = finetune::FineTuneMode::autoencoder;
    classifier_part.mode = finetune::FineTuneMode::classifier;
    EXPECT_THROW(finetune::evaluate_classifier(pretrained(), autoencoder_part, test_set().x,
                                               test_set().labels),
                 ConfigError);
    EXPECT_THROW(finetune::evaluate_autoencoder(pretrained(), classifier_part, test_set().x),
                 ConfigError);
}

TEST(FineTuneErrors, EvaluateRefusesUnknownLabels) {
    finetune::FineTuneConfig c = classifier_config();
    c.epochs = 1;
    const finetune::FineTuneResult tuned =
        finetune::fine_tune(pretrained(), train_set(), nullptr, c);
    Labels labels = test_set().labels;
    labels(5) = 77;
    try {
        finetune::evaluate_classifier(tuned.stack, tuned.fine_tuned, test_set().x, labels);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("label 77"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace dbn
