#include "dbn/finetune/evaluate.hpp"

#include <algorithm>
#include <cmath>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/finetune/fine_tuner.hpp"

namespace dbn::finetune {
namespace {

/// Rows per forward block when evaluating: large enough for efficient GEMMs, small enough that
/// the buffers stay a few MB whatever the data size.
constexpr std::size_t k_block = 512;

template <class F>
void for_blocks(const Network& net, ConstRows x, Workspace& ws, F&& f) {
    for (std::size_t first = 0; first < x.rows; first += ws.max_rows()) {
        const std::size_t rows = std::min(ws.max_rows(), x.rows - first);
        const ConstRows y = forward(net, x.block(first, rows), ws);
        f(first, y);
    }
}

}  // namespace

Matrix network_outputs(const Network& net, ConstRows x, Workspace& ws) {
    Matrix out = Matrix::from_shape({x.rows, net.n_outputs()});
    for_blocks(net, x, ws, [&](std::size_t first, ConstRows y) {
        std::copy(y.data, y.data + y.rows * y.cols, out.data() + first * y.cols);
    });
    return out;
}

std::vector<std::size_t> predict_indices(const Network& net, ConstRows x, Workspace& ws) {
    std::vector<std::size_t> idx(x.rows);
    for_blocks(net, x, ws, [&](std::size_t first, ConstRows y) {
        for (std::size_t r = 0; r < y.rows; ++r) {
            const Real* yr = y.row(r);
            idx[first + r] = static_cast<std::size_t>(std::max_element(yr, yr + y.cols) - yr);
        }
    });
    return idx;
}

double squared_error_sum(const Network& net, ConstRows x, ConstRows target, Workspace& ws) {
    DBN_CHECK(target.rows == x.rows && target.cols == net.n_outputs(), ShapeError,
              "squared_error_sum: targets are " << target.rows << "x" << target.cols
                                                << " (expected " << x.rows << "x" << net.n_outputs()
                                                << ")");
    double sum = 0.0;
    for_blocks(net, x, ws, [&](std::size_t first, ConstRows y) {
        const Real* t = target.row(first);
        for (std::size_t i = 0; i < y.rows * y.cols; ++i) {
            const double d = double(y.data[i]) - t[i];
            sum += d * d;
        }
    });
    return sum;
}

ClassifierEvaluation evaluate_classifier(const Dbn& model, const FineTuned& ft, const Matrix& raw,
                                         const Labels& labels) {
    const Network net = classifier_network(model, ft);
    DBN_CHECK(
        labels.size() == raw.shape(0), ShapeError,
        "evaluate_classifier: " << labels.size() << " labels for " << raw.shape(0) << " rows");
    const Labels& classes = ft.classes;
    const std::size_t c = classes.size();
    ClassifierEvaluation ev;
    ev.classes = classes;
    ev.n_samples = raw.shape(0);
    ev.confusion_matrix.assign(c, std::vector<std::int64_t>(c, 0));
    std::vector<std::size_t> truth(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto it = std::lower_bound(classes.begin(), classes.end(), labels(i));
        DBN_CHECK(it != classes.end() && *it == labels(i), ConfigError,
                  "evaluate_classifier: label " << labels(i) << " (row " << i
                                                << ") is not one of the model's " << c
                                                << " classes");
        truth[i] = static_cast<std::size_t>(it - classes.begin());
    }
    if (ev.n_samples == 0) return ev;
    const Matrix x = network_inputs(model, raw);
    Workspace ws(net, std::min(k_block, ev.n_samples));
    const auto pred = predict_indices(net, x, ws);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) {
        ++ev.confusion_matrix[truth[i]][pred[i]];
        correct += pred[i] == truth[i];
    }
    ev.accuracy = double(correct) / double(ev.n_samples);
    return ev;
}

AutoencoderEvaluation evaluate_autoencoder(const Dbn& model, const FineTuned& ft,
                                           const Matrix& raw) {
    const Network net = autoencoder_network(model, ft);
    AutoencoderEvaluation ev;
    ev.n_samples = raw.shape(0);
    ev.n_visible = model.n_visible();
    const Matrix x = network_inputs(model, raw);
    if (ev.n_samples == 0) return ev;
    Workspace ws(net, std::min(k_block, ev.n_samples));
    const bool sigmoid_out = net.layers.back().activation == Activation::sigmoid;
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    const bool ce = sigmoid_out && *lo >= 0.0f && *hi <= 1.0f;
    double sq = 0.0, xent = 0.0;
    for_blocks(net, x, ws, [&](std::size_t first, ConstRows y) {
        const Real* t = ConstRows(x).row(first);
        const Real* z = ws.z_last.data();
        for (std::size_t i = 0; i < y.rows * y.cols; ++i) {
            const double d = double(y.data[i]) - t[i];
            sq += d * d;
            if (ce) xent += softplus(z[i]) - double(t[i]) * z[i];
        }
    });
    ev.reconstruction_error = sq / (double(ev.n_samples) * double(ev.n_visible));
    ev.cross_entropy = ce ? xent / double(ev.n_samples) : std::nan("");
    return ev;
}

Matrix predict_proba(const Dbn& model, const FineTuned& ft, const Matrix& raw) {
    const Network net = classifier_network(model, ft);
    const Matrix x = network_inputs(model, raw);
    Workspace ws(net, std::max<std::size_t>(1, std::min(k_block, x.shape(0))));
    return network_outputs(net, x, ws);
}

Labels predict(const Dbn& model, const FineTuned& ft, const Matrix& raw) {
    const Network net = classifier_network(model, ft);
    const Matrix x = network_inputs(model, raw);
    Workspace ws(net, std::max<std::size_t>(1, std::min(k_block, x.shape(0))));
    const auto idx = predict_indices(net, x, ws);
    Labels out = Labels::from_shape({idx.size()});
    for (std::size_t i = 0; i < idx.size(); ++i) out(i) = ft.classes(idx[i]);
    return out;
}

Matrix reconstruct(const Dbn& model, const FineTuned& ft, const Matrix& raw) {
    const Network net = autoencoder_network(model, ft);
    const Matrix x = network_inputs(model, raw);
    Workspace ws(net, std::max<std::size_t>(1, std::min(k_block, x.shape(0))));
    return network_outputs(net, x, ws);
}

namespace {

Matrix encode_with(const Dbn& model, bool linear_code, const Matrix& raw) {
    const Network net = unroll_encoder(model, linear_code);
    const Matrix x = network_inputs(model, raw);
    Workspace ws(net, std::max<std::size_t>(1, std::min(k_block, x.shape(0))));
    return network_outputs(net, x, ws);
}

}  // namespace

Matrix encode(const Dbn& model, const FineTuned& ft, const Matrix& raw) {
    return encode_with(model, ft.mode == FineTuneMode::autoencoder && ft.linear_code, raw);
}

Matrix encode(const Dbn& model, const Matrix& raw) { return encode_with(model, false, raw); }

}  // namespace dbn::finetune
