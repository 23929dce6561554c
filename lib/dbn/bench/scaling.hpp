#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

#include "dbn/bench/line_fit.hpp"
#include "dbn/bench/measurements.hpp"
#include "dbn/core/types.hpp"

namespace dbn::bench {

/// @brief What a --scaling sweep's figures mean (printed with them, and in the JSON).
extern const char* const k_scaling_note;

/// @brief One CD-1 epoch of a sweep: `rows` rows of an nv-nh RBM against its own limit.
struct ScalePoint {
    std::size_t rows = 0, nv = 0, nh = 0;
    double seconds = NAN;       ///< median epoch
    double limit = NAN;         ///< seconds of the epoch's products at their best rate
    double limit_gflops = NAN;  ///< the limit's rate
    double per_row() const { return seconds / double(rows); }
    double per_unit() const { return seconds / (double(rows) * double(nv) * double(nh)); }
};

/// @brief A sweep's points and how linear its cost is in u = rows x n_visible x n_hidden (in
/// the rows sweep, proportional to the rows): see k_scaling_note.
struct Sweep {
    std::vector<ScalePoint> points;
    double exponent = NAN;            ///< loglog_slope of seconds against u
    double cost_ratio_max_min = NAN;  ///< largest / smallest seconds per u
    LineFit fit;                      ///< seconds = intercept + slope u
};
/// @brief The sweep of these points.
Sweep summarize(std::vector<ScalePoint> points);

/// @brief CD-1 epochs over 1/8, 1/4, 1/2 and all of the rows of x at n_v-500, and with 125,
/// 250, 500 and 1000 hidden units over all of them, each against its own limit, measured right
/// before its epochs so that both see the same machine. `on_point` (may be empty) sees every
/// point as soon as it is measured.
struct Scaling {
    std::size_t batch_size = 0;
    Sweep rows, n_hidden;
};
Scaling measure_scaling(const Matrix& x, const Settings& settings,
                        const std::function<void(const ScalePoint&)>& on_point = {});

}  // namespace dbn::bench
