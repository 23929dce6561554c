#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <nlohmann/json_fwd.hpp>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/limits.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/ising.hpp"
#include "dbn/estimate/parameter_path_ais.hpp"
#include "dbn/finetune/fine_tune_config.hpp"

namespace dbn {
class OutputLock;
struct ModelFile;
}  // namespace dbn

namespace dbn::cli {

/// @brief Locks `out` for this run (a second run writing it fails at once, naming this one),
/// removes temporary files of `out` that killed runs left, and warns about those of live ones.
/// Null when the folder of `out` is missing or `out` is a folder: the command reports that.
std::unique_ptr<OutputLock> guard_output(const std::string& out);

/// @brief A whole number of at least 1. CLI11 2.1's PositiveNumber answers "0" with a
/// 300-digit range and "abc" with "not in range"; this says what is wrong in plain words.
inline CLI::Validator count_validator() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            const bool digits =
                !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
            if (!digits) return "expected a whole number of at least 1, got " + quote_input(value);
            if (value.find_first_not_of('0') == std::string::npos)
                return "must be at least 1, got 0";
            if (value.size() > 18) return "too large: " + quote_input(value);
            return "";
        },
        "N>=1", "count");
}

/// @brief A whole number from 0 to 2^64-1 for an unsigned flag (--seed): CLI11 2.1 turns "-1"
/// into 2^64-1 and lets "18446744073709551616" wrap; this refuses both, naming the value.
inline CLI::Validator unsigned_validator() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            const bool digits =
                !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
            if (!digits) return "expected a whole number of at least 0, got " + quote_input(value);
            const std::string max = "18446744073709551615";
            const std::string v =
                value.substr(std::min(value.find_first_not_of('0'), value.size() - 1));
            if (v.size() > max.size() || (v.size() == max.size() && v > max))
                return "too large (at most " + max + "): " + quote_input(value);
            return "";
        },
        "N>=0", "unsigned");
}

/// @brief A number in [lo, hi]: CLI11 2.1's Range lets "nan" through (every comparison with NaN
/// is false) and prints its bounds with 300 digits.
inline CLI::Validator bounded_number_validator(double lo, double hi, const char* what) {
    return CLI::Validator(
        [=](std::string& value) -> std::string {
            std::size_t used = 0;
            double x = 0.0;
            try {
                x = std::stod(value, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            std::ostringstream msg;
            msg << what << " in [" << lo << ", " << hi << "], got " << quote_input(value);
            if (used == 0 || used != value.size() || !(x >= lo && x <= hi)) return msg.str();
            return "";
        },
        "X", "bounded number");
}

/// @brief A whole number of at least 0 that is an index or a small count (--layer).
inline CLI::Validator index_validator() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            const bool digits =
                !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
            if (!digits) return "expected a whole number of at least 0, got " + quote_input(value);
            if (value.size() > 18) return "too large: " + quote_input(value);
            return "";
        },
        "N>=0", "index");
}

/// @brief A path or data SPEC flag: an empty one names no file (without this, --data '' reads
/// the default data and --out '' writes NAME.h5).
inline CLI::Validator path_validator() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            return value.empty() ? "an empty path names no file" : "";
        },
        "PATH", "path");
}

/// @brief Sets the BLAS threads of a --threads flag, at most the hardware's (a note on stderr
/// says when the request was cut; docs/CONFIG.md, "Command lines").
inline void use_threads(std::size_t requested) {
    std::string note;
    const std::size_t n = usable_threads(requested, "--threads", note);
    if (!note.empty()) std::cerr << "dbn: note: " << note << std::endl;
    blas::set_num_threads(static_cast<int>(n));
}

/// Exit statuses of the program (README.md, "Exit status").
enum Exit : int {
    exit_ok = 0,
    exit_usage = 1,         ///< bad flags or arguments
    exit_bad_input = 2,     ///< bad data, configuration or model file
    exit_check_failed = 3,  ///< a consistency check failed under --strict (model still saved)
    exit_numerical = 4,     ///< training diverged (NaN or Inf; the guard gave up)
};

/// @brief The flags that say how a CSV file is read.
struct CsvFlags {
    std::optional<std::string> label_column;  ///< --label-column NAME|INDEX|none
    std::optional<std::string> delimiter;     ///< --delimiter auto|comma|tab|semicolon|whitespace
};

/// @brief Adds `--label-column NAME|INDEX|none` and `--delimiter` to a command that reads data.
inline void add_csv_flags(CLI::App* c, CsvFlags& flags) {
    c->add_option("--label-column", flags.label_column,
                  "CSV data: the column holding the labels, by header name or 0-based index "
                  "(negative from the end), or none (every column is a feature); a column named "
                  "label, labels, class, target or y must be named here");
    c->add_option("--delimiter", flags.delimiter,
                  "CSV data: auto (default: tab, else semicolon, else comma, else blanks, found "
                  "on the first line), comma, tab, semicolon or whitespace");
}

/// @brief True for a SPEC the CSV reader reads (*.csv, *.tsv, *.txt, each optionally .gz).
inline bool is_csv_spec(const std::string& spec) { return data::is_csv_path(spec); }

/// @brief The CSV options of `--label-column` and `--delimiter` (none: the defaults) for the
/// SPECs they apply to (--data, --labels); the options are ignored by the readers of other
/// formats.
/// @throws ConfigError for a flag given when none of `specs` is a CSV file.
inline data::CsvOptions csv_options(const CsvFlags& flags, const std::vector<std::string>& specs) {
    data::CsvOptions csv;
    for (const auto& [flag, value] : {std::pair{"--label-column", &flags.label_column},
                                      std::pair{"--delimiter", &flags.delimiter}})
        DBN_CHECK(!*value || std::any_of(specs.begin(), specs.end(), is_csv_spec), ConfigError,
                  flag << ": " << (specs.empty() ? std::string("the data") : specs.front())
                       << " is not a CSV file (*.csv, *.tsv or *.txt; labels of IDX and HDF5 "
                          "data come from their own labels file)");
    if (flags.label_column) data::set_label_column(csv, *flags.label_column);
    if (flags.delimiter) data::set_delimiter(csv, *flags.delimiter);
    return csv;
}

struct PretrainOptions {
    CsvFlags csv;
    std::string config;
    std::string data;
    std::string validation;
    std::string out;
    std::uint64_t seed = 0;
    bool seed_set = false;
    std::size_t epochs = 0;
    std::size_t limit = 0;
    int threads = 0;
    bool quiet = false;
    bool strict = false;
    bool no_checks = false;
    std::string checkpoint;  ///< default: OUT.checkpoint.h5 (or the --resume file)
    std::size_t checkpoint_every = 0;
    bool checkpoint_every_set = false;
    double checkpoint_seconds = 0.0;
    bool checkpoint_seconds_set = false;
    bool no_checkpoint = false;
    std::string resume;
};

struct EvalOptions {
    CsvFlags csv;
    std::string model;
    std::string data;
    std::string labels;
    std::string log_z = "auto";
    std::size_t ais_runs = 100;
    std::string ais_steps = "default";
    std::string dlogz = "auto";
    std::size_t path_steps = estimate::k_parameter_path_default_steps;
    double target_width = 1.0;
    double time_budget = 300.0;
    std::uint64_t seed = 1;
    std::size_t limit = 0;
    int threads = 0;       ///< 0: OpenBLAS's choice
    bool no_logz = false;  ///< free energies only: no log Z, checks, likelihood or bound
    bool json = false;
};

struct InfoOptions {
    std::string model;
    bool json = false;
    bool system = false;
};

void add_pretrain(CLI::App& app, PretrainOptions& o);
void add_info(CLI::App& app, InfoOptions& o);
void add_eval(CLI::App& app, EvalOptions& o);

int run_pretrain(const PretrainOptions& o);
int run_info(const InfoOptions& o);
int run_eval(const EvalOptions& o);

struct FeaturesOptions {
    std::string model;
    std::string data;
    std::string out;
    std::optional<std::size_t> layer;
    std::size_t chunk_rows = 4096;
    CsvFlags csv;
    int threads = 0;
    bool quiet = false;
};
void add_features(CLI::App& app, FeaturesOptions& o);
int run_features(const FeaturesOptions& o);

/// `dbn predict` (cmd_predict.cpp).
struct PredictOptions {
    std::string model, data, out;
    std::optional<std::string> labels;
    std::string output = "auto";  ///< auto, probabilities, reconstructions or features
    std::size_t chunk_rows = 4096;
    CsvFlags csv;
    int threads = 0;
    bool quiet = false;
};
void add_predict(CLI::App& app, PredictOptions& o);
int run_predict(const PredictOptions& o);

/// `dbn score` (cmd_score.cpp).
struct ScoreOptions {
    std::string model, data, out;
    std::size_t chunk_rows = 4096;
    CsvFlags csv;
    int threads = 0;
    bool quiet = false;
};
void add_score(CLI::App& app, ScoreOptions& o);
int run_score(const ScoreOptions& o);

/// `dbn sample` (cmd_sample.cpp).
struct SampleOptions {
    std::string model;
    std::string out;
    std::size_t count = 100;
    std::size_t steps = 1000;
    std::uint64_t seed = 0;
    std::optional<std::string> from;
    std::optional<std::string> shape;  ///< --shape HxW of a .png output
    bool chain = false;                ///< --chain: each chain's states over the steps
};
void add_sample(CLI::App& app, SampleOptions& o);
int run_sample(const SampleOptions& o);

/// `dbn report` (cmd_report.cpp).
struct ReportOptions {
    std::string model, out;
    std::optional<std::string> data, labels;
    std::optional<std::string> shape;  ///< --shape HxW of the filters and samples
    std::size_t samples = 64;          ///< --samples: chains drawn for the samples figure
    std::size_t steps = 1000;          ///< --steps: their Gibbs steps
    std::uint64_t seed = 0;
    bool no_pictures = false;
    bool quiet = false;
};
void add_report(CLI::App& app, ReportOptions& o);
int run_report(const ReportOptions& o);

/// `dbn show` (cmd_show.cpp).
struct ShowOptions {
    std::string model;
    std::string out;
    std::size_t layer = 0;
    std::optional<std::size_t> count;
    std::optional<std::string> shape;
};
void add_show(CLI::App& app, ShowOptions& o);
int run_show(const ShowOptions& o);

/// `dbn plot` (cmd_plot.cpp).
struct PlotOptions {
    std::string model;
    std::string out;
    std::size_t columns = 2;
};
void add_plot(CLI::App& app, PlotOptions& o);
int run_plot(const PlotOptions& o);

/// @brief The model's sample_shape (the file's root attribute, docs/FORMAT.md), when it has one.
std::optional<std::vector<std::int64_t>> sample_shape_of(const ModelFile& model);

/// `dbn finetune` (cmd_finetune.cpp): files and output here, the training settings in
/// `settings` (finetune::fine_tune_config() checks them and fills in the defaults).
struct FinetuneOptions {
    CsvFlags csv;
    std::string model, data, out;
    std::optional<std::string> labels, validation, validation_labels, test, test_labels;
    std::optional<std::size_t> limit;  ///< default: every row
    std::optional<int> threads;        ///< default: OpenBLAS's thread count
    bool quiet = false, json = false;
    finetune::FineTuneOverrides settings;
    std::string checkpoint;  ///< default: OUT.checkpoint.h5 (or the --resume file)
    std::optional<std::size_t> checkpoint_every;  ///< default: not by count
    std::optional<double> checkpoint_seconds;     ///< default: 300
    bool no_checkpoint = false;
    std::string resume;  ///< the checkpoint to continue from
};
void add_finetune(CLI::App& app, FinetuneOptions& o);
int run_finetune(const FinetuneOptions& o);

/// `dbn bench` (cmd_bench.cpp).
struct BenchOptions {
    std::optional<std::string> data;   ///< default: k_default_train
    std::optional<std::size_t> rows;   ///< default: bench::Settings::make()'s
    std::optional<int> threads, runs;  ///< default: OpenBLAS's thread count; Settings::make()'s
    bool quick = false, json = false, no_ais = false;
    /// Also time CD-1 epochs over 1/8 .. all of the rows and n_hidden 125 .. 1000 (linearity).
    bool scaling = false;
};
void add_bench(CLI::App& app, BenchOptions& o);
int run_bench(const BenchOptions& o);

/// `dbn dataset` (cmd_dataset.cpp).
/// `dbn dataset ising-observables` (cmd_dataset_observables.cpp).
struct IsingObservablesOptions {
    std::string data;
    std::optional<double> temperature;
    std::optional<std::size_t> size;
    std::size_t reference = 10000;  ///< generator samples to compare with (0: none)
    std::uint64_t seed = 1;
    bool json = false;
};
struct DatasetOptions {
    std::string command;  ///< the subcommand given: "ising" or "ising-observables"
    data::IsingSpec ising;
    std::string out;
    bool quiet = false;
    IsingObservablesOptions observables;
};
void add_ising_observables(CLI::App& dataset, DatasetOptions& o);
int run_ising_observables(const IsingObservablesOptions& o);
void add_dataset(CLI::App& app, DatasetOptions& o);
int run_dataset(const DatasetOptions& o);

/// Path of the Fashion-MNIST training images installed by Debian's dataset-fashion-mnist.
inline constexpr const char* k_default_train =
    "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";

}  // namespace dbn::cli
