#include "dbn/train/pcd_phase.hpp"

#include <cstring>

#include "dbn/core/error.hpp"
#include "dbn/core/parallel.hpp"

namespace dbn {

PcdPhase::PcdPhase(const Rbm& rbm, std::size_t k, std::size_t chains)
    : k_(k),
      hidden_(xt::zeros<Real>({chains, rbm.n_hidden()})),
      visible_(Matrix::from_shape({chains, rbm.n_visible()})),
      act_(Matrix::from_shape({chains, rbm.n_hidden()})) {}

void PcdPhase::run(const Rbm& rbm, TrainerWorkspace& ws, const MinibatchShape& s, std::size_t t,
                   std::size_t threads) {
    using W = TrainerWorkspace;
    const std::size_t nh = rbm.n_hidden();
    const auto [c0, c1] = split_range(W::k_chunks, threads, t);
    if (!started_) {
        // Chains start from the hidden states of the first minibatch's rows (cycled), which
        // other threads computed: wait for them.
        if (!ws.barrier()) return;
        for (std::size_t c = c0; c < c1; ++c) {
            for (std::size_t q = W::chunk_start(s.neg, c); q < W::chunk_start(s.neg, c + 1); ++q) {
                const float* p0 = ws.y.data() + (q % s.rows) * (nh + 1);
                Real* out = hidden_.data() + q * nh;
                if (rbm.hidden_units().binary())
                    ws.stream(s, c).bernoulli(p0, out, nh);
                else
                    std::memcpy(out, p0, nh * sizeof(Real));
            }
        }
    }
    gibbs_steps(rbm, ws, s, c0, c1, hidden_, visible_, act_, k_, true);
}

void PcdPhase::restore(const ChainState& chains) {
    DBN_CHECK(
        chains.hidden.shape(0) == hidden_.shape(0) && chains.hidden.shape(1) == hidden_.shape(1),
        ShapeError,
        "PcdPhase::restore: the state has " << chains.hidden.shape(0) << "x"
                                            << chains.hidden.shape(1) << " chains (expected "
                                            << hidden_.shape(0) << "x" << hidden_.shape(1) << ")");
    hidden_ = chains.hidden;
    started_ = chains.started;
}

}  // namespace dbn
