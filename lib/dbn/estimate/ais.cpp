#include "dbn/estimate/ais.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/core/parallel.hpp"
#include "dbn/core/rng.hpp"

namespace dbn::estimate {
namespace {

/// The paper's interval: mean weight +- 3 standard errors.
constexpr double k_interval_sigmas = 3.0;

void check_target(const Rbm& target, const char* fn) {
    const Units& hidden = target.hidden_units();
    DBN_CHECK(hidden.closed_form(), ConfigError,
              "Ais::" << fn << ": " << hidden.name()
                      << " hidden units have no closed-form free energy, so AIS has no "
                         "importance weights (expected "
                      << unit_names([](const Units& u) {
                             return u.closed_form() && u.allowed(UnitSide::hidden);
                         })
                      << " hidden units)");
}

/// The M chains and every buffer of the temperature loop, allocated once. The unit objects
/// hold every formula that depends on the units; the chains hold the path between the models.
class Chains {
public:
    Chains(const Rbm& target, const Vector& base_bias, std::size_t runs)
        : rbm_(target),
          visible_(target.visible_units()),
          hidden_(target.hidden_units()),
          scaled_(visible_.has_sigma()),
          runs_(runs),
          nv_(target.n_visible()),
          nh_(target.n_hidden()),
          v_(Matrix::from_shape({runs, nv_})),
          x_(Matrix::from_shape({scaled_ ? runs : 0, nv_})),
          act_(Matrix::from_shape({runs, nh_})),
          prob_(Matrix::from_shape({runs, nh_})),
          h_(Matrix::from_shape({runs, nh_})),
          vmean_(Matrix::from_shape({runs, nv_})),
          bias_k_(Vector::from_shape({nv_})),
          inv_sigma_(Vector::from_shape({nv_})),
          q_(runs, 0.0),
          now_(runs, 0.0),
          before_(runs, 0.0),
          base_(nv_),
          target_(nv_) {
        for (std::size_t i = 0; i < nv_; ++i) {
            base_[i] = base_bias(i);
            target_[i] = target.visible_bias()(i);
            inv_sigma_(i) = static_cast<Real>(1.0 / static_cast<double>(target.visible_sigma()(i)));
        }
        const Real* sigma = target.visible_sigma().data();
        base_params_ = {base_bias.data(), sigma};
        target_params_ = target.visible_params();
        scale_params_ = {nullptr, sigma, inv_sigma_.data()};
        bias_k_params_ = {bias_k_.data(), sigma};
    }

    /// Exact draws from the base model: v_i ~ Bernoulli(sigmoid(a_A,i)) or N(a_A,i, s_i^2).
    void sample_base(Rng& rng) {
        visible_.sample_uncoupled(base_params_, v_, rng);
        update_visible_terms();
    }

    /// Adds F_{k-1}(v) - F_k(v) to each log weight, and when `next_prob` is set leaves the
    /// hidden means at beta_k (sigmoid(beta_k act)) in prob_ for the transition at beta_k.
    void accumulate(double beta_prev, double beta, bool next_prob, double* logw) {
        const double dbeta = beta - beta_prev;
        const Rows mean = next_prob ? Rows(prob_) : Rows();
        hidden_.tempered_log_marginals(act_, {}, beta, now_.data(), mean);
        hidden_.tempered_log_marginals(act_, {}, beta_prev, before_.data(), Rows());
        for (std::size_t r = 0; r < runs_; ++r) logw[r] += dbeta * q_[r] + (now_[r] - before_[r]);
    }

    /// One Gibbs transition at inverse temperature beta, from the probabilities in prob_.
    void transition(double beta, Rng& rng) {
        hidden_.sample(prob_, prob_, {}, h_, rng);
        // beta * (W h) for every chain at once.
        blas::gemm(false, true, static_cast<float>(beta), h_, rbm_.weights(), 0.0f, vmean_);
        for (std::size_t i = 0; i < nv_; ++i)
            bias_k_(i) = static_cast<Real>((1.0 - beta) * base_[i] + beta * target_[i]);
        // v | h from the visible units with bias a_k = (1 - beta) a_A + beta a_B and input
        // beta W h: Bernoulli(sigmoid(a_k + beta W h)) or N(a_k + s beta W h, s^2).
        visible_.mean(vmean_, bias_k_params_, vmean_);
        visible_.sample(vmean_, vmean_, bias_k_params_, v_, rng);
        update_visible_terms();
    }

    /// The chains' current visible states, one per row.
    const Matrix& visible() const { return v_; }

private:
    /// act = b + x W for the current v (x = v / s for Gaussian units, through the reciprocals),
    /// and q(v) = log p*_B(v) - log p*_A(v) of the visible terms alone: E_A's energy terms
    /// minus E_B's.
    void update_visible_terms() {
        if (scaled_) {
            visible_.scale_input(v_, scale_params_, x_);
            rbm_.hidden_activation_of_input(x_, act_);
        } else {
            rbm_.hidden_activation_of_input(v_, act_);
        }
        std::fill(q_.begin(), q_.end(), 0.0);
        visible_.add_energy_difference(v_, base_params_, target_params_, q_.data());
    }

    const Rbm& rbm_;
    const Units& visible_;
    const Units& hidden_;
    bool scaled_;
    std::size_t runs_, nv_, nh_;
    Matrix v_, x_, act_, prob_, h_, vmean_;
    Vector bias_k_, inv_sigma_;
    std::vector<double> q_, now_, before_;
    std::vector<double> base_, target_;
    UnitParams base_params_, target_params_, scale_params_, bias_k_params_;
};

}  // namespace

AisResult ais_result(std::vector<double> logw, double log_z_base, std::size_t steps) {
    DBN_CHECK(logw.size() >= 2, ConfigError,
              "ais_result: at least 2 runs are needed (got " << logw.size() << ")");
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
    if (r.ess < k_ais_min_ess) {
        r.log_z_low = -std::numeric_limits<double>::infinity();
        r.log_z_high = std::numeric_limits<double>::infinity();
    }
    r.runs = m;
    r.steps = steps;
    r.log_weights = std::move(logw);
    return r;
}

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
    DBN_CHECK(digits && steps >= 3 && steps <= k_ais_max_steps, ConfigError,
              "AIS schedule: unknown setting " << quote_input(setting)
                                               << " (expected \"default\", \"quick\" or a step "
                                                  "count from 3 to "
                                               << k_ais_max_steps << ")");
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
    for (std::size_t i = 0; i < data.cols; ++i) {
        mean[i] /= static_cast<double>(data.rows);
        DBN_CHECK(std::isfinite(mean[i]), NumericalError,
                  "base_rate_bias: column " << i << " of the data holds NaN or Inf");
    }
    Vector bias = Vector::from_shape({data.cols});
    target.visible_units().base_rate_bias(mean.data(), data.cols, clip, bias.data());
    return bias;
}

double base_log_partition(const Rbm& target, const Vector& base_bias) {
    DBN_CHECK(base_bias.size() == target.n_visible(), ShapeError,
              "base_log_partition: base bias has " << base_bias.size() << " entries (expected "
                                                   << target.n_visible() << ")");
    // Hidden units on their own (W = 0, zero biases), then the visible ones with the base biases.
    const double hidden =
        target.hidden_units().add_uncoupled_log_partition(UnitParams{}, target.n_hidden(), 0.0);
    return target.visible_units().add_uncoupled_log_partition(
        {base_bias.data(), target.visible_sigma().data()}, target.n_visible(), hidden);
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
    if (target.visible_units().has_sigma()) {
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
    // This rank's contiguous range of groups [first, last) (all of them in one process).
    const mpi::Communicator& comm = config_.comm ? *config_.comm : mpi::serial();
    const auto ranks = static_cast<std::size_t>(comm.size());
    // Plain variables, not a structured binding: the pool's lambda captures `first` (C++17
    // forbids capturing a binding; clang refuses it).
    const std::pair<std::size_t, std::size_t> range =
        split_range(groups, ranks, static_cast<std::size_t>(comm.rank()));
    const std::size_t first = range.first;
    const std::size_t last = range.second;
    const std::size_t mine = last - first;
    const std::size_t threads =
        mine > 1 ? std::min(mine, static_cast<std::size_t>(std::max(1, blas::num_threads()))) : 1;
    if (threads > 1) {
        const blas::ScopedThreads single(1);
        ThreadPool pool(threads);
        pool.run([&](std::size_t t) {
            const auto [g0, g1] = split_range(mine, threads, t);
            for (std::size_t g = g0; g < g1; ++g) anneal(first + g);
        });
    } else {
        // Single-threaded products whenever there are several groups, as in the pool.
        const blas::ScopedThreads single(groups > 1 ? 1 : 0);
        for (std::size_t g = first; g < last; ++g) anneal(g);
    }
    if (ranks > 1) {
        // Groups are contiguous, so this rank's runs are one range: gather them in rank order.
        const std::size_t r0 = split_range(runs, groups, first).first;
        const std::size_t r1 = mine > 0 ? split_range(runs, groups, last - 1).second : r0;
        logw = comm.allgather(std::vector<double>(logw.begin() + r0, logw.begin() + r1));
        if (config_.keep_final_states) {
            const std::size_t nv = target.n_visible();
            const std::vector<float> all = comm.allgather(
                std::vector<float>(final_states.data() + r0 * nv, final_states.data() + r1 * nv));
            std::copy(all.begin(), all.end(), final_states.data());
        }
    }
    AisResult result = ais_result(std::move(logw), base_log_partition(target, base_bias), k_last);
    result.final_states = std::move(final_states);
    return result;
}

}  // namespace dbn::estimate
