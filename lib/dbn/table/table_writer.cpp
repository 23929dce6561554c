#include "dbn/table/table_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include "dbn/core/error.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/hdf5/hdf5.hpp"

namespace dbn::table {
namespace {

namespace fs = std::filesystem;

enum class Kind { hdf5, csv, npy };

bool ends_with_ci(std::string_view s, std::string_view suffix) {
    if (s.size() < suffix.size()) return false;
    const std::string_view tail = s.substr(s.size() - suffix.size());
    return std::equal(tail.begin(), tail.end(), suffix.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
    });
}

Kind kind_of(const std::string& out) {
    if (ends_with_ci(out, ".h5") || ends_with_ci(out, ".hdf5")) return Kind::hdf5;
    if (ends_with_ci(out, ".csv")) return Kind::csv;
    if (ends_with_ci(out, ".npy")) return Kind::npy;
    throw ConfigError(out + ": unknown output extension (expected .h5, .hdf5, .csv or .npy)");
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

std::size_t element_size(ColumnType t) {
    switch (t) {
        case ColumnType::float32:
        case ColumnType::int32:
            return 4;
        case ColumnType::float64:
        case ColumnType::int64:
            return 8;
    }
    return 8;
}

class Writer {
public:
    virtual ~Writer() = default;
    virtual void write(std::size_t rows, const std::vector<const void*>& columns) = 0;
    virtual void finish() = 0;
};

class Hdf5Writer : public Writer {
public:
    Hdf5Writer(const std::string& path, const std::vector<ColumnGroup>& groups,
               const TableMetadata& meta)
        : file_(hdf5::File::create(path)) {
        for (const auto& [k, v] : meta.strings) file_.write_string_attribute(k, v);
        for (const auto& [k, v] : meta.numbers) file_.write_double_attribute(k, v);
        for (const auto& [k, v] : meta.integers) file_.write_int_attribute(k, v);
        for (const auto& [k, v] : meta.int_datasets)
            file_.write_dataset<std::int64_t>(k, v.data(), {v.size()});
        constexpr std::size_t k_chunk_bytes = std::size_t{256} << 10;
        for (const ColumnGroup& g : groups) {
            const std::size_t row_bytes = std::max<std::size_t>(g.width, 1) * element_size(g.type);
            const std::size_t chunk = std::max<std::size_t>(k_chunk_bytes / row_bytes, 1);
            std::vector<std::size_t> shape;
            if (g.matrix || g.width != 1) shape.push_back(g.width);
            switch (g.type) {
                case ColumnType::float32:
                    sets_.push_back(file_.create_row_dataset<float>(g.name, shape, chunk));
                    break;
                case ColumnType::float64:
                    sets_.push_back(file_.create_row_dataset<double>(g.name, shape, chunk));
                    break;
                case ColumnType::int64:
                    sets_.push_back(file_.create_row_dataset<std::int64_t>(g.name, shape, chunk));
                    break;
                case ColumnType::int32:
                    sets_.push_back(file_.create_row_dataset<std::int32_t>(g.name, shape, chunk));
                    break;
            }
            types_.push_back(g.type);
        }
    }

    void write(std::size_t rows, const std::vector<const void*>& columns) override {
        for (std::size_t g = 0; g < sets_.size(); ++g) {
            switch (types_[g]) {
                case ColumnType::float32:
                    sets_[g].append_rows(static_cast<const float*>(columns[g]), rows);
                    break;
                case ColumnType::float64:
                    sets_[g].append_rows(static_cast<const double*>(columns[g]), rows);
                    break;
                case ColumnType::int64:
                    sets_[g].append_rows(static_cast<const std::int64_t*>(columns[g]), rows);
                    break;
                case ColumnType::int32:
                    sets_[g].append_rows(static_cast<const std::int32_t*>(columns[g]), rows);
                    break;
            }
        }
    }

    void finish() override {
        sets_.clear();  // File::close needs every dataset closed first
        file_.close();
    }

private:
    hdf5::File file_;
    std::vector<hdf5::Dataset> sets_;
    std::vector<ColumnType> types_;
};

/// A stdio file that reports every error and syncs before it closes.
class PlainFile {
public:
    explicit PlainFile(const std::string& path) : path_(path) {
        errno = 0;
        file_ = std::fopen(path.c_str(), "wb");
        DBN_CHECK(file_ != nullptr, IoError,
                  path << ": cannot create (" << errno_text(errno) << ")");
        std::setvbuf(file_, nullptr, _IOFBF, std::size_t{1} << 20);
    }
    PlainFile(const PlainFile&) = delete;
    PlainFile& operator=(const PlainFile&) = delete;
    ~PlainFile() {
        if (file_ != nullptr) std::fclose(file_);
    }
    void put(const void* data, std::size_t n) {
        DBN_CHECK(std::fwrite(data, 1, n, file_) == n, IoError,
                  path_ << ": cannot write (" << errno_text(errno) << ")");
    }
    void rewind() {
        DBN_CHECK(std::fseek(file_, 0, SEEK_SET) == 0, IoError,
                  path_ << ": cannot seek (" << errno_text(errno) << ")");
    }
    void close() {
        DBN_CHECK(std::fflush(file_) == 0, IoError,
                  path_ << ": cannot write (" << errno_text(errno) << ")");
        const int rc = ::fsync(::fileno(file_));
        const int err = errno;
        DBN_CHECK(rc == 0, IoError, path_ << ": cannot sync to disk (" << errno_text(err) << ")");
        std::FILE* f = file_;
        file_ = nullptr;
        DBN_CHECK(std::fclose(f) == 0, IoError,
                  path_ << ": cannot close (" << errno_text(errno) << ")");
    }

private:
    std::string path_;
    std::FILE* file_ = nullptr;
};

class CsvWriter : public Writer {
public:
    CsvWriter(const std::string& path, const std::vector<ColumnGroup>& groups)
        : file_(path), groups_(groups) {
        std::string header;
        for (const ColumnGroup& g : groups) {
            for (const std::string& h : g.headers) {
                if (!header.empty()) header += ',';
                header += h;
            }
        }
        header += '\n';
        file_.put(header.data(), header.size());
        std::size_t width = 0;
        for (const ColumnGroup& g : groups) width += g.width;
        line_.resize(26 * (width + 1) + 2);
    }

    void write(std::size_t rows, const std::vector<const void*>& columns) override {
        for (std::size_t i = 0; i < rows; ++i) {
            char* p = line_.data();
            char* const end = line_.data() + line_.size();
            for (std::size_t g = 0; g < groups_.size(); ++g) {
                const std::size_t w = groups_[g].width;
                for (std::size_t j = 0; j < w; ++j) {
                    if (p != line_.data()) *p++ = ',';
                    const std::size_t at = i * w + j;
                    switch (groups_[g].type) {
                        case ColumnType::float32:
                            // 9 significant digits read back as the same float32 (%.9g).
                            p = std::to_chars(p, end, static_cast<const float*>(columns[g])[at],
                                              std::chars_format::general, 9)
                                    .ptr;
                            break;
                        case ColumnType::float64:
                            p = std::to_chars(p, end, static_cast<const double*>(columns[g])[at],
                                              std::chars_format::general, 17)
                                    .ptr;
                            break;
                        case ColumnType::int64:
                            p = std::to_chars(p, end,
                                              static_cast<const std::int64_t*>(columns[g])[at])
                                    .ptr;
                            break;
                        case ColumnType::int32:
                            p = std::to_chars(p, end,
                                              static_cast<const std::int32_t*>(columns[g])[at])
                                    .ptr;
                            break;
                    }
                }
            }
            *p++ = '\n';
            file_.put(line_.data(), static_cast<std::size_t>(p - line_.data()));
        }
    }

    void finish() override { file_.close(); }

private:
    PlainFile file_;
    std::vector<ColumnGroup> groups_;
    std::vector<char> line_;
};

/// NPY format 1.0: magic, version 1.0, a little-endian uint16 header length, then the header
/// dict padded with spaces and a newline so that the data start at a multiple of 64 bytes. The
/// header is written with room for any row count and rewritten with the real one at the end.
class NpyWriter : public Writer {
public:
    static constexpr std::size_t k_header_bytes = 128;

    NpyWriter(const std::string& path, const ColumnGroup& group, std::size_t index)
        : file_(path), group_(group), index_(index) {
        put_header(0);
    }

    void write(std::size_t rows, const std::vector<const void*>& columns) override {
        file_.put(columns[index_], rows * group_.width * element_size(group_.type));
        rows_ += rows;
    }

    void finish() override {
        file_.rewind();
        put_header(rows_);
        file_.close();
    }

private:
    void put_header(std::size_t rows) {
        const char* descr = "<f4";
        switch (group_.type) {
            case ColumnType::float32:
                descr = "<f4";
                break;
            case ColumnType::float64:
                descr = "<f8";
                break;
            case ColumnType::int64:
                descr = "<i8";
                break;
            case ColumnType::int32:
                descr = "<i4";
                break;
        }
        std::string shape = "(" + std::to_string(rows) + ",";
        if (group_.matrix || group_.width != 1) shape += " " + std::to_string(group_.width);
        shape += ")";
        std::string dict = std::string("{'descr': '") + descr +
                           "', 'fortran_order': False, 'shape': " + shape + ", }";
        const std::size_t prefix = 10;  // magic (6), version (2), header length (2)
        DBN_CHECK(prefix + dict.size() + 1 <= k_header_bytes, IoError,
                  "NPY header too long: " << dict);
        dict.append(k_header_bytes - prefix - dict.size() - 1, ' ');
        dict += '\n';
        std::string head = "\x93NUMPY";
        head += '\x01';
        head += '\x00';
        const std::size_t len = dict.size();
        head += static_cast<char>(len & 0xff);
        head += static_cast<char>((len >> 8) & 0xff);
        head += dict;
        file_.put(head.data(), head.size());
    }

    PlainFile file_;
    ColumnGroup group_;
    std::size_t index_ = 0;
    std::size_t rows_ = 0;
};

}  // namespace

void check_table_extension(const std::string& out) { kind_of(out); }

void write_table(const std::string& out, const std::vector<ColumnGroup>& groups,
                 const TableMetadata& metadata, std::size_t npy_group,
                 const std::function<void(const ChunkSink&)>& produce) {
    const Kind kind = kind_of(out);
    DBN_CHECK(npy_group < groups.size(), ConfigError, "write_table: no group " << npy_group);
    std::error_code ec;
    DBN_CHECK(!fs::is_directory(out, ec), IoError, out << ": cannot write: it is a folder");
    remove_stale_temp_files(out);
    const std::string tmp = temp_path(out);
    try {
        {
            std::unique_ptr<Writer> writer;
            switch (kind) {
                case Kind::hdf5:
                    writer = std::make_unique<Hdf5Writer>(tmp, groups, metadata);
                    break;
                case Kind::csv:
                    writer = std::make_unique<CsvWriter>(tmp, groups);
                    break;
                case Kind::npy:
                    writer = std::make_unique<NpyWriter>(tmp, groups[npy_group], npy_group);
                    break;
            }
            produce([&](std::size_t rows, const std::vector<const void*>& columns) {
                DBN_CHECK(columns.size() == groups.size(), ShapeError,
                          "write_table: " << columns.size() << " columns for " << groups.size()
                                          << " groups");
                writer->write(rows, columns);
            });
            writer->finish();
        }
        if (kind == Kind::hdf5) sync_file(tmp);  // the plain writers sync before closing
        fs::rename(tmp, out, ec);
        DBN_CHECK(!ec, IoError,
                  out << ": cannot write: renaming " << tmp << " over it failed (" << ec.message()
                      << ")");
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
}

}  // namespace dbn::table
