#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dbn::hdf5 {

/// @brief Identifier of an open HDF5 object: HDF5's `hid_t`, a 64-bit integer since 1.10.
///
/// Spelled as a plain integer so that this header does not pull in <hdf5.h>: the HDF5 include
/// directory is private to the library, and callers (tests, the CLI) never see it.
using Id = std::int64_t;

/// @brief Broad class of an HDF5 datatype, enough to decide whether a reader accepts it.
enum class TypeClass { integer, floating, string, other };

/// @brief What a dataset or attribute holds: class, bytes per element and signedness.
struct TypeInfo {
    TypeClass type_class = TypeClass::other;
    std::size_t size = 0;    ///< bytes per element (variable-length strings: pointer size)
    bool is_signed = false;  ///< integers only
    /// @brief numpy-style name for messages: "float32", "int64", "uint8", "string", "other".
    std::string name() const;
};

/// @brief Shared part of File, Group and Dataset: an owned identifier, the names used in error
/// messages, and the attributes (HighFive's `AnnotateTraits`).
///
/// Every failing HDF5 call raises IoError (FormatError when the content is the problem) whose
/// message starts with "<file>: <object path>" (just "<file>:" for the file itself), so that a
/// user can find the bad spot with h5dump or h5py. Move-only: the identifier is closed exactly
/// once, by the destructor.
///
/// Not safe to share between threads. The HDF5 build Debian ships is thread-safe (one global
/// lock), so separate objects may be used from separate threads.
class Object {
public:
    Object(const Object&) = delete;
    Object& operator=(const Object&) = delete;
    Object(Object&& other) noexcept;
    Object& operator=(Object&& other) noexcept;
    virtual ~Object();

    /// @brief Path of the file on disk, as given when it was opened.
    const std::string& file_name() const { return file_; }
    /// @brief Absolute HDF5 path of the object ("/" for a file's root group).
    const std::string& path() const { return path_; }
    /// @brief "<file>: <path>", the prefix of every error message about this object.
    std::string where() const;
    /// @brief The raw identifier, for code that must call the C API directly.
    Id id() const { return id_; }

    bool has_attribute(const std::string& name) const;
    /// @throws FormatError if the attribute does not exist.
    TypeInfo attribute_type(const std::string& name) const;
    /// @brief Names of all attributes, sorted by name.
    std::vector<std::string> attribute_names() const;

    /// @brief Writes a scalar attribute, replacing one of the same name whatever its type.
    /// Strings are written fixed-length UTF-8, NUL-padded (h5py reads them as `bytes`): they
    /// stay inside the checksummed object header, unlike variable-length ones.
    void write_string_attribute(const std::string& name, const std::string& value);
    void write_int_attribute(const std::string& name, std::int64_t value);
    void write_uint_attribute(const std::string& name, std::uint64_t value);
    /// @brief Writes a 1-D int64 array attribute (at least one value).
    void write_int_array_attribute(const std::string& name,
                                   const std::vector<std::int64_t>& values);
    void write_double_attribute(const std::string& name, double value);
    /// @brief Deletes an attribute; does nothing if there is none of that name.
    void remove_attribute(const std::string& name);

    /// @brief Reads a scalar (or one-element) string attribute, variable- or fixed-length.
    /// Fixed-length strings lose their padding (trailing NULs or spaces).
    /// @throws FormatError when missing or not a string.
    std::string read_string_attribute(const std::string& name) const;
    /// @brief Reads a scalar integer attribute of any integer type.
    /// @throws FormatError when missing, not an integer, or out of the int64 range.
    std::int64_t read_int_attribute(const std::string& name) const;
    /// @brief Reads a scalar integer attribute that must not be negative.
    /// @throws FormatError when missing, not an integer or negative.
    std::uint64_t read_uint_attribute(const std::string& name) const;
    /// @brief Reads a scalar floating-point or integer attribute as double.
    /// @throws FormatError when missing or of another type.
    double read_double_attribute(const std::string& name) const;
    /// @brief Reads an integer attribute holding a scalar or a 1-D array of at most
    /// `max_values` values, of any integer type, as int64 (HDF5 converts; a value out of the
    /// int64 range fails the read).
    /// @throws FormatError when missing, not integers, of rank above 1 or too long.
    std::vector<std::int64_t> read_int_array_attribute(const std::string& name,
                                                       std::size_t max_values) const;

protected:
    Object(Id id, std::string file, std::string path);
    /// @brief Closes the identifier now; throws IoError when HDF5 reports a failure.
    void close_now();
    /// @brief Absolute HDF5 path of `name` taken relative to this object.
    std::string child_path(const std::string& name) const;

    Id id_ = -1;
    std::string file_;
    std::string path_;
};

class Dataset;

/// @brief An HDF5 group: the place datasets, subgroups and attributes live.
class Group : public Object {
public:
    /// @brief True if an object (group, dataset or other) exists at `path`, which may be
    /// relative ("a/b") or absolute ("/a/b"). Missing intermediate groups give false, not an
    /// error.
    bool exists(const std::string& path) const;
    bool has_group(const std::string& path) const;
    bool has_dataset(const std::string& path) const;
    /// @brief Names of the direct members (groups, datasets, links), sorted by name.
    std::vector<std::string> children() const;

    /// @brief Creates a group, with any missing intermediate groups.
    /// @throws IoError if it exists already or cannot be created.
    Group create_group(const std::string& path);
    /// @brief Opens `path` if it exists, else creates it.
    Group require_group(const std::string& path);
    /// @throws FormatError "<file>: <path>: no such group" when it is missing or not a group.
    Group open_group(const std::string& path) const;
    /// @throws FormatError "<file>: <path>: no such dataset" when it is missing or not a dataset.
    Dataset open_dataset(const std::string& path) const;

    /// @brief Writes a new dataset of `shape` (any rank, zero sizes allowed; {} is a scalar)
    /// from `data`, which holds the product of `shape` elements in row-major order.
    ///
    /// Stored little-endian with the element type of T: float32, float64, int32, int64, uint64 or
    /// uint8.
    /// @throws IoError if an object of that name exists or HDF5 fails.
    template <class T>
    Dataset write_dataset(const std::string& name, const T* data,
                          const std::vector<std::size_t>& shape);
    /// @brief Creates an empty dataset of rows, to be filled by Dataset::append_rows: shape
    /// [0, row_shape...], unlimited in the first dimension, stored in chunks of `chunk_rows` rows
    /// (at least 1), little-endian with the element type of T (as write_dataset).
    ///
    /// For output whose row count is not known in advance (streamed feature extraction).
    /// @throws IoError if an object of that name exists or HDF5 fails.
    template <class T>
    Dataset create_row_dataset(const std::string& name, const std::vector<std::size_t>& row_shape,
                               std::size_t chunk_rows);
    /// @brief Writes a 1-D dataset of variable-length UTF-8 strings.
    Dataset write_strings(const std::string& name, const std::vector<std::string>& values);

    /// @brief Unlinks a member (group or dataset). The space is not reclaimed by HDF5.
    /// @throws IoError if it does not exist.
    void remove(const std::string& path);

protected:
    using Object::Object;
    friend class File;
};

/// @brief An HDF5 dataset: a typed n-dimensional array.
class Dataset : public Object {
public:
    /// @brief Extent of each dimension (empty for a scalar dataset).
    std::vector<std::size_t> shape() const;
    std::size_t rank() const { return shape().size(); }
    /// @brief Number of elements (1 for a scalar).
    std::size_t size() const;
    TypeInfo type() const;

    /// @brief Reads every element into `out`, converting to T (float, double, int32_t,
    /// int64_t or uint64_t) the way HDF5 converts (integers to floats, float64 to float32).
    /// @pre `n` equals size(); checked, ShapeError otherwise.
    /// @throws FormatError for strings and other types HDF5 cannot convert to a number.
    template <class T>
    void read(T* out, std::size_t n) const;
    template <class T>
    std::vector<T> read() const {
        std::vector<T> v(size());
        read(v.data(), v.size());
        return v;
    }

    /// @brief Reads rows [first, first + count) of the first dimension (a hyperslab) into `out`,
    /// converting to T as read() does. A row is one element of a 1-D dataset.
    /// @pre `n` equals count times the elements of a row; first + count <= shape()[0]
    ///      (ShapeError otherwise, also for a scalar dataset).
    /// @throws FormatError for strings and other types HDF5 cannot convert to a number.
    template <class T>
    void read_rows(std::size_t first, std::size_t count, T* out, std::size_t n) const;

    /// @brief Extends the first dimension by `count` rows and writes them from `data` (count
    /// times the elements of a row, row-major). The dataset must be extendible (see
    /// Group::create_row_dataset).
    /// @throws IoError when HDF5 cannot extend or write it.
    template <class T>
    void append_rows(const T* data, std::size_t count);

private:
    using Object::Object;
    friend class Group;
};

/// @brief An open HDF5 file, which is also its root group ("/").
class File : public Group {
public:
    enum class Mode { read_only, read_write };

    /// @brief Creates (truncating) a file, in the object formats of HDF5 1.8 and later, whose
    /// metadata (superblock, object headers with their attributes, links) carry checksums.
    /// @throws IoError naming the path when it cannot be created (missing directory, rights).
    static File create(const std::string& path);
    /// @brief Opens an existing file.
    /// @throws IoError when missing or unreadable; FormatError when it is not an HDF5 file.
    static File open(const std::string& path, Mode mode = Mode::read_only);

    File(File&& other) noexcept;
    File& operator=(File&& other) noexcept;
    ~File() override;

    /// @brief Flushes and closes the file, reporting errors the destructor would have to
    /// swallow. Every Group and Dataset of the file must be gone (destroyed or moved from) first;
    /// otherwise HDF5 keeps the file open until they are.
    void close();

private:
    File(Id file_id, Id root_id, const std::string& path);
    Id file_id_ = -1;
};

/// @brief True if `path` is a readable HDF5 file; false if it exists but is something else.
/// @throws IoError if it does not exist or cannot be read.
bool is_hdf5(const std::string& path);

}  // namespace dbn::hdf5
