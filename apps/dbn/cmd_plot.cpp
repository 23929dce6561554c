#include <iostream>

#include "commands.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/picture/chart.hpp"
#include "dbn/picture/png.hpp"

namespace dbn::cli {

void add_plot(CLI::App& app, PlotOptions& o) {
    auto* c = app.add_subcommand(
        "plot",
        "Draw the per-epoch monitors saved in a model file as line charts in a PNG: "
        "reconstruction error, free-energy gap and pseudo-log-likelihood of every layer, and a "
        "fine-tuned model's loss and training and validation curves");
    c->add_option("model", o.model, "model file (.h5)")->required()->check(path_validator());
    c->add_option("--out", o.out, "output picture (.png)")->required()->check(path_validator());
    c->add_option("--columns", o.columns, "charts per row of the picture (default 2)")
        ->check(count_validator());
}

int run_plot(const PlotOptions& o) {
    picture::check_png_output(o.out);
    check_output(o.out, "--out", "the picture", {{"the model", o.model}});
    const auto lock = guard_output(o.out);
    const ModelFile model = io::load_model(o.model);
    const std::vector<picture::Chart> charts = picture::training_charts(model);
    DBN_CHECK(!charts.empty(), FormatError,
              o.model << ": no per-epoch monitors to plot (no /training/layers records with "
                         "values, no fine-tuning history)");
    picture::write_charts(o.out, charts, o.columns);
    std::size_t lines = 0;
    for (const auto& c : charts) lines += c.series.size();
    std::cout << "wrote " << o.out << ": " << counted(charts.size(), "chart") << ", "
              << counted(lines, "line") << std::endl;
    return exit_ok;
}

}  // namespace dbn::cli
