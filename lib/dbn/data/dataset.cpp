#include "dbn/data/dataset.hpp"
#include "dbn/data/bars_stripes.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include <zlib.h>

#include "dbn/core/error.hpp"

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

std::string errno_text(int err) {
    // gzopen can fail without setting errno (out of memory inside zlib).
    return err != 0 ? std::strerror(err) : "unknown error";
}

// ---------------------------------------------------------------------------------------------
// Spec classification

enum class SpecKind { idx, csv, hdf5, unknown };

struct ParsedSpec {
    SpecKind kind = SpecKind::unknown;
    std::string path;
    std::string object;  // HDF5 dataset path
};

ParsedSpec parse_spec(const std::string& spec) {
    const std::string l = lower(spec);
    // The HDF5 form carries an object path after the file name, so the extension is found by
    // searching rather than at the end: "a.h5:/x/y".
    for (const std::string_view ext : {std::string_view(".h5"), std::string_view(".hdf5")}) {
        const std::string with_colon = std::string(ext) + ":";
        const auto pos = l.find(with_colon);
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

// `train-images-idx3-ubyte[.gz]` -> `train-labels-idx1-ubyte[.gz]` when that file exists (the
// same compression is tried first). Also covers the `train-images.idx3-ubyte` spelling.
std::optional<std::string> sibling_labels(const std::string& images) {
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

/// Owns a zlib handle; gzread reads uncompressed files transparently, so one path serves both.
class GzFile {
public:
    explicit GzFile(const std::string& path) : path_(path) {
        errno = 0;
        file_ = gzopen(path.c_str(), "rb");
        DBN_CHECK(file_ != nullptr, IoError, path << ": cannot open (" << errno_text(errno) << ")");
        gzbuffer(file_, 1U << 20);  // the default 8 KiB buffer costs ~2x on 47 MB of pixels
    }
    GzFile(const GzFile&) = delete;
    GzFile& operator=(const GzFile&) = delete;
    ~GzFile() { gzclose(file_); }

    /// Reads up to `len` bytes; fewer only at the end of the data (including a gzip stream cut
    /// short, which the caller reports as truncation with the counts).
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
        case idx_sbyte:
            return 1;
        case idx_short:
            return 2;
        case idx_int:
        case idx_float:
            return 4;
        case idx_double:
            return 8;
        default:
            return 0;
    }
}

const char* idx_type_name(unsigned type) {
    switch (type) {
        case idx_ubyte:
            return "unsigned byte";
        case idx_sbyte:
            return "signed byte";
        case idx_short:
            return "short";
        case idx_int:
            return "int";
        case idx_float:
            return "float";
        case idx_double:
            return "double";
        default:
            return "unknown";
    }
}

struct IdxContent {
    unsigned type = 0;
    std::vector<std::size_t> dims;
    std::size_t count = 0;  // product of dims
    std::vector<unsigned char> bytes;
};

std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

std::uint64_t be64(const unsigned char* p) { return (std::uint64_t{be32(p)} << 32) | be32(p + 4); }

IdxContent load_idx(const std::string& path) {
    GzFile file(path);
    unsigned char magic[4];
    const std::size_t got_magic = file.read(magic, 4);
    DBN_CHECK(got_magic == 4, FormatError,
              path << ": not an IDX file (" << got_magic << " bytes, shorter than the header)");
    IdxContent c;
    c.type = magic[2];
    const unsigned ndims = magic[3];
    if (magic[0] != 0 || magic[1] != 0 || idx_element_size(c.type) == 0 || ndims == 0) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%08X", static_cast<unsigned>(be32(magic)));
        throw FormatError(path + ": not an IDX file (magic " + hex + ")");
    }

    std::vector<unsigned char> header(4 * std::size_t{ndims});
    DBN_CHECK(file.read(header.data(), header.size()) == header.size(), FormatError,
              path << ": truncated: header announces " << ndims << " dimensions, file ends first");
    const std::size_t esize = idx_element_size(c.type);
    const std::size_t max_count = std::numeric_limits<std::size_t>::max() / esize;
    // Every dimension but the first makes up the columns; check that product on its own so that
    // a zero row count cannot hide an overflowing column count.
    std::size_t cols = 1;
    for (unsigned d = 0; d < ndims; ++d) {
        c.dims.push_back(be32(&header[4 * d]));
        const std::size_t n = c.dims.back();
        if (d == 0) continue;
        DBN_CHECK(n == 0 || cols <= max_count / n, FormatError,
                  path << ": dimensions overflow the address space");
        cols *= n;
    }
    DBN_CHECK(cols == 0 || c.dims[0] <= max_count / cols, FormatError,
              path << ": dimensions overflow the address space");
    c.count = c.dims[0] * cols;

    // Read in slices rather than allocating what the header announces, so that a corrupt header
    // gives a truncation error instead of an attempt to allocate terabytes.
    const std::size_t want = c.count * esize;
    constexpr std::size_t k_slice = std::size_t{64} << 20;
    std::size_t have = 0;
    while (have < want) {
        const std::size_t len = std::min(want - have, k_slice);
        c.bytes.resize(have + len);
        const std::size_t got = file.read(c.bytes.data() + have, len);
        have += got;
        if (got < len) break;
    }
    c.bytes.resize(have);
    DBN_CHECK(
        have == want, FormatError,
        path << ": truncated: header says " << c.count << " values, file holds " << have / esize);
    unsigned char extra = 0;
    DBN_CHECK(file.read(&extra, 1) == 0, FormatError,
              path << ": header says " << c.count << " values, file holds more (trailing data)");
    return c;
}

/// Decodes element `i` as a double (exact for every IDX type).
double idx_value(const IdxContent& c, std::size_t i) {
    const unsigned char* p = c.bytes.data() + i * idx_element_size(c.type);
    switch (c.type) {
        case idx_ubyte:
            return p[0];
        case idx_sbyte:
            return static_cast<std::int8_t>(p[0]);
        case idx_short:
            return static_cast<std::int16_t>(static_cast<std::uint16_t>((p[0] << 8) | p[1]));
        case idx_int:
            return static_cast<std::int32_t>(be32(p));
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
        default:
            DBN_ASSERT(false);
            return 0.0;
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

std::string read_text_file(const std::string& path) {
    errno = 0;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    DBN_CHECK(f != nullptr, IoError, path << ": cannot open (" << errno_text(errno) << ")");
    std::string text;
    std::error_code size_error;
    const auto size = fs::file_size(path, size_error);  // a hint only: pipes have no size
    if (!size_error) text.reserve(static_cast<std::size_t>(size));
    std::vector<char> buf(std::size_t{1} << 20);
    std::size_t got = 0;
    while ((got = std::fread(buf.data(), 1, buf.size(), f)) > 0) text.append(buf.data(), got);
    const bool failed = std::ferror(f) != 0;
    const int err = errno;
    std::fclose(f);
    DBN_CHECK(!failed, IoError, path << ": cannot read (" << errno_text(err) << ")");
    return text;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

enum class NumberStatus { ok, not_a_number, out_of_range };

/// Parses all of `field` (already trimmed) as a double; "1.5abc" and "" are not numbers.
/// NaN and infinity parse (std::from_chars accepts them); callers decide what to do with them.
NumberStatus parse_number(std::string_view field, double& value) {
    const char* first = field.data();
    const char* last = field.data() + field.size();
    // from_chars rejects a leading '+', which spreadsheets and printf("%+g") write.
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

/// Field count of a header line: commas inside double quotes do not separate names.
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

bool is_blank(std::string_view line) { return trim(line).empty(); }

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

// -------------------------------------------------------------------------------------------------

Dataset read_dataset(const std::string& spec, const CsvOptions& csv) {
    static const std::string k_bars = "bars-and-stripes:";
    if (spec.rfind(k_bars, 0) == 0) {
        // A generated set, for models small enough for exact likelihoods.
        const std::string n = spec.substr(k_bars.size());
        DBN_CHECK(!n.empty() && n.size() <= 2 && n.find_first_not_of("0123456789") == std::string::npos,
                  FormatError, spec << ": expected bars-and-stripes:N with N a size from 1 to 10");
        Dataset d;
        d.x = bars_and_stripes(std::stoul(n));
        d.source = spec;
        return d;
    }
    const ParsedSpec p = parse_spec(spec);
    switch (p.kind) {
        case SpecKind::hdf5: {
            Dataset d = read_hdf5(p.path, p.object);
            // read_dataset promises finite data from every source; one pass is cheap next to
            // the read, and keeps the promise whatever read_hdf5 checks itself.
            check_finite(d.x, spec);
            d.source = spec;
            return d;
        }
        case SpecKind::csv: {
            Dataset d = read_csv(p.path, csv);
            d.source = spec;
            return d;
        }
        case SpecKind::idx: {
            Dataset d;
            d.x = read_idx(p.path);
            d.source = spec;
            if (const auto labels_path = sibling_labels(p.path)) {
                d.labels = read_idx_labels(*labels_path);
                DBN_CHECK(d.labels.size() == d.x.shape(0), FormatError,
                          *labels_path << ": " << d.labels.size() << " labels for " << d.x.shape(0)
                                       << " images in " << p.path);
            }
            return d;
        }
        case SpecKind::unknown:
            break;
    }
    throw FormatError(spec + ": unrecognised data file; expected " + k_accepted_forms);
}

Dataset first_rows(const Dataset& d, std::size_t n) {
    if (n == 0 || n >= d.size()) return d;
    Dataset out;
    out.source = d.source;
    out.x = Matrix::from_shape({n, d.n_features()});
    std::copy(d.x.data(), d.x.data() + n * d.n_features(), out.x.data());
    if (d.has_labels()) {
        out.labels = Labels::from_shape({n});
        std::copy(d.labels.data(), d.labels.data() + n, out.labels.data());
    }
    return out;
}

Labels read_labels(const std::string& spec, const CsvOptions& csv) {
    const ParsedSpec p = parse_spec(spec);
    switch (p.kind) {
        case SpecKind::hdf5:
            return to_labels(read_hdf5(p.path, p.object).x, spec);
        case SpecKind::idx:
            return read_idx_labels(p.path);
        case SpecKind::csv: {
            CsvOptions options = csv;
            if (options.label_column == CsvOptions::no_label_column) options.label_column = 0;
            Dataset d = read_csv(p.path, options);
            DBN_CHECK(csv.label_column != CsvOptions::no_label_column || d.n_features() == 0,
                      FormatError,
                      spec << ": a labels file needs one column (got " << d.n_features() + 1
                           << "); name the label column");
            return std::move(d.labels);
        }
        case SpecKind::unknown:
            break;
    }
    throw FormatError(spec + ": unrecognised labels file; expected " + k_accepted_forms);
}

Matrix read_idx(const std::string& path) {
    const IdxContent c = load_idx(path);
    std::size_t cols = 1;  // a one-dimensional file is one column
    for (std::size_t d = 1; d < c.dims.size(); ++d) cols *= c.dims[d];
    Matrix x = Matrix::from_shape({c.dims[0], cols});
    Real* out = x.data();
    if (c.type == idx_ubyte) {
        // The common case (MNIST pixels) gets a loop the compiler can vectorise.
        const unsigned char* in = c.bytes.data();
        for (std::size_t i = 0; i < c.count; ++i) out[i] = static_cast<Real>(in[i]);
        return x;
    }
    for (std::size_t i = 0; i < c.count; ++i) {
        const double v = idx_value(c, i);
        const auto f = static_cast<Real>(v);
        if (!std::isfinite(f)) {
            const std::size_t ncols = x.shape(1);
            throw FormatError(path + ": " + (std::isnan(v) ? "NaN" : "infinite or out-of-range") +
                              " " + idx_type_name(c.type) + " value at row " +
                              std::to_string(i / ncols) + ", column " + std::to_string(i % ncols));
        }
        out[i] = f;
    }
    return x;
}

Labels read_idx_labels(const std::string& path) {
    const IdxContent c = load_idx(path);
    DBN_CHECK(c.dims.size() == 1, FormatError,
              path << ": labels must have one dimension (got " << c.dims.size() << ")");
    DBN_CHECK(c.type != idx_float && c.type != idx_double, FormatError,
              path << ": labels must have an integer type (got " << idx_type_name(c.type) << ")");
    Labels labels = Labels::from_shape({c.count});
    for (std::size_t i = 0; i < c.count; ++i)
        labels(i) = static_cast<std::int32_t>(idx_value(c, i));
    return labels;
}

Dataset read_csv(const std::string& path, const CsvOptions& options) {
    DBN_CHECK(options.header >= -1 && options.header <= 1, ConfigError,
              "read_csv: header must be -1 (detect), 0 or 1 (got " << options.header << ")");
    const std::string text = read_text_file(path);
    std::string_view rest(text);
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);  // UTF-8 byte-order mark

    std::size_t line_no = 0;
    std::size_t ncols = 0;  // 0 until the first non-blank line fixes it
    std::size_t label_col = 0;
    bool has_label = false;
    std::vector<Real> values;
    std::vector<std::int32_t> labels;
    std::size_t rows = 0;

    auto fail_field = [&](std::size_t col, const char* what, std::string_view field) {
        throw FormatError(path + ":" + std::to_string(line_no) + ":" + std::to_string(col) + ": " +
                          what + ": \"" + std::string(field) + "\"");
    };

    while (!rest.empty()) {
        const std::size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        // Blank lines carry no sample; a trailing one is what most writers leave.
        if (is_blank(line)) continue;

        if (ncols == 0) {
            const bool header = options.header == 1 || (options.header == -1 && !all_numeric(line));
            ncols = header ? count_header_fields(line) : count_fields(line);
            if (options.label_column != CsvOptions::no_label_column) {
                const long n = static_cast<long>(ncols);
                const long col =
                    options.label_column < 0 ? n + options.label_column : options.label_column;
                DBN_CHECK(col >= 0 && col < n, ConfigError,
                          path << ": label column " << options.label_column << " is out of range ("
                               << ncols << " columns)");
                label_col = static_cast<std::size_t>(col);
                has_label = true;
            }
            if (header) continue;
        }

        const std::size_t nfields = count_fields(line);
        DBN_CHECK(
            nfields == ncols, FormatError,
            path << ":" << line_no << ": " << nfields << " fields (expected " << ncols << ")");
        std::size_t start = 0;
        for (std::size_t col = 0; col < ncols; ++col) {
            const std::size_t comma = line.find(',', start);
            const std::string_view field = trim(
                line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
            start = comma + 1;
            double v = 0.0;
            const NumberStatus status = parse_number(field, v);
            if (status == NumberStatus::not_a_number) fail_field(col + 1, "not a number", field);
            if (status == NumberStatus::out_of_range) fail_field(col + 1, "out of range", field);
            if (!std::isfinite(v)) fail_field(col + 1, "not a finite number", field);
            if (has_label && col == label_col) {
                // Accepts "3.0" because numpy.savetxt writes labels as "3.000000000000000000e+00".
                if (v != std::floor(v) || v < std::numeric_limits<std::int32_t>::min() ||
                    v > std::numeric_limits<std::int32_t>::max())
                    fail_field(col + 1, "label is not an integer", field);
                labels.push_back(static_cast<std::int32_t>(v));
                continue;
            }
            DBN_CHECK(std::abs(v) <= std::numeric_limits<Real>::max(), FormatError,
                      path << ":" << line_no << ":" << col + 1 << ": out of float range: \""
                           << field << "\"");
            values.push_back(static_cast<Real>(v));
        }
        ++rows;
    }
    DBN_CHECK(rows > 0, FormatError,
              path << ": " << (ncols == 0 ? "empty file" : "no data rows after the header"));

    Dataset d;
    d.source = path;
    d.x = Matrix::from_shape({rows, ncols - (has_label ? 1 : 0)});
    std::copy(values.begin(), values.end(), d.x.data());
    if (has_label) {
        d.labels = Labels::from_shape({rows});
        std::copy(labels.begin(), labels.end(), d.labels.data());
    }
    return d;
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
