#include "dbn/sample/sampler.hpp"

#include <string>

#include "dbn/core/error.hpp"

namespace dbn::sample {

void gibbs_steps(const Rbm& rbm, Matrix& v, std::size_t steps, Rng& rng) {
    const std::size_t n = v.shape(0);
    Matrix act = Matrix::from_shape({n, rbm.n_hidden()});
    Matrix hmean = Matrix::from_shape({n, rbm.n_hidden()});
    Matrix h = Matrix::from_shape({n, rbm.n_hidden()});
    Matrix vmean = Matrix::from_shape({n, rbm.n_visible()});
    Matrix scratch = Matrix::from_shape({n, rbm.n_visible()});
    for (std::size_t s = 0; s < steps; ++s) {
        rbm.hidden_activation(v, act, scratch);
        rbm.hidden_mean(act, hmean);
        rbm.sample_hidden(act, hmean, h, rng);
        rbm.visible_mean(h, vmean);
        rbm.sample_visible(vmean, v, rng);
    }
}

Matrix random_start(const Rbm& rbm, std::size_t count, Rng& rng) {
    Matrix v = Matrix::from_shape({count, rbm.n_visible()});
    if (rbm.visible_type() == UnitType::bernoulli) {
        Matrix half = Matrix::from_shape({count, rbm.n_visible()});
        half.fill(0.5f);
        rng.bernoulli(half.data(), v.data(), v.size());
    } else {
        rng.fill_normal(v.data(), v.size());
    }
    return v;
}

Matrix top_input(const Dbn& model, const Matrix& raw) {
    Matrix x = model.preprocess(raw);
    for (std::size_t k = 0; k + 1 < model.n_layers(); ++k) x = model.propagate(k, x, true);
    return x;
}

namespace {

/// The start states of the top RBM's chains: `start`'s rows in turn, or random ones.
Matrix start_states(const Rbm& top, std::size_t count, const Matrix* start, Rng& rng) {
    if (start == nullptr) return random_start(top, count, rng);
    if (start->shape(0) == 0 || start->shape(1) != top.n_visible())
        throw ShapeError("start states: " + std::to_string(start->shape(0)) + " x " +
                         std::to_string(start->shape(1)) + ", the top layer has " +
                         std::to_string(top.n_visible()) + " visible units");
    Matrix v = Matrix::from_shape({count, top.n_visible()});
    for (std::size_t r = 0; r < count; ++r)
        for (std::size_t i = 0; i < top.n_visible(); ++i)
            v(r, i) = (*start)(r % start->shape(0), i);
    return v;
}

}  // namespace

std::vector<Matrix> sample_chain_frames(const Dbn& model, const SampleOptions& options,
                                        const std::vector<std::size_t>& at_steps,
                                        const Matrix* start) {
    model.validate();
    DBN_CHECK(!at_steps.empty(), ConfigError, "chain frames: no steps to look at");
    for (std::size_t i = 1; i < at_steps.size(); ++i)
        DBN_CHECK(at_steps[i] > at_steps[i - 1], ConfigError,
                  "chain frames: the steps must increase");
    const Rbm& top = model.layers.back();
    Rng rng(options.seed);
    Matrix v = start_states(top, options.count, start, rng);
    std::vector<Matrix> frames;
    std::size_t done = 0;
    for (std::size_t at : at_steps) {
        gibbs_steps(top, v, at - done, rng);
        done = at;
        Matrix x = v;
        for (std::size_t k = model.n_layers() - 1; k-- > 0;) {
            Matrix m = Matrix::from_shape({options.count, model.layers[k].n_visible()});
            model.layers[k].visible_mean(x, m);
            x = std::move(m);
        }
        invert_preprocessing(model.preprocessing, x);
        frames.push_back(std::move(x));
    }
    return frames;
}

Samples sample_model(const Dbn& model, const SampleOptions& options, const Matrix* start) {
    model.validate();
    const Rbm& top = model.layers.back();
    Rng rng(options.seed);
    Matrix v = start_states(top, options.count, start, rng);
    gibbs_steps(top, v, options.steps, rng);

    // The top RBM's last p(v|h) would be a mean; its sampled states v are what the chain is in.
    // Going down, each lower layer k turns the states of its hidden units into the mean of its
    // visible units; the bottom layer's means are the samples.
    Samples out;
    Matrix x = v;
    Matrix mean;
    if (model.n_layers() == 1) {
        // The chain's state is already visible: take the mean of its last half step instead,
        // p(v | h) with h drawn from p(h | v), so that means and states agree in law.
        Matrix act = Matrix::from_shape({options.count, top.n_hidden()});
        Matrix hmean = Matrix::from_shape({options.count, top.n_hidden()});
        Matrix h = Matrix::from_shape({options.count, top.n_hidden()});
        top.hidden_activation(v, act);
        top.hidden_mean(act, hmean);
        top.sample_hidden(act, hmean, h, rng);
        mean = Matrix::from_shape({options.count, top.n_visible()});
        top.visible_mean(h, mean);
        if (top.visible_type() == UnitType::bernoulli) out.binary = v;
    } else {
        for (std::size_t k = model.n_layers() - 1; k-- > 0;) {
            const Rbm& layer = model.layers[k];
            Matrix m = Matrix::from_shape({options.count, layer.n_visible()});
            layer.visible_mean(x, m);
            x = m;
        }
        mean = x;
        const Rbm& bottom = model.layers.front();
        if (bottom.visible_type() == UnitType::bernoulli) {
            out.binary = Matrix::from_shape({options.count, bottom.n_visible()});
            bottom.sample_visible(mean, out.binary, rng);
        }
    }
    invert_preprocessing(model.preprocessing, mean);
    out.means = mean;
    return out;
}

void invert_preprocessing(const data::Preprocessing& pre, Matrix& x) {
    if (pre.binarize) return;
    const std::size_t cols = x.shape(1);
    for (std::size_t r = 0; r < x.shape(0); ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            float value = x(r, c);
            if (pre.standardize && pre.mean.size() == cols)
                value = value * pre.stddev(c) + pre.mean(c);
            x(r, c) = value * pre.scale;
        }
}

}  // namespace dbn::sample
