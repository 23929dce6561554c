#include "dbn/estimate/consistency.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/estimate/exact_log_partition.hpp"

namespace dbn::estimate {
namespace {

constexpr double k_inf = std::numeric_limits<double>::infinity();

// Binary samples of layer k's hidden units given its input x. The samples overwrite the
// probabilities they are drawn from (element by element, as GreedyTrainer's propagation does),
// which saves a rows x n_hidden matrix and gives the same values.
Matrix sample_hidden(const Rbm& rbm, const Matrix& x, Rng& rng) {
    Matrix act = Matrix::from_shape({x.shape(0), rbm.n_hidden()});
    Matrix h = Matrix::from_shape(act.shape());
    rbm.hidden_activation(x, act);
    rbm.hidden_mean(act, h);
    rbm.sample_hidden(act, h, h, rng);
    return h;
}

double mean_of(const DVector& v, double* se = nullptr) {
    double m = 0.0;
    for (double x : v) m += x;
    m /= static_cast<double>(v.size());
    if (se) {
        double sq = 0.0;
        for (double x : v) sq += (x - m) * (x - m);
        *se =
            v.size() > 1
                ? std::sqrt(sq / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()))
                : 0.0;
    }
    return m;
}

}  // namespace

LogZMethod parse_log_z_method(const std::string& name, const std::string& where) {
    if (name == "auto") return LogZMethod::automatic;
    if (name == "exact") return LogZMethod::exact;
    if (name == "ais") return LogZMethod::ais;
    DBN_CHECK(false, ConfigError,
              where << ": unknown log Z method " << quote_input(name)
                    << " (expected auto, exact or ais)");
    return LogZMethod::automatic;
}

const char* to_string(LogZMethod m) {
    switch (m) {
        case LogZMethod::automatic:
            return "auto";
        case LogZMethod::exact:
            return "exact";
        case LogZMethod::ais:
            return "ais";
    }
    return "auto";
}

std::vector<Matrix> layer_inputs(const Dbn& model, const Matrix& raw) {
    model.validate();
    std::vector<Matrix> inputs;
    inputs.push_back(model.preprocess(raw));
    for (std::size_t k = 0; k + 1 < model.n_layers(); ++k)
        inputs.push_back(model.propagate(k, inputs.back(), true));
    return inputs;
}

LayerLogZ layer_log_partition(const Dbn& model, std::size_t k, ConstRows layer_input,
                              const LogZOptions& options, WeightedStates* states) {
    DBN_CHECK(k < model.n_layers(), ConfigError,
              "layer_log_partition: layer " << k << " does not exist");
    const Rbm& rbm = model.layers[k];
    LayerLogZ out;
    out.index = k;
    if (!rbm.hidden_units().closed_form()) {
        out.note = std::string(rbm.hidden_units().name()) +
                   " hidden units have no closed-form free energy, so no log Z";
        return out;
    }
    const auto start = std::chrono::steady_clock::now();
    const bool exact =
        options.method == LogZMethod::exact || (options.method == LogZMethod::automatic &&
                                                enumerated_units(rbm) <= options.exact_max_units);
    if (exact) {
        out.log_z = LogPartition::exact(exact_log_partition(rbm));
        out.method = "exact";
    } else {
        AisConfig config = options.ais;
        config.keep_final_states = states != nullptr;
        AisResult ais = Ais(config).estimate(rbm, layer_input);
        if (states) {
            states->visible = std::move(ais.final_states);
            states->log_weights = ais.log_weights;
        }
        out.log_z = LogPartition::from(ais);
        out.method = "ais";
        out.ess = ais.ess;
        out.ais_runs = ais.runs;
        out.ais_steps = ais.steps;
    }
    out.available = true;
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
}

namespace {

// The check between layers k and k+1; `owned`, when given, is input_k itself, freed once q is
// drawn from it.
ConsistencyCheck check_layers(const Dbn& model, std::size_t k, const Matrix& input_k, Matrix* owned,
                              const DeltaLogZ& delta, Rng& rng) {
    DBN_CHECK(k + 1 < model.n_layers(), ConfigError,
              "consistency_check: layer " << k << " has no layer above it");
    ConsistencyCheck c = inapplicable_check(k);
    c.samples = input_k.shape(0);
    const Rbm& lower = model.layers[k];
    const Rbm& upper = model.layers[k + 1];
    if (!lower.hidden_units().closed_form() || !upper.hidden_units().closed_form()) return c;
    c.note.clear();
    DBN_CHECK(c.samples > 0, ShapeError, "consistency_check: the check set is empty");
    c.applicable = true;

    // q: binary samples of layer k's hidden units; the upper layer sees hook(q).
    const Matrix q = sample_hidden(lower, input_k, rng);
    if (owned) *owned = Matrix::from_shape({0, owned->shape(1)});  // input_k is not read again
    const DVector g = lower.hidden_free_energy(q);
    DVector f;
    if (const LayerHook* hook = model.hook_after(k)) {
        Matrix hq = q;
        hook->apply(hq);
        f = upper.free_energy(hq);
        c.diagnostic = true;
        c.note = std::string("a \"") + hook->kind() + "\" hook sits between the layers: layer " +
                 std::to_string(k + 1) + " sees hook(q), not samples of layer " +
                 std::to_string(k) + "'s hidden units";
    } else {
        f = upper.free_energy(q);
    }
    DVector diff = g - f;
    c.free_energy_gap = mean_of(diff, &c.free_energy_gap_standard_error);

    set_delta_log_z(c, delta);
    return c;
}

}  // namespace

void set_delta_log_z(ConsistencyCheck& c, const DeltaLogZ& delta) {
    c.delta_log_z = delta.value;
    c.delta_log_z_method = delta.method;
    c.delta_log_z_low = delta.low;
    c.delta_log_z_high = delta.high;
    const BoundChange d = bound_change(c.free_energy_gap, delta);
    c.bound_change = d.value;
    c.bound_change_low = d.low;
    c.bound_change_high = d.high;
    c.passed = c.bound_change_high >= 0.0;
}

BoundChange bound_change(double free_energy_gap, const DeltaLogZ& delta) {
    BoundChange d;
    d.value = free_energy_gap - delta.value;
    d.low = free_energy_gap - delta.high;
    d.high = free_energy_gap - delta.low;
    if (std::isnan(d.high)) d.high = k_inf;
    if (std::isnan(d.low)) d.low = -k_inf;
    return d;
}

ConsistencyCheck inapplicable_check(std::size_t k) {
    ConsistencyCheck c;
    c.lower = k;
    c.upper = k + 1;
    c.note = "defined for Bernoulli hidden units only (relu units have no closed-form free energy)";
    return c;
}

DeltaLogZ delta_log_z(const LayerLogZ& lower, const LayerLogZ& upper) {
    DBN_CHECK(
        lower.available && upper.available, ConfigError,
        "delta_log_z: log Z of layers " << lower.index << " and " << upper.index << " is needed");
    const LogPartition& zk = lower.log_z;
    const LogPartition& zk1 = upper.log_z;
    return {zk1.value - zk.value, zk1.low - zk.high, zk1.high - zk.low};
}

ConsistencyCheck consistency_check(const Dbn& model, std::size_t k, const Matrix& input_k,
                                   const DeltaLogZ& delta, Rng& rng) {
    return check_layers(model, k, input_k, nullptr, delta, rng);
}

ConsistencyCheck consistency_check(const Dbn& model, std::size_t k, Matrix&& input_k,
                                   const DeltaLogZ& delta, Rng& rng) {
    return check_layers(model, k, input_k, &input_k, delta, rng);
}

LowerBound dbn_lower_bound(const Dbn& model, const Matrix& raw, const LayerLogZ& top, Rng& rng) {
    LowerBound b;
    const std::size_t n_layers = model.n_layers();
    if (n_layers < 2) {
        b.note = "a single RBM: its log-likelihood is exact given log Z, no bound needed";
        return b;
    }
    for (std::size_t k = 0; k < n_layers; ++k) {
        if (!model.layers[k].hidden_units().closed_form()) {
            b.note = "needs Bernoulli hidden units in every layer";
            return b;
        }
        if (model.hook_after(k)) {
            b.note = "undefined with layer-normalization hooks: the stack is then not a DBN";
            return b;
        }
    }
    DBN_CHECK(top.available && top.index + 1 == n_layers, ConfigError,
              "dbn_lower_bound: the top layer's log Z is needed");
    Matrix x = model.preprocess(raw);
    const std::size_t n = x.shape(0);
    DBN_CHECK(n > 0, ShapeError, "dbn_lower_bound: no data");
    DVector total = xt::zeros<double>({n});
    for (std::size_t l = 0; l + 1 < n_layers; ++l) {
        const Rbm& rbm = model.layers[l];
        const std::size_t nv = rbm.n_visible(), nh = rbm.n_hidden();
        // h ~ Q(h | x), log Q(h | x) from the hidden units' conditional.
        Matrix act = Matrix::from_shape({n, nh});
        Matrix p = Matrix::from_shape({n, nh});
        Matrix h = Matrix::from_shape({n, nh});
        rbm.hidden_activation(x, act);
        rbm.hidden_mean(act, p);
        rbm.sample_hidden(act, p, h, rng);
        // log p(x | h) from c = W h, each visible unit applying its own bias (and sigma).
        Matrix wh = Matrix::from_shape({n, nv});
        blas::gemm(false, true, 1.0f, h, rbm.weights(), 0.0f, wh);
        std::vector<double> lq(n, 0.0), lp(n, 0.0);
        rbm.hidden_units().add_log_conditional(h, act, {}, lq.data());
        rbm.visible_units().add_log_conditional(x, wh, rbm.visible_params(), lp.data());
        for (std::size_t r = 0; r < n; ++r) total(r) += lp[r] - lq[r];
        x = std::move(h);
    }
    const DVector f = model.layers.back().free_energy(x);
    for (std::size_t r = 0; r < n; ++r) total(r) += -f(r);
    const double m = mean_of(total, &b.standard_error);
    b.available = true;
    b.samples = n;
    b.value = m - top.log_z.value;
    b.low = m - top.log_z.high;
    b.high = m - top.log_z.low;
    return b;
}

}  // namespace dbn::estimate
