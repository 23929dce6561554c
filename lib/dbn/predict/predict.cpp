#include "dbn/predict/predict.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/core/version.hpp"
#include "dbn/finetune/evaluate.hpp"
#include "dbn/finetune/fine_tuner.hpp"
#include "dbn/table/table_writer.hpp"

namespace dbn::predict {

using table::check_table_extension;
using table::ChunkSink;
using table::ColumnGroup;
using table::ColumnType;
using table::TableMetadata;
using table::write_table;
namespace {

/// Rows per forward block, as finetune's evaluation uses.
constexpr std::size_t k_block = 512;

const char* what_the_model_is(const ModelFile& m) {
    if (!m.fine_tuned) return "it is pretrained only, not fine-tuned";
    return m.fine_tuned->mode == finetune::FineTuneMode::classifier
               ? "it is a fine-tuned classifier"
               : "it is a fine-tuned autoencoder";
}

std::vector<std::string> numbered(const std::string& prefix, std::size_t n) {
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t j = 0; j < n; ++j) out.push_back(prefix + std::to_string(j));
    return out;
}

}  // namespace

std::string to_string(Output o) {
    switch (o) {
        case Output::automatic:
            return "auto";
        case Output::probabilities:
            return "probabilities";
        case Output::reconstructions:
            return "reconstructions";
        case Output::features:
            return "features";
    }
    return "auto";
}

Output parse_output(const std::string& s) {
    for (Output o :
         {Output::automatic, Output::probabilities, Output::reconstructions, Output::features})
        if (s == to_string(o)) return o;
    throw ConfigError("unknown output \"" + s +
                      "\" (expected auto, probabilities, reconstructions or features)");
}

Output resolve_output(const ModelFile& m, Output requested) {
    const bool classifier =
        m.fine_tuned && m.fine_tuned->mode == finetune::FineTuneMode::classifier;
    const bool autoencoder =
        m.fine_tuned && m.fine_tuned->mode == finetune::FineTuneMode::autoencoder;
    switch (requested) {
        case Output::automatic:
            return classifier    ? Output::probabilities
                   : autoencoder ? Output::reconstructions
                                 : Output::features;
        case Output::probabilities:
            DBN_CHECK(classifier, ConfigError,
                      "the model has no classifier head to give probabilities ("
                          << what_the_model_is(m) << ")");
            return requested;
        case Output::reconstructions:
            DBN_CHECK(autoencoder, ConfigError,
                      "the model has no fine-tuned decoder to give reconstructions ("
                          << what_the_model_is(m) << ")");
            return requested;
        case Output::features:
            return requested;
    }
    return requested;
}

PredictSummary write_predictions(const ModelFile& model, const std::string& data_spec,
                                 const std::string& out, const PredictOptions& options) {
    // The checks that need no data come first.
    check_table_extension(out);
    resolve_output(model, options.output);
    DBN_CHECK(options.chunk_rows > 0, ConfigError, "chunks must be at least 1 row");
    const auto rows = data::open_row_source(data_spec, options.csv);
    return write_predictions(model, *rows, out, options);
}

PredictSummary write_predictions(const ModelFile& model, data::RowSource& rows,
                                 const std::string& out, const PredictOptions& options) {
    check_table_extension(out);
    const Dbn& stack = model.stack;
    stack.validate();
    PredictSummary summary;
    summary.output = resolve_output(model, options.output);
    DBN_CHECK(options.chunk_rows > 0, ConfigError, "chunks must be at least 1 row");
    DBN_CHECK(rows.n_features() == stack.n_visible(), ShapeError,
              rows.source() << ": " << counted(rows.n_features(), "column")
                            << ", but the model has "
                            << counted(stack.n_visible(), "visible unit"));
    const bool external = options.labels.has_value();
    if (external && rows.size()) {
        DBN_CHECK(options.labels->size() == *rows.size(), ShapeError,
                  counted(options.labels->size(), "label")
                      << " for the " << counted(*rows.size(), "row") << " of " << rows.source());
    }
    summary.labels = external || rows.has_labels();

    const std::size_t top = stack.n_layers() - 1;
    std::optional<finetune::Network> net;
    if (summary.output == Output::probabilities)
        net = finetune::classifier_network(stack, *model.fine_tuned);
    if (summary.output == Output::reconstructions)
        net = finetune::autoencoder_network(stack, *model.fine_tuned);
    std::optional<finetune::Workspace> ws;
    if (net) ws.emplace(*net, std::min(k_block, options.chunk_rows), options.threads);

    std::vector<ColumnGroup> groups;
    TableMetadata meta;
    meta.strings = {{"format", "dbn-predictions"},         {"library_version", library_version},
                    {"model", options.model_file},         {"model_name", model.name},
                    {"output", to_string(summary.output)}, {"source", rows.source()}};
    meta.integers = {{"layer", static_cast<std::int64_t>(top)}};
    if (summary.labels) groups.push_back({"labels", ColumnType::int32, 1, false, {"label"}});
    std::size_t main_group = groups.size();
    if (summary.output == Output::probabilities) {
        const Labels& classes = model.fine_tuned->classes;
        summary.columns = classes.size();
        std::vector<std::string> headers;
        std::vector<std::int64_t> cls;
        for (std::size_t c = 0; c < classes.size(); ++c) {
            headers.push_back("p" + std::to_string(classes(c)));
            cls.push_back(classes(c));
        }
        meta.int_datasets = {{"classes", cls}};
        groups.push_back({"predicted", ColumnType::int64, 1, false, {"predicted"}});
        main_group = groups.size();
        groups.push_back(
            {"probabilities", ColumnType::float32, summary.columns, true, std::move(headers)});
    } else if (summary.output == Output::reconstructions) {
        summary.columns = stack.n_visible();
        groups.push_back({"reconstructions", ColumnType::float32, summary.columns, true,
                          numbered("r", summary.columns)});
    } else {
        summary.columns = stack.layers[top].n_hidden();
        groups.push_back({"features", ColumnType::float32, summary.columns, true,
                          numbered("f", summary.columns)});
    }

    write_table(out, groups, meta, main_group, [&](const ChunkSink& sink) {
        data::Dataset chunk;
        std::vector<std::int64_t> predicted;
        Labels labels;
        std::size_t total = 0;  // rows of the data, also past the end of too few labels
        while (const std::size_t n = rows.read(options.chunk_rows, chunk)) {
            total += n;
            if (external && total > options.labels->size()) continue;  // counted, then refused
            if (external) {
                labels = Labels::from_shape({n});
                std::copy_n(options.labels->data() + summary.rows, n, labels.data());
            } else {
                labels = chunk.labels;
            }
            Matrix values;
            if (net) {
                values =
                    finetune::network_outputs(*net, finetune::network_inputs(stack, chunk.x), *ws);
            } else {
                values = stack.transform(chunk.x, top);
            }
            std::vector<const void*> columns;
            if (summary.labels) columns.push_back(labels.data());
            if (summary.output == Output::probabilities) {
                const Labels& classes = model.fine_tuned->classes;
                predicted.resize(n);
                const std::size_t c = values.shape(1);
                for (std::size_t i = 0; i < n; ++i) {
                    const Real* r = values.data() + i * c;
                    predicted[i] =
                        classes(static_cast<std::size_t>(std::max_element(r, r + c) - r));
                    if (summary.labels) summary.correct += predicted[i] == labels(i);
                }
                columns.push_back(predicted.data());
            }
            columns.push_back(values.data());
            sink(n, columns);
            summary.rows += n;
        }
        DBN_CHECK(!external || options.labels->size() == total, ShapeError,
                  counted(options.labels->size(), "label")
                      << " for the " << counted(total, "row") << " of " << rows.source());
    });
    return summary;
}

}  // namespace dbn::predict
