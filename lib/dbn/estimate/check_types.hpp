#pragma once

// Plain records of log partition functions and consistency checks. The model file (ModelFile)
// stores them, so this header depends on nothing above the RBM; the code that computes them is in
// consistency.hpp and stack_evaluation.hpp.

#include <cstddef>
#include <limits>
#include <string>

#include "dbn/estimate/likelihood.hpp"

namespace dbn::estimate {

/// @brief log Z of one layer, how it was obtained, and what it cost.
struct LayerLogZ {
    std::size_t index = 0;
    LogPartition log_z;
    /// "exact", "ais", or "turned_over_path": log Z of the layer below plus dlogZ along the
    /// parameter path from it turned over (ParameterPathAis; ess, ais_runs and ais_steps are
    /// then the path's)
    std::string method;
    double ess = 0.0;  ///< AIS: effective sample size of the weights (runs: exact)
    std::size_t ais_runs = 0;
    std::size_t ais_steps = 0;
    double seconds = 0.0;
    bool available = false;  ///< false for relu hidden units (no closed form)
    std::string note;        ///< why not available
};

/// @brief The free-energy consistency check between layer k and k+1
/// (docs/MATH.md#consistency-check).
///
/// On binary samples q of layer k's hidden units given the check set,
///     dF_k    = mean_q [G_k(q) - F_{k+1}(q)]
///     dlogZ_k = log Z_{k+1} - log Z_k
///     D_k     = dF_k - dlogZ_k = mean_q [log p_{k+1}(q) - log p_k(q)],
/// the change of the DBN's variational bound when layer k+1 replaces layer k's prior over its
/// hidden units. The interval of D_k carries the two log Z intervals through:
///     D_low = dF - (logZ_{k+1}.high - logZ_k.low),  D_high = dF - (logZ_{k+1}.low - logZ_k.high).
/// The check fails when D_k is below zero beyond its interval (D_high < 0). With a hook between
/// the layers, F_{k+1} is evaluated on hook(q): the figures are reported, marked diagnostic.
struct ConsistencyCheck {
    std::size_t lower = 0;
    std::size_t upper = 1;
    bool applicable = false;       ///< false when either layer has relu hidden units
    std::string note;              ///< why not applicable, or what makes it diagnostic
    bool diagnostic = false;       ///< a hook sits between the layers
    std::size_t samples = 0;       ///< rows of the check set
    double free_energy_gap = 0.0;  ///< dF_k
    double free_energy_gap_standard_error = 0.0;  ///< of dF_k over the samples
    double delta_log_z = 0.0, delta_log_z_low = 0.0, delta_log_z_high = 0.0;
    /// How dlogZ was estimated: "independent" (the two layers' own log Z, their intervals
    /// combined) or "turned_over_path" (ParameterPathAis from the lower layer turned over).
    std::string delta_log_z_method = "independent";
    double bound_change = 0.0, bound_change_low = 0.0, bound_change_high = 0.0;
    bool passed = true;
    /// AIS runs added to the two layers' log Z for this check (RunTarget, docs/CHECK.md,
    /// "Adding runs"), and what stopped adding them: "target width" (D's interval closed and
    /// at most the target wide), "time budget", "run limit"; empty when no target was set or
    /// dlogZ did not come from two AIS estimates.
    std::size_t runs_added = 0;
    std::string runs_stopped_by;
};

/// @brief One estimate of D_k made while layer k+1 trains (bound-guided training,
/// docs/CHECK.md): the figures of ConsistencyCheck for the parameters after `epoch` epochs
/// (0: the initial parameters), dlogZ from the parameter path.
struct BoundPoint {
    std::size_t epoch = 0;
    double free_energy_gap = 0.0;  ///< dF_k on the check set's samples
    double delta_log_z = 0.0, delta_log_z_low = 0.0, delta_log_z_high = 0.0;
    double bound_change = 0.0, bound_change_low = 0.0, bound_change_high = 0.0;
    double ess = 0.0;      ///< effective runs of the path's weights
    double seconds = 0.0;  ///< wall time of this estimate
};

/// @brief The check's result in words, for logs and reports: "FAILED" (D below zero beyond its
/// interval); "inconclusive (AIS interval open: more AIS runs or steps)" when an open end of
/// D's interval (a log Z interval open because the weights are too uneven: mean - 3 s.e. <= 0,
/// or fewer than k_ais_min_ess effective runs) leaves its sign undecided, whatever the sign of
/// the estimate itself: such a check has not failed, but neither has it shown anything;
/// otherwise "passed" (D >= 0) or "passed (D < 0 within its interval)". A check whose interval
/// is open above but lies above zero (D_low > 0) has passed.
inline const char* check_verdict(const ConsistencyCheck& c) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    if (!c.passed) return "FAILED";
    const bool open = c.bound_change_low == -inf || c.bound_change_high == inf;
    if (open && !(c.bound_change_low > 0.0))
        return "inconclusive (AIS interval open: more AIS runs or steps)";
    if (c.bound_change >= 0.0) return "passed";
    return "passed (D < 0 within its interval)";
}

}  // namespace dbn::estimate
