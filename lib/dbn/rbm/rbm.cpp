#include "dbn/rbm/rbm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"

namespace dbn {
namespace {

void check_cols(ConstRows m, std::size_t cols, const char* fn, const char* what) {
    DBN_CHECK(
        m.cols == cols, ShapeError,
        "Rbm::" << fn << ": " << what << " has " << m.cols << " columns (expected " << cols << ")");
}

void check_same(ConstRows a, ConstRows b, const char* fn) {
    DBN_CHECK(a.rows == b.rows && a.cols == b.cols, ShapeError,
              "Rbm::" << fn << ": output is " << b.rows << "x" << b.cols << " (expected " << a.rows
                      << "x" << a.cols << ")");
}

}  // namespace

Rbm::Rbm(std::size_t n_visible, std::size_t n_hidden, UnitType visible, UnitType hidden)
    : visible_(&units(visible)), hidden_(&units(hidden)) {
    DBN_CHECK(n_visible > 0 && n_hidden > 0, ConfigError,
              "Rbm: layer sizes must be positive (got " << n_visible << "x" << n_hidden << ")");
    check_unit_side(visible, UnitSide::visible, "Rbm");
    check_unit_side(hidden, UnitSide::hidden, "Rbm");
    weights_ = xt::zeros<Real>({n_visible, n_hidden});
    visible_bias_ = xt::zeros<Real>({n_visible});
    hidden_bias_ = xt::zeros<Real>({n_hidden});
    visible_sigma_ = xt::ones<Real>({n_visible});
}

void Rbm::init_random(Rng& rng, float stddev) {
    rng.fill_normal(weights_.data(), weights_.size());
    for (auto& w : weights_) w *= stddev;
    visible_bias_.fill(0.0f);
    hidden_bias_.fill(0.0f);
    visible_sigma_.fill(1.0f);
}

void Rbm::hidden_activation(ConstRows v, Rows act, Rows scratch) const {
    check_cols(v, n_visible(), "hidden_activation", "input");
    ConstRows x = v;
    Matrix local;
    if (!visible_->input_is_state(visible_params(), n_visible())) {
        if (scratch.data == nullptr) {
            local = Matrix::from_shape({v.rows, v.cols});
            scratch = local;
        }
        DBN_CHECK(scratch.rows >= v.rows && scratch.cols == v.cols, ShapeError,
                  "Rbm::hidden_activation: scratch is too small");
        Rows xs(scratch.data, v.rows, v.cols);
        visible_->scale_input(v, visible_params(), xs);
        x = xs;
    }
    hidden_activation_of_input(x, act);
}

void Rbm::hidden_activation_of_input(ConstRows x, Rows act) const {
    check_cols(x, n_visible(), "hidden_activation", "input");
    DBN_CHECK(act.rows == x.rows && act.cols == n_hidden(), ShapeError,
              "Rbm::hidden_activation: output is " << act.rows << "x" << act.cols << " (expected "
                                                   << x.rows << "x" << n_hidden() << ")");
    // Biases first and beta = 1: every hidden family's bias adds to its input.
    DBN_ASSERT(hidden_->bias_adds_to_input());
    const std::size_t nh = n_hidden();
    const Real* b = hidden_bias_.data();
    for (std::size_t i = 0; i < act.rows; ++i) std::memcpy(act.row(i), b, nh * sizeof(Real));
    blas::gemm(false, false, 1.0f, x, weights_, 1.0f, act);
}

void Rbm::hidden_mean(ConstRows act, Rows mean) const {
    check_same(act, mean, "hidden_mean");
    hidden_->mean(act, {}, mean);
}

void Rbm::sample_hidden(ConstRows act, ConstRows mean, Rows out, Rng& rng) const {
    check_same(act, out, "sample_hidden");
    hidden_->sample(act, mean, {}, out, rng);
}

void Rbm::hidden_probabilities(ConstRows v, Rows out) const {
    hidden_activation(v, out);
    hidden_mean(out, out);
}

void Rbm::visible_mean(ConstRows h, Rows mean) const {
    check_cols(h, n_hidden(), "visible_mean", "input");
    DBN_CHECK(mean.rows == h.rows && mean.cols == n_visible(), ShapeError,
              "Rbm::visible_mean: output is " << mean.rows << "x" << mean.cols << " (expected "
                                              << h.rows << "x" << n_visible() << ")");
    const std::size_t nv = n_visible();
    if (visible_->bias_adds_to_input()) {
        // Biases first and beta = 1: OpenBLAS then skips its separate pass that zeroes C.
        const Real* a = visible_bias_.data();
        for (std::size_t i = 0; i < mean.rows; ++i) std::memcpy(mean.row(i), a, nv * sizeof(Real));
        blas::gemm(false, true, 1.0f, h, weights_, 1.0f, mean);
        visible_->mean(mean, {}, mean);
        return;
    }
    blas::gemm(false, true, 1.0f, h, weights_, 0.0f, mean);
    visible_->mean(mean, visible_params(), mean);
}

void Rbm::sample_visible(ConstRows mean, Rows out, Rng& rng) const {
    check_same(mean, out, "sample_visible");
    check_cols(mean, n_visible(), "sample_visible", "mean");
    visible_->sample(mean, mean, visible_params(), out, rng);
}

DVector Rbm::energy(ConstRows v, ConstRows h) const {
    check_cols(v, n_visible(), "energy", "visible states");
    check_cols(h, n_hidden(), "energy", "hidden states");
    DBN_CHECK(v.rows == h.rows, ShapeError,
              "Rbm::energy: " << v.rows << " visible rows against " << h.rows << " hidden rows");
    const std::size_t nv = n_visible();
    const std::size_t nh = n_hidden();
    DVector e = xt::zeros<double>({v.rows});
    hidden_->add_energy(h, hidden_params(), e.data());
    visible_->add_energy(v, visible_params(), e.data());
    // The coupling -phi(v) W h, in double.
    Matrix x = Matrix::from_shape({v.rows, nv});
    visible_->scale_input(v, visible_params(), x);
    for (std::size_t r = 0; r < v.rows; ++r) {
        const Real* hr = h.row(r);
        double acc = e(r);
        for (std::size_t i = 0; i < nv; ++i) {
            double wh = 0.0;
            for (std::size_t j = 0; j < nh; ++j) wh += double(weights_(i, j)) * hr[j];
            acc -= double(x(r, i)) * wh;
        }
        e(r) = acc;
    }
    return e;
}

DVector Rbm::free_energy(ConstRows v) const {
    DBN_CHECK(
        hidden_->closed_form(), ConfigError,
        "Rbm::free_energy: " << hidden_->name() << " hidden units have no closed-form free energy");
    check_cols(v, n_visible(), "free_energy", "input");
    Matrix act = Matrix::from_shape({v.rows, n_hidden()});
    hidden_activation(v, act);
    // F(v) = sum_i e_i(v_i) - sum_j log-marginal_j(act_j).
    DVector f = xt::zeros<double>({v.rows});
    visible_->add_energy(v, visible_params(), f.data());
    hidden_->subtract_log_marginals(act, {}, f.data());
    return f;
}

DVector Rbm::hidden_free_energy(ConstRows h) const {
    check_cols(h, n_hidden(), "hidden_free_energy", "input");
    Matrix wh = Matrix::from_shape({h.rows, n_visible()});
    blas::gemm(false, true, 1.0f, h, weights_, 0.0f, wh);
    // G(h) = sum_j e_j(h_j) - sum_i log-marginal_i((W h)_i), the visible biases applied by the
    // visible units themselves.
    DVector g = xt::zeros<double>({h.rows});
    hidden_->add_energy(h, hidden_params(), g.data());
    visible_->subtract_log_marginals(wh, visible_params(), g.data());
    return g;
}

Rbm Rbm::turned_over() const {
    DBN_CHECK(swappable(visible_type()) && swappable(hidden_type()), ConfigError,
              "Rbm::turned_over: needs units allowed on either side ("
                  << unit_names([](const Units& u) { return swappable(u.type()); })
                  << ") on both sides (got " << visible_->name() << "/" << hidden_->name() << ")");
    Rbm t(n_hidden(), n_visible(), hidden_type(), visible_type());
    t.weights_ = xt::transpose(weights_);
    t.visible_bias_ = hidden_bias_;
    t.hidden_bias_ = visible_bias_;
    return t;
}

Rbm Rbm::widened_turned_over(std::size_t n_hidden, const Vector& extra_bias) const {
    DBN_CHECK(n_hidden >= n_visible(), ConfigError,
              "Rbm::widened_turned_over: a layer of "
                  << n_hidden << " hidden units cannot start as one of " << n_visible()
                  << " visible units turned over (it needs at least as many)");
    const std::size_t extra = n_hidden - n_visible();
    DBN_CHECK(extra_bias.size() == 0 || extra_bias.size() == extra, ShapeError,
              "Rbm::widened_turned_over: " << extra_bias.size() << " extra biases (expected "
                                           << extra << ")");
    const Rbm t = turned_over();
    if (extra == 0) return t;
    Rbm w(t.n_visible(), n_hidden, t.visible_type(), t.hidden_type());
    w.weights_.fill(0.0f);
    for (std::size_t i = 0; i < t.n_visible(); ++i)
        std::copy(t.weights_.data() + i * t.n_hidden(), t.weights_.data() + (i + 1) * t.n_hidden(),
                  w.weights_.data() + i * n_hidden);
    w.visible_bias_ = t.visible_bias_;
    for (std::size_t j = 0; j < n_hidden; ++j)
        w.hidden_bias_(j) = j < t.n_hidden()    ? t.hidden_bias_(j)
                            : extra_bias.size() ? extra_bias(j - t.n_hidden())
                                                : 0.0f;
    return w;
}

void Rbm::check_finite(const char* what) const {
    auto finite = [](const auto& a) {
        for (float x : a) {
            if (!std::isfinite(x)) return false;
        }
        return true;
    };
    DBN_CHECK(
        finite(weights_) && finite(visible_bias_) && finite(hidden_bias_) && finite(visible_sigma_),
        NumericalError,
        what << ": parameters are not finite (NaN or Inf); lower the learning rate");
}

}  // namespace dbn
