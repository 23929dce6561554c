// The stack as a feed-forward network and back: the unrolled encoder, the transposed decoder and
// the networks of a fine-tuned part (declared in fine_tuner.hpp). Fine-tuning itself is in
// fine_tuner.cpp.
#include "dbn/core/error.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "dbn/units/units.hpp"

namespace dbn::finetune {
namespace {

/// @brief The network layer that a unit family's mean becomes.
Activation unit_activation(const Units& u) {
    switch (u.mean_function()) {
        case MeanFunction::logistic:
            return Activation::sigmoid;
        case MeanFunction::rectified:
            return Activation::relu;
        case MeanFunction::affine:
            return Activation::linear;
    }
    return Activation::sigmoid;
}

}  // namespace

Matrix network_inputs(const Dbn& model, const Matrix& raw) {
    DBN_CHECK(raw.shape(1) == model.n_visible(), ShapeError,
              "network_inputs: data has " << raw.shape(1) << " columns (the model expects "
                                          << model.n_visible() << ")");
    Matrix x = raw;
    model.preprocessing.apply(x);
    return x;
}

Network unroll_encoder(const Dbn& model, bool linear_code) {
    model.validate();
    Network net;
    // Any output suits squared error; a classifier sets cross-entropy once its head is on.
    net.loss = LossKind::squared_error;
    const std::size_t n = model.n_layers();
    for (std::size_t k = 0; k < n; ++k) {
        const Rbm& rbm = model.layers[k];
        DenseLayer l;
        l.weights = rbm.weights();
        l.bias = rbm.hidden_bias();
        l.activation =
            (linear_code && k + 1 == n) ? Activation::linear : unit_activation(rbm.hidden_units());
        if (rbm.visible_units().has_sigma()) {
            // x = v / s enters the layer: fold 1/s_i into row i of W.
            for (std::size_t i = 0; i < rbm.n_visible(); ++i) {
                const Real s = rbm.visible_sigma()(i);
                if (s == Real{1}) continue;
                for (std::size_t j = 0; j < rbm.n_hidden(); ++j) l.weights(i, j) /= s;
            }
        }
        net.layers.push_back(std::move(l));
        net.hooks.push_back(k + 1 < n && model.hook_after(k) ? model.hooks[k] : nullptr);
    }
    return net;
}

std::vector<DenseLayer> transposed_decoder(const Dbn& model) {
    model.validate();
    std::vector<DenseLayer> decoder;
    for (std::size_t k = 0; k < model.n_layers(); ++k) {
        const Rbm& rbm = model.layers[k];
        // Above layer 0 a non-affine output takes the units of the layer below, whose
        // representation it reconstructs.
        const Units& visible = rbm.visible_units();
        const Activation a = k == 0 || visible.mean_function() == MeanFunction::affine
                                 ? unit_activation(visible)
                                 : unit_activation(model.layers[k - 1].hidden_units());
        DenseLayer l;
        l.weights = xt::zeros<Real>({rbm.n_hidden(), rbm.n_visible()});
        l.activation = a;
        // Visible mean of the RBM: a + s (W h) for Gaussian units, sigmoid(a + W h) otherwise.
        for (std::size_t i = 0; i < rbm.n_visible(); ++i) {
            const Real s = visible.has_sigma() ? rbm.visible_sigma()(i) : Real{1};
            for (std::size_t j = 0; j < rbm.n_hidden(); ++j)
                l.weights(j, i) = rbm.weights()(i, j) * s;
        }
        l.bias = rbm.visible_bias();
        decoder.push_back(std::move(l));
    }
    return decoder;
}

void validate_fine_tuned(const Dbn& model, const FineTuned& ft) {
    model.validate();
    const std::size_t n_top = model.layers.back().n_hidden();
    if (ft.mode == FineTuneMode::classifier) {
        const std::size_t c = ft.classes.size();
        DBN_CHECK(c >= 2, ShapeError, "classifier: " << c << " classes (expected at least 2)");
        DBN_CHECK(ft.head.n_in() == n_top && ft.head.n_out() == c && ft.head.bias.size() == c,
                  ShapeError,
                  "classifier: head weights [" << ft.head.n_in() << ", " << ft.head.n_out()
                                               << "] and bias [" << ft.head.bias.size()
                                               << "] do not fit the top layer's " << n_top
                                               << " units and " << c << " classes");
        for (std::size_t i = 1; i < c; ++i)
            DBN_CHECK(ft.classes(i - 1) < ft.classes(i), ConfigError,
                      "classifier: classes are not strictly increasing at position " << i);
        DBN_CHECK(ft.head.activation == Activation::softmax, ConfigError,
                  "classifier: the head must be softmax");
        return;
    }
    DBN_CHECK(ft.decoder.size() == model.n_layers(), ShapeError,
              "decoder: " << ft.decoder.size() << " layers for a stack of " << model.n_layers());
    for (std::size_t k = 0; k < model.n_layers(); ++k) {
        const DenseLayer& d = ft.decoder[k];
        const Rbm& r = model.layers[k];
        DBN_CHECK(d.n_in() == r.n_hidden() && d.n_out() == r.n_visible() &&
                      d.bias.size() == r.n_visible(),
                  ShapeError,
                  "decoder " << k << ": weights [" << d.n_in() << ", " << d.n_out() << "], bias ["
                             << d.bias.size() << "] (expected [" << r.n_hidden() << ", "
                             << r.n_visible() << "] and [" << r.n_visible() << "])");
        DBN_CHECK(d.activation != Activation::softmax, ConfigError,
                  "decoder " << k << ": softmax units are not supported");
    }
}

Network classifier_network(const Dbn& model, const FineTuned& ft) {
    DBN_CHECK(ft.mode == FineTuneMode::classifier, ConfigError,
              "the model is not a fine-tuned classifier (fine-tune it with --mode classifier)");
    validate_fine_tuned(model, ft);
    Network net = unroll_encoder(model);
    net.layers.push_back(ft.head);
    net.hooks.push_back(nullptr);
    net.loss = LossKind::cross_entropy;
    return net;
}

Network autoencoder_network(const Dbn& model, const FineTuned& ft) {
    DBN_CHECK(ft.mode == FineTuneMode::autoencoder, ConfigError,
              "the model is not a fine-tuned autoencoder (fine-tune it with --mode autoencoder)");
    validate_fine_tuned(model, ft);
    Network net = unroll_encoder(model, ft.linear_code);
    for (std::size_t k = model.n_layers(); k-- > 0;) {
        net.layers.push_back(ft.decoder[k]);
        net.hooks.push_back(nullptr);
    }
    net.loss = ft.config.loss;
    return net;
}

}  // namespace dbn::finetune
