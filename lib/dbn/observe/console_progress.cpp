#include "dbn/observe/console_progress.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace dbn::observe {

std::string format_duration(double seconds) {
    char buf[32];
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    if (seconds < 60.0) {
#include "dbn/core/plural.hpp"
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

ConsoleProgress::ConsoleProgress(std::ostream& out, bool interactive)
    : out_(out), interactive_(interactive) {}

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
    const int width = 30;
    const int filled = static_cast<int>(width * batch / n_batches);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, ' ');
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "\r  layer %zu/%zu epoch %zu/%zu [%s] %3zu%%  layer time left %s   ", layer,
                  n_layers_ - 1, epoch, epochs_, bar.c_str(), 100 * batch / n_batches,
                  format_duration(seconds_left(epoch, batch, n_batches)).c_str());
    out_ << buf << std::flush;
    line_open_ = true;
}

Control ConsoleProgress::on_epoch_end(const EpochStats& s) {
    if (line_open_) {
        out_ << "\r" << std::string(100, ' ') << "\r";
        line_open_ = false;
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
