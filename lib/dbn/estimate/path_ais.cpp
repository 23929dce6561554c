// The path estimator of dlogZ between two layers (docs/CHECK.md), about 600 lines in one file on
// purpose: the run group's buffers, its two Metropolis moves, the pilot pass that places the
// temperatures and the ratio estimate with its interval share one state and are read together.
#include "dbn/estimate/path_ais.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/core/parallel.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/estimate/kernels.hpp"
#include "dbn/estimate/weighted_ratio.hpp"

namespace dbn::estimate {
namespace {

constexpr double k_log_sqrt_two_pi = 0.91893853320467274178032973640562;
constexpr double k_inf = std::numeric_limits<double>::infinity();

void check_layers(const Rbm& lower, const Rbm& upper) {
    DBN_CHECK(lower.hidden_units().binary() && upper.hidden_units().binary(), ConfigError,
              "PathAis::estimate: the free-energy check needs Bernoulli hidden units on both "
              "layers (rectified units have no closed-form free energy); got "
                  << to_string(lower.hidden_type()) << " below and "
                  << to_string(upper.hidden_type()) << " above");
    DBN_CHECK(upper.visible_units().binary(), ConfigError,
              "PathAis::estimate: the upper layer's visible units are the lower layer's binary "
              "hidden units, so they must be bernoulli (got "
                  << to_string(upper.visible_type()) << ")");
    DBN_CHECK(upper.n_visible() == lower.n_hidden(), ShapeError,
              "PathAis::estimate: the upper layer has "
                  << upper.n_visible() << " visible units, the lower layer " << lower.n_hidden()
                  << " hidden units");
    lower.check_finite("PathAis::estimate (lower layer)");
    upper.check_finite("PathAis::estimate (upper layer)");
    if (lower.visible_units().has_sigma()) {
        for (float s : lower.visible_sigma())
            DBN_CHECK(s > 0.0f, ConfigError,
                      "PathAis::estimate: visible sigma must be positive (got " << s << ")");
    }
}

/// The runs of one group and every buffer of its temperature loop, allocated once.
///
/// A state h carries what the next move needs besides h itself: r(h), the means of layer k's
/// visible units given h (the first half of the lower move) and the probabilities of layer k+1's
/// hidden units given h (the first half of the upper move). Both come out of the products that
/// r(h) needs anyway, so a move costs three products: its second Gibbs half, then W_k h' and
/// h' W_{k+1} for the proposal's free energies.
class PathRuns {
public:
    PathRuns(const Rbm& lower, const Rbm& upper, std::size_t runs)
        : lower_(lower),
          upper_(upper),
          gaussian_(lower.visible_units().has_sigma()),
          runs_(runs),
          nv_(lower.n_visible()),
          nh_(lower.n_hidden()),
          nu_(upper.n_hidden()),
          cur_(runs, nv_, nh_, nu_),
          prop_(runs, nv_, nh_, nu_),
          vact_(Matrix::from_shape({runs, nv_})),
          uact_(Matrix::from_shape({runs, nu_})),
          v_(Matrix::from_shape({runs, nv_})),
          hprob_(Matrix::from_shape({runs, nh_})),
          h2_(Matrix::from_shape({runs, nu_})),
          bias_diff_(nh_),
          a_over_s_(gaussian_ ? nv_ : 0) {
        // r(h) = G_k(h) - F_{k+1}(h) holds (a_{k+1} - b_k).h; both biases are floats, so their
        // difference is exact in double.
        for (std::size_t j = 0; j < nh_; ++j)
            bias_diff_[j] = static_cast<double>(upper.visible_bias()(j)) -
                            static_cast<double>(lower.hidden_bias()(j));
        if (gaussian_) {
            for (std::size_t i = 0; i < nv_; ++i) {
                const double s = lower.visible_sigma()(i);
                a_over_s_[i] = static_cast<double>(lower.visible_bias()(i)) / s;
                log_norm_ += k_log_sqrt_two_pi + std::log(s);
            }
        }
    }

    /// h ~ p_k(h | v) for each run's start state, and the state's cached terms.
    void start(ConstRows v, Rng& rng) {
        lower_.hidden_activation(v, hprob_, v_);
        lower_.hidden_mean(hprob_, hprob_);
        rng.bernoulli(hprob_.data(), cur_.h.data(), cur_.h.size());
        evaluate(cur_);
    }

    /// log w_m += dt r(h_m).
    void accumulate(double dt, double* logw) const {
        for (std::size_t m = 0; m < runs_; ++m) logw[m] += dt * cur_.r[m];
    }

    /// Lower move at temperature t: h -> v -> h' by layer k's conditionals, accepted with
    /// min(1, exp(t (r(h') - r(h)))). Returns the number accepted.
    std::size_t move_lower(double t, Rng& rng) {
        if (gaussian_) {
            // v = mean + s z, and layer k sees x = v / s.
            rng.fill_normal(v_.data(), v_.size());
            const Real* s = lower_.visible_sigma().data();
            for (std::size_t m = 0; m < runs_; ++m) {
                const Real* mean = &cur_.vmean(m, 0);
                Real* x = &v_(m, 0);
                for (std::size_t i = 0; i < nv_; ++i) x[i] = (mean[i] + s[i] * x[i]) / s[i];
            }
        } else {
            rng.bernoulli(cur_.vmean.data(), v_.data(), v_.size());
        }
        blas::gemm(false, false, 1.0f, v_, lower_.weights(), 0.0f, hprob_);
        const Real* b = lower_.hidden_bias().data();
        for (std::size_t m = 0; m < runs_; ++m)
            detail::shifted_sigmoid(&hprob_(m, 0), b, &hprob_(m, 0), nh_);
        rng.bernoulli(hprob_.data(), prop_.h.data(), prop_.h.size());
        evaluate(prop_);
        return accept(t, rng);
    }

    /// Upper move at temperature t: h -> h2 -> h' by layer k+1's conditionals, accepted with
    /// min(1, exp(-(1 - t) (r(h') - r(h)))). Returns the number accepted.
    std::size_t move_upper(double t, Rng& rng) {
        rng.bernoulli(cur_.umean.data(), h2_.data(), h2_.size());
        blas::gemm(false, true, 1.0f, h2_, upper_.weights(), 0.0f, hprob_);
        const Real* a = upper_.visible_bias().data();
        for (std::size_t m = 0; m < runs_; ++m)
            detail::shifted_sigmoid(&hprob_(m, 0), a, &hprob_(m, 0), nh_);
        rng.bernoulli(hprob_.data(), prop_.h.data(), prop_.h.size());
        evaluate(prop_);
        return accept(-(1.0 - t), rng);
    }

    const Matrix& hidden() const { return cur_.h; }
    /// r(h) of each run's current state.
    void copy_r(double* out) const { std::copy(cur_.r.begin(), cur_.r.end(), out); }

private:
    struct State {
        State(std::size_t runs, std::size_t nv, std::size_t nh, std::size_t nu)
            : h(Matrix::from_shape({runs, nh})),
              vmean(Matrix::from_shape({runs, nv})),
              umean(Matrix::from_shape({runs, nu})),
              r(runs, 0.0) {}
        Matrix h;      ///< the runs' states
        Matrix vmean;  ///< E[v | h] under layer k: sigmoid(a + W h), or a + s (W h) (Gaussian)
        Matrix umean;  ///< p(h2 = 1 | h) under layer k+1: sigmoid(b' + h W')
        std::vector<double> r;  ///< G_k(h) - F_{k+1}(h)
    };

    /// r(h) and the two conditional means for every run of `s`, from two products.
    ///     G_k(h)     = -b.h - sum_i softplus(a_i + (W h)_i)                            Bernoulli
    ///     G_k(h)     = -b.h - sum_i [a_i c_i / s_i + c_i^2 / 2] - sum_i log(sqrt(2 pi) s_i),
    ///                  c = W h                                                         Gaussian
    ///     F_{k+1}(h) = -a'.h - sum_j softplus(b'_j + (h W')_j)
    void evaluate(State& s) {
        const Real* a = lower_.visible_bias().data();
        if (gaussian_) {
            blas::gemm(false, true, 1.0f, s.h, lower_.weights(), 0.0f, vact_);
        } else {
            // Biases first and beta = 1, as Rbm::visible_mean does.
            for (std::size_t m = 0; m < runs_; ++m)
                std::memcpy(&vact_(m, 0), a, nv_ * sizeof(Real));
            blas::gemm(false, true, 1.0f, s.h, lower_.weights(), 1.0f, vact_);
        }
        const Real* bu = upper_.hidden_bias().data();
        for (std::size_t m = 0; m < runs_; ++m) std::memcpy(&uact_(m, 0), bu, nu_ * sizeof(Real));
        blas::gemm(false, false, 1.0f, s.h, upper_.weights(), 1.0f, uact_);

        const Real* sigma = lower_.visible_sigma().data();
        for (std::size_t m = 0; m < runs_; ++m) {
            // -G_k(h) without -b.h: the visible units' part.
            double lower_part = 0.0;
            if (gaussian_) {
                const Real* c = &vact_(m, 0);
                Real* mean = &s.vmean(m, 0);
                for (std::size_t i = 0; i < nv_; ++i) {
                    const double ci = c[i];
                    lower_part += a_over_s_[i] * ci + 0.5 * ci * ci;
                    mean[i] = a[i] + sigma[i] * c[i];
                }
                lower_part += log_norm_;
            } else {
                lower_part = detail::scaled_softplus_sum(&vact_(m, 0), 1.0, nv_, &s.vmean(m, 0));
            }
            const double upper_part =
                detail::scaled_softplus_sum(&uact_(m, 0), 1.0, nu_, &s.umean(m, 0));
            // r = G_k - F_{k+1} = (a' - b).h + sum_j softplus(.)_{k+1} - lower_part.
            const Real* h = &s.h(m, 0);
            double bias_part = 0.0;
            for (std::size_t j = 0; j < nh_; ++j) bias_part += bias_diff_[j] * h[j];
            s.r[m] = bias_part + (upper_part - lower_part);
        }
    }

    /// Accepts each proposal with probability min(1, exp(coef (r' - r))). One uniform per run
    /// whatever the outcome, so the stream does not depend on the decisions.
    std::size_t accept(double coef, Rng& rng) {
        std::size_t accepted = 0;
        for (std::size_t m = 0; m < runs_; ++m) {
            const double log_alpha = coef * (prop_.r[m] - cur_.r[m]);
            const double u = rng.uniform_double();
            if (log_alpha >= 0.0 || std::log(u) < log_alpha) {
                std::memcpy(&cur_.h(m, 0), &prop_.h(m, 0), nh_ * sizeof(Real));
                std::memcpy(&cur_.vmean(m, 0), &prop_.vmean(m, 0), nv_ * sizeof(Real));
                std::memcpy(&cur_.umean(m, 0), &prop_.umean(m, 0), nu_ * sizeof(Real));
                cur_.r[m] = prop_.r[m];
                ++accepted;
            }
        }
        return accepted;
    }

    const Rbm& lower_;
    const Rbm& upper_;
    bool gaussian_;
    std::size_t runs_, nv_, nh_, nu_;
    State cur_, prop_;
    Matrix vact_, uact_;  ///< activations of the proposal's free energies
    Matrix v_;            ///< sampled visible units of layer k (x = v / s when Gaussian)
    Matrix hprob_;        ///< conditional probabilities of the proposal h'
    Matrix h2_;           ///< sampled hidden units of layer k+1
    std::vector<double> bias_diff_, a_over_s_;
    double log_norm_ = 0.0;
};

/// log of the weighted mean ratio and its delta-method interval (see PathAis).
void summarize(const std::vector<double>& start, const std::vector<double>& path,
               PathAisResult& out) {
    WeightedRatio r = weighted_ratio(start, path, k_path_min_ess, "PathAis::estimate");
    out.delta_log_z = r.log_ratio;
    out.relative_se = r.relative_se;
    out.delta_log_z_high = r.high;
    out.delta_log_z_low = r.low;
    out.ess = r.ess;
    out.runs = path.size();
    out.log_weights = path;
    out.final_log_weights = std::move(r.total);
}

/// What one pass of the runs along a schedule gives back.
struct Pass {
    std::vector<double> logw;  ///< each run's log weight along the path
    /// lower moves proposed, accepted; upper moves proposed, accepted
    std::array<std::size_t, 4> counts{0, 0, 0, 0};
    /// With tracing, at each temperature t_i (i < J) and for each run m, r(h) of the state that
    /// increment i weighs and the log weight before it: [i * runs + m].
    std::vector<double> r_trace, logw_trace;
};

/// Anneals the runs from `start_visible` along `temps`, in ais_groups(M) groups on threads, group
/// g drawing from streams[g]. Writes the final states into `final_states` when it is not null.
Pass run_pass(const Rbm& lower, const Rbm& upper, ConstRows start_visible,
              const std::vector<double>& temps, PathMoves moves, std::vector<Rng> streams,
              bool trace, Matrix* final_states) {
    const std::size_t runs = start_visible.rows;
    const std::size_t groups = streams.size();
    const std::size_t steps = temps.size() - 1;
    Pass pass;
    pass.logw.assign(runs, 0.0);
    if (trace) {
        pass.r_trace.assign(steps * runs, 0.0);
        pass.logw_trace.assign(steps * runs, 0.0);
    }
    std::vector<std::array<std::size_t, 4>> counts(groups, {0, 0, 0, 0});
    const auto anneal = [&](std::size_t g) {
        const auto [r0, r1] = split_range(runs, groups, g);
        const std::size_t n = r1 - r0;
        PathRuns path(lower, upper, n);
        Rng& stream = streams[g];
        path.start(start_visible.block(r0, n), stream);
        double* w = pass.logw.data() + r0;
        auto& c = counts[g];
        for (std::size_t i = 0; i < steps; ++i) {
            // Increment i weighs the state that the transition at t_i left (t_0: the start).
            if (trace) {
                std::copy(w, w + n, &pass.logw_trace[i * runs + r0]);
                path.copy_r(&pass.r_trace[i * runs + r0]);
            }
            path.accumulate(temps[i + 1] - temps[i], w);
            if (i + 1 == steps) break;
            const double t = temps[i + 1];
            const bool lower_move = moves == PathMoves::lower || moves == PathMoves::both ||
                                    (moves == PathMoves::switched && t < 0.5);
            const bool upper_move = moves == PathMoves::upper || moves == PathMoves::both ||
                                    (moves == PathMoves::switched && t >= 0.5);
            if (lower_move) {
                c[0] += n;
                c[1] += path.move_lower(t, stream);
            }
            if (upper_move) {
                c[2] += n;
                c[3] += path.move_upper(t, stream);
            }
        }
        if (final_states) {
            const Matrix& h = path.hidden();
            std::copy(h.data(), h.data() + h.size(), &(*final_states)(r0, 0));
        }
    };
    // Whichever thread runs a group runs it alone with single-threaded products, as in Ais: the
    // answer does not depend on the thread count.
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
    for (const auto& c : counts)
        for (std::size_t k = 0; k < 4; ++k) pass.counts[k] += c[k];
    return pass;
}

std::vector<double> uniform_schedule(std::size_t steps) {
    std::vector<double> t(steps + 1);
    for (std::size_t i = 0; i <= steps; ++i)
        t[i] = static_cast<double>(i) / static_cast<double>(steps);
    t.back() = 1.0;
    return t;
}

/// The pilot's temperatures: half of them uniform, a quarter at each end with 1 - t or t
/// falling geometrically from 1/10 to 1e-5. When one layer's free energy varies over a much
/// wider range than the other's (G of a 784-unit layer against F of a 20-unit one), p_t stays
/// close to the sharper end's distribution until t is within (range of the flat one) / (range
/// of the sharp one) of the other end, often 1e-3 or less, and the whole change of the
/// distribution happens there: a uniform pilot would step over it.
std::vector<double> pilot_schedule(std::size_t steps) {
    const std::size_t ends = steps / 4;
    const std::size_t middle = std::max<std::size_t>(1, steps - 2 * ends);
    std::vector<double> t;
    for (std::size_t i = 0; i <= middle; ++i)
        t.push_back(static_cast<double>(i) / static_cast<double>(middle));
    for (std::size_t k = 0; k < ends; ++k) {
        const double x = ends > 1 ? static_cast<double>(k) / static_cast<double>(ends - 1) : 0.0;
        const double d = std::pow(10.0, -1.0 - 4.0 * x);
        t.push_back(d);
        t.push_back(1.0 - d);
    }
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());
    return t;
}

/// `steps` temperatures whose density follows the spread of r that a pilot pass along
/// `pilot_t` met. With ideal transitions the variance of a run's log weight is about
/// sum_i (t_{i+1} - t_i)^2 var_{t_i}(r), smallest for a given J when the spacing is inversely
/// proportional to sd_t(r) (then it is L^2 / J, L = the integral of sd_t(r) dt); where the
/// runs lag behind p_t, which is also where sd_t(r) changes fastest, the extra transitions help
/// them catch up. The spread at t_i is the weighted standard deviation of r over the pilot's
/// runs (start weight times pilot weight so far); each pilot interval gets the larger spread
/// of its two ends (a spike between two pilot temperatures still draws temperatures), plus a
/// floor of k_floor times the mean, so that no stretch of the path is left without moves when
/// the pilot's runs happened to agree there.
std::vector<double> spread_schedule(const std::vector<double>& pilot_t, const Pass& pilot,
                                    const std::vector<double>& start, std::size_t steps) {
    constexpr double k_floor = 0.1;
    const std::size_t jp = pilot_t.size() - 1;
    const std::size_t runs = start.size();
    std::vector<double> sd(jp, 0.0);
    for (std::size_t i = 0; i < jp; ++i) {
        const double* r = &pilot.r_trace[i * runs];
        const double* lw = &pilot.logw_trace[i * runs];
        double top = -k_inf;
        for (std::size_t m = 0; m < runs; ++m) top = std::max(top, start[m] + lw[m]);
        double sw = 0.0, mean = 0.0;
        for (std::size_t m = 0; m < runs; ++m) {
            const double w = std::exp(start[m] + lw[m] - top);
            sw += w;
            mean += w * r[m];
        }
        mean /= sw;
        double var = 0.0;
        for (std::size_t m = 0; m < runs; ++m) {
            const double d = r[m] - mean;
            var += std::exp(start[m] + lw[m] - top) * d * d;
        }
        sd[i] = std::isfinite(var) ? std::sqrt(var / sw) : 0.0;
    }
    std::vector<double> density(jp);
    double mean_sd = 0.0;
    for (std::size_t i = 0; i < jp; ++i) {
        density[i] = std::max(sd[i], sd[std::min(i + 1, jp - 1)]);
        mean_sd += density[i] * (pilot_t[i + 1] - pilot_t[i]);
    }
    if (!(mean_sd > 0.0) || !std::isfinite(mean_sd)) return uniform_schedule(steps);
    std::vector<double> cum(jp + 1, 0.0);
    for (std::size_t i = 0; i < jp; ++i)
        cum[i + 1] = cum[i] + (density[i] + k_floor * mean_sd) * (pilot_t[i + 1] - pilot_t[i]);
    // t_j = C^-1(j / J * C(1)), C piecewise linear between the pilot's temperatures.
    std::vector<double> t(steps + 1, 0.0);
    std::size_t k = 0;
    for (std::size_t j = 1; j < steps; ++j) {
        const double target = cum[jp] * static_cast<double>(j) / static_cast<double>(steps);
        while (k + 1 < jp && cum[k + 1] < target) ++k;
        const double frac = (target - cum[k]) / (cum[k + 1] - cum[k]);
        t[j] = pilot_t[k] + std::clamp(frac, 0.0, 1.0) * (pilot_t[k + 1] - pilot_t[k]);
    }
    t[steps] = 1.0;
    // Rounding could only tie two neighbours inside a very dense stretch: nudge them apart.
    for (std::size_t j = 1; j <= steps; ++j)
        if (!(t[j] > t[j - 1])) t[j] = std::nextafter(t[j - 1], 2.0);
    t[steps] = 1.0;
    return t;
}

}  // namespace

bool turned_over_delta_log_z(const Rbm& lower, const Rbm& upper, double* delta_log_z) {
    const std::size_t nv = lower.n_visible(), nh = lower.n_hidden();
    if (!lower.visible_units().binary() || !lower.hidden_units().binary() ||
        !upper.visible_units().binary() || !upper.hidden_units().binary() ||
        upper.n_visible() != nh || upper.n_hidden() < nv)
        return false;
    // Equal floats, not bits: +0 and -0 are the same parameter (every product with them is a
    // zero), and anything else that compares equal has the same bits.
    const Matrix& w = lower.weights();
    const Matrix& wu = upper.weights();
    const std::size_t nu = upper.n_hidden();
    for (std::size_t j = 0; j < nh; ++j) {
        if (upper.visible_bias()(j) != lower.hidden_bias()(j)) return false;
        for (std::size_t i = 0; i < nv; ++i)
            if (wu(j, i) != w(i, j)) return false;
        for (std::size_t i = nv; i < nu; ++i)
            if (wu(j, i) != 0.0f) return false;
    }
    for (std::size_t i = 0; i < nv; ++i)
        if (upper.hidden_bias()(i) != lower.visible_bias()(i)) return false;
    // Each extra unit, with no weights, adds -softplus(c) to F_{k+1} for every h.
    double extra = 0.0;
    for (std::size_t i = nv; i < nu; ++i)
        extra += softplus(static_cast<double>(upper.hidden_bias()(i)));
    if (delta_log_z) *delta_log_z = extra;
    return true;
}

PathAis::PathAis(PathAisConfig config) : config_(std::move(config)) {
    DBN_CHECK(config_.steps >= 1, ConfigError,
              "PathAis: steps must be at least 1 (got " << config_.steps << ")");
    const std::vector<double>& t = config_.schedule;
    if (!t.empty()) {
        bool increasing = t.size() >= 2 && t.front() == 0.0 && t.back() == 1.0;
        for (std::size_t i = 1; i < t.size(); ++i) increasing = increasing && t[i] > t[i - 1];
        DBN_CHECK(increasing, ConfigError,
                  "PathAis: a schedule must rise strictly from 0 to 1 (got "
                      << t.size() << " temperatures from " << t.front() << " to " << t.back()
                      << ")");
    }
}

PathAisResult PathAis::estimate(const Rbm& lower, const Rbm& upper,
                                const AisResult& lower_ais) const {
    DBN_CHECK(lower_ais.final_states.shape(0) > 0, ConfigError,
              "PathAis::estimate: the AIS result holds no final states (run it with "
              "AisConfig::keep_final_states)");
    return estimate(lower, upper, lower_ais.final_states, lower_ais.log_weights);
}

PathAisResult PathAis::estimate(const Rbm& lower, const Rbm& upper,
                                const PathAisResult& previous) const {
    return estimate(lower, upper, previous.final_states, previous.final_log_weights);
}

PathAisResult PathAis::estimate(const Rbm& lower, const Rbm& upper, ConstRows start_visible,
                                const std::vector<double>& start_log_w) const {
    const auto clock_start = std::chrono::steady_clock::now();
    check_layers(lower, upper);
    const std::size_t runs = start_visible.rows;
    DBN_CHECK(start_visible.cols == lower.n_visible(), ShapeError,
              "PathAis::estimate: start states have " << start_visible.cols << " columns (expected "
                                                      << lower.n_visible() << ")");
    DBN_CHECK(runs >= 2, ShapeError,
              "PathAis::estimate: needs at least 2 start states for a standard error (got " << runs
                                                                                            << ")");
    DBN_CHECK(start_log_w.empty() || start_log_w.size() == runs, ShapeError,
              "PathAis::estimate: " << start_log_w.size() << " start log weights for " << runs
                                    << " start states");
    for (std::size_t i = 0; i < runs * start_visible.cols; ++i)
        DBN_CHECK(std::isfinite(start_visible.data[i]), NumericalError,
                  "PathAis::estimate: a start state holds NaN or Inf");
    for (double lw : start_log_w)
        DBN_CHECK(std::isfinite(lw), NumericalError,
                  "PathAis::estimate: a start log weight is not finite (" << lw << ")");
    const std::vector<double> start =
        start_log_w.empty() ? std::vector<double>(runs, 0.0) : start_log_w;

    PathAisResult result;
    double exact = 0.0;
    result.turned_over =
        config_.detect_turned_over && turned_over_delta_log_z(lower, upper, &exact);

    // Substreams as in Ais: group g of the main pass draws from Rng(seed) jumped g times (group
    // 0 from Rng(seed) itself), the pilot's groups from the streams after them, so the main
    // pass makes the same draws with or without a pilot.
    const std::size_t groups = ais_groups(runs);
    std::vector<Rng> streams, pilot_streams;
    Rng rng(config_.seed);
    for (std::size_t g = 0; g < 2 * groups; ++g) {
        (g < groups ? streams : pilot_streams).push_back(rng);
        rng.jump();
    }
    std::vector<double> temps;
    if (result.turned_over) {
        // One increment and no transition: the pass only draws h ~ p_k(h | v) for each start
        // state, which is already a sample of p_{k+1} = p_k. Every increment would be the same
        // constant, so the path weights are exactly dlogZ and so is the ratio of weighted means,
        // whatever the start weights.
        temps = {0.0, 1.0};
    } else if (!config_.schedule.empty()) {
        temps = config_.schedule;
    } else if (config_.adapt_schedule) {
        const std::size_t jp = config_.pilot_steps > 0
                                   ? config_.pilot_steps
                                   : std::max<std::size_t>(10, config_.steps / 10);
        const std::vector<double> pilot_t = pilot_schedule(jp);
        const Pass pilot = run_pass(lower, upper, start_visible, pilot_t, config_.moves,
                                    pilot_streams, true, nullptr);
        temps = spread_schedule(pilot_t, pilot, start, config_.steps);
        result.pilot_steps = pilot_t.size() - 1;
    } else {
        temps = uniform_schedule(config_.steps);
    }

    result.final_states = Matrix::from_shape({runs, lower.n_hidden()});
    Pass pass = run_pass(lower, upper, start_visible, temps, config_.moves, streams, false,
                         &result.final_states);
    if (result.turned_over) std::fill(pass.logw.begin(), pass.logw.end(), exact);
    summarize(start, pass.logw, result);
    if (result.turned_over) {
        result.delta_log_z = result.delta_log_z_low = result.delta_log_z_high = exact;
        result.relative_se = 0.0;
    }
    result.steps = result.turned_over ? 0 : temps.size() - 1;
    if (!result.turned_over) result.temperatures = std::move(temps);
    result.lower_proposals = pass.counts[0];
    result.lower_accepted = pass.counts[1];
    result.upper_proposals = pass.counts[2];
    result.upper_accepted = pass.counts[3];
    const std::size_t proposed = result.lower_proposals + result.upper_proposals;
    result.acceptance_rate =
        proposed > 0 ? static_cast<double>(result.lower_accepted + result.upper_accepted) /
                           static_cast<double>(proposed)
                     : 1.0;
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
    return result;
}

}  // namespace dbn::estimate
