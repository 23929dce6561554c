#pragma once

#include <cstddef>

#include "dbn/train/negative_phase.hpp"

namespace dbn {

/// @brief Persistent contrastive divergence (PCD-k, Tieleman 2008): chains that live across
/// minibatches run k Gibbs steps each minibatch. A persistent chain samples its visible states
/// as well, so that it remains a Markov chain of the model. The chains' next hidden states are
/// drawn with the weights they were computed with (as scikit-learn does): PCD then costs the
/// same products as CD (docs/MATH.md#training).
///
/// Owns the chains: they start from the hidden states of the first minibatch's rows (cycled
/// when there are more chains than rows).
class PcdPhase final : public NegativePhase {
public:
    /// @param chains number of persistent chains.
    PcdPhase(const Rbm& rbm, std::size_t k, std::size_t chains);

    void run(const Rbm& rbm, TrainerWorkspace& ws, const MinibatchShape& s, std::size_t t,
             std::size_t threads) override;
    void minibatch_done() override { started_ = true; }

    ChainState chains() const override { return {hidden_, started_}; }
    void restore(const ChainState& chains) override;

private:
    std::size_t k_;
    Matrix hidden_;  ///< [chains, n_hidden]: the chains' hidden states
    bool started_ = false;
    Matrix visible_;  ///< [chains, n_visible]
    Matrix act_;      ///< [chains, n_hidden]
};

}  // namespace dbn
