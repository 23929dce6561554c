#include "dbn/data/ising.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <string>

#include "dbn/core/error.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/data/readers.hpp"
#include "dbn/hdf5/hdf5.hpp"

namespace dbn::data {
namespace {

constexpr double k_pi = 3.14159265358979323846;

void check_lattice(std::size_t size, double temperature, const char* what) {
    DBN_CHECK(size >= 2 && size <= k_ising_max_size, ConfigError,
              what << ": the lattice side must be in [2, " << k_ising_max_size << "] (got " << size
                   << ")");
    DBN_CHECK(temperature >= k_ising_min_temperature && temperature <= k_ising_max_temperature,
              ConfigError,
              what << ": the temperature must be in [" << k_ising_min_temperature << ", "
                   << k_ising_max_temperature << "] (got " << temperature << ")");
}

// A number as its sign and the log of its magnitude (sign 0: the number is 0).
struct Signed {
    int sign = 1;
    double log = 0.0;
};

// log(2 cosh x) and log|2 sinh x| without overflow: |x| + log(1 +- exp(-2|x|)).
double log_2cosh(double x) {
    const double a = std::abs(x);
    return a + std::log1p(std::exp(-2.0 * a));
}
Signed log_2sinh(double x) {
    if (x == 0.0) return {0, 0.0};
    const double a = std::abs(x);
    // 1 - exp(-2a): expm1 keeps the digits for small a.
    return {x > 0.0 ? 1 : -1, a + std::log(-std::expm1(-2.0 * a))};
}

double log_partition_at(std::size_t size, double k) {
    const auto n = static_cast<double>(size);
    // g_l for l = 0 .. 2L - 1.
    std::vector<double> g(2 * size);
    const double c2 = std::cosh(2.0 * k) / std::tanh(2.0 * k);
    g[0] = 2.0 * k + std::log(std::tanh(k));
    for (std::size_t l = 1; l < 2 * size; ++l)
        g[l] = std::acosh(c2 - std::cos(k_pi * static_cast<double>(l) / n));
    Signed terms[4];
    for (int parity = 1, t = 0; parity >= 0; --parity, t += 2) {
        double lc = 0.0;
        Signed s;
        for (std::size_t r = 0; r < size; ++r) {
            const double x = n * g[2 * r + static_cast<std::size_t>(parity)] / 2.0;
            lc += log_2cosh(x);
            const Signed f = log_2sinh(x);
            s.sign *= f.sign;
            s.log += f.log;
        }
        terms[t] = {1, lc};
        terms[t + 1] = s;
    }
    double top = -std::numeric_limits<double>::infinity();
    for (const Signed& t : terms)
        if (t.sign != 0) top = std::max(top, t.log);
    double sum = 0.0;
    for (const Signed& t : terms)
        if (t.sign != 0) sum += t.sign * std::exp(t.log - top);
    // The sum is Z times positive factors: it cannot come out <= 0 but by rounding, and the
    // cosh terms alone bound it below by exp(top) / 4 > 0 (each |sinh| term is below its cosh).
    return -std::log(2.0) + n * n / 2.0 * std::log(2.0 * std::sinh(2.0 * k)) + top + std::log(sum);
}

}  // namespace

double ising_log_partition(std::size_t size, double temperature) {
    check_lattice(size, temperature, "ising_log_partition");
    return log_partition_at(size, 1.0 / temperature);
}

double ising_onsager_log_partition_per_spin(double temperature) {
    DBN_CHECK(temperature >= k_ising_min_temperature && temperature <= k_ising_max_temperature,
              ConfigError,
              "ising_onsager_log_partition_per_spin: the temperature must be in ["
                  << k_ising_min_temperature << ", " << k_ising_max_temperature << "] (got "
                  << temperature << ")");
    const double k = 1.0 / temperature;
    const double c = std::cosh(2.0 * k);
    const double kappa = 2.0 * std::sinh(2.0 * k) / (c * c);
    // Gauss-Legendre would need the log singularity at T_c handled; composite Simpson on 20,000
    // intervals is accurate to ~1e-9 there and to rounding elsewhere.
    const std::size_t m = 20000;
    const double h = (k_pi / 2.0) / static_cast<double>(m);
    double sum = 0.0;
    for (std::size_t i = 0; i <= m; ++i) {
        const double t = h * static_cast<double>(i);
        const double s = std::sin(t);
        const double f =
            std::log((1.0 + std::sqrt(std::max(0.0, 1.0 - kappa * kappa * s * s))) / 2.0);
        const double w = (i == 0 || i == m) ? 1.0 : (i % 2 == 1 ? 4.0 : 2.0);
        sum += w * f;
    }
    return std::log(2.0 * c) + sum * h / 3.0 / k_pi;
}

double ising_mean_energy(std::size_t size, double temperature) {
    check_lattice(size, temperature, "ising_mean_energy");
    const double k = 1.0 / temperature;
    const double h = 1e-3 * k;
    const auto f = [&](double kk) { return log_partition_at(size, kk); };
    const double d = (8.0 * (f(k + h) - f(k - h)) - (f(k + 2 * h) - f(k - 2 * h))) / (12.0 * h);
    return -d;
}

double ising_specific_heat(std::size_t size, double temperature) {
    check_lattice(size, temperature, "ising_specific_heat");
    const double k = 1.0 / temperature;
    const double h = std::min(1e-3, 0.02 / static_cast<double>(size)) * k;
    const auto f = [&](double kk) { return log_partition_at(size, kk); };
    const double d2 =
        (-(f(k + 2 * h) + f(k - 2 * h)) + 16.0 * (f(k + h) + f(k - h)) - 30.0 * f(k)) /
        (12.0 * h * h);
    return k * k * d2 / static_cast<double>(size * size);
}

double ising_energy(const float* v, std::size_t size) {
    long sum = 0;
    for (std::size_t i = 0; i < size; ++i)
        for (std::size_t j = 0; j < size; ++j) {
            const int s = v[i * size + j] > 0.5f ? 1 : -1;
            const int right = v[i * size + (j + 1) % size] > 0.5f ? 1 : -1;
            const int down = v[((i + 1) % size) * size + j] > 0.5f ? 1 : -1;
            sum += s * (right + down);
        }
    return -static_cast<double>(sum);
}

IsingObservables ising_observables(const Matrix& visible, std::size_t size, double temperature,
                                   const std::vector<double>& weights) {
    check_lattice(size, temperature, "ising_observables");
    const std::size_t rows = visible.shape(0), spins = size * size;
    DBN_CHECK(visible.shape(1) == spins, ShapeError,
              "ising_observables: rows of " << visible.shape(1) << " values, not " << spins
                                            << " (an " << size << "x" << size << " lattice)");
    DBN_CHECK(rows > 0, ShapeError, "ising_observables: no rows");
    DBN_CHECK(weights.empty() || weights.size() == rows, ShapeError,
              "ising_observables: " << weights.size() << " weights for " << rows << " rows");
    std::vector<double> w(rows, 1.0 / static_cast<double>(rows));
    if (!weights.empty()) {
        double total = 0.0;
        for (double x : weights) {
            DBN_CHECK(std::isfinite(x) && x >= 0.0, ConfigError,
                      "ising_observables: a weight is negative or not finite (" << x << ")");
            total += x;
        }
        DBN_CHECK(total > 0.0, ConfigError, "ising_observables: the weights are all 0");
        for (std::size_t r = 0; r < rows; ++r) w[r] = weights[r] / total;
    }
    const auto n = static_cast<double>(spins);
    std::vector<double> e(rows), m(rows);
    for (std::size_t r = 0; r < rows; ++r) {
        const float* v = visible.data() + r * spins;
        e[r] = ising_energy(v, size) / n;
        long sum = 0;
        for (std::size_t k = 0; k < spins; ++k) sum += v[k] > 0.5f ? 1 : -1;
        m[r] = std::abs(static_cast<double>(sum)) / n;
    }
    // Mean, variance and the standard errors of both, of x under the weights w.
    struct Moments {
        IsingEstimate mean, variance;
    };
    const bool samples = weights.empty();
    const auto moments = [&](const std::vector<double>& x) {
        double mu = 0.0;
        for (std::size_t r = 0; r < rows; ++r) mu += w[r] * x[r];
        double m2 = 0.0, m4 = 0.0;
        for (std::size_t r = 0; r < rows; ++r) {
            const double d = (x[r] - mu) * (x[r] - mu);
            m2 += w[r] * d;
            m4 += w[r] * d * d;
        }
        Moments out;
        out.mean.value = mu;
        out.variance.value = m2;
        if (samples) {
            const auto count = static_cast<double>(rows);
            out.mean.standard_error = std::sqrt(m2 / count);
            out.variance.standard_error = std::sqrt(std::max(0.0, m4 - m2 * m2) / count);
        }
        return out;
    };
    const Moments me = moments(e), mm = moments(m);
    IsingObservables out;
    out.count = rows;
    out.size = size;
    out.temperature = temperature;
    out.energy = me.mean;
    out.magnetization = mm.mean;
    // Var(E) = N^2 Var(E / N): C = N Var(E / N) / T^2, chi = N Var(|m|) / T.
    const double c = n / (temperature * temperature), chi = n / temperature;
    out.specific_heat = {c * me.variance.value, c * me.variance.standard_error};
    out.susceptibility = {chi * mm.variance.value, chi * mm.variance.standard_error};
    return out;
}

namespace {

class Wolff {
public:
    Wolff(std::size_t size, double temperature, std::uint64_t seed)
        : n_(size), spins_(size * size), rng_(seed), p_add_(-std::expm1(-2.0 / temperature)) {
        for (auto& s : spins_) s = rng_.below(2) ? 1 : -1;
        stack_.reserve(spins_.size());
        in_.assign(spins_.size(), 0);
    }

    // One cluster flip; returns the cluster's size.
    std::size_t flip() {
        const std::size_t seed = rng_.below(spins_.size());
        const std::int8_t s = spins_[seed];
        ++mark_;
        if (mark_ == 0) {  // the marks wrapped: clear them
            std::fill(in_.begin(), in_.end(), 0);
            mark_ = 1;
        }
        stack_.clear();
        stack_.push_back(seed);
        in_[seed] = mark_;
        std::size_t grown = 0;
        while (!stack_.empty()) {
            const std::size_t x = stack_.back();
            stack_.pop_back();
            spins_[x] = static_cast<std::int8_t>(-s);
            ++grown;
            const std::size_t i = x / n_, j = x % n_;
            const std::size_t nb[4] = {i * n_ + (j + 1) % n_, i * n_ + (j + n_ - 1) % n_,
                                       ((i + 1) % n_) * n_ + j, ((i + n_ - 1) % n_) * n_ + j};
            for (std::size_t y : nb) {
                if (spins_[y] != s || in_[y] == mark_) continue;
                if (rng_.uniform_double() < p_add_) {
                    in_[y] = mark_;
                    stack_.push_back(y);
                }
            }
        }
        return grown;
    }

    double energy() const {
        long sum = 0;
        for (std::size_t i = 0; i < n_; ++i)
            for (std::size_t j = 0; j < n_; ++j)
                sum += spins_[i * n_ + j] *
                       (spins_[i * n_ + (j + 1) % n_] + spins_[((i + 1) % n_) * n_ + j]);
        return -static_cast<double>(sum);
    }
    double abs_magnetization() const {
        long m = 0;
        for (auto s : spins_) m += s;
        return std::abs(static_cast<double>(m));
    }
    const std::vector<std::int8_t>& spins() const { return spins_; }

private:
    std::size_t n_;
    std::vector<std::int8_t> spins_;
    Rng rng_;
    double p_add_;
    std::vector<std::size_t> stack_;
    std::vector<std::uint32_t> in_;
    std::uint32_t mark_ = 0;
};

// Sokal's integrated autocorrelation time with the automatic window (c = 6).
double integrated_tau(const std::vector<double>& x) {
    const std::size_t n = x.size();
    double mean = 0.0;
    for (double v : x) mean += v;
    mean /= static_cast<double>(n);
    double var = 0.0;
    for (double v : x) var += (v - mean) * (v - mean);
    var /= static_cast<double>(n);
    if (!(var > 0.0)) return 0.5;  // a constant series (a frozen lattice): no correlation to add
    double tau = 0.5;
    for (std::size_t t = 1; t < n / 2; ++t) {
        double c = 0.0;
        for (std::size_t i = 0; i + t < n; ++i) c += (x[i] - mean) * (x[i + t] - mean);
        c /= static_cast<double>(n - t) * var;
        tau += c;
        if (static_cast<double>(t) >= 6.0 * tau) break;
    }
    return std::max(tau, 0.5);
}

}  // namespace

IsingSpec parse_ising_spec(const std::string& spec) {
    const std::string prefix = "ising:";
    DBN_CHECK(spec.rfind(prefix, 0) == 0, FormatError, spec << ": not an ising: SPEC");
    const std::string form = ": expected ising:L=SIDE,T=TEMPERATURE,n=COUNT,seed=SEED";
    IsingSpec out;
    std::set<std::string> seen;
    std::size_t pos = prefix.size();
    while (pos < spec.size()) {
        const std::size_t end = std::min(spec.find(',', pos), spec.size());
        const std::string item = spec.substr(pos, end - pos);
        const std::size_t eq = item.find('=');
        DBN_CHECK(eq != std::string::npos && eq > 0, FormatError,
                  spec << ": " << quote_input(item) << " is not KEY=VALUE" << form);
        const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
        DBN_CHECK(seen.insert(key).second, FormatError, spec << ": " << key << " given twice");
        const auto whole = [&](std::uint64_t lo, std::uint64_t hi) {
            const bool digits = !value.empty() && value.size() <= 19 &&
                                value.find_first_not_of("0123456789") == std::string::npos;
            const std::uint64_t x = digits ? std::stoull(value) : 0;
            DBN_CHECK(digits && x >= lo && x <= hi, FormatError,
                      spec << ": " << key << " must be a whole number in [" << lo << ", " << hi
                           << "] (got " << quote_input(value) << ")");
            return x;
        };
        if (key == "L") {
            out.size = whole(2, k_ising_max_size);
        } else if (key == "n") {
            out.count = whole(1, k_ising_max_values);
        } else if (key == "seed") {
            out.seed = whole(0, std::numeric_limits<std::int64_t>::max());
        } else if (key == "T") {
            std::size_t used = 0;
            double t = 0.0;
            try {
                t = std::stod(value, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            DBN_CHECK(used > 0 && used == value.size() && t >= k_ising_min_temperature &&
                          t <= k_ising_max_temperature,
                      FormatError,
                      spec << ": T must be a temperature in [" << k_ising_min_temperature << ", "
                           << k_ising_max_temperature << "] (got " << quote_input(value) << ")");
            out.temperature = t;
        } else {
            DBN_CHECK(false, FormatError, spec << ": unknown key " << quote_input(key) << form);
        }
        pos = end + 1;
    }
    DBN_CHECK(out.count <= k_ising_max_values / (out.size * out.size), FormatError,
              spec << ": " << out.count << " samples of " << out.size * out.size
                   << " spins are more than " << k_ising_max_values << " values");
    return out;
}

IsingSamples ising_samples(const IsingSpec& spec) {
    check_lattice(spec.size, spec.temperature, "ising");
    DBN_CHECK(spec.count >= 1, ConfigError, "ising: the sample count must be at least 1");
    const std::size_t n = spec.size, spins = n * n;
    IsingSamples out;
    out.log_z = ising_log_partition(n, spec.temperature);
    Wolff w(n, spec.temperature, spec.seed);

    // Pilot: a short warm-up, then a run long enough to hold many autocorrelation times.
    std::size_t flips = 0, grown = 0;
    for (std::size_t i = 0; i < 1000; ++i) grown += w.flip(), ++flips;
    const double cluster = std::max(1.0, static_cast<double>(grown) / static_cast<double>(flips));
    const std::size_t pilot =
        2000 + static_cast<std::size_t>(100.0 * static_cast<double>(spins) / cluster);
    std::vector<double> e(pilot), m(pilot);
    for (std::size_t i = 0; i < pilot; ++i) {
        grown += w.flip(), ++flips;
        e[i] = w.energy();
        m[i] = w.abs_magnetization();
    }
    out.tau_energy = integrated_tau(e);
    out.tau_magnetization = integrated_tau(m);
    const double tau = std::max(out.tau_energy, out.tau_magnetization);
    out.burn_in = static_cast<std::size_t>(std::ceil(20.0 * tau)) + 100;
    out.spacing = static_cast<std::size_t>(std::ceil(2.0 * tau)) + 1;
    for (std::size_t i = 0; i < out.burn_in; ++i) grown += w.flip(), ++flips;

    out.visible = Matrix::from_shape({spec.count, spins});
    out.log_prob.resize(spec.count);
    for (std::size_t r = 0; r < spec.count; ++r) {
        for (std::size_t i = 0; i < out.spacing; ++i) grown += w.flip(), ++flips;
        const auto& s = w.spins();
        float* row = out.visible.data() + r * spins;
        for (std::size_t k = 0; k < spins; ++k) row[k] = s[k] > 0 ? 1.0f : 0.0f;
        out.log_prob[r] = -w.energy() / spec.temperature - out.log_z;
    }
    out.mean_cluster = static_cast<double>(grown) / static_cast<double>(flips);
    return out;
}

void write_ising_file(const IsingSamples& samples, const IsingSpec& spec, const std::string& path) {
    namespace fs = std::filesystem;
    const std::size_t rows = samples.visible.shape(0), cols = samples.visible.shape(1);
    std::vector<std::uint8_t> bytes(samples.visible.size());
    for (std::size_t k = 0; k < bytes.size(); ++k)
        bytes[k] = samples.visible.data()[k] > 0.5f ? 1 : 0;
    remove_stale_temp_files(path);
    const std::string tmp = temp_path(path);
    try {
        {
            hdf5::File f = hdf5::File::create(tmp);
            f.write_dataset<std::uint8_t>("data", bytes.data(), {rows, cols});
            f.write_dataset<double>("log_prob", samples.log_prob.data(), {rows});
            f.write_string_attribute("format", "dbn-ising");
            f.write_double_attribute("log_z", samples.log_z);
            f.write_double_attribute("temperature", spec.temperature);
            f.write_uint_attribute("size", spec.size);
            f.write_uint_attribute("seed", spec.seed);
            f.write_uint_attribute("count", rows);
            f.write_uint_attribute("burn_in", samples.burn_in);
            f.write_uint_attribute("spacing", samples.spacing);
            f.write_double_attribute("tau_energy", samples.tau_energy);
            f.write_double_attribute("tau_magnetization", samples.tau_magnetization);
            f.write_double_attribute("autocorrelation_time",
                                     std::max(samples.tau_energy, samples.tau_magnetization));
            f.write_double_attribute("mean_cluster", samples.mean_cluster);
            f.close();
        }
        sync_file(tmp);
        std::error_code ec;
        fs::rename(tmp, path, ec);
        DBN_CHECK(!ec, IoError,
                  path << ": cannot rename " << tmp << " over it (" << ec.message() << ")");
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
}

std::optional<IsingSpec> ising_spec_of(const std::string& spec) {
    if (spec.rfind("ising:", 0) == 0) return parse_ising_spec(spec);
    const std::size_t colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    const std::string path = spec.substr(0, colon);
    if (!(detail::ends_with(path, ".h5") || detail::ends_with(path, ".hdf5"))) return std::nullopt;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    const hdf5::File f = hdf5::File::open(path);
    if (!f.has_attribute("format") || f.read_string_attribute("format") != "dbn-ising")
        return std::nullopt;
    IsingSpec out;
    out.size = f.read_uint_attribute("size");
    out.temperature = f.read_double_attribute("temperature");
    out.count = f.read_uint_attribute("count");
    out.seed = f.read_uint_attribute("seed");
    return out;
}

std::vector<double> ising_log_prob_of(const std::string& spec, const Matrix& visible) {
    const std::size_t rows = visible.shape(0);
    if (spec.rfind("ising:", 0) == 0) {
        const IsingSpec s = parse_ising_spec(spec);
        DBN_CHECK(visible.shape(1) == s.size * s.size, FormatError,
                  spec << ": rows of " << visible.shape(1) << " values, not " << s.size * s.size);
        const double log_z = ising_log_partition(s.size, s.temperature);
        std::vector<double> out(rows);
        for (std::size_t r = 0; r < rows; ++r)
            out[r] = -ising_energy(visible.data() + r * visible.shape(1), s.size) / s.temperature -
                     log_z;
        return out;
    }
    const std::size_t colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0) return {};
    const std::string path = spec.substr(0, colon);
    if (!(detail::ends_with(path, ".h5") || detail::ends_with(path, ".hdf5"))) return {};
    const hdf5::File f = hdf5::File::open(path);
    if (!f.has_attribute("format") || f.read_string_attribute("format") != "dbn-ising" ||
        !f.has_dataset("log_prob"))
        return {};
    const hdf5::Dataset d = f.open_dataset("log_prob");
    const auto shape = d.shape();
    DBN_CHECK(shape.size() == 1 && shape[0] >= rows, FormatError,
              path << ": /log_prob has " << (shape.empty() ? 0 : shape[0]) << " entries for "
                   << rows << " rows");
    std::vector<double> out(rows);
    if (rows > 0) d.read_rows<double>(0, rows, out.data(), rows);
    return out;
}

}  // namespace dbn::data
