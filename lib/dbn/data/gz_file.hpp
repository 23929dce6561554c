#pragma once

// Internal to the data module: a file read through zlib, for the readers of IDX and CSV files.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <string>

#include <zlib.h>

#include "dbn/core/error.hpp"
#include "dbn/data/readers.hpp"

namespace dbn::data::detail {

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
                if (err == Z_BUF_ERROR) {  // "unexpected end of file": truncated .gz
                    truncated_ = true;
                    break;
                }
                DBN_CHECK(err != Z_ERRNO, IoError,
                          path_ << ": cannot read (" << errno_text(errno) << ")");
                throw FormatError(path_ + ": corrupt gzip data (" + msg + ")");
            }
            if (got == 0) {
                // zlib ends a stream cut short like a whole one, with Z_BUF_ERROR behind it.
                int err = Z_OK;
                (void)gzerror(file_, &err);
                if (err == Z_BUF_ERROR) truncated_ = true;
                break;
            }
            total += static_cast<std::size_t>(got);
        }
        return total;
    }
    const std::string& path() const { return path_; }
    /// @brief True when the file is not gzip (zlib passes its bytes through); known after the
    /// first read.
    bool raw() const { return gzdirect(file_) != 0; }
    /// @brief True once zlib has met the end of a gzip stream cut short: all the values may
    /// have come through while the trailer (CRC-32 and length) that vouches for them did not.
    bool truncated() const { return truncated_; }

private:
    std::string path_;
    gzFile file_ = nullptr;
    bool truncated_ = false;
};

}  // namespace dbn::data::detail
