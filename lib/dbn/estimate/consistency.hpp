#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/estimate/ais.hpp"
#include "dbn/estimate/check_types.hpp"
#include "dbn/estimate/likelihood.hpp"

namespace dbn::estimate {

/// @brief How log Z is obtained.
enum class LogZMethod {
    automatic,  ///< exact when the enumerated side has at most `exact_max_units` units, else AIS
    exact,
    ais,
};

/// @brief "auto", "exact", "ais" (the names of configs and the CLI).
LogZMethod parse_log_z_method(const std::string& name, const std::string& where);
const char* to_string(LogZMethod m);

/// @brief Settings for the log partition functions of a stack's layers.
struct LogZOptions {
    LogZMethod method = LogZMethod::automatic;
    /// "auto" enumerates up to this many units: 2^20 states of a 784-unit layer take about half
    /// a second, while the exact limit (k_max_enumerated_units, 24) takes several seconds.
    std::size_t exact_max_units = 20;
    AisConfig ais;
};

/// @brief Inputs of each layer for raw data: x_0 = preprocessed data, x_{k+1} = hook_k(p(h|x_k))
/// (mean-field). Element k has layer k's n_visible columns.
std::vector<Matrix> layer_inputs(const Dbn& model, const Matrix& raw);

/// @brief Importance-weighted samples of a layer's visible units (AIS's final states).
struct WeightedStates {
    Matrix visible = Matrix::from_shape({0, 0});
    std::vector<double> log_weights;
    bool empty() const { return log_weights.empty(); }
};

/// @brief log Z of layer k of `model`; the AIS base rates come from `layer_input` (that layer's
/// input for some data, e.g. layer_inputs()[k]). When `states` is given and log Z comes from
/// AIS, it receives the runs' final states and weights (left empty for an exact log Z).
LayerLogZ layer_log_partition(const Dbn& model, std::size_t k, ConstRows layer_input,
                              const LogZOptions& options, WeightedStates* states = nullptr);

/// @brief dlogZ_k = log Z_{k+1} - log Z_k with its interval, however it was obtained.
struct DeltaLogZ {
    double value = 0.0;
    double low = 0.0;                    ///< may be -inf
    double high = 0.0;                   ///< may be +inf
    std::string method = "independent";  ///< ConsistencyCheck::delta_log_z_method
};

/// @brief D = dF - dlogZ with its interval: dlogZ's high end gives D's low end and the reverse;
/// an end that comes out NaN (dF and dlogZ both infinite) is open.
struct BoundChange {
    double value = 0.0, low = 0.0, high = 0.0;
};
BoundChange bound_change(double free_energy_gap, const DeltaLogZ& delta);

/// @brief Sets dlogZ of a check whose dF is known, and with it D, its interval and the
/// verdict (passed: D's high end >= 0).
void set_delta_log_z(ConsistencyCheck& c, const DeltaLogZ& delta);
/// @brief dlogZ from the two layers' own log Z: the difference of the values, and the interval
///     [log Z_{k+1}.low - log Z_k.high, log Z_{k+1}.high - log Z_k.low].
/// @pre both are available.
DeltaLogZ delta_log_z(const LayerLogZ& lower, const LayerLogZ& upper);

/// @brief The record of a check between layers k and k+1 that does not apply (a layer has relu
/// hidden units, so no free energy and no log Z): applicable false, with the note saying why.
ConsistencyCheck inapplicable_check(std::size_t k);

/// @brief The check between layers k and k+1 (docs/MATH.md#consistency-check), given layer k's
/// input for the check set and dlogZ_k. Sampling q draws from `rng`. Not applicable (and `rng`
/// untouched) when a layer has relu hidden units. A whole stack is checked by StackEvaluator
/// (stack_evaluation.hpp), which also obtains dlogZ.
/// @throws ConfigError when layer k+1 does not exist; ShapeError for an empty check set.
ConsistencyCheck consistency_check(const Dbn& model, std::size_t k, const Matrix& input_k,
                                   const DeltaLogZ& delta, Rng& rng);
/// @brief The same, giving up `input_k`: it is freed (left with no rows) once layer k's hidden
/// units are sampled from it, before the free energies' arrays are allocated.
ConsistencyCheck consistency_check(const Dbn& model, std::size_t k, Matrix&& input_k,
                                   const DeltaLogZ& delta, Rng& rng);

/// @brief The variational lower bound on mean log p(v) of a DBN (Salakhutdinov & Murray 2008),
///     log p(v) >= E_Q [ sum_{l<L-1} (log p(h_l | h_{l+1}) - log Q(h_{l+1} | h_l))
///                        - F_{L-1}(h_{L-1}) - log Z_{L-1} ],   h_0 = v,
/// estimated with one sample of the approximate posterior Q (the layers' p(h|v)) per row.
struct LowerBound {
    bool available = false;
    std::string note;
    double value = 0.0;            ///< mean over the rows
    double low = 0.0, high = 0.0;  ///< the top layer's log Z interval carried through
    double standard_error = 0.0;   ///< of the Monte Carlo mean
    std::size_t samples = 0;
};

/// @brief The bound for a stack of two or more layers with Bernoulli hidden units and no hooks.
LowerBound dbn_lower_bound(const Dbn& model, const Matrix& raw, const LayerLogZ& top, Rng& rng);

}  // namespace dbn::estimate
