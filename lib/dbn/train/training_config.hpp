#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dbn/units/units.hpp"

namespace dbn {

/// @brief Negative-phase estimator.
///
/// - cd: contrastive divergence, the chain starts at the minibatch and runs k steps;
/// - pcd: persistent chains (Tieleman 2008), `persistent_chains` of them;
/// - exact: the model's expectations by enumerating every visible state (at most
///   `k_max_exact_visible` Bernoulli visible units): the true log-likelihood gradient, for tiny
///   models and for testing the estimators.
enum class Algorithm { cd, pcd, exact };

/// Largest visible layer the exact negative phase enumerates (2^16 states per minibatch).
inline constexpr std::size_t k_max_exact_visible = 16;
/// Most Gibbs steps per update (`k`): beyond it an update takes longer than any training run.
inline constexpr std::size_t k_max_gibbs_steps = 10000;
/// Most divergence events a layer may allow (`max_divergence_events`): each one halves the
/// learning rate, and 2^-50 of a rate is no rate at all.
inline constexpr std::size_t k_max_divergence_events = 50;

/// @brief Settings for training one RBM layer. Defaults follow Hinton's practical guide (2010).
struct LayerTrainingConfig {
    Algorithm algorithm = Algorithm::cd;
    std::size_t k = 1;                  ///< Gibbs steps per update
    std::size_t persistent_chains = 0;  ///< PCD chains; 0 = the batch size
    std::size_t epochs = 10;
    std::size_t batch_size = 100;
    double learning_rate = 0.1;
    double learning_rate_decay = 1.0;  ///< lr of epoch e (1-based) = lr * decay^(e-1)
    double initial_momentum = 0.5;
    double final_momentum = 0.9;
    std::size_t momentum_switch_epoch = 5;  ///< epochs run with the initial momentum
    double weight_decay = 0.0002;           ///< L2 on weights only
    double l1 = 0.0;                        ///< L1 on weights only
    double sparsity_target = 0.0;           ///< 0 = off; else target mean hidden activation
    double sparsity_cost = 0.0;
    double sparsity_decay = 0.9;         ///< running mean of the hidden activations
    double init_stddev = 0.01;           ///< weights from N(0, init_stddev^2)
    bool sample_up = false;              ///< feed binary samples (not probabilities) upward
    std::size_t monitor_samples = 1000;  ///< rows used by the per-epoch monitors
    /// Divergence guard of pretraining (docs/CONFIG.md#divergence-guard): the event that stops
    /// the layer; 0 = off. GreedyTrainer turns RbmTrainer's guard on with it (RbmTrainer alone
    /// takes its guard from set_divergence_guard).
    std::size_t max_divergence_events = 3;

    /// @brief Throws ConfigError naming `where` and the setting when a value makes no sense.
    void validate(const std::string& where) const;
};

const char* to_string(Algorithm a);
/// @throws ConfigError naming `where` for an unknown name.
Algorithm parse_algorithm(const std::string& name, const std::string& where);

}  // namespace dbn
