#pragma once

// The one evaluation of a stack: log Z of every layer, then the consistency check of every
// adjacent pair. Pretraining runs it a layer at a time (PretrainChecks), `dbn eval` over a whole
// model (evaluate_stack).

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/estimate/check_types.hpp"
#include "dbn/estimate/consistency.hpp"
#include "dbn/estimate/likelihood.hpp"
#include "dbn/estimate/parameter_path_ais.hpp"

namespace dbn::estimate {

/// @brief How the change of log Z between adjacent layers (dlogZ_k of the check) is obtained.
enum class DeltaLogZMethod {
    /// From the two layers' own log Z (exact or AIS each), their intervals combined
    /// (delta_log_z()).
    independent,
    /// Along the parameter path from the lower layer turned over (turned_over_path) where it
    /// applies, starting from the final states of the lower layer's AIS runs (or of the path
    /// below it); log Z of the upper layer is then log Z_k + dlogZ_k, with no AIS run of its
    /// own. Elsewhere (fewer hidden units above than visible units below, non-Bernoulli units,
    /// an exactly known log Z below, which leaves no weighted samples) as independent.
    automatic,
};

/// @brief "auto" or "independent" (configs and the CLI).
/// @throws ConfigError naming `where` for anything else.
DeltaLogZMethod parse_delta_log_z_method(const std::string& name, const std::string& where);
const char* to_string(DeltaLogZMethod m);

/// @brief Adaptive run counts (docs/CHECK.md, "Adding runs"). For a check whose dlogZ is the
/// difference of two estimates of which at least one is AIS, runs are added to the AIS layer
/// with the wider log Z interval (as many as it has, or what fits the time left), round after
/// round, until D's interval is closed and at most `width` nats wide, or `seconds` of added
/// runs are spent, or a layer reaches `max_runs`. Adding runs to the lower layer also updates
/// the check below it. The added runs draw from seeds of their own, so the same settings give
/// the same answer unless the time budget stops the rounds (it depends on the machine's speed).
struct RunTarget {
    double width = 0.0;    ///< nats; 0: never add runs
    double seconds = 0.0;  ///< wall time of the added runs per check; 0: no limit
    std::size_t max_runs = 1000000;
};

/// @brief Settings of a stack evaluation.
struct StackEvaluationOptions {
    /// How each layer's log Z is obtained (exact, AIS, or automatic; the AIS settings).
    LogZOptions log_z;
    /// AIS seed of layer k: log_z.ais.seed + k when true (pretraining: independent runs per
    /// layer), log_z.ais.seed for every layer when false (`dbn eval --seed`).
    bool seed_per_layer = false;
    DeltaLogZMethod delta_log_z = DeltaLogZMethod::independent;
    /// The parameter path's settings (its seed is log_z.ais.seed + 1000 + k for pair k). A path
    /// whose runs lose their weights is abandoned early (k_path_abandon_ess), and the upper
    /// layer gets its own AIS instead.
    ParameterPathConfig path{k_parameter_path_default_steps, 1, k_path_abandon_ess};
    RunTarget run_target;
};

/// @brief Evaluates a stack layer by layer: add_log_z(k) once layer k exists, add_check(k) once
/// layers k and k+1 have their log Z. The records are kept in order; adding layer k again (a new
/// pretraining run) drops what was recorded for layer k and above.
///
/// The caller supplies each layer's input for the check set (Dbn::preprocess, then
/// Dbn::propagate through the layers below): pretraining recomputes it from the raw rows after
/// every layer to hold no representation while the next layer trains; `dbn eval` computes them
/// all at once (layer_inputs).
class StackEvaluator {
public:
    explicit StackEvaluator(StackEvaluationOptions options);

    /// @brief log Z of layer k of `stack`, AIS base rates from `input_k` (layer k's input for
    /// the check set). Not available (with a note) for relu hidden units.
    const LayerLogZ& add_log_z(const Dbn& stack, std::size_t k, ConstRows input_k);

    /// @brief The check between layers k and k+1, on layer k's input for the check set; draws
    /// the samples q from `rng`. Not applicable when dlogZ_k cannot be had (relu hidden units).
    /// @pre add_log_z was called for layers k and k+1.
    const ConsistencyCheck& add_check(const Dbn& stack, std::size_t k, const Matrix& input_k,
                                      Rng& rng);
    /// @brief The same, giving up `input_k`: freed once q is drawn from it.
    const ConsistencyCheck& add_check(const Dbn& stack, std::size_t k, Matrix&& input_k, Rng& rng);

    const std::vector<LayerLogZ>& log_z() const { return log_z_; }
    const std::vector<ConsistencyCheck>& checks() const { return checks_; }
    /// @brief Whether every applicable check so far passed.
    bool all_passed() const;
    /// @brief Weighted samples of layer k's visible units that its log Z left (AIS or path
    /// final states); empty when log Z was exact, the method is independent, or k has none.
    const WeightedStates& final_states(std::size_t k) const;

    /// @brief Everything the evaluator carries from one layer to the next: a checkpoint saves it
    /// so that a resumed pretraining run evaluates the layers above exactly as an uninterrupted
    /// one would.
    struct State {
        std::vector<LayerLogZ> log_z;
        std::vector<WeightedStates> states;
        std::vector<std::optional<DeltaLogZ>> path_delta;
        std::vector<ConsistencyCheck> checks;
    };
    State state() const { return {log_z_, states_, path_delta_, checks_}; }
    /// @brief Continues from `state` (the options stay this evaluator's).
    /// @throws ShapeError when its vectors do not fit together (more checks or path estimates
    ///         than pairs, more states than layers).
    void restore(State state);

private:
    /// The one place where dlogZ_k comes from; empty when it cannot be had.
    std::optional<DeltaLogZ> delta_log_z(const Dbn& stack, std::size_t k) const;
    template <class Input>
    const ConsistencyCheck& check(const Dbn& stack, std::size_t k, Input&& input_k, Rng& rng);

    /// Whether pair k-1 -> k can take the turned-over path (before layer k's log Z).
    bool path_for(const Dbn& stack, std::size_t k) const;
    /// Adds AIS runs to layers k and k+1 as options_.run_target says (before check k); returns
    /// the runs added and what stopped them ("" when the target does not apply).
    std::pair<std::size_t, std::string> add_runs(const Dbn& stack, std::size_t k,
                                                 const Matrix& input_k);

    StackEvaluationOptions options_;
    std::vector<LayerLogZ> log_z_;
    /// Per layer: weighted samples of its visible units (AIS or path final states; empty when
    /// log Z was exact or the method is independent).
    std::vector<WeightedStates> states_;
    /// Per pair k: dlogZ_k when the turned-over path gave it.
    std::vector<std::optional<DeltaLogZ>> path_delta_;
    std::vector<ConsistencyCheck> checks_;
};

/// @brief What `dbn eval` reports about a stack on a data set.
struct StackEvaluation {
    std::size_t rows = 0;
    /// Whether the preprocessed data is 0/1 (else "likelihoods" under Bernoulli units are
    /// densities of [0, 1] values, not probabilities).
    bool binary = false;
    std::vector<LayerLogZ> log_z;          ///< one per layer
    std::vector<ConsistencyCheck> checks;  ///< one per adjacent pair
    /// Mean log-likelihood under layer 0 alone (when its log Z is available).
    std::optional<LogLikelihood> likelihood;
    /// The variational lower bound of the whole stack (stacks of two or more layers).
    std::optional<LowerBound> bound;
};

/// @brief Evaluates a stack on raw data: the layers' inputs, log Z of every layer, every check,
/// the likelihood under layer 0 and the DBN's lower bound, in that order. `rng` draws the checks'
/// samples, then the bound's. `before_log_z(k)`, when given, is called before layer k's log Z
/// (progress messages: AIS of a large layer takes a while).
/// @throws ShapeError when the data's columns are not the stack's visible units; as the
///         estimators otherwise.
StackEvaluation evaluate_stack(const Dbn& stack, const Matrix& raw,
                               const StackEvaluationOptions& options, Rng& rng,
                               const std::function<void(std::size_t)>& before_log_z = {});

}  // namespace dbn::estimate
