#include "dbn/pretrain/pretrain_checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "dbn/estimate/consistency.hpp"

namespace dbn {

using namespace estimate;

PretrainChecks::PretrainChecks(CheckConfig config, TrainingObserver* observer)
    : config_(std::move(config)), observer_(observer), rng_(config_.seed) {}

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
    const std::size_t n = config_.max_rows > 0 ? std::min(config_.max_rows, check_raw.shape(0))
                                               : check_raw.shape(0);
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

    LogZOptions opt;
    opt.method = parse_log_z_method(config_.log_z, "checks.log_z");
    opt.exact_max_units = config_.exact_max_units;
    opt.ais.runs = config_.ais_runs;
    opt.ais.steps = parse_ais_steps(config_.ais_steps);
    opt.ais.seed = config_.seed + k;
    const LayerLogZ z = layer_log_partition(stack, k, input, opt);
    input = Matrix::from_shape({0, 0});  // not needed by the check below
    model.log_z.resize(k);
    model.log_z.push_back(z);
    char buf[320];
    if (z.available) {
        const std::string how = z.method == "ais" ? "ais, " + std::to_string(z.ais_runs) + " runs x " +
                                                        std::to_string(z.ais_steps) + " steps"
                                                  : z.method;
        std::snprintf(buf, sizeof buf, "check: layer %zu log Z = %.4f [%.4f, %.4f] (%s, %.1fs)", k,
                      z.log_z.value, z.log_z.low, z.log_z.high, how.c_str(), z.seconds);
        say(buf);
    } else {
        say("check: layer " + std::to_string(k) + ": no log Z (" + z.note + ")");
    }
    if (k == 0) return;

    ConsistencyCheck c;
    if (model.log_z[k - 1].available && z.available) {
        // `below` goes: freed once the check has drawn its samples from it.
        c = consistency_check(stack, k - 1, std::move(below), model.log_z[k - 1], z, rng_);
    } else {
        c.lower = k - 1;
        c.upper = k;
        c.note = "defined for Bernoulli hidden units only (relu units have no closed-form free energy)";
    }
    model.checks.resize(k - 1);
    model.checks.push_back(c);
    if (!c.applicable) {
        say("check: layers " + std::to_string(k - 1) + "->" + std::to_string(k) + ": not applicable (" +
            c.note + ")");
        return;
    }
    if (!c.passed) all_passed_ = false;
    std::snprintf(buf, sizeof buf,
                  "check: layers %zu->%zu: dF = %+.4f  dlogZ = %+.4f  D = %+.4f [%+.4f, %+.4f]  %s%s",
                  c.lower, c.upper, c.free_energy_gap, c.delta_log_z, c.bound_change,
                  c.bound_change_low, c.bound_change_high,
                  check_verdict(c),
                  c.diagnostic ? " (diagnostic: hook between the layers)" : "");
    say(buf);
}

}  // namespace dbn
