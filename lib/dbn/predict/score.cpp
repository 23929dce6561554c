#include "dbn/predict/score.hpp"

#include <vector>

#include "dbn/core/blas.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/core/version.hpp"
#include "dbn/estimate/exact_log_partition.hpp"
#include "dbn/table/table_writer.hpp"

namespace dbn::predict {

using table::check_table_extension;
using table::ChunkSink;
using table::ColumnGroup;
using table::ColumnType;
using table::TableMetadata;
using table::write_table;

DVector free_energy_in_double(const Rbm& rbm, ConstRows v) {
    const Units& vis = rbm.visible_units();
    const Units& hid = rbm.hidden_units();
    DBN_CHECK(hid.closed_form(), ConfigError,
              "layer 0's " << hid.name() << " hidden units have no closed-form free energy");
    const std::size_t nv = rbm.n_visible(), nh = rbm.n_hidden(), rows = v.rows;
    DBN_CHECK(v.cols == nv, ShapeError,
              counted(v.cols, "column") << ", but layer 0 has " << counted(nv, "visible unit"));
    // x = phi(v) (v / s for Gaussian units), then x W in double.
    Matrix scaled;
    ConstRows x = v;
    if (!vis.input_is_state(rbm.visible_params(), nv)) {
        scaled = Matrix::from_shape({rows, nv});
        vis.scale_input(v, rbm.visible_params(), scaled);
        x = scaled;
    }
    std::vector<double> xd(x.data, x.data + rows * nv);
    const Matrix& w = rbm.weights();
    std::vector<double> wd(w.begin(), w.end());
    std::vector<double> act(rows * nh);
    if (rows > 0)
        blas::dgemm(false, false, rows, nh, nv, 1.0, xd.data(), wd.data(), 0.0, act.data());
    std::vector<double> y(nh, 0.0);
    if (hid.bias_adds_to_input())
        for (std::size_t j = 0; j < nh; ++j) y[j] = rbm.hidden_bias()(j);
    const std::vector<double> coef = hid.log_marginal_coefficients(rbm.hidden_params(), nh);
    std::vector<double> terms(rows);
    hid.log_marginal_rows(act.data(), rows, y.data(), nh, coef, terms.data());
    const double constant = hid.log_marginal_constant(rbm.hidden_params(), nh);
    // F(v) = sum_i e_i(v_i) - sum_j log-marginal_j(act_j).
    DVector f = xt::zeros<double>({rows});
    vis.add_energy(v, rbm.visible_params(), f.data());
    for (std::size_t r = 0; r < rows; ++r) f(r) -= terms[r] + constant;
    return f;
}

ScoreLogZ score_log_z(const ModelFile& model, std::size_t threads) {
    ScoreLogZ z;
    const Rbm& rbm = model.stack.layers.at(0);
    if (rbm.hidden_type() == UnitType::relu) {
        z.method = "layer 0 has rectified hidden units (no closed-form free energy)";
        return z;
    }
    std::size_t units = 0;
    try {
        units = estimate::enumerated_units(rbm);
    } catch (const ConfigError&) {
        units = k_score_exact_units + 1;
    }
    if (units <= k_score_exact_units) {
        estimate::ExactOptions o;
        o.threads = std::max<std::size_t>(threads, 1);
        z.value = z.low = z.high = estimate::exact_log_partition(rbm, o);
        z.known = true;
        z.method = "exact";
        return z;
    }
    for (const auto& r : model.log_z) {
        if (r.index != 0 || !r.available) continue;
        if (model.fine_tuned) {
            z.method = "the file's log Z of layer 0 is of the pretrained layer, before fine-tuning";
            return z;
        }
        z.known = true;
        z.value = r.log_z.value;
        z.low = r.log_z.low;
        z.high = r.log_z.high;
        z.method = "file:" + r.method;
        return z;
    }
    z.method = "the file has no log Z of layer 0 and its " + counted(units, "unit") +
               " are too many to enumerate (at most " + std::to_string(k_score_exact_units) + ")";
    return z;
}

ScoreSummary write_scores(const ModelFile& model, const std::string& data_spec,
                          const std::string& out, const ScoreOptions& options) {
    check_table_extension(out);
    DBN_CHECK(options.chunk_rows > 0, ConfigError, "chunks must be at least 1 row");
    const auto rows = data::open_row_source(data_spec, options.csv);
    return write_scores(model, *rows, out, options);
}

ScoreSummary write_scores(const ModelFile& model, data::RowSource& rows, const std::string& out,
                          const ScoreOptions& options) {
    check_table_extension(out);
    const Dbn& stack = model.stack;
    stack.validate();
    DBN_CHECK(options.chunk_rows > 0, ConfigError, "chunks must be at least 1 row");
    DBN_CHECK(rows.n_features() == stack.n_visible(), ShapeError,
              rows.source() << ": " << counted(rows.n_features(), "column")
                            << ", but the model has "
                            << counted(stack.n_visible(), "visible unit"));
    const Rbm& rbm = stack.layers[0];
    DBN_CHECK(rbm.hidden_type() != UnitType::relu, ConfigError,
              "layer 0 has rectified (relu) hidden units, which have no closed-form free energy");
    ScoreSummary summary;
    summary.labels = rows.has_labels();
    summary.log_z = score_log_z(model, options.threads);

    std::vector<ColumnGroup> groups;
    TableMetadata meta;
    meta.strings = {{"format", "dbn-scores"},      {"library_version", library_version},
                    {"model", options.model_file}, {"model_name", model.name},
                    {"source", rows.source()},     {"log_z_method", summary.log_z.method}};
    if (summary.log_z.known) {
        meta.numbers = {{"log_z", summary.log_z.value},
                        {"log_z_low", summary.log_z.low},
                        {"log_z_high", summary.log_z.high}};
    }
    if (summary.labels) groups.push_back({"labels", ColumnType::int32, 1, false, {"label"}});
    const std::size_t main_group = groups.size();
    groups.push_back({"free_energy", ColumnType::float64, 1, false, {"free_energy"}});
    if (summary.log_z.known)
        groups.push_back({"log_prob", ColumnType::float64, 1, false, {"log_prob"}});

    double sum_f = 0.0;
    write_table(out, groups, meta, summary.log_z.known ? main_group + 1 : main_group,
                [&](const ChunkSink& sink) {
                    data::Dataset chunk;
                    std::vector<double> log_p;
                    while (const std::size_t n = rows.read(options.chunk_rows, chunk)) {
                        const Matrix v = stack.preprocess(chunk.x);
                        const DVector f = free_energy_in_double(rbm, v);
                        std::vector<const void*> columns;
                        if (summary.labels) columns.push_back(chunk.labels.data());
                        columns.push_back(f.data());
                        log_p.resize(n);
                        for (std::size_t i = 0; i < n; ++i) {
                            sum_f += f(i);
                            log_p[i] = -f(i) - summary.log_z.value;
                        }
                        if (summary.log_z.known) columns.push_back(log_p.data());
                        sink(n, columns);
                        summary.rows += n;
                    }
                });
    if (summary.rows > 0) {
        summary.mean_free_energy = sum_f / double(summary.rows);
        summary.mean_log_prob = -summary.mean_free_energy - summary.log_z.value;
    }
    return summary;
}

}  // namespace dbn::predict
