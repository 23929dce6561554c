// `dbn report`: one self-contained HTML page about a model file, rendered from the JSON of
// `dbn info --json` (html_report.cpp), with the figures of a labelled data set when --data is
// given.

#include <algorithm>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/picture/chart.hpp"
#include "dbn/picture/filters.hpp"
#include "dbn/picture/image.hpp"
#include "dbn/picture/png.hpp"
#include "dbn/sample/sampler.hpp"
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
    c->add_option("--shape", o.shape,
                  "HxW of one sample, for the filters and samples (default: the model's "
                  "sample_shape, else the square side)");
    c->add_option("--samples", o.samples, "Gibbs chains drawn for the samples figure")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
        ->default_val(o.samples);
    c->add_option("--steps", o.steps, "Gibbs steps of each chain in the top RBM")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}))
        ->default_val(o.steps);
    c->add_option("--seed", o.seed, "seed of the samples")->default_val(o.seed);
    c->add_flag("--no-pictures", o.no_pictures,
                "leave out the filters, samples and curves (a build without pictures always "
                "does)");
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

/// Filters of layer 0 (and of the top layer seen through the layers below), samples of the
/// model and its per-epoch curves, as PNG figures. Filters and samples need an image shape:
/// without one (rows that are not square and no sample_shape or --shape) they are left out and
/// `skipped` says why; so are all pictures in a build without cairo.
std::vector<ReportFigure> pictures(const ModelFile& model, const ReportOptions& o,
                                   std::vector<std::string>& skipped) {
    std::vector<ReportFigure> figures;
    if (o.no_pictures) return figures;
    if (!picture::pictures_available()) {
        skipped.push_back("pictures: " + picture::picture_library());
        return figures;
    }
    std::optional<picture::TileShape> shape;
    try {
        shape = picture::choose_shape(sample_shape_of(model), o.shape, model.stack.n_visible(),
                                      o.model);
    } catch (const ConfigError& e) {
        if (o.shape) throw;  // the user's own --shape that does not fit: an error
        skipped.push_back(std::string("filters and samples: ") + e.what());
    }
    if (shape) {
        std::vector<std::size_t> drawn = {0};
        if (model.stack.n_layers() > 1) drawn.push_back(model.stack.n_layers() - 1);
        for (const std::size_t k : drawn) {
            const std::size_t units = model.stack.layers[k].n_hidden();
            const std::size_t count = std::min<std::size_t>(units, 100);
            const Matrix tiles = picture::layer_filters(model.stack, k, count);
            std::ostringstream caption;
            caption << "The weights of the first " << count << " of " << units
                    << " hidden units of layer " << k;
            if (k > 0) caption << ", seen through the layers below (W_0 ... W_" << k << ")";
            caption << ", each tile stretched from its smallest (black) to its largest (white) "
                       "weight. `dbn show "
                    << o.model << " --layer " << k << " --count " << count << "` draws it.";
            figures.push_back({k == 0 ? "filters" : "filters-top",
                               "Filters of layer " + std::to_string(k), caption.str(),
                               picture::png_bytes(picture::tile_grid(tiles, *shape),
                                                  "the filters of layer " + std::to_string(k))});
        }
        sample::SampleOptions options;
        options.count = o.samples;
        options.steps = o.steps;
        options.seed = o.seed;
        const Matrix means = sample::sample_model(model.stack, options, nullptr).means;
        std::ostringstream caption;
        caption << o.samples << " samples of the model: " << o.steps
                << " Gibbs steps in the top RBM from random states (seed " << o.seed
                << "), then down through the layers; the visible units' means. `dbn sample "
                << o.model << " --count " << o.samples << " --steps " << o.steps << " --seed "
                << o.seed << " --out samples.png` draws it.";
        figures.push_back(
            {"samples", "Samples", caption.str(),
             picture::png_bytes(picture::tile_grid(means, *shape, 0,
                                                   picture::sample_gray_scale(model.stack, means)),
                                "the samples")});
    }
    const std::vector<picture::Chart> charts = picture::training_charts(model);
    if (!charts.empty())
        figures.push_back({"curves", "Per-epoch monitors",
                           "The monitors recorded at each epoch of every layer, and of "
                           "fine-tuning when there was one. `dbn plot " +
                               o.model + "` draws it.",
                           picture::charts_png_bytes(charts, 2, "the curves")});
    return figures;
}

}  // namespace

int run_report(const ReportOptions& o) {
    DBN_CHECK(ends_with(o.out, ".html") || ends_with(o.out, ".htm"), ConfigError,
              "--out: " << o.out << " does not end in .html");
    DBN_CHECK(!o.labels || o.data, ConfigError, "--labels needs --data");
    if (o.shape) picture::parse_shape(*o.shape);
    std::vector<NamedInput> inputs = {{"the model", o.model}};
    if (o.data)
        for (const auto& f : data::spec_files(*o.data)) inputs.push_back({"--data", f});
    check_output(o.out, "--out", "the report", inputs);
    const auto lock = guard_output(o.out);  // held until the page is written
    const ModelFile model = io::load_model(o.model);
    std::optional<ReportEvaluation> evaluation;
    if (o.data) evaluation = evaluate(model, o);
    std::vector<std::string> skipped;
    const std::vector<ReportFigure> figures = pictures(model, o, skipped);
    if (!o.quiet)
        for (const auto& why : skipped) std::cout << "left out of the report: " << why << "\n";
    const std::string page = html_report(model_json(o.model, model), model.config_json, figures,
                                         evaluation ? &*evaluation : nullptr);
    replace_file(o.out, page.data(), page.size(), "the report");
    if (!o.quiet) std::cout << "wrote " << o.out << " (" << page.size() << " bytes)" << std::endl;
    return exit_ok;
}

}  // namespace dbn::cli
