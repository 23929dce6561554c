// IDX files (the MNIST layout): a big-endian header, then the values row after row, raw or gzip.

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <zlib.h>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/gz_file.hpp"
#include "dbn/data/readers.hpp"

namespace dbn::data {
namespace {

namespace fs = std::filesystem;
using detail::errno_text;
using detail::GzFile;

/// Bytes read and decoded at a time: small enough to stay in cache between the two, and the
/// step by which a buffer grows, so that it only grows with data the file actually holds.
constexpr std::size_t k_slice_bytes = std::size_t{1} << 20;

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

std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

std::uint64_t be64(const unsigned char* p) { return (std::uint64_t{be32(p)} << 32) | be32(p + 4); }

/// Decodes one value as a double (exact for every IDX type).
double idx_decode(unsigned type, const unsigned char* p) {
    switch (type) {
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

/// @brief An IDX file read a slice of rows at a time; every dimension but the first makes up the
/// columns (a one-dimensional file is one column).
class IdxStream {
public:
    /// @brief Reads and checks the header, and reads the first row.
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
        // Check the product of the columns on its own, so that a zero row count cannot hide an
        // overflowing column count.
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
        // Rows of no values hold no data, so the file cannot contradict the row count: a damaged
        // header announcing billions of them would be "read" for minutes (fuzz_idx).
        DBN_CHECK(
            rows_ == 0 || cols_ > 0, FormatError,
            path << ": header announces " << rows_ << " rows of no values (a dimension of size 0)");
        row_bytes_ = cols_ * esize_;
        check_file_size(4 + header.size());
        // Callers allocate the rows they ask for before reading them. Reading the first row now
        // makes a corrupt header that announces rows wider than the file fail here, as truncated,
        // rather than as an attempt to allocate gigabytes.
        if (rows_ > 0) fill(row_bytes_);
    }

    unsigned type() const { return type_; }
    std::size_t n_dims() const { return dims_.size(); }
    const std::vector<std::size_t>& dims() const { return dims_; }
    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    std::size_t rows_read() const { return rows_read_; }
    const std::string& path() const { return file_.path(); }

    /// @brief Decodes the next `n` rows into `out` (n x cols() values).
    /// @throws FormatError for a NaN or infinite value, or one beyond the float range.
    void read_values(std::size_t n, Real* out) {
        read_slices(n, [&](const unsigned char* in, std::size_t first_row, std::size_t count) {
            if (type_ == idx_ubyte) {
                // The common case (MNIST pixels) gets a loop the compiler can vectorise.
                for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<Real>(in[i]);
            } else {
                for (std::size_t i = 0; i < count; ++i) {
                    const double v = idx_decode(type_, in + i * esize_);
                    const auto f = static_cast<Real>(v);
                    if (!std::isfinite(f)) {
                        throw FormatError(path() + ": " +
                                          (std::isnan(v) ? "NaN" : "infinite or out-of-range") +
                                          " " + idx_type_name(type_) + " value at row " +
                                          std::to_string(first_row + i / cols_) + ", column " +
                                          std::to_string(i % cols_));
                    }
                    out[i] = f;
                }
            }
            out += count;
        });
    }

    /// @brief Reads the next `n` values of a labels file (see check_labels()) into `out`.
    void read_labels(std::size_t n, std::int32_t* out) {
        read_slices(n, [&](const unsigned char* in, std::size_t, std::size_t count) {
            for (std::size_t i = 0; i < count; ++i)
                *out++ = static_cast<std::int32_t>(idx_decode(type_, in + i * esize_));
        });
    }

    /// @brief After the last row: the file must end there.
    void check_end() {
        if (end_checked_) return;
        end_checked_ = true;
        unsigned char extra = 0;
        DBN_CHECK(file_.read(&extra, 1) == 0, FormatError,
                  path() << ": header says " << rows_ * cols_
                         << " values, file holds more (trailing data)");
        // zlib checks the CRC-32 and the length at the end of the stream; a missing trailer
        // shows only here, after the last value.
        DBN_CHECK(!file_.truncated(), FormatError,
                  path() << ": truncated gzip stream: it ends before its trailer (CRC-32 and "
                            "length), so the values cannot be trusted");
    }

private:
    /// Refuses a header announcing more values than the file can hold, before any buffer is
    /// shaped by it: a raw file must hold them all after its header, a gzip one cannot expand
    /// beyond deflate's limit (about 1032 bytes per stored byte).
    void check_file_size(std::size_t header_bytes) {
        std::error_code ec;
        const std::uintmax_t size = fs::file_size(path(), ec);
        if (ec) return;  // not a regular file (a pipe): the reads find the end
        const std::uintmax_t values = rows_ * cols_;
        const std::uintmax_t data_bytes = values * esize_;  // no overflow: checked above
        if (file_.raw()) {
            const std::uintmax_t held = size > header_bytes ? size - header_bytes : 0;
            DBN_CHECK(data_bytes <= held, FormatError,
                      path() << ": truncated: header says " << values << " values, file holds "
                             << held / esize_);
            return;
        }
        constexpr std::uintmax_t k_max_ratio = 1032;
        constexpr std::uintmax_t k_margin = 1U << 16;
        const std::uintmax_t limit =
            size > (std::numeric_limits<std::uintmax_t>::max() - k_margin) / k_max_ratio
                ? std::numeric_limits<std::uintmax_t>::max()
                : size * k_max_ratio + k_margin;
        DBN_CHECK(data_bytes <= limit, FormatError,
                  path() << ": truncated: header says " << values << " values (" << data_bytes
                         << " bytes), more than a gzip file of " << size << " bytes can hold");
    }

    /// Reads the next `n` rows a slice at a time (at least one row), calling
    /// fn(bytes, index of the slice's first row, number of values) for each.
    template <class Fn>
    void read_slices(std::size_t n, Fn&& fn) {
        DBN_ASSERT(n <= rows_ - rows_read_);
        const std::size_t slice =
            std::max<std::size_t>(1, k_slice_bytes / std::max<std::size_t>(row_bytes_, 1));
        for (std::size_t done = 0; done < n;) {
            const std::size_t k = std::min(slice, n - done);
            fill(k * row_bytes_);
            fn(bytes_.data(), rows_read_, k * cols_);
            buffered_ = 0;
            rows_read_ += k;
            done += k;
        }
        if (rows_read_ == rows_) check_end();
    }

    /// Makes bytes_ hold the next `len` bytes (some may be there already).
    void fill(std::size_t len) {
        while (buffered_ < len) {
            const std::size_t want = std::min(len - buffered_, k_slice_bytes);
            if (bytes_.size() < buffered_ + want) bytes_.resize(buffered_ + want);
            const std::size_t got = file_.read(bytes_.data() + buffered_, want);
            buffered_ += got;
            DBN_CHECK(got == want, FormatError,
                      path() << ": truncated: header says " << rows_ * cols_
                             << " values, file holds "
                             << (rows_read_ * row_bytes_ + buffered_) / esize_);
        }
    }

    GzFile file_;
    unsigned type_ = 0;
    std::size_t esize_ = 1;
    std::vector<std::size_t> dims_;
    std::size_t rows_ = 0;
    std::size_t cols_ = 1;
    std::size_t row_bytes_ = 0;
    std::size_t rows_read_ = 0;
    bool end_checked_ = false;
    std::vector<unsigned char> bytes_;
    std::size_t buffered_ = 0;  // bytes of rows not yet handed out at the front of bytes_
};

/// @brief Refuses an IDX file that cannot hold labels.
void check_labels(const IdxStream& labels) {
    DBN_CHECK(labels.n_dims() == 1, FormatError,
              labels.path() << ": labels must have one dimension (got " << labels.n_dims() << ")");
    DBN_CHECK(labels.type() != idx_float && labels.type() != idx_double, FormatError,
              labels.path() << ": labels must have an integer type (got "
                            << idx_type_name(labels.type()) << ")");
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
    const bool gz = detail::ends_with(name, ".gz");
    const std::string other = gz ? name.substr(0, name.size() - 3) : name + ".gz";
    for (const std::string& candidate : {name, other}) {
        const fs::path q = p.parent_path() / candidate;
        std::error_code ec;
        if (fs::is_regular_file(q, ec)) return q.string();
    }
    return std::nullopt;
}

class IdxSource : public RowSource {
public:
    IdxSource(const std::string& path, bool find_labels) : RowSource(path), images_(path) {
        const auto labels_path = find_labels ? sibling_labels(path) : std::nullopt;
        if (!labels_path) return;
        labels_.emplace(*labels_path);
        check_labels(*labels_);
        DBN_CHECK(labels_->rows() == images_.rows(), FormatError,
                  *labels_path << ": " << labels_->rows() << " labels for " << images_.rows()
                               << " images in " << path);
    }

    std::size_t n_features() const override { return images_.cols(); }
    std::vector<std::size_t> sample_shape() const override {
        const auto& d = images_.dims();
        if (d.size() == 1) return {1};
        return std::vector<std::size_t>(d.begin() + 1, d.end());
    }
    std::optional<std::size_t> size() const override { return images_.rows(); }
    bool has_labels() const override { return labels_.has_value(); }

protected:
    std::size_t read_into(std::size_t max_rows, Matrix& x, Labels& labels) override {
        const std::size_t n = std::min(max_rows, images_.rows() - images_.rows_read());
        if (n == 0) {  // the end-of-file checks of a file without rows
            images_.check_end();
            if (labels_) labels_->check_end();
            return 0;
        }
        images_.read_values(n, x.data());
        if (labels_) labels_->read_labels(n, labels.data());
        return n;
    }

private:
    IdxStream images_;
    std::optional<IdxStream> labels_;
};

}  // namespace

namespace detail {

std::unique_ptr<RowSource> open_idx(const std::string& path, bool sibling_labels) {
    return std::make_unique<IdxSource>(path, sibling_labels);
}

std::string idx_sibling_labels(const std::string& images) {
    return sibling_labels(images).value_or("");
}

}  // namespace detail

Matrix read_idx(const std::string& path) {
    return detail::read_all(*detail::open_idx(path, /*sibling_labels=*/false)).x;
}

Labels read_idx_labels(const std::string& path) {
    IdxStream stream(path);
    check_labels(stream);
    // Grown a slice at a time, so that a header announcing billions of labels fails as truncated
    // before they are allocated.
    std::vector<std::int32_t> values;
    while (values.size() < stream.rows()) {
        const std::size_t n = std::min(stream.rows() - values.size(), k_slice_bytes);
        values.resize(values.size() + n);
        stream.read_labels(n, values.data() + values.size() - n);
    }
    stream.check_end();
    Labels labels = Labels::from_shape({values.size()});
    std::copy(values.begin(), values.end(), labels.data());
    return labels;
}

}  // namespace dbn::data
