#pragma once

#include <cstddef>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/epoch_stats.hpp"
#include "dbn/train/trainer_state.hpp"

namespace dbn {

/// @brief The per-epoch monitors of RBM training (docs/MATH.md#training), on fixed rows chosen
/// once: the reconstruction error, the free-energy gap between training and held-out rows
/// (overfitting shows as a widening gap), and the stochastic pseudo-log-likelihood.
///
/// Owns the choice of rows (MonitorRows). Measuring draws nothing from the training generator:
/// the reconstruction's hidden samples come from a fixed generator seeded from the layer.
class Monitors {
public:
    /// @param samples rows each monitor uses at most (monitor_samples of the configuration).
    explicit Monitors(std::size_t layer = 0, std::size_t samples = 0);

    /// @brief Chooses min(samples, n_data, n_heldout if any) training rows and as many held-out
    /// rows at random, and per training row the bit the pseudo-likelihood flips.
    void choose_rows(std::size_t n_data, std::size_t n_heldout, std::size_t n_visible, Rng& rng);

    /// @brief The monitors of `rbm` (epoch `epoch`, 1-based, is only recorded). Rows are chosen
    /// first (from `rng`) when none are, or when they do not fit `data`.
    /// @param heldout rows for the free-energy gap (may be null: the gap is then NaN).
    EpochStats measure(const Rbm& rbm, const Matrix& data, const Matrix* heldout, std::size_t epoch,
                       Rng& rng);

    const MonitorRows& rows() const { return rows_; }
    /// @throws ShapeError when the lists do not fit together.
    void restore(const MonitorRows& rows);

private:
    std::size_t layer_;
    std::size_t samples_;
    MonitorRows rows_;
};

}  // namespace dbn
