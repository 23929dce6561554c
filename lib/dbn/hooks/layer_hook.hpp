#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dbn/core/types.hpp"

namespace dbn {

/// @brief A hook's saved state: named float32 vectors and named real numbers.
///
/// Saved under `/layers/<k>/hook` (docs/FORMAT.md): vectors as float32 datasets, numbers as
/// float64 attributes, beside the string attribute `kind`.
struct HookParameters {
    std::map<std::string, Vector> vectors;
    std::map<std::string, double> numbers;
};

/// @brief A layer-normalization hook between layer k and layer k+1
/// (docs/MATH.md#consistency-check).
///
/// Fitted once on the training representations during pretraining, then replayed identically
/// wherever the stack is applied (feature extraction, fine-tuning, evaluation). Its parameters
/// are part of the model. Hooks are immutable once fitted, so models share them.
class LayerHook {
public:
    virtual ~LayerHook() = default;
    /// @brief The registered name ("standardize", "layernorm", or a user's).
    virtual std::string kind() const = 0;
    /// @brief Fits the parameters on training representations (one sample per row).
    virtual void fit(const Matrix& x) = 0;
    /// @brief Transforms rows in place.
    /// @throws ShapeError when the column count does not match the fitted size.
    virtual void apply(Rows x) const = 0;
    /// @brief Gradient through the hook: grad_in = J(x)^T grad_out for each row, where x is the
    /// input the hook was applied to. Used by fine-tuning's backpropagation.
    virtual void backward(ConstRows x, ConstRows grad_out, Rows grad_in) const = 0;
    /// @brief The state to save.
    virtual HookParameters parameters() const = 0;
    /// @brief Restores a saved state for `size` units.
    /// @throws FormatError naming the missing or misshapen parameter.
    virtual void set_parameters(const HookParameters& p, std::size_t size) = 0;
};

/// Options of a hook from the configuration (`{"kind": "layernorm", "epsilon": 1e-5}`).
using HookOptions = std::map<std::string, double>;
/// Makes an unfitted hook from its options; throws ConfigError for an option it does not know.
using HookFactory = std::function<std::unique_ptr<LayerHook>(const HookOptions&)>;

/// @brief Registers a hook type under `kind` so that configurations and model files can name it.
/// Library users call this before training or loading models that use their hook.
/// @throws ConfigError when `kind` is empty, "none", or already registered.
void register_hook(const std::string& kind, HookFactory factory);

/// @brief A new hook of a registered kind.
/// @throws ConfigError naming the kind and listing the registered ones when it is unknown.
std::unique_ptr<LayerHook> make_hook(const std::string& kind, const HookOptions& options = {});

/// @brief Whether `kind` is registered (built-ins: "standardize", "layernorm").
bool hook_registered(const std::string& kind);

/// @brief Registered kinds, sorted.
std::vector<std::string> registered_hooks();

/// @brief Per-unit z-score with the training mean and (population) standard deviation; a unit
/// whose deviation is below 1e-6 is centred but not divided.
class StandardizeHook : public LayerHook {
public:
    std::string kind() const override { return "standardize"; }
    void fit(const Matrix& x) override;
    void apply(Rows x) const override;
    void backward(ConstRows x, ConstRows grad_out, Rows grad_in) const override;
    HookParameters parameters() const override;
    void set_parameters(const HookParameters& p, std::size_t size) override;

private:
    Vector mean_ = Vector::from_shape({0});
    Vector stddev_ = Vector::from_shape({0});
};

/// @brief Per-sample normalization: y = gain * (x - mean(x)) / (std(x) + epsilon) + shift, with
/// the row's mean and (population) standard deviation; gain 1 and shift 0 unless set.
class LayerNormHook : public LayerHook {
public:
    explicit LayerNormHook(double epsilon = 1e-5) : epsilon_(epsilon) {}
    std::string kind() const override { return "layernorm"; }
    void fit(const Matrix& x) override;
    void apply(Rows x) const override;
    void backward(ConstRows x, ConstRows grad_out, Rows grad_in) const override;
    HookParameters parameters() const override;
    void set_parameters(const HookParameters& p, std::size_t size) override;

    Vector& gain() { return gain_; }
    Vector& shift() { return shift_; }

private:
    double epsilon_;
    Vector gain_ = Vector::from_shape({0});
    Vector shift_ = Vector::from_shape({0});
};

}  // namespace dbn
