#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace dbn::table {

/// @brief Element type of one output column group.
enum class ColumnType { float32, float64, int64, int32 };

/// @brief One dataset of a table file: `width` columns of `type` (width 1 is a vector [N],
/// written as a 1-D dataset; more is a matrix [N, width]); `headers` names the CSV columns.
struct ColumnGroup {
    std::string name;
    ColumnType type = ColumnType::float32;
    std::size_t width = 1;
    bool matrix = false;  ///< a 2-D dataset [N, width] even when width is 1
    std::vector<std::string> headers;
};

/// @brief Root attributes and small fixed datasets of an HDF5 table file.
struct TableMetadata {
    std::vector<std::pair<std::string, std::string>> strings;
    std::vector<std::pair<std::string, double>> numbers;
    std::vector<std::pair<std::string, std::int64_t>> integers;
    /// Written once as int64 1-D datasets (e.g. /classes).
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> int_datasets;
};

/// @brief Receives chunks of rows: `columns[g]` points to rows x groups[g].width values of the
/// group's type, row-major.
using ChunkSink = std::function<void(std::size_t rows, const std::vector<const void*>& columns)>;

/// @brief Whether `out` names a file write_table can write (.h5, .hdf5, .csv, .npy).
/// @throws ConfigError naming the extensions otherwise.
void check_table_extension(const std::string& out);

/// @brief Writes a table to `out` by its extension, safely: `produce` is called once with a sink
/// to which it hands the rows chunk by chunk; the file is written as a temporary and renamed over
/// `out` once `produce` returns, and removed when anything throws (no partial file is left).
/// - `.h5`/`.hdf5`: one dataset per group (extendible, chunked), `metadata` as root attributes
///   and datasets;
/// - `.csv`: a header line of every group's headers, then one line per row (float32 `%.9g`,
///   float64 `%.17g`, which read back as the same numbers);
/// - `.npy`: the group `npy_group` alone, as an NPY 1.0 array (little-endian, C order).
/// @throws ConfigError for an unknown extension; IoError when the file cannot be written.
void write_table(const std::string& out, const std::vector<ColumnGroup>& groups,
                 const TableMetadata& metadata, std::size_t npy_group,
                 const std::function<void(const ChunkSink&)>& produce);

}  // namespace dbn::table
