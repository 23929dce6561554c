#include <algorithm>

#include "dbn/core/error.hpp"
#include "dbn/units/bernoulli_units.hpp"
#include "dbn/units/gaussian_units.hpp"
#include "dbn/units/nrelu_units.hpp"
#include "dbn/units/units.hpp"

// The one table of unit families: a new family is a class in its own file plus a line here
// (and a UnitType tag).

namespace dbn {

const std::vector<const Units*>& unit_families() {
    // Function-local statics: usable from other static initializers (an Rbm at namespace scope).
    static const BernoulliUnits bernoulli;
    static const GaussianUnits gaussian;
    static const NReluUnits relu;
    static const std::vector<const Units*> all = {&bernoulli, &gaussian, &relu};
    return all;
}

const Units& units(UnitType t) {
    for (const Units* u : unit_families()) {
        if (u->type() == t) return *u;
    }
    DBN_CHECK(false, ConfigError, "units: unknown unit type " << static_cast<int>(t));
    return *unit_families().front();
}

const Units* find_units(const std::string& name) {
    for (const Units* u : unit_families()) {
        if (name == u->name()) return u;
    }
    return nullptr;
}

const char* to_string(UnitType t) { return units(t).name(); }

const char* to_string(UnitSide s) { return s == UnitSide::visible ? "visible" : "hidden"; }

UnitType parse_unit_type(const std::string& name, const std::string& what) {
    for (const Units* u : unit_families()) {
        const std::vector<std::string> aliases = u->aliases();
        if (name == u->name() || std::find(aliases.begin(), aliases.end(), name) != aliases.end())
            return u->type();
    }
    DBN_CHECK(false, ConfigError,
              what << ": unknown unit type " << quote_input(name) << " (expected " << unit_names()
                   << ")");
    return UnitType::bernoulli;
}

std::string unit_names(const std::function<bool(const Units&)>& keep) {
    std::vector<std::string> names;
    for (const Units* u : unit_families()) {
        if (keep(*u)) names.push_back(std::string("\"") + u->name() + "\"");
    }
    std::string text;
    for (std::size_t k = 0; k < names.size(); ++k) {
        if (k > 0) text += k + 1 == names.size() ? " or " : ", ";
        text += names[k];
    }
    return text;
}

std::string unit_names() {
    return unit_names([](const Units&) { return true; });
}

std::string unit_names(UnitSide side) {
    return unit_names([side](const Units& u) { return u.allowed(side); });
}

void check_unit_side(UnitType t, UnitSide side, const std::string& what) {
    DBN_CHECK(units(t).allowed(side), ConfigError,
              what << ": " << to_string(side) << " units must be " << unit_names(side) << " (got \""
                   << to_string(t) << "\")");
}

bool swappable(UnitType t) {
    const Units& u = units(t);
    return u.allowed(UnitSide::visible) && u.allowed(UnitSide::hidden);
}

}  // namespace dbn
