#include "dbn/observe/console_progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dbn/core/plural.hpp"
namespace dbn::observe {

std::string format_duration(double seconds) {
    char buf[32];
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    if (seconds < 60.0) {
        std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    } else if (seconds < 3600.0) {
        const int s = static_cast<int>(std::lround(seconds));
        std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
    } else {
        const int m = static_cast<int>(std::lround(seconds / 60.0));
        std::snprintf(buf, sizeof buf, "%dh%02dm", m / 60, m % 60);
    }
    return buf;
}

std::size_t terminal_width(int fd) {
    winsize ws{};
    if (fd >= 0 && ::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    if (const char* columns = std::getenv("COLUMNS")) {
        char* end = nullptr;
        errno = 0;
        const long n = std::strtol(columns, &end, 10);
        if (end != columns && *end == '\0' && errno == 0 && n > 0 && n <= 100000)
            return static_cast<std::size_t>(n);
    }
    return 80;
}

std::string fit_to_width(std::string_view line, std::size_t width) {
    return std::string(line.substr(0, std::min(line.size(), width)));
}

ConsoleProgress::ConsoleProgress(std::ostream& out, bool interactive, int terminal_fd)
    : out_(out), interactive_(interactive), terminal_fd_(terminal_fd) {}

void ConsoleProgress::on_layer_begin(std::size_t layer, std::size_t n_layers, const Rbm& rbm,
                                     const LayerTrainingConfig& config, std::size_t n_samples) {
    n_layers_ = n_layers;
    epochs_ = config.epochs;
    layer_start_ = Clock::now();
    out_ << "layer " << layer << "/" << n_layers - 1 << ": " << rbm.n_visible() << " "
         << to_string(rbm.visible_type()) << " -> " << rbm.n_hidden() << " "
         << to_string(rbm.hidden_type()) << ", " << to_string(config.algorithm) << "-" << config.k
         << ", " << counted(config.epochs, "epoch") << ", batch " << config.batch_size << ", lr "
         << config.learning_rate << ", " << counted(n_samples, "row") << std::endl;
}

double ConsoleProgress::seconds_left(std::size_t epoch, std::size_t batch,
                                     std::size_t n_batches) const {
    const double done = static_cast<double>((epoch - 1) * n_batches + batch);
    const double total = static_cast<double>(epochs_ * n_batches);
    const double elapsed = std::chrono::duration<double>(Clock::now() - layer_start_).count();
    return done > 0 ? elapsed * (total - done) / done : NAN;
}

void ConsoleProgress::on_batch(std::size_t layer, std::size_t epoch, std::size_t batch,
                               std::size_t n_batches) {
    if (!interactive_) return;
    const auto now = Clock::now();
    if (batch != n_batches && now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    // One column short of the terminal's width: a line that fills the last column wraps on
    // some terminals. The bar gives up columns first (30 down to 10), then the line is cut.
    const std::size_t cols = terminal_width(terminal_fd_);
    const std::size_t limit = cols > 1 ? cols - 1 : 1;
    char head[96], tail[96];
    std::snprintf(head, sizeof head, "  layer %zu/%zu epoch %zu/%zu [", layer, n_layers_ - 1, epoch,
                  epochs_);
    std::snprintf(tail, sizeof tail, "] %3zu%%  layer time left %s", 100 * batch / n_batches,
                  format_duration(seconds_left(epoch, batch, n_batches)).c_str());
    const std::size_t text = std::string_view(head).size() + std::string_view(tail).size();
    const std::size_t width = std::clamp<std::size_t>(limit > text ? limit - text : 0, 10, 30);
    std::string bar(width * batch / n_batches, '#');
    bar.resize(width, ' ');
    const std::string line = fit_to_width(head + bar + tail, limit);
    // Blanks over what is left of a longer line drawn before.
    const std::size_t blanks = std::min(drawn_, limit);
    out_ << '\r' << line << std::string(blanks > line.size() ? blanks - line.size() : 0, ' ')
         << std::flush;
    drawn_ = std::max(blanks, line.size());
}

Control ConsoleProgress::on_epoch_end(const EpochStats& s) {
    if (drawn_ > 0) {
        const std::size_t cols = terminal_width(terminal_fd_);
        out_ << '\r' << std::string(std::min(drawn_, cols > 1 ? cols - 1 : 1), ' ') << '\r';
        drawn_ = 0;
    }
    char buf[320];
    int n = std::snprintf(buf, sizeof buf, "  layer %zu epoch %zu/%zu: recon %.5f", s.layer,
                          s.epoch, epochs_, s.reconstruction_error);
    auto add = [&](const char* fmt, double v) {
        if (!std::isnan(v) && n < static_cast<int>(sizeof buf))
            n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), fmt, v);
    };
    add("  F(train) %.3f", s.free_energy_train);
    add("  F(held-out) %.3f", s.free_energy_valid);
    add("  gap %+.3f", s.free_energy_gap);
    add("  PLL %.3f", s.pseudo_log_likelihood);
    add("  lr %.4g", s.learning_rate);
    add("  mom %.2f", s.momentum);
    add("  %.2fs", s.seconds);
    const double elapsed = std::chrono::duration<double>(Clock::now() - layer_start_).count();
    const double left = s.epoch ? elapsed * static_cast<double>(epochs_ - s.epoch) / s.epoch : NAN;
    out_ << buf << "  layer time left " << format_duration(left) << std::endl;
    return Control::proceed;
}

void ConsoleProgress::on_layer_end(std::size_t layer, const Rbm& /*rbm*/) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - layer_start_).count();
    out_ << "layer " << layer << " done in " << format_duration(elapsed) << std::endl;
}

void ConsoleProgress::on_message(const char* text) { out_ << text << std::endl; }

}  // namespace dbn::observe
