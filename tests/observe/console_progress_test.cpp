#include "dbn/observe/console_progress.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "dbn/rbm/rbm.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn::observe {
namespace {

/// Sets COLUMNS for the scope of the object (unset: nullopt), restoring what it was.
class Columns {
public:
    explicit Columns(std::optional<std::string> value) {
        if (const char* v = std::getenv("COLUMNS")) saved_ = v;
        if (value)
            ::setenv("COLUMNS", value->c_str(), 1);
        else
            ::unsetenv("COLUMNS");
    }
    ~Columns() {
        if (saved_)
            ::setenv("COLUMNS", saved_->c_str(), 1);
        else
            ::unsetenv("COLUMNS");
    }

private:
    std::optional<std::string> saved_;
};

TEST(FitToWidth, CutsLongLinesOnly) {
    EXPECT_EQ(fit_to_width("abcdef", 4), "abcd");
    EXPECT_EQ(fit_to_width("abcdef", 6), "abcdef");
    EXPECT_EQ(fit_to_width("abc", 80), "abc");
    EXPECT_EQ(fit_to_width("abc", 0), "");
}

TEST(TerminalWidth, ColumnsVariableThenEighty) {
    {
        const Columns c("60");
        EXPECT_EQ(terminal_width(-1), 60u);
    }
    for (const char* bad : {"", "0", "-5", "abc", "60x", "99999999999999999999"}) {
        const Columns c(std::string{bad});
        EXPECT_EQ(terminal_width(-1), 80u) << "COLUMNS=" << bad;
    }
    {
        const Columns c(std::nullopt);
        EXPECT_EQ(terminal_width(-1), 80u);
    }
}

/// The live lines of `text`: what lies between two '\r' (a line ended by '\n' is printed
/// once, not redrawn).
std::vector<std::string> redraws(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = text.find('\r');
    while (at != std::string::npos) {
        const std::size_t end = text.find_first_of("\r\n", at + 1);
        if (end == std::string::npos) break;
        if (text[end] == '\r') out.push_back(text.substr(at + 1, end - at - 1));
        at = text.find('\r', end);
    }
    return out;
}

std::string one_layer_run(std::size_t batches) {
    std::ostringstream out;
    ConsoleProgress progress(out, true);
    LayerTrainingConfig config;
    config.epochs = 2;
    const Rbm rbm(16, 8);
    progress.on_layer_begin(0, 1, rbm, config, 100);
    for (std::size_t epoch = 1; epoch <= 2; ++epoch) {
        for (std::size_t b = 1; b <= batches; ++b) progress.on_batch(0, epoch, b, batches);
        EpochStats s;
        s.layer = 0;
        s.epoch = epoch;
        s.reconstruction_error = 0.1;
        progress.on_epoch_end(s);
    }
    return out.str();
}

TEST(ConsoleProgress, LiveLineFitsTheTerminal) {
    for (const char* cols : {"60", "40", "20", "80", "200"}) {
        const Columns c(std::string{cols});
        const std::size_t width = std::stoul(cols);
        const std::vector<std::string> lines = redraws(one_layer_run(3));
        ASSERT_FALSE(lines.empty()) << cols;
        bool full = false;
        for (const auto& line : lines) {
            EXPECT_LT(line.size(), width) << "COLUMNS=" << cols << ": " << line;
            if (line.find("100%") != std::string::npos) full = true;
        }
        // The percentage survives down to 40 columns (the bar shrinks first).
        if (width >= 40) {
            EXPECT_TRUE(full) << "COLUMNS=" << cols;
        }
    }
}

TEST(ConsoleProgress, WideTerminalKeepsTheWholeLine) {
    const Columns c("200");
    const std::string text = one_layer_run(2);
    EXPECT_NE(text.find("epoch 2/2 [##############################] 100%  layer time left"),
              std::string::npos)
        << text;
}

TEST(ConsoleProgress, NotInteractiveDrawsNoLiveLine) {
    std::ostringstream out;
    ConsoleProgress progress(out, false);
    LayerTrainingConfig config;
    progress.on_layer_begin(0, 1, Rbm(4, 2), config, 10);
    progress.on_batch(0, 1, 1, 1);
    EXPECT_EQ(out.str().find('\r'), std::string::npos);
}

}  // namespace
}  // namespace dbn::observe
