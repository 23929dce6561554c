#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "dbn/train/observer.hpp"

namespace dbn::observe {

/// @brief Prints training progress: on a terminal, a live line per layer (epoch, batch, time
/// left) followed by one line of monitors per epoch; elsewhere, plain lines only (one per
/// epoch and layer), so that logs stay readable.
class ConsoleProgress : public TrainingObserver {
public:
    /// @param terminal_fd the terminal `out` writes to, whose width (terminal_width) bounds the
    ///        live line; -1: the COLUMNS variable, else 80 columns.
    ConsoleProgress(std::ostream& out, bool interactive, int terminal_fd = -1);

    void on_layer_begin(std::size_t layer, std::size_t n_layers, const Rbm& rbm,
                        const LayerTrainingConfig& config, std::size_t n_samples) override;
    void on_batch(std::size_t layer, std::size_t epoch, std::size_t batch,
                  std::size_t n_batches) override;
    Control on_epoch_end(const EpochStats& stats) override;
    void on_layer_end(std::size_t layer, const Rbm& rbm) override;
    void on_message(const char* text) override;

private:
    using Clock = std::chrono::steady_clock;
    double seconds_left(std::size_t epoch, std::size_t batch, std::size_t n_batches) const;

    std::ostream& out_;
    bool interactive_;
    int terminal_fd_;
    std::size_t n_layers_ = 0;
    std::size_t epochs_ = 0;
    Clock::time_point layer_start_{};
    Clock::time_point last_draw_{};
    std::size_t drawn_ = 0;  ///< characters of the live line on the screen (0: none)
};

/// @brief "1h02m", "3m05s" or "12.3s".
std::string format_duration(double seconds);

/// @brief Columns of the terminal `fd` (ioctl TIOCGWINSZ); when that does not say (not a
/// terminal, a size of 0, fd -1), the COLUMNS variable if it holds a positive number, else 80.
std::size_t terminal_width(int fd);

/// @brief `line` cut to at most `width` characters (a line redrawn with '\r' must not wrap:
/// every redraw would start a new line).
std::string fit_to_width(std::string_view line, std::size_t width);

}  // namespace dbn::observe
