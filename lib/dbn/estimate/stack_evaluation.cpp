#include "dbn/estimate/stack_evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"

namespace dbn::estimate {

StackEvaluator::StackEvaluator(StackEvaluationOptions options) : options_(std::move(options)) {}

DeltaLogZMethod parse_delta_log_z_method(const std::string& name, const std::string& where) {
    if (name == "independent") return DeltaLogZMethod::independent;
    if (name == "auto") return DeltaLogZMethod::automatic;
    throw ConfigError(where + ": must be \"auto\" or \"independent\" (got " + quote_input(name) +
                      ")");
}

const char* to_string(DeltaLogZMethod m) {
    switch (m) {
        case DeltaLogZMethod::independent:
            return "independent";
        case DeltaLogZMethod::automatic:
            return "auto";
    }
    return "?";
}

bool StackEvaluator::path_for(const Dbn& stack, std::size_t k) const {
    return options_.delta_log_z != DeltaLogZMethod::independent && k > 0 &&
           k - 1 < states_.size() && !states_[k - 1].empty() && log_z_[k - 1].available &&
           turned_over_path_applies(stack.layers[k - 1], stack.layers[k]);
}

const LayerLogZ& StackEvaluator::add_log_z(const Dbn& stack, std::size_t k, ConstRows input_k) {
    log_z_.resize(k);
    states_.resize(k);
    path_delta_.resize(k > 0 ? k - 1 : 0);
    checks_.resize(std::min(checks_.size(), k > 0 ? k - 1 : 0));
    const bool keep = options_.delta_log_z != DeltaLogZMethod::independent;
    WeightedStates states;
    LayerLogZ z;
    std::optional<DeltaLogZ> delta;
    std::optional<TurnedOverPath> path;
    if (path_for(stack, k)) {
        ParameterPathConfig config = options_.path;
        config.seed = options_.log_z.ais.seed + 1000 + k;
        path = turned_over_path(stack.layers[k - 1], stack.layers[k], states_[k - 1].visible,
                                states_[k - 1].log_weights, config);
        // A layer that went far from the one below turned over (one trained from random
        // weights, say) leaves the path's runs with uneven weights and an open interval: its own
        // AIS from base rates is then the better estimate, and the path's time is lost.
        if (!std::isfinite(path->low()) || !std::isfinite(path->high())) path.reset();
    }
    if (path) {
        const LayerLogZ& below = log_z_[k - 1];
        const TurnedOverPath& tp = *path;
        delta = DeltaLogZ{tp.value(), tp.low(), tp.high(), "turned_over_path"};
        z.index = k;
        z.method = "turned_over_path";
        z.log_z = {below.log_z.value + tp.value(), below.log_z.low + tp.low(),
                   below.log_z.high + tp.high()};
        z.ess = tp.path.ess;
        z.ais_runs = tp.path.runs;
        z.ais_steps = tp.path.steps;
        z.seconds = tp.path.seconds;
        z.available = true;
        states.visible = tp.path.final_visible;
        states.log_weights = tp.path.final_log_weights;
    } else {
        LogZOptions opt = options_.log_z;
        if (options_.seed_per_layer) opt.ais.seed += k;
        z = layer_log_partition(stack, k, input_k, opt, keep ? &states : nullptr);
    }
    if (k > 0) path_delta_.push_back(delta);
    log_z_.push_back(std::move(z));
    states_.push_back(std::move(states));
    return log_z_.back();
}

std::optional<DeltaLogZ> StackEvaluator::delta_log_z(const Dbn& /*stack*/, std::size_t k) const {
    DBN_CHECK(k + 1 < log_z_.size(), ConfigError,
              "StackEvaluator: the check between layers " << k << " and " << k + 1
                                                          << " needs the log Z of both");
    if (k < path_delta_.size() && path_delta_[k]) return path_delta_[k];
    if (!log_z_[k].available || !log_z_[k + 1].available) return std::nullopt;
    return estimate::delta_log_z(log_z_[k], log_z_[k + 1]);
}

template <class Input>
const ConsistencyCheck& StackEvaluator::check(const Dbn& stack, std::size_t k, Input&& input_k,
                                              Rng& rng) {
    const std::optional<DeltaLogZ> delta = delta_log_z(stack, k);
    ConsistencyCheck c =
        delta ? consistency_check(stack, k, std::forward<Input>(input_k), *delta, rng)
              : inapplicable_check(k);
    checks_.resize(k);
    checks_.push_back(std::move(c));
    return checks_.back();
}

const ConsistencyCheck& StackEvaluator::add_check(const Dbn& stack, std::size_t k,
                                                  const Matrix& input_k, Rng& rng) {
    return check(stack, k, input_k, rng);
}

const ConsistencyCheck& StackEvaluator::add_check(const Dbn& stack, std::size_t k, Matrix&& input_k,
                                                  Rng& rng) {
    return check(stack, k, std::move(input_k), rng);
}

void StackEvaluator::restore(State state) {
    const std::size_t n = state.log_z.size();
    DBN_CHECK(
        state.states.size() <= n && state.path_delta.size() + 1 <= std::max<std::size_t>(n, 1) &&
            state.checks.size() + 1 <= std::max<std::size_t>(n, 1),
        ShapeError,
        "StackEvaluator::restore: " << n << " layers' log Z with " << state.states.size()
                                    << " final states, " << state.path_delta.size()
                                    << " path estimates and " << state.checks.size() << " checks");
    log_z_ = std::move(state.log_z);
    states_ = std::move(state.states);
    path_delta_ = std::move(state.path_delta);
    checks_ = std::move(state.checks);
}

const WeightedStates& StackEvaluator::final_states(std::size_t k) const {
    static const WeightedStates none;
    return k < states_.size() ? states_[k] : none;
}

bool StackEvaluator::all_passed() const {
    for (const auto& c : checks_)
        if (c.applicable && !c.passed) return false;
    return true;
}

namespace {

bool is_binary(const Matrix& x) {
    for (float v : x)
        if (v != 0.0f && v != 1.0f) return false;
    return true;
}

}  // namespace

StackEvaluation evaluate_stack(const Dbn& stack, const Matrix& raw,
                               const StackEvaluationOptions& options, Rng& rng,
                               const std::function<void(std::size_t)>& before_log_z) {
    const std::vector<Matrix> inputs = layer_inputs(stack, raw);
    StackEvaluator evaluator(options);
    for (std::size_t k = 0; k < stack.n_layers(); ++k) {
        if (before_log_z) before_log_z(k);
        evaluator.add_log_z(stack, k, inputs[k]);
    }
    for (std::size_t k = 0; k + 1 < stack.n_layers(); ++k)
        evaluator.add_check(stack, k, inputs[k], rng);

    StackEvaluation out;
    out.rows = raw.shape(0);
    out.binary = is_binary(inputs[0]);
    out.log_z = evaluator.log_z();
    out.checks = evaluator.checks();
    if (out.log_z[0].available)
        out.likelihood = mean_log_likelihood(stack.layers[0], inputs[0], out.log_z[0].log_z);
    if (stack.n_layers() > 1) out.bound = dbn_lower_bound(stack, raw, out.log_z.back(), rng);
    return out;
}

}  // namespace dbn::estimate
