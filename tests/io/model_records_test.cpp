// The records of a model file (training, log Z, checks, fine-tuning) through save_model and
// load_model, bit for bit, and the names files had before each field got one name.
#include "dbn/io/model_io.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "dbn/hdf5/hdf5.hpp"
#include "io/io_support.hpp"

namespace dbn {
namespace {

using hdf5::File;
using hdf5::Group;
using testing::expect_same_model;
using testing::test_dir;

ModelFile round_trip(const ModelFile& m, const std::string& path) {
    io::save_model(m, path);
    return io::load_model(path);
}

// Every record a model file holds, every field away from its default, NaN and infinities
// included, comes back bit for bit: stack, preprocessing, training records, log Z, checks and the
// fine-tuned part (its settings and history through their field tables).
TEST(ModelRecords, EveryRecordIsBitExact) {
    const std::string path = test_dir() + "/everything.h5";
    ModelFile m = testing::mixed_stack();
    testing::add_records(m);
    testing::add_standardization(m);
    testing::add_checks(m);
    finetune::FineTuned ft;
    ft.mode = finetune::FineTuneMode::classifier;
    ft.head.weights = xt::zeros<Real>({std::size_t{2}, std::size_t{3}});
    ft.head.weights(1, 2) = 0.5f;
    ft.head.bias = xt::zeros<Real>({std::size_t{3}});
    ft.head.activation = finetune::Activation::softmax;
    ft.classes = Labels::from_shape({3});
    ft.classes(0) = -4, ft.classes(1) = 7, ft.classes(2) = 9;
    ft.best_epoch = 2;
    finetune::FineTuneConfig& c = ft.config;
    c.mode = ft.mode;
    c.optimizer = finetune::OptimizerKind::sgd;
    c.init = finetune::InitScheme::glorot;
    c.loss = finetune::LossKind::squared_error;
    c.epochs = 7, c.batch_size = 13, c.patience = 0, c.seed = 0xFFFFFFFFFFFFFFF1ULL;
    c.learning_rate = 0.3, c.learning_rate_decay = 0.5, c.momentum = 0.25, c.beta1 = 0.8;
    c.beta2 = 0.95, c.epsilon = 1e-7, c.weight_decay = 0.0, c.dropout = 0.125;
    c.input_dropout = 0.0625, c.validation_fraction = 0.2, c.init_stddev = 0.03;
    c.head_init_stddev = 0.04, c.head_only = true;
    for (std::size_t e = 1; e <= 3; ++e) {
        finetune::FineTuneEpoch h;
        h.epoch = e;
        h.loss = 1.0 / double(e);
        h.train_accuracy = 0.5 + 0.125 * double(e);
        h.valid_accuracy = e == 3 ? std::numeric_limits<double>::quiet_NaN() : 0.25;
        h.learning_rate = 0.3 * double(e);
        h.seconds = 0.01 * double(e);
        ft.history.push_back(h);
    }
    m.fine_tuned = ft;
    const ModelFile back = round_trip(m, path);
    expect_same_model(m, back);
    ASSERT_TRUE(back.fine_tuned);
    testing::expect_same_record(m.fine_tuned->config, back.fine_tuned->config);
    testing::expect_same_records(m.fine_tuned->history, back.fine_tuned->history);
    EXPECT_TRUE(testing::same_bits(ft.head.weights, back.fine_tuned->head.weights, "head"));
    EXPECT_EQ(back.fine_tuned->best_epoch, 2u);
    EXPECT_EQ(back.fine_tuned->classes, ft.classes);
    // One name per field: the file carries the new names only.
    const File f = File::open(path);
    EXPECT_TRUE(f.open_group("checks/pairs/0").has_attribute("free_energy_gap_standard_error"));
    EXPECT_FALSE(f.open_group("checks/pairs/0").has_attribute("free_energy_gap_se"));
    EXPECT_TRUE(f.open_group("checks/log_z/1").has_attribute("ais_effective_sample_size"));
    EXPECT_FALSE(f.open_group("checks/log_z/1").has_attribute("ess"));
}

// Format version 1 files written before each field had one name still load: the attributes of
// /checks under their old names.
TEST(ModelRecords, OldCheckAttributeNamesStillLoad) {
    const std::string path = test_dir() + "/old-names.h5";
    ModelFile m = testing::mixed_stack();
    testing::add_records(m);
    testing::add_checks(m);
    io::save_model(m, path);
    {
        File f = File::open(path, File::Mode::read_write);
        auto rename_double = [](Group& g, const char* from, const char* to) {
            const double v = g.read_double_attribute(from);
            g.remove_attribute(from);
            g.write_double_attribute(to, v);
        };
        for (const char* pair : {"checks/pairs/0", "checks/pairs/1"}) {
            Group g = f.open_group(pair);
            rename_double(g, "free_energy_gap_standard_error", "free_energy_gap_se");
        }
        for (const char* layer : {"checks/log_z/0", "checks/log_z/1", "checks/log_z/2"}) {
            Group g = f.open_group(layer);
            rename_double(g, "log_z", "value");
            rename_double(g, "log_z_low", "low");
            rename_double(g, "log_z_high", "high");
            rename_double(g, "ais_effective_sample_size", "ess");
            const std::string method = g.read_string_attribute("log_z_method");
            g.remove_attribute("log_z_method");
            g.write_string_attribute("method", method);
        }
        f.close();
    }
    expect_same_model(m, io::load_model(path));
}

// A file written by the binary built before the rename (`dbn pretrain` of a 2-layer stack on
// bars-and-stripes:3 with exact log Z, tests/io/data/v1_old_check_names.h5): the old names'
// values land in the fields, and saving it again writes the new names with the same values.
TEST(ModelRecords, FileWrittenBeforeTheRenameLoads) {
    const std::string old_file =
        std::string(DBN_SOURCE_DIR) + "/tests/io/data/v1_old_check_names.h5";
    const ModelFile m = io::load_model(old_file);
    ASSERT_EQ(m.stack.n_layers(), 2u);
    ASSERT_EQ(m.log_z.size(), 2u);
    ASSERT_EQ(m.checks.size(), 1u);
    {
        const File f = File::open(old_file);
        const Group pair = f.open_group("checks/pairs/0");
        EXPECT_EQ(m.checks[0].free_energy_gap_standard_error,
                  pair.read_double_attribute("free_energy_gap_se"));
        EXPECT_GT(m.checks[0].free_energy_gap_standard_error, 0.0);
        for (std::size_t k = 0; k < 2; ++k) {
            const Group z = f.open_group("checks/log_z/" + std::to_string(k));
            EXPECT_EQ(m.log_z[k].log_z.value, z.read_double_attribute("value"));
            EXPECT_EQ(m.log_z[k].log_z.low, z.read_double_attribute("low"));
            EXPECT_EQ(m.log_z[k].log_z.high, z.read_double_attribute("high"));
            EXPECT_EQ(m.log_z[k].ess, z.read_double_attribute("ess"));
            EXPECT_EQ(m.log_z[k].method, z.read_string_attribute("method"));
            EXPECT_EQ(m.log_z[k].method, "exact");
        }
    }
    const std::string path = test_dir() + "/resaved.h5";
    expect_same_model(m, round_trip(m, path));
    EXPECT_TRUE(File::open(path).open_group("checks/log_z/0").has_attribute("log_z"));
}

}  // namespace
}  // namespace dbn
