#include "dbn/train/trainer_state.hpp"

#include <string>

#include "dbn/core/error.hpp"

namespace dbn {

void TrainerState::validate() const {
    const std::string where = "layer " + std::to_string(layer);
    config.validate(where);
    const std::size_t nv = rbm.n_visible();
    const std::size_t nh = rbm.n_hidden();
    DBN_CHECK(nv > 0 && nh > 0, ShapeError,
              "the training state of " << where << ": the RBM is empty");
    DBN_CHECK(
        updater.velocity.shape(0) == nv + 1 && updater.velocity.shape(1) == nh + 1, ShapeError,
        "the training state of " << where << ": the velocity is " << updater.velocity.shape(0)
                                 << "x" << updater.velocity.shape(1) << " (expected " << nv + 1
                                 << "x" << nh + 1 << " for a " << nv << "x" << nh << " RBM)");
    DBN_CHECK(updater.sparsity_estimate.size() == nh, ShapeError,
              "the training state of " << where << ": the sparsity estimate has "
                                       << updater.sparsity_estimate.size() << " entries (expected "
                                       << nh << ")");
    if (config.algorithm == Algorithm::pcd) {
        const std::size_t n =
            config.persistent_chains ? config.persistent_chains : config.batch_size;
        DBN_CHECK(chains.hidden.shape(0) == n && chains.hidden.shape(1) == nh, ShapeError,
                  "the training state of "
                      << where << ": the persistent chains are " << chains.hidden.shape(0) << "x"
                      << chains.hidden.shape(1) << " (expected " << n << "x" << nh << ")");
    } else {
        DBN_CHECK(chains.hidden.size() == 0 && !chains.started, ShapeError,
                  "the training state of " << where << ": " << to_string(config.algorithm)
                                           << " has no persistent chains (the state has "
                                           << chains.hidden.shape(0) << ")");
    }

    const std::size_t n = position.order.size();
    std::vector<bool> seen(n, false);
    for (std::size_t i : position.order) {
        DBN_CHECK(i < n && !seen[i], ShapeError,
                  "the training state of " << where << ": the row order is not a permutation of 0.."
                                           << n - 1 << " (row " << i << ")");
        seen[i] = true;
    }
    const std::size_t n_batches = (n + config.batch_size - 1) / config.batch_size;
    DBN_CHECK(position.minibatch <= n_batches, ShapeError,
              "the training state of " << where << ": minibatch " << position.minibatch
                                       << " of an epoch of " << n_batches << " minibatches");
    DBN_CHECK(history.size() <= position.epochs_done, ShapeError,
              "the training state of " << where << ": monitors of " << history.size()
                                       << " epochs after " << position.epochs_done << " epochs");

    const MonitorRows& m = monitor_rows;
    DBN_CHECK(m.flip_bits.size() == m.train.size() &&
                  (m.heldout.empty() || m.heldout.size() == m.train.size()),
              ShapeError,
              "the training state of " << where << ": " << m.train.size() << " monitor rows, "
                                       << m.heldout.size() << " held-out monitor rows and "
                                       << m.flip_bits.size() << " flipped bits");
    for (std::size_t bit : m.flip_bits)
        DBN_CHECK(bit < nv, ShapeError,
                  "the training state of " << where << ": the pseudo-likelihood flips bit " << bit
                                           << " of " << nv);
    for (const DivergenceEvent& e : divergence_events)
        DBN_CHECK(e.epoch >= 1 && e.epoch <= position.epochs_done + 1, ShapeError,
                  "the training state of " << where << ": a divergence event at epoch " << e.epoch
                                           << " after " << position.epochs_done << " epochs");
    if (guard_start) {
        const TrainerState& g = *guard_start;
        DBN_CHECK(!g.guard_start && g.position.minibatch == 0 && g.layer == layer &&
                      g.position.epochs_done <= position.epochs_done &&
                      g.divergence_events.size() <= divergence_events.size(),
                  ShapeError,
                  "the training state of "
                      << where
                      << ": the guard's last good state is not an earlier epoch end "
                         "of this layer");
        DBN_CHECK(g.rbm.n_visible() == nv && g.rbm.n_hidden() == nh &&
                      g.rbm.visible_type() == rbm.visible_type() &&
                      g.rbm.hidden_type() == rbm.hidden_type(),
                  ShapeError,
                  "the training state of " << where << ": the guard's last good state is of a "
                                           << g.rbm.n_visible() << "x" << g.rbm.n_hidden()
                                           << " RBM");
        g.validate();
    }
}

}  // namespace dbn
