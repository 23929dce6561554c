#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "dbn/core/types.hpp"
#include "dbn/data/preprocess.hpp"
#include "dbn/hooks/layer_hook.hpp"
#include "dbn/rbm/rbm.hpp"

namespace dbn {

/// @brief A deep belief network: a stack of RBMs, layer k+1's visible units being layer k's
/// hidden units, with the preprocessing that feeds layer 0 and the hooks between the layers.
///
/// The stack only: what training recorded, the checks and the fine-tuned head belong to the
/// model file (dbn/model/model_file.hpp), which holds a Dbn. A model read from a file that holds
/// only the binding arrays has an identity preprocessing and no hooks; it is used as it is.
class Dbn {
public:
    std::vector<Rbm> layers;
    data::Preprocessing preprocessing;
    /// hooks[k] sits between layer k and layer k+1 (null: none); empty, or n_layers - 1 entries.
    std::vector<std::shared_ptr<LayerHook>> hooks;

    std::size_t n_layers() const { return layers.size(); }
    std::size_t n_visible() const { return layers.empty() ? 0 : layers.front().n_visible(); }

    /// @brief The hook between layer k and k+1, or null.
    const LayerHook* hook_after(std::size_t k) const {
        return k < hooks.size() ? hooks[k].get() : nullptr;
    }

    /// @brief Checks that adjacent layers fit (hidden size of k = visible size of k+1).
    /// @throws ShapeError naming the layers that do not fit; ConfigError for an empty stack.
    void validate() const;

    /// @brief Raw data with the preprocessing applied: the input of layer 0.
    /// @throws ShapeError when the column count is not the model's n_visible().
    Matrix preprocess(const Matrix& raw) const;

    /// @brief Mean-field hidden values of layer k for its input x, followed by hook k when
    /// `with_hook` (and there is one): the input of layer k+1.
    Matrix propagate(std::size_t k, const Matrix& x, bool with_hook) const;

    /// @brief Mean-field representation of raw data after layer `upto` (inclusive), with the
    /// preprocessing applied first: data -> layer 0 -> hook 0 -> layer 1 -> ... -> layer upto.
    Matrix transform(const Matrix& raw, std::size_t upto) const;
};

}  // namespace dbn
