#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dbn/data/dataset.hpp"

namespace dbn::data {

/// @brief A data set read a chunk of rows at a time, so that memory stays bounded whatever the
/// number of rows (streamed feature extraction).
///
/// The rows, labels and errors are those read_dataset() gives for the same SPEC: the same
/// values, the same sibling labels files, the same checks; only the reading is incremental.
/// An IDX file is read by its header and then slices of rows (through zlib, raw or gzip), a CSV
/// line by line, an HDF5 dataset by hyperslabs of rows.
class RowSource {
public:
    virtual ~RowSource() = default;

    /// @brief Columns of every row (known once the source is open).
    virtual std::size_t n_features() const = 0;
    /// @brief Total rows when the file announces it up front (IDX and HDF5 headers, generated
    /// sets); empty for CSV, whose rows are counted as they are read.
    virtual std::optional<std::size_t> size() const = 0;
    /// @brief True when every row comes with an integer label.
    virtual bool has_labels() const = 0;
    /// @brief The shape of one sample in the file: {28, 28} for an array of 28 x 28 images
    /// (IDX, HDF5 or NumPy), {n_features()} for a table. Its product is n_features().
    virtual std::vector<std::size_t> sample_shape() const { return {n_features()}; }
    /// @brief The SPEC the source was opened from, for messages.
    const std::string& source() const { return source_; }

    /// @brief Reads the next rows, at most `max_rows` of them, into `chunk`: `chunk.x` becomes
    /// [rows, n_features()], `chunk.labels` [rows] when has_labels() (else empty).
    /// @return the number of rows read; 0 once the data is exhausted (and on every later call).
    /// @throws ConfigError if max_rows is 0; FormatError, as read_dataset(), for bad content
    ///         met on the way (truncated file, text in a number, NaN, trailing bytes).
    std::size_t read(std::size_t max_rows, Dataset& chunk);

protected:
    explicit RowSource(std::string source) : source_(std::move(source)) {}
    /// @brief Reads 1..max_rows rows into `x` (already shaped [max_rows, n_features()]) and
    /// `labels` (shaped [max_rows] when has_labels()); returns the count, 0 at the end. Called
    /// with max_rows 0 (and empty buffers) once a source with a size() has given all its rows,
    /// to check the end of the file.
    virtual std::size_t read_into(std::size_t max_rows, Matrix& x, Labels& labels) = 0;

private:
    /// read() for a chunk larger than `piece` rows: pieces that double, joined.
    std::size_t read_growing(std::size_t want, std::size_t piece, Dataset& chunk);

    std::string source_;
    std::size_t rows_read_ = 0;
};

/// @brief Opens a SPEC (the forms read_dataset() accepts) for reading in chunks. Reads only the
/// header (for a CSV: up to its first line; for IDX: the first row too) and checks it.
/// @throws IoError if a file cannot be opened; FormatError for a bad header (or an IDX file that
///         ends within its first row), an unknown SPEC form, or a labels file that does not fit
///         the data.
std::unique_ptr<RowSource> open_row_source(const std::string& spec, const CsvOptions& csv = {});

/// @brief A RowSource serving the rows of a data set already in memory.
std::unique_ptr<RowSource> memory_row_source(Dataset data);

}  // namespace dbn::data
