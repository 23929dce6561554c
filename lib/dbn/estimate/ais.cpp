#include "dbn/estimate/ais.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/core/parallel.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/estimate/kernels.hpp"

namespace dbn::estimate {
namespace {

constexpr double k_log_sqrt_two_pi = 0.91893853320467274178032973640562;
constexpr double k_log_two = 0.69314718055994530941723212145818;
/// The paper's interval: mean weight +- 3 standard errors.
constexpr double k_interval_sigmas = 3.0;

void check_target(const Rbm& target, const char* fn) {
    DBN_CHECK(target.hidden_type() == UnitType::bernoulli, ConfigError,
              "Ais::" << fn
                      << ": rectified (relu) hidden units have no closed-form free energy, so "
                         "AIS has no importance weights (expected bernoulli hidden units, got "
                      << to_string(target.hidden_type()) << ")");
    DBN_CHECK(
        target.visible_type() == UnitType::bernoulli || target.visible_type() == UnitType::gaussian,
        ConfigError,
        "Ais::" << fn << ": visible units must be bernoulli or gaussian (got "
                << to_string(target.visible_type()) << ")");
}

/// The M chains and every buffer of the temperature loop, allocated once.
class Chains {
public:
    Chains(const Rbm& target, const Vector& base_bias, std::size_t runs)
        : rbm_(target),
          gaussian_(target.visible_type() == UnitType::gaussian),
          runs_(runs),
          nv_(target.n_visible()),
          nh_(target.n_hidden()),
          v_(Matrix::from_shape({runs, nv_})),
          x_(Matrix::from_shape({gaussian_ ? runs : 0, nv_})),
          act_(Matrix::from_shape({runs, nh_})),
          prob_(Matrix::from_shape({runs, nh_})),
          h_(Matrix::from_shape({runs, nh_})),
          vmean_(Matrix::from_shape({runs, nv_})),
          bias_k_(Vector::from_shape({nv_})),
          inv_sigma_(Vector::from_shape({nv_})),
          q_(runs, 0.0),
          base_(nv_),
          target_(nv_),
          sigma_(nv_) {
        for (std::size_t i = 0; i < nv_; ++i) {
            base_[i] = base_bias(i);
            target_[i] = target.visible_bias()(i);
            sigma_[i] = target.visible_sigma()(i);
            inv_sigma_(i) = static_cast<Real>(1.0 / sigma_[i]);
        }
    }

    /// Exact draws from the base model: v_i ~ Bernoulli(sigmoid(a_A,i)) or N(a_A,i, s_i^2).
    void sample_base(Rng& rng) {
        if (gaussian_) {
            rng.fill_normal(v_.data(), v_.size());
            for (std::size_t r = 0; r < runs_; ++r) {
                Real* v = &v_(r, 0);
                for (std::size_t i = 0; i < nv_; ++i)
                    v[i] = static_cast<Real>(base_[i] + sigma_[i] * v[i]);
            }
        } else {
            for (std::size_t i = 0; i < nv_; ++i)
                vmean_(0, i) = sigmoid(static_cast<Real>(base_[i]));
            for (std::size_t r = 1; r < runs_; ++r)
                std::copy(&vmean_(0, 0), &vmean_(0, 0) + nv_, &vmean_(r, 0));
            rng.bernoulli(vmean_.data(), v_.data(), v_.size());
        }
        update_visible_terms();
    }

    /// Adds F_{k-1}(v) - F_k(v) to each log weight, and when `next_prob` is set leaves
    /// sigmoid(beta_k act) in prob_ for the hidden draw of the transition at beta_k.
    void accumulate(double beta_prev, double beta, bool next_prob, double* logw) {
        const double dbeta = beta - beta_prev;
        for (std::size_t r = 0; r < runs_; ++r) {
            const float* act = &act_(r, 0);
            const double now =
                detail::scaled_softplus_sum(act, beta, nh_, next_prob ? &prob_(r, 0) : nullptr);
            const double before = detail::scaled_softplus_sum(act, beta_prev, nh_, nullptr);
            logw[r] += dbeta * q_[r] + (now - before);
        }
    }

    /// One Gibbs transition at inverse temperature beta, from the probabilities in prob_.
    void transition(double beta, Rng& rng) {
        rng.bernoulli(prob_.data(), h_.data(), h_.size());
        // beta * (W h) for every chain at once.
        blas::gemm(false, true, static_cast<float>(beta), h_, rbm_.weights(), 0.0f, vmean_);
        for (std::size_t i = 0; i < nv_; ++i)
            bias_k_(i) = static_cast<Real>((1.0 - beta) * base_[i] + beta * target_[i]);
        if (gaussian_) {
            // v | h ~ N(a_k + s beta W h, s^2), a_k = (1 - beta) a_A + beta a_B.
            rng.fill_normal(v_.data(), v_.size());
            for (std::size_t r = 0; r < runs_; ++r) {
                const Real* m = &vmean_(r, 0);
                Real* v = &v_(r, 0);
                const Real* s = rbm_.visible_sigma().data();
                for (std::size_t i = 0; i < nv_; ++i) v[i] = bias_k_(i) + s[i] * m[i] + s[i] * v[i];
            }
        } else {
            for (std::size_t r = 0; r < runs_; ++r)
                detail::shifted_sigmoid(&vmean_(r, 0), bias_k_.data(), &vmean_(r, 0), nv_);
            rng.bernoulli(vmean_.data(), v_.data(), v_.size());
        }
        update_visible_terms();
    }

    /// The chains' current visible states, one per row.
    const Matrix& visible() const { return v_; }

private:
    /// act = b + x W for the current v (x = v / s for Gaussian units), and
    /// q(v) = log p*_B(v) - log p*_A(v) of the visible terms alone:
    ///     (a_B - a_A).v                                         Bernoulli
    ///     sum_i [(v_i - a_A,i)^2 - (v_i - a_B,i)^2] / (2 s_i^2) Gaussian
    void update_visible_terms() {
        const Real* b = rbm_.hidden_bias().data();
        for (std::size_t r = 0; r < runs_; ++r) std::copy(b, b + nh_, &act_(r, 0));
        if (gaussian_) {
            for (std::size_t r = 0; r < runs_; ++r)
                for (std::size_t i = 0; i < nv_; ++i) x_(r, i) = v_(r, i) * inv_sigma_(i);
            blas::gemm(false, false, 1.0f, x_, rbm_.weights(), 1.0f, act_);
        } else {
            blas::gemm(false, false, 1.0f, v_, rbm_.weights(), 1.0f, act_);
        }
        for (std::size_t r = 0; r < runs_; ++r) {
            const Real* v = &v_(r, 0);
            double acc = 0.0;
            if (gaussian_) {
                for (std::size_t i = 0; i < nv_; ++i) {
                    const double da = v[i] - base_[i];
                    const double db = v[i] - target_[i];
                    acc += (da * da - db * db) / (2.0 * sigma_[i] * sigma_[i]);
                }
            } else {
                for (std::size_t i = 0; i < nv_; ++i) acc += (target_[i] - base_[i]) * v[i];
            }
            q_[r] = acc;
        }
    }

    const Rbm& rbm_;
    bool gaussian_;
    std::size_t runs_, nv_, nh_;
    Matrix v_, x_, act_, prob_, h_, vmean_;
    Vector bias_k_, inv_sigma_;
    std::vector<double> q_;
    std::vector<double> base_, target_, sigma_;
};

AisResult summarize(std::vector<double> logw, double log_z_base, std::size_t steps) {
    const std::size_t m = logw.size();
    double top = -std::numeric_limits<double>::infinity();
    for (double lw : logw) {
        DBN_CHECK(std::isfinite(lw), NumericalError,
                  "Ais::estimate: a log importance weight is not finite (" << lw << ")");
        top = std::max(top, lw);
    }
    // Weights relative to the largest, so that they lie in (0, 1] and nothing overflows.
    double sum = 0.0, sum_sq = 0.0;
    for (double lw : logw) {
        const double w = std::exp(lw - top);
        sum += w;
        sum_sq += w * w;
    }
    const double mean = sum / static_cast<double>(m);
    double var = 0.0;
    for (double lw : logw) {
        const double d = std::exp(lw - top) - mean;
        var += d * d;
    }
    var /= static_cast<double>(m - 1);
    const double se = std::sqrt(var / static_cast<double>(m));
    AisResult r;
    r.log_z_base = log_z_base;
    r.log_z = log_z_base + top + std::log(mean);
    r.log_z_high = log_z_base + top + std::log(mean + k_interval_sigmas * se);
    const double low = mean - k_interval_sigmas * se;
    r.log_z_low =
        low > 0.0 ? log_z_base + top + std::log(low) : -std::numeric_limits<double>::infinity();
    r.ess = sum * sum / sum_sq;
    r.runs = m;
    r.steps = steps;
    r.log_weights = std::move(logw);
    return r;
}

}  // namespace

std::size_t ais_groups(std::size_t runs) {
    return std::max<std::size_t>(1, runs / k_ais_group_runs);
}

std::vector<double> ais_schedule(std::size_t steps) {
    DBN_CHECK(steps >= 3, ConfigError,
              "ais_schedule: needs at least 3 steps, one per segment (got " << steps << ")");
    // Segment lengths in the proportions 500 : 4,000 : 10,000, each at least one step.
    const auto part = [steps](double share) {
        return std::max<std::size_t>(
            1, static_cast<std::size_t>(std::llround(static_cast<double>(steps) * share)));
    };
    const std::size_t n1 = part(500.0 / 14500.0);
    const std::size_t n2 = part(4000.0 / 14500.0);
    const std::size_t n3 = steps - n1 - n2;
    std::vector<double> beta;
    beta.reserve(steps + 1);
    const auto segment = [&beta](double lo, double hi, std::size_t n, bool first) {
        for (std::size_t i = first ? 0 : 1; i <= n; ++i)
            beta.push_back(lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n));
    };
    segment(0.0, 0.5, n1, true);
    segment(0.5, 0.9, n2, false);
    segment(0.9, 1.0, n3, false);
    beta.back() = 1.0;
    return beta;
}

std::size_t parse_ais_steps(const std::string& setting) {
    if (setting == "default") return k_ais_default_steps;
    if (setting == "quick") return k_ais_quick_steps;
    bool digits = !setting.empty() && setting.size() <= 12;
    for (char c : setting) digits = digits && c >= '0' && c <= '9';
    const std::size_t steps = digits ? static_cast<std::size_t>(std::stoull(setting)) : 0;
    DBN_CHECK(digits && steps >= 3, ConfigError,
              "AIS schedule: unknown setting \"" << setting
                                                 << "\" (expected \"default\", \"quick\" or a "
                                                    "step count of at least 3)");
    return steps;
}

Vector base_rate_bias(const Rbm& target, ConstRows data, double clip) {
    DBN_CHECK(data.cols == target.n_visible(), ShapeError,
              "base_rate_bias: data has " << data.cols << " columns (expected "
                                          << target.n_visible() << ")");
    DBN_CHECK(data.rows > 0, ShapeError, "base_rate_bias: data has no rows (expected at least 1)");
    DBN_CHECK(clip > 0.0 && clip < 0.5, ConfigError,
              "base_rate_bias: clip must lie in (0, 0.5) (got " << clip << ")");
    std::vector<double> mean(data.cols, 0.0);
    for (std::size_t r = 0; r < data.rows; ++r) {
        const Real* row = data.row(r);
        for (std::size_t i = 0; i < data.cols; ++i) mean[i] += row[i];
    }
    Vector bias = Vector::from_shape({data.cols});
    for (std::size_t i = 0; i < data.cols; ++i) {
        const double m = mean[i] / static_cast<double>(data.rows);
        DBN_CHECK(std::isfinite(m), NumericalError,
                  "base_rate_bias: column " << i << " of the data holds NaN or Inf");
        if (target.visible_type() == UnitType::gaussian) {
            bias(i) = static_cast<Real>(m);
        } else {
            const double p = std::clamp(m, clip, 1.0 - clip);
            bias(i) = static_cast<Real>(std::log(p / (1.0 - p)));
        }
    }
    return bias;
}

double base_log_partition(const Rbm& target, const Vector& base_bias) {
    DBN_CHECK(base_bias.size() == target.n_visible(), ShapeError,
              "base_log_partition: base bias has " << base_bias.size() << " entries (expected "
                                                   << target.n_visible() << ")");
    double log_z = static_cast<double>(target.n_hidden()) * k_log_two;
    for (std::size_t i = 0; i < target.n_visible(); ++i) {
        if (target.visible_type() == UnitType::gaussian) {
            log_z += k_log_sqrt_two_pi + std::log(static_cast<double>(target.visible_sigma()(i)));
        } else {
            log_z += softplus(static_cast<double>(base_bias(i)));
        }
    }
    return log_z;
}

Ais::Ais(AisConfig config) : config_(config) {
    DBN_CHECK(config_.runs >= 2, ConfigError,
              "Ais: runs must be at least 2 for a standard error (got " << config_.runs << ")");
    DBN_CHECK(
        config_.steps >= 3, ConfigError,
        "Ais: steps must be at least 3, one per schedule segment (got " << config_.steps << ")");
    DBN_CHECK(config_.base_rate_clip > 0.0 && config_.base_rate_clip < 0.5, ConfigError,
              "Ais: base_rate_clip must lie in (0, 0.5) (got " << config_.base_rate_clip << ")");
}

AisResult Ais::estimate(const Rbm& target, ConstRows data) const {
    check_target(target, "estimate");
    return estimate_from_base(target, base_rate_bias(target, data, config_.base_rate_clip));
}

AisResult Ais::estimate_from_base(const Rbm& target, const Vector& base_bias) const {
    check_target(target, "estimate");
    DBN_CHECK(base_bias.size() == target.n_visible(), ShapeError,
              "Ais::estimate: base bias has " << base_bias.size() << " entries (expected "
                                              << target.n_visible() << ")");
    for (float b : base_bias)
        DBN_CHECK(std::isfinite(b), NumericalError, "Ais::estimate: a base bias is NaN or Inf");
    target.check_finite("Ais::estimate");
    if (target.visible_type() == UnitType::gaussian) {
        for (float s : target.visible_sigma())
            DBN_CHECK(s > 0.0f, ConfigError,
                      "Ais::estimate: visible sigma must be positive (got " << s << ")");
    }

    const std::vector<double> beta = ais_schedule(config_.steps);
    const std::size_t k_last = beta.size() - 1;
    const std::size_t runs = config_.runs;
    std::vector<double> logw(runs, 0.0);

    // The runs fall into groups that never interact: each group anneals on its own, with its own
    // random substream (group 0 draws from Rng(seed) itself, so a single group makes exactly the
    // draws of the ungrouped loop). Groups are the unit of work of the threads, and whichever
    // thread runs a group, it runs it alone with single-threaded products: the answer does not
    // depend on the thread count.
    const std::size_t groups = ais_groups(runs);
    std::vector<Rng> streams;
    Rng rng(config_.seed);
    for (std::size_t g = 0; g < groups; ++g) {
        streams.push_back(rng);
        rng.jump();
    }
    Matrix final_states =
        Matrix::from_shape({config_.keep_final_states ? runs : 0, target.n_visible()});
    const auto anneal = [&](std::size_t g) {
        const auto [r0, r1] = split_range(runs, groups, g);
        Chains chains(target, base_bias, r1 - r0);
        double* w = logw.data() + r0;
        chains.sample_base(streams[g]);
        for (std::size_t k = 1; k <= k_last; ++k) {
            const bool more = k < k_last;
            chains.accumulate(beta[k - 1], beta[k], more, w);
            if (more) chains.transition(beta[k], streams[g]);
        }
        if (config_.keep_final_states) {
            // The state of the last transition, at beta_{K-1}: the one the last increment
            // weighed against the target, so that it is a weighted sample of the target.
            const Matrix& v = chains.visible();
            std::copy(v.data(), v.data() + v.size(), &final_states(r0, 0));
        }
    };
    const std::size_t threads =
        groups > 1 ? std::min(groups, static_cast<std::size_t>(std::max(1, blas::num_threads())))
                   : 1;
    if (threads > 1) {
        const blas::ScopedThreads single(1);
        ThreadPool pool(threads);
        pool.run([&](std::size_t t) {
            const auto [g0, g1] = split_range(groups, threads, t);
            for (std::size_t g = g0; g < g1; ++g) anneal(g);
        });
    } else {
        const blas::ScopedThreads single(groups > 1 ? 1 : 0);
        for (std::size_t g = 0; g < groups; ++g) anneal(g);
    }
    AisResult result =
        summarize(std::move(logw), base_log_partition(target, base_bias), k_last);
    result.final_states = std::move(final_states);
    return result;
}

}  // namespace dbn::estimate
