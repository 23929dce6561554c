#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "dbn/core/types.hpp"

namespace dbn::data {

/// @brief Samples (one per row, float32) with optional integer labels.
struct Dataset {
    Matrix x = Matrix::from_shape({0, 0});
    Labels labels = Labels::from_shape({0});  ///< empty when the source has no labels
    std::string source;                       ///< the spec it was read from, for messages
    /// The shape of one sample as the file gives it ({28, 28} for an array of images; a table's
    /// {n_features()}); empty when not known. Its product is n_features().
    std::vector<std::size_t> sample_shape;

    std::size_t size() const { return x.shape(0); }
    std::size_t n_features() const { return x.shape(1); }
    bool has_labels() const { return labels.size() > 0; }
};

/// @brief Options of the CSV reader.
struct CsvOptions {
    /// -1: detect (a first line with a field that is not a number is a header); 0: no; 1: yes.
    int header = -1;
    /// Column holding integer labels (0-based; negative counts from the end, -1 = last);
    /// `no_label_column` for none.
    long label_column = no_label_column;
    static constexpr long no_label_column = 1L << 40;
    /// Header name of the label column (matched exactly, else case-insensitively); "" for none.
    /// Takes the place of `label_column` when set.
    std::string label_name;
    /// False (default): a header column named `label`, `labels`, `class`, `target` or `y`
    /// (any case) while no label column is given is an error, never a feature read silently.
    /// True (`--label-column none`): every column is a feature.
    bool no_labels = false;
    /// The field delimiter: ',', '\t', ';', or ' ' (runs of spaces and tabs, as numpy.savetxt
    /// writes); 0 (default) detects it from the first non-blank line: a tab, else a semicolon,
    /// else a comma, else blanks between fields.
    char delimiter = 0;
};

/// @brief Sets the delimiter of `csv` from the text of `--delimiter` / `input.delimiter`:
/// `auto`, `comma` or `,`, `tab` or `\t`, `semicolon` or `;`, `whitespace` or `space`.
/// @throws ConfigError for any other text.
void set_delimiter(CsvOptions& csv, const std::string& text);

/// @brief True for a file the CSV reader reads: `*.csv`, `*.tsv` or `*.txt` (any case), each
/// also gzip-compressed (`*.csv.gz`).
bool is_csv_path(const std::string& path);

/// @brief Sets the label column of `csv` from the text of `--label-column` / `label_column`:
/// `none` (every column is a feature), an integer (0-based, negative from the end) or a header
/// name.
/// @throws ConfigError for an empty text.
void set_label_column(CsvOptions& csv, const std::string& text);

/// @brief True for a header name that says "labels": label, labels, class, target, y (any case).
bool is_label_name(const std::string& name);

/// @brief Reads a data set from a SPEC: an IDX file (`*-ubyte`, `*.idx`, optionally `.gz`),
/// a `*.csv` file, `file.h5:/path/to/dataset`, or `bars-and-stripes:N` (generated 4x4 ... NxN
/// bars-and-stripes images, see bars_and_stripes()).
///
/// Pixel values of IDX images are returned as read (0..255); preprocessing scales them.
/// For IDX images, labels are taken from the matching labels file when one lies beside it
/// (`*-images-idx3-ubyte` -> `*-labels-idx1-ubyte`). For HDF5, labels from a `labels`
/// dataset beside the data set when present.
/// @throws IoError if the file cannot be opened; FormatError naming the file and the problem for
///         bad content (wrong magic number, truncated file, ragged CSV, text in a number, NaN).
Dataset read_dataset(const std::string& spec, const CsvOptions& csv = {});

/// @brief Reads labels from a SPEC: an IDX labels file, a CSV (one column, or the label column),
/// or `file.h5:/path` (integer dataset of one dimension).
/// @param csv for a CSV: its `label_column` picks the column; without one the file must have
///        exactly one column.
/// @throws FormatError for a value that is not an integer in the int32 range.
Labels read_labels(const std::string& spec, const CsvOptions& csv = {});

/// @brief IDX reader (MNIST layout, big-endian header, raw or gzip); any number of dimensions
/// beyond the first is flattened into columns (a one-dimensional file gives one column). Supports
/// unsigned byte, signed byte, short, int, float and double element types.
/// @throws FormatError for a wrong magic number, a truncated file or trailing bytes, and a NaN or
///         infinite value (also a double beyond the float range).
Matrix read_idx(const std::string& path);
/// @brief IDX labels (one dimension, integer type).
Labels read_idx_labels(const std::string& path);

/// @brief Numeric CSV reader: fields separated by commas, tabs, semicolons or blanks (detected,
/// or CsvOptions::delimiter), raw or gzip; blank lines and `#` comment lines skipped, a UTF-8 BOM,
/// CRLF and double-quoted fields accepted; every field must be a finite number in full ("1.5abc"
/// is an error), labels integral ("3.0" passes).
/// @throws ConfigError when the label column lies outside the file's columns.
Dataset read_csv(const std::string& path, const CsvOptions& options = {});

/// @brief Reads a 2-D (or 1-D, as one column) numeric HDF5 dataset as float32.
Dataset read_hdf5(const std::string& path, const std::string& dataset);

/// @brief The first `n` rows (and labels) of `d`; all of it when n is 0 or at least its size.
Dataset first_rows(const Dataset& d, std::size_t n);
/// @brief The same for a data set given up: all of it is then moved, not copied (as in
/// `first_rows(read_dataset(spec), limit)`, which would otherwise hold the data twice).
Dataset first_rows(Dataset&& d, std::size_t n);

/// @brief The files a SPEC reads, for telling an output apart from them: none for
/// `bars-and-stripes:N`, the file of `file.h5:/dataset`, an IDX file and the labels file beside
/// it when there is one, a CSV file. Reads nothing; an unknown form gives the SPEC itself.
std::vector<std::string> spec_files(const std::string& spec);

/// @brief Throws FormatError naming `source` if any value is NaN or infinite.
void check_finite(const Matrix& x, const std::string& source);

}  // namespace dbn::data
