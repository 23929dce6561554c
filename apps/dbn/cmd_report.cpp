// `dbn report`: one self-contained HTML page about a model file, rendered from the JSON of
// `dbn info --json` (html_report.cpp), with the figures of a labelled data set when --data is
// given.

#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/io/model_io.hpp"
#include "html_report.hpp"
#include "report.hpp"

namespace dbn::cli {

void add_report(CLI::App& app, ReportOptions& o) {
    auto* c = app.add_subcommand(
        "report",
        "Write one self-contained HTML page about a model: its layers, log Z and consistency "
        "checks with their verdicts, pictures, monitors, settings and fine-tuning");
    c->add_option("model", o.model, "model file (.h5)")->required()->check(path_validator());
    c->add_option("--out", o.out, "the page (.html)")->required()->check(path_validator());
    c->add_option("--data", o.data,
                  "labelled data SPEC: a fine-tuned classifier's accuracy and confusion matrix "
                  "on it, or an autoencoder's reconstruction error")
        ->check(path_validator());
    c->add_option("--labels", o.labels, "labels SPEC for --data (default: those of the data)")
        ->check(path_validator());
    c->add_flag("--quiet", o.quiet, "print nothing on success");
}

namespace {

bool ends_with(const std::string& s, const std::string& end) {
    return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

ReportEvaluation evaluate(const ModelFile& model, const ReportOptions& o) {
    DBN_CHECK(model.fine_tuned, ConfigError,
              "--data: " << o.model
                         << " is not fine-tuned (the report's figures on data are a classifier's "
                            "accuracy or an autoencoder's reconstruction error)");
    const data::Dataset d = data::read_dataset(*o.data);
    ReportEvaluation e;
    e.data = *o.data;
    e.figures["rows"] = d.x.shape(0);
    if (model.fine_tuned->mode == finetune::FineTuneMode::classifier) {
        const Labels labels = o.labels ? data::read_labels(*o.labels) : d.labels;
        DBN_CHECK(labels.size() > 0, ConfigError,
                  "--data: " << *o.data << " has no labels (give --labels)");
        const finetune::ClassifierEvaluation ce =
            finetune::evaluate_classifier(model.stack, *model.fine_tuned, d.x, labels);
        e.figures["accuracy"] = ce.accuracy;
        e.figures["classes"] = std::vector<int>(ce.classes.begin(), ce.classes.end());
        e.figures["confusion_matrix"] = ce.confusion_matrix;
    } else {
        e.figures["reconstruction_error"] =
            finetune::evaluate_autoencoder(model.stack, *model.fine_tuned, d.x)
                .reconstruction_error;
    }
    return e;
}

}  // namespace

int run_report(const ReportOptions& o) {
    DBN_CHECK(ends_with(o.out, ".html") || ends_with(o.out, ".htm"), ConfigError,
              "--out: " << o.out << " does not end in .html");
    DBN_CHECK(!o.labels || o.data, ConfigError, "--labels needs --data");
    std::vector<NamedInput> inputs = {{"the model", o.model}};
    if (o.data)
        for (const auto& f : data::spec_files(*o.data)) inputs.push_back({"--data", f});
    check_output(o.out, "--out", "the report", inputs);
    const auto lock = guard_output(o.out);  // held until the page is written
    const ModelFile model = io::load_model(o.model);
    std::optional<ReportEvaluation> evaluation;
    if (o.data) evaluation = evaluate(model, o);
    const std::vector<ReportFigure> figures;
    const std::string page = html_report(model_json(o.model, model), model.config_json, figures,
                                         evaluation ? &*evaluation : nullptr);
    replace_file(o.out, page.data(), page.size(), "the report");
    if (!o.quiet) std::cout << "wrote " << o.out << " (" << page.size() << " bytes)" << std::endl;
    return exit_ok;
}

}  // namespace dbn::cli
