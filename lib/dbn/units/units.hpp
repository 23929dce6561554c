#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"

namespace dbn {

/// @brief Unit families of an RBM layer: the tag kept in configs and model files.
///
/// - bernoulli: binary units, p(u = 1 | input) = sigmoid(input); visible or hidden.
/// - gaussian: real-valued visible units with a fixed per-unit sigma (docs/MATH.md#one-rbm).
/// - relu: noisy rectified hidden units (NReLU, Nair & Hinton 2010), max(0, x + N(0, sigmoid(x))).
///
/// Everything that depends on the family lives in its `Units` object (units(type)).
enum class UnitType { bernoulli, gaussian, relu };

/// @brief The two sides of an RBM.
enum class UnitSide { visible, hidden };

/// @brief The deterministic function of the input that a family's mean is: what a unit of the
/// family becomes in a feed-forward network (fine-tuning).
enum class MeanFunction {
    logistic,   ///< sigmoid(x)
    rectified,  ///< max(0, x)
    affine,     ///< a + s x: the per-unit bias and scale, then linear
};

/// @brief The per-unit parameters of one side of an RBM, as the unit objects read them.
/// Arrays hold one value per unit (per column of the blocks passed with them).
struct UnitParams {
    /// Biases a (visible) or b (hidden). Where an operation takes an input, a null bias means
    /// that the input already includes it, which only families with bias_adds_to_input() allow.
    const Real* bias = nullptr;
    /// Per-unit standard deviations s (families with has_sigma() only).
    const Real* sigma = nullptr;
    /// Optional 1 / s, kept by a caller that scales the same units at every step (AIS):
    /// scale_input() then multiplies by it instead of dividing by s.
    const Real* inv_sigma = nullptr;
};

/// @brief One unit family: every formula of an RBM that depends on the kind of its units.
///
/// Shaped after Shark's RBM neuron layers (BinaryLayer, GaussianLayer, ...). Objects are
/// stateless singletons (units(type)); parameters come in through UnitParams. Every operation
/// works on a block of rows (one sample per row, one unit per column), so that a caller
/// dispatches once per block, never per element, and the loops inside stay vectorizable.
///
/// Conventions: the `input` of a unit is what the other side sends it, the product with the
/// weights (x W for hidden units, W h for visible ones), plus its bias when p.bias is null.
/// Energies are written E(v, h) = sum_i e_i(v_i) + sum_j e_j(h_j) - phi(v) W h, with the
/// unit's own energy term e (docs/MATH.md#one-rbm) and phi(v) = v, or v / s for Gaussian units.
/// The log-marginal of a unit is log sum_u exp(-beta (e(u) - phi(u) input)) over its states
/// (an integral for continuous units, docs/MATH.md#free-energies), so that a free energy is
/// the other side's energy terms minus the sum of the log-marginals. Operations that accumulate
/// (`add_...`, `subtract_...`) add their terms to out[r] one unit at a time, in column order, so
/// that a sum built from several of them is the same, bit for bit, as one written out by hand.
/// Families without a closed form (closed_form() false) throw ConfigError from the
/// log-marginal, log-conditional and base-rate operations, naming themselves.
class Units {
public:
    virtual ~Units() = default;

    // --- Identity ---------------------------------------------------------------------------
    /// @brief The tag stored in configs and files.
    virtual UnitType type() const = 0;
    /// @brief The name in configs and model files ("bernoulli", "gaussian", "relu").
    virtual const char* name() const = 0;
    /// @brief The name in prose, for messages ("Bernoulli", "Gaussian", "NReLU").
    virtual const char* label() const = 0;
    /// @brief Other names that configs accept (never written, never accepted in model files).
    virtual std::vector<std::string> aliases() const = 0;
    /// @brief Whether the family may sit on `side` of an RBM.
    virtual bool allowed(UnitSide side) const = 0;

    // --- Properties that callers ask instead of testing the type -----------------------------
    /// @brief States are 0 and 1 only: a side of such units can be enumerated, bits flipped.
    virtual bool binary() const = 0;
    /// @brief The log-marginal (hence free energies, exact log Z and AIS weights) and the
    /// log-conditional have a closed form.
    virtual bool closed_form() const = 0;
    /// @brief Units have a per-unit standard deviation s (UnitParams::sigma), their state
    /// entering the product with the weights as v / s.
    virtual bool has_sigma() const = 0;
    /// @brief The conditional distribution depends on input + bias only, so that a caller may
    /// add the bias into the product (preloading it into a GEMM's output) and pass p.bias = null.
    /// False for Gaussian units, whose mean a + s * input applies bias and scale itself.
    virtual bool bias_adds_to_input() const = 0;
    /// @brief sample() reads the input (NReLU); otherwise it reads the mean only.
    virtual bool samples_from_input() const = 0;
    /// @brief What the mean is as a function of the input.
    virtual MeanFunction mean_function() const = 0;
    /// @brief The family whose visible units model these units' states in the layer above:
    /// binary states by Bernoulli units, real values by Gaussian ones.
    virtual UnitType visible_model() const = 0;

    // --- Model path (float, beta = 1) -------------------------------------------------------
    /// @brief Whether phi(v) = v for these parameters over n units, so that scale_input() can
    /// be skipped (always for unscaled families; Gaussian units when every s is 1).
    virtual bool input_is_state(const UnitParams& p, std::size_t n) const = 0;
    /// @brief x = phi(v): v / s (or v * inv_sigma when given) for scaled families, else v.
    /// x and v may be the same block.
    virtual void scale_input(ConstRows v, const UnitParams& p, Rows x) const = 0;
    /// @brief Conditional means given the input: sigmoid, max(0, .) or a + s * input.
    /// With a separate bias, Bernoulli units form input + bias and the logistic in double
    /// (the estimators' kernel); with the bias in the input, in float (vec::sigmoid).
    /// mean may be the input block.
    virtual void mean(ConstRows input, const UnitParams& p, Rows mean) const = 0;
    /// @brief Draws states given the input and the means (bulk draws from rng; families read
    /// what samples_from_input() says). out is never the input block; it may be the mean block
    /// for binary families only (each draw reads its own probability first).
    virtual void sample(ConstRows input, ConstRows mean, const UnitParams& p, Rows out,
                        Rng& rng) const = 0;
    /// @brief Exact draws of units on their own (no weights: the base-rate model of AIS), every
    /// row from the same distribution: Bernoulli(sigmoid(bias)) or N(bias, s^2).
    virtual void sample_uncoupled(const UnitParams& p, Rows out, Rng& rng) const = 0;
    /// @brief out[r] += sum_i e_i(state_ri), in double.
    virtual void add_energy(ConstRows state, const UnitParams& p, double* out) const = 0;
    /// @brief out[r] += sum_i [e_i(state_ri; from) - e_i(state_ri; to)]: the change of the energy
    /// terms when the biases go from `from` to `to` (same sigma), as AIS weighs it.
    virtual void add_energy_difference(ConstRows state, const UnitParams& from,
                                       const UnitParams& to, double* out) const = 0;

    // --- Log-marginals, in double -------------------------------------------------------------
    /// @brief out[r] -= sum_i log-marginal_i(input_ri) at beta = 1, term by term through libm
    /// (the free energies' form): each row's free-energy contribution of these units.
    virtual void subtract_log_marginals(ConstRows input, const UnitParams& p,
                                        double* out) const = 0;
    /// @brief The part of sum_i log-marginal_i that does not depend on the input (Gaussian:
    /// sum_i log(sqrt(2 pi) s_i); 0 for Bernoulli units).
    virtual double log_marginal_constant(const UnitParams& p, std::size_t n) const = 0;
    /// @brief acc + log Z of n units on their own (no weights; the log-marginals at input 0):
    /// sum_i softplus(b_i), or n log 2 when p.bias is null (zero biases), for Bernoulli units;
    /// sum_i log(sqrt(2 pi) s_i) for Gaussian ones.
    virtual double add_uncoupled_log_partition(const UnitParams& p, std::size_t n,
                                               double acc) const = 0;
    /// @brief out[r] = sum_i log-marginal_i(input_ri) at inverse temperature beta, through the
    /// vectorized kernels (AIS), and when `mean` is not empty the means of the units at that
    /// temperature (sigmoid(beta input) for Bernoulli units).
    virtual void tempered_log_marginals(ConstRows input, const UnitParams& p, double beta,
                                        double* out, Rows mean) const = 0;
    /// @brief Per-unit coefficients that log_marginal_rows() needs, computed once for a loop
    /// over many rows (Gaussian: a_i / s_i; none for Bernoulli units).
    virtual std::vector<double> log_marginal_coefficients(const UnitParams& p,
                                                          std::size_t n) const = 0;
    /// @brief out[z] = sum_i log-marginal_i(x[z n + i] + y[i]) - constant for z < rows, at
    /// beta = 1, in double: the units summed out against each of `rows` states of the other
    /// side (exact enumeration; y holds the bias when bias_adds_to_input(), else it is not in
    /// the input). `coef` comes from log_marginal_coefficients(); the constant is
    /// log_marginal_constant(), left to the caller.
    virtual void log_marginal_rows(const double* x, std::size_t rows, const double* y,
                                   std::size_t n, const std::vector<double>& coef,
                                   double* out) const = 0;

    // --- Conditionals and initialization --------------------------------------------------------
    /// @brief out[r] += sum_i log p(state_ri | input_ri), in double.
    virtual void add_log_conditional(ConstRows state, ConstRows input, const UnitParams& p,
                                     double* out) const = 0;
    /// @brief Biases of units on their own whose means are the data's column means `mean`:
    /// logit(clamp(mean, clip, 1 - clip)) for Bernoulli units, the mean for Gaussian ones.
    virtual void base_rate_bias(const double* mean, std::size_t n, double clip,
                                Real* bias) const = 0;
};

/// Base rates are clipped to [clip, 1 - clip] before the logit: a pixel never on in the data
/// would otherwise get a bias of -inf. 1e-3 gives -6.9, about where a trained RBM puts such a
/// unit's bias, and keeps any rate seen once in a thousand samples as it is.
inline constexpr double k_base_rate_clip = 1e-3;

// --- Registry ---------------------------------------------------------------------------------

/// @brief The family object of a tag.
const Units& units(UnitType t);
/// @brief Every family, in the order of UnitType.
const std::vector<const Units*>& unit_families();
/// @brief The family with this canonical name (model files), or null.
const Units* find_units(const std::string& name);
/// @brief "bernoulli", "gaussian" or "relu": the names used in configs and model files.
const char* to_string(UnitType t);
/// @brief "visible" or "hidden".
const char* to_string(UnitSide s);
/// @brief Parses a unit name or alias (configs); `what` names the setting in the error message.
/// @throws ConfigError for an unknown name.
UnitType parse_unit_type(const std::string& name, const std::string& what = "unit type");
/// @brief The quoted names of the families that `keep` accepts, as a list in prose:
/// "\"bernoulli\", \"gaussian\" or \"relu\"".
std::string unit_names(const std::function<bool(const Units&)>& keep);
/// @brief The quoted names of every family.
std::string unit_names();
/// @brief The quoted names of the families allowed on `side`.
std::string unit_names(UnitSide side);
/// @brief Throws ConfigError "what: <side> units must be ... (got "<name>")" unless the family
/// is allowed on that side.
void check_unit_side(UnitType t, UnitSide side, const std::string& what);
/// @brief Whether the family may sit on either side, so that an RBM of it can be turned over.
bool swappable(UnitType t);

}  // namespace dbn
