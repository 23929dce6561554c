#include "dbn/train/cd_k_phase.hpp"

#include "dbn/core/parallel.hpp"

namespace dbn {

CdKPhase::CdKPhase(const Rbm& rbm, std::size_t k, std::size_t batch_size)
    : k_(k),
      hidden_(Matrix::from_shape({batch_size, rbm.n_hidden()})),
      visible_(Matrix::from_shape({batch_size, rbm.n_visible()})),
      act_(Matrix::from_shape({batch_size, rbm.n_hidden()})) {}

void CdKPhase::run(const Rbm& rbm, TrainerWorkspace& ws, const MinibatchShape& s, std::size_t t,
                   std::size_t threads) {
    using W = TrainerWorkspace;
    const auto [c0, c1] = split_range(W::k_chunks, threads, t);
    // h0 sampled from this thread's own rows of the positive phase: no need to wait.
    for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t a = W::chunk_start(s.rows, c);
        const std::size_t n = W::chunk_start(s.rows, c + 1) - a;
        sample_hidden_rows(rbm, ConstRows(ws.act0).block(a, n), Rows(hidden_).block(a, n),
                           ws.stream(s, c));
    }
    gibbs_steps(rbm, ws, s, c0, c1, hidden_, visible_, act_, k_, false);
}

}  // namespace dbn
