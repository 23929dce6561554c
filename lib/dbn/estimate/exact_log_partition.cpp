#include "dbn/estimate/exact_log_partition.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <iomanip>
#include <thread>
#include <vector>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"

namespace dbn::estimate {
namespace {

/// Cost on the reference machine (2 cores) of one (state, other unit) softplus term and of the
/// per-state work (a log per 64 terms, the log-sum-exp update), for the refusal message.
constexpr double k_seconds_per_term = 0.6e-9;
constexpr double k_seconds_per_state = 15e-9;

/// What one enumeration needs, in double. Units of the enumerated side are split into the
/// n_low first ("low bits") and the rest ("high bits"). A block is the 2^n_low states that
/// share their high bits; its products with the weights are table (all low states times their
/// weight rows, one GEMM done once) plus one row for the high bits, so the enumeration itself
/// needs no further GEMM and the workers share nothing but read-only tables.
struct Problem {
    bool enumerate_hidden = true;
    /// The units summed out against each enumerated state (the other side).
    const Units* other = nullptr;
    std::size_t n_enum = 0;
    std::size_t n_other = 0;
    std::size_t n_low = 0;
    /// n_enum x n_other: W (visible enumerated) or W^T (hidden enumerated), row k = unit k.
    std::vector<double> weights;
    std::vector<double> enum_bias;
    /// Where the other side's input starts: its biases when they add to the input (Bernoulli),
    /// else zero (Gaussian units apply theirs).
    std::vector<double> other_start;
    /// The other side's log_marginal_coefficients() (Gaussian: a_i / s_i).
    std::vector<double> other_coef;
    /// 2^n_low x n_other: low states times the first n_low rows of `weights`.
    std::vector<double> table;
    /// 2^n_low: the enumerated side's bias term of each low state.
    std::vector<double> table_linear;
    double constant = 0.0;  ///< added to every -F or -G (the other side's log_marginal_constant)
};

/// Low bits: a table of 2^n_low x n_other doubles of at most 2^18 (2 MB, about a core's L2
/// cache), but at least 2^6 states per block so that the high-bit row (up to n_enum x n_other
/// additions) stays a small part of a block's work.
std::size_t low_bits(std::size_t n_enum, std::size_t n_other) {
    std::size_t n_low = std::min<std::size_t>(n_enum, 12);
    const std::size_t floor = std::min<std::size_t>(n_enum, 6);
    while (n_low > floor && (std::size_t{1} << n_low) * n_other > (std::size_t{1} << 18)) --n_low;
    return n_low;
}

void build_table(Problem& p) {
    p.n_low = low_bits(p.n_enum, p.n_other);
    const std::size_t states = std::size_t{1} << p.n_low;
    // Binary low states in counting order: bit k of the state index is unit k.
    std::vector<double> s(states * p.n_low);
    p.table_linear.assign(states, 0.0);
    for (std::size_t z = 0; z < states; ++z) {
        for (std::size_t k = 0; k < p.n_low; ++k) {
            const double bit = static_cast<double>((z >> k) & 1U);
            s[z * p.n_low + k] = bit;
            p.table_linear[z] += bit * p.enum_bias[k];
        }
    }
    p.table.assign(states * p.n_other, 0.0);
    blas::dgemm(false, false, states, p.n_other, p.n_low, 1.0, s.data(), p.weights.data(), 0.0,
                p.table.data());
}

/// Sums exp(-F) or exp(-G) over the states of the blocks b = worker, worker + stride, ...
/// into partial[b] (block b = the states whose high bits are b).
void enumerate_blocks(const Problem& p, std::size_t worker, std::size_t stride,
                      std::vector<LogSumExp>& partial) {
    std::vector<double> high(p.n_other);
    const std::size_t low_states = std::size_t{1} << p.n_low;
    // -F or -G of each low state of a block, the linear terms excluded: the other side's units
    // summed out against table row z + the high bits' row.
    std::vector<double> terms(low_states);
    for (std::size_t b = worker; b < partial.size(); b += stride) {
        // The high bits' row: where the other side's input starts plus the weight rows of the
        // set bits.
        std::copy(p.other_start.begin(), p.other_start.end(), high.begin());
        double high_linear = p.constant;
        for (std::size_t k = p.n_low; k < p.n_enum; ++k) {
            if (((b >> (k - p.n_low)) & 1U) == 0) continue;
            high_linear += p.enum_bias[k];
            const double* w = p.weights.data() + k * p.n_other;
            for (std::size_t i = 0; i < p.n_other; ++i) high[i] += w[i];
        }
        p.other->log_marginal_rows(p.table.data(), low_states, high.data(), p.n_other, p.other_coef,
                                   terms.data());
        LogSumExp& acc = partial[b];
        for (std::size_t z = 0; z < low_states; ++z)
            acc.add(high_linear + p.table_linear[z] + terms[z]);
    }
}

Problem make_problem(const Rbm& rbm, EnumeratedSide side) {
    Problem p;
    const std::size_t nv = rbm.n_visible();
    const std::size_t nh = rbm.n_hidden();
    p.enumerate_hidden = enumerates_hidden(rbm, side);
    p.n_enum = p.enumerate_hidden ? nh : nv;
    p.n_other = p.enumerate_hidden ? nv : nh;
    if (p.n_enum > k_max_enumerated_units) {
        const double seconds =
            std::ldexp(static_cast<double>(p.n_other) * k_seconds_per_term + k_seconds_per_state,
                       static_cast<int>(std::min<std::size_t>(p.n_enum, 1000)));
        DBN_CHECK(false, ConfigError,
                  "exact_log_partition: "
                      << p.n_enum << " " << (p.enumerate_hidden ? "hidden" : "visible")
                      << " units to enumerate (expected at most " << k_max_enumerated_units
                      << "): 2^" << p.n_enum << " states x " << p.n_other << " "
                      << (p.enumerate_hidden ? "visible" : "hidden") << " units is about "
                      << std::setprecision(2) << seconds << " s at ~" << k_seconds_per_term * 1e9
                      << " ns per term"
                      << (rbm.visible_units().binary()
                              ? ""
                              : std::string(" (") + rbm.visible_units().label() +
                                    " visible units can only be integrated out, so the hidden "
                                    "side must be enumerated)")
                      << "; estimate log Z with AIS instead");
    }
    const Matrix& w = rbm.weights();
    p.weights.resize(nv * nh);
    for (std::size_t i = 0; i < nv; ++i) {
        for (std::size_t j = 0; j < nh; ++j) {
            if (p.enumerate_hidden) {
                p.weights[j * nv + i] = w(i, j);
            } else {
                p.weights[i * nh + j] = w(i, j);
            }
        }
    }
    const Vector& enum_bias = p.enumerate_hidden ? rbm.hidden_bias() : rbm.visible_bias();
    p.enum_bias.assign(enum_bias.begin(), enum_bias.end());
    p.other = p.enumerate_hidden ? &rbm.visible_units() : &rbm.hidden_units();
    const UnitParams other = p.enumerate_hidden ? rbm.visible_params() : rbm.hidden_params();
    if (p.other->has_sigma()) {
        for (std::size_t i = 0; i < p.n_other; ++i) {
            const double si = other.sigma[i];
            DBN_CHECK(
                si > 0.0, ConfigError,
                "exact_log_partition: visible sigma " << i << " is " << si << " (expected > 0)");
        }
    }
    p.other_start.assign(p.n_other, 0.0);
    if (p.other->bias_adds_to_input()) p.other_start.assign(other.bias, other.bias + p.n_other);
    p.other_coef = p.other->log_marginal_coefficients(other, p.n_other);
    p.constant = p.other->log_marginal_constant(other, p.n_other);
    build_table(p);
    return p;
}

}  // namespace

bool enumerates_hidden(const Rbm& rbm, EnumeratedSide side) {
    // A side can be enumerated when its units are binary and the other side's can be summed
    // out in closed form.
    const Units& visible = rbm.visible_units();
    const Units& hidden = rbm.hidden_units();
    const bool hidden_ok = hidden.binary() && visible.closed_form();
    const bool visible_ok = visible.binary() && hidden.closed_form();
    switch (side) {
        case EnumeratedSide::smaller:
            return !visible_ok || (hidden_ok && rbm.n_hidden() <= rbm.n_visible());
        case EnumeratedSide::hidden:
            break;
        case EnumeratedSide::visible:
            DBN_CHECK(visible_ok, ConfigError,
                      "exact_log_partition: " << visible.label()
                                              << " visible units cannot be enumerated, only "
                                                 "integrated out (enumerate the hidden side)");
            return false;
    }
    return true;
}

std::size_t enumerated_units(const Rbm& rbm, EnumeratedSide side) {
    return enumerates_hidden(rbm, side) ? rbm.n_hidden() : rbm.n_visible();
}

double exact_log_partition(const Rbm& rbm, const ExactOptions& options) {
    DBN_CHECK(rbm.hidden_units().closed_form(), ConfigError,
              "exact_log_partition: " << rbm.hidden_units().name()
                                      << " hidden units have no closed-form free energy, so log Z "
                                         "has no exact enumeration (expected "
                                      << unit_names([](const Units& u) {
                                             return u.closed_form() && u.allowed(UnitSide::hidden);
                                         })
                                      << " hidden units)");
    DBN_CHECK(options.threads >= 1, ConfigError,
              "exact_log_partition: threads must be >= 1 (got " << options.threads << ")");
    DBN_CHECK(rbm.n_visible() > 0 && rbm.n_hidden() > 0, ConfigError,
              "exact_log_partition: the RBM has no units (" << rbm.n_visible() << "x"
                                                            << rbm.n_hidden() << ")");
    rbm.check_finite("exact_log_partition");
    const Problem p = make_problem(rbm, options.side);

    std::vector<LogSumExp> partial(std::size_t{1} << (p.n_enum - p.n_low));
    const std::size_t workers = std::min(options.threads, partial.size());
    // A worker's exception (only std::bad_alloc is possible) is carried to this thread.
    std::vector<std::exception_ptr> errors(workers);
    auto work = [&](std::size_t t) {
        try {
            enumerate_blocks(p, t, workers, partial);
        } catch (...) {
            errors[t] = std::current_exception();
        }
    };
    {
        std::vector<std::thread> threads;
        threads.reserve(workers - 1);
        try {
            for (std::size_t t = 1; t < workers; ++t) threads.emplace_back(work, t);
        } catch (...) {
            for (auto& t : threads) t.join();
            throw;
        }
        work(0);
        for (auto& t : threads) t.join();
    }
    for (const auto& e : errors) {
        if (e) std::rethrow_exception(e);
    }

    LogSumExp total;
    for (const auto& part : partial) total.merge(part);
    const double log_z = total.value();
    DBN_CHECK(std::isfinite(log_z), NumericalError,
              "exact_log_partition: log Z is not finite (" << log_z << ")");
    return log_z;
}

}  // namespace dbn::estimate
