#include "dbn/pretrain/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "dbn/core/error.hpp"
#include "dbn/core/limits.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/estimate/ais.hpp"
#include "dbn/estimate/exact_log_partition.hpp"
#include "dbn/estimate/stack_evaluation.hpp"
#include "dbn/model/record_fields.hpp"

namespace dbn {

const std::map<std::string, std::set<std::string>>& config_keys() {
    static const std::map<std::string, std::set<std::string>> keys = [] {
        std::map<std::string, std::set<std::string>> k;
        k["top"] = {"name",
                    "seed",
                    "input",
                    "defaults",
                    "layers",
                    "checks",
                    "comment",
                    "heldout_fraction",
                    "checkpoint_every",
                    "checkpoint_seconds"};
        k["input"] = {"units", "scale",        "binarize", "standardize",
                      "sigma", "label_column", "delimiter"};
        k["checks"] = {"enabled",    "log_z", "exact_max_units", "ais_runs",   "ais_steps",
                       "dlogz",      "seed",  "max_rows",        "path_steps", "target_width",
                       "time_budget"};
        // A layer object: the training settings (their field table) and the layer's own keys.
        k["layer"] = {"guide", "hidden", "hidden_units", "hook", "init"};
        for (const auto& f : fields_of<LayerTrainingConfig>())
            if (f.used_in(in_config)) k["layer"].insert(f.name);
        k["guide"] = {"every", "patience", "path_steps"};
        return k;
    }();
    return keys;
}

namespace {

using json = nlohmann::json;

const std::set<std::string>& layer_keys() { return config_keys().at("layer"); }

void check_keys(const json& obj, const std::set<std::string>& allowed, const std::string& where);
std::size_t get_count(const json& obj, const char* key, std::size_t fallback,
                      const std::string& where);

/// "guide": "bound" (the defaults), "none", or {"every": N, "patience": N, "path_steps": N}.
GuideSpec read_guide(const json& g, std::size_t k, const LayerSpec& spec,
                     const std::string& where) {
    GuideSpec guide;
    if (g.is_string()) {
        const std::string name = g.get<std::string>();
        DBN_CHECK(name == "bound" || name == "none", ConfigError,
                  where << ": must be \"bound\", \"none\" or an object of settings (got "
                        << quote_input(name) << ")");
        guide.enabled = name == "bound";
    } else {
        DBN_CHECK(g.is_object(), ConfigError,
                  where << ": must be \"bound\", \"none\" or an object of settings (got "
                        << shortened(g.dump()) << ")");
        check_keys(g, config_keys().at("guide"), where);
        guide.enabled = true;
        guide.every = get_count(g, "every", guide.every, where);
        guide.patience = get_count(g, "patience", guide.patience, where);
        guide.path_steps = get_count(g, "path_steps", guide.path_steps, where);
        DBN_CHECK(guide.every >= 1 && guide.patience >= 1 && guide.path_steps >= 1, ConfigError,
                  where << ": every, patience and path_steps must be at least 1");
    }
    if (guide.enabled)
        DBN_CHECK(k > 0 && spec.init == "turned_over", ConfigError,
                  where << ": bound-guided training estimates D from the layer below turned "
                           "over, so it needs \"init\": \"turned_over\""
                        << (k == 0 ? " (and layer 0 has no layer below)" : ""));
    return guide;
}

/// Where a key that is not allowed somewhere may go instead ("" for a key known nowhere).
std::string home_of(const std::string& key) {
    const auto& keys = config_keys();
    const auto in = [&](const char* section) { return keys.at(section).count(key) > 0; };
    static const std::set<std::string> layer_only = {"hidden", "hook", "init", "guide"};
    std::string homes;
    auto add = [&](const char* h) { homes += (homes.empty() ? "" : ", or ") + std::string(h); };
    if (in("top")) add("at the top level");
    if (in("input")) add("under \"input\"");
    if (in("checks")) add("under \"checks\"");
    if (layer_only.count(key)) add("in a layer object (\"layers\": [{...}]) only");
    if (!layer_only.count(key) && in("layer")) add("under \"defaults\" or in a layer");
    if (in("guide")) add("in a layer's \"guide\" object");
    return homes;
}

/// Edits (insertions, deletions, substitutions) that turn `a` into `b`, ignoring case.
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                              std::tolower(static_cast<unsigned char>(b[j - 1]));
            const std::size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + !same});
            diagonal = row[j];
            row[j] = next;
        }
    }
    return row[b.size()];
}

/// The allowed key a mistyped one most likely meant ("hiden", "n_hidden", "Epochs"): the
/// nearest within a third of its length in edits, or one it contains or that contains it; ""
/// when none is close. Keys of more than 64 characters are no typo of a key.
std::string nearest_key(const std::string& key, const std::set<std::string>& allowed) {
    if (key.size() > 64) return "";
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(1, key.size() / 3) + 1;
    for (const std::string& k : allowed) {
        std::size_t d = edit_distance(key, k);
        const bool nested =
            k.size() >= 3 && (key.find(k) != std::string::npos ||
                              (key.size() >= 3 && k.find(key) != std::string::npos));
        if (nested) d = std::min<std::size_t>(d, 1);
        if (d < best_distance) {
            best = k;
            best_distance = d;
        }
    }
    return best;
}

void check_keys(const json& obj, const std::set<std::string>& allowed, const std::string& where) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        if (allowed.count(it.key())) continue;
        const std::string home = home_of(it.key());
        const std::string near = home.empty() ? nearest_key(it.key(), allowed) : "";
        DBN_CHECK(false, ConfigError,
                  where << ": unknown key " << quote_input(it.key())
                        << (home.empty() ? "" : " here: it belongs " + home)
                        << (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
    }
}

double get_number(const json& obj, const char* key, double fallback, const std::string& where) {
    if (!obj.contains(key)) return fallback;
    const json& v = obj.at(key);
    DBN_CHECK(v.is_number(), ConfigError,
              where << ": \"" << key << "\" must be a number (got " << shortened(v.dump()) << ")");
    return v.get<double>();
}

std::size_t get_count(const json& obj, const char* key, std::size_t fallback,
                      const std::string& where) {
    if (!obj.contains(key)) return fallback;
    const json& v = obj.at(key);
    // nlohmann keeps a literal beyond int64 as unsigned, beyond uint64 as a double (refused).
    DBN_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<long long>() >= 0),
              ConfigError,
              where << ": \"" << key << "\" must be a non-negative integer (got "
                    << shortened(v.dump()) << ")");
    return static_cast<std::size_t>(v.get<std::uint64_t>());
}

bool get_bool(const json& obj, const char* key, bool fallback, const std::string& where) {
    if (!obj.contains(key)) return fallback;
    const json& v = obj.at(key);
    DBN_CHECK(
        v.is_boolean(), ConfigError,
        where << ": \"" << key << "\" must be true or false (got " << shortened(v.dump()) << ")");
    return v.get<bool>();
}

std::string get_string(const json& obj, const char* key, const std::string& fallback,
                       const std::string& where) {
    if (!obj.contains(key)) return fallback;
    const json& v = obj.at(key);
    DBN_CHECK(v.is_string(), ConfigError,
              where << ": \"" << key << "\" must be a string (got " << shortened(v.dump()) << ")");
    return v.get<std::string>();
}

// Reads the training settings of `obj` on top of `c` (the defaults), through their field table.
LayerTrainingConfig read_training(const json& obj, LayerTrainingConfig c,
                                  const std::string& where) {
    for (const auto& f : fields_of<LayerTrainingConfig>()) {
        if (!f.used_in(in_config) || !f.set || !obj.contains(f.name)) continue;
        FieldValue v;
        switch (f.kind) {
            case FieldKind::count:
                v = static_cast<std::uint64_t>(get_count(obj, f.name, 0, where));
                break;
            case FieldKind::real:
                v = get_number(obj, f.name, 0.0, where);
                break;
            case FieldKind::flag:
                v = get_bool(obj, f.name, false, where);
                break;
            case FieldKind::text:
            case FieldKind::choice:
                v = get_string(obj, f.name, "", where);
                break;
        }
        f.set(c, v, where + "." + f.name);
    }
    return c;
}

json parse_config_json(const std::string& json_text, const std::string& source) {
    // The callback sees every value as it is parsed: it refuses nesting deeper than the limit
    // (serializing the configuration into the model recurses once per level) and a key given
    // twice in one object (nlohmann would keep the last one silently).
    std::vector<std::set<std::string>> open_objects;
    const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start ||
            event == json::parse_event_t::array_start) {
            DBN_CHECK(static_cast<std::size_t>(depth) < k_max_config_depth, ConfigError,
                      source << ": JSON nested deeper than " << k_max_config_depth
                             << " levels of objects and lists (the limit)");
        }
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        if (event == json::parse_event_t::object_end && !open_objects.empty())
            open_objects.pop_back();
        if (event == json::parse_event_t::key && !open_objects.empty()) {
            const std::string key = parsed.get<std::string>();
            DBN_CHECK(open_objects.back().insert(key).second, ConfigError,
                      source << ": key " << quote_input(key)
                             << " appears twice in the same object (which one is meant?)");
        }
        return true;
    };
    try {
        return json::parse(json_text, check);
    } catch (const json::exception& e) {
        // nlohmann's message starts with "[json.exception.parse_error.101] "; drop that prefix,
        // keep the position. Number overflow (1e400) comes as out_of_range.406.
        std::string what = e.what();
        const auto pos = what.find("] ");
        DBN_CHECK(false, ConfigError,
                  source << ": not valid JSON: "
                         << shortened(pos == std::string::npos ? what : what.substr(pos + 2)));
    }
}

}  // namespace

DbnConfig parse_dbn_config(const std::string& json_text, const std::string& source) {
    const json root = parse_config_json(json_text, source);
    DBN_CHECK(root.is_object(), ConfigError, source << ": the configuration must be a JSON object");
    check_keys(root, config_keys().at("top"), source);

    DbnConfig cfg;
    cfg.source = source;
    cfg.json = root.dump(2);
    cfg.name = get_string(root, "name", "", source);
    if (root.contains("seed")) {
        const json& s = root.at("seed");
        DBN_CHECK(s.is_number_unsigned() || (s.is_number_integer() && s.get<long long>() >= 0),
                  ConfigError,
                  source << ": \"seed\" must be a non-negative integer (got " << shortened(s.dump())
                         << ")");
        cfg.seed = s.get<std::uint64_t>();
    }
    cfg.heldout_fraction = get_number(root, "heldout_fraction", cfg.heldout_fraction, source);
    DBN_CHECK(
        cfg.heldout_fraction >= 0.0 && cfg.heldout_fraction < 1.0, ConfigError,
        source << ": \"heldout_fraction\" must be in [0, 1) (got " << cfg.heldout_fraction << ")");

    cfg.checkpoint_every = get_count(root, "checkpoint_every", cfg.checkpoint_every, source);
    cfg.checkpoint_seconds = get_number(root, "checkpoint_seconds", cfg.checkpoint_seconds, source);
    DBN_CHECK(std::isfinite(cfg.checkpoint_seconds) && cfg.checkpoint_seconds >= 0.0, ConfigError,
              source << ": \"checkpoint_seconds\" must be a number of seconds >= 0 (got "
                     << cfg.checkpoint_seconds << ")");

    if (root.contains("input")) {
        const json& in = root.at("input");
        const std::string where = source + ": input";
        DBN_CHECK(in.is_object(), ConfigError, where << ": must be an object");
        check_keys(in, config_keys().at("input"), where);
        if (in.contains("label_column")) {
            const json& l = in.at("label_column");
            DBN_CHECK(l.is_string() || l.is_number_integer(), ConfigError,
                      where << ".label_column: must be a header name, a column index or \"none\" "
                               "(got "
                            << shortened(l.dump()) << ")");
            cfg.input.label_column =
                l.is_string() ? l.get<std::string>() : std::to_string(l.get<long long>());
            DBN_CHECK(!cfg.input.label_column.empty(), ConfigError,
                      where << ".label_column: empty (a header name, a column index or \"none\")");
        }
        if (in.contains("delimiter")) {
            cfg.input.delimiter = get_string(in, "delimiter", "", where);
            data::CsvOptions check;
            data::set_delimiter(check, cfg.input.delimiter);  // refused here, not at read time
        }
        cfg.input.units = parse_unit_type(
            get_string(in, "units", to_string(UnitType::bernoulli), where), where + ".units");
        DBN_CHECK(units(cfg.input.units).allowed(UnitSide::visible), ConfigError,
                  where << ".units: input units must be " << unit_names(UnitSide::visible));
        if (in.contains("scale")) {
            const json& s = in.at("scale");
            if (s.is_string()) {
                DBN_CHECK(s.get<std::string>() == "auto", ConfigError,
                          where << ".scale: must be a positive number or \"auto\" (got "
                                << shortened(s.dump()) << ")");
                cfg.input.scale = 0.0f;
            } else {
                // Stored as a float: 1e300 would become inf and 1e-50 zero (which means "auto").
                DBN_CHECK(s.is_number() && s.get<double>() >= k_min_scale &&
                              s.get<double>() <= k_max_scale,
                          ConfigError,
                          where << ".scale: must be a positive number in [" << compact(k_min_scale)
                                << ", " << compact(k_max_scale) << "] or \"auto\" (got "
                                << shortened(s.dump()) << ")");
                cfg.input.scale = s.get<float>();
            }
        }
        if (in.contains("binarize") && !in.at("binarize").is_null()) {
            const json& b = in.at("binarize");
            DBN_CHECK(b.is_number() || b.is_boolean(), ConfigError,
                      where << ".binarize: a threshold in (0, 1), true (0.5), false or null (got "
                            << shortened(b.dump()) << ")");
            if (b.is_boolean()) {
                cfg.input.binarize = b.get<bool>();
            } else {
                cfg.input.binarize = true;
                cfg.input.threshold = b.get<float>();
                DBN_CHECK(cfg.input.threshold > 0.0f && cfg.input.threshold < 1.0f, ConfigError,
                          where << ".binarize: threshold must be in (0, 1) (got "
                                << shortened(b.dump()) << ")");
            }
        }
        cfg.input.standardize = get_bool(in, "standardize", false, where);
        cfg.input.sigma = get_string(in, "sigma", "unit", where);
        DBN_CHECK(cfg.input.sigma == "unit" || cfg.input.sigma == "data", ConfigError,
                  where << ".sigma: must be \"unit\" or \"data\" (got "
                        << quote_input(cfg.input.sigma) << ")");
        DBN_CHECK(!(cfg.input.binarize && cfg.input.standardize), ConfigError,
                  where << ": binarize and standardize exclude each other");
    }

    if (root.contains("checks")) {
        const json& c = root.at("checks");
        const std::string where = source + ": checks";
        DBN_CHECK(c.is_object(), ConfigError, where << ": must be an object");
        check_keys(c, config_keys().at("checks"), where);
        CheckConfig& k = cfg.checks;
        k.enabled = get_bool(c, "enabled", k.enabled, where);
        k.log_z = get_string(c, "log_z", k.log_z, where);
        DBN_CHECK(k.log_z == "auto" || k.log_z == "exact" || k.log_z == "ais", ConfigError,
                  where << ".log_z: must be \"auto\", \"exact\" or \"ais\" (got "
                        << quote_input(k.log_z) << ")");
        k.exact_max_units = get_count(c, "exact_max_units", k.exact_max_units, where);
        DBN_CHECK(k.exact_max_units <= estimate::k_max_enumerated_units, ConfigError,
                  where << ".exact_max_units: at most " << estimate::k_max_enumerated_units
                        << " (2^" << estimate::k_max_enumerated_units << " states; got "
                        << k.exact_max_units << ")");
        k.ais_runs = get_count(c, "ais_runs", k.ais_runs, where);
        DBN_CHECK(k.ais_runs >= 2 && k.ais_runs <= k_max_ais_runs, ConfigError,
                  where << ".ais_runs: must be in [2, " << k_max_ais_runs << "] (got " << k.ais_runs
                        << ")");
        if (c.contains("ais_steps")) {
            const json& st = c.at("ais_steps");
            DBN_CHECK(st.is_string() || st.is_number_unsigned(), ConfigError,
                      where << ".ais_steps: \"default\", \"quick\" or a number of steps (got "
                            << st.dump() << ")");
            k.ais_steps =
                st.is_string() ? st.get<std::string>() : std::to_string(st.get<std::uint64_t>());
            try {
                estimate::parse_ais_steps(k.ais_steps);
            } catch (const ConfigError& e) {
                DBN_CHECK(false, ConfigError, where << ".ais_steps: " << e.what());
            }
        }
        k.dlogz = get_string(c, "dlogz", k.dlogz, where);
        estimate::parse_delta_log_z_method(k.dlogz, where + ".dlogz");
        k.path_steps = get_count(c, "path_steps", k.path_steps, where);
        DBN_CHECK(k.path_steps >= 1, ConfigError,
                  where << ".path_steps: at least 1 step is needed");
        if (c.contains("seed")) k.seed = get_count(c, "seed", 0, where);
        k.max_rows = get_count(c, "max_rows", k.max_rows, where);
        k.target_width = get_number(c, "target_width", k.target_width, where);
        DBN_CHECK(k.target_width >= 0.0 && k.target_width <= k_max_run_target, ConfigError,
                  where << ".target_width: nats, in [0, 1e6]; 0 adds no runs (got "
                        << k.target_width << ")");
        k.time_budget = get_number(c, "time_budget", k.time_budget, where);
        DBN_CHECK(k.time_budget >= 0.0 && k.time_budget <= k_max_run_target, ConfigError,
                  where << ".time_budget: seconds, in [0, 1e6]; 0 sets no limit (got "
                        << k.time_budget << ")");
    }

    LayerTrainingConfig defaults;
    if (root.contains("defaults")) {
        const json& d = root.at("defaults");
        const std::string where = source + ": defaults";
        DBN_CHECK(d.is_object(), ConfigError, where << ": must be an object");
        // "hidden", "hook", "init" and "guide" belong to one layer each, not to every layer.
        std::set<std::string> keys = layer_keys();
        for (const char* k : {"hidden", "hook", "init", "guide"}) keys.erase(k);
        check_keys(d, keys, where);
        defaults = read_training(d, defaults, where);  // "hidden_units" is read per layer
        // Said here, naming "defaults", rather than at the first layer that inherits it (as
        // "layers[0]: learning_rate ..." when the mistake is in "defaults").
        defaults.validate(where);
    }

    DBN_CHECK(root.contains("layers") && root.at("layers").is_array() && !root.at("layers").empty(),
              ConfigError, source << ": \"layers\" must be a non-empty list");
    const json& layers = root.at("layers");
    for (std::size_t k = 0; k < layers.size(); ++k) {
        const json& l = layers.at(k);
        const std::string where = source + ": layers[" + std::to_string(k) + "]";
        DBN_CHECK(l.is_object(), ConfigError, where << ": must be an object");
        check_keys(l, layer_keys(), where);
        LayerSpec spec;
        spec.n_hidden = get_count(l, "hidden", 0, where);
        DBN_CHECK(spec.n_hidden > 0, ConfigError,
                  where << ": \"hidden\" (the number of hidden units) must be a positive integer");
        const std::string bernoulli = to_string(UnitType::bernoulli);
        const std::string default_units =
            root.contains("defaults")
                ? get_string(root.at("defaults"), "hidden_units", bernoulli, where)
                : bernoulli;
        spec.hidden = parse_unit_type(get_string(l, "hidden_units", default_units, where),
                                      where + ".hidden_units");
        DBN_CHECK(units(spec.hidden).allowed(UnitSide::hidden), ConfigError,
                  where << ".hidden_units: hidden units must be " << unit_names(UnitSide::hidden));
        spec.train = read_training(l, defaults, where);
        spec.init = get_string(l, "init", "random", where);
        DBN_CHECK(spec.init == "random" || spec.init == "turned_over", ConfigError,
                  where << ".init: must be \"random\" or \"turned_over\" (got "
                        << quote_input(spec.init) << ")");
        if (spec.init == "turned_over") {
            // The sizes are checked when training starts (layer 0's visible size is the data's).
            DBN_CHECK(k > 0, ConfigError,
                      where << ".init: layer 0 has no layer below to turn over");
            DBN_CHECK(
                swappable(cfg.layers[k - 1].hidden) && swappable(spec.hidden) &&
                    cfg.layers[k - 1].hook == "none",
                ConfigError,
                where
                    << ".init: \"turned_over\" needs Bernoulli hidden units in this layer and the "
                       "one below, and no hook between them");
        }
        if (l.contains("hook")) {
            const json& h = l.at("hook");
            if (h.is_string()) {
                spec.hook = h.get<std::string>();
            } else {
                DBN_CHECK(
                    h.is_object() && h.contains("kind") && h.at("kind").is_string(), ConfigError,
                    where << ".hook: a hook name or {\"kind\": NAME, option: number, ...} (got "
                          << shortened(h.dump()) << ")");
                for (auto it = h.begin(); it != h.end(); ++it) {
                    if (it.key() == "kind") continue;
                    DBN_CHECK(
                        it.value().is_number(), ConfigError,
                        where << ".hook: option " << quote_input(it.key()) << " must be a number");
                    spec.hook_options[it.key()] = it.value().get<double>();
                }
                spec.hook = h.at("kind").get<std::string>();
            }
            if (spec.hook != "none") {
                DBN_CHECK(k + 1 < layers.size(), ConfigError,
                          where << ".hook: the top layer has no layer above it to normalize for");
                try {
                    make_hook(spec.hook, spec.hook_options);
                } catch (const ConfigError& e) {
                    DBN_CHECK(false, ConfigError, where << ".hook: " << e.what());
                }
            }
        }
        if (l.contains("guide")) spec.guide = read_guide(l.at("guide"), k, spec, where + ".guide");
        spec.train.validate(where);
        cfg.layers.push_back(spec);
    }
    // Known before any layer trains, so said now rather than after the layers below it.
    for (std::size_t k = 0; k < cfg.layers.size(); ++k)
        DBN_CHECK(!cfg.layers[k].guide.enabled || cfg.checks.dlogz != "independent", ConfigError,
                  source << ": layers[" << k
                         << "].guide: bound-guided training estimates dlogZ along the turned-over "
                            "path, which \"checks\": {\"dlogz\": \"independent\"} turns off");
    // The least any data needs (one visible unit, no rows): a layer of 10^12 hidden units is
    // refused here, before the data is read.
    check_memory(cfg, 1, 0);
    return cfg;
}

namespace {

/// layer_training_bytes() with `batch` rows per minibatch and `chains` negative rows.
double training_bytes(double nv, double nh, double rows, double batch, double chains) {
    const double params = 3.0 * (nv + 1.0) * (nh + 1.0);
    const double buffers = 2.0 * (batch + chains) * (nv + nh + 2.0);
    const double data = rows * (nv + nh);
    return 4.0 * (params + buffers + data);
}

struct LayerShape {
    std::size_t n_in;
    double batch, chains;
};

LayerShape layer_shape(const DbnConfig& config, std::size_t k, std::size_t n_visible,
                       std::size_t n_rows) {
    const LayerSpec& spec = config.layers.at(k);
    LayerShape s;
    s.n_in = k > 0 ? config.layers[k - 1].n_hidden : n_visible;
    s.batch = static_cast<double>(spec.train.batch_size);
    if (n_rows > 0) s.batch = std::min(s.batch, static_cast<double>(n_rows));
    s.chains = s.batch;
    if (spec.train.algorithm == Algorithm::pcd && spec.train.persistent_chains > 0)
        s.chains = static_cast<double>(spec.train.persistent_chains);
    if (spec.train.algorithm == Algorithm::exact)
        s.chains = std::ldexp(1.0, static_cast<int>(std::min<std::size_t>(s.n_in, 64)));
    return s;
}

}  // namespace

double layer_training_bytes(const DbnConfig& config, std::size_t k, std::size_t n_visible,
                            std::size_t n_rows) {
    const LayerShape s = layer_shape(config, k, n_visible, n_rows);
    return training_bytes(static_cast<double>(s.n_in),
                          static_cast<double>(config.layers[k].n_hidden),
                          static_cast<double>(n_rows), s.batch, s.chains);
}

void check_memory(const DbnConfig& config, std::size_t n_visible, std::size_t n_rows) {
    const std::string source = config.source.empty() ? "configuration" : config.source;
    for (std::size_t k = 0; k < config.layers.size(); ++k) {
        const LayerSpec& spec = config.layers[k];
        const LayerShape s = layer_shape(config, k, n_visible, n_rows);
        const double nv = static_cast<double>(s.n_in);
        const double nh = static_cast<double>(spec.n_hidden);
        const double rows = static_cast<double>(n_rows);
        std::ostringstream layer;
        layer << source << ": layers[" << k << "]";
        std::ostringstream shape;
        if (k == 0 && n_rows == 0)
            shape << "a layer of " << spec.n_hidden << " hidden units";
        else
            shape << "a " << s.n_in << " x " << spec.n_hidden << " layer";
        if (n_rows > 0) shape << " on " << n_rows << " rows";
        // The layer itself, with the smallest batch: too big, and the width is to blame.
        check_memory(training_bytes(nv, nh, rows, 1.0, 1.0),
                     layer.str() + ".hidden: training " + shape.str());
        // Before the data is known (n_rows 0) the batch may yet shrink to the rows there are;
        // explicit persistent chains do not.
        const bool chains = spec.train.algorithm == Algorithm::pcd && s.chains > s.batch;
        if (n_rows == 0 && !chains) continue;
        std::ostringstream what;
        what << layer.str() << (chains ? ".persistent_chains" : ".batch_size") << ": training "
             << shape.str() << " with " << static_cast<std::uint64_t>(chains ? s.chains : s.batch)
             << (chains ? " persistent chains" : " rows per minibatch");
        check_memory(training_bytes(nv, nh, rows, n_rows == 0 ? 1.0 : s.batch, s.chains),
                     what.str());
    }
}

DbnConfig load_dbn_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    DBN_CHECK(in.good(), IoError,
              path << ": cannot open configuration (" << std::strerror(errno) << ")");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_dbn_config(text.str(), path);
}

}  // namespace dbn
