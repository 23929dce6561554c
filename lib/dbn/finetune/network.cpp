#include "dbn/finetune/network.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/core/parallel.hpp"
#include "dbn/core/vector_math.hpp"

namespace dbn::finetune {
namespace {

/// @brief Every row of `m` filled with `bias`.
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
            vec::sigmoid(in, out, n);  // within 2 ulp of dbn::sigmoid, vectorized
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
/// @brief Rows [first, first + count) of a buffer whose rows are `cols` wide.
Rows rows_at(Matrix& m, std::size_t first, std::size_t count) {
    return Rows(m.data() + first * m.shape(1), count, m.shape(1));
}

/// @brief A dropout mask from uniform draws u (in place: 1/(1-p) where u < 1 - p, else 0),
/// applied: out = in * mask.
void apply_mask(ConstRows in, Rows mask, Rows out, double p) {
    const std::size_t n = in.rows * in.cols;
    const Real keep = static_cast<Real>(1.0 - p);
    const Real scale = static_cast<Real>(1.0 / (1.0 - p));
    for (std::size_t i = 0; i < n; ++i) {
        mask.data[i] = mask.data[i] < keep ? scale : Real{0};
        out.data[i] = in.data[i] * mask.data[i];
    }
}

/// @brief Draws every dropout mask of a pass of `rows` rows (uniform values, turned into masks
/// by apply_mask), in the order of the layers: the same draws as one layer after the other.
void draw_masks(const Network& net, Workspace& ws, std::size_t rows, bool drop_input,
                bool drop_hidden, Rng& rng) {
    if (drop_input) rng.fill_uniform(ws.mask_x.data(), rows * net.n_inputs());
    if (drop_hidden)
        for (std::size_t i = 0; i + 1 < net.n_layers(); ++i)
            rng.fill_uniform(ws.mask[i].data(), rows * net.layers[i].n_out());
}

/// @brief The forward pass of rows [r0, r0 + m) of x (rows are independent).
void forward_rows(const Network& net, ConstRows x, Workspace& ws, std::size_t r0, std::size_t m,
                  bool drop_input, bool drop_hidden) {
    if (m == 0) return;
    const std::size_t last = net.n_layers() - 1;
    ConstRows in = x.block(r0, m);
    if (drop_input) {
        apply_mask(in, rows_at(ws.mask_x, r0, m), rows_at(ws.dropped_x, r0, m), net.input_dropout);
        in = rows_at(ws.dropped_x, r0, m);
    }
    for (std::size_t i = 0; i <= last; ++i) {
        const DenseLayer& l = net.layers[i];
        Rows y = rows_at(ws.out[i], r0, m);
        Rows z = i == last ? rows_at(ws.z_last, r0, m) : y;
        // Biases first and beta = 1: OpenBLAS then skips its separate pass that zeroes C.
        fill_bias(z, l.bias);
        blas::gemm(false, false, 1.0f, in, l.weights, 1.0f, z);
        activate(l.activation, z, y);
        if (const LayerHook* hook = net.hook_after(i)) {
            Rows h = rows_at(ws.hooked[i], r0, m);
            std::copy(y.data, y.data + m * y.cols, h.data);
            hook->apply(h);
            in = h;
        } else {
            in = y;
        }
        if (drop_hidden && i < last) {
            apply_mask(in, rows_at(ws.mask[i], r0, m), rows_at(ws.dropped[i], r0, m), net.dropout);
            in = rows_at(ws.dropped[i], r0, m);
        }
    }
}

void check_forward(const Network& net, ConstRows x, const Workspace& ws, bool drop_input,
                   bool drop_hidden) {
    DBN_CHECK(x.cols == net.n_inputs(), ShapeError,
              "forward: input has " << x.cols << " columns (expected " << net.n_inputs() << ")");
    DBN_CHECK(x.rows <= ws.max_rows() && ws.out.size() == net.n_layers(), ShapeError,
              "forward: " << x.rows << " rows for a workspace of " << ws.max_rows());
    DBN_CHECK(!drop_hidden || ws.mask.size() == net.n_layers() - 1, ShapeError,
              "forward: the workspace was made for a network without dropout");
    DBN_CHECK(!drop_input || ws.mask_x.shape(1) == x.cols, ShapeError,
              "forward: the workspace was made for a network without input dropout");
}

/// @brief Data loss of one output row (z its pre-activations, y = f(z)) against its target.
double row_loss(const Network& net, const Real* z, const Real* y, const Real* t, std::size_t n) {
    double sum = 0.0;
    if (net.loss == LossKind::squared_error) {
        for (std::size_t j = 0; j < n; ++j) {
            const double d = double(y[j]) - t[j];
            sum += d * d;
        }
        return 0.5 * sum;
    }
    if (net.layers.back().activation == Activation::softmax) {
        // -sum_j t_j log p_j = sum_j t_j (logsumexp(z) - z_j)
        const double lse = logsumexp(z, z + n);
        for (std::size_t j = 0; j < n; ++j) sum += t[j] * (lse - z[j]);
        return sum;
    }
    // Binary cross-entropy from z: -t log s(z) - (1 - t) log(1 - s(z)) = softplus(z) - t z.
    for (std::size_t j = 0; j < n; ++j) sum += softplus(z[j]) - double(t[j]) * z[j];
    return sum;
}

/// @brief The sum of w[k]^2 in double, in eight partial sums (lane k mod 8) added in a fixed
/// order; with `g`, also g[k] = c w[k] (the weight decay's gradient, to which the product is
/// then added). One pass over w.
double decay_and_square(Real* g, const Real* w, std::size_t n, Real c) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t k = 0;
#if defined(__SSE2__)
    __m128d a0 = _mm_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    const __m128 vc = _mm_set1_ps(c);
    for (; k + 8 <= n; k += 8) {
        const __m128 w0 = _mm_loadu_ps(w + k), w1 = _mm_loadu_ps(w + k + 4);
        if (g) {
            _mm_storeu_ps(g + k, _mm_mul_ps(vc, w0));
            _mm_storeu_ps(g + k + 4, _mm_mul_ps(vc, w1));
        }
        const __m128d d0 = _mm_cvtps_pd(w0), d1 = _mm_cvtps_pd(_mm_movehl_ps(w0, w0));
        const __m128d d2 = _mm_cvtps_pd(w1), d3 = _mm_cvtps_pd(_mm_movehl_ps(w1, w1));
        a0 = _mm_add_pd(a0, _mm_mul_pd(d0, d0));
        a1 = _mm_add_pd(a1, _mm_mul_pd(d1, d1));
        a2 = _mm_add_pd(a2, _mm_mul_pd(d2, d2));
        a3 = _mm_add_pd(a3, _mm_mul_pd(d3, d3));
    }
    _mm_storeu_pd(acc, a0);
    _mm_storeu_pd(acc + 2, a1);
    _mm_storeu_pd(acc + 4, a2);
    _mm_storeu_pd(acc + 6, a3);
#endif
    for (; k < n; ++k) {
        if (g) g[k] = c * w[k];
        acc[k % 8] += double(w[k]) * w[k];
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace

std::size_t Network::n_parameters() const {
    std::size_t n = 0;
    for (const auto& l : layers) n += l.weights.size() + l.bias.size();
    return n;
}

// The shapes of the gemm calls of forward_rows() and backprop_pass() below, per minibatch:
// those run the same products split by rows across the Workspace's threads.
std::vector<blas::GemmShape> Network::forward_products(std::size_t rows) const {
    std::vector<blas::GemmShape> out;
    for (std::size_t i = 0; i < layers.size(); ++i)
        out.push_back({"L" + std::to_string(i + 1) + " forward", false, false, rows,
                       layers[i].n_out(), layers[i].n_in(), 1});
    return out;
}

std::vector<blas::GemmShape> Network::training_products(std::size_t rows, bool head_only) const {
    std::vector<blas::GemmShape> out;
    const std::size_t first_trained = head_only && !layers.empty() ? layers.size() - 1 : 0;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const std::string name = "L" + std::to_string(i + 1);
        const std::size_t n_in = layers[i].n_in(), n_out = layers[i].n_out();
        out.push_back({name + " forward", false, false, rows, n_out, n_in, 1});
        if (i < first_trained) continue;
        out.push_back({name + " weight gradient", true, false, n_in, n_out, rows, 1});
        if (i > first_trained)
            out.push_back({name + " input gradient", false, true, rows, n_in, n_out, 1});
    }
    return out;
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
                  "Network: cross-entropy needs a softmax or sigmoid output (got " << to_string(out)
                                                                                   << ")");
    } else {
        DBN_CHECK(out != Activation::softmax, ConfigError,
                  "Network: squared error with a softmax output (use cross-entropy)");
    }
}

Workspace::Workspace(const Network& net, std::size_t max_rows, std::size_t threads)
    : max_rows_(max_rows) {
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
        weight_squares.emplace_back(net.layers[i].n_in(), 0.0);
    }
    z_last = Matrix::from_shape({max_rows, net.n_outputs()});
    grad_hooked = Matrix::from_shape({max_rows, widest_hook});
    row_loss.assign(max_rows, 0.0);
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
    const std::size_t wanted =
        threads > 0 ? threads : static_cast<std::size_t>(std::max(1, blas::num_threads()));
    threads_ = std::max<std::size_t>(1, std::min(wanted, max_rows / k_min_rows_per_thread));
    if (threads_ > 1) pool_ = std::make_unique<ThreadPool>(threads_);
}

Workspace::~Workspace() = default;
Workspace::Workspace(Workspace&&) noexcept = default;
Workspace& Workspace::operator=(Workspace&&) noexcept = default;

void Workspace::run(const std::function<void(std::size_t)>& fn) const {
    if (!pool_) {
        fn(0);
        return;
    }
    const blas::ScopedThreads single(1);  // our team runs single-threaded products
    pool_->run(fn);
}

bool Workspace::barrier() const { return pool_ ? pool_->barrier() : true; }

ConstRows forward(const Network& net, ConstRows x, Workspace& ws, Rng* dropout_rng) {
    const bool drop_input = dropout_rng && net.input_dropout > 0.0;
    const bool drop_hidden = dropout_rng && net.dropout > 0.0;
    check_forward(net, x, ws, drop_input, drop_hidden);
    const std::size_t rows = x.rows;
    if (dropout_rng) draw_masks(net, ws, rows, drop_input, drop_hidden, *dropout_rng);
    ws.run([&](std::size_t t) {
        const auto [r0, r1] = split_range(rows, ws.threads(), t);
        forward_rows(net, x, ws, r0, r1 - r0, drop_input, drop_hidden);
    });
    return rows_of(ws.out[net.n_layers() - 1], rows);
}

double batch_loss_sum(const Network& net, ConstRows z, ConstRows y, ConstRows target) {
    DBN_CHECK(target.rows == y.rows && target.cols == y.cols, ShapeError,
              "loss: targets are " << target.rows << "x" << target.cols << " (expected " << y.rows
                                   << "x" << y.cols << ")");
    double sum = 0.0;
    for (std::size_t r = 0; r < y.rows; ++r)
        sum += row_loss(net, z.row(r), y.row(r), target.row(r), y.cols);
    return sum;
}

/// @brief train_step()'s way to the updater's parts.
class StepAccess {
public:
    static void begin(ParameterUpdater& u, const Network& net) { u.begin_step(net); }
    static void part(ParameterUpdater& u, Network& net, const Workspace& ws, std::size_t i,
                     std::size_t w_first, std::size_t w_last, std::size_t b_first,
                     std::size_t b_last, double lr) {
        u.update_part(net, ws, i, w_first, w_last, b_first, b_last, lr);
    }
};

namespace {

/// @brief Forward pass, loss and gradient of a batch in one pass of ws's threads; with
/// `updater`, also its step (net's parameters then change, layer by layer, as soon as nothing
/// below needs them).
///
/// Rows are independent until the first weight gradient: each thread runs the forward pass,
/// the loss and the output delta of its rows. Then, layer i from the top, each thread:
///   A. the bias gradient (its columns) and the input gradient delta_i W_i^T (its rows of the
///      batch, through the hook and the activation below: delta_{i-1});
///   -- a barrier: every row of delta_{i-1} is there, and no thread reads W_i any more --
///   B. the weight gradient X_i^T delta_i (its rows of it, with the weight decay c W_i put in
///      first and the penalty's sums of squares taken on the way) and, with an updater, the
///      step of those rows and of its bias columns while they are in cache.
/// B of layer i and A of layer i-1 touch different arrays, so one barrier per layer suffices.
BatchLoss backprop_pass(Network& net, ConstRows x, ConstRows target, Workspace& ws, bool head_only,
                        Rng* dropout_rng, ParameterUpdater* updater, double lr) {
    const bool drop_input = dropout_rng && net.input_dropout > 0.0;
    const bool drop_hidden = dropout_rng && net.dropout > 0.0;
    check_forward(net, x, ws, drop_input, drop_hidden);
    const std::size_t rows = x.rows;
    DBN_CHECK(target.rows == rows && target.cols == net.n_outputs(), ShapeError,
              "loss: targets are " << target.rows << "x" << target.cols << " (expected " << rows
                                   << "x" << net.n_outputs() << ")");
    DBN_CHECK(rows > 0, ShapeError, "loss_and_gradient: empty batch");
    const std::size_t last = net.n_layers() - 1;
    const std::size_t first_layer = head_only ? last : 0;
    const double wd = net.weight_decay;
    const Real c = static_cast<Real>(wd);
    const Real inv = Real{1} / static_cast<Real>(rows);
    const std::size_t threads = ws.threads();
    if (dropout_rng) draw_masks(net, ws, rows, drop_input, drop_hidden, *dropout_rng);
    if (updater) StepAccess::begin(*updater, net);

    ws.run([&](std::size_t t) {
        const auto [r0, r1] = split_range(rows, threads, t);
        const std::size_t m = r1 - r0;
        forward_rows(net, x, ws, r0, m, drop_input, drop_hidden);
        const std::size_t n_out = net.n_outputs();
        {
            const ConstRows z = rows_at(ws.z_last, r0, m);
            const ConstRows y = rows_at(ws.out[last], r0, m);
            const ConstRows tr = target.block(r0, m);
            for (std::size_t r = 0; r < m; ++r)
                ws.row_loss[r0 + r] = row_loss(net, z.row(r), y.row(r), tr.row(r), n_out);
            // Output delta: cross-entropy with its matching output gives (y - t) / B.
            Rows d = rows_at(ws.delta[last], r0, m);
            for (std::size_t i = 0; i < m * n_out; ++i) d.data[i] = (y.data[i] - tr.data[i]) * inv;
            if (net.loss == LossKind::squared_error)
                multiply_derivative(net.layers[last].activation, y, d);
        }
        if (!ws.barrier()) return;

        for (std::size_t i = last + 1; i-- > first_layer;) {
            DenseLayer& l = net.layers[i];
            const std::size_t n_o = l.n_out();
            const ConstRows delta = rows_of(ws.delta[i], rows);
            // A: bias gradient, input gradient.
            const auto [j0, j1] = split_range(n_o, threads, t);
            Real* gb = ws.grad_bias[i].data();
            std::fill(gb + j0, gb + j1, Real{0});
            for (std::size_t r = 0; r < rows; ++r) {
                const Real* dr = delta.row(r);
                for (std::size_t j = j0; j < j1; ++j) gb[j] += dr[j];
            }
            if (i > first_layer) {
                if (m > 0) {
                    Rows below = rows_at(ws.delta[i - 1], r0, m);
                    const ConstRows dm = delta.block(r0, m);
                    // r0 by an init-capture: C++17 does not let a lambda capture a structured
                    // binding (clang refuses it; C++20 allows it).
                    auto undrop = [&, row0 = r0](Rows gr) {  // d(in * mask)/d(in) = mask
                        if (!drop_hidden) return;
                        const Real* mk = rows_at(ws.mask[i - 1], row0, m).data;
                        for (std::size_t k = 0; k < m * gr.cols; ++k) gr.data[k] *= mk[k];
                    };
                    if (const LayerHook* hook = net.hook_after(i - 1)) {
                        Rows gh(ws.grad_hooked.data() + r0 * l.n_in(), m, l.n_in());
                        blas::gemm(false, true, 1.0f, dm, l.weights, 0.0f, gh);
                        undrop(gh);
                        hook->backward(rows_at(ws.out[i - 1], r0, m), gh, below);
                    } else {
                        blas::gemm(false, true, 1.0f, dm, l.weights, 0.0f, below);
                        undrop(below);
                    }
                    multiply_derivative(net.layers[i - 1].activation, rows_at(ws.out[i - 1], r0, m),
                                        below);
                }
                if (!ws.barrier()) return;
            }
            // B: weight gradient (decay first, then beta = 1; without decay beta = 0), step.
            ConstRows in = drop_input ? rows_of(ws.dropped_x, rows) : x;
            if (i > 0) {
                in = drop_hidden             ? rows_of(ws.dropped[i - 1], rows)
                     : net.hook_after(i - 1) ? rows_of(ws.hooked[i - 1], rows)
                                             : rows_of(ws.out[i - 1], rows);
            }
            const auto [w0, w1] = split_range(l.n_in(), threads, t);
            Real* g = ws.grad_weights[i].data();
            Real* w = l.weights.data();
            if (wd > 0.0) {
                for (std::size_t k = w0; k < w1; ++k)
                    ws.weight_squares[i][k] = decay_and_square(g + k * n_o, w + k * n_o, n_o, c);
            }
            blas::gemm_tn_rows(in, w0, w1 - w0, delta, wd > 0.0 ? 1.0f : 0.0f, g + w0 * n_o);
            if (updater) StepAccess::part(*updater, net, ws, i, w0 * n_o, w1 * n_o, j0, j1, lr);
        }
        // The penalty of the layers whose gradient was not computed (head_only).
        if (wd > 0.0) {
            for (std::size_t i = 0; i < first_layer; ++i) {
                const DenseLayer& l = net.layers[i];
                const auto [w0, w1] = split_range(l.n_in(), threads, t);
                for (std::size_t k = w0; k < w1; ++k)
                    ws.weight_squares[i][k] =
                        decay_and_square(nullptr, l.weights.data() + k * l.n_out(), l.n_out(), c);
            }
        }
    });

    BatchLoss result;
    double sum = 0.0;
    for (std::size_t r = 0; r < rows; ++r) sum += ws.row_loss[r];
    result.loss = sum / double(rows);
    result.objective = result.loss;
    if (wd > 0.0) {
        double sq = 0.0;
        for (std::size_t i = 0; i <= last; ++i)
            for (const double v : ws.weight_squares[i]) sq += v;
        result.objective += 0.5 * wd * sq;
    }
    return result;
}

}  // namespace

BatchLoss loss_and_gradient(const Network& net, ConstRows x, ConstRows target, Workspace& ws,
                            bool head_only, Rng* dropout_rng) {
    // Without an updater the pass only reads the network.
    return backprop_pass(const_cast<Network&>(net), x, target, ws, head_only, dropout_rng, nullptr,
                         0.0);
}

BatchLoss train_step(Network& net, ConstRows x, ConstRows target, Workspace& ws,
                     ParameterUpdater& updater, double lr, bool head_only, Rng* dropout_rng) {
    DBN_CHECK(net.n_layers() == updater.n_layers(), ShapeError,
              "train_step: network has " << net.n_layers() << " layers (the updater was made for "
                                         << updater.n_layers() << ")");
    return backprop_pass(net, x, target, ws, head_only, dropout_rng, &updater, lr);
}

}  // namespace dbn::finetune
