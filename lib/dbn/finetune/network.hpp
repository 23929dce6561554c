#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "dbn/core/blas.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/finetune/dense_layer.hpp"
#include "dbn/finetune/fine_tune_config.hpp"
#include "dbn/finetune/fine_tune_state.hpp"
#include "dbn/hooks/layer_hook.hpp"

namespace dbn {
class ThreadPool;  // dbn/core/parallel.hpp
}  // namespace dbn

namespace dbn::finetune {

/// @brief A feed-forward network of dense layers with fixed hooks between them: the form a DBN
/// takes for fine-tuning by backpropagation.
///
///   a_0 = x,  z_i = a_i W_i + b_i,  y_i = f_i(z_i),  a_{i+1} = hook_i(y_i) (or y_i)
///
/// Hooks are kept as they were fitted in pretraining (they are not trained); gradients pass
/// through them with LayerHook::backward. The objective of a batch of B rows is
///
///   J = (1/B) sum_n loss(y_L(x_n), t_n) + (weight_decay / 2) sum_i ||W_i||^2
///
/// with loss the cross-entropy (softmax: -sum_j t_j log y_j; sigmoid: the binary one per unit)
/// or half the squared error.
class Network {
public:
    std::vector<DenseLayer> layers;
    /// hooks[i] transforms layers[i]'s output before it feeds layers[i+1] (null: none); empty,
    /// or one entry per layer (the last must be null).
    std::vector<std::shared_ptr<const LayerHook>> hooks;
    LossKind loss = LossKind::cross_entropy;
    double weight_decay = 0.0;
    /// Dropout in training (Hinton et al. 2012, Srivastava et al. 2014): the probability of
    /// zeroing each input of layers 1.. (hidden values, after their hook) and of the data.
    /// Kept values are scaled by 1/(1 - p) ("inverted" dropout), so the trained weights are
    /// used as they are at inference, where nothing is dropped.
    double dropout = 0.0;
    double input_dropout = 0.0;

    std::size_t n_layers() const { return layers.size(); }
    std::size_t n_inputs() const { return layers.empty() ? 0 : layers.front().n_in(); }
    std::size_t n_outputs() const { return layers.empty() ? 0 : layers.back().n_out(); }
    const LayerHook* hook_after(std::size_t i) const {
        return i < hooks.size() ? hooks[i].get() : nullptr;
    }
    /// @brief Number of trainable values (weights and biases).
    std::size_t n_parameters() const;

    /// @brief Checks shapes, that softmax appears only at the output, and that the loss fits
    /// the output (cross-entropy needs a softmax or sigmoid output; squared error no softmax).
    /// @throws ShapeError or ConfigError naming the layer.
    void validate() const;

    /// @brief The matrix products forward() runs on `rows` rows: "L<i+1> forward", the input
    /// of layer i times its weights (m = rows, n = n_out, k = n_in), for every layer in order.
    std::vector<blas::GemmShape> forward_products(std::size_t rows) const;
    /// @brief The matrix products one train_step() (or loss_and_gradient()) runs on a
    /// minibatch of `rows` rows, grouped by layer from the bottom: its forward product, its
    /// "weight gradient" X_i^T delta_i (A transposed: m = n_in, n = n_out, k = rows) and, for
    /// every layer but the lowest, its "input gradient" delta_i W_i^T (B transposed: m = rows,
    /// n = n_in, k = n_out). With `head_only`, the gradient products of the last layer only.
    std::vector<blas::GemmShape> training_products(std::size_t rows, bool head_only = false) const;
};

/// @brief Buffers for forward and backward passes of up to `max_rows` rows, allocated once, so
/// that a training loop allocates nothing per minibatch; and the threads that run the passes.
///
/// With more than one thread, a pass splits its work across a team of its own: the rows of the
/// batch in the forward pass and the input gradients, the rows of each weight gradient, the
/// columns of each bias gradient, and the parameters in ParameterUpdater::step. Each thread
/// calls single-threaded OpenBLAS products meanwhile (OpenBLAS's count is restored after the
/// pass), which on the small products of a minibatch is faster than OpenBLAS's own threads.
/// Every value is computed by the same formula whatever the split and sums keep their order, so
/// the thread count changes results by float rounding at most (OpenBLAS's kernels and the
/// vectorized sigmoid may round the last bit differently where a block of rows ends); one
/// thread count always gives the same results.
class Workspace {
public:
    /// @param threads team size; 0 takes OpenBLAS's thread count. Fewer are used when max_rows
    ///        is small (at least k_min_rows_per_thread rows each).
    Workspace(const Network& net, std::size_t max_rows, std::size_t threads = 0);
    ~Workspace();
    Workspace(Workspace&&) noexcept;
    Workspace& operator=(Workspace&&) noexcept;

    static constexpr std::size_t k_min_rows_per_thread = 16;

    std::size_t max_rows() const { return max_rows_; }
    /// @brief Threads a pass uses (1: the calling thread alone, with OpenBLAS's threads).
    std::size_t threads() const { return threads_; }
    /// @brief Calls fn(t) for t = 0 .. threads()-1, t = 0 on the calling thread, OpenBLAS
    /// single-threaded meanwhile when threads() > 1; rethrows the first exception.
    void run(const std::function<void(std::size_t)>& fn) const;
    /// @brief Inside run(): waits for every thread; false when the run is being abandoned.
    bool barrier() const;

    /// out[i]: y_i = f_i(z_i) of layer i.
    std::vector<Matrix> out;
    /// hooked[i]: hook_i(y_i), the input of layer i+1 (0 x 0 where there is no hook).
    std::vector<Matrix> hooked;
    /// The output layer's z before its activation (for a stable cross-entropy).
    Matrix z_last;
    /// delta[i]: dJ/dz_i.
    std::vector<Matrix> delta;
    /// dJ/d(hook output), before the hook's backward pass.
    Matrix grad_hooked;
    /// Gradient of J with respect to each layer's weights and bias.
    std::vector<Matrix> grad_weights;
    std::vector<Vector> grad_bias;
    /// Dropout (when the network has it): mask[i] scales the input of layer i+1 (0 or
    /// 1/(1-p)), dropped[i] is that input after the mask; mask_x and dropped_x for the data.
    std::vector<Matrix> mask;
    std::vector<Matrix> dropped;
    Matrix mask_x;
    Matrix dropped_x;
    /// Data loss of each row of the last loss_and_gradient(), summed in row order.
    std::vector<double> row_loss;
    /// Sum of squares of each row of each layer's weights (the L2 penalty), summed in order.
    std::vector<std::vector<double>> weight_squares;

private:
    std::size_t max_rows_;
    std::size_t threads_ = 1;
    std::unique_ptr<ThreadPool> pool_;
};

/// @brief Loss of one batch: `loss` the mean data loss per row, `objective` adds the penalty.
struct BatchLoss {
    double loss = 0.0;
    double objective = 0.0;
};

/// @brief Forward pass of `x` (rows <= ws.max_rows()); returns the view of the output rows.
/// With `dropout_rng`, the network's dropout is applied, masks drawn from it (training);
/// without, nothing is dropped (inference).
/// @throws ShapeError when x has the wrong width or too many rows.
ConstRows forward(const Network& net, ConstRows x, Workspace& ws, Rng* dropout_rng = nullptr);

/// @brief Forward pass, the batch's loss, and the gradient of J into ws.grad_weights/grad_bias.
/// `target` has one row per row of x: one-hot rows for a softmax output, the desired outputs
/// otherwise. With `head_only`, only the last layer's gradient is computed (the others are
/// left as they were).
/// @throws ShapeError for shapes that do not fit.
BatchLoss loss_and_gradient(const Network& net, ConstRows x, ConstRows target, Workspace& ws,
                            bool head_only = false, Rng* dropout_rng = nullptr);

class ParameterUpdater;

/// @brief loss_and_gradient() and then updater.step(net, ws, lr, head_only), in one pass of
/// ws's threads: each layer's parameters are updated as soon as the layers below no longer
/// need them, while their gradient is still in cache. The gradient is left in ws as
/// loss_and_gradient() leaves it, and the parameters end as after the two calls. The parameters
/// change even when the returned loss is not finite.
/// @throws ShapeError for shapes that do not fit (before anything changes).
BatchLoss train_step(Network& net, ConstRows x, ConstRows target, Workspace& ws,
                     ParameterUpdater& updater, double lr, bool head_only = false,
                     Rng* dropout_rng = nullptr);

/// @brief Data loss of the output rows against the targets, summed over the rows, in double.
/// `z` holds the output layer's pre-activations (ws.z_last).
double batch_loss_sum(const Network& net, ConstRows z, ConstRows y, ConstRows target);

/// @brief Updates the parameters of a network from the gradients in a Workspace: SGD with
/// momentum or Adam. Holds the optimizer state, allocated once.
class ParameterUpdater {
public:
    ParameterUpdater(const Network& net, const FineTuneConfig& config);
    /// @brief One step with learning rate `lr`; with `head_only`, only the last layer moves.
    /// The parameters are split across ws's threads (each value is updated the same way).
    void step(Network& net, const Workspace& ws, double lr, bool head_only = false);
    std::size_t n_layers() const { return m_weights_.size(); }
    /// @brief A copy of the optimizer's state (steps, moments), for a checkpoint.
    OptimizerState state() const;
    /// @brief Continues from `s` (taken by state() of an updater of the same network and
    /// optimizer).
    /// @throws ShapeError naming the array that does not fit.
    void restore(const OptimizerState& s);

private:
    friend class StepAccess;  // train_step(), in network.cpp
    /// Counts the step and sets Adam's bias corrections.
    void begin_step(const Network& net);
    /// Updates weights [w_first, w_last) (flat) and biases [b_first, b_last) of layer i.
    void update_part(Network& net, const Workspace& ws, std::size_t i, std::size_t w_first,
                     std::size_t w_last, std::size_t b_first, std::size_t b_last, double lr);
    void update(Real* w, const Real* g, Real* m, Real* v, std::size_t n, double lr) const;

    OptimizerKind kind_;
    double momentum_, beta1_, beta2_, epsilon_;
    std::size_t t_ = 0;
    double correction1_ = 1.0, correction2_ = 1.0;
    std::vector<Matrix> m_weights_, v_weights_;
    std::vector<Vector> m_bias_, v_bias_;
};

}  // namespace dbn::finetune
