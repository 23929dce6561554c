#include "dbn/train/negative_phase.hpp"

#include "dbn/core/error.hpp"
#include "dbn/core/parallel.hpp"
#include "dbn/train/cd_k_phase.hpp"
#include "dbn/train/exact_phase.hpp"
#include "dbn/train/pcd_phase.hpp"

namespace dbn {

std::unique_ptr<NegativePhase> NegativePhase::create(const Rbm& rbm,
                                                     const LayerTrainingConfig& config,
                                                     std::size_t layer) {
    switch (config.algorithm) {
        case Algorithm::cd:
            return std::make_unique<CdKPhase>(rbm, config.k, config.batch_size);
        case Algorithm::pcd:
            return std::make_unique<PcdPhase>(
                rbm, config.k, negative_rows(config, rbm.n_visible(), config.batch_size));
        case Algorithm::exact:
            return std::make_unique<ExactPhase>(rbm, layer);
    }
    DBN_CHECK(false, ConfigError, "NegativePhase: layer " << layer << ": unknown algorithm");
    return nullptr;
}

std::size_t NegativePhase::negative_rows(const LayerTrainingConfig& config, std::size_t n_visible,
                                         std::size_t rows) {
    switch (config.algorithm) {
        case Algorithm::pcd:
            return config.persistent_chains ? config.persistent_chains : config.batch_size;
        case Algorithm::exact:
            return std::size_t{1} << n_visible;
        case Algorithm::cd:
            break;
    }
    return rows;
}

std::vector<blas::GemmShape> NegativePhase::products(const LayerTrainingConfig& config,
                                                     std::size_t n_visible, std::size_t n_hidden,
                                                     std::size_t rows) {
    const std::size_t neg = negative_rows(config, n_visible, rows);
    if (config.algorithm == Algorithm::exact)  // one up of every visible state
        return {{"up (every visible state)", false, false, neg, n_hidden, n_visible, 1}};
    // k steps, each a down (h W^T) and an up (v W) of the chains.
    const int k = static_cast<int>(config.k);
    return {{"down (negative)", false, true, neg, n_visible, n_hidden, k},
            {"up (negative)", false, false, neg, n_hidden, n_visible, k}};
}

void NegativePhase::restore(const ChainState& chains) {
    DBN_CHECK(chains.hidden.size() == 0 && !chains.started, ShapeError,
              "NegativePhase::restore: this algorithm has no persistent chains (the state has "
                  << chains.hidden.shape(0) << ")");
}

void NegativePhase::sample_hidden_rows(const Rbm& rbm, ConstRows act, Rows out, Rng& rng) {
    if (rbm.hidden_units().binary()) {
        rng.bernoulli(act.data, out.data, act.rows * act.cols);
    } else {
        rbm.sample_hidden(act, act, out, rng);
    }
}

void NegativePhase::gibbs_steps(const Rbm& rbm, TrainerWorkspace& ws, const MinibatchShape& s,
                                std::size_t c0, std::size_t c1, Matrix& hidden, Matrix& visible,
                                Matrix& act, std::size_t k, bool persistent) {
    using W = TrainerWorkspace;
    const std::size_t q0 = W::chunk_start(s.neg, c0);
    const std::size_t q1 = W::chunk_start(s.neg, c1);
    if (q0 == q1) return;
    const std::size_t nq = q1 - q0;
    Rows h = Rows(hidden).block(q0, nq);
    Rows vk = Rows(visible).block(q0, nq);
    Rows actk = Rows(act).block(q0, nq);
    for (std::size_t step = 1; step <= k; ++step) {
        rbm.visible_mean(h, vk);
        if (persistent || step < k) {
            for (std::size_t c = c0; c < c1; ++c) {
                const std::size_t a = W::chunk_start(s.neg, c);
                Rows m = Rows(visible).block(a, W::chunk_start(s.neg, c + 1) - a);
                rbm.sample_visible(m, m, ws.stream(s, c));
            }
        }
        ws.up_into_y(rbm, vk, s.rows + q0, actk);  // Y's negative rows follow the data's
        if (persistent || step < k) {
            for (std::size_t c = c0; c < c1; ++c) {
                const std::size_t a = W::chunk_start(s.neg, c);
                const std::size_t n = W::chunk_start(s.neg, c + 1) - a;
                sample_hidden_rows(rbm, ConstRows(act).block(a, n), Rows(hidden).block(a, n),
                                   ws.stream(s, c));
            }
        }
    }
    // CD's mean reconstruction (or PCD's sampled states) become X's negative columns, scaled so
    // that lr / rows X Y subtracts lr / neg times their statistics.
    const float factor =
        -static_cast<float>(static_cast<double>(s.rows) / static_cast<double>(s.neg));
    ws.to_columns(vk, factor, s.ld, s.rows + q0);
}

}  // namespace dbn
