#pragma once

// The 2D Ising model on an L x L periodic square lattice with J = 1: its exact partition function
// (Kaufman 1949), Onsager's free energy of the infinite lattice, and equilibrium samples by
// Wolff's cluster algorithm (datasets/ising/README.md).
//
//     E(s) = - sum over the 2 L^2 nearest-neighbour bonds (right and down, wrapping) of s_i s_j,
//     p(s) = exp(-E(s) / T) / Z,    s_i in {-1, +1},
//
// written as visible units v = (s + 1) / 2, row-major.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dbn/core/types.hpp"

namespace dbn::data {

/// T_c = 2 / ln(1 + sqrt 2), where the infinite lattice orders.
inline constexpr double k_ising_critical_temperature = 2.269185314213022;
/// Largest lattice side the generator and the exact log Z accept (2^20 spins a sample).
inline constexpr std::size_t k_ising_max_size = 1024;
/// Temperatures accepted: [k_ising_min_temperature, k_ising_max_temperature].
inline constexpr double k_ising_min_temperature = 0.05;
inline constexpr double k_ising_max_temperature = 1e6;

/// @brief Exact log Z of the L x L periodic lattice at temperature T (Kaufman 1949, in the form of
/// Beale 1996): log Z = -log 2 + (L^2 / 2) log(2 sinh 2K) + log(Z_1 + Z_2 + Z_3 + Z_4), K = 1/T,
///     Z_1 = prod_{r<L} 2 cosh(L g_{2r+1} / 2),  Z_2 = prod_{r<L} 2 sinh(L g_{2r+1} / 2),
///     Z_3 = prod_{r<L} 2 cosh(L g_{2r} / 2),    Z_4 = prod_{r<L} 2 sinh(L g_{2r} / 2),
///     cosh g_l = cosh 2K coth 2K - cos(pi l / L) (g_l > 0),  g_0 = 2K + log tanh K.
/// g_0 is negative below T_c, which makes Z_4 negative; every product is summed in logarithms
/// with its sign, so that nothing overflows at any L and T.
/// @throws ConfigError for L < 2 or above k_ising_max_size, or T outside the accepted range.
double ising_log_partition(std::size_t size, double temperature);

/// @brief lim log Z / L^2 of the infinite lattice (Onsager 1944):
///     log(2 cosh 2K) + (1/pi) int_0^{pi/2} log[(1 + sqrt(1 - k^2 sin^2 t)) / 2] dt,
///     k = 2 sinh 2K / cosh^2 2K.
double ising_onsager_log_partition_per_spin(double temperature);

/// @brief Exact mean energy <E> of the L x L lattice, -d log Z / d(1/T), by a five-point
/// difference of ising_log_partition in 1/T (step 1e-3 K: truncation ~1e-12 relative).
double ising_mean_energy(std::size_t size, double temperature);

/// @brief Exact specific heat per spin of the L x L lattice, C = Var(E) / (T^2 L^2)
/// = K^2 (d^2 log Z / dK^2) / L^2, K = 1/T, by a five-point second difference of
/// ising_log_partition in K. The step is 1e-3 K, and at most 0.02 K / L: the peak of C near T_c
/// narrows as 1/L. Truncation is then ~1e-10 relative; rounding is ~1e-16 |log Z| / step^2,
/// ~1e-8 relative at L = 4 and ~1e-6 at L = 1024.
double ising_specific_heat(std::size_t size, double temperature);

/// @brief E(s) of one configuration given as visible units (0/1), row-major L x L.
double ising_energy(const float* v, std::size_t size);

/// @brief An estimate and its standard error.
struct IsingEstimate {
    double value = 0.0;
    double standard_error = 0.0;
};

/// @brief Thermodynamic observables per spin of a set of configurations (Torlai and Melko 2016),
/// N = L^2 spins, m = (1/N) sum_i s_i:
///     energy          <E> / N
///     magnetization   <|m|>
///     specific_heat   Var(E) / (T^2 N)
///     susceptibility  N Var(|m|) / T      (of |m|: the finite lattice has no net <m>)
/// Moments are those of the rows as a distribution (divided by their count, not count - 1: the
/// bias, Var/count, is far below the standard error).
struct IsingObservables {
    std::size_t count = 0;  ///< rows
    std::size_t size = 0;   ///< L
    double temperature = 0.0;
    IsingEstimate energy, magnetization, specific_heat, susceptibility;
};

/// @brief The observables of the rows of `visible` (values 0/1, read as 1 when above 0.5;
/// row-major L x L) at temperature `temperature`. With `weights` empty the rows count equally and
/// are taken as independent samples: the standard error of a mean is sqrt(Var / n), that of a
/// variance sqrt((mu_4 - Var^2) / n), mu_4 the fourth central moment. With `weights` (one per
/// row, >= 0, not all 0; normalized here) the rows are a weighted distribution, e.g. every
/// state with its exact probability, and the standard errors are 0.
/// @throws ShapeError when the rows do not have L^2 columns, there are none, or `weights` has
/// another length; ConfigError for a bad lattice or temperature, or bad weights.
IsingObservables ising_observables(const Matrix& visible, std::size_t size, double temperature,
                                   const std::vector<double>& weights = {});

/// @brief What to generate.
struct IsingSpec {
    std::size_t size = 16;  ///< L
    double temperature = k_ising_critical_temperature;
    std::size_t count = 1000;
    std::uint64_t seed = 1;
};

/// @brief Most values (count x L^2) one generated data set may have: 2^30 (4 GiB of floats).
inline constexpr std::size_t k_ising_max_values = std::size_t{1} << 30;

/// @brief Parses the data SPEC `ising:L=16,T=2.269,n=20000,seed=1` (keys in any order, each at
/// most once; defaults L 16, T T_c, n 1000, seed 1).
/// @throws FormatError naming the SPEC and the key for an unknown key, a malformed or
///         out-of-range value, or more than k_ising_max_values values.
IsingSpec parse_ising_spec(const std::string& spec);

/// @brief Equilibrium samples with their exact log-probabilities.
struct IsingSamples {
    Matrix visible = Matrix::from_shape({0, 0});  ///< count x L^2, values 0/1
    std::vector<double> log_prob;                 ///< -E(s)/T - log Z of each row
    double log_z = 0.0;
    /// Integrated autocorrelation times (in cluster flips) of E and |m| measured on a pilot run,
    /// and the burn-in and spacing (cluster flips) chosen from the larger.
    double tau_energy = 0.0, tau_magnetization = 0.0;
    std::size_t burn_in = 0, spacing = 0;
    /// Mean cluster size of the run (spins).
    double mean_cluster = 0.0;
};

/// @brief Draws `count` samples of the lattice by Wolff's single-cluster algorithm (Wolff 1989):
/// a seeded random spin grows a cluster of aligned neighbours, each joined with probability
/// 1 - exp(-2/T), and the cluster flips. A pilot run of 2,000 + 100 L^2 / <cluster> flips from a
/// random start measures the integrated autocorrelation times of E and |m| (Sokal's window:
/// the sum of the autocorrelations up to the first lag W >= 6 tau(W)); samples are then taken
/// after a burn-in of 20 tau + 100 flips, every ceil(2 tau) + 1 flips (about independent).
/// Same spec, same samples, bit for bit.
/// @throws ConfigError for a size or temperature outside the accepted ranges, or count 0.
IsingSamples ising_samples(const IsingSpec& spec);

/// @brief Writes `samples` of `spec` to the HDF5 file `path` (datasets/ising/README.md): /data
/// (uint8 [N, L^2], v = (s + 1) / 2, row-major), /log_prob (float64 [N]) and the root attributes
/// format "dbn-ising", log_z, temperature, size, seed, count, burn_in, spacing, tau_energy,
/// tau_magnetization, mean_cluster. Written to a temporary name beside `path` and renamed over
/// it once synced, so that a failed write leaves no partial file.
/// @throws IoError naming the path when it cannot be written.
void write_ising_file(const IsingSamples& samples, const IsingSpec& spec, const std::string& path);

/// @brief The lattice, temperature, count and seed of Ising data: those of an `ising:` SPEC, or
/// the root attributes of a file of write_ising_file given as `file.h5:/data`; none for other
/// data (a missing or unreadable file is not Ising data here: reading it reports that).
std::optional<IsingSpec> ising_spec_of(const std::string& spec);

/// @brief The exact log p of each of the first `rows` rows of Ising data: for a SPEC
/// `ising:...`, from the parsed temperature and lattice (-E(v)/T - log Z of each row of
/// `visible`); for `file.h5:/data` of a file written by write_ising_file (root attribute format
/// "dbn-ising"), its /log_prob. Empty for any other data.
/// @throws FormatError when the file's /log_prob has fewer entries than `rows`, or the rows do
/// not have L^2 columns.
std::vector<double> ising_log_prob_of(const std::string& spec, const Matrix& visible);

}  // namespace dbn::data
