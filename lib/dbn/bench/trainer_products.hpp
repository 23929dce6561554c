#pragma once
// TEMPORARY, private to the bench module (issue 9): a local copy of
// RbmTrainer::minibatch_products, which the trainer split (branch train-split) adds to
// lib/dbn/train/rbm_trainer.hpp with exactly this signature. After that merge, delete this file
// and trainer_products.cpp, and return &RbmTrainer::minibatch_products from
// bench::default_rbm_products() (measurements.cpp), its one user.

#include <cstddef>
#include <vector>

#include "dbn/core/blas.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn::bench::detail {

/// @brief The products one minibatch of RbmTrainer performs (temporary copy, see above).
std::vector<blas::GemmShape> minibatch_products(std::size_t n_visible, std::size_t n_hidden,
                                                const LayerTrainingConfig& config);

}  // namespace dbn::bench::detail
