#pragma once

#include <cstddef>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/units/units.hpp"

namespace dbn {

/// @brief A restricted Boltzmann machine: parameters and the math of docs/MATH.md#one-rbm and
/// docs/MATH.md#free-energies.
///
/// Holds only parameters (no data, no chain state). Visible units are Bernoulli or Gaussian with a
/// fixed per-unit standard deviation s; hidden units are Bernoulli or rectified (NReLU): the
/// sides allowed by each family's `Units` object (units/), to which every method dispatches
/// once per call. Writes go into caller-allocated outputs, so that the training loop allocates
/// nothing.
///
/// Energies (x_i = v_i for Bernoulli visible units, v_i / s_i for Gaussian ones):
///   E(v,h) = -a.v - b.h - v W h                                    Bernoulli visible
///   E(v,h) = sum_i (v_i - a_i)^2 / (2 s_i^2) - b.h - x W h         Gaussian visible
class Rbm {
public:
    Rbm() = default;
    /// @throws ConfigError for a zero size or a family on a side it is not allowed on
    ///         (visible: bernoulli|gaussian, hidden: bernoulli|relu).
    Rbm(std::size_t n_visible, std::size_t n_hidden, UnitType visible = UnitType::bernoulli,
        UnitType hidden = UnitType::bernoulli);

    std::size_t n_visible() const { return weights_.shape(0); }
    std::size_t n_hidden() const { return weights_.shape(1); }
    UnitType visible_type() const { return visible_->type(); }
    UnitType hidden_type() const { return hidden_->type(); }
    /// @brief The unit families: ask them, rather than the type, what the units can do.
    const Units& visible_units() const { return *visible_; }
    const Units& hidden_units() const { return *hidden_; }
    /// @brief Views of the visible (a, s) and hidden (b) parameters for the unit objects.
    UnitParams visible_params() const { return {visible_bias_.data(), visible_sigma_.data()}; }
    UnitParams hidden_params() const { return {hidden_bias_.data()}; }

    Matrix& weights() { return weights_; }
    const Matrix& weights() const { return weights_; }
    Vector& visible_bias() { return visible_bias_; }
    const Vector& visible_bias() const { return visible_bias_; }
    Vector& hidden_bias() { return hidden_bias_; }
    const Vector& hidden_bias() const { return hidden_bias_; }
    /// Per-unit standard deviation of Gaussian visible units (all ones for other types).
    Vector& visible_sigma() { return visible_sigma_; }
    const Vector& visible_sigma() const { return visible_sigma_; }

    /// @brief Weights from N(0, stddev^2), biases zero, sigma one.
    void init_random(Rng& rng, float stddev = 0.01f);

    /// @brief act = x W + b for each row of v (x = v / s for Gaussian visible units).
    /// @param scratch rows x n_visible buffer used when some s_i != 1 (allocated if empty).
    void hidden_activation(ConstRows v, Rows act, Rows scratch = {}) const;
    /// @brief act = x W + b for x already scaled (x = phi(v), see Units::scale_input): the
    /// product of hidden_activation, for callers that keep their own scaled states (AIS).
    void hidden_activation_of_input(ConstRows x, Rows act) const;
    /// @brief Mean-field hidden values from activations: sigmoid (Bernoulli) or max(0, x) (NReLU).
    void hidden_mean(ConstRows act, Rows mean) const;
    /// @brief Samples hidden states from activations and their means.
    void sample_hidden(ConstRows act, ConstRows mean, Rows out, Rng& rng) const;
    /// @brief p(h|v) (or the NReLU mean) for each row of v; allocates only when s != 1.
    void hidden_probabilities(ConstRows v, Rows out) const;

    /// @brief Mean of v given h: sigmoid(a + W h) (Bernoulli) or a + s (W h) (Gaussian).
    void visible_mean(ConstRows h, Rows mean) const;
    /// @brief Samples visible states given their means.
    void sample_visible(ConstRows mean, Rows out, Rng& rng) const;

    /// @brief Energy E(v, h) of each pair of rows, in double.
    DVector energy(ConstRows v, ConstRows h) const;
    /// @brief Visible free energy F(v) of each row, hidden units summed out
    /// (docs/MATH.md#free-energies).
    /// @throws ConfigError for rectified hidden units, which have no closed-form free energy.
    DVector free_energy(ConstRows v) const;
    /// @brief Hidden-side free energy G(h) of each row, visible units summed or integrated out.
    DVector hidden_free_energy(ConstRows h) const;

    /// @brief The RBM with visible and hidden sides swapped: W^T, a <-> b, the families swapped
    /// (families allowed on either side only, i.e. Bernoulli units).
    /// @throws ConfigError otherwise.
    Rbm turned_over() const;
    /// @brief The RBM turned over and widened to `n_hidden` >= n_visible() hidden units: the
    /// first n_visible() hidden units are turned_over()'s, the extra units j have zero weights
    /// and the biases `extra_bias` (zeros when empty). Each extra unit then adds
    /// -softplus(c_j) to the free energy of every state, so the widened RBM's distribution over
    /// its visible units is this RBM's over its hidden units, and
    ///     log Z(widened) = log Z(this) + sum_j softplus(c_j)   exactly
    /// (docs/MATH.md#consistency-check).
    /// @throws ConfigError for units not allowed on either side, or n_hidden < n_visible()
    ///         (a narrower layer cannot start as this one turned over: dropping visible units
    ///         changes the distribution over the hidden units).
    /// @throws ShapeError when extra_bias is neither empty nor n_hidden - n_visible() long.
    Rbm widened_turned_over(std::size_t n_hidden,
                            const Vector& extra_bias = Vector::from_shape({0})) const;

    /// @brief Throws NumericalError naming `what` when any parameter is NaN or infinite.
    void check_finite(const char* what) const;

private:
    const Units* visible_ = &units(UnitType::bernoulli);
    const Units* hidden_ = &units(UnitType::bernoulli);
    Matrix weights_ = Matrix::from_shape({0, 0});
    Vector visible_bias_ = Vector::from_shape({0});
    Vector hidden_bias_ = Vector::from_shape({0});
    Vector visible_sigma_ = Vector::from_shape({0});
};

}  // namespace dbn
