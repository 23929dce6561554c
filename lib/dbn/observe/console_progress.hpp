#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>

#include "dbn/train/observer.hpp"

namespace dbn::observe {

/// @brief Prints training progress: on a terminal, a live line per layer (epoch, batch, time
/// left) followed by one line of monitors per epoch; elsewhere, plain lines only (one per
/// epoch and layer), so that logs stay readable.
class ConsoleProgress : public TrainingObserver {
public:
    ConsoleProgress(std::ostream& out, bool interactive);

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
    std::size_t n_layers_ = 0;
    std::size_t epochs_ = 0;
    Clock::time_point layer_start_{};
    Clock::time_point last_draw_{};
    bool line_open_ = false;
};

/// @brief "1h02m", "3m05s" or "12.3s".
std::string format_duration(double seconds);

}  // namespace dbn::observe
