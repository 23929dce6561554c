// `dbn dataset ising-observables`: energy, |magnetization|, specific heat and susceptibility per
// spin of rows of an Ising lattice (model samples of `dbn sample`, or the generator's), against
// the exact values and the generator's own samples (datasets/ising/README.md).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "commands.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/ising.hpp"

namespace dbn::cli {

void add_ising_observables(CLI::App& dataset, DatasetOptions& o) {
    auto* c = dataset.add_subcommand(
        "ising-observables",
        "Energy, |magnetization|, specific heat and susceptibility per spin of rows of an Ising "
        "lattice (e.g. dbn sample's FILE.h5:/binary), against the exact values and the "
        "generator's samples");
    IsingObservablesOptions& x = o.observables;
    c->add_option("--data", x.data,
                  "data SPEC of the rows, 0/1 spins row-major (e.g. samples.h5:/binary, "
                  "ising:L=16,T=2.269,n=5000)")
        ->required()
        ->check(path_validator());
    c->add_option("--temperature", x.temperature,
                  "temperature T (default: that of an ising: SPEC or a dbn dataset ising file; "
                  "required otherwise)")
        ->check(bounded_number_validator(data::k_ising_min_temperature,
                                         data::k_ising_max_temperature, "a temperature"));
    c->add_option("--size", x.size, "lattice side L (default: the square root of the columns)")
        ->check(count_validator());
    c->add_option("--reference", x.reference,
                  "generator samples at the same L and T to compare with, 0 for none (default "
                  "10000)")
        ->check(unsigned_validator());
    c->add_option("--seed", x.seed, "seed of the generator's samples (default 1)")
        ->check(unsigned_validator());
    c->add_flag("--json", x.json, "print one JSON object");
    c->callback([&o] { o.command = "ising-observables"; });
}

namespace {

using json = nlohmann::json;

json estimate_json(const data::IsingEstimate& e) {
    return {{"value", e.value}, {"standard_error", e.standard_error}};
}

}  // namespace

int run_ising_observables(const IsingObservablesOptions& o) {
    const std::optional<data::IsingSpec> of_data = data::ising_spec_of(o.data);
    DBN_CHECK(o.temperature || of_data, ConfigError,
              "--temperature: " << o.data
                                << " is not an ising: SPEC or a dbn dataset ising file; give the "
                                   "temperature of the samples");
    const double t = o.temperature ? *o.temperature : of_data->temperature;
    DBN_CHECK(!of_data || !o.temperature ||
                  std::abs(*o.temperature - of_data->temperature) <= 1e-12 * of_data->temperature,
              ConfigError,
              "--temperature " << *o.temperature << ": " << o.data
                               << " is at T = " << of_data->temperature);
    const data::Dataset d = data::read_dataset(o.data);
    const std::size_t cols = d.x.shape(1);
    std::size_t size = 0;
    if (o.size) {
        size = *o.size;
    } else {
        size = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(cols))));
        DBN_CHECK(size * size == cols, ConfigError,
                  o.data << ": " << cols << " columns are not a square lattice; give --size");
    }
    DBN_CHECK(size >= 2 && size <= data::k_ising_max_size, ConfigError,
              "--size: the lattice side must be in [2, " << data::k_ising_max_size << "] (got "
                                                         << size << ")");
    DBN_CHECK(size * size == cols, ConfigError,
              o.data << ": rows of " << cols << " values, not " << size * size << " (--size "
                     << size << ")");
    DBN_CHECK(o.reference <= data::k_ising_max_values / cols, ConfigError,
              "--reference: " << o.reference << " samples of " << cols << " spins are more than "
                              << data::k_ising_max_values << " values");
    for (std::size_t k = 0; k < d.x.size(); ++k) {
        const float v = d.x.data()[k];
        DBN_CHECK(v == 0.0f || v == 1.0f, ConfigError,
                  o.data << ": value " << v << " in row " << k / cols
                         << " is not a spin (0 or 1); for dbn sample's files read /binary, not "
                            "the means in /samples");
    }
    const data::IsingObservables rows = data::ising_observables(d.x, size, t);
    const double energy = data::ising_mean_energy(size, t) / static_cast<double>(cols);
    const double heat = data::ising_specific_heat(size, t);
    std::optional<data::IsingObservables> ref;
    if (o.reference > 0) {
        data::IsingSpec spec;
        spec.size = size;
        spec.temperature = t;
        spec.count = o.reference;
        spec.seed = o.seed;
        ref = data::ising_observables(data::ising_samples(spec).visible, size, t);
    }
    struct Row {
        const char* key;
        const char* label;
        data::IsingEstimate value;
        std::optional<double> exact;
        std::optional<data::IsingEstimate> generator;
    };
    const Row table[] = {
        {"energy", "energy per spin", rows.energy, energy,
         ref ? std::optional(ref->energy) : std::nullopt},
        {"magnetization", "|m| per spin", rows.magnetization, std::nullopt,
         ref ? std::optional(ref->magnetization) : std::nullopt},
        {"specific_heat", "specific heat", rows.specific_heat, heat,
         ref ? std::optional(ref->specific_heat) : std::nullopt},
        {"susceptibility", "susceptibility", rows.susceptibility, std::nullopt,
         ref ? std::optional(ref->susceptibility) : std::nullopt},
    };
    if (o.json) {
        json out = {{"data", o.data},
                    {"rows", rows.count},
                    {"size", size},
                    {"temperature", t},
                    {"reference_count", o.reference},
                    {"reference_seed", o.seed}};
        for (const Row& r : table) {
            json e = estimate_json(r.value);
            e["exact"] = r.exact ? json(*r.exact) : json(nullptr);
            e["generator"] = r.generator ? estimate_json(*r.generator) : json(nullptr);
            out[r.key] = e;
        }
        std::cout << out.dump(2) << std::endl;
        return exit_ok;
    }
    std::printf("%zu rows of %s: the %zux%zu Ising lattice at T = %.6g\n", rows.count,
                o.data.c_str(), size, size, t);
    std::printf("%-16s %22s %12s", "", "rows +- s.e.", "exact");
    if (ref) std::printf(" %22s", "generator +- s.e.");
    std::printf("\n");
    for (const Row& r : table) {
        char value[64], exact[32] = "-";
        std::snprintf(value, sizeof value, "%.5f +- %.5f", r.value.value, r.value.standard_error);
        if (r.exact) std::snprintf(exact, sizeof exact, "%.5f", *r.exact);
        std::printf("%-16s %22s %12s", r.label, value, exact);
        if (r.generator) {
            char g[64];
            std::snprintf(g, sizeof g, "%.5f +- %.5f", r.generator->value,
                          r.generator->standard_error);
            std::printf(" %22s", g);
        }
        std::printf("\n");
    }
    if (ref)
        std::printf(
            "generator: %zu Wolff samples, seed %llu; exact: derivatives of Kaufman's log Z "
            "(|m| and susceptibility have no closed form here)\n",
            o.reference, static_cast<unsigned long long>(o.seed));
    std::fflush(stdout);
    return exit_ok;
}

}  // namespace dbn::cli
