// TEMPORARY: see trainer_products.hpp (deleted when RbmTrainer::minibatch_products is merged).
#include "dbn/bench/trainer_products.hpp"

namespace dbn::bench::detail {

// What RbmTrainer::train_epoch() runs per minibatch of B rows with N negative rows (CD: B; PCD:
// the chains; exact: every visible state): the up product of the data, k down and k up products
// of the negative rows (exact: one up product of every state), and the fused statistics
// X Y, X = [v0 | -vk] with a row of ones ((n_v + 1) x (B + N)), Y = [p0 ; pk] with a column of
// ones ((B + N) x (n_h + 1)).
std::vector<blas::GemmShape> minibatch_products(std::size_t n_visible, std::size_t n_hidden,
                                                const LayerTrainingConfig& config) {
    const std::size_t b = config.batch_size;
    const int k = static_cast<int>(config.k);
    std::size_t neg = b;
    if (config.algorithm == Algorithm::pcd && config.persistent_chains > 0)
        neg = config.persistent_chains;
    if (config.algorithm == Algorithm::exact) neg = std::size_t{1} << n_visible;
    std::vector<blas::GemmShape> out;
    if (config.algorithm == Algorithm::exact) {
        out.push_back({"up", false, false, b, n_hidden, n_visible, 1});
        out.push_back({"negative up", false, false, neg, n_hidden, n_visible, 1});
    } else if (neg == b) {
        out.push_back({"up", false, false, b, n_hidden, n_visible, 1 + k});
        out.push_back({"down", false, true, b, n_visible, n_hidden, k});
    } else {
        out.push_back({"up", false, false, b, n_hidden, n_visible, 1});
        out.push_back({"negative up", false, false, neg, n_hidden, n_visible, k});
        out.push_back({"down", false, true, neg, n_visible, n_hidden, k});
    }
    out.push_back({"statistics", false, false, n_visible + 1, n_hidden + 1, b + neg, 1});
    return out;
}

}  // namespace dbn::bench::detail
