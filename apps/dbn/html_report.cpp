#include "html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dbn/core/version.hpp"

namespace dbn::cli {

using json = nlohmann::json;

std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string base64(const std::string& bytes) {
    static const char* const alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
                                (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) |
                                std::uint32_t(std::uint8_t(bytes[i + 2]));
        for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t v = std::uint32_t(std::uint8_t(bytes[i])) << 16;
        if (rest == 2) v |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

namespace {

/// A number as the page shows it: integers whole, others to 4 decimals (or 4 significant
/// digits when small). The cell's data-value keeps JSON's round-trip form.
std::string shown(const json& v) {
    if (v.is_null()) return "&ndash;";
    if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
    if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
    if (v.is_number_float()) {
        const double x = v.get<double>();
        char buf[64];
        if (x != 0.0 && std::fabs(x) < 1e-3)
            std::snprintf(buf, sizeof buf, "%.4g", x);
        else
            std::snprintf(buf, sizeof buf, "%.4f", x);
        return buf;
    }
    if (v.is_string()) return html_escape(v.get<std::string>());
    return html_escape(v.dump());
}

/// A table cell of a JSON value: numbers carry their exact value in data-value.
std::string cell(const json& v, const std::string& cls = "") {
    std::string td = "<td";
    if (!cls.empty()) td += " class=\"" + cls + "\"";
    if (v.is_number() || v.is_null()) td += " data-value=\"" + html_escape(v.dump()) + "\"";
    return td + ">" + shown(v) + "</td>";
}

/// The columns of a table of records: `first` in that order (those present), then the other
/// keys by name, so that a field added to a record shows without a change here.
std::vector<std::string> columns_of(const json& records, const std::vector<std::string>& first) {
    // A column that is null in every row (a figure of the other mode) is left out.
    std::set<std::string> keys;
    for (const auto& r : records)
        for (auto it = r.begin(); it != r.end(); ++it)
            if (!it.value().is_object() && !it.value().is_array() && !it.value().is_null())
                keys.insert(it.key());
    std::vector<std::string> cols;
    for (const auto& k : first)
        if (keys.erase(k)) cols.push_back(k);
    cols.insert(cols.end(), keys.begin(), keys.end());
    return cols;
}

std::string verdict_class(const json& v) {
    if (!v.is_string()) return "";
    const std::string s = v.get<std::string>();
    if (s == "passed") return "passed";
    if (s == "FAILED") return "failed";
    return "open";
}

/// A table of records (one row each), columns from columns_of().
std::string record_table(const json& records, const std::vector<std::string>& first,
                         const std::string& id) {
    if (!records.is_array() || records.empty()) return "<p class=\"none\">none</p>\n";
    const std::vector<std::string> cols = columns_of(records, first);
    std::ostringstream out;
    out << "<div class=\"scroll\"><table id=\"" << id << "\"><thead><tr>";
    for (const auto& c : cols) out << "<th>" << html_escape(c) << "</th>";
    out << "</tr></thead><tbody>\n";
    for (const auto& r : records) {
        out << "<tr>";
        for (const auto& c : cols) {
            const json v = r.contains(c) ? r[c] : json(nullptr);
            out << cell(v, c == "verdict" ? verdict_class(v) : "");
        }
        out << "</tr>\n";
    }
    out << "</tbody></table></div>\n";
    return out.str();
}

std::string layer_shape(const json& model) {
    std::string s;
    for (const auto& l : model["layers"])
        s += std::to_string(l["n_visible"].get<long long>()) + "-";
    if (!model["layers"].empty())
        s += std::to_string(model["layers"].back()["n_hidden"].get<long long>());
    return s;
}

std::string layers_section(const json& model) {
    std::ostringstream out;
    out << "<section id=\"layers\"><h2>Layers</h2>\n<table id=\"layers-table\"><thead><tr>"
           "<th>layer</th><th>visible</th><th>hidden</th><th>weights</th><th>hook after</th>"
           "</tr></thead><tbody>\n";
    const json& hooks = model["hooks"];
    for (const auto& l : model["layers"]) {
        const std::size_t k = l["index"].get<std::size_t>();
        out << "<tr>" << cell(l["index"]) << "<td>" << l["n_visible"].dump() << " "
            << shown(l["visible_units"]) << "</td><td>" << l["n_hidden"].dump() << " "
            << shown(l["hidden_units"]) << "</td><td>[" << l["weights_shape"][0].dump() << ", "
            << l["weights_shape"][1].dump() << "]</td><td>"
            << (k < hooks.size() ? shown(hooks[k]) : "&ndash;") << "</td></tr>\n";
    }
    out << "</tbody></table>\n<p>Preprocessing: ";
    const json& p = model["preprocessing"];
    out << "scale " << shown(p["scale"]) << ", binarize " << shown(p["binarize"]);
    if (p.contains("threshold")) out << " (threshold " << shown(p["threshold"]) << ")";
    out << ", standardize " << shown(p["standardize"]) << ".</p>\n</section>\n";
    return out.str();
}

std::string checks_section(const json& model) {
    std::ostringstream out;
    out << "<section id=\"checks\"><h2>log Z and the consistency checks</h2>\n";
    if (model["log_z_parameters"] == "pretrained" && !model["log_z"].empty())
        out << "<p class=\"note\">These figures belong to the pretrained layers: fine-tuning "
               "changed the weights after pretraining computed them.</p>\n";
    out << "<h3>log Z per layer</h3>\n"
        << record_table(model["log_z"],
                        {"index", "log_z", "log_z_low", "log_z_high", "log_z_method", "seconds"},
                        "log-z-table");
    out << "<h3>Checks between adjacent layers</h3>\n<p>D = dF &minus; dlogZ is the change of "
           "the DBN's lower bound on the log-likelihood (nats per sample) when the upper layer "
           "replaces the lower one's prior: passed when D &gt; 0 beyond its interval, FAILED "
           "when D &lt; 0 beyond it, inconclusive otherwise.</p>\n"
        << record_table(model["checks"],
                        {"lower", "upper", "free_energy_gap", "delta_log_z", "bound_change",
                         "bound_change_low", "bound_change_high", "verdict"},
                        "checks-table");
    out << "</section>\n";
    return out.str();
}

/// The width a picture is shown at: a small tile grid is enlarged by a whole factor (up to 8,
/// to about 480 pixels; pixelated, so every weight stays one crisp square), a large one as is.
/// The width comes from the PNG's IHDR chunk; 0 (no width attribute) when it cannot be read.
std::size_t shown_width(const std::string& png) {
    if (png.size() < 24 || png.compare(12, 4, "IHDR") != 0) return 0;
    std::size_t w = 0;
    for (int i = 16; i < 20; ++i) w = (w << 8) | static_cast<unsigned char>(png[i]);
    if (w == 0) return 0;
    const std::size_t factor = std::max<std::size_t>(1, std::min<std::size_t>(8, 480 / w));
    return w * factor;
}

std::string figure_section(const ReportFigure& f) {
    std::ostringstream out;
    out << "<section id=\"" << html_escape(f.id) << "\"><h2>" << html_escape(f.title)
        << "</h2>\n<figure><img alt=\"" << html_escape(f.title) << "\" src=\"data:image/png;base64,"
        << base64(f.png) << "\"";
    if (const std::size_t w = shown_width(f.png)) out << " width=\"" << w << "\"";
    out << "><figcaption>" << html_escape(f.caption) << "</figcaption></figure></section>\n";
    return out.str();
}

std::string monitors_section(const json& model) {
    std::ostringstream out;
    out << "<section id=\"monitors\"><h2>Pretraining monitors per epoch</h2>\n";
    for (const auto& l : model["layers"]) {
        if (!l.contains("monitors")) continue;
        const std::string k = l["index"].dump();
        out << "<h3>Layer " << k << "</h3>\n"
            << record_table(l["monitors"],
                            {"epoch", "reconstruction_error", "free_energy_gap",
                             "pseudo_log_likelihood", "free_energy_train", "free_energy_valid",
                             "learning_rate", "momentum", "seconds"},
                            "monitors-" + k);
    }
    out << "</section>\n";
    return out.str();
}

std::string settings_section(const json& model) {
    json rows = json::array();
    std::set<std::string> keys;
    for (const auto& l : model["layers"])
        if (l.contains("training"))
            for (auto it = l["training"].begin(); it != l["training"].end(); ++it)
                keys.insert(it.key());
    if (keys.empty()) return "";
    std::ostringstream out;
    out << "<section id=\"settings\"><h2>Training settings</h2>\n<table id=\"settings-table\">"
           "<thead><tr><th>setting</th>";
    for (const auto& l : model["layers"])
        if (l.contains("training")) out << "<th>layer " << l["index"].dump() << "</th>";
    out << "</tr></thead><tbody>\n";
    for (const auto& key : keys) {
        out << "<tr><th>" << html_escape(key) << "</th>";
        for (const auto& l : model["layers"])
            if (l.contains("training"))
                out << cell(l["training"].contains(key) ? l["training"][key] : json(nullptr));
        out << "</tr>\n";
    }
    out << "</tbody></table>\n</section>\n";
    return out.str();
}

std::string confusion_table(const json& classes, const json& matrix) {
    std::ostringstream out;
    out << "<table id=\"confusion-matrix\"><thead><tr><th>label \\ predicted</th>";
    for (const auto& c : classes) out << "<th>" << c.dump() << "</th>";
    out << "</tr></thead><tbody>\n";
    for (std::size_t i = 0; i < matrix.size(); ++i) {
        out << "<tr><th>" << (i < classes.size() ? classes[i].dump() : "?") << "</th>";
        for (std::size_t j = 0; j < matrix[i].size(); ++j)
            out << cell(matrix[i][j], i == j ? "diagonal" : "");
        out << "</tr>\n";
    }
    out << "</tbody></table>\n";
    return out.str();
}

std::string fine_tuning_section(const json& model, const ReportEvaluation* evaluation) {
    const json& ft = model["fine_tuned"];
    std::ostringstream out;
    out << "<section id=\"fine-tuning\"><h2>Fine-tuning</h2>\n";
    if (ft.is_null()) {
        out << "<p class=\"none\">The model is not fine-tuned.</p>\n";
    } else {
        out << "<p>Mode: " << shown(ft["mode"]) << "; best epoch " << shown(ft["best_epoch"])
            << " of " << ft["history"].size() << ".</p>\n<h3>Settings</h3>\n"
            << record_table(json::array({ft["settings"]}), {}, "fine-tuning-settings")
            << "<h3>History</h3>\n"
            << record_table(ft["history"],
                            {"epoch", "train_loss", "train_accuracy", "valid_accuracy",
                             "train_reconstruction_error", "valid_reconstruction_error"},
                            "fine-tuning-history");
    }
    if (evaluation) {
        const json& e = evaluation->figures;
        out << "<h3 id=\"evaluation\">On " << html_escape(evaluation->data) << "</h3>\n<p>"
            << shown(e["rows"]) << " rows";
        if (e.contains("accuracy"))
            out << "; accuracy <span id=\"accuracy\" data-value=\"" << e["accuracy"].dump() << "\">"
                << shown(e["accuracy"]) << "</span>.</p>\n"
                << confusion_table(e["classes"], e["confusion_matrix"]);
        else if (e.contains("reconstruction_error"))
            out << "; reconstruction error per unit <span id=\"reconstruction-error\" "
                   "data-value=\""
                << e["reconstruction_error"].dump() << "\">" << shown(e["reconstruction_error"])
                << "</span>.</p>\n";
        else
            out << ".</p>\n";
    }
    out << "</section>\n";
    return out.str();
}

const char* const style = R"(
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th { background: #f2f2f2; }
td.passed { background: #d9f2d9; } td.failed { background: #f7d4d4; }
td.open { background: #fbeccb; } td.diagonal { font-weight: bold; }
figure { margin: 0.5em 0; } img { max-width: 100%; height: auto; }
#filters img, #filters-top img, #samples img { image-rendering: pixelated; }
figcaption, .note, .none { color: #555; font-size: 0.9em; }
div.scroll { overflow-x: auto; }
pre { background: #f7f7f7; padding: 0.5em; overflow-x: auto; }
)";

// Reads the embedded JSON back (a page whose JSON is broken says so at the bottom, and a
// browser's console shows the error).
const char* const script = R"(
(function () {
  var data = JSON.parse(document.getElementById('dbn-model').textContent);
  document.getElementById('embedded').textContent =
    'Embedded model data: ' + data.n_layers + ' layers, ' + data.checks.length + ' checks.';
})();
)";

}  // namespace

std::string html_report(const json& model, const std::string& config,
                        const std::vector<ReportFigure>& figures,
                        const ReportEvaluation* evaluation) {
    const std::string file = model["file"].get<std::string>();
    std::ostringstream out;
    out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>dbn "
           "report: "
        << html_escape(file) << "</title>\n<style>" << style << "</style></head>\n<body>\n";
    out << "<h1>" << html_escape(file) << "</h1>\n<p id=\"summary\">A DBN of "
        << model["n_layers"].dump() << (model["n_layers"] == 1 ? " layer" : " layers") << " ("
        << layer_shape(model) << ")";
    if (model.contains("name") && !model["name"].get<std::string>().empty())
        out << ", &ldquo;" << html_escape(model["name"].get<std::string>()) << "&rdquo;";
    if (model.contains("seed")) out << ", seed " << model["seed"].dump();
    out << ". Report written by dbn " << html_escape(library_version) << ".</p>\n";
    out << layers_section(model) << checks_section(model);
    for (const auto& f : figures) out << figure_section(f);
    out << monitors_section(model) << settings_section(model)
        << fine_tuning_section(model, evaluation);
    if (!config.empty())
        out << "<section id=\"configuration\"><h2>Configuration</h2>\n<pre>" << html_escape(config)
            << "</pre></section>\n";
    // "</" cannot appear inside a script element: JSON allows "\/" for "/".
    std::string embedded = model.dump();
    for (std::size_t at = 0; (at = embedded.find("</", at)) != std::string::npos; at += 3)
        embedded.replace(at, 2, "<\\/");
    out << "<footer><p id=\"embedded\" class=\"note\"></p></footer>\n"
        << "<script type=\"application/json\" id=\"dbn-model\">" << embedded << "</script>\n"
        << "<script>" << script << "</script>\n</body></html>\n";
    return out.str();
}

}  // namespace dbn::cli
