#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dbn/core/types.hpp"
#include "dbn/mpi/communicator.hpp"
#include "dbn/rbm/rbm.hpp"

namespace dbn::estimate {

/// Salakhutdinov & Murray's schedule: 500 steps on [0, 0.5], 4,000 on [0.5, 0.9], 10,000 on
/// [0.9, 1].
inline constexpr std::size_t k_ais_default_steps = 14500;
/// The "quick" preset: the same three segments, a tenth of the steps (50 + 400 + 1,000).
inline constexpr std::size_t k_ais_quick_steps = 1450;
/// Most temperatures a schedule may ask for (70 times the default).
inline constexpr std::size_t k_ais_max_steps = 1000000;
/// Below this effective sample size (sum w)^2 / sum w^2 an AIS estimate's interval is open on
/// both sides. With a handful of runs carrying the weight, their spread is no measure of the
/// error, so "mean + 3 se" bounds nothing either: the runs that would carry the rest of Z may
/// not have been drawn (the parameter path on the default Fashion-MNIST DBN's top pair gave
/// ESS 1.1 and an estimate 100 nats low with a finite upper end, k_path_min_ess). The same
/// limit for every estimator; figures in docs/MATH.md#ais.
inline constexpr double k_ais_min_ess = 10.0;
/// Independent annealing runs M of the paper.
inline constexpr std::size_t k_ais_default_runs = 100;
/// Runs per independent group (see Ais): 100 runs make two groups, which two threads anneal
/// side by side without ever waiting for each other. Below ~50 rows a product of the runs
/// against W loses more to packing W than a second thread gains.
inline constexpr std::size_t k_ais_group_runs = 50;
/// @brief Number of run groups for `runs` runs: runs / k_ais_group_runs, at least 1.
std::size_t ais_groups(std::size_t runs);
/// Base rates p are clipped to [clip, 1 - clip] before log(p / (1 - p)) (the units' own
/// k_base_rate_clip, 1e-3: a never-lit pixel gets -6.9, about where a trained RBM puts it, so
/// the base stays close to the target there).
inline constexpr double k_default_base_rate_clip = k_base_rate_clip;

/// @brief Inverse temperatures 0 = beta_0 < ... < beta_K = 1 in three uniform segments with
/// the proportions of the paper's schedule (500 : 4,000 : 10,000 steps on [0, 0.5], [0.5, 0.9],
/// [0.9, 1]); `steps` = K = 14,500 gives exactly their schedule.
/// @throws ConfigError if steps < 3 (each segment needs one step).
std::vector<double> ais_schedule(std::size_t steps);

/// @brief Parses a schedule setting: "default" (14,500 steps), "quick" (1,450) or a step count
/// K >= 3 in decimal.
/// @throws ConfigError naming the setting for anything else.
std::size_t parse_ais_steps(const std::string& setting);

/// @brief Settings of an AIS run.
struct AisConfig {
    std::size_t runs = k_ais_default_runs;    ///< M independent annealing runs (>= 2)
    std::size_t steps = k_ais_default_steps;  ///< K temperature increments (>= 3)
    /// Same seed, same answer, bit for bit, on the same BLAS kernel, whatever the thread count
    /// when there are two or more run groups (at least 2 x k_ais_group_runs runs); with one
    /// group, on the same BLAS thread count too (a different sgemm summation order can flip one
    /// sample and send a chain elsewhere).
    std::uint64_t seed = 1;
    double base_rate_clip = k_default_base_rate_clip;  ///< in (0, 0.5)
    /// Return the runs' final visible states in AisResult::final_states: with log_weights they
    /// are weighted samples of the target's visible marginal, from which PathAis can carry the
    /// estimate up to the next layer without annealing that layer from its own base model.
    bool keep_final_states = false;
    /// The processes that share the runs (nullptr: this one alone). Each rank anneals a
    /// contiguous range of the run groups, and the log weights (and final states) are gathered
    /// on every rank: the result is bit for bit that of one process with the same seed and the
    /// same BLAS kernel, whatever the number of ranks. Every rank must call with the same
    /// settings. With one group (fewer than 2 x k_ais_group_runs runs) the last rank anneals it.
    const mpi::Communicator* comm = nullptr;
};

/// @brief An AIS estimate of log Z (docs/MATH.md#ais).
struct AisResult {
    double log_z = 0.0;  ///< log Z_base + log(mean w)
    /// log Z_base + log(mean w - 3 se); -inf when that is <= 0 or ess < k_ais_min_ess
    double log_z_low = 0.0;
    double log_z_high = 0.0;  ///< log Z_base + log(mean w + 3 se); +inf when ess < k_ais_min_ess
    double ess = 0.0;         ///< effective sample size of the weights, (sum w)^2 / sum w^2
    std::size_t runs = 0;
    std::size_t steps = 0;
    /// log w_m of each run: its estimate of log(Z / Z_base).
    std::vector<double> log_weights;
    /// Closed-form log Z of the base-rate model that the runs started from.
    double log_z_base = 0.0;
    /// With AisConfig::keep_final_states, run m's visible state after its last transition
    /// (row m, runs x n_visible): (final_states, log_weights) are importance-weighted samples of
    /// the target's visible marginal. Otherwise 0 x n_visible.
    Matrix final_states = Matrix::from_shape({0, 0});
};

/// @brief The estimate of runs from one base model with log weights `log_weights`: log Z =
/// log_z_base + log mean(w), its interval, the ESS; `runs` and `steps` set, no final states.
/// Runs of several Ais calls from the same base (other seeds) combine by concatenating their
/// log weights (StackEvaluator adds runs to a check this way).
/// @throws ConfigError for fewer than 2 runs; NumericalError for a non-finite log weight.
AisResult ais_result(std::vector<double> log_weights, double log_z_base, std::size_t steps);

/// @brief Visible biases of the base-rate model for `target` from `data` (one sample per row):
/// the visible units' base_rate_bias of the column means, i.e. log(p_i / (1 - p_i)) with p_i
/// the column mean clipped to [clip, 1 - clip] (Bernoulli visible units), or the column mean
/// itself (Gaussian visible units, whose base shares the target's sigma).
/// @throws ShapeError if data has no rows or not n_visible columns; ConfigError if clip is not
///         in (0, 0.5); NumericalError if data holds NaN or Inf.
Vector base_rate_bias(const Rbm& target, ConstRows data, double clip = k_default_base_rate_clip);

/// @brief Closed-form log Z of the base-rate model: W = 0, hidden biases 0, the target's
/// hidden-unit count and (Gaussian) sigma, visible biases `base_bias`:
///     log Z_base = sum_i softplus(base_bias_i) + n_h log 2                   Bernoulli visible
///     log Z_base = sum_i log(sqrt(2 pi) s_i)   + n_h log 2                   Gaussian visible
/// (each side's Units::add_uncoupled_log_partition).
/// @throws ShapeError if base_bias does not have n_visible entries; ConfigError for hidden
///         units without a closed-form log-marginal (relu).
double base_log_partition(const Rbm& target, const Vector& base_bias);

/// @brief Annealed importance sampling of log Z (Salakhutdinov & Murray 2008, "On the
/// quantitative analysis of deep belief networks", ICML).
///
/// The runs anneal from the base-rate model A (W = 0, visible biases a_A from the data's base
/// rates, hidden biases 0) to the target B through the distributions
///     p_k(v, h) ∝ exp(-(1 - beta_k) E_A(v, h_A) - beta_k E_B(v, h)),
/// whose visible marginal is exp(-F_k(v)) up to a constant,
///     F_k(v) = -(1 - beta_k) a_A.v - beta_k a_B.v - sum_j softplus(beta_k (b_j + (v W)_j))
/// (Gaussian visible units: -(1 - beta_k) a_A.v - beta_k a_B.v becomes
///  (1 - beta_k) |v - a_A|^2_s / 2 + beta_k |v - a_B|^2_s / 2, and v W becomes (v / s) W).
/// Each run starts from an exact sample of A, and at each beta_k (0 < k < K) makes one Gibbs
/// transition that leaves p_k invariant: h ~ sigmoid(beta_k (b + v W)), then
/// v ~ sigmoid((1 - beta_k) a_A + beta_k (a_B + W h)) (Gaussian: N(a_k + s beta_k W h, s^2)).
/// Its log weight, accumulated in double, is log w = sum_{k=1..K} [F_{k-1}(v_k) - F_k(v_k)],
/// and log Z = log Z_A + log mean(w), with the interval log(mean(w) +- 3 se(w)) of the paper.
/// The runs are cut into ais_groups(M) groups of about k_ais_group_runs; the runs of a group
/// advance together as matrices through BLAS, and groups anneal independently, one per thread
/// (OpenBLAS's thread count), each with single-threaded products and its own substream of a
/// dbn::Rng seeded with config.seed. Nothing is allocated inside the temperature loop.
///
/// Cost: two M x n_v x n_h float GEMMs and M (n_v + 2 n_h) element-wise terms per step
/// (`dbn bench` measures it against the GEMM rate of the machine).
class Ais {
public:
    /// @throws ConfigError for runs < 2, steps < 3 or a clip outside (0, 0.5).
    explicit Ais(AisConfig config = {});

    const AisConfig& config() const { return config_; }

    /// @brief Estimates log Z of `target`, with the base-rate model fitted to `data`.
    /// @throws ConfigError for rectified (relu) hidden units (no closed-form free energy);
    ///         ShapeError / NumericalError for bad data (see base_rate_bias);
    ///         NumericalError for non-finite parameters or log weights.
    AisResult estimate(const Rbm& target, ConstRows data) const;

    /// @brief Estimates log Z of `target` from the base model with visible biases `base_bias`
    /// (W = 0, hidden biases 0, the target's sigma).
    AisResult estimate_from_base(const Rbm& target, const Vector& base_bias) const;

private:
    AisConfig config_;
};

}  // namespace dbn::estimate
