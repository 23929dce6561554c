#pragma once

// JSON and text renderings of `dbn bench`'s measurements (cmd_bench.cpp measures).

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "dbn/bench/measurements.hpp"
#include "dbn/bench/scaling.hpp"

namespace dbn::cli {

/// @brief Everything one `dbn bench` run measured.
struct BenchRun {
    std::string kernel, kernel_chosen_by;  ///< the OpenBLAS core and what chose it
    std::size_t threads = 1;
    std::string data;
    std::size_t rows = 0;
    int runs = 0;
    double load_seconds = 0.0;
    bench::RbmMeasurement rbm;
    std::optional<bench::AisMeasurement> ais;  ///< none with --no-ais
    double rbm_peak_rss_mib = 0.0;  ///< after the RBM measurements (what bench_peers.py compares)
    bench::FineTuneMeasurement finetune;
    bench::FeatureMeasurement features;
    std::optional<bench::Scaling> scaling;  ///< with --scaling
    double peak_rss_mib = 0.0;              ///< of the whole run
};

/// @brief The --json object (keys: README's `dbn bench`, checked by tests/cli/cli_test.py).
nlohmann::json bench_json(const BenchRun& r);

/// @brief The summary `dbn bench` prints on stdout, with the --scaling tables.
void print_bench_summary(std::ostream& out, const BenchRun& r);

/// @brief One progress line per product of a limit: its rate with BLAS threads and split.
void print_products(std::ostream& log, const bench::GemmLimit& limit, int name_width = 10);

/// @brief "784-500-500": widths joined by dashes.
std::string dashed(const std::vector<std::size_t>& widths);

}  // namespace dbn::cli
