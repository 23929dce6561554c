#include "dbn/hooks/layer_hook.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <sstream>

#include "dbn/core/error.hpp"

namespace dbn {
namespace {

struct Registry {
    std::mutex mutex;
    std::map<std::string, HookFactory> factories;
};

void check_options(const HookOptions& options, std::initializer_list<const char*> known,
                   const std::string& kind) {
    for (const auto& [name, value] : options) {
        const bool ok = std::any_of(known.begin(), known.end(),
                                    [&key = name](const char* k) { return key == k; });
        DBN_CHECK(ok, ConfigError,
                  "hook " << quote_input(kind) << ": unknown option " << quote_input(name));
        DBN_CHECK(
            std::isfinite(value), ConfigError,
            "hook " << quote_input(kind) << ": option " << quote_input(name) << " must be finite");
    }
}

Registry& registry() {
    static Registry r;
    static const bool builtins = [] {
        r.factories["standardize"] = [](const HookOptions& o) -> std::unique_ptr<LayerHook> {
            check_options(o, {}, "standardize");
            return std::make_unique<StandardizeHook>();
        };
        r.factories["layernorm"] = [](const HookOptions& o) -> std::unique_ptr<LayerHook> {
            check_options(o, {"epsilon"}, "layernorm");
            const double eps = o.count("epsilon") ? o.at("epsilon") : 1e-5;
            DBN_CHECK(eps > 0.0, ConfigError,
                      "hook \"layernorm\": epsilon must be positive (got " << eps << ")");
            return std::make_unique<LayerNormHook>(eps);
        };
        return true;
    }();
    (void)builtins;
    return r;
}

void check_cols(std::size_t got, std::size_t expected, const char* hook) {
    DBN_CHECK(got == expected, ShapeError,
              hook << " hook: input has " << got << " columns (fitted for " << expected << ")");
}

const Vector& vector_param(const HookParameters& p, const char* name, std::size_t size,
                           const char* hook) {
    const auto it = p.vectors.find(name);
    DBN_CHECK(it != p.vectors.end(), FormatError,
              hook << " hook: parameter \"" << name << "\" missing");
    DBN_CHECK(it->second.size() == size, FormatError,
              hook << " hook: parameter \"" << name << "\" has " << it->second.size()
                   << " values (expected " << size << ")");
    for (float v : it->second)
        DBN_CHECK(std::isfinite(v), FormatError,
                  hook << " hook: parameter \"" << name << "\" is not finite");
    return it->second;
}

}  // namespace

void register_hook(const std::string& kind, HookFactory factory) {
    DBN_CHECK(!kind.empty() && kind != "none", ConfigError,
              "register_hook: \"" << kind << "\" cannot name a hook");
    DBN_CHECK(static_cast<bool>(factory), ConfigError,
              "register_hook: empty factory for \"" << kind << "\"");
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    DBN_CHECK(!r.factories.count(kind), ConfigError,
              "register_hook: \"" << kind << "\" is already registered");
    r.factories[kind] = std::move(factory);
}

bool hook_registered(const std::string& kind) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    return r.factories.count(kind) > 0;
}

std::vector<std::string> registered_hooks() {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    std::vector<std::string> kinds;
    for (const auto& entry : r.factories) kinds.push_back(entry.first);
    return kinds;
}

std::unique_ptr<LayerHook> make_hook(const std::string& kind, const HookOptions& options) {
    HookFactory factory;
    {
        Registry& r = registry();
        std::lock_guard<std::mutex> lock(r.mutex);
        const auto it = r.factories.find(kind);
        if (it != r.factories.end()) factory = it->second;
    }
    if (!factory) {
        std::ostringstream known;
        for (const auto& k : registered_hooks()) known << " \"" << k << "\"";
        DBN_CHECK(false, ConfigError,
                  "unknown hook " << quote_input(kind) << " (registered: \"none\"" << known.str()
                                  << "; a library user registers others with dbn::register_hook)");
    }
    return factory(options);
}

// --- standardize -------------------------------------------------------------------------

void StandardizeHook::fit(const Matrix& x) {
    const std::size_t n = x.shape(0), d = x.shape(1);
    DBN_CHECK(n > 0, ShapeError, "standardize hook: no rows to fit on");
    std::vector<double> mean(d, 0.0), sq(d, 0.0);
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < d; ++c) mean[c] += x(r, c);
    for (auto& m : mean) m /= static_cast<double>(n);
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < d; ++c) sq[c] += (x(r, c) - mean[c]) * (x(r, c) - mean[c]);
    mean_ = Vector::from_shape({d});
    stddev_ = Vector::from_shape({d});
    for (std::size_t c = 0; c < d; ++c) {
        mean_(c) = static_cast<Real>(mean[c]);
        // A unit that never varies (a dead hidden unit) is centred, not divided by ~0.
        const double sd = std::sqrt(sq[c] / static_cast<double>(n));
        stddev_(c) = static_cast<Real>(sd > 1e-6 ? sd : 1.0);
    }
}

void StandardizeHook::apply(Rows x) const {
    check_cols(x.cols, mean_.size(), "standardize");
    for (std::size_t r = 0; r < x.rows; ++r) {
        Real* row = x.row(r);
        for (std::size_t c = 0; c < x.cols; ++c) row[c] = (row[c] - mean_(c)) / stddev_(c);
    }
}

void StandardizeHook::backward(ConstRows x, ConstRows grad_out, Rows grad_in) const {
    check_cols(x.cols, mean_.size(), "standardize");
    for (std::size_t r = 0; r < x.rows; ++r)
        for (std::size_t c = 0; c < x.cols; ++c)
            grad_in.row(r)[c] = grad_out.row(r)[c] / stddev_(c);
}

HookParameters StandardizeHook::parameters() const {
    HookParameters p;
    p.vectors["mean"] = mean_;
    p.vectors["stddev"] = stddev_;
    return p;
}

void StandardizeHook::set_parameters(const HookParameters& p, std::size_t size) {
    mean_ = vector_param(p, "mean", size, "standardize");
    stddev_ = vector_param(p, "stddev", size, "standardize");
    for (float s : stddev_)
        DBN_CHECK(s > 0.0f, FormatError, "standardize hook: parameter \"stddev\" must be positive");
}

// --- layernorm ---------------------------------------------------------------------------

void LayerNormHook::fit(const Matrix& x) {
    // Nothing is learned from the data in pretraining: the statistics are per sample. Gain and
    // shift start at the identity (fine-tuning may change them).
    const std::size_t d = x.shape(1);
    gain_ = xt::ones<Real>({d});
    shift_ = xt::zeros<Real>({d});
}

void LayerNormHook::apply(Rows x) const {
    check_cols(x.cols, gain_.size(), "layernorm");
    const std::size_t d = x.cols;
    for (std::size_t r = 0; r < x.rows; ++r) {
        Real* row = x.row(r);
        double mean = 0.0, sq = 0.0;
        for (std::size_t c = 0; c < d; ++c) mean += row[c];
        mean /= static_cast<double>(d);
        for (std::size_t c = 0; c < d; ++c) sq += (row[c] - mean) * (row[c] - mean);
        const double s = std::sqrt(sq / static_cast<double>(d)) + epsilon_;
        for (std::size_t c = 0; c < d; ++c)
            row[c] = static_cast<Real>(gain_(c) * ((row[c] - mean) / s) + shift_(c));
    }
}

void LayerNormHook::backward(ConstRows x, ConstRows grad_out, Rows grad_in) const {
    // y = g n + b, n = c / s, c = x - mean(x), s = sd(x) + eps:
    // dx_j = (dn_j - mean(dn)) / s - c_j (sum_i dn_i c_i) / (d sd s^2), dn = g * dy.
    check_cols(x.cols, gain_.size(), "layernorm");
    const std::size_t d = x.cols;
    for (std::size_t r = 0; r < x.rows; ++r) {
        const Real* xr = x.row(r);
        const Real* gy = grad_out.row(r);
        Real* gx = grad_in.row(r);
        double mean = 0.0, sq = 0.0;
        for (std::size_t c = 0; c < d; ++c) mean += xr[c];
        mean /= static_cast<double>(d);
        for (std::size_t c = 0; c < d; ++c) sq += (xr[c] - mean) * (xr[c] - mean);
        const double sd = std::sqrt(sq / static_cast<double>(d));
        const double s = sd + epsilon_;
        double mean_dn = 0.0, dot = 0.0;
        for (std::size_t c = 0; c < d; ++c) {
            const double dn = double(gain_(c)) * gy[c];
            mean_dn += dn;
            dot += dn * (xr[c] - mean);
        }
        mean_dn /= static_cast<double>(d);
        const double k = sd > 0.0 ? dot / (static_cast<double>(d) * sd * s * s) : 0.0;
        for (std::size_t c = 0; c < d; ++c) {
            const double dn = double(gain_(c)) * gy[c];
            gx[c] = static_cast<Real>((dn - mean_dn) / s - (xr[c] - mean) * k);
        }
    }
}

HookParameters LayerNormHook::parameters() const {
    HookParameters p;
    p.vectors["gain"] = gain_;
    p.vectors["shift"] = shift_;
    p.numbers["epsilon"] = epsilon_;
    return p;
}

void LayerNormHook::set_parameters(const HookParameters& p, std::size_t size) {
    gain_ = vector_param(p, "gain", size, "layernorm");
    shift_ = vector_param(p, "shift", size, "layernorm");
    const auto it = p.numbers.find("epsilon");
    DBN_CHECK(it != p.numbers.end(), FormatError, "layernorm hook: parameter \"epsilon\" missing");
    DBN_CHECK(std::isfinite(it->second) && it->second > 0.0, FormatError,
              "layernorm hook: parameter \"epsilon\" must be positive");
    epsilon_ = it->second;
}

}  // namespace dbn
