#include "dbn/train/training_config.hpp"

#include <cmath>

#include "dbn/core/error.hpp"

namespace dbn {

const char* to_string(Algorithm a) {
    switch (a) {
        case Algorithm::cd:
            return "cd";
        case Algorithm::pcd:
            return "pcd";
        case Algorithm::exact:
            return "exact";
    }
    return "unknown";
}

Algorithm parse_algorithm(const std::string& name, const std::string& where) {
    if (name == "cd") return Algorithm::cd;
    if (name == "pcd") return Algorithm::pcd;
    if (name == "exact") return Algorithm::exact;
    DBN_CHECK(false, ConfigError,
              where << ": unknown algorithm " << quote_input(name)
                    << " (expected \"cd\", \"pcd\" or \"exact\")");
    return Algorithm::cd;
}

void LayerTrainingConfig::validate(const std::string& where) const {
    auto finite_nonneg = [](double x) { return std::isfinite(x) && x >= 0.0; };
    DBN_CHECK(k >= 1 && k <= k_max_gibbs_steps, ConfigError,
              where << ": k must be in [1, " << k_max_gibbs_steps << "] (got " << k << ")");
    DBN_CHECK(epochs >= 1, ConfigError,
              where << ": epochs must be at least 1 (got " << epochs << ")");
    DBN_CHECK(batch_size >= 1, ConfigError,
              where << ": batch_size must be at least 1 (got " << batch_size << ")");
    DBN_CHECK(std::isfinite(learning_rate) && learning_rate > 0.0, ConfigError,
              where << ": learning_rate must be a positive number (got " << learning_rate << ")");
    DBN_CHECK(
        std::isfinite(learning_rate_decay) && learning_rate_decay > 0.0 &&
            learning_rate_decay <= 1.0,
        ConfigError,
        where << ": learning_rate_decay must be in (0, 1] (got " << learning_rate_decay << ")");
    DBN_CHECK(finite_nonneg(initial_momentum) && initial_momentum < 1.0, ConfigError,
              where << ": initial_momentum must be in [0, 1) (got " << initial_momentum << ")");
    DBN_CHECK(finite_nonneg(final_momentum) && final_momentum < 1.0, ConfigError,
              where << ": final_momentum must be in [0, 1) (got " << final_momentum << ")");
    DBN_CHECK(finite_nonneg(weight_decay), ConfigError,
              where << ": weight_decay must be >= 0 (got " << weight_decay << ")");
    DBN_CHECK(finite_nonneg(l1), ConfigError, where << ": l1 must be >= 0 (got " << l1 << ")");
    DBN_CHECK(finite_nonneg(sparsity_target) && sparsity_target < 1.0, ConfigError,
              where << ": sparsity_target must be in [0, 1) (got " << sparsity_target << ")");
    DBN_CHECK(finite_nonneg(sparsity_cost), ConfigError,
              where << ": sparsity_cost must be >= 0 (got " << sparsity_cost << ")");
    DBN_CHECK(finite_nonneg(sparsity_decay) && sparsity_decay < 1.0, ConfigError,
              where << ": sparsity_decay must be in [0, 1) (got " << sparsity_decay << ")");
    DBN_CHECK(std::isfinite(init_stddev) && init_stddev > 0.0, ConfigError,
              where << ": init_stddev must be positive (got " << init_stddev << ")");
    DBN_CHECK(monitor_samples >= 1, ConfigError,
              where << ": monitor_samples must be at least 1 (got " << monitor_samples << ")");
    DBN_CHECK(max_divergence_events <= k_max_divergence_events, ConfigError,
              where << ": max_divergence_events must be in [0, " << k_max_divergence_events
                    << "] (0: the guard is off; got " << max_divergence_events << ")");
}

}  // namespace dbn
