#include "dbn/data/row_source.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/types.h>
#include <zlib.h>

#include "dbn/core/error.hpp"
#include "dbn/io/hdf5.hpp"

// The SPEC forms, file layouts and checks are those of dataset.cpp and hdf5_reader.cpp, which
// read a whole file at once; this file reads the same files a slice of rows at a time. The tests
// (tests/features/row_source_test.cpp) hold the two to the same values and labels.

namespace dbn::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_accepted_forms =
    "an IDX file (*-ubyte or *.idx, optionally .gz), a *.csv file, or file.h5:/dataset "
    "(also .hdf5), or bars-and-stripes:N";

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string errno_text(int err) { return err != 0 ? std::strerror(err) : "unknown error"; }

// ---------------------------------------------------------------------------------------------
// SPEC forms (as read_dataset)

enum class SpecKind { idx, csv, hdf5, unknown };

struct ParsedSpec {
    SpecKind kind = SpecKind::unknown;
    std::string path;
    std::string object;
};

ParsedSpec parse_spec(const std::string& spec) {
    const std::string l = lower(spec);
    for (const std::string_view ext : {std::string_view(".h5"), std::string_view(".hdf5")}) {
        const auto pos = l.find(std::string(ext) + ":");
        if (pos != std::string::npos) {
            const auto split = pos + ext.size();
            ParsedSpec p{SpecKind::hdf5, spec.substr(0, split), spec.substr(split + 1)};
            DBN_CHECK(!p.object.empty(), FormatError,
                      p.path << ": an HDF5 spec needs a dataset path (file.h5:/dataset)");
            return p;
        }
        DBN_CHECK(!ends_with(l, ext), FormatError,
                  spec << ": an HDF5 spec needs a dataset path (" << spec << ":/dataset)");
    }
    if (ends_with(l, ".csv")) return {SpecKind::csv, spec, {}};
    const std::string_view base =
        ends_with(l, ".gz") ? std::string_view(l).substr(0, l.size() - 3) : std::string_view(l);
    if (ends_with(base, "-ubyte") || ends_with(base, ".idx")) return {SpecKind::idx, spec, {}};
    return {SpecKind::unknown, spec, {}};
}

/// `*-images-idx3-ubyte[.gz]` -> `*-labels-idx1-ubyte[.gz]` when that file exists.
std::optional<std::string> idx_sibling_labels(const std::string& images) {
    const fs::path p(images);
    std::string name = p.filename().string();
    bool replaced = false;
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"images-idx3-ubyte", "labels-idx1-ubyte"},
          {"images.idx3-ubyte", "labels.idx1-ubyte"}}) {
        const auto pos = name.find(from);
        if (pos != std::string::npos) {
            name.replace(pos, from.size(), to);
            replaced = true;
            break;
        }
    }
    if (!replaced) return std::nullopt;
    const bool gz = ends_with(name, ".gz");
    const std::string other = gz ? name.substr(0, name.size() - 3) : name + ".gz";
    for (const std::string& candidate : {name, other}) {
        const fs::path q = p.parent_path() / candidate;
        std::error_code ec;
        if (fs::is_regular_file(q, ec)) return q.string();
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// IDX

/// Owns a zlib handle; gzread reads uncompressed files transparently.
class GzFile {
public:
    explicit GzFile(const std::string& path) : path_(path) {
        errno = 0;
        file_ = gzopen(path.c_str(), "rb");
        DBN_CHECK(file_ != nullptr, IoError, path << ": cannot open (" << errno_text(errno) << ")");
        gzbuffer(file_, 1U << 20);
    }
    GzFile(const GzFile&) = delete;
    GzFile& operator=(const GzFile&) = delete;
    ~GzFile() { gzclose(file_); }

    /// Reads up to `len` bytes; fewer only at the end of the data (or of a truncated stream).
    std::size_t read(unsigned char* buf, std::size_t len) {
        std::size_t total = 0;
        while (total < len) {
            const auto chunk = static_cast<unsigned>(std::min<std::size_t>(len - total, 1U << 30));
            errno = 0;
            const int got = gzread(file_, buf + total, chunk);
            if (got < 0) {
                int err = Z_OK;
                const char* msg = gzerror(file_, &err);
                if (err == Z_BUF_ERROR) break;  // "unexpected end of file": truncated .gz
                DBN_CHECK(err != Z_ERRNO, IoError,
                          path_ << ": cannot read (" << errno_text(errno) << ")");
                throw FormatError(path_ + ": corrupt gzip data (" + msg + ")");
            }
            if (got == 0) break;
            total += static_cast<std::size_t>(got);
        }
        return total;
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    gzFile file_ = nullptr;
};

enum IdxType : unsigned char {
    idx_ubyte = 0x08,
    idx_sbyte = 0x09,
    idx_short = 0x0B,
    idx_int = 0x0C,
    idx_float = 0x0D,
    idx_double = 0x0E,
};

std::size_t idx_element_size(unsigned type) {
    switch (type) {
        case idx_ubyte:
        case idx_sbyte: return 1;
        case idx_short: return 2;
        case idx_int:
        case idx_float: return 4;
        case idx_double: return 8;
        default: return 0;
    }
}

const char* idx_type_name(unsigned type) {
    switch (type) {
        case idx_ubyte: return "unsigned byte";
        case idx_sbyte: return "signed byte";
        case idx_short: return "short";
        case idx_int: return "int";
        case idx_float: return "float";
        case idx_double: return "double";
        default: return "unknown";
    }
}

std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

std::uint64_t be64(const unsigned char* p) { return (std::uint64_t{be32(p)} << 32) | be32(p + 4); }

double idx_decode(unsigned type, const unsigned char* p) {
    switch (type) {
        case idx_ubyte: return p[0];
        case idx_sbyte: return static_cast<std::int8_t>(p[0]);
        case idx_short:
            return static_cast<std::int16_t>(static_cast<std::uint16_t>((p[0] << 8) | p[1]));
        case idx_int: return static_cast<std::int32_t>(be32(p));
        case idx_float: {
            const std::uint32_t u = be32(p);
            float f;
            std::memcpy(&f, &u, sizeof f);
            return f;
        }
        case idx_double: {
            const std::uint64_t u = be64(p);
            double d;
            std::memcpy(&d, &u, sizeof d);
            return d;
        }
        default: DBN_ASSERT(false); return 0.0;
    }
}

/// @brief An IDX file opened at its first value: the header read and checked.
class IdxStream {
public:
    explicit IdxStream(const std::string& path) : file_(path) {
        unsigned char magic[4];
        const std::size_t got_magic = file_.read(magic, 4);
        DBN_CHECK(got_magic == 4, FormatError,
                  path << ": not an IDX file (" << got_magic << " bytes, shorter than the header)");
        type_ = magic[2];
        const unsigned ndims = magic[3];
        if (magic[0] != 0 || magic[1] != 0 || idx_element_size(type_) == 0 || ndims == 0) {
            char hex[16];
            std::snprintf(hex, sizeof hex, "0x%08X", static_cast<unsigned>(be32(magic)));
            throw FormatError(path + ": not an IDX file (magic " + hex + ")");
        }
        std::vector<unsigned char> header(4 * std::size_t{ndims});
        DBN_CHECK(
            file_.read(header.data(), header.size()) == header.size(), FormatError,
            path << ": truncated: header announces " << ndims << " dimensions, file ends first");
        esize_ = idx_element_size(type_);
        const std::size_t max_count = std::numeric_limits<std::size_t>::max() / esize_;
        for (unsigned d = 0; d < ndims; ++d) {
            const std::size_t n = be32(&header[4 * d]);
            dims_.push_back(n);
            if (d == 0) continue;
            DBN_CHECK(n == 0 || cols_ <= max_count / n, FormatError,
                      path << ": dimensions overflow the address space");
            cols_ *= n;
        }
        rows_ = dims_[0];
        DBN_CHECK(cols_ == 0 || rows_ <= max_count / cols_, FormatError,
                  path << ": dimensions overflow the address space");
    }

    unsigned type() const { return type_; }
    std::size_t n_dims() const { return dims_.size(); }
    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    std::size_t rows_read() const { return rows_read_; }
    const std::string& path() const { return file_.path(); }

    /// @brief Reads the next `n` rows' bytes (fewer rows than remain is the caller's choice).
    const unsigned char* read_rows(std::size_t n) {
        DBN_ASSERT(n <= rows_ - rows_read_);
        const std::size_t want = n * cols_ * esize_;
        bytes_.resize(want);
        const std::size_t got = file_.read(bytes_.data(), want);
        DBN_CHECK(got == want, FormatError,
                  path() << ": truncated: header says " << rows_ * cols_ << " values, file holds "
                         << (rows_read_ * cols_ * esize_ + got) / esize_);
        rows_read_ += n;
        if (rows_read_ == rows_) check_end();
        return bytes_.data();
    }

    /// @brief Value `i` of the last read_rows() as a double (exact for every IDX type).
    double value(std::size_t i) const { return idx_decode(type_, bytes_.data() + i * esize_); }

    /// @brief After the last row: the file must end there.
    void check_end() {
        if (end_checked_) return;
        end_checked_ = true;
        unsigned char extra = 0;
        DBN_CHECK(file_.read(&extra, 1) == 0, FormatError,
                  path() << ": header says " << rows_ * cols_
                         << " values, file holds more (trailing data)");
    }

private:
    GzFile file_;
    unsigned type_ = 0;
    std::size_t esize_ = 1;
    std::vector<std::size_t> dims_;
    std::size_t rows_ = 0;
    std::size_t cols_ = 1;  // a one-dimensional file is one column
    std::size_t rows_read_ = 0;
    bool end_checked_ = false;
    std::vector<unsigned char> bytes_;
};

class IdxSource : public RowSource {
public:
    IdxSource(const std::string& spec, const std::string& path) : RowSource(spec), images_(path) {
        if (const auto labels_path = idx_sibling_labels(path)) {
            labels_.emplace(*labels_path);
            const IdxStream& l = *labels_;
            DBN_CHECK(l.n_dims() == 1, FormatError,
                      l.path() << ": labels must have one dimension (got " << l.n_dims() << ")");
            DBN_CHECK(l.type() != idx_float && l.type() != idx_double, FormatError,
                      l.path() << ": labels must have an integer type (got "
                               << idx_type_name(l.type()) << ")");
            DBN_CHECK(l.rows() == images_.rows(), FormatError,
                      l.path() << ": " << l.rows() << " labels for " << images_.rows()
                               << " images in " << path);
        }
    }

    std::size_t n_features() const override { return images_.cols(); }
    std::optional<std::size_t> size() const override { return images_.rows(); }
    bool has_labels() const override { return labels_.has_value(); }

protected:
    std::size_t read_into(std::size_t max_rows, Matrix& x, Labels& labels) override {
        const std::size_t first = images_.rows_read();
        const std::size_t n = std::min(max_rows, images_.rows() - first);
        if (n == 0) {
            images_.check_end();
            if (labels_) labels_->check_end();
            return 0;
        }
        const std::size_t cols = images_.cols();
        const unsigned char* in = images_.read_rows(n);
        Real* out = x.data();
        if (images_.type() == idx_ubyte) {
            for (std::size_t i = 0; i < n * cols; ++i) out[i] = static_cast<Real>(in[i]);
        } else {
            for (std::size_t i = 0; i < n * cols; ++i) {
                const double v = images_.value(i);
                const auto f = static_cast<Real>(v);
                if (!std::isfinite(f)) {
                    throw FormatError(images_.path() + ": " +
                                      (std::isnan(v) ? "NaN" : "infinite or out-of-range") + " " +
                                      idx_type_name(images_.type()) + " value at row " +
                                      std::to_string(first + i / cols) + ", column " +
                                      std::to_string(i % cols));
                }
                out[i] = f;
            }
        }
        if (labels_) {
            labels_->read_rows(n);
            for (std::size_t i = 0; i < n; ++i)
                labels(i) = static_cast<std::int32_t>(labels_->value(i));
        }
        return n;
    }

private:
    IdxStream images_;
    std::optional<IdxStream> labels_;
};

// ---------------------------------------------------------------------------------------------
// CSV

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

enum class NumberStatus { ok, not_a_number, out_of_range };

NumberStatus parse_number(std::string_view field, double& value) {
    const char* first = field.data();
    const char* last = field.data() + field.size();
    if (first != last && *first == '+' && last - first > 1 && first[1] != '-' && first[1] != '+')
        ++first;
    const auto [ptr, ec] = std::from_chars(first, last, value);
    if (ptr != last || first == last) return NumberStatus::not_a_number;
    if (ec == std::errc::invalid_argument) return NumberStatus::not_a_number;
    if (ec == std::errc::result_out_of_range) return NumberStatus::out_of_range;
    return NumberStatus::ok;
}

std::size_t count_fields(std::string_view line) {
    return static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')) + 1;
}

std::size_t count_header_fields(std::string_view line) {
    std::size_t n = 1;
    bool quoted = false;
    for (char ch : line) {
        if (ch == '"')
            quoted = !quoted;
        else if (ch == ',' && !quoted)
            ++n;
    }
    return n;
}

bool all_numeric(std::string_view line) {
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = line.find(',', start);
        const std::string_view field =
            trim(line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
        double v = 0.0;
        if (parse_number(field, v) == NumberStatus::not_a_number) return false;
        if (comma == std::string_view::npos) return true;
        start = comma + 1;
    }
}

/// @brief A CSV file read one line at a time (the bytes of one line are all it holds).
class CsvSource : public RowSource {
public:
    CsvSource(const std::string& spec, const std::string& path, const CsvOptions& options)
        : RowSource(spec), path_(path) {
        DBN_CHECK(options.header >= -1 && options.header <= 1, ConfigError,
                  "read_csv: header must be -1 (detect), 0 or 1 (got " << options.header << ")");
        errno = 0;
        file_.f = std::fopen(path.c_str(), "rb");
        DBN_CHECK(file_.f != nullptr, IoError,
                  path << ": cannot open (" << errno_text(errno) << ")");
        std::setvbuf(file_.f, nullptr, _IOFBF, std::size_t{1} << 20);
        // The first non-blank line fixes the column count and is a header or the first row.
        std::string_view line;
        while (next_line(line)) {
            if (trim(line).empty()) continue;
            const bool header = options.header == 1 || (options.header == -1 && !all_numeric(line));
            ncols_ = header ? count_header_fields(line) : count_fields(line);
            if (options.label_column != CsvOptions::no_label_column) {
                const long n = static_cast<long>(ncols_);
                const long col =
                    options.label_column < 0 ? n + options.label_column : options.label_column;
                DBN_CHECK(col >= 0 && col < n, ConfigError,
                          path << ": label column " << options.label_column << " is out of range ("
                               << ncols_ << " columns)");
                label_col_ = static_cast<std::size_t>(col);
                has_label_ = true;
            }
            pending_ = !header;
            break;
        }
        DBN_CHECK(ncols_ > 0, FormatError, path << ": empty file");
    }

    std::size_t n_features() const override { return ncols_ - (has_label_ ? 1 : 0); }
    std::optional<std::size_t> size() const override { return std::nullopt; }
    bool has_labels() const override { return has_label_; }

protected:
    std::size_t read_into(std::size_t max_rows, Matrix& x, Labels& labels) override {
        std::size_t n = 0;
        const std::size_t nf = n_features();
        std::string_view line(line_);
        while (n < max_rows) {
            if (pending_) {
                pending_ = false;  // the first line, read while opening, is still in line_
            } else if (!next_line(line)) {
                break;
            }
            if (trim(line).empty()) continue;
            parse_row(line, x.data() + n * nf, has_label_ ? &labels(n) : nullptr);
            ++n;
        }
        rows_ += n;
        DBN_CHECK(rows_ > 0, FormatError, path_ << ": no data rows after the header");
        return n;
    }

private:
    /// @brief The next line without its end-of-line characters; false at the end of the file.
    bool next_line(std::string_view& line) {
        errno = 0;
        const ssize_t len = ::getline(&buffer_.data, &buffer_.capacity, file_.f);
        if (len < 0) {
            DBN_CHECK(!std::ferror(file_.f), IoError,
                      path_ << ": cannot read (" << errno_text(errno) << ")");
            return false;
        }
        ++line_no_;
        line = std::string_view(buffer_.data, static_cast<std::size_t>(len));
        if (line_no_ == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
        if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        line_ = line;
        return true;
    }

    void parse_row(std::string_view line, Real* out, std::int32_t* label) {
        auto fail_field = [&](std::size_t col, const char* what, std::string_view field) {
            throw FormatError(path_ + ":" + std::to_string(line_no_) + ":" + std::to_string(col) +
                              ": " + what + ": \"" + std::string(field) + "\"");
        };
        const std::size_t nfields = count_fields(line);
        DBN_CHECK(
            nfields == ncols_, FormatError,
            path_ << ":" << line_no_ << ": " << nfields << " fields (expected " << ncols_ << ")");
        std::size_t start = 0;
        for (std::size_t col = 0; col < ncols_; ++col) {
            const std::size_t comma = line.find(',', start);
            const std::string_view field = trim(
                line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
            start = comma + 1;
            double v = 0.0;
            const NumberStatus status = parse_number(field, v);
            if (status == NumberStatus::not_a_number) fail_field(col + 1, "not a number", field);
            if (status == NumberStatus::out_of_range) fail_field(col + 1, "out of range", field);
            if (!std::isfinite(v)) fail_field(col + 1, "not a finite number", field);
            if (has_label_ && col == label_col_) {
                if (v != std::floor(v) || v < std::numeric_limits<std::int32_t>::min() ||
                    v > std::numeric_limits<std::int32_t>::max())
                    fail_field(col + 1, "label is not an integer", field);
                *label = static_cast<std::int32_t>(v);
                continue;
            }
            DBN_CHECK(std::abs(v) <= std::numeric_limits<Real>::max(), FormatError,
                      path_ << ":" << line_no_ << ":" << col + 1 << ": out of float range: \""
                            << field << "\"");
            *out++ = static_cast<Real>(v);
        }
    }

    // Members that own, so that a constructor that throws (empty file) still releases them.
    struct File {
        std::FILE* f = nullptr;
        File() = default;
        File(const File&) = delete;
        File& operator=(const File&) = delete;
        ~File() {
            if (f != nullptr) std::fclose(f);
        }
    };
    struct LineBuffer {  // getline's buffer, grown with malloc/realloc
        char* data = nullptr;
        std::size_t capacity = 0;
        LineBuffer() = default;
        LineBuffer(const LineBuffer&) = delete;
        LineBuffer& operator=(const LineBuffer&) = delete;
        ~LineBuffer() { std::free(data); }
    };

    std::string path_;
    File file_;
    LineBuffer buffer_;
    std::string_view line_;  // the current line, inside buffer_
    std::size_t line_no_ = 0;
    std::size_t ncols_ = 0;
    std::size_t label_col_ = 0;
    bool has_label_ = false;
    bool pending_ = false;
    std::size_t rows_ = 0;
};

// ---------------------------------------------------------------------------------------------
// HDF5

std::string hdf5_sibling_labels(const std::string& dataset) {
    const std::size_t slash = dataset.find_last_of('/');
    if (slash == std::string::npos) return "labels";
    return dataset.substr(0, slash + 1) + "labels";
}

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

class Hdf5Source : public RowSource {
public:
    Hdf5Source(const std::string& spec, const std::string& path, const std::string& dataset)
        : RowSource(spec),
          where_(path + ":" + dataset),
          file_(io::hdf5::File::open(path)),
          data_(open_data(file_, where_, dataset)) {
        using io::hdf5::TypeClass;
        const auto type = data_.type();
        DBN_CHECK(type.type_class == TypeClass::integer || type.type_class == TypeClass::floating,
                  FormatError,
                  where_ << ": holds " << type.name() << " values (expected integers or floats)");
        const auto shape = data_.shape();
        DBN_CHECK(shape.size() == 1 || shape.size() == 2, FormatError,
                  where_ << ": has " << shape.size()
                         << " dimensions (expected 1 or 2: samples, or samples x features)");
        rows_ = shape[0];
        cols_ = shape.size() == 2 ? shape[1] : 1;

        const std::string labels_path = hdf5_sibling_labels(dataset);
        if (normalized(labels_path) == normalized(dataset) || !file_.exists(labels_path)) return;
        labels_where_ = path + ":" + labels_path;
        DBN_CHECK(file_.has_dataset(labels_path), FormatError,
                  labels_where_ << ": is not a dataset (a labels dataset was expected)");
        labels_.emplace(file_.open_dataset(labels_path));
        const auto ltype = labels_->type();
        DBN_CHECK(ltype.type_class == TypeClass::integer, FormatError,
                  labels_where_ << ": labels must be integers (got " << ltype.name() << ")");
        const auto lshape = labels_->shape();
        DBN_CHECK(lshape.size() == 1, FormatError,
                  labels_where_ << ": labels must be one-dimensional (got " << lshape.size()
                                << " dimensions)");
        DBN_CHECK(lshape[0] == rows_, FormatError,
                  labels_where_ << ": " << lshape[0] << " labels for " << rows_ << " samples");
    }

    std::size_t n_features() const override { return cols_; }
    std::optional<std::size_t> size() const override { return rows_; }
    bool has_labels() const override { return labels_.has_value(); }

protected:
    std::size_t read_into(std::size_t max_rows, Matrix& x, Labels& labels) override {
        const std::size_t n = std::min(max_rows, rows_ - next_);
        if (n == 0) return 0;
        data_.read_rows(next_, n, x.data(), n * cols_);
        const Real* v = x.data();
        for (std::size_t i = 0; i < n * cols_; ++i) {
            DBN_CHECK(std::isfinite(v[i]), FormatError,
                      where_ << ": value at row " << next_ + i / cols_ << ", column " << i % cols_
                             << " is " << v[i] << " (data must be finite)");
        }
        if (labels_) {
            // Read wide and narrow by hand: HDF5 would clip out-of-range values without a word.
            wide_.resize(n);
            labels_->read_rows(next_, n, wide_.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                DBN_CHECK(wide_[i] >= std::numeric_limits<std::int32_t>::min() &&
                              wide_[i] <= std::numeric_limits<std::int32_t>::max(),
                          FormatError,
                          labels_where_ << ": label " << next_ + i << " (" << wide_[i]
                                        << ") is out of the int32 range");
                labels(i) = static_cast<std::int32_t>(wide_[i]);
            }
        }
        next_ += n;
        return n;
    }

private:
    static io::hdf5::Dataset open_data(const io::hdf5::File& file, const std::string& where,
                                       const std::string& dataset) {
        DBN_CHECK(file.has_dataset(dataset), FormatError, where << ": no such dataset");
        return file.open_dataset(dataset);
    }

    std::string where_;
    std::string labels_where_;
    io::hdf5::File file_;  // declared first: the datasets close before the file
    io::hdf5::Dataset data_;
    std::optional<io::hdf5::Dataset> labels_;
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    std::size_t next_ = 0;
    std::vector<std::int64_t> wide_;
};

// ---------------------------------------------------------------------------------------------
// In memory

class MemorySource : public RowSource {
public:
    explicit MemorySource(Dataset data) : RowSource(data.source), data_(std::move(data)) {}

    std::size_t n_features() const override { return data_.n_features(); }
    std::optional<std::size_t> size() const override { return data_.size(); }
    bool has_labels() const override { return data_.has_labels(); }

protected:
    std::size_t read_into(std::size_t max_rows, Matrix& x, Labels& labels) override {
        const std::size_t n = std::min(max_rows, data_.size() - next_);
        const std::size_t cols = data_.n_features();
        std::copy_n(data_.x.data() + next_ * cols, n * cols, x.data());
        if (data_.has_labels()) std::copy_n(data_.labels.data() + next_, n, labels.data());
        next_ += n;
        return n;
    }

private:
    Dataset data_;
    std::size_t next_ = 0;
};

}  // namespace

std::size_t RowSource::read(std::size_t max_rows, Dataset& chunk) {
    DBN_CHECK(max_rows > 0, ConfigError, "RowSource::read: " << source_ << ": max_rows is 0");
    const std::size_t cols = n_features();
    // Buffers of the full chunk size are kept from call to call; only a short last chunk
    // (or the end) reshapes them.
    if (chunk.x.shape(0) != max_rows || chunk.x.shape(1) != cols)
        chunk.x = Matrix::from_shape({max_rows, cols});
    const bool labelled = has_labels();
    if (labelled && chunk.labels.size() != max_rows) chunk.labels = Labels::from_shape({max_rows});
    if (!labelled) chunk.labels = Labels::from_shape({0});
    chunk.source = source_;

    const std::size_t n = read_into(max_rows, chunk.x, chunk.labels);
    if (n < max_rows) {
        Matrix x = Matrix::from_shape({n, cols});
        std::copy_n(chunk.x.data(), n * cols, x.data());
        chunk.x = std::move(x);
        if (labelled) {
            Labels l = Labels::from_shape({n});
            std::copy_n(chunk.labels.data(), n, l.data());
            chunk.labels = std::move(l);
        }
    }
    return n;
}

std::unique_ptr<RowSource> open_row_source(const std::string& spec, const CsvOptions& csv) {
    if (spec.rfind("bars-and-stripes:", 0) == 0)
        return memory_row_source(read_dataset(spec));  // generated, a few hundred rows at most
    const ParsedSpec p = parse_spec(spec);
    switch (p.kind) {
        case SpecKind::idx: return std::make_unique<IdxSource>(spec, p.path);
        case SpecKind::csv: return std::make_unique<CsvSource>(spec, p.path, csv);
        case SpecKind::hdf5: return std::make_unique<Hdf5Source>(spec, p.path, p.object);
        case SpecKind::unknown: break;
    }
    throw FormatError(spec + ": unrecognised data file; expected " + k_accepted_forms);
}

std::unique_ptr<RowSource> memory_row_source(Dataset data) {
    return std::make_unique<MemorySource>(std::move(data));
}

}  // namespace dbn::data
