#include "dbn/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "dbn/core/error.hpp"
#include "dbn/data/readers.hpp"
#include "dbn/data/row_source.hpp"

// The readers of each format are in idx_reader.cpp, csv_reader.cpp and hdf5_reader.cpp.

namespace dbn::data {
namespace {

/// Labels from a one-column float matrix (the HDF5 reader's output) whose values are integers.
Labels to_labels(const Matrix& x, const std::string& source) {
    DBN_CHECK(x.dimension() == 2 && x.shape(1) == 1, FormatError,
              source << ": labels must be one-dimensional (got " << x.shape(1) << " columns)");
    Labels labels = Labels::from_shape({x.shape(0)});
    for (std::size_t i = 0; i < x.shape(0); ++i) {
        const double v = x(i, 0);
        DBN_CHECK(std::isfinite(v) && v == std::floor(v) &&
                      v >= std::numeric_limits<std::int32_t>::min() &&
                      v <= std::numeric_limits<std::int32_t>::max(),
                  FormatError, source << ": label " << i << " is not an integer (" << v << ")");
        labels(i) = static_cast<std::int32_t>(v);
    }
    return labels;
}

}  // namespace

Dataset read_dataset(const std::string& spec, const CsvOptions& csv) {
    return detail::read_all(*open_row_source(spec, csv));
}

Dataset first_rows(const Dataset& d, std::size_t n) {
    if (n == 0 || n >= d.size()) return d;
    Dataset out;
    out.source = d.source;
    out.sample_shape = d.sample_shape;
    out.x = Matrix::from_shape({n, d.n_features()});
    std::copy(d.x.data(), d.x.data() + n * d.n_features(), out.x.data());
    if (d.has_labels()) {
        out.labels = Labels::from_shape({n});
        std::copy(d.labels.data(), d.labels.data() + n, out.labels.data());
    }
    return out;
}

Dataset first_rows(Dataset&& d, std::size_t n) {
    if (n == 0 || n >= d.size()) return std::move(d);
    return first_rows(static_cast<const Dataset&>(d), n);
}

Labels read_labels(const std::string& spec, const CsvOptions& csv) {
    const detail::ParsedSpec p = detail::parse_spec(spec);
    switch (p.kind) {
        case detail::SpecKind::hdf5:
            return to_labels(read_hdf5(p.path, p.object).x, spec);
        case detail::SpecKind::idx:
            return read_idx_labels(p.path);
        case detail::SpecKind::npy:
            return detail::read_npy_labels(p.path);
        case detail::SpecKind::csv: {
            CsvOptions options = csv;
            const bool named =
                !csv.label_name.empty() || csv.label_column != CsvOptions::no_label_column;
            options.no_labels = false;
            if (!named) options.label_column = 0;
            Dataset d = read_csv(p.path, options);
            DBN_CHECK(named || d.n_features() == 0, FormatError,
                      spec << ": a labels file needs one column (got " << d.n_features() + 1
                           << "); name the label column");
            return std::move(d.labels);
        }
        case detail::SpecKind::unknown:
            break;
    }
    throw FormatError(spec + ": unrecognised labels file; expected " + detail::k_spec_forms);
}

void check_finite(const Matrix& x, const std::string& source) {
    const Real* p = x.data();
    const std::size_t n = x.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(p[i])) {
            const std::size_t cols = x.shape(1);
            throw FormatError(source + ": " + (std::isnan(p[i]) ? "NaN" : "infinite") +
                              " value at row " + std::to_string(i / cols) + ", column " +
                              std::to_string(i % cols));
        }
    }
}

}  // namespace dbn::data
