// fine_tune_config(): `dbn finetune`'s settings, their defaults and every refusal, whose
// message names the flag.
#include "dbn/finetune/fine_tune_config.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"

namespace dbn {
namespace {

using finetune::FineTuneOverrides;

FineTuneOverrides classifier() {
    FineTuneOverrides o;
    o.mode = "classifier";
    return o;
}

FineTuneOverrides autoencoder() {
    FineTuneOverrides o;
    o.mode = "autoencoder";
    return o;
}

// The ConfigError message of fine_tune_config(o), or "" when it accepts o.
std::string refusal(const FineTuneOverrides& o) {
    try {
        (void)finetune::fine_tune_config(o);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

#define EXPECT_REFUSED(overrides, text) \
    EXPECT_NE(refusal(overrides).find(text), std::string::npos) << refusal(overrides)

TEST(FineTuneOverrides, UnsetSettingsTakeTheDefaults) {
    const finetune::FineTuneConfig c = finetune::fine_tune_config(classifier());
    const finetune::FineTuneConfig d;
    EXPECT_EQ(c.mode, finetune::FineTuneMode::classifier);
    EXPECT_EQ(c.optimizer, d.optimizer);
    EXPECT_EQ(c.epochs, d.epochs);
    EXPECT_EQ(c.batch_size, d.batch_size);
    EXPECT_EQ(c.seed, d.seed);
    EXPECT_EQ(c.learning_rate, d.learning_rate);
    EXPECT_EQ(c.learning_rate_decay, d.learning_rate_decay);
    EXPECT_EQ(c.momentum, d.momentum);
    EXPECT_EQ(c.weight_decay, d.weight_decay);
    EXPECT_EQ(c.dropout, d.dropout);
    EXPECT_EQ(c.input_dropout, d.input_dropout);
    EXPECT_EQ(c.patience, d.patience);
    EXPECT_EQ(c.validation_fraction, d.validation_fraction);
    EXPECT_EQ(c.init, finetune::InitScheme::pretrained);
    EXPECT_EQ(c.loss, finetune::LossKind::cross_entropy);
    EXPECT_FALSE(c.head_only);
    EXPECT_FALSE(c.linear_code);
}

TEST(FineTuneOverrides, EverySettingGivenIsTaken) {
    FineTuneOverrides o = autoencoder();
    o.optimizer = "sgd";
    o.epochs = 7;
    o.batch_size = 32;
    o.seed = 99;
    o.learning_rate = 0.3;
    o.learning_rate_decay = 0.9;
    o.momentum = 0.5;
    o.weight_decay = 0.0;
    o.dropout = 0.2;
    o.input_dropout = 0.1;
    o.patience = 0;
    o.validation_fraction = 0.0;
    o.random_init = "normal";
    o.loss = "squared_error";
    o.linear_code = true;
    const finetune::FineTuneConfig c = finetune::fine_tune_config(o);
    EXPECT_EQ(c.mode, finetune::FineTuneMode::autoencoder);
    EXPECT_EQ(c.optimizer, finetune::OptimizerKind::sgd);
    EXPECT_EQ(c.epochs, 7u);
    EXPECT_EQ(c.batch_size, 32u);
    EXPECT_EQ(c.seed, 99u);
    EXPECT_EQ(c.learning_rate, 0.3);
    EXPECT_EQ(c.learning_rate_decay, 0.9);
    EXPECT_EQ(c.momentum, 0.5);
    EXPECT_EQ(c.weight_decay, 0.0);
    EXPECT_EQ(c.dropout, 0.2);
    EXPECT_EQ(c.input_dropout, 0.1);
    EXPECT_EQ(c.patience, 0u);
    EXPECT_EQ(c.validation_fraction, 0.0);
    EXPECT_EQ(c.init, finetune::InitScheme::normal);
    EXPECT_EQ(c.loss, finetune::LossKind::squared_error);
    EXPECT_TRUE(c.linear_code);
    FineTuneOverrides h = classifier();
    h.head_only = true;
    h.random_init = "glorot";
    EXPECT_TRUE(finetune::fine_tune_config(h).head_only);
    EXPECT_EQ(finetune::fine_tune_config(h).init, finetune::InitScheme::glorot);
}

TEST(FineTuneOverrides, TheAutoencodersLossFollowsTheVisibleUnits) {
    EXPECT_EQ(finetune::fine_tune_config(autoencoder(), true).loss,
              finetune::LossKind::squared_error);
    EXPECT_EQ(finetune::fine_tune_config(autoencoder(), false).loss,
              finetune::LossKind::cross_entropy);
    FineTuneOverrides o = autoencoder();
    o.loss = "cross_entropy";
    EXPECT_EQ(finetune::fine_tune_config(o, true).loss, finetune::LossKind::cross_entropy);
    // The classifier's loss is always cross-entropy.
    EXPECT_EQ(finetune::fine_tune_config(classifier(), true).loss,
              finetune::LossKind::cross_entropy);
}

TEST(FineTuneOverrides, UnknownNamesAreRefused) {
    FineTuneOverrides o = classifier();
    o.mode = "regression";
    EXPECT_REFUSED(o, "--mode: ");
    o = classifier();
    o.optimizer = "rmsprop";
    EXPECT_REFUSED(o, "--optimizer: ");
    o = autoencoder();
    o.loss = "l1";
    EXPECT_REFUSED(o, "--loss: ");
    o = classifier();
    o.random_init = "pretrained";
    EXPECT_REFUSED(o, "--random-init takes glorot or normal, got \"pretrained\"");
    o.random_init = "uniform";
    EXPECT_REFUSED(o, "--random-init takes glorot or normal, got \"uniform\"");
}

TEST(FineTuneOverrides, FlagsOfTheOtherModeAreRefused) {
    FineTuneOverrides o = autoencoder();
    o.head_only = true;
    EXPECT_REFUSED(o, "--head-only applies to --mode classifier");
    o = classifier();
    o.linear_code = true;
    EXPECT_REFUSED(o, "--linear-code and --loss apply to --mode autoencoder");
    o = classifier();
    o.loss = "cross_entropy";
    EXPECT_REFUSED(o, "--linear-code and --loss apply to --mode autoencoder");
}

TEST(FineTuneOverrides, CountsOutOfRangeAreRefused) {
    FineTuneOverrides o = classifier();
    o.epochs = 0;
    EXPECT_REFUSED(o, "--epochs must be at least 1");
    o = classifier();
    o.batch_size = 0;
    EXPECT_REFUSED(o, "--batch-size must be at least 1");
    o = classifier();
    o.patience = -1;
    EXPECT_REFUSED(o, "--patience must be at least 0, got -1");
}

TEST(FineTuneOverrides, ValuesOutsideTheirRangeAreRefused) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    struct Case {
        std::optional<double> FineTuneOverrides::*field;
        const char* flag;
        std::vector<double> refused, accepted;
    };
    const std::vector<Case> cases = {
        {&FineTuneOverrides::learning_rate,
         "--learning-rate must be in (0, 1e6]",
         {0.0, -1.0, 2e6, nan, inf},
         {1e-9, 0.1, 1e6}},
        {&FineTuneOverrides::learning_rate_decay,
         "--learning-rate-decay must be in [1e-6, 1]",
         {0.0, 1e-7, 1.5, nan},
         {1e-6, 0.5, 1.0}},
        {&FineTuneOverrides::momentum,
         "--momentum must be in [0, 0.999]",
         {-0.1, 0.9995, 2.0, nan},
         {0.0, 0.999}},
        {&FineTuneOverrides::weight_decay,
         "--weight-decay must be in [0, 1e6]",
         {-1.0, 2e6, inf},
         {0.0, 1e6}},
        {&FineTuneOverrides::dropout,
         "--dropout must be in [0, 0.9]",
         {-0.1, 0.95, nan},
         {0.0, 0.9}},
        {&FineTuneOverrides::input_dropout,
         "--input-dropout must be in [0, 0.9]",
         {-0.1, 0.95},
         {0.0, 0.9}},
        {&FineTuneOverrides::validation_fraction,
         "--validation-fraction must be in [0, 0.99]",
         {-0.1, 0.995, 1.0, nan},
         {0.0, 0.99}},
    };
    for (const Case& c : cases) {
        for (const double v : c.refused) {
            FineTuneOverrides o = classifier();
            o.*c.field = v;
            EXPECT_REFUSED(o, c.flag);
        }
        for (const double v : c.accepted) {
            FineTuneOverrides o = classifier();
            o.*c.field = v;
            EXPECT_EQ(refusal(o), "") << c.flag << " " << v;
        }
    }
    FineTuneOverrides o = classifier();
    o.momentum = 2.0;
    EXPECT_EQ(refusal(o), "--momentum must be in [0, 0.999], got 2");
}

}  // namespace
}  // namespace dbn
