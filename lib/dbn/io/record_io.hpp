#pragma once

// The model file's side of the field tables (dbn/model/record_fields.hpp): a record is a group of
// attributes (settings, log Z, checks) or a group of float64 columns, one row per element (the
// per-epoch monitors and histories). Every field of the table used in_file is written and read;
// a field read from a file of the same format version may carry its older name (Field::old_name).
// Used by model_io.cpp and finetune_io.cpp.

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "dbn/model/record_fields.hpp"

namespace dbn::io {

/// @brief Writes every in_file field of `r` as an attribute of `g`.
template <class R>
void write_attributes(hdf5::Group& g, const R& r) {
    for (const auto& f : fields_of<R>()) {
        if (!f.used_in(in_file)) continue;
        const FieldValue v = f.get(r);
        switch (f.kind) {
            case FieldKind::count:
                g.write_uint_attribute(f.name, std::get<std::uint64_t>(v));
                break;
            case FieldKind::real:
                g.write_double_attribute(f.name, std::get<double>(v));
                break;
            case FieldKind::flag:
                g.write_int_attribute(f.name, std::get<bool>(v) ? 1 : 0);
                break;
            case FieldKind::text:
            case FieldKind::choice:
                g.write_string_attribute(f.name, std::get<std::string>(v));
                break;
        }
    }
}

/// @brief Reads every in_file field of a record from the attributes of `g`, under its name or
/// the name it had in older files. `file` names the file in messages.
/// @throws FormatError "<file>: <group>: ..." for a missing attribute, a flag that is not 0 or 1,
///         a wrong type, an unknown choice name.
template <class R>
void read_attributes(const hdf5::Group& g, R& r, const std::string& file) {
    const std::string where = file + ": " + g.path();
    for (const auto& f : fields_of<R>()) {
        if (!f.used_in(in_file) || !f.set) continue;
        std::string name = f.name;
        if (!g.has_attribute(name) && f.old_name && g.has_attribute(f.old_name)) name = f.old_name;
        if (!g.has_attribute(name) && f.optional_in_file) continue;
        if (!g.has_attribute(name))
            throw FormatError(where + ": missing attribute \"" + f.name + "\"");
        FieldValue v;
        switch (f.kind) {
            case FieldKind::count:
                v = g.read_uint_attribute(name);
                break;
            case FieldKind::real:
                v = g.read_double_attribute(name);
                break;
            case FieldKind::flag: {
                const std::int64_t i = g.read_int_attribute(name);
                if (i != 0 && i != 1)
                    throw FormatError(where + ": attribute \"" + name + "\" is " +
                                      std::to_string(i) + " (expected 0 or 1)");
                v = i == 1;
                break;
            }
            case FieldKind::text:
            case FieldKind::choice:
                v = g.read_string_attribute(name);
                break;
        }
        try {
            f.set(r, v, where);
        } catch (const ConfigError& e) {
            throw FormatError(e.what());
        }
    }
}

/// @brief Writes `rows` as one float64 column per in_file field of R (counts as whole numbers),
/// each a dataset of `g` named after its field.
template <class R>
void write_columns(hdf5::Group& g, const std::vector<R>& rows) {
    const std::size_t n = rows.size();
    std::vector<double> column(n);
    for (const auto& f : fields_of<R>()) {
        if (!f.used_in(in_file)) continue;
        for (std::size_t e = 0; e < n; ++e) {
            const FieldValue v = f.get(rows[e]);
            column[e] = f.kind == FieldKind::count ? static_cast<double>(std::get<std::uint64_t>(v))
                                                   : std::get<double>(v);
        }
        g.write_dataset(f.name, column.data(), {n});
    }
}

/// @brief Reads the columns written by write_columns: the first field's column gives the number
/// of rows, every other must have as many.
/// @throws FormatError "<file>: <dataset>: ..." for a missing column, a type other than float64,
///         a rank other than 1, a length that differs from the first column's, a count that is
///         not a non-negative whole number.
template <class R>
std::vector<R> read_columns(const hdf5::Group& g, const std::string& file) {
    std::vector<R> rows;
    std::string first;
    for (const auto& f : fields_of<R>()) {
        if (!f.used_in(in_file) || !f.set) continue;
        const std::string object = g.path() + "/" + f.name;
        auto fail = [&](const std::string& what) {
            throw FormatError(file + ": " + object + ": " + what);
        };
        if (!g.has_dataset(f.name)) fail("missing");
        const hdf5::Dataset ds = g.open_dataset(f.name);
        const hdf5::TypeInfo type = ds.type();
        if (type.type_class != hdf5::TypeClass::floating || type.size != 8)
            fail("dtype " + type.name() + " (expected float64)");
        if (ds.rank() != 1) fail(std::to_string(ds.rank()) + " dimension(s) (expected 1)");
        const std::size_t n = ds.shape()[0];
        if (first.empty()) {
            first = f.name;
            rows.resize(n);
        } else if (n != rows.size()) {
            fail("shape [" + std::to_string(n) + "] does not fit " + first + " [" +
                 std::to_string(rows.size()) + "]");
        }
        const std::vector<double> column = ds.read<double>();
        for (std::size_t e = 0; e < n; ++e) {
            const double x = column[e];
            if (f.kind == FieldKind::count) {
                if (!(std::isfinite(x) && x >= 0.0 && x == std::floor(x) && x < 9.0e15)) {
                    std::ostringstream s;
                    s << "element " << e << " is " << x
                      << " (expected a non-negative whole number)";
                    fail(s.str());
                }
                f.set(rows[e], static_cast<std::uint64_t>(x), object);
            } else {
                f.set(rows[e], x, object);
            }
        }
    }
    return rows;
}

/// @brief Writes the divergence events of a layer as `divergence_events/<i>` below `g`, one group
/// of attributes per event, i = 0, 1, ... (nothing when there are none). Used for a model file's
/// /training/layers/<k> and a checkpoint's trainer group.
inline void write_divergence_events(hdf5::Group& g, const std::vector<DivergenceEvent>& events) {
    if (events.empty()) return;
    hdf5::Group d = g.create_group("divergence_events");
    for (std::size_t i = 0; i < events.size(); ++i) {
        hdf5::Group e = d.create_group(std::to_string(i));
        write_attributes(e, events[i]);
    }
}

/// @brief Reads what write_divergence_events wrote (none when `g` has no `divergence_events`),
/// each event given `layer`. The groups must be numbered 0 .. n-1 without a gap.
/// @throws FormatError "<file>: <group>: ..." for a member that is not such a group, or a bad
///         attribute (as read_attributes).
inline std::vector<DivergenceEvent> read_divergence_events(const hdf5::Group& g, std::size_t layer,
                                                           const std::string& file) {
    std::vector<DivergenceEvent> events;
    if (!g.exists("divergence_events")) return events;
    const std::string where = file + ": " + g.path() + "/divergence_events";
    if (!g.has_group("divergence_events")) throw FormatError(where + ": is not a group");
    const hdf5::Group d = g.open_group("divergence_events");
    const std::size_t n = d.children().size();
    for (std::size_t i = 0; i < n; ++i) {
        const std::string name = std::to_string(i);
        if (!d.has_group(name))
            throw FormatError(where + ": holds " + std::to_string(n) + " members but no group \"" +
                              name + "\" (expected the groups 0.." + std::to_string(n - 1) + ")");
        DivergenceEvent e;
        read_attributes(d.open_group(name), e, file);
        e.layer = layer;
        events.push_back(std::move(e));
    }
    return events;
}

}  // namespace dbn::io
