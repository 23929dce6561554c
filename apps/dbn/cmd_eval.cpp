#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/ising.hpp"
#include "dbn/estimate/consistency.hpp"
#include "dbn/estimate/likelihood.hpp"
#include "dbn/estimate/stack_evaluation.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/finetune/fine_tuned.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/mpi/communicator.hpp"
#include "report.hpp"

namespace dbn::cli {

void add_eval(CLI::App& app, EvalOptions& o) {
    auto* c = app.add_subcommand(
        "eval",
        "Evaluate a model on data: log Z of every layer (exact or AIS, with intervals), the "
        "mean log-likelihood under layer 0, the DBN's variational lower bound and the "
        "free-energy consistency checks");
    c->add_option("model", o.model, "model file (.h5)")->required()->check(path_validator());
    c->add_option(
         "--data", o.data,
         "data SPEC (IDX, *.csv/.tsv/.txt[.gz], *.npy, file.h5:/dataset, bars-and-stripes:N)")
        ->required()
        ->check(path_validator());
    add_csv_flags(c, o.csv);
    auto* logz =
        c->add_option("--logz", o.log_z,
                      "how to get log Z: auto (exact up to 20 enumerated units), exact, ais")
            ->check(CLI::IsMember({"auto", "exact", "ais"}));
    auto* ais_runs = c->add_option("--ais-runs", o.ais_runs, "AIS runs M (default 100)")
                         ->check(CLI::Range(2, 1000000));
    auto* ais_steps =
        c->add_option(
             "--ais-steps", o.ais_steps,
             "AIS temperatures: default (14,500, Salakhutdinov & Murray 2008), quick (1,450) or a "
             "number >= 3")
            ->check(CLI::Validator(
                [](std::string& v) -> std::string {
                    try {
                        (void)estimate::parse_ais_steps(v);
                    } catch (const ConfigError& e) {
                        return e.what();
                    }
                    return "";
                },
                "STEPS", "ais steps"));
    auto* dlogz =
        c->add_option("--dlogz", o.dlogz,
                      "dlogZ of each pair: auto (along the parameter path from the lower layer "
                      "turned over where the upper layer is wide enough, docs/CHECK.md), or "
                      "independent (the two layers' own log Z)")
            ->check(CLI::IsMember({"auto", "independent"}));
    auto* path_steps = c->add_option("--path-steps", o.path_steps,
                                     "temperatures of the parameter path (default 2000)")
                           ->check(count_validator());
    auto* target_width =
        c->add_option("--target-width", o.target_width,
                      "add AIS runs to a check whose dlogZ is the difference of two AIS estimates "
                      "until D's interval is closed and at most this many nats wide (default 1; 0: "
                      "never)")
            ->check(bounded_number_validator(0.0, 1e6, "nats"));
    auto* time_budget =
        c->add_option("--time-budget", o.time_budget,
                      "seconds of added runs per check at most (default 300; 0: no limit)")
            ->check(bounded_number_validator(0.0, 1e6, "seconds"));
    auto* seed =
        c->add_option("--seed", o.seed, "seed of the AIS runs and of the samples (default 1)")
            ->check(unsigned_validator());
    c->add_option("--limit", o.limit, "use only the first N rows of --data")
        ->check(count_validator());
    c->add_option(
         "--labels", o.labels,
         "labels SPEC for a fine-tuned classifier (default: the labels that come with --data)")
        ->check(path_validator());
    c->add_option("--threads", o.threads, "BLAS threads (default: OpenBLAS's choice)")
        ->check(count_validator());
    auto* no_logz = c->add_flag(
        "--no-logz", o.no_logz,
        "compute no log Z and nothing that needs one (AIS, the checks, the likelihood, the DBN "
        "bound): the mean free energy of every layer only");
    // Each of these sets how log Z, the checks or the bound are had: with --no-logz, a mistake.
    for (CLI::Option* other :
         {logz, ais_runs, ais_steps, dlogz, path_steps, target_width, time_budget, seed})
        no_logz->excludes(other);
    c->add_flag("--json", o.json, "print one JSON object (keys: docs/EVAL.md)");
}

using json = nlohmann::json;

namespace {

struct KnownData {
    double data_mean = 0.0, kl = 0.0, kl_low = 0.0, kl_high = 0.0, kl_se = 0.0;
    bool impossible = false;
};

// The comparison with the data's exact log p, when the data has one (Ising samples).
std::optional<KnownData> compare_with_known(const std::string& spec, const Matrix& raw,
                                            const Dbn& model, const estimate::LogLikelihood& ll) {
    const std::vector<double> lp = data::ising_log_prob_of(spec, raw);
    if (lp.empty() || lp.size() != raw.shape(0) || lp.size() < 2) return std::nullopt;
    // Per row: log p_data + F(v) = log p_data - log p_model - log Z: its spread is the KL's
    // sampling error; log Z's interval moves it as a whole.
    const DVector f = model.layers[0].free_energy(model.preprocess(raw));
    const auto n = static_cast<double>(lp.size());
    double mean = 0.0, mean_diff = 0.0;
    for (std::size_t r = 0; r < lp.size(); ++r) mean += lp[r], mean_diff += lp[r] + f(r);
    mean /= n, mean_diff /= n;
    double var = 0.0;
    for (std::size_t r = 0; r < lp.size(); ++r) {
        const double d = lp[r] + f(r) - mean_diff;
        var += d * d;
    }
    KnownData k;
    k.data_mean = mean;
    k.kl = mean - ll.mean;
    k.kl_low = mean - ll.high;
    k.kl_high = mean - ll.low;
    k.kl_se = std::sqrt(var / (n - 1.0) / n);
    k.impossible = k.kl_high + 3.0 * k.kl_se < 0.0;
    return k;
}

bool is_binary(const Matrix& x) {
    for (float v : x)
        if (v != 0.0f && v != 1.0f) return false;
    return true;
}

/// Per layer, the mean free energy of the data's representation at its input (--no-logz).
struct LayerFreeEnergy {
    std::optional<double> mean;  ///< none for relu hidden units (with the note why)
    std::string note;
};

/// Fine-tuned models: accuracy and confusion matrix, or reconstruction error.
void add_fine_tuned(json& out, const ModelFile& file, const data::Dataset& d, bool classifier,
                    const Labels& labels) {
    if (classifier) {
        const finetune::ClassifierEvaluation ce =
            finetune::evaluate_classifier(file.stack, *file.fine_tuned, d.x, labels);
        out["accuracy"] = ce.accuracy;
        out["confusion_matrix"] = ce.confusion_matrix;
        out["classes"] = std::vector<int>(ce.classes.begin(), ce.classes.end());
    } else if (file.fine_tuned && file.fine_tuned->mode == finetune::FineTuneMode::autoencoder) {
        out["reconstruction_error"] =
            finetune::evaluate_autoencoder(file.stack, *file.fine_tuned, d.x).reconstruction_error;
    }
}

void print_fine_tuned(const json& out) {
    char buf[200];
    if (out.contains("accuracy")) {
        std::snprintf(buf, sizeof buf, "  classifier accuracy: %.2f%% (confusion matrix: --json)\n",
                      100.0 * out["accuracy"].get<double>());
        std::cout << buf;
    }
    if (out.contains("reconstruction_error")) {
        std::snprintf(buf, sizeof buf, "  autoencoder reconstruction error: %.6f per unit\n",
                      out["reconstruction_error"].get<double>());
        std::cout << buf;
    }
}

void print_heading(const EvalOptions& o, const data::Dataset& d, bool binary) {
    std::cout << o.model << " on " << d.source << " (" << counted(d.size(), "row")
              << (binary ? ", binary"
                         : ", not binary: likelihoods are densities of [0,1] values under "
                           "Bernoulli units, not probabilities")
              << ")\n";
}

/// `dbn eval --no-logz`: the mean free energy of every layer on its input, no log Z, and so no
/// check, likelihood or bound; the fine-tuned figures as without it.
int run_eval_free_energies(const EvalOptions& o, const ModelFile& file, const data::Dataset& d,
                           bool classifier, const Labels& labels) {
    const Dbn& model = file.stack;
    const std::vector<Matrix> inputs = estimate::layer_inputs(model, d.x);
    std::vector<LayerFreeEnergy> free_energy(model.n_layers());
    for (std::size_t k = 0; k < model.n_layers(); ++k) {
        try {
            free_energy[k].mean = estimate::mean_free_energy(model.layers[k], inputs[k]);
        } catch (const ConfigError& e) {  // relu hidden units have no free energy
            free_energy[k].note = e.what();
        }
    }
    const bool binary = is_binary(inputs[0]);
    const char* skipped =
        "--no-logz: no log Z was computed, so there are no checks, no likelihood and no DBN "
        "lower bound";
    json out = {{"model", o.model},
                {"data", {{"source", d.source}, {"rows", d.size()}, {"binary", binary}}},
                {"settings", {{"no_logz", true}, {"threads", blas::num_threads()}}},
                {"openblas_core", blas::core_name()},
                {"log_z_computed", false},
                {"note", skipped}};
    json layers = json::array();
    for (std::size_t k = 0; k < model.n_layers(); ++k) {
        json l = {{"index", k},
                  {"n_visible", model.layers[k].n_visible()},
                  {"n_hidden", model.layers[k].n_hidden()},
                  {"mean_free_energy", nullptr},
                  {"log_z", nullptr}};
        if (free_energy[k].mean) l["mean_free_energy"] = number(*free_energy[k].mean);
        if (!free_energy[k].note.empty()) l["note"] = free_energy[k].note;
        layers.push_back(l);
    }
    out["layers"] = layers;
    if (free_energy[0].mean) out["mean_free_energy"] = number(*free_energy[0].mean);
    out["checks"] = nullptr;
    add_fine_tuned(out, file, d, classifier, labels);
    if (o.json) {
        std::cout << out.dump(2) << std::endl;
        return exit_ok;
    }
    print_heading(o, d, binary);
    std::cout << "  " << skipped << "\n"
              << "  mean free energy per layer (of the data's representation at its input):\n";
    char buf[200];
    for (std::size_t k = 0; k < model.n_layers(); ++k) {
        if (free_energy[k].mean) {
            std::snprintf(buf, sizeof buf, "    layer %zu: %12.4f\n", k, *free_energy[k].mean);
            std::cout << buf;
        } else {
            std::cout << "    layer " << k << ": n/a (" << free_energy[k].note << ")\n";
        }
    }
    print_fine_tuned(out);
    return exit_ok;
}

}  // namespace

int run_eval(const EvalOptions& o) {
    if (o.threads > 0) use_threads(static_cast<std::size_t>(o.threads));
    const ModelFile file = io::load_model(o.model);
    const Dbn& model = file.stack;
    // With --labels, --label-column names the column of the labels file.
    const data::CsvOptions csv = csv_options(o.csv, {o.labels.empty() ? o.data : o.labels});
    const data::Dataset d = data::first_rows(
        data::read_dataset(o.data, o.labels.empty() ? csv : data::CsvOptions{}), o.limit);
    DBN_CHECK(d.size() > 0, FormatError, o.data << ": no rows");
    DBN_CHECK(d.n_features() == model.n_visible(), ShapeError,
              o.data << ": " << d.n_features() << " columns, but " << o.model << " expects "
                     << model.n_visible());
    // The labels are checked with the data, before the (long) evaluation.
    const bool classifier =
        file.fine_tuned && file.fine_tuned->mode == finetune::FineTuneMode::classifier;
    DBN_CHECK(o.labels.empty() || classifier, ConfigError,
              "--labels " << o.labels << ": " << o.model
                          << " is not a fine-tuned classifier, so it has no use for labels");
    Labels labels = d.labels;
    if (classifier) {
        if (!o.labels.empty()) labels = data::read_labels(o.labels, csv);
        DBN_CHECK(labels.size() > 0, FormatError,
                  o.data << ": no labels for the classifier (pass --labels SPEC)");
        DBN_CHECK(labels.size() >= d.size(), ShapeError,
                  "--labels: " << labels.size() << " labels for " << d.size() << " rows");
        if (labels.size() > d.size()) {  // --limit: the labels of the rows kept
            Labels head = Labels::from_shape({d.size()});
            std::copy(labels.data(), labels.data() + d.size(), head.data());
            labels = head;
        }
        const Labels& classes = file.fine_tuned->classes;
        for (std::size_t i = 0; i < labels.size(); ++i)
            DBN_CHECK(std::binary_search(classes.begin(), classes.end(), labels(i)), ConfigError,
                      (o.labels.empty() ? o.data : o.labels)
                          << ": label " << labels(i) << " (row " << i << ") is not one of the "
                          << classes.size() << " classes of " << o.model);
    }

    if (o.no_logz) return run_eval_free_energies(o, file, d, classifier, labels);
    estimate::StackEvaluationOptions opt;
    opt.log_z.method = estimate::parse_log_z_method(o.log_z, "--logz");
    opt.log_z.ais.runs = o.ais_runs;
    opt.log_z.ais.steps = estimate::parse_ais_steps(o.ais_steps);
    opt.log_z.ais.seed = o.seed;
    opt.log_z.ais.comm = &mpi::world();  // the runs shared across mpirun's ranks, if any
    opt.delta_log_z = estimate::parse_delta_log_z_method(o.dlogz, "--dlogz");
    opt.path.steps = o.path_steps;
    opt.run_target.width = o.target_width;
    opt.run_target.seconds = o.time_budget;
    Rng rng(o.seed);
    const estimate::StackEvaluation ev =
        estimate::evaluate_stack(model, d.x, opt, rng, [&](std::size_t k) {
            if (!o.json)
                std::cerr << "eval: log Z of layer " << k << " (" << model.layers[k].n_visible()
                          << "x" << model.layers[k].n_hidden() << ")..." << std::endl;
        });
    json out = {{"model", o.model},
                {"data", {{"source", d.source}, {"rows", d.size()}, {"binary", ev.binary}}},
                {"settings",
                 {{"logz", o.log_z},
                  {"ais_runs", o.ais_runs},
                  {"ais_steps", opt.log_z.ais.steps},
                  {"dlogz", o.dlogz},
                  {"path_steps", o.path_steps},
                  {"target_width", o.target_width},
                  {"time_budget", o.time_budget},
                  {"seed", o.seed},
                  {"threads", blas::num_threads()},
                  {"no_logz", false}}},
                {"openblas_core", blas::core_name()}};
    out["layers"] = records_json(ev.log_z);

    if (ev.likelihood) {
        const auto& ll = *ev.likelihood;
        out["mean_log_likelihood"] = number(ll.mean);
        out["mean_log_likelihood_low"] = number(ll.low);
        out["mean_log_likelihood_high"] = number(ll.high);
        out["mean_free_energy"] = number(ll.mean_free_energy);
    }
    if (ev.bound) {
        const auto& b = *ev.bound;
        if (b.available) {
            out["dbn_lower_bound"] = number(b.value);
            out["dbn_lower_bound_low"] = number(b.low);
            out["dbn_lower_bound_high"] = number(b.high);
            out["dbn_lower_bound_standard_error"] = number(b.standard_error);
        } else {
            out["dbn_lower_bound"] = nullptr;
            out["dbn_lower_bound_note"] = b.note;
        }
    }
    out["checks"] = records_json(ev.checks);

    // Data with a known distribution (Ising samples): the data's own mean log p and
    // KL(data || model) = mean [log p_data - log p_model], which cannot be negative: below zero
    // beyond its error, the model's log Z is wrong (datasets/ising/README.md).
    std::optional<KnownData> known;
    if (ev.likelihood) known = compare_with_known(o.data, d.x, model, *ev.likelihood);
    if (known) {
        out["data_mean_log_prob"] = number(known->data_mean);
        out["kl_data_model"] = number(known->kl);
        out["kl_data_model_low"] = number(known->kl_low);
        out["kl_data_model_high"] = number(known->kl_high);
        out["kl_data_model_standard_error"] = number(known->kl_se);
        out["kl_data_model_impossible"] = known->impossible;
        // The bound is at most the model's mean log p, which is at most the data's own but for
        // sampling error: above it beyond its interval and 3 standard errors, a log Z is wrong.
        if (ev.bound && ev.bound->available)
            out["dbn_lower_bound_above_data"] =
                ev.bound->low - 3.0 * ev.bound->standard_error > known->data_mean;
    }

    add_fine_tuned(out, file, d, classifier, labels);

    if (o.json) {
        std::cout << out.dump(2) << std::endl;
        return exit_ok;
    }
    char buf[200];
    print_heading(o, d, ev.binary);
    print_checks(std::cout, ev.log_z, ev.checks);
    print_fine_tuned(out);
    if (ev.likelihood) {
        const auto& ll = *ev.likelihood;
        std::snprintf(buf, sizeof buf, "  mean log-likelihood under layer 0: %.4f  [%.4f, %.4f]\n",
                      ll.mean, ll.low, ll.high);
        std::cout << buf;
    }
    if (known) {
        std::snprintf(buf, sizeof buf,
                      "  data's exact mean log p: %.4f; KL(data || model): %.4f  [%.4f, %.4f] "
                      "(sampling s.e. %.4f)\n",
                      known->data_mean, known->kl, known->kl_low, known->kl_high, known->kl_se);
        std::cout << buf;
        if (known->impossible)
            std::cout << "  the KL is negative beyond its interval and 3 standard errors: layer "
                         "0's log Z estimate is wrong (more AIS runs or steps)\n";
    }
    if (out.contains("dbn_lower_bound")) {
        if (out["dbn_lower_bound"].is_null()) {
            std::cout << "  DBN lower bound: n/a ("
                      << out["dbn_lower_bound_note"].get<std::string>() << ")\n";
        } else {
            std::snprintf(
                buf, sizeof buf,
                "  DBN lower bound on mean log p(v): %.4f  (log Z interval: [%.4f, %.4f]; "
                "sampling s.e. %.4f)\n",
                ev.bound->value, ev.bound->low, ev.bound->high, ev.bound->standard_error);
            std::cout << buf;
            if (out.value("dbn_lower_bound_above_data", false))
                std::cout << "  the DBN bound is above the data's exact mean log p beyond its "
                             "interval and 3 standard errors: a log Z estimate above layer 0 (the "
                             "top layer's, or a dlogZ between layers) is wrong\n";
        }
    }
    return exit_ok;
}

}  // namespace dbn::cli
