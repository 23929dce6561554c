#include "dbn/features/features.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/core/version.hpp"
#include "dbn/table/table_writer.hpp"

namespace dbn::features {
namespace {

std::size_t checked_layer(const Dbn& model, std::optional<std::size_t> layer) {
    model.validate();
    const std::size_t n = model.n_layers();
    const std::size_t k = layer.value_or(n - 1);
    DBN_CHECK(k < n, ConfigError,
              "layer " << k << " does not exist (the model has " << counted(n, "layer")
                       << ": valid layers are 0.." << n - 1 << ")");
    return k;
}

}  // namespace

Matrix features(const Dbn& model, const Matrix& raw, std::size_t layer) {
    const std::size_t k = checked_layer(model, layer);
    DBN_CHECK(raw.shape(1) == model.n_visible(), ShapeError,
              "the data has " << counted(raw.shape(1), "column") << ", but the model has "
                              << counted(model.n_visible(), "visible unit"));
    return model.transform(raw, k);
}

FeatureSummary extract_features(const Dbn& model, const std::string& data_spec,
                                const std::string& out_path, const FeatureOptions& options) {
    // The checks that need no data come before the data is opened.
    table::check_table_extension(out_path);
    checked_layer(model, options.layer);
    DBN_CHECK(options.chunk_rows > 0, ConfigError, "chunks of features must be at least 1 row");
    const auto rows = data::open_row_source(data_spec, options.csv);
    return extract_features(model, *rows, out_path, options);
}

FeatureSummary extract_features(const Dbn& model, data::RowSource& rows,
                                const std::string& out_path, const FeatureOptions& options) {
    table::check_table_extension(out_path);
    const std::size_t layer = checked_layer(model, options.layer);
    DBN_CHECK(options.chunk_rows > 0, ConfigError, "chunks of features must be at least 1 row");
    DBN_CHECK(rows.n_features() == model.n_visible(), ShapeError,
              rows.source() << ": " << counted(rows.n_features(), "column")
                            << ", but the model has "
                            << counted(model.n_visible(), "visible unit"));

    FeatureSummary summary;
    summary.layer = layer;
    summary.n_features = model.layers[layer].n_hidden();
    summary.labels = rows.has_labels();

    // Labels (when the input has them) first, as the CSV's first column; an .npy file holds the
    // features alone.
    std::vector<table::ColumnGroup> groups;
    if (summary.labels) groups.push_back({"labels", table::ColumnType::int32, 1, false, {"label"}});
    std::vector<std::string> headers;
    headers.reserve(summary.n_features);
    for (std::size_t j = 0; j < summary.n_features; ++j) headers.push_back('f' + std::to_string(j));
    groups.push_back(
        {"features", table::ColumnType::float32, summary.n_features, true, std::move(headers)});
    table::TableMetadata meta;
    meta.strings = {{"format", "dbn-features"},
                    {"library_version", library_version},
                    {"model", options.model_file},
                    {"model_name", options.model_name},
                    {"source", rows.source()}};
    meta.integers = {{"layer", static_cast<std::int64_t>(layer)}};
    table::write_table(out_path, groups, meta, groups.size() - 1,
                       [&](const table::ChunkSink& sink) {
                           data::Dataset chunk;
                           while (const std::size_t n = rows.read(options.chunk_rows, chunk)) {
                               const Matrix f = model.transform(chunk.x, layer);
                               std::vector<const void*> columns;
                               if (summary.labels) columns.push_back(chunk.labels.data());
                               columns.push_back(f.data());
                               sink(n, columns);
                               summary.rows += n;
                           }
                       });
    return summary;
}

}  // namespace dbn::features
