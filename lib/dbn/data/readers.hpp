#pragma once

// Internal to the data module (not part of the API). Each file format has one reader, a
// RowSource: idx_reader.cpp, csv_reader.cpp, hdf5_reader.cpp. open_row_source() hands them out
// for streaming; the whole-file readers of dataset.hpp drain them with read_all(), so that both
// give the same values, labels and errors.

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "dbn/data/dataset.hpp"
#include "dbn/data/row_source.hpp"

namespace dbn::data::detail {

/// @brief The SPEC forms, for the message about one that is none of them.
inline constexpr const char* k_spec_forms =
    "an IDX file (*-ubyte or *.idx, optionally .gz), a *.csv file (also .tsv, .txt, each "
    "optionally .gz), a NumPy *.npy file, file.h5:/dataset "
    "(also .hdf5), bars-and-stripes:N, or ising:L=SIDE,T=TEMPERATURE,n=COUNT,seed=SEED";

enum class SpecKind { idx, csv, hdf5, npy, unknown };

struct ParsedSpec {
    SpecKind kind = SpecKind::unknown;
    std::string path;    ///< the file
    std::string object;  ///< the HDF5 dataset path
};

/// @brief Tells a file SPEC's format by its name (`bars-and-stripes:N` is open_row_source's).
/// @throws FormatError for an HDF5 file without a dataset path.
ParsedSpec parse_spec(const std::string& spec);

/// @brief An IDX file, raw or gzip. With `sibling_labels`, the labels file beside images
/// (`*-images-idx3-ubyte` -> `*-labels-idx1-ubyte`), when there is one, comes along.
std::unique_ptr<RowSource> open_idx(const std::string& path, bool sibling_labels);
/// @brief The labels file beside IDX images (`*-images-idx3-ubyte` -> `*-labels-idx1-ubyte`,
/// either compression), when there is one; "" otherwise.
std::string idx_sibling_labels(const std::string& images);
/// @brief A numeric CSV file; its source() is `path`.
std::unique_ptr<RowSource> open_csv(const std::string& path, const CsvOptions& options);
/// @brief A numeric HDF5 dataset, and a `labels` dataset beside it when there is one; its
/// source() is `path:dataset`.
std::unique_ptr<RowSource> open_hdf5(const std::string& path, const std::string& dataset);

/// @brief A NumPy .npy file (numpy.save): float, integer or bool values, C or Fortran order;
/// every dimension after the first is flattened into columns. Its source() is `path`.
std::unique_ptr<RowSource> open_npy(const std::string& path);
/// @brief Integer labels from a one-dimensional .npy file (or one of shape (N, 1)).
Labels read_npy_labels(const std::string& path);

/// @brief Every remaining row of `source` as one Dataset named after source().
Dataset read_all(RowSource& source);

inline bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// @brief strerror(err); gzopen can fail without setting errno (out of memory inside zlib).
inline std::string errno_text(int err) { return err != 0 ? std::strerror(err) : "unknown error"; }

}  // namespace dbn::data::detail
