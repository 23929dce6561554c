#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dbn/core/types.hpp"
#include "dbn/estimate/ais.hpp"
#include "dbn/rbm/rbm.hpp"

namespace dbn::estimate {

/// Temperatures J of the path between two adjacent layers (see PathAis). On 784-20-20
/// Fashion-MNIST stacks 4,000 temperatures bring the error to a thousandth of a nat where the
/// two layers are close, and to a few tenths where layer k+1 is far from layer k (docs/CHECK.md
/// has the figures). A temperature costs about one AIS step of the larger layer (784-500 below
/// 500-2000: 13 ms against 12.6 ms with 100 runs), so with the pilot this is about 30% of AIS's
/// default schedule on that layer.
inline constexpr std::size_t k_path_default_steps = 4000;

/// Below this effective sample size PathAis reports an open interval (-inf, +inf). When a
/// handful of runs carry the weight, the estimate is typically far below the true value (the
/// runs never reached where p_{k+1} has its mass) and the runs' spread says nothing about it:
/// on the 500-500 / 500-2000 pair of the default Fashion-MNIST DBN, 100 runs gave ESS 1.1 and
/// an estimate 100 nats low with a finite upper end. An open interval makes the check
/// inconclusive instead of passing it on a wrong dlogZ.
inline constexpr double k_path_min_ess = k_ais_min_ess;

/// @brief Which Metropolis-Hastings move PathAis makes at each temperature t.
///
/// Both moves leave p_t(h) ∝ exp(-(1 - t) G_k(h) - t F_{k+1}(h)) invariant:
/// - lower: propose h' by one Gibbs step of layer k (h -> v -> h', reversible for p_k) and
///   accept with min(1, exp(t (r(h') - r(h)))), r = G_k - F_{k+1};
/// - upper: propose h' by one Gibbs step of layer k+1 (h -> h2 -> h', reversible for p_{k+1})
///   and accept with min(1, exp(-(1 - t) (r(h') - r(h)))).
///
/// The default, `switched`, was chosen by measurement (docs/CHECK.md). The lower move alone
/// fails where it matters most: near t = 1 it only proposes states that layer k likes, so when
/// layer k+1 puts mass where layer k has little the runs never get there, and the estimate
/// comes out low with a narrow interval (784-20-20 Fashion-MNIST: 6 nats low, intervals 0.3-0.5
/// wide). The upper move alone and the switched mix were within each other's noise on every
/// stack measured (each ahead on some), while the switched mix accepts more (0.91 against 0.83
/// on a 16-12-10 stack, 0.64 against 0.50 on a hard Fashion-MNIST pair) and treats the two ends
/// alike; making both moves at every temperature with half the temperatures, at the same cost,
/// was never better.
enum class PathMoves {
    /// The lower move for t < 1/2, the upper one from 1/2 on: each move is used where its
    /// acceptance exponent, t or 1 - t times the change of r, is the smaller (the default).
    switched,
    lower,  ///< the lower move at every temperature
    upper,  ///< the upper move at every temperature
    both,   ///< the lower then the upper move at every temperature (twice the cost)
};

/// @brief Settings of a path estimate of log Z_{k+1} - log Z_k.
struct PathAisConfig {
    std::size_t steps = k_path_default_steps;  ///< J temperature increments (>= 1)
    /// Place the J temperatures by a pilot pass (see PathAis) rather than uniformly.
    bool adapt_schedule = true;
    /// Temperature increments of the pilot pass (see PathAis); 0: max(10, steps / 10).
    std::size_t pilot_steps = 0;
    /// Explicit temperatures 0 = t_0 < ... < t_J = 1 (then steps, adapt_schedule and
    /// pilot_steps are ignored).
    std::vector<double> schedule;
    /// Same seed, same answer, bit for bit, under the conditions of AisConfig::seed (runs fall
    /// into ais_groups(M) groups, each with its own substream of dbn::Rng(seed)).
    std::uint64_t seed = 1;
    PathMoves moves = PathMoves::switched;
    /// Recognise a turned-over (or widened turned-over) upper layer by comparing parameters
    /// and return its exact dlogZ. Off only to test the general path on such layers.
    bool detect_turned_over = true;
};

/// @brief An estimate of dlogZ_k = log Z_{k+1} - log Z_k along one annealing path.
struct PathAisResult {
    double delta_log_z = 0.0;  ///< log of sum_m w0_m w_m / sum_m w0_m
    /// log(R - 3 se(R)); -inf when that is <= 0 or when ess < k_path_min_ess
    double delta_log_z_low = 0.0;
    /// log(R + 3 se(R)); +inf when ess < k_path_min_ess
    double delta_log_z_high = 0.0;
    /// se(R) / R of the ratio R = exp(delta_log_z) by the delta method over the runs.
    double relative_se = 0.0;
    /// Effective sample size of the final weights w0_m w_m, (sum)^2 / sum of squares: how many
    /// exact samples of p_{k+1} the weighted final states are worth.
    double ess = 0.0;
    /// Accepted proposals / proposals, over both moves (1 when no move was made).
    double acceptance_rate = 1.0;
    std::size_t lower_proposals = 0, lower_accepted = 0;
    std::size_t upper_proposals = 0, upper_accepted = 0;
    std::size_t runs = 0;
    std::size_t steps = 0;  ///< temperature increments J (0 for a recognised turned-over layer)
    std::size_t pilot_steps = 0;       ///< temperature increments of the pilot pass (0: none)
    std::vector<double> temperatures;  ///< t_0 = 0 < ... < t_J = 1 (empty when steps is 0)
    double seconds = 0.0;
    /// The upper layer was recognised as layer k turned over, possibly widened by units with zero
    /// weights: the estimate is then exact (its interval has width 0).
    bool turned_over = false;
    /// log w_m of each run along the path alone (without its start weight).
    std::vector<double> log_weights;
    /// Run m's state h after its last transition (row m, runs x n_visible of layer k+1):
    /// with final_log_weights, importance-weighted samples of p_{k+1}(h) ∝ exp(-F_{k+1}(h)),
    /// ready to start the next pair k+1 -> k+2.
    Matrix final_states = Matrix::from_shape({0, 0});
    /// log w0_m + log w_m. When the start weights estimate Z_k / Z_0 (AIS weights of layer k
    /// against its base model Z_0), these estimate Z_{k+1} / Z_0 in the same sense.
    std::vector<double> final_log_weights;
};

/// @brief Estimates log Z_{k+1} - log Z_k of two adjacent layers along one annealing path.
///
/// Layer k (`lower`) and layer k+1 (`upper`, whose visible units are layer k's hidden units h)
/// each define a distribution over h: p_k(h) ∝ exp(-G_k(h)), G the hidden-side free energy, and
/// p_{k+1}(h) ∝ exp(-F_{k+1}(h)), F the visible free energy. The runs anneal through
///     p_t(h) ∝ exp(-(1 - t) G_k(h) - t F_{k+1}(h)) = p_k(h) exp(t r(h)),   r = G_k - F_{k+1},
/// at t_i = i / J, from weighted samples of p_k: each run starts from a visible state v_m of
/// layer k with log weight log w0_m and draws h ~ p_k(h | v_m). It adds (t_{i+1} - t_i) r(h) to
/// its log weight (double) at each temperature and moves with a transition that leaves p_t
/// invariant (PathMoves) before the next. Then
///     Z_{k+1} / Z_k ≈ R = sum_m w0_m w_m / sum_m w0_m,
/// both sums over the same runs, evaluated in log space, with the interval log(R +- 3 se(R)),
/// se(R) by the delta method over the runs (docs/CHECK.md). With exact samples of p_k
/// (log w0 = 0) this is AIS's estimate and interval.
///
/// The temperatures are placed by a pilot pass (PathAisConfig::adapt_schedule): the same start
/// states anneal along max(10, J / 10) temperatures, half uniform and a quarter at each end
/// approaching it geometrically down to 1e-5, and the J temperatures of the estimate are then
/// spread with a density proportional to the spread sd_t(r) that the pilot's weighted runs
/// showed (plus a tenth of its mean everywhere). Where one layer's free energy varies over a
/// far wider range than the other's, p_t follows the sharper layer until t is within 1e-2 to
/// 1e-4 of the other end, and the whole change happens there: uniform temperatures would give
/// it a handful of transitions. The pilot draws from its own random streams, so the estimate
/// is that of a fixed schedule.
///
/// An upper layer that is layer k turned over (W' = W^T, a' = b, b' = a, Bernoulli units) with
/// possibly extra hidden units j of zero weights has F_{k+1}(h) = G_k(h) - sum_j softplus(c_j)
/// for every h, c its extra biases; it is recognised by comparing the parameters exactly, and
/// dlogZ = sum_j softplus(c_j) is returned with an interval of width 0 (float products W h and
/// h W^T could round differently and blur a value that is known exactly).
///
/// The runs advance together as matrices through BLAS, in ais_groups(M) groups that anneal
/// independently, one per thread, as Ais does. Per temperature a move costs three products of
/// the runs against a weight matrix (the Gibbs step's second half and the two free energies of
/// the proposal; the first half reuses the product made for the current state's free energy),
/// and nothing is allocated inside the temperature loop.
class PathAis {
public:
    /// @throws ConfigError for steps == 0, or a schedule that does not rise strictly from 0
    ///         to 1.
    explicit PathAis(PathAisConfig config = {});

    const PathAisConfig& config() const { return config_; }

    /// @brief Estimates log Z(upper) - log Z(lower) from weighted samples of lower's visible
    /// units.
    /// @param start_visible M x n_visible(lower) visible states, M >= 2 runs.
    /// @param start_log_w   M log weights (e.g. AIS importance weights of lower), or empty for
    ///                      exact samples (all 0).
    /// @throws ConfigError when either layer has rectified (relu) hidden units (the check needs
    ///         Bernoulli hidden units) or upper's visible units are not Bernoulli;
    ///         ShapeError when upper's visible units are not lower's hidden units, when
    ///         start_visible has not n_visible(lower) columns or fewer than 2 rows, or
    ///         start_log_w has neither 0 nor M entries;
    ///         NumericalError for non-finite parameters, start values or log weights.
    PathAisResult estimate(const Rbm& lower, const Rbm& upper, ConstRows start_visible,
                           const std::vector<double>& start_log_w = {}) const;

    /// @brief The same from an AIS estimate of lower's log Z run with
    /// AisConfig::keep_final_states: its final states and log weights.
    /// @throws ConfigError when lower_ais holds no final states.
    PathAisResult estimate(const Rbm& lower, const Rbm& upper, const AisResult& lower_ais) const;

    /// @brief The same from the previous pair's result, to chain k+1 -> k+2.
    PathAisResult estimate(const Rbm& lower, const Rbm& upper, const PathAisResult& previous) const;

private:
    PathAisConfig config_;
};

/// @brief The exact dlogZ of an upper layer that is `lower` turned over, possibly widened by
/// hidden units with zero weights: sum_j softplus(c_j) over those units' biases c_j (0 for a
/// plain turned-over layer). Parameters are compared exactly (a float equal to another).
/// @return true and the value in *delta_log_z when `upper` has that structure, else false.
bool turned_over_delta_log_z(const Rbm& lower, const Rbm& upper, double* delta_log_z);

}  // namespace dbn::estimate
