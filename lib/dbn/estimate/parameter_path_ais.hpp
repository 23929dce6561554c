#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dbn/core/types.hpp"
#include "dbn/rbm/rbm.hpp"

namespace dbn::estimate {

/// Temperatures of a parameter path. On the 500-2000 top layer of the Fashion-MNIST DBN, trained
/// from the layer below turned over, 2,000 steps with 100 runs close the interval of dlogZ to a
/// few tenths of a nat (README, "The free-energy consistency check").
inline constexpr std::size_t k_parameter_path_default_steps = 2000;

/// @brief Settings of a parameter-path estimate.
struct ParameterPathConfig {
    std::size_t steps = k_parameter_path_default_steps;  ///< K >= 1 increments of beta
    std::uint64_t seed = 1;                              ///< same seed, same answer, bit for bit
    /// Give up when the effective runs of the cumulative weights fall below this at one of the
    /// checkpoints (every 5% of the steps from 10% on): the interval would end open, and the
    /// rest of the path is time lost. 0: never. See k_path_abandon_ess.
    double abandon_below_ess = 0.0;
};

/// The checks' abandon_below_ess: half the effective runs a closed interval needs. On the default
/// Fashion-MNIST DBN's top pair (500-2000 trained from random weights, 100 runs of 2,000
/// steps) the ESS fell from 71 to 7.2 in the first 5% of the path and to 2.9 at 20%, then rose
/// to 5.3 at 75% and ended at 4.9 (open): it rose by a factor of 1.8 at most, while a path that
/// starts below 5 would need twice that to close.
inline constexpr double k_path_abandon_ess = 5.0;

/// @brief An estimate of log(Z_to / Z_from) between two RBMs of the same shape.
struct ParameterPathResult {
    double log_ratio = 0.0;
    double low = 0.0;   ///< log(R - 3 se); -inf when that is <= 0 or ess < k_path_min_ess
    double high = 0.0;  ///< log(R + 3 se); +inf when ess < k_path_min_ess
    double ess = 0.0;   ///< effective runs of the cumulative weights
    std::size_t runs = 0, steps = 0;
    double seconds = 0.0;
    /// The path gave up at step `steps` (abandon_below_ess): log_ratio is that of the part run,
    /// the interval is open, and there are no final states.
    bool abandoned = false;
    /// The runs' final visible states, weighted samples of `to` (log weights below): a later
    /// estimate can start from them.
    Matrix final_visible = Matrix::from_shape({0, 0});
    std::vector<double> final_log_weights;
};

/// @brief Annealed importance sampling from one RBM to another of the same shape along the
/// straight line between their parameters, theta_beta = (1 - beta) theta_from + beta theta_to,
/// beta = 0, 1/K, ..., 1. Each intermediate distribution is itself an RBM, so one Gibbs sweep
/// at theta_beta (h ~ p(h | v), then v ~ p(v | h)) leaves it invariant; a run's log weight is
///     sum_i F_{beta_i}(v_i) - F_{beta_{i+1}}(v_i)
/// with F_beta the visible free energy of theta_beta. The runs start from weighted samples of
/// `from`'s visible units (log weights `start_log_w`, empty for exact samples), and the result
/// is the ratio of the weighted means (weighted_ratio), the interval by the delta method.
///
/// Why: when `to` was trained from `from` (a layer started as the layer below turned over), the
/// two distributions are close and every intermediate RBM mixes as well as they do, so the
/// weights stay even; and log Z_from is known exactly relative to the layer below, so the
/// errors of two separate log Z estimates never enter (docs/CHECK.md).
///
/// Cost per step: three products of runs x n_visible x n_hidden (v W_from, v W_to, h W_beta^T)
/// and the interpolated weights.
class ParameterPathAis {
public:
    /// @throws ConfigError for steps < 1.
    explicit ParameterPathAis(ParameterPathConfig config = {});
    /// @throws ShapeError when the shapes differ or start_visible does not fit;
    ///         ConfigError unless both RBMs have Bernoulli visible and hidden units;
    ///         NumericalError for non-finite parameters or weights.
    ParameterPathResult estimate(const Rbm& from, const Rbm& to, ConstRows start_visible,
                                 const std::vector<double>& start_log_w = {}) const;

private:
    ParameterPathConfig config_;
};

/// @brief Whether turned_over_path can estimate dlogZ between these adjacent layers: Bernoulli
/// units on both, and at least as many hidden units above as visible units below.
bool turned_over_path_applies(const Rbm& lower, const Rbm& upper);

/// @brief dlogZ_k = log Z_{k+1} - log Z_k through the lower layer turned over.
struct TurnedOverPath {
    /// sum_j softplus(c_j) over the upper layer's extra hidden units: log Z of the widened
    /// turned-over lower layer (extra biases c_j, zero weights) minus log Z_k, exactly.
    double exact_part = 0.0;
    /// log Z_{k+1} - log Z of that reference, along the parameter path.
    ParameterPathResult path;
    double value() const { return exact_part + path.log_ratio; }
    double low() const { return exact_part + path.low; }
    double high() const { return exact_part + path.high; }
};

/// @brief Estimates dlogZ_k from weighted samples of layer k's visible units (e.g. the final
/// states of its AIS runs, with their log weights): hidden states drawn from them are weighted
/// samples of the reference, the lower layer widened and turned over with the upper layer's
/// extra hidden biases, whose log Z is log Z_k plus a closed form; ParameterPathAis goes from it
/// to the upper layer. Neither log Z_k nor its error enters dlogZ.
/// @throws ConfigError unless turned_over_path_applies; as ParameterPathAis::estimate.
TurnedOverPath turned_over_path(const Rbm& lower, const Rbm& upper, ConstRows lower_visible,
                                const std::vector<double>& log_w,
                                const ParameterPathConfig& config);

}  // namespace dbn::estimate
