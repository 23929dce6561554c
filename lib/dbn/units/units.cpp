#include "dbn/units/units.hpp"

#include "dbn/core/error.hpp"

namespace dbn {

const char* to_string(UnitType t) {
    switch (t) {
        case UnitType::bernoulli: return "bernoulli";
        case UnitType::gaussian: return "gaussian";
        case UnitType::relu: return "relu";
    }
    return "unknown";
}

UnitType parse_unit_type(const std::string& name, const std::string& what) {
    if (name == "bernoulli" || name == "binary") return UnitType::bernoulli;
    if (name == "gaussian") return UnitType::gaussian;
    if (name == "relu" || name == "nrelu") return UnitType::relu;
    DBN_CHECK(false, ConfigError,
              what << ": unknown unit type \"" << name
                   << "\" (expected \"bernoulli\", \"gaussian\" or \"relu\")");
    return UnitType::bernoulli;
}

}  // namespace dbn
