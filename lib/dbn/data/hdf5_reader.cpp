#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/io/hdf5.hpp"

namespace dbn::data {
namespace {

using io::hdf5::TypeClass;

/// @brief The path of the `labels` dataset beside `dataset` ("/train/x" -> "/train/labels").
std::string sibling_labels(const std::string& dataset) {
    const std::size_t slash = dataset.find_last_of('/');
    if (slash == std::string::npos) return "labels";
    return dataset.substr(0, slash + 1) + "labels";
}

/// @brief Strips repeated and trailing slashes so that "/a//b/" and "/a/b" compare equal.
std::string normalized(const std::string& path) {
    std::string out;
    for (char c : path) {
        if (c == '/' && !out.empty() && out.back() == '/') continue;
        out += c;
    }
    if (out.size() > 1 && out.back() == '/') out.pop_back();
    if (!out.empty() && out.front() != '/') out.insert(out.begin(), '/');
    return out;
}

Labels read_labels_beside(const io::hdf5::File& file, const std::string& spec_prefix,
                          const std::string& path, std::size_t rows) {
    const std::string source = spec_prefix + path;
    DBN_CHECK(file.has_dataset(path), FormatError,
              source << ": is not a dataset (a labels dataset was expected)");
    const io::hdf5::Dataset ds = file.open_dataset(path);
    const auto type = ds.type();
    DBN_CHECK(type.type_class == TypeClass::integer, FormatError,
              source << ": labels must be integers (got " << type.name() << ")");
    const auto shape = ds.shape();
    DBN_CHECK(shape.size() == 1, FormatError,
              source << ": labels must be one-dimensional (got " << shape.size()
                     << " dimensions)");
    DBN_CHECK(shape[0] == rows, FormatError,
              source << ": " << shape[0] << " labels for " << rows << " samples");
    // Read wide and narrow by hand: HDF5 would clip out-of-range values without a word.
    const std::vector<std::int64_t> wide = ds.read<std::int64_t>();
    Labels labels = Labels::from_shape({rows});
    for (std::size_t i = 0; i < rows; ++i) {
        DBN_CHECK(wide[i] >= std::numeric_limits<std::int32_t>::min() &&
                      wide[i] <= std::numeric_limits<std::int32_t>::max(),
                  FormatError, source << ": label " << i << " (" << wide[i]
                                      << ") is out of the int32 range");
        labels(i) = static_cast<std::int32_t>(wide[i]);
    }
    return labels;
}

}  // namespace

Dataset read_hdf5(const std::string& path, const std::string& dataset) {
    const std::string source = path + ":" + dataset;
    const io::hdf5::File file = io::hdf5::File::open(path);  // IoError / FormatError name `path`
    DBN_CHECK(file.has_dataset(dataset), FormatError, source << ": no such dataset");
    const io::hdf5::Dataset ds = file.open_dataset(dataset);

    const auto type = ds.type();
    DBN_CHECK(type.type_class == TypeClass::integer || type.type_class == TypeClass::floating,
              FormatError,
              source << ": holds " << type.name() << " values (expected integers or floats)");
    const auto shape = ds.shape();
    DBN_CHECK(shape.size() == 1 || shape.size() == 2, FormatError,
              source << ": has " << shape.size()
                     << " dimensions (expected 1 or 2: samples, or samples x features)");
    const std::size_t rows = shape[0];
    const std::size_t cols = shape.size() == 2 ? shape[1] : 1;

    Dataset out;
    out.source = source;
    out.x = Matrix::from_shape({rows, cols});
    // HDF5 converts any integer or float type to float32 on the way in.
    ds.read(out.x.data(), out.x.size());
    const Real* x = out.x.data();
    for (std::size_t i = 0; i < out.x.size(); ++i) {
        DBN_CHECK(std::isfinite(x[i]), FormatError,
                  source << ": value at row " << i / cols << ", column " << i % cols << " is "
                         << x[i] << " (data must be finite)");
    }

    const std::string labels_path = sibling_labels(dataset);
    if (normalized(labels_path) != normalized(dataset) && file.exists(labels_path))
        out.labels = read_labels_beside(file, path + ":", labels_path, rows);
    return out;
}

}  // namespace dbn::data
