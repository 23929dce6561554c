// NumPy .npy files (numpy.save): a magic string, a Python-literal header, then the values.

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/gz_file.hpp"
#include "dbn/data/readers.hpp"

namespace dbn::data {
namespace {

namespace fs = std::filesystem;
using detail::GzFile;

/// A header longer than this is not one numpy writes (its headers are a few hundred bytes; the
/// format allows 4 GiB, which would be an allocation sized by the file).
constexpr std::size_t k_max_header = std::size_t{1} << 16;

/// @brief The element type of a `descr` such as '<f4': its kind (f, i, u, b), size and order.
struct NpyType {
    char kind = 'f';
    std::size_t size = 4;
    bool swap = false;  ///< big-endian on this little-endian reader
    std::string descr;
};

NpyType parse_descr(const std::string& descr, const std::string& where) {
    NpyType t;
    t.descr = descr;
    const bool ok_form = descr.size() == 3 && std::strchr("<>|=", descr[0]) != nullptr &&
                         descr[0] != '\0' && std::strchr("fiub", descr[1]) != nullptr &&
                         descr[1] != '\0' && descr[2] >= '1' && descr[2] <= '8';
    DBN_CHECK(ok_form, FormatError,
              where << ": holds " << quote_input(descr)
                    << " values (expected numbers: float, integer or bool, e.g. '<f4')");
    t.kind = descr[1];
    t.size = static_cast<std::size_t>(descr[2] - '0');
    const bool known = (t.kind == 'f' && (t.size == 4 || t.size == 8)) ||
                       ((t.kind == 'i' || t.kind == 'u') &&
                        (t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8)) ||
                       (t.kind == 'b' && t.size == 1);
    DBN_CHECK(known, FormatError,
              where << ": holds " << quote_input(descr)
                    << " values (float16 and other sizes are not read; save float32 or float64)");
    t.swap = descr[0] == '>' && t.size > 1;
    return t;
}

/// @brief The text after `'key':` in a header dict, from its first non-blank character.
std::string_view value_of(std::string_view header, std::string_view key, const std::string& where) {
    const std::string quoted = "'" + std::string(key) + "'";
    std::size_t at = header.find(quoted);
    if (at == std::string_view::npos) at = header.find("\"" + std::string(key) + "\"");
    DBN_CHECK(at != std::string_view::npos, FormatError,
              where << ": the .npy header has no '" << key << "' entry");
    std::size_t p = header.find(':', at + quoted.size());
    DBN_CHECK(p != std::string_view::npos, FormatError,
              where << ": the .npy header's '" << key << "' entry has no value");
    ++p;
    while (p < header.size() && header[p] == ' ') ++p;
    return header.substr(p);
}

std::string parse_quoted(std::string_view v, const std::string& where, const char* key) {
    DBN_CHECK(!v.empty() && (v[0] == '\'' || v[0] == '"'), FormatError,
              where << ": the .npy header's '" << key
                    << "' is not a string (a structured dtype is not read: save a plain numeric "
                       "array)");
    const std::size_t end = v.find(v[0], 1);
    DBN_CHECK(end != std::string_view::npos, FormatError,
              where << ": the .npy header's '" << key << "' string is not closed");
    return std::string(v.substr(1, end - 1));
}

std::vector<std::size_t> parse_shape(std::string_view v, const std::string& where) {
    DBN_CHECK(!v.empty() && v[0] == '(', FormatError,
              where << ": the .npy header's 'shape' is not a tuple");
    const std::size_t end = v.find(')');
    DBN_CHECK(end != std::string_view::npos, FormatError,
              where << ": the .npy header's 'shape' tuple is not closed");
    std::vector<std::size_t> dims;
    std::string_view rest = v.substr(1, end - 1);
    while (!rest.empty()) {
        while (!rest.empty() && (rest[0] == ' ' || rest[0] == ',')) rest.remove_prefix(1);
        if (rest.empty()) break;
        std::size_t n = 0;
        std::size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
            const std::size_t d = static_cast<std::size_t>(rest[digits] - '0');
            DBN_CHECK(n <= (std::numeric_limits<std::size_t>::max() - d) / 10, FormatError,
                      where << ": a dimension of the .npy shape overflows");
            n = n * 10 + d;
            ++digits;
        }
        DBN_CHECK(digits > 0, FormatError,
                  where << ": the .npy header's 'shape' holds " << quote_input(std::string(rest))
                        << " (expected whole numbers)");
        rest.remove_prefix(digits);
        if (!rest.empty() && rest[0] == 'L') rest.remove_prefix(1);  // Python 2's long
        dims.push_back(n);
        DBN_CHECK(dims.size() <= 32, FormatError, where << ": more than 32 dimensions");
    }
    return dims;
}

/// @brief A .npy file read a slice of rows at a time; every dimension but the first makes up the
/// columns (a one-dimensional array is one column). A Fortran-ordered array (numpy.save of a
/// transposed array) is read whole and reordered, once its size is known to match the file.
class NpySource : public RowSource {
public:
    explicit NpySource(const std::string& path) : RowSource(path), file_(path) {
        unsigned char pre[12] = {};
        const std::size_t got = file_.read(pre, 8);
        DBN_CHECK(got == 8 && std::memcmp(pre, "\x93NUMPY", 6) == 0, FormatError,
                  path << ": not a NumPy .npy file (it does not start with \\x93NUMPY)");
        DBN_CHECK(file_.raw(), FormatError,
                  path << ": a compressed .npy file (decompress it first; numpy.save writes it "
                          "uncompressed)");
        const unsigned major = pre[6];
        DBN_CHECK(major >= 1 && major <= 3, FormatError,
                  path << ": .npy format version " << major << "." << unsigned{pre[7]}
                       << " (versions 1 to 3 are read)");
        const std::size_t len_bytes = major == 1 ? 2 : 4;
        DBN_CHECK(file_.read(pre + 8, len_bytes) == len_bytes, FormatError,
                  path << ": truncated: the file ends within the .npy header");
        std::size_t header_len = 0;
        for (std::size_t i = 0; i < len_bytes; ++i)
            header_len |= std::size_t{pre[8 + i]} << (8 * i);
        DBN_CHECK(header_len <= k_max_header, FormatError,
                  path << ": a .npy header of " << header_len << " bytes (more than "
                       << k_max_header << "; not one numpy writes)");
        std::string header(header_len, '\0');
        DBN_CHECK(
            file_.read(reinterpret_cast<unsigned char*>(header.data()), header_len) == header_len,
            FormatError, path << ": truncated: the file ends within the .npy header");
        DBN_CHECK(header.find('\0') == std::string::npos, FormatError,
                  path << ": the .npy header holds a NUL byte");
        type_ = parse_descr(parse_quoted(value_of(header, "descr", path), path, "descr"), path);
        const std::string_view order = value_of(header, "fortran_order", path);
        DBN_CHECK(order.substr(0, 4) == "True" || order.substr(0, 5) == "False", FormatError,
                  path << ": the .npy header's 'fortran_order' is neither True nor False");
        fortran_ = order.substr(0, 4) == "True";
        dims_ = parse_shape(value_of(header, "shape", path), path);
        DBN_CHECK(!dims_.empty(), FormatError,
                  path << ": holds a single number (shape ()); expected an array of samples");
        const std::size_t max_count = std::numeric_limits<std::size_t>::max() / type_.size;
        for (std::size_t d = 1; d < dims_.size(); ++d) {
            DBN_CHECK(dims_[d] == 0 || cols_ <= max_count / dims_[d], FormatError,
                      path << ": dimensions overflow the address space");
            cols_ *= dims_[d];
        }
        rows_ = dims_[0];
        DBN_CHECK(cols_ == 0 || rows_ <= max_count / cols_, FormatError,
                  path << ": dimensions overflow the address space");
        DBN_CHECK(
            rows_ == 0 || cols_ > 0, FormatError,
            path << ": shape announces " << rows_ << " rows of no values (a dimension of size 0)");
        // The values fill the rest of the file exactly: checked before any of them is read, so
        // that no buffer is sized by a shape the file does not back.
        const std::size_t offset = 8 + len_bytes + header_len;
        const std::size_t want = rows_ * cols_ * type_.size;
        std::error_code ec;
        const std::uintmax_t bytes = fs::file_size(path, ec);
        DBN_CHECK(!ec, IoError, path << ": cannot read its size (" << ec.message() << ")");
        DBN_CHECK(bytes >= offset && bytes - offset >= want, FormatError,
                  path << ": truncated: shape " << shape_text() << " of " << type_.descr
                       << " needs " << want << " bytes of values, the file holds "
                       << (bytes >= offset ? bytes - offset : 0));
        DBN_CHECK(bytes - offset == want, FormatError,
                  path << ": " << bytes - offset - want << " bytes after the " << shape_text()
                       << " values of its header (trailing data)");
        if (fortran_ && dims_.size() > 1) {
            whole_.resize(want);
            DBN_CHECK(file_.read(whole_.data(), want) == want, FormatError,
                      path << ": truncated while reading its values");
        }
    }

    std::size_t n_features() const override { return cols_; }
    std::optional<std::size_t> size() const override { return rows_; }
    bool has_labels() const override { return false; }
    std::vector<std::size_t> sample_shape() const override {
        if (dims_.size() == 1) return {1};
        return std::vector<std::size_t>(dims_.begin() + 1, dims_.end());
    }

    /// @brief The next `n` values as 64-bit integers, for reading labels.
    void read_integers(std::size_t n, std::vector<std::int64_t>& out) {
        DBN_CHECK(type_.kind != 'f', FormatError,
                  source() << ": labels must be integers (got " << type_.descr << ")");
        bytes_.resize(n * type_.size);
        fetch(next_, n, bytes_.data());
        out.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            std::uint64_t u = raw_at(bytes_.data() + i * type_.size);
            if (type_.kind == 'i' && type_.size < 8 && (u >> (8 * type_.size - 1)) != 0)
                u |= ~std::uint64_t{0} << (8 * type_.size);  // sign extension
            DBN_CHECK(
                type_.kind != 'u' || u <= std::uint64_t{std::numeric_limits<std::int64_t>::max()},
                FormatError, source() << ": label " << next_ + i << " is out of range");
            out[i] = static_cast<std::int64_t>(u);
        }
    }
    const std::vector<std::size_t>& dims() const { return dims_; }

protected:
    std::size_t read_into(std::size_t max_rows, Matrix& x, Labels&) override {
        const std::size_t n = std::min(max_rows, rows_ - next_);
        if (n == 0) return 0;
        bytes_.resize(n * cols_ * type_.size);
        fetch(next_ * cols_, n * cols_, bytes_.data());
        Real* out = x.data();
        for (std::size_t i = 0; i < n * cols_; ++i) {
            const double v = value_at(bytes_.data() + i * type_.size);
            DBN_CHECK(std::isfinite(v) && std::abs(v) <= std::numeric_limits<Real>::max(),
                      FormatError,
                      source() << ": value at row " << next_ + i / cols_ << ", column " << i % cols_
                               << " is " << v
                               << (std::isfinite(v) ? " (beyond the float range)"
                                                    : " (data must be finite)"));
            out[i] = static_cast<Real>(v);
        }
        next_ += n;
        return n;
    }

private:
    std::string shape_text() const {
        std::string s = "(";
        for (std::size_t d = 0; d < dims_.size(); ++d)
            s += (d ? ", " : "") + std::to_string(dims_[d]);
        return s + ")";
    }

    /// @brief Copies the `count` values from flat C-order index `first` on into `out`.
    void fetch(std::size_t first, std::size_t count, unsigned char* out) {
        const std::size_t es = type_.size;
        if (whole_.empty()) {  // C order (or one dimension): the values as they follow
            DBN_CHECK(file_.read(out, count * es) == count * es, FormatError,
                      source() << ": truncated while reading its values");
            return;
        }
        // Fortran order: element (r, i1, ..., ik) lies at r + N (i1 + d1 (i2 + ...)).
        std::vector<std::size_t> index(dims_.size() - 1);
        for (std::size_t c = 0; c < count; ++c) {
            const std::size_t flat = first + c;
            std::size_t rest = flat % cols_;
            for (std::size_t d = dims_.size() - 1; d >= 1; --d) {
                index[d - 1] = rest % dims_[d];
                rest /= dims_[d];
            }
            std::size_t offset = flat / cols_;
            std::size_t stride = rows_;
            for (std::size_t d = 1; d < dims_.size(); ++d) {
                offset += stride * index[d - 1];
                stride *= dims_[d];
            }
            std::memcpy(out + c * es, whole_.data() + offset * es, es);
        }
    }

    std::uint64_t raw_at(const unsigned char* p) const {
        std::uint64_t u = 0;
        for (std::size_t b = 0; b < type_.size; ++b) {
            const std::size_t shift = type_.swap ? 8 * (type_.size - 1 - b) : 8 * b;
            u |= std::uint64_t{p[b]} << shift;
        }
        return u;
    }

    double value_at(const unsigned char* p) const {
        const std::uint64_t u = raw_at(p);
        switch (type_.kind) {
            case 'f':
                if (type_.size == 4) {
                    const auto bits = static_cast<std::uint32_t>(u);
                    float f;
                    std::memcpy(&f, &bits, sizeof f);
                    return f;
                } else {
                    double d;
                    std::memcpy(&d, &u, sizeof d);
                    return d;
                }
            case 'i': {
                if (type_.size == 8) return static_cast<double>(static_cast<std::int64_t>(u));
                const std::uint64_t sign = std::uint64_t{1} << (8 * type_.size - 1);
                return static_cast<double>(static_cast<std::int64_t>(u ^ sign) -
                                           static_cast<std::int64_t>(sign));
            }
            default:  // 'u' and 'b'
                return static_cast<double>(u);
        }
    }

    GzFile file_;
    NpyType type_;
    bool fortran_ = false;
    std::vector<std::size_t> dims_;
    std::size_t rows_ = 0;
    std::size_t cols_ = 1;
    std::size_t next_ = 0;
    std::vector<unsigned char> bytes_;
    std::vector<unsigned char> whole_;  // a Fortran-ordered array, read at open
};

}  // namespace

namespace detail {

std::unique_ptr<RowSource> open_npy(const std::string& path) {
    return std::make_unique<NpySource>(path);
}

Labels read_npy_labels(const std::string& path) {
    NpySource source(path);
    const auto& dims = source.dims();
    DBN_CHECK(dims.size() == 1 || (dims.size() == 2 && dims[1] == 1), FormatError,
              path << ": labels must have one dimension (got " << dims.size() << ")");
    const std::size_t n = dims[0];
    std::vector<std::int64_t> wide;
    source.read_integers(n, wide);
    Labels labels = Labels::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        DBN_CHECK(wide[i] >= std::numeric_limits<std::int32_t>::min() &&
                      wide[i] <= std::numeric_limits<std::int32_t>::max(),
                  FormatError,
                  path << ": label " << i << " (" << wide[i] << ") is out of the int32 range");
        labels(i) = static_cast<std::int32_t>(wide[i]);
    }
    return labels;
}

}  // namespace detail
}  // namespace dbn::data
