#pragma once

#include <cstddef>
#include <vector>

#include "dbn/train/negative_phase.hpp"

namespace dbn {

/// @brief The exact negative phase: the model's expectations by enumerating every visible
/// state v with its probability p(v) (docs/MATH.md#training), for tiny Bernoulli RBMs (at most
/// k_max_exact_visible visible units) and for testing the sampled estimators. The step is then
/// the true log-likelihood gradient.
///
/// Owns the enumeration (every visible state once, made at construction) and the weights p(v),
/// recomputed every minibatch from the current parameters. Runs on one thread.
class ExactPhase final : public NegativePhase {
public:
    /// @throws ConfigError naming `layer` for other units or more visible units.
    ExactPhase(const Rbm& rbm, std::size_t layer);

    void run(const Rbm& rbm, TrainerWorkspace& ws, const MinibatchShape& s, std::size_t t,
             std::size_t threads) override;
    bool splits_across_threads() const override { return false; }

private:
    Matrix states_;               ///< [2^n_visible, n_visible]: state r has bit i = (r >> i) & 1
    Matrix act_;                  ///< [2^n_visible, n_hidden]: their hidden activations
    std::vector<double> weight_;  ///< p(v) of every state, this minibatch
};

}  // namespace dbn
