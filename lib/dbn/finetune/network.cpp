#include "dbn/finetune/network.hpp"

#include <algorithm>
#include <cmath>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"

namespace dbn {
namespace {

/// @brief Rows r of every row of `m` filled with `bias`.
void fill_bias(Rows m, const Vector& bias) {
    const Real* b = bias.data();
    for (std::size_t r = 0; r < m.rows; ++r) std::copy(b, b + m.cols, m.row(r));
}

/// @brief y = f(z) elementwise (row-wise for softmax); z and y may be the same buffer.
void activate(Activation a, ConstRows z, Rows y) {
    const std::size_t n = z.rows * z.cols;
    const Real* in = z.data;
    Real* out = y.data;
    switch (a) {
        case Activation::sigmoid:
            for (std::size_t i = 0; i < n; ++i) out[i] = sigmoid(in[i]);
            break;
        case Activation::relu:
            for (std::size_t i = 0; i < n; ++i) out[i] = std::max(in[i], Real{0});
            break;
        case Activation::linear:
            if (out != in) std::copy(in, in + n, out);
            break;
        case Activation::softmax:
            for (std::size_t r = 0; r < z.rows; ++r) {
                const Real* zr = z.row(r);
                Real* yr = y.row(r);
                const Real m = *std::max_element(zr, zr + z.cols);
                double s = 0.0;
                for (std::size_t j = 0; j < z.cols; ++j) {
                    yr[j] = std::exp(zr[j] - m);
                    s += yr[j];
                }
                const Real inv = static_cast<Real>(1.0 / s);
                for (std::size_t j = 0; j < z.cols; ++j) yr[j] *= inv;
            }
            break;
    }
}

/// @brief g *= f'(z), written in terms of y = f(z) (sigmoid: y (1 - y); relu: y > 0).
void multiply_derivative(Activation a, ConstRows y, Rows g) {
    const std::size_t n = y.rows * y.cols;
    const Real* out = y.data;
    Real* d = g.data;
    switch (a) {
        case Activation::sigmoid:
            for (std::size_t i = 0; i < n; ++i) d[i] *= out[i] * (Real{1} - out[i]);
            break;
        case Activation::relu:
            for (std::size_t i = 0; i < n; ++i)
                if (!(out[i] > Real{0})) d[i] = Real{0};
            break;
        case Activation::linear:
            break;
        case Activation::softmax:
            DBN_ASSERT(false);  // validate() allows softmax only with cross-entropy at the output
            break;
    }
}

Rows rows_of(Matrix& m, std::size_t rows) { return Rows(m).block(0, rows); }

/// @brief Draws a dropout mask (0 with probability p, else 1/(1-p)) and applies it:
/// out = in * mask.
void drop(ConstRows in, Rows mask, Rows out, double p, Rng& rng) {
    const std::size_t n = in.rows * in.cols;
    rng.fill_uniform(mask.data, n);
    const Real keep = static_cast<Real>(1.0 - p);
    const Real scale = static_cast<Real>(1.0 / (1.0 - p));
    for (std::size_t i = 0; i < n; ++i) {
        mask.data[i] = mask.data[i] < keep ? scale : Real{0};
        out.data[i] = in.data[i] * mask.data[i];
    }
}

}  // namespace

std::size_t Network::n_parameters() const {
    std::size_t n = 0;
    for (const auto& l : layers) n += l.weights.size() + l.bias.size();
    return n;
}

void Network::validate() const {
    DBN_CHECK(!layers.empty(), ConfigError, "Network: no layers");
    DBN_CHECK(hooks.empty() || hooks.size() == layers.size(), ShapeError,
              "Network: " << hooks.size() << " hooks for " << layers.size()
                          << " layers (expected none or one per layer)");
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const DenseLayer& l = layers[i];
        DBN_CHECK(l.n_in() > 0 && l.n_out() > 0, ShapeError,
                  "Network: layer " << i << " is empty (" << l.n_in() << "x" << l.n_out() << ")");
        DBN_CHECK(l.bias.size() == l.n_out(), ShapeError,
                  "Network: layer " << i << " has " << l.bias.size() << " biases (expected "
                                    << l.n_out() << ")");
        DBN_CHECK(i == 0 || layers[i - 1].n_out() == l.n_in(), ShapeError,
                  "Network: layer " << i << " has " << l.n_in() << " inputs but layer " << i - 1
                                    << " has " << layers[i - 1].n_out() << " outputs");
        DBN_CHECK(l.activation != Activation::softmax || i + 1 == layers.size(), ConfigError,
                  "Network: softmax in hidden layer " << i << " (only the output may have it)");
    }
    DBN_CHECK(hook_after(layers.size() - 1) == nullptr, ConfigError,
              "Network: a hook after the output layer");
    const Activation out = layers.back().activation;
    if (loss == LossKind::cross_entropy) {
        DBN_CHECK(out == Activation::softmax || out == Activation::sigmoid, ConfigError,
                  "Network: cross-entropy needs a softmax or sigmoid output (got "
                      << to_string(out) << ")");
    } else {
        DBN_CHECK(out != Activation::softmax, ConfigError,
                  "Network: squared error with a softmax output (use cross-entropy)");
    }
}

Workspace::Workspace(const Network& net, std::size_t max_rows) : max_rows_(max_rows) {
    net.validate();
    DBN_CHECK(max_rows > 0, ConfigError, "Workspace: max_rows must be positive");
    const std::size_t n = net.n_layers();
    std::size_t widest_hook = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t w = net.layers[i].n_out();
        out.push_back(Matrix::from_shape({max_rows, w}));
        delta.push_back(Matrix::from_shape({max_rows, w}));
        hooked.push_back(net.hook_after(i) ? Matrix::from_shape({max_rows, w})
                                           : Matrix::from_shape({0, 0}));
        if (net.hook_after(i)) widest_hook = std::max(widest_hook, w);
        grad_weights.push_back(Matrix::from_shape({net.layers[i].n_in(), w}));
        grad_bias.push_back(Vector::from_shape({w}));
    }
    z_last = Matrix::from_shape({max_rows, net.n_outputs()});
    grad_hooked = Matrix::from_shape({max_rows, widest_hook});
    if (net.dropout > 0.0) {
        for (std::size_t i = 0; i + 1 < n; ++i) {
            mask.push_back(Matrix::from_shape({max_rows, net.layers[i].n_out()}));
            dropped.push_back(Matrix::from_shape({max_rows, net.layers[i].n_out()}));
        }
    }
    if (net.input_dropout > 0.0) {
        mask_x = Matrix::from_shape({max_rows, net.n_inputs()});
        dropped_x = Matrix::from_shape({max_rows, net.n_inputs()});
    }
}

ConstRows forward(const Network& net, ConstRows x, Workspace& ws, Rng* dropout_rng) {
    DBN_CHECK(x.cols == net.n_inputs(), ShapeError,
              "forward: input has " << x.cols << " columns (expected " << net.n_inputs() << ")");
    DBN_CHECK(x.rows <= ws.max_rows() && ws.out.size() == net.n_layers(), ShapeError,
              "forward: " << x.rows << " rows for a workspace of " << ws.max_rows());
    const std::size_t rows = x.rows;
    const std::size_t last = net.n_layers() - 1;
    const bool drop_hidden = dropout_rng && net.dropout > 0.0;
    DBN_CHECK(!drop_hidden || ws.mask.size() == last, ShapeError,
              "forward: the workspace was made for a network without dropout");
    ConstRows in = x;
    if (dropout_rng && net.input_dropout > 0.0) {
        DBN_CHECK(ws.mask_x.shape(1) == x.cols, ShapeError,
                  "forward: the workspace was made for a network without input dropout");
        drop(x, rows_of(ws.mask_x, rows), rows_of(ws.dropped_x, rows), net.input_dropout,
             *dropout_rng);
        in = rows_of(ws.dropped_x, rows);
    }
    for (std::size_t i = 0; i <= last; ++i) {
        const DenseLayer& l = net.layers[i];
        Rows y = rows_of(ws.out[i], rows);
        Rows z = i == last ? rows_of(ws.z_last, rows) : y;
        fill_bias(z, l.bias);
        blas::gemm(false, false, 1.0f, in, l.weights, 1.0f, z);
        activate(l.activation, z, y);
        if (const LayerHook* hook = net.hook_after(i)) {
            Rows h = rows_of(ws.hooked[i], rows);
            std::copy(y.data, y.data + rows * y.cols, h.data);
            hook->apply(h);
            in = h;
        } else {
            in = y;
        }
        if (drop_hidden && i < last) {
            drop(in, rows_of(ws.mask[i], rows), rows_of(ws.dropped[i], rows), net.dropout,
                 *dropout_rng);
            in = rows_of(ws.dropped[i], rows);
        }
    }
    return rows_of(ws.out[last], rows);
}

double batch_loss_sum(const Network& net, ConstRows z, ConstRows y, ConstRows target) {
    DBN_CHECK(target.rows == y.rows && target.cols == y.cols, ShapeError,
              "loss: targets are " << target.rows << "x" << target.cols << " (expected "
                                   << y.rows << "x" << y.cols << ")");
    double sum = 0.0;
    const Activation out = net.layers.back().activation;
    if (net.loss == LossKind::squared_error) {
        for (std::size_t i = 0; i < y.rows * y.cols; ++i) {
            const double d = double(y.data[i]) - target.data[i];
            sum += d * d;
        }
        return 0.5 * sum;
    }
    if (out == Activation::softmax) {
        // -sum_j t_j log p_j = sum_j t_j (logsumexp(z) - z_j)
        for (std::size_t r = 0; r < z.rows; ++r) {
            const Real* zr = z.row(r);
            const Real* tr = target.row(r);
            const double lse = logsumexp(zr, zr + z.cols);
            for (std::size_t j = 0; j < z.cols; ++j) sum += tr[j] * (lse - zr[j]);
        }
        return sum;
    }
    // Binary cross-entropy from z: -t log s(z) - (1 - t) log(1 - s(z)) = softplus(z) - t z.
    for (std::size_t i = 0; i < z.rows * z.cols; ++i)
        sum += softplus(z.data[i]) - double(target.data[i]) * z.data[i];
    return sum;
}

BatchLoss loss_and_gradient(const Network& net, ConstRows x, ConstRows target, Workspace& ws,
                            bool head_only, Rng* dropout_rng) {
    const ConstRows y = forward(net, x, ws, dropout_rng);
    const bool drop_hidden = dropout_rng && net.dropout > 0.0;
    const bool drop_input = dropout_rng && net.input_dropout > 0.0;
    const std::size_t rows = x.rows;
    DBN_CHECK(rows > 0, ShapeError, "loss_and_gradient: empty batch");
    const std::size_t last = net.n_layers() - 1;
    BatchLoss result;
    result.loss = batch_loss_sum(net, rows_of(ws.z_last, rows), y, target) / double(rows);

    // Output delta: cross-entropy with its matching output gives (y - t) / B.
    const Real inv = Real{1} / static_cast<Real>(rows);
    Rows d = rows_of(ws.delta[last], rows);
    for (std::size_t i = 0; i < rows * d.cols; ++i) d.data[i] = (y.data[i] - target.data[i]) * inv;
    if (net.loss == LossKind::squared_error) multiply_derivative(net.layers[last].activation, y, d);

    const double wd = net.weight_decay;
    for (std::size_t i = last + 1; i-- > 0;) {
        const DenseLayer& l = net.layers[i];
        const ConstRows delta = rows_of(ws.delta[i], rows);
        ConstRows in = drop_input ? rows_of(ws.dropped_x, rows) : x;
        if (i > 0) {
            in = drop_hidden                ? rows_of(ws.dropped[i - 1], rows)
                 : net.hook_after(i - 1) ? rows_of(ws.hooked[i - 1], rows)
                                         : rows_of(ws.out[i - 1], rows);
        }
        blas::gemm(true, false, 1.0f, in, delta, 0.0f, ws.grad_weights[i]);
        if (wd > 0.0) {
            const Real c = static_cast<Real>(wd);
            Real* g = ws.grad_weights[i].data();
            const Real* w = l.weights.data();
            for (std::size_t k = 0; k < l.weights.size(); ++k) g[k] += c * w[k];
        }
        Real* gb = ws.grad_bias[i].data();
        std::fill(gb, gb + l.n_out(), Real{0});
        for (std::size_t r = 0; r < rows; ++r) {
            const Real* dr = delta.row(r);
            for (std::size_t j = 0; j < l.n_out(); ++j) gb[j] += dr[j];
        }
        if (head_only || i == 0) break;
        Rows below = rows_of(ws.delta[i - 1], rows);
        auto undrop = [&](Rows g) {  // d(in * mask)/d(in) = mask
            if (!drop_hidden) return;
            const Real* m = ws.mask[i - 1].data();
            for (std::size_t k = 0; k < rows * g.cols; ++k) g.data[k] *= m[k];
        };
        if (const LayerHook* hook = net.hook_after(i - 1)) {
            Rows g(ws.grad_hooked.data(), rows, l.n_in());
            blas::gemm(false, true, 1.0f, delta, l.weights, 0.0f, g);
            undrop(g);
            hook->backward(rows_of(ws.out[i - 1], rows), g, below);
        } else {
            blas::gemm(false, true, 1.0f, delta, l.weights, 0.0f, below);
            undrop(below);
        }
        multiply_derivative(net.layers[i - 1].activation, rows_of(ws.out[i - 1], rows), below);
    }

    result.objective = result.loss;
    if (wd > 0.0) {
        double sq = 0.0;
        for (const auto& l : net.layers)
            for (const Real w : l.weights) sq += double(w) * w;
        result.objective += 0.5 * wd * sq;
    }
    return result;
}

// --- optimizer ---------------------------------------------------------------------------

ParameterUpdater::ParameterUpdater(const Network& net, const FineTuneConfig& config)
    : kind_(config.optimizer),
      momentum_(config.momentum),
      beta1_(config.beta1),
      beta2_(config.beta2),
      epsilon_(config.epsilon) {
    for (const auto& l : net.layers) {
        m_weights_.push_back(xt::zeros<Real>(l.weights.shape()));
        m_bias_.push_back(xt::zeros<Real>(l.bias.shape()));
        if (kind_ == OptimizerKind::adam) {
            v_weights_.push_back(xt::zeros<Real>(l.weights.shape()));
            v_bias_.push_back(xt::zeros<Real>(l.bias.shape()));
        }
    }
}

void ParameterUpdater::update(Real* w, const Real* g, Real* m, Real* v, std::size_t n,
                              double lr) {
    if (kind_ == OptimizerKind::sgd) {
        const Real mu = static_cast<Real>(momentum_);
        const Real eta = static_cast<Real>(lr);
        for (std::size_t i = 0; i < n; ++i) {
            m[i] = mu * m[i] - eta * g[i];
            w[i] += m[i];
        }
        return;
    }
    // Adam with bias-corrected moments: w -= lr m^ / (sqrt(v^) + eps).
    const Real b1 = static_cast<Real>(beta1_), b2 = static_cast<Real>(beta2_);
    const Real step = static_cast<Real>(lr / correction1_);
    const Real inv_c2 = static_cast<Real>(1.0 / correction2_);
    const Real eps = static_cast<Real>(epsilon_);
    for (std::size_t i = 0; i < n; ++i) {
        m[i] = b1 * m[i] + (Real{1} - b1) * g[i];
        v[i] = b2 * v[i] + (Real{1} - b2) * g[i] * g[i];
        w[i] -= step * m[i] / (std::sqrt(v[i] * inv_c2) + eps);
    }
}

void ParameterUpdater::step(Network& net, const Workspace& ws, double lr, bool head_only) {
    DBN_CHECK(net.n_layers() == m_weights_.size(), ShapeError,
              "ParameterUpdater::step: network has " << net.n_layers() << " layers (expected "
                                                     << m_weights_.size() << ")");
    ++t_;
    if (kind_ == OptimizerKind::adam) {
        correction1_ = 1.0 - std::pow(beta1_, double(t_));
        correction2_ = 1.0 - std::pow(beta2_, double(t_));
    }
    const bool adam = kind_ == OptimizerKind::adam;
    const std::size_t first = head_only ? net.n_layers() - 1 : 0;
    for (std::size_t i = first; i < net.n_layers(); ++i) {
        DenseLayer& l = net.layers[i];
        update(l.weights.data(), ws.grad_weights[i].data(), m_weights_[i].data(),
               adam ? v_weights_[i].data() : nullptr, l.weights.size(), lr);
        update(l.bias.data(), ws.grad_bias[i].data(), m_bias_[i].data(),
               adam ? v_bias_[i].data() : nullptr, l.bias.size(), lr);
    }
}

}  // namespace dbn
