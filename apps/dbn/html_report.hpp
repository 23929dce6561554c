#pragma once

// The page of `dbn report`: one self-contained HTML file (styles inline, pictures embedded as
// data: URLs, nothing fetched) rendered from the JSON of `dbn info --json`, so that the page
// and the JSON cannot disagree. The JSON itself is embedded too (a script element of type
// application/json, id "dbn-model") for programs that read the page.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dbn::cli {

/// @brief A picture of the page: a PNG file's bytes under a title and a caption.
struct ReportFigure {
    std::string id;  ///< the HTML id of its section ("filters", "samples", "curves")
    std::string title;
    std::string caption;
    std::string png;  ///< the file's bytes
};

/// @brief The figures of a labelled data set run through the model (`dbn report --data`).
struct ReportEvaluation {
    std::string data;  ///< the SPEC, as given
    /// {"rows", "accuracy", "classes", "confusion_matrix"} for a classifier, {"rows",
    /// "reconstruction_error"} for an autoencoder.
    nlohmann::json figures;
};

/// @brief The page: `model` is model_json() of the file; `config` the configuration it was
/// trained from (JSON text, may be empty).
std::string html_report(const nlohmann::json& model, const std::string& config,
                        const std::vector<ReportFigure>& figures,
                        const ReportEvaluation* evaluation);

/// @brief `text` with &, <, >, " and ' escaped for HTML text and attribute values.
std::string html_escape(const std::string& text);

/// @brief Standard base64 (RFC 4648, with padding) of `bytes`.
std::string base64(const std::string& bytes);

}  // namespace dbn::cli
