// `dbn dataset ising`: generated data sets with a known answer (datasets/README.md).
#include <chrono>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/data/ising.hpp"
#include "dbn/observe/console_progress.hpp"

namespace dbn::cli {

void add_dataset(CLI::App& app, DatasetOptions& o) {
    auto* c = app.add_subcommand(
        "dataset", "Generate a data set with a known answer, or measure samples against it");
    c->require_subcommand(1);
    auto* ising = c->add_subcommand(
        "ising",
        "Equilibrium samples of the 2D Ising model on a periodic L x L lattice (Wolff cluster "
        "algorithm), with the exact log-probability of every sample (Kaufman's log Z)");
    ising->add_option("--size", o.ising.size, "lattice side L, 2 to 1024 (default 16)")
        ->check(count_validator());
    ising
        ->add_option("--temperature", o.ising.temperature,
                     "temperature T in [0.05, 1e6] (default T_c = 2.269185)")
        ->check(bounded_number_validator(data::k_ising_min_temperature,
                                         data::k_ising_max_temperature, "a temperature"));
    ising->add_option("--count", o.ising.count, "samples N (default 1000)")
        ->check(count_validator());
    ising->add_option("--seed", o.ising.seed, "random seed (default 1)")
        ->check(unsigned_validator());
    ising
        ->add_option("--out", o.out,
                     "output HDF5 file: /data uint8 [N, L*L], /log_prob float64 [N]")
        ->required()
        ->check(path_validator());
    ising->add_flag("--quiet", o.quiet, "print nothing on success");
    ising->callback([&o] { o.command = "ising"; });
    add_ising_observables(*c, o);
}

int run_dataset(const DatasetOptions& o) {
    if (o.command == "ising-observables") return run_ising_observables(o.observables);
    const auto t0 = std::chrono::steady_clock::now();
    const data::IsingSpec& spec = o.ising;
    DBN_CHECK(spec.size >= 2 && spec.size <= data::k_ising_max_size, ConfigError,
              "--size: the lattice side must be in [2, " << data::k_ising_max_size << "] (got "
                                                         << spec.size << ")");
    DBN_CHECK(spec.count <= data::k_ising_max_values / (spec.size * spec.size), ConfigError,
              "--count: " << spec.count << " samples of " << spec.size * spec.size
                          << " spins are more than " << data::k_ising_max_values << " values");
    check_output(o.out, "--out", "the data set", {});
    const auto lock = guard_output(o.out);
    const data::IsingSamples s = data::ising_samples(spec);
    data::write_ising_file(s, spec, o.out);
    if (!o.quiet) {
        double mean = 0.0;
        for (double lp : s.log_prob) mean += lp;
        mean /= static_cast<double>(s.log_prob.size());
        char buf[400];
        std::snprintf(buf, sizeof buf,
                      "wrote %s: %s of the %zux%zu Ising lattice at T = %.6g; log Z = "
                      "%.6f, mean log p = %.4f nats per sample; autocorrelation times %.2f (E) "
                      "and %.2f (|m|) cluster flips, burn-in %zu, spacing %zu, mean cluster %.1f "
                      "spins",
                      o.out.c_str(), counted(s.visible.shape(0), "sample").c_str(), spec.size,
                      spec.size, spec.temperature, s.log_z, mean, s.tau_energy, s.tau_magnetization,
                      s.burn_in, s.spacing, s.mean_cluster);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::cout << buf << ", in " << observe::format_duration(secs) << std::endl;
    }
    return exit_ok;
}

}  // namespace dbn::cli
