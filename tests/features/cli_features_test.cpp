// `dbn features` end to end: output, exit statuses (0 ok, 1 usage, 2 bad data/config/model),
// and no file left behind on failure.

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "dbn/data/dataset.hpp"
#include "dbn/io/model_io.hpp"
#include "features/features_support.hpp"

namespace dbn {
namespace {

using testing::entries;
using testing::feature_test_dir;
using testing::RunResult;
using testing::shell_quote;

RunResult dbn_features(const std::string& args) {
#ifdef DBN_CLI_PATH
    return testing::run(shell_quote(DBN_CLI_PATH) + " features " + args);
#else
    return {-1, args};
#endif
}

class CliFeatures : public ::testing::Test {
protected:
    void SetUp() override {
#ifndef DBN_CLI_PATH
        GTEST_SKIP() << "the dbn program was not built";
#endif
        dir_ = feature_test_dir();
        model_ = dir_ + "/m.h5";
        io::save_model(ModelFile{testing::random_stack({5, 4, 3}, 12)}, model_);
        std::ofstream(dir_ + "/in.csv") << "y,a,b,c,d,e\n1,1,0,1,0,1\n2,0,0,1,1,0\n3,1,1,1,1,1\n";
    }
    std::string q(const std::string& name) const { return shell_quote(dir_ + "/" + name); }

    std::string dir_;
    std::string model_;
};

TEST_F(CliFeatures, WritesFeaturesWithLabelsFromACsvColumn) {
    const RunResult r = dbn_features(q("m.h5") + " --data " + q("in.csv") + " --out " + q("f.h5") +
                                     " --label-column 0 --layer 0 --chunk-rows 2");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("3 rows x 4 features of layer 0, with labels"), std::string::npos)
        << r.output;
    const auto f = testing::read_h5_features(dir_ + "/f.h5");
    ASSERT_TRUE(f.has_labels);
    EXPECT_EQ(f.labels(2), 3);
    data::CsvOptions csv;
    csv.label_column = 0;
    const Dbn m = io::load_model(model_).stack;
    EXPECT_TRUE(testing::same_bits(f.x, m.transform(data::read_csv(dir_ + "/in.csv", csv).x, 0),
                                   "features"));
    // Default layer: the top; --quiet prints nothing.
    const RunResult c = dbn_features(q("m.h5") + " --data " + q("in.csv") + " --out " + q("f.csv") +
                                     " --label-column 0 --quiet");
    ASSERT_EQ(c.status, 0) << c.output;
    EXPECT_EQ(c.output, "");
    std::ifstream in(dir_ + "/f.csv");
    std::string header;
    std::getline(in, header);
    EXPECT_EQ(header, "label,f0,f1,f2");
}

TEST_F(CliFeatures, ExitStatusesAndNothingLeftBehind) {
    struct Case {
        std::string args;
        int status;
        std::string message;
    };
    const Case cases[] = {
        {q("m.h5") + " --out " + q("f.h5"), 1, "--data is required"},
        {q("m.h5") + " --data " + q("in.csv") + " --out " + q("f.h5") + " --layer -1", 1, ""},
        {q("m.h5") + " --data " + q("in.csv") + " --out " + q("f.h5") + " --chunk-rows 0", 1, ""},
        {q("m.h5") + " --data " + q("in.csv") + " --out " + q("f.h5") + " --layer 2", 2,
         "valid layers are 0..1"},
        {q("m.h5") + " --data " + q("in.csv") + " --out " + q("f.txt"), 2,
         "unknown output extension"},
        // A column named "y" is never silently a feature: without --label-column it is refused,
        // and read as a feature on request it makes 6 columns for 5 units.
        {q("m.h5") + " --data " + q("in.csv") + " --out " + q("f.h5"), 2,
         "column 1 is named \"y\"; say whether it holds the labels: --label-column y"},
        {q("m.h5") + " --data " + q("in.csv") + " --out " + q("f.h5") + " --label-column none", 2,
         "in.csv: 6 columns, but the model has 5 visible units"},
        {q("none.h5") + " --data " + q("in.csv") + " --out " + q("f.h5"), 2, "none.h5"},
        {q("in.csv") + " --data " + q("in.csv") + " --out " + q("f.h5"), 2, "not an HDF5 file"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.args);
        const RunResult r = dbn_features(c.args);
        EXPECT_EQ(r.status, c.status) << r.output;
        EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
        // Said in the user's terms, not the library's function names.
        EXPECT_EQ(r.output.find("extract_features"), std::string::npos) << r.output;
        EXPECT_EQ(r.output.find("features:"), std::string::npos) << r.output;
        EXPECT_EQ(entries(dir_).size(), 2U) << "only m.h5 and in.csv";
    }
}

}  // namespace
}  // namespace dbn
