#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/estimate/consistency.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/finetune/fine_tuned.hpp"
#include "dbn/io/model_io.hpp"
#include "report.hpp"

namespace dbn::cli {

void add_eval(CLI::App& app, EvalOptions& o) {
    auto* c = app.add_subcommand(
        "eval", "Evaluate a model on data: log Z of every layer (exact or AIS, with intervals), the "
                "mean log-likelihood under layer 0, the DBN's variational lower bound and the "
                "free-energy consistency checks");
    c->add_option("model", o.model, "model file (.h5)")->required();
    c->add_option("--data", o.data, "data SPEC (IDX, *.csv, file.h5:/dataset, bars-and-stripes:N)")
        ->required();
    c->add_option("--logz", o.log_z, "how to get log Z: auto (exact up to 20 enumerated units), exact, ais")
        ->check(CLI::IsMember({"auto", "exact", "ais"}));
    c->add_option("--ais-runs", o.ais_runs, "AIS runs M (default 100)")->check(CLI::Range(2, 1000000));
    c->add_option("--ais-steps", o.ais_steps,
                  "AIS temperatures: default (14,500, Salakhutdinov & Murray 2008), quick (1,450) or a "
                  "number >= 3");
    c->add_option("--seed", o.seed, "seed of the AIS runs and of the samples (default 1)");
    c->add_option("--limit", o.limit, "use only the first N rows of --data")->check(count_validator());
    c->add_option("--labels", o.labels,
                  "labels SPEC for a fine-tuned classifier (default: the labels that come with --data)");
    c->add_flag("--json", o.json, "print one JSON object (keys: docs/EVAL.md)");
}

namespace {

using json = nlohmann::json;

bool is_binary(const Matrix& x) {
    for (float v : x)
        if (v != 0.0f && v != 1.0f) return false;
    return true;
}

}  // namespace

int run_eval(const EvalOptions& o) {
    const ModelFile file = io::load_model(o.model);
    const Dbn& model = file.stack;
    const data::Dataset d = data::first_rows(data::read_dataset(o.data), o.limit);
    DBN_CHECK(d.size() > 0, FormatError, o.data << ": no rows");
    DBN_CHECK(d.n_features() == model.n_visible(), ShapeError,
              o.data << ": " << d.n_features() << " columns, but " << o.model << " expects "
                     << model.n_visible());

    estimate::LogZOptions opt;
    opt.method = estimate::parse_log_z_method(o.log_z, "--logz");
    opt.ais.runs = o.ais_runs;
    opt.ais.steps = estimate::parse_ais_steps(o.ais_steps);
    opt.ais.seed = o.seed;

    const std::vector<Matrix> inputs = estimate::layer_inputs(model, d.x);
    std::vector<estimate::LayerLogZ> log_z;
    for (std::size_t k = 0; k < model.n_layers(); ++k) {
        if (!o.json)
            std::cerr << "eval: log Z of layer " << k << " (" << model.layers[k].n_visible() << "x"
                      << model.layers[k].n_hidden() << ")..." << std::endl;
        log_z.push_back(estimate::layer_log_partition(model, k, inputs[k], opt));
    }
    Rng rng(o.seed);
    std::vector<estimate::ConsistencyCheck> checks;
    for (std::size_t k = 0; k + 1 < model.n_layers(); ++k) {
        if (log_z[k].available && log_z[k + 1].available) {
            checks.push_back(estimate::consistency_check(model, k, inputs[k], log_z[k], log_z[k + 1], rng));
        } else {
            estimate::ConsistencyCheck c;
            c.lower = k;
            c.upper = k + 1;
            c.note = "defined for Bernoulli hidden units only (relu units have no closed-form free energy)";
            checks.push_back(c);
        }
    }
    const bool binary = is_binary(inputs[0]);
    json out = {{"model", o.model},
                {"data", {{"source", d.source}, {"rows", d.size()}, {"binary", binary}}},
                {"settings",
                 {{"logz", o.log_z}, {"ais_runs", o.ais_runs}, {"ais_steps", opt.ais.steps}, {"seed", o.seed}}},
                {"openblas_core", blas::core_name()}};
    json layers = json::array();
    for (const auto& z : log_z) layers.push_back(log_z_json(z));
    out["layers"] = layers;

    if (log_z[0].available) {
        const auto ll = estimate::mean_log_likelihood(model.layers[0], inputs[0], log_z[0].log_z);
        out["mean_log_likelihood"] = number(ll.mean);
        out["mean_log_likelihood_low"] = number(ll.low);
        out["mean_log_likelihood_high"] = number(ll.high);
        out["mean_free_energy"] = number(ll.mean_free_energy);
    }
    estimate::LowerBound bound;
    if (model.n_layers() > 1) {
        bound = estimate::dbn_lower_bound(model, d.x, log_z.back(), rng);
        const auto& b = bound;
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
    json cj = json::array();
    for (const auto& c : checks) cj.push_back(check_json(c));
    out["checks"] = cj;

    // Fine-tuned models: accuracy and confusion matrix, or reconstruction error.
    if (file.fine_tuned && file.fine_tuned->mode == finetune::FineTuneMode::classifier) {
        Labels labels = d.labels;
        if (!o.labels.empty()) labels = data::read_labels(o.labels);
        DBN_CHECK(labels.size() > 0, FormatError,
                  o.data << ": no labels for the classifier (pass --labels SPEC)");
        DBN_CHECK(labels.size() >= d.size(), ShapeError,
                  "--labels: " << labels.size() << " labels for " << d.size() << " rows");
        if (labels.size() > d.size()) {
            Labels head = Labels::from_shape({d.size()});
            std::copy(labels.data(), labels.data() + d.size(), head.data());
            labels = head;
        }
        const finetune::ClassifierEvaluation ev = finetune::evaluate_classifier(model, *file.fine_tuned, d.x, labels);
        out["accuracy"] = ev.accuracy;
        out["confusion_matrix"] = ev.confusion_matrix;
        out["classes"] = std::vector<int>(ev.classes.begin(), ev.classes.end());
    } else if (file.fine_tuned && file.fine_tuned->mode == finetune::FineTuneMode::autoencoder) {
        out["reconstruction_error"] =
            finetune::evaluate_autoencoder(model, *file.fine_tuned, d.x).reconstruction_error;
    }

    if (o.json) {
        std::cout << out.dump(2) << std::endl;
        return exit_ok;
    }
    char buf[200];
    std::cout << o.model << " on " << d.source << " (" << d.size() << " rows"
              << (binary ? ", binary" : ", not binary: likelihoods are densities of [0,1] values under Bernoulli units, not probabilities")
              << ")\n";
    print_checks(std::cout, log_z, checks);
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
    if (log_z[0].available) {
        const auto ll = estimate::mean_log_likelihood(model.layers[0], inputs[0], log_z[0].log_z);
        std::snprintf(buf, sizeof buf, "  mean log-likelihood under layer 0: %.4f  [%.4f, %.4f]\n",
                      ll.mean, ll.low, ll.high);
        std::cout << buf;
    }
    if (out.contains("dbn_lower_bound")) {
        if (out["dbn_lower_bound"].is_null()) {
            std::cout << "  DBN lower bound: n/a (" << out["dbn_lower_bound_note"].get<std::string>() << ")\n";
        } else {
            std::snprintf(buf, sizeof buf,
                          "  DBN lower bound on mean log p(v): %.4f  (log Z interval: [%.4f, %.4f]; "
                          "sampling s.e. %.4f)\n",
                          bound.value, bound.low, bound.high, bound.standard_error);
            std::cout << buf;
        }
    }
    return exit_ok;
}

}  // namespace dbn::cli
