#include "dbn/pretrain/pretrain_checks.hpp"

#include <xtensor/xmath.hpp>

#include "dbn/core/error.hpp"
#include "dbn/estimate/consistency.hpp"
#include "dbn/estimate/parameter_path_ais.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <utility>

namespace dbn {

using estimate::ConsistencyCheck;
using estimate::LayerLogZ;

estimate::StackEvaluationOptions PretrainChecks::evaluation_options(const CheckConfig& config) {
    estimate::StackEvaluationOptions opt;
    opt.log_z.method = estimate::parse_log_z_method(config.log_z, "checks.log_z");
    opt.log_z.exact_max_units = config.exact_max_units;
    opt.log_z.ais.runs = config.ais_runs;
    opt.log_z.ais.steps = estimate::parse_ais_steps(config.ais_steps);
    opt.log_z.ais.seed = config.seed;
    opt.seed_per_layer = true;
    opt.delta_log_z = estimate::parse_delta_log_z_method(config.dlogz, "checks.dlogz");
    opt.path.steps = config.path_steps;
    opt.run_target.width = config.target_width;
    opt.run_target.seconds = config.time_budget;
    opt.run_target.max_runs = k_max_ais_runs;
    return opt;
}

PretrainChecks::PretrainChecks(CheckConfig config, TrainingObserver* observer)
    : config_(std::move(config)),
      observer_(observer),
      rng_(config_.seed),
      evaluator_(evaluation_options(config_)) {}

void PretrainChecks::restore(const ChecksState& state) {
    evaluator_.restore(state.evaluator);
    rng_.set_state(state.rng);
    all_passed_ = state.all_passed;
}

Matrix PretrainChecks::layer_input(const Dbn& stack, std::size_t k, const Matrix& check_raw,
                                   Matrix* below) const {
    const std::size_t n =
        config_.max_rows > 0 ? std::min(config_.max_rows, check_raw.shape(0)) : check_raw.shape(0);
    // The first n rows, copied only when they are not the whole set (the check set can be the
    // 10,000 Fashion-MNIST test images, 30 MiB).
    Matrix first_rows = Matrix::from_shape({0, check_raw.shape(1)});
    if (n < check_raw.shape(0)) {
        first_rows = Matrix::from_shape({n, check_raw.shape(1)});
        std::copy(check_raw.data(), check_raw.data() + first_rows.size(), first_rows.data());
    }
    const Matrix& rows = n < check_raw.shape(0) ? first_rows : check_raw;
    // Through the layers below (and their hooks). On the way up, layer k-1's input is kept for
    // the check between the two (one pass, not two).
    Matrix input = stack.preprocess(rows);
    for (std::size_t l = 0; l < k; ++l) {
        Matrix next = stack.propagate(l, input, true);
        if (below && l + 1 == k) *below = std::move(input);
        input = std::move(next);
    }
    return input;
}

GreedyTrainer::BoundProbe PretrainChecks::bound_probe(const ModelFile& model, std::size_t k,
                                                      const Matrix& check_raw,
                                                      const GuideSpec& guide) {
    const std::string where = "layer " + std::to_string(k) + ": bound-guided training";
    DBN_CHECK(config_.enabled, ConfigError,
              where << " needs the consistency checks, which are off");
    DBN_CHECK(k > 0 && k <= model.stack.n_layers(), ConfigError, where << " needs a layer below");
    DBN_CHECK(check_raw.shape(0) > 0, ConfigError,
              where << " needs a check set (validation data or held-out rows)");
    const estimate::WeightedStates& states = evaluator_.final_states(k - 1);
    DBN_CHECK(!states.empty(), ConfigError,
              where << " needs weighted samples of layer " << k - 1
                    << " from its AIS (its log Z was exact, or \"checks.dlogz\" is "
                       "\"independent\")");
    const Rbm& lower = model.stack.layers[k - 1];
    // q: binary samples of layer k-1's hidden units given the check set, fixed for the layer.
    Matrix in = layer_input(model.stack, k - 1, check_raw, nullptr);
    Rng rng(config_.seed + 2000 + k);
    Matrix p = Matrix::from_shape({in.shape(0), lower.n_hidden()});
    lower.hidden_probabilities(in, p);
    in = Matrix::from_shape({0, 0});
    auto q = std::make_shared<Matrix>(Matrix::from_shape(p.shape()));
    rng.bernoulli(p.data(), q->data(), p.size());
    auto g = std::make_shared<DVector>(lower.hidden_free_energy(*q));
    estimate::ParameterPathConfig path;
    path.steps = guide.path_steps;
    path.seed = config_.seed + 3000 + k;
    // The probe keeps copies of what it reads: the evaluator's states are replaced when layer
    // k's log Z is added, after training.
    auto lower_copy = std::make_shared<Rbm>(lower);
    auto start = std::make_shared<estimate::WeightedStates>(states);
    return [=](const Rbm& candidate) {
        const auto t0 = std::chrono::steady_clock::now();
        estimate::BoundPoint b;
        b.free_energy_gap = xt::mean(*g - candidate.free_energy(*q))();
        const estimate::TurnedOverPath t = estimate::turned_over_path(
            *lower_copy, candidate, start->visible, start->log_weights, path);
        b.delta_log_z = t.value();
        b.delta_log_z_low = t.low();
        b.delta_log_z_high = t.high();
        const estimate::BoundChange d = estimate::bound_change(
            b.free_energy_gap, {b.delta_log_z, b.delta_log_z_low, b.delta_log_z_high});
        b.bound_change = d.value;
        b.bound_change_low = d.low;
        b.bound_change_high = d.high;
        b.ess = t.path.ess;
        b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return b;
    };
}

void PretrainChecks::operator()(ModelFile& model, std::size_t k, const Matrix& check_raw) {
    const Dbn& stack = model.stack;
    if (!config_.enabled) return;
    auto say = [&](const std::string& line) {
        if (observer_) observer_->on_message(line.c_str());
    };
    if (check_raw.shape(0) == 0) {
        if (k == 0) say("checks: no validation or held-out rows, so no consistency checks");
        return;
    }
    Matrix below = Matrix::from_shape({0, 0});
    Matrix input = layer_input(stack, k, check_raw, &below);

    const LayerLogZ z = evaluator_.add_log_z(stack, k, input);
    input = Matrix::from_shape({0, 0});  // not needed by the check below
    model.log_z = evaluator_.log_z();
    char buf[320];
    if (z.available) {
        const std::string how = z.method == "ais"
                                    ? "ais, " + std::to_string(z.ais_runs) + " runs x " +
                                          std::to_string(z.ais_steps) + " steps"
                                    : z.method;
        std::snprintf(buf, sizeof buf, "check: layer %zu log Z = %.4f [%.4f, %.4f] (%s, %.1fs)", k,
                      z.log_z.value, z.log_z.low, z.log_z.high, how.c_str(), z.seconds);
        say(buf);
    } else {
        say("check: layer " + std::to_string(k) + ": no log Z (" + z.note + ")");
    }
    if (k == 0) return;

    const std::size_t runs_before[2] = {model.log_z[k - 1].ais_runs, model.log_z[k].ais_runs};
    // `below` goes: freed once the check has drawn its samples from it.
    const ConsistencyCheck c = evaluator_.add_check(stack, k - 1, std::move(below), rng_);
    // Runs added for the check (checks.target_width) move the two layers' log Z, and that of
    // layer k-1 the check below.
    model.log_z = evaluator_.log_z();
    model.checks = evaluator_.checks();
    all_passed_ = evaluator_.all_passed();
    if (c.runs_added > 0) {
        for (std::size_t j = k - 1; j <= k; ++j) {
            const LayerLogZ& zj = model.log_z[j];
            std::snprintf(buf, sizeof buf,
                          "check: layer %zu log Z = %.4f [%.4f, %.4f] (ais, %zu runs, ESS %.0f)", j,
                          zj.log_z.value, zj.log_z.low, zj.log_z.high, zj.ais_runs, zj.ess);
            if (zj.ais_runs != runs_before[j - (k - 1)]) say(buf);
        }
        say("check: " + std::to_string(c.runs_added) + " AIS runs added for layers " +
            std::to_string(k - 1) + "->" + std::to_string(k) + ", stopped by the " +
            c.runs_stopped_by + " (checks.target_width, checks.time_budget)");
        if (k >= 2 && model.checks[k - 2].applicable &&
            model.log_z[k - 1].ais_runs != runs_before[0]) {
            const ConsistencyCheck& b = model.checks[k - 2];
            std::snprintf(buf, sizeof buf,
                          "check: layers %zu->%zu again, with layer %zu's added runs: D = %+.4f "
                          "[%+.4f, %+.4f]  %s",
                          b.lower, b.upper, b.upper, b.bound_change, b.bound_change_low,
                          b.bound_change_high, estimate::check_verdict(b));
            say(buf);
        }
    }
    if (!c.applicable) {
        say("check: layers " + std::to_string(k - 1) + "->" + std::to_string(k) +
            ": not applicable (" + c.note + ")");
        return;
    }
    std::snprintf(
        buf, sizeof buf,
        "check: layers %zu->%zu: dF = %+.4f  dlogZ = %+.4f  D = %+.4f [%+.4f, %+.4f]  %s%s",
        c.lower, c.upper, c.free_energy_gap, c.delta_log_z, c.bound_change, c.bound_change_low,
        c.bound_change_high, estimate::check_verdict(c),
        c.diagnostic ? " (diagnostic: hook between the layers)" : "");
    say(buf);
    if (c.diagnostic) return;
    const std::string upper = "layers[" + std::to_string(c.upper) + "]";
    if (!c.passed) {
        say("  to raise the bound: start " + upper +
            " as the layer below turned over (\"init\": \"turned_over\", as many hidden units "
            "as layer " +
            std::to_string(c.lower) +
            " has visible units, or more) and train it with \"guide\": \"bound\" and a small "
            "learning rate (docs/CONFIG.md); it then keeps the parameters whose D is largest");
    } else if (c.bound_change < 0.0 &&
               c.bound_change_high == std::numeric_limits<double>::infinity()) {
        say("  to conclude: more AIS runs (\"checks\": {\"ais_runs\": ...}, or a larger "
            "\"time_budget\"), or start " +
            upper +
            " as the layer below turned over (\"init\": \"turned_over\") and train it briefly "
            "at a small learning rate, so that its dlogZ comes from one parameter path "
            "(docs/CHECK.md, \"Reach\")");
    }
}

}  // namespace dbn
