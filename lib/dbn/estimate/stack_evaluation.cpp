#include "dbn/estimate/stack_evaluation.hpp"

#include <algorithm>
#include <utility>

#include "dbn/core/error.hpp"

namespace dbn::estimate {

StackEvaluator::StackEvaluator(StackEvaluationOptions options) : options_(std::move(options)) {}

const LayerLogZ& StackEvaluator::add_log_z(const Dbn& stack, std::size_t k, ConstRows input_k) {
    LogZOptions opt = options_.log_z;
    if (options_.seed_per_layer) opt.ais.seed += k;
    LayerLogZ z = layer_log_partition(stack, k, input_k, opt);
    log_z_.resize(k);
    checks_.resize(std::min(checks_.size(), k > 0 ? k - 1 : 0));
    log_z_.push_back(std::move(z));
    return log_z_.back();
}

std::optional<DeltaLogZ> StackEvaluator::delta_log_z(const Dbn& /*stack*/, std::size_t k) const {
    DBN_CHECK(k + 1 < log_z_.size(), ConfigError,
              "StackEvaluator: the check between layers " << k << " and " << k + 1
                                                          << " needs the log Z of both");
    switch (options_.delta_log_z) {
        case DeltaLogZMethod::independent:
            if (!log_z_[k].available || !log_z_[k + 1].available) return std::nullopt;
            return estimate::delta_log_z(log_z_[k], log_z_[k + 1]);
    }
    return std::nullopt;
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
