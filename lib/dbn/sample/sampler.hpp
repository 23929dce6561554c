#pragma once

// Samples of a DBN's generative model: Gibbs sampling in the top RBM, then down through the
// lower layers by their mean-field p(v|h) to the visible units (docs/FORMAT.md, "Sample files").

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/rbm/rbm.hpp"

namespace dbn::sample {

struct SampleOptions {
    std::size_t count = 1;  ///< independent chains, one sample each
    std::size_t steps = 1;  ///< Gibbs steps v -> h -> v in the top RBM
    std::uint64_t seed = 0;
};

struct Samples {
    /// Means of the visible units, [count, n_visible], after the inverse preprocessing
    /// (invert_preprocessing).
    Matrix means = Matrix::from_shape({0, 0});
    /// Binary states drawn from the bottom layer's p(v|h) (Bernoulli visible units only;
    /// [0, 0] otherwise), in the model's own units (before any inverse preprocessing).
    Matrix binary = Matrix::from_shape({0, 0});
    bool has_binary() const { return binary.shape(0) > 0; }
};

/// @brief Runs `steps` Gibbs steps (h ~ p(h|v), v ~ p(v|h)) from the visible states `v` of
/// `rbm`, one chain per row, in place.
void gibbs_steps(const Rbm& rbm, Matrix& v, std::size_t steps, Rng& rng);

/// @brief Random start states of the top RBM's visible units: Bernoulli(1/2) or N(0, 1).
Matrix random_start(const Rbm& rbm, std::size_t count, Rng& rng);

/// @brief The input of the top RBM for raw data rows: the preprocessing, then layers
/// 0..K-2 mean-field with their hooks (the start states of `--from`).
Matrix top_input(const Dbn& model, const Matrix& raw);

/// @brief Samples of `model`: `options.count` chains in the top RBM, started from `start`
/// (rows of the top RBM's visible units, used in turn) or, when `start` is null, from
/// random_start; after `options.steps` steps the top RBM's visible states go down through
/// layers K-2..0 by mean-field p(v|h). Hooks are not inverted (they are skipped on the way
/// down). Deterministic for a given seed.
/// @throws ShapeError when `start` has the wrong column count or no rows.
Samples sample_model(const Dbn& model, const SampleOptions& options, const Matrix* start = nullptr);

/// @brief The states of each chain over time, for pictures of its progress (docs/CLI.md,
/// "dbn sample --chain"): the chains of sample_model (same seed, same start, same draws),
/// looked at after each of `at_steps` steps (increasing; 0 is the start state). A look is
/// the chain's visible state taken down to the visible units without drawing anything: for a
/// single RBM its visible states themselves, for a stack the top RBM's visible states through
/// layers K-2..0 by mean-field p(v|h); then the preprocessing is undone as for sample_model.
/// Result: one [count, n_visible] matrix per entry of `at_steps`.
/// @throws ShapeError as sample_model; ConfigError when `at_steps` is empty or not increasing.
std::vector<Matrix> sample_chain_frames(const Dbn& model, const SampleOptions& options,
                                        const std::vector<std::size_t>& at_steps,
                                        const Matrix* start = nullptr);

/// @brief Undoes the preprocessing on visible means where it is invertible: standardization
/// (x * stddev + mean), then scaling (x * scale). A binarizing preprocessing is not
/// invertible: the means are then left as they are (probabilities of a 1 after binarizing).
void invert_preprocessing(const data::Preprocessing& pre, Matrix& x);

}  // namespace dbn::sample
