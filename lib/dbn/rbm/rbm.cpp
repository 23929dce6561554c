#include "dbn/rbm/rbm.hpp"

#include <cmath>
#include <cstring>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/core/vector_math.hpp"

namespace dbn {
namespace {

constexpr double k_log_sqrt_two_pi = 0.91893853320467274178032973640562;

void check_cols(ConstRows m, std::size_t cols, const char* fn, const char* what) {
    DBN_CHECK(m.cols == cols, ShapeError,
              "Rbm::" << fn << ": " << what << " has " << m.cols << " columns (expected " << cols
                      << ")");
}

void check_same(ConstRows a, ConstRows b, const char* fn) {
    DBN_CHECK(a.rows == b.rows && a.cols == b.cols, ShapeError,
              "Rbm::" << fn << ": output is " << b.rows << "x" << b.cols << " (expected " << a.rows
                      << "x" << a.cols << ")");
}

}  // namespace

Rbm::Rbm(std::size_t n_visible, std::size_t n_hidden, UnitType visible, UnitType hidden)
    : visible_(visible), hidden_(hidden) {
    DBN_CHECK(n_visible > 0 && n_hidden > 0, ConfigError,
              "Rbm: layer sizes must be positive (got " << n_visible << "x" << n_hidden << ")");
    DBN_CHECK(visible == UnitType::bernoulli || visible == UnitType::gaussian, ConfigError,
              "Rbm: visible units must be bernoulli or gaussian (got " << to_string(visible) << ")");
    DBN_CHECK(hidden == UnitType::bernoulli || hidden == UnitType::relu, ConfigError,
              "Rbm: hidden units must be bernoulli or relu (got " << to_string(hidden) << ")");
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

bool Rbm::unit_sigma() const {
    if (visible_ != UnitType::gaussian) return true;
    for (float s : visible_sigma_) {
        if (s != 1.0f) return false;
    }
    return true;
}

void Rbm::hidden_activation(ConstRows v, Rows act, Rows scratch) const {
    check_cols(v, n_visible(), "hidden_activation", "input");
    DBN_CHECK(act.rows == v.rows && act.cols == n_hidden(), ShapeError,
              "Rbm::hidden_activation: output is " << act.rows << "x" << act.cols << " (expected "
                                                   << v.rows << "x" << n_hidden() << ")");
    const std::size_t nh = n_hidden();
    const Real* b = hidden_bias_.data();
    for (std::size_t i = 0; i < act.rows; ++i) {
        Real* r = act.row(i);
        for (std::size_t j = 0; j < nh; ++j) r[j] = b[j];
    }
    ConstRows x = v;
    Matrix local;
    if (!unit_sigma()) {
        if (scratch.data == nullptr) {
            local = Matrix::from_shape({v.rows, v.cols});
            scratch = local;
        }
        DBN_CHECK(scratch.rows >= v.rows && scratch.cols == v.cols, ShapeError,
                  "Rbm::hidden_activation: scratch is too small");
        const Real* s = visible_sigma_.data();
        for (std::size_t i = 0; i < v.rows; ++i) {
            const Real* in = v.row(i);
            Real* out = scratch.row(i);
            for (std::size_t k = 0; k < v.cols; ++k) out[k] = in[k] / s[k];
        }
        x = ConstRows(scratch.data, v.rows, v.cols);
    }
    blas::gemm(false, false, 1.0f, x, weights_, 1.0f, act);
}

void Rbm::hidden_mean(ConstRows act, Rows mean) const {
    check_same(act, mean, "hidden_mean");
    const std::size_t n = act.rows * act.cols;
    if (hidden_ == UnitType::bernoulli) {
        vec::sigmoid(act.data, mean.data, n);
    } else {
        for (std::size_t i = 0; i < n; ++i) mean.data[i] = act.data[i] > 0.0f ? act.data[i] : 0.0f;
    }
}

void Rbm::sample_hidden(ConstRows act, ConstRows mean, Rows out, Rng& rng) const {
    check_same(act, out, "sample_hidden");
    const std::size_t n = act.rows * act.cols;
    if (hidden_ == UnitType::bernoulli) {
        rng.bernoulli(mean.data, out.data, n);
        return;
    }
    // NReLU: max(0, x + N(0, sigmoid(x))), the variance being sigmoid(x).
    rng.fill_normal(out.data, n);
    for (std::size_t i = 0; i < n; ++i) {
        const float x = act.data[i];
        const float y = x + std::sqrt(sigmoid(x)) * out.data[i];
        out.data[i] = y > 0.0f ? y : 0.0f;
    }
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
    const Real* a = visible_bias_.data();
    const Real* s = visible_sigma_.data();
    if (visible_ == UnitType::bernoulli) {
        // Biases first and beta = 1: OpenBLAS then skips its separate pass that zeroes C.
        for (std::size_t i = 0; i < mean.rows; ++i) std::memcpy(mean.row(i), a, nv * sizeof(Real));
        blas::gemm(false, true, 1.0f, h, weights_, 1.0f, mean);
        vec::sigmoid(mean.data, mean.data, mean.rows * nv);
        return;
    }
    blas::gemm(false, true, 1.0f, h, weights_, 0.0f, mean);
    for (std::size_t i = 0; i < mean.rows; ++i) {
        Real* r = mean.row(i);
        for (std::size_t k = 0; k < nv; ++k) r[k] = a[k] + s[k] * r[k];
    }
}

void Rbm::sample_visible(ConstRows mean, Rows out, Rng& rng) const {
    check_same(mean, out, "sample_visible");
    check_cols(mean, n_visible(), "sample_visible", "mean");
    const std::size_t n = mean.rows * mean.cols;
    if (visible_ == UnitType::bernoulli) {
        rng.bernoulli(mean.data, out.data, n);
        return;
    }
    rng.fill_normal(out.data, n);
    const Real* s = visible_sigma_.data();
    for (std::size_t i = 0; i < mean.rows; ++i) {
        const Real* m = mean.row(i);
        Real* o = out.row(i);
        for (std::size_t k = 0; k < mean.cols; ++k) o[k] = m[k] + s[k] * o[k];
    }
}

DVector Rbm::energy(ConstRows v, ConstRows h) const {
    check_cols(v, n_visible(), "energy", "visible states");
    check_cols(h, n_hidden(), "energy", "hidden states");
    DBN_CHECK(v.rows == h.rows, ShapeError,
              "Rbm::energy: " << v.rows << " visible rows against " << h.rows << " hidden rows");
    const std::size_t nv = n_visible();
    const std::size_t nh = n_hidden();
    DVector e = xt::zeros<double>({v.rows});
    for (std::size_t r = 0; r < v.rows; ++r) {
        const Real* vr = v.row(r);
        const Real* hr = h.row(r);
        double acc = 0.0;
        for (std::size_t j = 0; j < nh; ++j) acc -= double(hidden_bias_(j)) * hr[j];
        for (std::size_t i = 0; i < nv; ++i) {
            const double s = visible_sigma_(i);
            const double x = visible_ == UnitType::gaussian ? vr[i] / s : vr[i];
            if (visible_ == UnitType::gaussian) {
                const double d = vr[i] - double(visible_bias_(i));
                acc += d * d / (2.0 * s * s);
            } else {
                acc -= double(visible_bias_(i)) * vr[i];
            }
            double wh = 0.0;
            for (std::size_t j = 0; j < nh; ++j) wh += double(weights_(i, j)) * hr[j];
            acc -= x * wh;
        }
        e(r) = acc;
    }
    return e;
}

DVector Rbm::free_energy(ConstRows v) const {
    DBN_CHECK(hidden_ == UnitType::bernoulli, ConfigError,
              "Rbm::free_energy: rectified (relu) hidden units have no closed-form free energy");
    check_cols(v, n_visible(), "free_energy", "input");
    Matrix act = Matrix::from_shape({v.rows, n_hidden()});
    hidden_activation(v, act);
    const std::size_t nv = n_visible();
    const std::size_t nh = n_hidden();
    DVector f = xt::zeros<double>({v.rows});
    for (std::size_t r = 0; r < v.rows; ++r) {
        const Real* vr = v.row(r);
        double acc = 0.0;
        if (visible_ == UnitType::bernoulli) {
            for (std::size_t i = 0; i < nv; ++i) acc -= double(visible_bias_(i)) * vr[i];
        } else {
            for (std::size_t i = 0; i < nv; ++i) {
                const double s = visible_sigma_(i);
                const double d = vr[i] - double(visible_bias_(i));
                acc += d * d / (2.0 * s * s);
            }
        }
        for (std::size_t j = 0; j < nh; ++j) acc -= softplus(act(r, j));
        f(r) = acc;
    }
    return f;
}

DVector Rbm::hidden_free_energy(ConstRows h) const {
    check_cols(h, n_hidden(), "hidden_free_energy", "input");
    Matrix wh = Matrix::from_shape({h.rows, n_visible()});
    blas::gemm(false, true, 1.0f, h, weights_, 0.0f, wh);
    const std::size_t nv = n_visible();
    const std::size_t nh = n_hidden();
    double log_norm = 0.0;
    if (visible_ == UnitType::gaussian) {
        for (std::size_t i = 0; i < nv; ++i)
            log_norm += k_log_sqrt_two_pi + std::log(double(visible_sigma_(i)));
    }
    DVector g = xt::zeros<double>({h.rows});
    for (std::size_t r = 0; r < h.rows; ++r) {
        const Real* hr = h.row(r);
        double acc = 0.0;
        for (std::size_t j = 0; j < nh; ++j) acc -= double(hidden_bias_(j)) * hr[j];
        for (std::size_t i = 0; i < nv; ++i) {
            const double c = wh(r, i);
            if (visible_ == UnitType::bernoulli) {
                acc -= softplus(double(visible_bias_(i)) + c);
            } else {
                acc -= double(visible_bias_(i)) * c / double(visible_sigma_(i)) + 0.5 * c * c;
            }
        }
        g(r) = acc - log_norm;
    }
    return g;
}

Rbm Rbm::turned_over() const {
    DBN_CHECK(visible_ == UnitType::bernoulli && hidden_ == UnitType::bernoulli, ConfigError,
              "Rbm::turned_over: needs Bernoulli visible and hidden units (got "
                  << to_string(visible_) << "/" << to_string(hidden_) << ")");
    Rbm t(n_hidden(), n_visible());
    t.weights_ = xt::transpose(weights_);
    t.visible_bias_ = hidden_bias_;
    t.hidden_bias_ = visible_bias_;
    return t;
}

void Rbm::check_finite(const char* what) const {
    auto finite = [](const auto& a) {
        for (float x : a) {
            if (!std::isfinite(x)) return false;
        }
        return true;
    };
    DBN_CHECK(finite(weights_) && finite(visible_bias_) && finite(hidden_bias_) &&
                  finite(visible_sigma_),
              NumericalError, what << ": parameters are not finite (NaN or Inf); lower the learning rate");
}

}  // namespace dbn
