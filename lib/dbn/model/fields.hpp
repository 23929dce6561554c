#pragma once

// Field tables: one description per field of a record (a struct of settings or figures), which
// every reader and writer of that record walks instead of naming the fields again. The tables
// themselves are in record_fields.hpp; the walkers are the configuration parser
// (pretrain/config.cpp), the model file (io/record_io.hpp), the JSON output of the program
// (apps/dbn/report.hpp) and render_text() below.

#include <algorithm>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace dbn {

/// @brief How a field is stored and shown.
enum class FieldKind {
    count,   ///< non-negative integer: uint64 attribute (float64 in a per-epoch column), JSON
             ///< integer
    real,    ///< double: float64; JSON number, null when NaN or infinite
    flag,    ///< bool: integer attribute 0 or 1; JSON true or false
    text,    ///< string: string attribute; JSON string
    choice,  ///< an enumeration, stored and shown as its name (a string)
};

/// @brief A field's value: std::monostate is JSON null; count is std::uint64_t, real double,
/// flag bool, text and choice std::string. (Never build one from a const char*: C++17's variant
/// would take it for a bool; pass a std::string.)
using FieldValue = std::variant<std::monostate, std::uint64_t, double, bool, std::string>;

/// @brief Where a field appears (a bit set).
enum FieldUse : unsigned {
    /// Derived from the record's position or other fields: no reader or writer sets it.
    in_nothing = 0,
    in_file = 1u,    ///< written to and read from the model file (docs/FORMAT.md)
    in_json = 2u,    ///< `dbn info --json`, `dbn eval --json` (docs/EVAL.md)
    in_config = 4u,  ///< a key of the configuration JSON (docs/CONFIG.md)
};

/// @brief One field of record type R: its one name, kind, uses, documentation and accessors.
template <class R>
struct Field {
    using Getter = FieldValue (*)(const R&);
    /// Sets the field; `where` names it in a ConfigError for a value that does not parse (a
    /// choice's unknown name).
    using Setter = void (*)(R&, const FieldValue&, const std::string& where);
    using Predicate = bool (*)(const R&);

    const char* name;
    FieldKind kind;
    unsigned use;
    const char* doc;
    Getter get;
    Setter set = nullptr;  ///< null for a field computed from others (JSON only)
    /// JSON and text show this instead of get (e.g. the learning rate in use); null: get.
    Getter shown = nullptr;
    /// JSON: the field is left out when this is false; null: always there.
    Predicate json_if = nullptr;
    /// Text: printf format of the field's piece of its one-line rendering, taking the value as
    /// PRIu64 (count), double (real), const char* (text, choice) or int (flag); null: not shown.
    const char* text = nullptr;
    /// Text: the piece is left out when this is false; null: always there.
    Predicate text_if = nullptr;
    /// Text shows this instead of `shown`; null: shown (or get).
    Getter text_shown = nullptr;
    /// A name the field had in older files of the same format version, still read.
    const char* old_name = nullptr;
    /// Files written before the field existed lack it: reading leaves the record's default.
    bool optional_in_file = false;

    // Builders, so that a table entry states only what differs from the defaults.
    Field& shown_as(Getter g) {
        shown = g;
        return *this;
    }
    Field& json_when(Predicate p) {
        json_if = p;
        return *this;
    }
    Field& as_text(const char* format, Predicate when = nullptr, Getter value = nullptr) {
        text = format;
        text_if = when;
        text_shown = value;
        return *this;
    }
    Field& formerly(const char* name_in_older_files) {
        old_name = name_in_older_files;
        return *this;
    }
    Field& added_later() {
        optional_in_file = true;
        return *this;
    }

    bool used_in(FieldUse u) const { return (use & u) != 0; }
    FieldValue json_value(const R& r) const { return shown ? shown(r) : get(r); }
    FieldValue text_value(const R& r) const { return text_shown ? text_shown(r) : json_value(r); }
};

namespace field_detail {

template <class M>
struct member_of;
template <class R, class T>
struct member_of<T R::*> {
    using record = R;
    using type = T;
};

template <class T>
constexpr FieldKind kind_of() {
    if constexpr (std::is_same_v<T, bool>)
        return FieldKind::flag;
    else if constexpr (std::is_same_v<T, double>)
        return FieldKind::real;
    else if constexpr (std::is_same_v<T, std::string>)
        return FieldKind::text;
    else {
        static_assert(std::is_integral_v<T> && std::is_unsigned_v<T>,
                      "a member field is bool, double, std::string or an unsigned count");
        return FieldKind::count;
    }
}

}  // namespace field_detail

/// @brief The field of data member M (`member<&R::k>("k", in_file | in_json, "...")`): kind from
/// the member's type, get and set through the member.
template <auto M>
Field<typename field_detail::member_of<decltype(M)>::record> member(const char* name, unsigned use,
                                                                    const char* doc) {
    using R = typename field_detail::member_of<decltype(M)>::record;
    using T = typename field_detail::member_of<decltype(M)>::type;
    Field<R> f{name, field_detail::kind_of<T>(), use, doc, nullptr};
    f.get = [](const R& r) -> FieldValue {
        if constexpr (field_detail::kind_of<T>() == FieldKind::count)
            return static_cast<std::uint64_t>(r.*M);
        else
            return r.*M;
    };
    f.set = [](R& r, const FieldValue& v, const std::string&) {
        if constexpr (field_detail::kind_of<T>() == FieldKind::count)
            r.*M = static_cast<T>(std::get<std::uint64_t>(v));
        else
            r.*M = std::get<T>(v);
    };
    return f;
}

/// @brief The field named `name` of a table, or null.
template <class R>
const Field<R>* find_field(const std::vector<Field<R>>& table, const std::string& name) {
    for (const auto& f : table)
        if (name == f.name) return &f;
    return nullptr;
}

/// @brief The one-line text of a record: the `text` pieces of its fields in table order (those
/// whose text_if holds and whose name is not in `skip`), each formatted with its value.
template <class R>
std::string render_text(const std::vector<Field<R>>& table, const R& r,
                        const std::vector<std::string>& skip = {}) {
    std::string out;
    // snprintf twice: once for the length, once into the string (notes can be long).
    auto put = [&out](const char* format, auto value) {
        const int n = std::snprintf(nullptr, 0, format, value);
        if (n <= 0) return;
        const std::size_t at = out.size();
        out.resize(at + static_cast<std::size_t>(n) + 1);
        std::snprintf(&out[at], static_cast<std::size_t>(n) + 1, format, value);
        out.resize(at + static_cast<std::size_t>(n));
    };
    for (const auto& f : table) {
        if (!f.text || (f.text_if && !f.text_if(r))) continue;
        if (std::find(skip.begin(), skip.end(), f.name) != skip.end()) continue;
        const FieldValue v = f.text_value(r);
        if (const auto* c = std::get_if<std::uint64_t>(&v))
            put(f.text, *c);
        else if (const auto* d = std::get_if<double>(&v))
            put(f.text, *d);
        else if (const auto* b = std::get_if<bool>(&v))
            put(f.text, int(*b));
        else if (const auto* t = std::get_if<std::string>(&v))
            put(f.text, t->c_str());
        else
            out += "null";
    }
    return out;
}

}  // namespace dbn
