#pragma once

// JSON and text renderings shared by `dbn info` and `dbn eval`. Records are rendered through
// their field tables (dbn/model/record_fields.hpp): the JSON keys are the fields' names.

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dbn/estimate/check_types.hpp"
#include "dbn/finetune/fine_tuned.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/model/record_fields.hpp"

namespace dbn::cli {

/// NaN and infinities are not JSON: figures that do not apply (or an unbounded interval end)
/// become null.
inline nlohmann::json number(double x) {
    return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

/// @brief A field's value as JSON (std::monostate and non-finite numbers are null).
nlohmann::json to_json(const FieldValue& v);

/// @brief The JSON object of a record: its in_json fields (those whose json_if holds), by name.
template <class R>
nlohmann::json record_json(const R& r) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& f : fields_of<R>()) {
        if (!f.used_in(in_json) || (f.json_if && !f.json_if(r))) continue;
        j[f.name] = to_json(f.json_value(r));
    }
    return j;
}

/// @brief A JSON array of records.
template <class R>
nlohmann::json records_json(const std::vector<R>& rs) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : rs) a.push_back(record_json(r));
    return a;
}

/// @brief The table of log Z per layer and checks per pair, as pretraining and eval print it.
/// `of`, when not empty, says whose parameters the figures belong to (dbn info on a fine-tuned
/// file: the pretrained layers), in the headings.
void print_checks(std::ostream& out, const std::vector<estimate::LayerLogZ>& log_z,
                  const std::vector<estimate::ConsistencyCheck>& checks,
                  const std::string& of = "");

/// @brief The fine-tuned part of a model for `dbn info`: JSON and text.
nlohmann::json fine_tuned_json(const finetune::FineTuned& ft);
void print_fine_tuned(std::ostream& out, const finetune::FineTuned& ft);

/// @brief What `dbn info --json` prints for a model file (also the data of `dbn report`).
nlohmann::json model_json(const std::string& path, const ModelFile& m);

}  // namespace dbn::cli
