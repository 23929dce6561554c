#include "dbn/estimate/stack_evaluation.hpp"

#include <algorithm>
#include <chrono>
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
    // The AIS runs' final states and weights: the start of the parameter path above, and what
    // added runs (RunTarget) are appended to.
    const bool keep =
        options_.delta_log_z != DeltaLogZMethod::independent || options_.run_target.width > 0.0;
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
        // AIS from base rates is then the better estimate. The path gives up once its ESS falls
        // below k_path_abandon_ess (options_.path), so that little of its time is lost.
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

std::pair<std::size_t, std::string> StackEvaluator::add_runs(const Dbn& stack, std::size_t k,
                                                             const Matrix& input_k) {
    const RunTarget& target = options_.run_target;
    if (target.width <= 0.0 || (k < path_delta_.size() && path_delta_[k])) return {0, ""};
    LayerLogZ* z[2] = {&log_z_[k], &log_z_[k + 1]};
    if (!z[0]->available || !z[1]->available) return {0, ""};
    const auto can_add = [&](int i) {
        return z[i]->method == "ais" && z[i]->ais_runs >= 2 &&
               states_[k + i].log_weights.size() == z[i]->ais_runs;
    };
    if (!can_add(0) && !can_add(1)) return {0, ""};
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto since = [](clock::time_point t) {
        return std::chrono::duration<double>(clock::now() - t).count();
    };
    std::optional<Vector> base[2];
    std::size_t added = 0;
    while (true) {
        const DeltaLogZ d = estimate::delta_log_z(*z[0], *z[1]);
        if (std::isfinite(d.low) && std::isfinite(d.high) && d.high - d.low <= target.width)
            return {added, "target width"};
        // Under MPI every rank must take the same decisions: rank 0's clock decides.
        const mpi::Communicator& comm =
            options_.log_z.ais.comm ? *options_.log_z.ais.comm : mpi::serial();
        // (the time spent and the layers' measured seconds, which set the runs of a round).
        double clocks[3] = {since(start), z[0]->seconds, z[1]->seconds};
        comm.broadcast(clocks, 3);
        const double spent = clocks[0];
        z[0]->seconds = clocks[1];
        z[1]->seconds = clocks[2];
        if (target.seconds > 0.0 && spent >= target.seconds) return {added, "time budget"};
        // The layer whose interval is the wider (an open one is infinitely wide); the upper on
        // a tie: it is the one pretraining just estimated.
        int pick = -1;
        double widest = 0.0;
        for (int i = 0; i < 2; ++i) {
            if (!can_add(i) || z[i]->ais_runs >= target.max_runs) continue;
            const double w = z[i]->log_z.high - z[i]->log_z.low;
            if (pick < 0 || !(w < widest)) pick = i, widest = w;
        }
        if (pick < 0) return {added, "run limit"};
        LayerLogZ& lz = *z[pick];
        const std::size_t j = k + static_cast<std::size_t>(pick);
        // As many runs again as the layer has (the interval's width falls as 1 / sqrt(runs)),
        // or what the time left allows at this layer's measured seconds per run; whole pairs of
        // run groups, so that two threads stay busy.
        std::size_t n = std::min(lz.ais_runs, target.max_runs - lz.ais_runs);
        if (target.seconds > 0.0 && lz.seconds > 0.0) {
            const double per_run = lz.seconds / static_cast<double>(lz.ais_runs);
            n = std::min<std::size_t>(
                n, static_cast<std::size_t>(std::floor((target.seconds - spent) / per_run)));
        }
        if (n >= 2 * k_ais_group_runs) n -= n % (2 * k_ais_group_runs);
        if (n < 2) return {added, target.seconds > 0.0 ? "time budget" : "run limit"};

        const auto t0 = clock::now();
        if (!base[pick]) {
            const double clip = options_.log_z.ais.base_rate_clip;
            base[pick] = pick == 0 ? base_rate_bias(stack.layers[j], input_k, clip)
                                   : base_rate_bias(stack.layers[j],
                                                    stack.propagate(k, input_k, true), clip);
        }
        AisConfig config = options_.log_z.ais;
        config.runs = n;
        config.keep_final_states = true;
        // A seed of its own for every round of every layer: the layer's run count only grows.
        if (options_.seed_per_layer) config.seed += j;
        config.seed += 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(lz.ais_runs);
        AisResult more = Ais(config).estimate_from_base(stack.layers[j], *base[pick]);

        WeightedStates& st = states_[j];
        std::vector<double> logw = st.log_weights;
        logw.insert(logw.end(), more.log_weights.begin(), more.log_weights.end());
        const AisResult all = ais_result(std::move(logw), more.log_z_base, more.steps);
        Matrix visible = Matrix::from_shape({st.visible.shape(0) + n, stack.layers[j].n_visible()});
        std::copy(st.visible.data(), st.visible.data() + st.visible.size(), visible.data());
        std::copy(more.final_states.data(), more.final_states.data() + more.final_states.size(),
                  visible.data() + st.visible.size());
        st.visible = std::move(visible);
        st.log_weights = all.log_weights;
        lz.log_z = LogPartition::from(all);
        lz.ess = all.ess;
        lz.ais_runs = all.runs;
        lz.seconds += since(t0);
        added += n;
    }
}

template <class Input>
const ConsistencyCheck& StackEvaluator::check(const Dbn& stack, std::size_t k, Input&& input_k,
                                              Rng& rng) {
    DBN_CHECK(k + 1 < log_z_.size(), ConfigError,
              "StackEvaluator: the check between layers " << k << " and " << k + 1
                                                          << " needs the log Z of both");
    const auto [added, stopped_by] = add_runs(stack, k, input_k);
    const std::optional<DeltaLogZ> delta = delta_log_z(stack, k);
    ConsistencyCheck c =
        delta ? consistency_check(stack, k, std::forward<Input>(input_k), *delta, rng)
              : inapplicable_check(k);
    c.runs_added = added;
    c.runs_stopped_by = stopped_by;
    checks_.resize(k);
    // Runs added to layer k move its log Z: the check below it follows (its dF stays).
    if (added > 0 && k > 0 && checks_[k - 1].applicable &&
        checks_[k - 1].delta_log_z_method == "independent")
        set_delta_log_z(checks_[k - 1], estimate::delta_log_z(log_z_[k - 1], log_z_[k]));
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
