#include "dbn/pretrain/pretrain_checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
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
    return opt;
}

PretrainChecks::PretrainChecks(CheckConfig config, TrainingObserver* observer)
    : config_(std::move(config)),
      observer_(observer),
      rng_(config_.seed),
      evaluator_(evaluation_options(config_)) {}

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

    // The check set's input to layer k: through the layers below (and their hooks). On the way
    // up, layer k-1's input is kept for the check between the two (one pass, not two).
    Matrix input = stack.preprocess(rows);
    Matrix below = Matrix::from_shape({0, 0});
    for (std::size_t l = 0; l < k; ++l) {
        Matrix next = stack.propagate(l, input, true);
        if (l + 1 == k) below = std::move(input);
        input = std::move(next);
    }

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

    // `below` goes: freed once the check has drawn its samples from it.
    const ConsistencyCheck c = evaluator_.add_check(stack, k - 1, std::move(below), rng_);
    model.checks = evaluator_.checks();
    if (!c.applicable) {
        say("check: layers " + std::to_string(k - 1) + "->" + std::to_string(k) +
            ": not applicable (" + c.note + ")");
        return;
    }
    if (!c.passed) all_passed_ = false;
    std::snprintf(
        buf, sizeof buf,
        "check: layers %zu->%zu: dF = %+.4f  dlogZ = %+.4f  D = %+.4f [%+.4f, %+.4f]  %s%s",
        c.lower, c.upper, c.free_energy_gap, c.delta_log_z, c.bound_change, c.bound_change_low,
        c.bound_change_high, estimate::check_verdict(c),
        c.diagnostic ? " (diagnostic: hook between the layers)" : "");
    say(buf);
}

}  // namespace dbn
