#include "dbn/pretrain/config.hpp"

#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"

namespace dbn {
namespace {

/// The keys in the first column of the tables of the CONFIG.md section that starts at the
/// heading `heading` and ends at the next "## " heading.
std::set<std::string> documented_keys(const std::string& doc, const std::string& heading) {
    const std::size_t start = doc.find("\n" + heading + "\n");
    EXPECT_NE(start, std::string::npos) << "docs/CONFIG.md has no heading " << heading;
    if (start == std::string::npos) return {};
    const std::size_t end = doc.find("\n## ", start + 1);
    const std::string section = doc.substr(start, end == std::string::npos ? end : end - start);
    std::set<std::string> keys;
    const std::regex row(R"(\n\| `([a-z0-9_]+)` \|)");
    for (auto it = std::sregex_iterator(section.begin(), section.end(), row);
         it != std::sregex_iterator(); ++it)
        keys.insert((*it)[1]);
    return keys;
}

// The parser's key table and docs/CONFIG.md name the same keys, section by section: a key the
// parser accepts but the page does not explain (or one the page promises that the parser
// refuses) fails here.
TEST(DbnConfigKeys, TheDocsNameEveryKeyTheParserAccepts) {
    std::ifstream in(std::string(DBN_SOURCE_DIR) + "/docs/CONFIG.md");
    const std::string doc{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    ASSERT_FALSE(doc.empty());
    const auto& keys = config_keys();
    EXPECT_EQ(documented_keys(doc, "## Top level"), keys.at("top"));
    EXPECT_EQ(documented_keys(doc, "## `input`"), keys.at("input"));
    EXPECT_EQ(documented_keys(doc, "## `checks`"), keys.at("checks"));
    EXPECT_EQ(documented_keys(doc, "## Training settings (`defaults` and each layer)"),
              keys.at("layer"));
    // The guide object's keys are explained in the `guide` row.
    const std::size_t row = doc.find("\n| `guide` |");
    ASSERT_NE(row, std::string::npos);
    const std::string guide = doc.substr(row, doc.find('\n', row + 1) - row);
    for (const auto& k : keys.at("guide"))
        EXPECT_NE(guide.find("\"" + k + "\""), std::string::npos) << "guide key " << k;
}

// Every key is accepted where the table puts it, and a misplaced one is refused with a hint
// naming its home.
TEST(DbnConfigKeys, AMisplacedTopLevelKeyNamesItsHome) {
    try {
        parse_dbn_config(R"({"defaults": {"checkpoint_seconds": 5}, "layers": [{"hidden": 4}]})",
                         "c.json");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("c.json: defaults: unknown key \"checkpoint_seconds\" "
                                             "here: it belongs at the top level"),
                  std::string::npos)
            << e.what();
    }
}

std::string error_of(const std::string& text) {
    try {
        parse_dbn_config(text, "cfg.json");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(DbnConfig, DefaultsApplyToEveryLayerAndLayersOverride) {
    const DbnConfig c = parse_dbn_config(R"({
        "name": "x", "seed": 5,
        "input": {"units": "gaussian", "standardize": true, "sigma": "data"},
        "defaults": {"epochs": 4, "learning_rate": 0.01, "algorithm": "pcd", "hidden_units": "relu"},
        "layers": [{"hidden": 10}, {"hidden": 3, "epochs": 2, "hidden_units": "bernoulli"}]})",
                                         "cfg.json");
    EXPECT_EQ(c.name, "x");
    EXPECT_EQ(c.seed, 5u);
    EXPECT_EQ(c.input.units, UnitType::gaussian);
    EXPECT_TRUE(c.input.standardize);
    ASSERT_EQ(c.layers.size(), 2u);
    EXPECT_EQ(c.layers[0].n_hidden, 10u);
    EXPECT_EQ(c.layers[0].hidden, UnitType::relu);
    EXPECT_EQ(c.layers[0].train.epochs, 4u);
    EXPECT_EQ(c.layers[0].train.algorithm, Algorithm::pcd);
    EXPECT_DOUBLE_EQ(c.layers[0].train.learning_rate, 0.01);
    EXPECT_EQ(c.layers[1].train.epochs, 2u);
    EXPECT_EQ(c.layers[1].hidden, UnitType::bernoulli);
    EXPECT_DOUBLE_EQ(c.layers[1].train.final_momentum, 0.9);  // library default
}

TEST(DbnConfig, RejectsWhatMakesNoSense) {
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {"{", "not valid JSON"},
        // A number beyond double's range is nlohmann's out_of_range, not a parse_error
        // (fuzz_config).
        {R"({"layers": [{"hidden": 8e888888}]})", "not valid JSON: number overflow"},
        {"[]", "must be a JSON object"},
        {R"({"layers": []})", "\"layers\" must be a non-empty list"},
        {R"({"layers": [{"hidden": 0}]})", "layers[0]: \"hidden\""},
        {R"({"layers": [{"hiden": 10}]})",
         "layers[0]: unknown key \"hiden\" (did you mean \"hidden\"?)"},
        {R"({"layers": [{"n_hidden": 10}]})",
         "unknown key \"n_hidden\" (did you mean \"hidden\"?)"},
        {R"({"layres": [{"hidden": 10}]})", "unknown key \"layres\" (did you mean \"layers\"?)"},
        {R"({"defaults": {"Learning_Rate": 0.1}, "layers": [{"hidden": 10}]})",
         "did you mean \"learning_rate\"?"},
        {R"({"layers": [{"hidden": 10, "learning_rate": -1}]})",
         "learning_rate must be a positive"},
        {R"({"layers": [{"hidden": 10, "learning_rate": "fast"}]})",
         "\"learning_rate\" must be a number"},
        {R"({"layers": [{"hidden": 10, "epochs": 2.5}]})",
         "\"epochs\" must be a non-negative integer"},
        {R"({"layers": [{"hidden": 10, "final_momentum": 1.5}]})",
         "final_momentum must be in [0, 1)"},
        {R"({"layers": [{"hidden": 10, "algorithm": "cd2"}]})", "unknown algorithm \"cd2\""},
        {R"({"layers": [{"hidden": 10, "hidden_units": "gaussian"}]})", "hidden units must be"},
        {R"({"layers": [{"hidden": 10, "hidden_units": "tanh"}]})", "unknown unit type \"tanh\""},
        {R"({"input": {"units": "relu"}, "layers": [{"hidden": 10}]})", "input units must be"},
        {R"({"input": {"scale": -2}, "layers": [{"hidden": 10}]})",
         "scale: must be a positive number"},
        {R"({"input": {"binarize": 1.5}, "layers": [{"hidden": 10}]})",
         "threshold must be in (0, 1)"},
        {R"({"seed": -1, "layers": [{"hidden": 10}]})", "\"seed\" must be a non-negative integer"},
        {R"({"heldout_fraction": 1, "layers": [{"hidden": 10}]})", "heldout_fraction"},
        {R"({"layers": [{"hidden": 10, "batch_size": 0}]})", "batch_size must be at least 1"},
        {R"({"checks": {"dlogz": "path"}, "layers": [{"hidden": 10}]})",
         "checks.dlogz: must be \"auto\" or \"independent\""},
        {R"({"checks": {"path_steps": 0}, "layers": [{"hidden": 10}]})",
         "path_steps: at least 1 step"},
        {R"({"checks": {"target_width": -1}, "layers": [{"hidden": 10}]})",
         "checks.target_width: nats, in [0, 1e6]"},
        {R"({"checks": {"time_budget": 1e7}, "layers": [{"hidden": 10}]})",
         "checks.time_budget: seconds, in [0, 1e6]"},
        {R"({"checks": {"time_budget": "1m"}, "layers": [{"hidden": 10}]})",
         "\"time_budget\" must be a number"},
        {R"({"layers": [{"hidden": 10, "target_width": 1}]})",
         "unknown key \"target_width\" here: it belongs under \"checks\""},
        {R"({"defaults": {"hook": "standardize"}, "layers": [{"hidden": 10}]})",
         "defaults: unknown key \"hook\" here: it belongs in a layer object"},
        {R"({"epochs": 3, "layers": [{"hidden": 10}]})",
         "unknown key \"epochs\" here: it belongs under \"defaults\" or in a layer"},
        {R"({"layers": [{"hidden": 10}], "layers": [{"hidden": 3}]})",
         "key \"layers\" appears twice"},
        {R"({"comment": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "layers": [{"hidden": 10}]})",
         "nested deeper than 64"},
        {R"({"layers": [{"hidden": 10, "learning_rate": 1e400}]})", "not valid JSON"},
        {R"({"input": {"scale": 1e-50}, "layers": [{"hidden": 10}]})", "input.scale"},
        {R"({"layers": [{"hidden": 10, "k": 100000}]})", "k must be in [1, 10000]"},
        {R"({"layers": [{"hidden": 1000000000000}]})", "layers[0].hidden: training a layer"},
    };
    for (const auto& c : cases) {
        const std::string msg = error_of(c.text);
        EXPECT_NE(msg.find(c.message), std::string::npos)
            << "config " << c.text << "\n  gave: " << msg
            << "\n  expected to contain: " << c.message;
        EXPECT_EQ(msg.rfind("cfg.json", 0), 0u) << "message must name the file: " << msg;
    }
}

TEST(DbnConfig, AnUnknownKeyFarFromEveryKeyGetsNoSuggestion) {
    for (const char* text :
         {R"({"layers": [{"hidden": 10, "zzz": 1}]})", R"({"layers": [{"hidden": 10, "xy": 1}]})",
          R"({"colour": "red", "layers": [{"hidden": 10}]})"}) {
        const std::string msg = error_of(text);
        EXPECT_NE(msg.find("unknown key"), std::string::npos) << msg;
        EXPECT_EQ(msg.find("did you mean"), std::string::npos) << text << " gave: " << msg;
    }
}

TEST(DbnConfig, ShippedModelsParse) {
    for (const char* name : {"fashion-mnist-dbn", "quick", "bars-and-stripes"}) {
        const std::string path = std::string(DBN_SOURCE_DIR) + "/models/" + name + ".json";
        const DbnConfig c = load_dbn_config(path);
        EXPECT_FALSE(c.layers.empty()) << path;
        EXPECT_EQ(c.name, name);
    }
    const DbnConfig big =
        load_dbn_config(std::string(DBN_SOURCE_DIR) + "/models/fashion-mnist-dbn.json");
    ASSERT_EQ(big.layers.size(), 3u);
    EXPECT_EQ(big.layers[0].n_hidden, 500u);
    EXPECT_EQ(big.layers[1].n_hidden, 500u);
    EXPECT_EQ(big.layers[2].n_hidden, 2000u);
    EXPECT_THROW(load_dbn_config("/nonexistent/x.json"), IoError);
}

}  // namespace
}  // namespace dbn
