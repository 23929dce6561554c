#pragma once

#include <cstddef>

#include "dbn/train/negative_phase.hpp"

namespace dbn {

/// @brief Contrastive divergence (CD-k): each minibatch's chains start at its data and run k
/// Gibbs steps. The hidden states that drive the chain are sampled; the last visible
/// reconstruction is its mean (Hinton 2010, section 3), and the last hidden values are the
/// means p(h | v_k) (docs/MATH.md#training).
class CdKPhase final : public NegativePhase {
public:
    /// @param batch_size rows of a full minibatch (the buffers are sized for it).
    CdKPhase(const Rbm& rbm, std::size_t k, std::size_t batch_size);

    void run(const Rbm& rbm, TrainerWorkspace& ws, const MinibatchShape& s, std::size_t t,
             std::size_t threads) override;

private:
    std::size_t k_;
    Matrix hidden_;   ///< [batch, n_hidden]: sampled hidden states
    Matrix visible_;  ///< [batch, n_visible]: the chain's visible rows
    Matrix act_;      ///< [batch, n_hidden]: what up_into_y leaves for sampling
};

}  // namespace dbn
