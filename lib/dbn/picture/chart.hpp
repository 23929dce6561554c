#pragma once

// Line charts of per-epoch monitors (docs/CLI.md, "dbn plot"), drawn with cairo.

#include <cstddef>
#include <string>
#include <vector>

#include "dbn/model/model_file.hpp"

namespace dbn::picture {

/// @brief One line: y over x (NaN values leave a gap), named in the legend.
struct Series {
    std::string name;
    std::vector<double> x, y;
    bool dashed = false;
};

/// @brief One panel: a title, labelled axes, its lines and a legend.
struct Chart {
    std::string title;
    std::string x_label = "epoch";
    std::string y_label;
    std::vector<Series> series;
};

/// Panel size in pixels; the page is `columns` panels wide.
constexpr int chart_width = 640;
constexpr int chart_height = 400;

/// @brief The charts of a model's per-epoch records: reconstruction error, free-energy gap and
/// pseudo-log-likelihood with one line per layer ("layer k (n_v-n_h)"), and for a fine-tuned
/// model its loss and its training and validation accuracy (classifier) or reconstruction
/// error (autoencoder). Series that are NaN throughout and charts without a series are left
/// out: the result may be empty.
std::vector<Chart> training_charts(const ModelFile& model);

/// @brief `charts` drawn as write_charts draws them, encoded as PNG in memory (the report
/// embeds them). `what` names the picture in errors.
/// @throws ConfigError when `charts` is empty or pictures are not available; IoError.
std::string charts_png_bytes(const std::vector<Chart>& charts, std::size_t columns,
                             const std::string& what);

/// @brief Draws `charts` as a page of panels, `columns` per row (at most the number of
/// charts), each chart_width x chart_height pixels, and writes it as a PNG (write_png's way:
/// temporary file, sync, rename).
/// @throws ConfigError when `charts` is empty or pictures are not available; IoError naming
/// `path`.
void write_charts(const std::string& path, const std::vector<Chart>& charts,
                  std::size_t columns = 2);

}  // namespace dbn::picture
