// The whole boundary to HDF5's C API (about 850 lines, over the usual 500 on purpose): this is
// the one file of the project that includes <hdf5.h>, so that every call into the C library, the
// check of its return code, the silencing of its error printing and the validation of what a
// file declares (types, ranks, sizes) before it is read stay in one place to audit. Objects,
// attributes, groups, datasets and files share the handle, error and type helpers of the
// anonymous namespaces below.
#include "dbn/hdf5/hdf5.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <type_traits>
#include <utility>

#include <hdf5.h>

#include "dbn/core/error.hpp"

static_assert(std::is_same_v<hid_t, dbn::hdf5::Id>,
              "dbn::hdf5::Id must be HDF5's hid_t (HDF5 >= 1.10)");

namespace dbn::hdf5 {
namespace {

/// HDF5 prints a stack trace to stderr on every failed call unless told not to, and the library
/// never writes to the terminal itself. The setting is per thread in a
/// thread-safe HDF5 build, hence once per thread rather than once per process.
void ensure_quiet() {
    thread_local bool quiet = false;
    if (quiet) return;
    // No cleanup at exit: after a failed write (a full disk) HDF5 1.10 cannot close the file, and
    // its atexit handler closing it again crashes (H5F__close_cb). Every file this wrapper writes
    // is closed explicitly, so the handler has nothing left to do; it only takes effect when
    // called before the library initializes, which is why it comes first.
    static const bool no_atexit = (H5dont_atexit(), true);
    (void)no_atexit;
    DBN_CHECK(H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0, IoError,
              "HDF5: cannot turn off automatic error printing");
    quiet = true;
}

herr_t innermost_error(unsigned n, const H5E_error2_t* err, void* data) {
    // Walking upward, entry 0 is the innermost: the one that says what actually went wrong
    // ("file signature not found", "errno = 2, ... No such file or directory").
    if (n == 0 && err != nullptr && err->desc != nullptr)
        *static_cast<std::string*>(data) = err->desc;
    return 0;
}

/// @brief `desc` on one line: a failed system call's description ("file write failed: time =
/// ..., errno = 28, error message = 'No space left on device', ...") becomes its error message,
/// and line breaks become spaces.
std::string one_line(std::string desc) {
    const std::string key = "error message = '";
    const std::size_t at = desc.find(key);
    if (at != std::string::npos) {
        const std::size_t begin = at + key.size();
        const std::size_t end = desc.find('\'', begin);
        const std::size_t colon = desc.find(':');
        const std::string call =
            colon != std::string::npos && colon < at ? desc.substr(0, colon) : std::string();
        desc = (call.empty() ? "" : call + ": ") + desc.substr(begin, end - begin);
    }
    for (char& c : desc)
        if (c == '\n' || c == '\r') c = ' ';
    const std::size_t last = desc.find_last_not_of(' ');
    desc.resize(last == std::string::npos ? 0 : last + 1);
    return desc;
}

/// @brief HDF5's own reason for the last failure (empty if none), and clears its error stack.
std::string hdf5_reason() {
    std::string reason;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, &reason);
    H5Eclear2(H5E_DEFAULT);
    return one_line(reason);
}

template <class Err = IoError>
[[noreturn]] void fail(const std::string& where, const std::string& what) {
    const std::string reason = hdf5_reason();
    std::ostringstream msg;
    msg << where << ": " << what;
    if (!reason.empty()) msg << " (HDF5: " << reason << ")";
    throw Err(msg.str());
}

void check(herr_t rc, const std::string& where, const std::string& what) {
    if (rc < 0) fail(where, what);
}

hid_t check_id(hid_t id, const std::string& where, const std::string& what) {
    if (id < 0) fail(where, what);
    return id;
}

/// @brief Owns a temporary identifier (dataspace, datatype, property list, attribute).
class Handle {
public:
    using Closer = herr_t (*)(hid_t);
    Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), closer_(other.closer_) {}
    Handle& operator=(Handle&&) = delete;
    ~Handle() {
        if (id_ >= 0) closer_(id_);  // a destructor cannot report; close() is for that
    }
    hid_t get() const { return id_; }
    /// @brief Closes now and reports a failure (an attribute write surfaces errors here).
    void close(const std::string& where, const std::string& what) {
        const hid_t id = id_;
        id_ = -1;
        check(closer_(id), where, what);
    }

private:
    hid_t id_;
    Closer closer_;
};

std::string join(const std::string& parent, const std::string& name) {
    if (!name.empty() && name.front() == '/') return name;
    if (parent.empty() || parent == "/") return "/" + name;
    return parent + "/" + name;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

TypeInfo type_info(hid_t type, const std::string& where) {
    TypeInfo info;
    const H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_NO_CLASS) fail(where, "cannot query the datatype");
    const std::size_t size = H5Tget_size(type);
    if (size == 0) fail(where, "cannot query the datatype size");
    info.size = size;
    switch (cls) {
        case H5T_INTEGER: {
            info.type_class = TypeClass::integer;
            const H5T_sign_t sign = H5Tget_sign(type);
            if (sign == H5T_SGN_ERROR) fail(where, "cannot query the integer sign");
            info.is_signed = sign == H5T_SGN_2;
            break;
        }
        case H5T_FLOAT:
            info.type_class = TypeClass::floating;
            break;
        case H5T_STRING:
            info.type_class = TypeClass::string;
            break;
        default:
            info.type_class = TypeClass::other;
            break;
    }
    return info;
}

template <class T>
hid_t memory_type();
template <>
hid_t memory_type<float>() {
    return H5T_NATIVE_FLOAT;
}
template <>
hid_t memory_type<double>() {
    return H5T_NATIVE_DOUBLE;
}
template <>
hid_t memory_type<std::int32_t>() {
    return H5T_NATIVE_INT32;
}
template <>
hid_t memory_type<std::int64_t>() {
    return H5T_NATIVE_INT64;
}
template <>
hid_t memory_type<std::uint64_t>() {
    return H5T_NATIVE_UINT64;
}
template <>
hid_t memory_type<std::uint8_t>() {
    return H5T_NATIVE_UINT8;
}

/// Files always hold little-endian IEEE / two's-complement types, whatever the host, so that a
/// file is byte-identical wherever it was written.
template <class T>
hid_t file_type();
template <>
hid_t file_type<float>() {
    return H5T_IEEE_F32LE;
}
template <>
hid_t file_type<double>() {
    return H5T_IEEE_F64LE;
}
template <>
hid_t file_type<std::int32_t>() {
    return H5T_STD_I32LE;
}
template <>
hid_t file_type<std::int64_t>() {
    return H5T_STD_I64LE;
}
template <>
hid_t file_type<std::uint64_t>() {
    return H5T_STD_U64LE;
}
template <>
hid_t file_type<std::uint8_t>() {
    return H5T_STD_U8LE;
}

/// @brief A creation property list of `cls` (groups or datasets) that records no modification
/// times: HDF5 stamps every object header with them by default, so two runs that write the same
/// content a second apart would give files that differ in bytes. Reproducible files are a
/// promise of the formats (the same seed gives the same file).
hid_t untimed_cpl(hid_t cls, const std::string& where) {
    const hid_t cpl = check_id(H5Pcreate(cls), where, "cannot create a property list");
    if (H5Pset_obj_track_times(cpl, 0) < 0) {
        H5Pclose(cpl);
        fail(where, "cannot set the object creation properties");
    }
    return cpl;
}

/// @brief Creates the missing groups on the way to `path` (relative to `loc`, or absolute), each
/// untimed. HDF5's own option for this (H5Pset_create_intermediate_group) would give them the
/// default, timed, creation properties.
void create_parents(hid_t loc, const std::string& path, const std::string& where) {
    std::string prefix = !path.empty() && path.front() == '/' ? "/" : "";
    bool any = false;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t slash = path.find('/', pos);
        if (slash == std::string::npos) return;  // the last component is the object itself
        const std::string part = path.substr(pos, slash - pos);
        pos = slash + 1;
        if (part.empty()) continue;
        if (any) prefix += "/";
        prefix += part;
        any = true;
        const htri_t link = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
        if (link < 0) fail(where, "cannot look up " + prefix);
        if (link > 0) {
            const hid_t g = H5Gopen2(loc, prefix.c_str(), H5P_DEFAULT);
            if (g < 0) fail(where, "cannot create it: " + prefix + " is not a group");
            H5Gclose(g);
            continue;
        }
        Handle gcpl(untimed_cpl(H5P_GROUP_CREATE, where), H5Pclose);
        const hid_t g = H5Gcreate2(loc, prefix.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT);
        check_id(g, where, "cannot create group " + prefix);
        H5Gclose(g);
    }
}

/// @brief Size in bytes of the file that holds `obj`.
std::uint64_t file_size(hid_t obj, const std::string& where) {
    Handle file(check_id(H5Iget_file_id(obj), where, "cannot find the file"), H5Fclose);
    hsize_t size = 0;
    check(H5Fget_filesize(file.get(), &size), where, "cannot read the file size");
    return size;
}

/// @brief a * b, or nullopt when it overflows 64 bits.
std::optional<std::uint64_t> times(std::uint64_t a, std::uint64_t b) {
    if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return std::nullopt;
    return a * b;
}

std::string shape_text(const std::vector<hsize_t>& dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

/// HDF5's deflate filter, the strongest one built in, expands a stored byte into at most about
/// 1032 bytes (zlib's limit for long runs); a filtered dataset declaring more than that per
/// stored byte cannot be real.
constexpr std::uint64_t k_max_filter_ratio = 1032;

/// @brief Refuses a dataset whose declared shape needs more bytes than the file can hold, before
/// anyone allocates a buffer of that shape: an unfiltered dataset cannot hold more bytes than
/// the file, a filtered (compressed) one no more than k_max_filter_ratio times its stored bytes.
void check_declared_size(hid_t ds, const std::string& where) {
    Handle space(check_id(H5Dget_space(ds), where, "cannot read the dataspace"), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) fail<FormatError>(where, "cannot read the rank");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
        fail<FormatError>(where, "cannot read the dimensions");
    Handle type(check_id(H5Dget_type(ds), where, "cannot read the datatype"), H5Tclose);
    const std::size_t element = H5Tget_size(type.get());
    if (element == 0) fail<FormatError>(where, "cannot read the datatype size");
    std::optional<std::uint64_t> bytes = element;
    for (hsize_t d : dims)
        if (bytes) bytes = times(*bytes, d);
    const std::string declared =
        "shape " + shape_text(dims) + " of " + std::to_string(element) + "-byte elements";
    if (!bytes) throw FormatError(where + ": " + declared + " overflows 64 bits (damaged file?)");
    if (*bytes == 0) return;
    Handle dcpl(check_id(H5Dget_create_plist(ds), where, "cannot read the creation properties"),
                H5Pclose);
    const int filters = H5Pget_nfilters(dcpl.get());
    if (filters < 0) fail<FormatError>(where, "cannot read the filters");
    const std::uint64_t file_bytes = file_size(ds, where);
    if (filters == 0) {
        if (*bytes > file_bytes)
            throw FormatError(where + ": " + declared + " needs " + std::to_string(*bytes) +
                              " bytes, more than the whole file (" + std::to_string(file_bytes) +
                              " bytes): the file is damaged or truncated");
        return;
    }
    const std::uint64_t stored = H5Dget_storage_size(ds);
    const std::uint64_t limit = times(stored, k_max_filter_ratio).value_or(*bytes);
    if (*bytes > limit)
        throw FormatError(where + ": " + declared + " needs " + std::to_string(*bytes) +
                          " bytes, but only " + std::to_string(stored) +
                          " compressed bytes are stored (more than " +
                          std::to_string(k_max_filter_ratio) +
                          " bytes per stored byte): the file is damaged or truncated");
}

/// @brief Refuses a storage layout that does not fit the declared shape, before HDF5 reads by
/// it: HDF5 1.10 sizes its buffers by the layout message and reads by the shape, so a damaged
/// layout made it read past its own buffer (a compact layout or chunk of the wrong size,
/// fuzz_hdf5_data). Compact data must be exactly the declared bytes; contiguous data, when
/// allocated, at least them; a chunk (allocated whole when read) no more than the file holds,
/// or for a filtered dataset than k_max_filter_ratio times its stored bytes.
void check_layout(hid_t ds, const std::string& where) {
    Handle space(check_id(H5Dget_space(ds), where, "cannot read the dataspace"), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) fail<FormatError>(where, "cannot read the rank");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
        fail<FormatError>(where, "cannot read the dimensions");
    Handle type(check_id(H5Dget_type(ds), where, "cannot read the datatype"), H5Tclose);
    const std::size_t element = H5Tget_size(type.get());
    std::uint64_t bytes = element;
    for (hsize_t d : dims) bytes *= d;  // no overflow: check_declared_size came first
    if (bytes == 0) return;
    Handle dcpl(check_id(H5Dget_create_plist(ds), where, "cannot read the creation properties"),
                H5Pclose);
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    if (layout < 0) fail<FormatError>(where, "cannot read the storage layout");
    const std::uint64_t stored = H5Dget_storage_size(ds);
    const std::string declared = "shape " + shape_text(dims) + " of " + std::to_string(element) +
                                 "-byte elements (" + std::to_string(bytes) + " bytes)";
    if (layout == H5D_COMPACT) {
        if (stored != bytes)
            throw FormatError(where + ": its compact storage holds " + std::to_string(stored) +
                              " bytes for a " + declared + ": the file is damaged");
        return;
    }
    if (layout == H5D_CONTIGUOUS) {
        if (stored != 0 && stored < bytes)
            throw FormatError(where + ": its contiguous storage holds " + std::to_string(stored) +
                              " bytes for a " + declared + ": the file is damaged");
        return;
    }
    if (layout != H5D_CHUNKED) return;  // virtual datasets: HDF5 reads the sources
    std::vector<hsize_t> chunk(static_cast<std::size_t>(std::max(rank, 1)));
    const int chunk_rank = H5Pget_chunk(dcpl.get(), rank, chunk.data());
    if (chunk_rank != rank)
        throw FormatError(where + ": chunks of " + std::to_string(chunk_rank) +
                          " dimensions for a dataset of " + std::to_string(rank) +
                          ": the file is damaged");
    chunk.resize(static_cast<std::size_t>(rank));
    std::optional<std::uint64_t> chunk_bytes = element;
    for (hsize_t d : chunk)
        if (chunk_bytes) chunk_bytes = times(*chunk_bytes, d);
    const int filters = H5Pget_nfilters(dcpl.get());
    if (filters < 0) fail<FormatError>(where, "cannot read the filters");
    const std::uint64_t file_bytes = file_size(ds, where);
    const std::uint64_t limit =
        filters == 0 ? file_bytes
                     : times(stored, k_max_filter_ratio).value_or(std::uint64_t{0} - 1);
    if (!chunk_bytes || *chunk_bytes == 0 || *chunk_bytes > limit)
        throw FormatError(where + ": chunks of shape " + shape_text(chunk) + " (" +
                          (chunk_bytes ? std::to_string(*chunk_bytes) : std::string("over 2^64")) +
                          " bytes each) for a " + declared + ", more than " +
                          (filters == 0
                               ? "the whole file (" + std::to_string(file_bytes) + " bytes)"
                               : std::to_string(k_max_filter_ratio) + " times the " +
                                     std::to_string(stored) + " compressed bytes stored") +
                          ": the file is damaged");
}

/// @brief Type of the object at `path` (H5I_GROUP, H5I_DATASET, ...); it must exist.
H5I_type_t object_type(hid_t loc, const std::string& path, const std::string& where) {
    Handle obj(check_id(H5Oopen(loc, path.c_str(), H5P_DEFAULT), where, "cannot open object"),
               H5Oclose);
    const H5I_type_t t = H5Iget_type(obj.get());
    if (t == H5I_BADID) fail(where, "cannot query the object type");
    return t;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TypeInfo

std::string TypeInfo::name() const {
    switch (type_class) {
        case TypeClass::integer:
            return (is_signed ? "int" : "uint") + std::to_string(size * 8);
        case TypeClass::floating:
            return "float" + std::to_string(size * 8);
        case TypeClass::string:
            return "string";
        case TypeClass::other:
            break;
    }
    return "other";
}

// ---------------------------------------------------------------------------------------------
// Object

Object::Object(Id id, std::string file, std::string path)
    : id_(id), file_(std::move(file)), path_(std::move(path)) {}

Object::Object(Object&& other) noexcept
    : id_(std::exchange(other.id_, -1)),
      file_(std::move(other.file_)),
      path_(std::move(other.path_)) {}

Object& Object::operator=(Object&& other) noexcept {
    if (this != &other) {
        if (id_ >= 0) H5Oclose(id_);
        id_ = std::exchange(other.id_, -1);
        file_ = std::move(other.file_);
        path_ = std::move(other.path_);
    }
    return *this;
}

Object::~Object() {
    if (id_ >= 0) H5Oclose(id_);
}

void Object::close_now() {
    if (id_ < 0) return;
    const hid_t id = std::exchange(id_, -1);
    check(H5Oclose(id), where(), "cannot close");
}

std::string Object::where() const { return file_ + ": " + path_; }

std::string Object::child_path(const std::string& name) const { return join(path_, name); }

bool Object::has_attribute(const std::string& name) const {
    ensure_quiet();
    const htri_t rc = H5Aexists(id_, name.c_str());
    if (rc < 0) fail(where(), "cannot look up attribute " + quoted(name));
    return rc > 0;
}

namespace {

/// @brief Opens a scalar (or one-element) attribute, with messages naming it.
Handle open_scalar_attribute(hid_t obj, const std::string& where, const std::string& name) {
    const htri_t rc = H5Aexists(obj, name.c_str());
    if (rc < 0) fail(where, "cannot look up attribute " + quoted(name));
    if (rc == 0) fail<FormatError>(where, "missing attribute " + quoted(name));
    Handle attr(check_id(H5Aopen(obj, name.c_str(), H5P_DEFAULT), where,
                         "cannot open attribute " + quoted(name)),
                H5Aclose);
    Handle space(check_id(H5Aget_space(attr.get()), where,
                          "cannot read the dataspace of attribute " + quoted(name)),
                 H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n < 0) fail(where, "cannot read the size of attribute " + quoted(name));
    if (n != 1)
        fail<FormatError>(where, "attribute " + quoted(name) + " holds " + std::to_string(n) +
                                     " values (expected a single value)");
    return attr;
}

}  // namespace

TypeInfo Object::attribute_type(const std::string& name) const {
    ensure_quiet();
    const htri_t rc = H5Aexists(id_, name.c_str());
    if (rc < 0) fail(where(), "cannot look up attribute " + quoted(name));
    if (rc == 0) fail<FormatError>(where(), "missing attribute " + quoted(name));
    Handle attr(check_id(H5Aopen(id_, name.c_str(), H5P_DEFAULT), where(),
                         "cannot open attribute " + quoted(name)),
                H5Aclose);
    Handle type(check_id(H5Aget_type(attr.get()), where(),
                         "cannot read the type of attribute " + quoted(name)),
                H5Tclose);
    return type_info(type.get(), where() + " (attribute " + quoted(name) + ")");
}

namespace {
herr_t collect_attribute_name(hid_t, const char* name, const H5A_info_t*, void* data) {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
}
}  // namespace

std::vector<std::string> Object::attribute_names() const {
    ensure_quiet();
    std::vector<std::string> names;
    check(H5Aiterate2(id_, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attribute_name, &names),
          where(), "cannot list attributes");
    return names;
}

void Object::remove_attribute(const std::string& name) {
    if (!has_attribute(name)) return;
    check(H5Adelete(id_, name.c_str()), where(), "cannot delete attribute " + quoted(name));
}

namespace {

/// @brief Creates (replacing) attribute `name` of `ftype` over `space` (scalar or simple) and
/// writes `value` as `mtype`.
void write_attribute(hid_t obj, const std::string& where, const std::string& name, hid_t ftype,
                     hid_t mtype, const Handle& space, const void* value) {
    const htri_t exists = H5Aexists(obj, name.c_str());
    if (exists < 0) fail(where, "cannot look up attribute " + quoted(name));
    if (exists > 0)
        check(H5Adelete(obj, name.c_str()), where, "cannot replace attribute " + quoted(name));
    Handle attr(
        check_id(H5Acreate2(obj, name.c_str(), ftype, space.get(), H5P_DEFAULT, H5P_DEFAULT), where,
                 "cannot create attribute " + quoted(name)),
        H5Aclose);
    check(H5Awrite(attr.get(), mtype, value), where, "cannot write attribute " + quoted(name));
    attr.close(where, "cannot close attribute " + quoted(name));
}

/// @brief write_attribute() of a scalar.
void write_scalar_attribute(hid_t obj, const std::string& where, const std::string& name,
                            hid_t ftype, hid_t mtype, const void* value) {
    Handle space(check_id(H5Screate(H5S_SCALAR), where, "cannot create a dataspace"), H5Sclose);
    write_attribute(obj, where, name, ftype, mtype, space, value);
}

}  // namespace

void Object::write_string_attribute(const std::string& name, const std::string& value) {
    ensure_quiet();
    // Fixed length, stored in the attribute itself: a variable-length string lives in the
    // file's global heap, which has no checksum, and HDF5 1.10 follows a damaged heap reference
    // without checking it (a crash in H5HG_read). NUL-padded to at least one byte (HDF5 has no
    // zero-size string type); readers drop the padding.
    Handle type(check_id(H5Tcopy(H5T_C_S1), where(), "cannot create a string type"), H5Tclose);
    check(H5Tset_size(type.get(), std::max<std::size_t>(value.size(), 1)), where(),
          "cannot set the string type size");
    check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), where(), "cannot set the string padding");
    check(H5Tset_cset(type.get(), H5T_CSET_UTF8), where(), "cannot set the string encoding");
    std::string buffer = value;
    if (buffer.empty()) buffer.push_back('\0');
    write_scalar_attribute(id_, where(), name, type.get(), type.get(), buffer.data());
}

void Object::write_int_attribute(const std::string& name, std::int64_t value) {
    ensure_quiet();
    write_scalar_attribute(id_, where(), name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void Object::write_int_array_attribute(const std::string& name,
                                       const std::vector<std::int64_t>& values) {
    ensure_quiet();
    if (values.empty())
        fail<ConfigError>(where(), "attribute " + quoted(name) + ": an array of no values");
    const hsize_t n = values.size();
    Handle space(check_id(H5Screate_simple(1, &n, nullptr), where(), "cannot create a dataspace"),
                 H5Sclose);
    write_attribute(id_, where(), name, H5T_STD_I64LE, H5T_NATIVE_INT64, space, values.data());
}

void Object::write_uint_attribute(const std::string& name, std::uint64_t value) {
    ensure_quiet();
    write_scalar_attribute(id_, where(), name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

void Object::write_double_attribute(const std::string& name, double value) {
    ensure_quiet();
    write_scalar_attribute(id_, where(), name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

std::string Object::read_string_attribute(const std::string& name) const {
    ensure_quiet();
    const std::string what = "attribute " + quoted(name);
    Handle attr = open_scalar_attribute(id_, where(), name);
    Handle ftype(check_id(H5Aget_type(attr.get()), where(), "cannot read the type of " + what),
                 H5Tclose);
    const TypeInfo info = type_info(ftype.get(), where() + " (" + what + ")");
    if (info.type_class != TypeClass::string)
        fail<FormatError>(where(), what + " is " + info.name() + " (expected a string)");

    const htri_t variable = H5Tis_variable_str(ftype.get());
    if (variable < 0) fail(where(), "cannot query the string type of " + what);
    if (variable > 0) {
        // The memory type takes the file's character set: HDF5 refuses to convert between
        // ASCII and UTF-8 strings.
        Handle mtype(check_id(H5Tcopy(H5T_C_S1), where(), "cannot create a string type"), H5Tclose);
        check(H5Tset_size(mtype.get(), H5T_VARIABLE), where(), "cannot set the string size");
        const H5T_cset_t cset = H5Tget_cset(ftype.get());
        if (cset == H5T_CSET_ERROR) fail(where(), "cannot query the encoding of " + what);
        check(H5Tset_cset(mtype.get(), cset), where(), "cannot set the string encoding");
        char* text = nullptr;
        check(H5Aread(attr.get(), mtype.get(), &text), where(), "cannot read " + what);
        std::string value = text != nullptr ? text : "";
        if (text != nullptr) H5free_memory(text);
        return value;
    }
    // Fixed length: read the bytes as stored, then drop the padding ourselves, since HDF5's
    // conversion to a NUL-terminated type of the same size would cut the last character. The
    // declared size is checked against what is stored before it sizes the buffer.
    const hsize_t stored = H5Aget_storage_size(attr.get());
    const std::uint64_t whole = file_size(id_, where());
    if (info.size > stored || info.size > whole)
        fail<FormatError>(where(), what + " declares a string of " + std::to_string(info.size) +
                                       " bytes, but " + std::to_string(stored) +
                                       " are stored (file of " + std::to_string(whole) +
                                       " bytes): the file is damaged");
    std::string buffer(info.size, '\0');
    check(H5Aread(attr.get(), ftype.get(), buffer.data()), where(), "cannot read " + what);
    const H5T_str_t pad = H5Tget_strpad(ftype.get());
    if (pad == H5T_STR_ERROR) fail(where(), "cannot query the padding of " + what);
    const std::size_t nul = buffer.find('\0');
    if (nul != std::string::npos) buffer.resize(nul);
    if (pad == H5T_STR_SPACEPAD) {
        const std::size_t last = buffer.find_last_not_of(' ');
        buffer.resize(last == std::string::npos ? 0 : last + 1);
    }
    return buffer;
}

namespace {

/// @brief Reads a one-value integer attribute as int64 or uint64 (by the stored sign).
template <class T>
T read_integer(const Handle& attr, const std::string& where, const std::string& what) {
    T value{};
    check(H5Aread(attr.get(), memory_type<T>(), &value), where, "cannot read " + what);
    return value;
}

TypeInfo attribute_info(const Handle& attr, const std::string& where, const std::string& what) {
    Handle ftype(check_id(H5Aget_type(attr.get()), where, "cannot read the type of " + what),
                 H5Tclose);
    return type_info(ftype.get(), where + " (" + what + ")");
}

}  // namespace

std::int64_t Object::read_int_attribute(const std::string& name) const {
    ensure_quiet();
    const std::string what = "attribute " + quoted(name);
    Handle attr = open_scalar_attribute(id_, where(), name);
    const TypeInfo info = attribute_info(attr, where(), what);
    if (info.type_class != TypeClass::integer)
        fail<FormatError>(where(), what + " is " + info.name() + " (expected an integer)");
    if (!info.is_signed && info.size >= sizeof(std::uint64_t)) {
        const auto u = read_integer<std::uint64_t>(attr, where(), what);
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            fail<FormatError>(where(), what + " = " + std::to_string(u) + " is out of range");
        return static_cast<std::int64_t>(u);
    }
    return read_integer<std::int64_t>(attr, where(), what);
}

std::uint64_t Object::read_uint_attribute(const std::string& name) const {
    ensure_quiet();
    const std::string what = "attribute " + quoted(name);
    Handle attr = open_scalar_attribute(id_, where(), name);
    const TypeInfo info = attribute_info(attr, where(), what);
    if (info.type_class != TypeClass::integer)
        fail<FormatError>(where(), what + " is " + info.name() + " (expected an integer)");
    if (!info.is_signed) return read_integer<std::uint64_t>(attr, where(), what);
    const auto v = read_integer<std::int64_t>(attr, where(), what);
    if (v < 0) fail<FormatError>(where(), what + " = " + std::to_string(v) + " is negative");
    return static_cast<std::uint64_t>(v);
}

double Object::read_double_attribute(const std::string& name) const {
    ensure_quiet();
    const std::string what = "attribute " + quoted(name);
    Handle attr = open_scalar_attribute(id_, where(), name);
    const TypeInfo info = attribute_info(attr, where(), what);
    if (info.type_class != TypeClass::floating && info.type_class != TypeClass::integer)
        fail<FormatError>(where(), what + " is " + info.name() + " (expected a number)");
    double value = 0.0;
    check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value), where(), "cannot read " + what);
    return value;
}

std::vector<std::int64_t> Object::read_int_array_attribute(const std::string& name,
                                                           std::size_t max_values) const {
    ensure_quiet();
    const std::string what = "attribute " + quoted(name);
    const htri_t rc = H5Aexists(id_, name.c_str());
    if (rc < 0) fail(where(), "cannot look up " + what);
    if (rc == 0) fail<FormatError>(where(), "missing " + what);
    Handle attr(check_id(H5Aopen(id_, name.c_str(), H5P_DEFAULT), where(), "cannot open " + what),
                H5Aclose);
    const TypeInfo info = attribute_info(attr, where(), what);
    if (info.type_class != TypeClass::integer)
        fail<FormatError>(where(), what + " is " + info.name() + " (expected integers)");
    Handle space(
        check_id(H5Aget_space(attr.get()), where(), "cannot read the dataspace of " + what),
        H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) fail(where(), "cannot read the rank of " + what);
    if (rank > 1)
        fail<FormatError>(where(),
                          what + " has rank " + std::to_string(rank) + " (expected a 1-D array)");
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n < 0) fail(where(), "cannot read the size of " + what);
    if (static_cast<std::uint64_t>(n) > max_values)
        fail<FormatError>(where(), what + " holds " + std::to_string(n) + " values (at most " +
                                       std::to_string(max_values) + " expected)");
    std::vector<std::int64_t> values(static_cast<std::size_t>(n));
    if (n > 0)
        check(H5Aread(attr.get(), H5T_NATIVE_INT64, values.data()), where(), "cannot read " + what);
    return values;
}

// ---------------------------------------------------------------------------------------------
// Group

bool Group::exists(const std::string& path) const {
    ensure_quiet();
    // H5Lexists fails (rather than answering false) when an intermediate group is missing or
    // is a dataset, so walk the path one component at a time.
    std::string prefix = !path.empty() && path.front() == '/' ? "/" : "";
    std::size_t pos = 0;
    bool any = false;
    while (pos <= path.size()) {
        std::size_t slash = path.find('/', pos);
        if (slash == std::string::npos) slash = path.size();
        const std::string part = path.substr(pos, slash - pos);
        pos = slash + 1;
        if (part.empty()) continue;
        if (any) {
            // The previous component must be a group for this one to be looked up in it.
            if (object_type(id_, prefix, file_ + ": " + child_path(prefix)) != H5I_GROUP)
                return false;
            prefix += "/";
        }
        prefix += part;
        any = true;
        const htri_t link = H5Lexists(id_, prefix.c_str(), H5P_DEFAULT);
        if (link < 0) fail(file_ + ": " + child_path(prefix), "cannot look up the link");
        if (link == 0) return false;
    }
    if (!any) return true;  // "" or "/": this group or the root
    // A dangling soft link exists as a link but not as an object.
    const htri_t obj = H5Oexists_by_name(id_, prefix.c_str(), H5P_DEFAULT);
    if (obj < 0) fail(file_ + ": " + child_path(prefix), "cannot look up the object");
    return obj > 0;
}

bool Group::has_group(const std::string& path) const {
    return exists(path) && object_type(id_, path, file_ + ": " + child_path(path)) == H5I_GROUP;
}

bool Group::has_dataset(const std::string& path) const {
    return exists(path) && object_type(id_, path, file_ + ": " + child_path(path)) == H5I_DATASET;
}

std::vector<std::string> Group::children() const {
    ensure_quiet();
    H5G_info_t info;
    check(H5Gget_info(id_, &info), where(), "cannot list the group");
    std::vector<std::string> names;
    names.reserve(info.nlinks);
    for (hsize_t i = 0; i < info.nlinks; ++i) {
        const ssize_t len =
            H5Lget_name_by_idx(id_, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
        if (len < 0) fail(where(), "cannot read member names");
        std::string name(static_cast<std::size_t>(len) + 1, '\0');
        if (H5Lget_name_by_idx(id_, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                               H5P_DEFAULT) < 0)
            fail(where(), "cannot read member names");
        name.resize(static_cast<std::size_t>(len));
        names.push_back(std::move(name));
    }
    return names;
}

Group Group::create_group(const std::string& path) {
    ensure_quiet();
    const std::string full = child_path(path);
    if (exists(path)) fail(file_ + ": " + full, "cannot create group: the name is taken");
    create_parents(id_, path, file_ + ": " + full);
    Handle gcpl(untimed_cpl(H5P_GROUP_CREATE, file_ + ": " + full), H5Pclose);
    const hid_t id = H5Gcreate2(id_, path.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT);
    check_id(id, file_ + ": " + full, "cannot create group");
    return Group(id, file_, full);
}

Group Group::require_group(const std::string& path) {
    return has_group(path) ? open_group(path) : create_group(path);
}

Group Group::open_group(const std::string& path) const {
    ensure_quiet();
    const std::string full = child_path(path);
    if (!has_group(path)) fail<FormatError>(file_ + ": " + full, "no such group");
    const hid_t id = H5Gopen2(id_, path.c_str(), H5P_DEFAULT);
    check_id(id, file_ + ": " + full, "cannot open group");
    return Group(id, file_, full);
}

Dataset Group::open_dataset(const std::string& path) const {
    ensure_quiet();
    const std::string full = child_path(path);
    if (!has_dataset(path)) fail<FormatError>(file_ + ": " + full, "no such dataset");
    const hid_t id = H5Dopen2(id_, path.c_str(), H5P_DEFAULT);
    check_id(id, file_ + ": " + full, "cannot open dataset");
    Dataset ds(id, file_, full);
    check_declared_size(id, ds.where());
    check_layout(id, ds.where());
    return ds;
}

namespace {

/// @brief Creates a dataset of `shape` and `ftype`; the caller writes into it.
hid_t create_dataset(hid_t loc, const std::string& name, const std::string& where, hid_t ftype,
                     const std::vector<std::size_t>& shape) {
    const std::vector<hsize_t> dims(shape.begin(), shape.end());
    const hid_t space_id =
        shape.empty() ? H5Screate(H5S_SCALAR)
                      : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    Handle space(check_id(space_id, where, "cannot create a dataspace"), H5Sclose);
    create_parents(loc, name, where);
    Handle dcpl(untimed_cpl(H5P_DATASET_CREATE, where), H5Pclose);
    return check_id(
        H5Dcreate2(loc, name.c_str(), ftype, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
        where, "cannot create dataset");
}

}  // namespace

template <class T>
Dataset Group::write_dataset(const std::string& name, const T* data,
                             const std::vector<std::size_t>& shape) {
    ensure_quiet();
    const std::string full = child_path(name);
    const std::string at = file_ + ": " + full;
    if (exists(name)) fail(at, "cannot create dataset: the name is taken");
    std::size_t count = 1;
    for (std::size_t d : shape) count *= d;
    DBN_CHECK(count == 0 || data != nullptr, ShapeError,
              "hdf5::Group::write_dataset: " << at << ": no data for " << count << " elements");
    Dataset ds(create_dataset(id_, name, at, file_type<T>(), shape), file_, full);
    if (count > 0)
        check(H5Dwrite(ds.id(), memory_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), at,
              "cannot write dataset");
    return ds;
}

template Dataset Group::write_dataset<float>(const std::string&, const float*,
                                             const std::vector<std::size_t>&);
template Dataset Group::write_dataset<double>(const std::string&, const double*,
                                              const std::vector<std::size_t>&);
template Dataset Group::write_dataset<std::int32_t>(const std::string&, const std::int32_t*,
                                                    const std::vector<std::size_t>&);
template Dataset Group::write_dataset<std::int64_t>(const std::string&, const std::int64_t*,
                                                    const std::vector<std::size_t>&);
template Dataset Group::write_dataset<std::uint64_t>(const std::string&, const std::uint64_t*,
                                                     const std::vector<std::size_t>&);
template Dataset Group::write_dataset<std::uint8_t>(const std::string&, const std::uint8_t*,
                                                    const std::vector<std::size_t>&);

Dataset Group::write_strings(const std::string& name, const std::vector<std::string>& values) {
    ensure_quiet();
    const std::string full = child_path(name);
    const std::string at = file_ + ": " + full;
    if (exists(name)) fail(at, "cannot create dataset: the name is taken");
    Handle type(check_id(H5Tcopy(H5T_C_S1), at, "cannot create a string type"), H5Tclose);
    check(H5Tset_size(type.get(), H5T_VARIABLE), at, "cannot set the string type size");
    check(H5Tset_cset(type.get(), H5T_CSET_UTF8), at, "cannot set the string encoding");
    Dataset ds(create_dataset(id_, name, at, type.get(), {values.size()}), file_, full);
    std::vector<const char*> texts;
    texts.reserve(values.size());
    for (const auto& v : values) texts.push_back(v.c_str());
    if (!texts.empty())
        check(H5Dwrite(ds.id(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()), at,
              "cannot write dataset");
    return ds;
}

void Group::remove(const std::string& path) {
    ensure_quiet();
    const std::string at = file_ + ": " + child_path(path);
    if (!exists(path)) fail<FormatError>(at, "cannot remove: no such object");
    check(H5Ldelete(id_, path.c_str(), H5P_DEFAULT), at, "cannot remove");
}

// ---------------------------------------------------------------------------------------------
// Dataset

std::vector<std::size_t> Dataset::shape() const {
    ensure_quiet();
    Handle space(check_id(H5Dget_space(id_), where(), "cannot read the dataspace"), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) fail(where(), "cannot read the rank");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
        fail(where(), "cannot read the dimensions");
    return {dims.begin(), dims.end()};
}

std::size_t Dataset::size() const {
    std::size_t n = 1;
    for (std::size_t d : shape()) n *= d;
    return n;
}

TypeInfo Dataset::type() const {
    ensure_quiet();
    Handle ftype(check_id(H5Dget_type(id_), where(), "cannot read the datatype"), H5Tclose);
    return type_info(ftype.get(), where());
}

template <class T>
void Dataset::read(T* out, std::size_t n) const {
    ensure_quiet();
    const std::size_t count = size();
    DBN_CHECK(n == count, ShapeError,
              "hdf5::Dataset::read: " << where() << ": buffer of " << n << " elements (expected "
                                      << count << ")");
    const TypeInfo info = type();
    if (info.type_class != TypeClass::integer && info.type_class != TypeClass::floating)
        fail<FormatError>(where(), "holds " + info.name() + " values (expected numbers)");
    if (count == 0) return;
    check(H5Dread(id_, memory_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out), where(),
          "cannot read dataset");
}

template void Dataset::read<float>(float*, std::size_t) const;
template void Dataset::read<double>(double*, std::size_t) const;
template void Dataset::read<std::int32_t>(std::int32_t*, std::size_t) const;
template void Dataset::read<std::int64_t>(std::int64_t*, std::size_t) const;
template void Dataset::read<std::uint64_t>(std::uint64_t*, std::size_t) const;

// ---------------------------------------------------------------------------------------------
// File

File::File(Id file_id, Id root_id, const std::string& path)
    : Group(root_id, path, "/"), file_id_(file_id) {}

File::File(File&& other) noexcept
    : Group(std::move(other)), file_id_(std::exchange(other.file_id_, -1)) {}

File& File::operator=(File&& other) noexcept {
    if (this != &other) {
        if (id_ >= 0) H5Oclose(std::exchange(id_, -1));
        if (file_id_ >= 0) H5Fclose(file_id_);
        Group::operator=(std::move(other));
        file_id_ = std::exchange(other.file_id_, -1);
    }
    return *this;
}

File::~File() {
    if (id_ >= 0) H5Oclose(std::exchange(id_, -1));
    if (file_id_ >= 0) H5Fclose(file_id_);
}

namespace {

/// @brief File access properties of every file this wrapper creates: the object formats of
/// HDF5 1.8 and later (version 2 superblock and object headers), whose metadata carry
/// checksums, so that a damaged header is refused ("incorrect metadata checksum") instead of
/// being interpreted. Readable by HDF5 1.8 and later (and h5py).
Handle checksummed_fapl(const std::string& where) {
    Handle fapl(check_id(H5Pcreate(H5P_FILE_ACCESS), where, "cannot create a property list"),
                H5Pclose);
    check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), where,
          "cannot set the file format versions");
    return fapl;
}

}  // namespace

File File::create(const std::string& path) {
    ensure_quiet();
    Handle fapl = checksummed_fapl(path);
    // The file creation list is a group creation list too: it keeps the root group untimed.
    Handle fcpl(untimed_cpl(H5P_FILE_CREATE, path), H5Pclose);
    const hid_t fid = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
    if (fid < 0) fail(path, "cannot create HDF5 file");
    const hid_t root = H5Gopen2(fid, "/", H5P_DEFAULT);
    if (root < 0) {
        const std::string reason = hdf5_reason();
        H5Fclose(fid);
        throw IoError(path + ": cannot open the root group (HDF5: " + reason + ")");
    }
    return File(fid, root, path);
}

File File::open(const std::string& path, Mode mode) {
    ensure_quiet();
    if (!is_hdf5(path)) throw FormatError(path + ": not an HDF5 file");
    const unsigned flags = mode == Mode::read_only ? H5F_ACC_RDONLY : H5F_ACC_RDWR;
    const hid_t fid = H5Fopen(path.c_str(), flags, H5P_DEFAULT);
    if (fid < 0) fail(path, "cannot open HDF5 file");
    const hid_t root = H5Gopen2(fid, "/", H5P_DEFAULT);
    if (root < 0) {
        const std::string reason = hdf5_reason();
        H5Fclose(fid);
        throw IoError(path + ": cannot open the root group (HDF5: " + reason + ")");
    }
    return File(fid, root, path);
}

void File::close() {
    if (file_id_ < 0) return;
    ensure_quiet();
    close_now();
    const hid_t fid = std::exchange(file_id_, -1);
    // Flush first: with HDF5's default "weak" close, H5Fclose succeeds without writing anything
    // while some object of the file is still open, and a later write error would go unseen.
    if (H5Fflush(fid, H5F_SCOPE_LOCAL) < 0) {
        const std::string reason = hdf5_reason();
        H5Fclose(fid);
        throw IoError(file_ + ": cannot write the file (HDF5: " + reason + ")");
    }
    check(H5Fclose(fid), file_, "cannot close the file");
}

bool is_hdf5(const std::string& path) {
    ensure_quiet();
    std::error_code ec;
    const bool present = std::filesystem::exists(path, ec);
    DBN_CHECK(!ec, IoError, path << ": cannot access (" << ec.message() << ")");
    DBN_CHECK(present, IoError, path << ": no such file");
    DBN_CHECK(!std::filesystem::is_directory(path, ec), IoError, path << ": is a directory");
    const htri_t rc = H5Fis_hdf5(path.c_str());
    if (rc < 0) fail(path, "cannot read the file");
    return rc > 0;
}

// ---------------------------------------------------------------------------------------------
// Row-wise access: hyperslabs of the first dimension, for data that does not fit in memory

namespace {

/// @brief Elements per row (product of every dimension but the first).
std::size_t row_elements(const std::vector<std::size_t>& shape) {
    std::size_t n = 1;
    for (std::size_t d = 1; d < shape.size(); ++d) n *= shape[d];
    return n;
}

/// @brief Selects rows [first, first + count) of `space` (rank >= 1).
void select_rows(hid_t space, std::size_t rank, std::size_t first, std::size_t count,
                 const std::vector<std::size_t>& shape, const std::string& where) {
    std::vector<hsize_t> start(rank, 0);
    std::vector<hsize_t> extent(shape.begin(), shape.end());
    start[0] = first;
    extent[0] = count;
    check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr),
          where, "cannot select rows");
}

}  // namespace

template <class T>
Dataset Group::create_row_dataset(const std::string& name,
                                  const std::vector<std::size_t>& row_shape,
                                  std::size_t chunk_rows) {
    ensure_quiet();
    const std::string full = child_path(name);
    const std::string at = file_ + ": " + full;
    if (exists(name)) fail(at, "cannot create dataset: the name is taken");
    std::vector<hsize_t> dims{0};
    std::vector<hsize_t> max_dims{H5S_UNLIMITED};
    std::vector<hsize_t> chunk{std::max<hsize_t>(chunk_rows, 1)};
    for (std::size_t d : row_shape) {
        dims.push_back(d);
        max_dims.push_back(d);
        // A zero-sized dimension cannot be chunked; such a dataset never holds data anyway.
        chunk.push_back(std::max<hsize_t>(d, 1));
    }
    Handle space(
        check_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()), at,
                 "cannot create a dataspace"),
        H5Sclose);
    Handle dcpl(untimed_cpl(H5P_DATASET_CREATE, at), H5Pclose);
    check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), at,
          "cannot set the chunk shape");
    create_parents(id_, name, at);
    const hid_t id = check_id(H5Dcreate2(id_, name.c_str(), file_type<T>(), space.get(),
                                         H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                              at, "cannot create dataset");
    return Dataset(id, file_, full);
}

template <class T>
void Dataset::read_rows(std::size_t first, std::size_t count, T* out, std::size_t n) const {
    ensure_quiet();
    const std::vector<std::size_t> dims = shape();
    DBN_CHECK(!dims.empty(), ShapeError,
              "hdf5::Dataset::read_rows: " << where() << ": is a scalar (no rows to read)");
    DBN_CHECK(first <= dims[0] && count <= dims[0] - first, ShapeError,
              "hdf5::Dataset::read_rows: " << where() << ": rows " << first << ".." << first + count
                                           << " (the dataset has " << dims[0] << " rows)");
    const std::size_t per_row = row_elements(dims);
    DBN_CHECK(n == count * per_row, ShapeError,
              "hdf5::Dataset::read_rows: " << where() << ": buffer of " << n
                                           << " elements (expected " << count * per_row << ")");
    const TypeInfo info = type();
    if (info.type_class != TypeClass::integer && info.type_class != TypeClass::floating)
        fail<FormatError>(where(), "holds " + info.name() + " values (expected numbers)");
    if (n == 0) return;
    Handle file_space(check_id(H5Dget_space(id_), where(), "cannot read the dataspace"), H5Sclose);
    select_rows(file_space.get(), dims.size(), first, count, dims, where());
    std::vector<hsize_t> mem_dims(dims.begin(), dims.end());
    mem_dims[0] = count;
    Handle mem_space(
        check_id(H5Screate_simple(static_cast<int>(mem_dims.size()), mem_dims.data(), nullptr),
                 where(), "cannot create a dataspace"),
        H5Sclose);
    check(H5Dread(id_, memory_type<T>(), mem_space.get(), file_space.get(), H5P_DEFAULT, out),
          where(),
          "cannot read rows " + std::to_string(first) + ".." + std::to_string(first + count));
}

template <class T>
void Dataset::append_rows(const T* data, std::size_t count) {
    ensure_quiet();
    if (count == 0) return;
    DBN_CHECK(data != nullptr, ShapeError,
              "hdf5::Dataset::append_rows: " << where() << ": no data for " << count << " rows");
    std::vector<std::size_t> dims = shape();
    DBN_CHECK(!dims.empty(), ShapeError,
              "hdf5::Dataset::append_rows: " << where() << ": is a scalar (it has no rows)");
    const std::size_t first = dims[0];
    dims[0] += count;
    const std::vector<hsize_t> new_dims(dims.begin(), dims.end());
    check(H5Dset_extent(id_, new_dims.data()), where(),
          "cannot extend to " + std::to_string(dims[0]) + " rows");
    Handle file_space(check_id(H5Dget_space(id_), where(), "cannot read the dataspace"), H5Sclose);
    select_rows(file_space.get(), dims.size(), first, count, dims, where());
    std::vector<hsize_t> mem_dims = new_dims;
    mem_dims[0] = count;
    Handle mem_space(
        check_id(H5Screate_simple(static_cast<int>(mem_dims.size()), mem_dims.data(), nullptr),
                 where(), "cannot create a dataspace"),
        H5Sclose);
    check(H5Dwrite(id_, memory_type<T>(), mem_space.get(), file_space.get(), H5P_DEFAULT, data),
          where(),
          "cannot write rows " + std::to_string(first) + ".." + std::to_string(first + count));
}

#define DBN_HDF5_ROW_ACCESS(T)                                                                   \
    template Dataset Group::create_row_dataset<T>(const std::string&,                            \
                                                  const std::vector<std::size_t>&, std::size_t); \
    template void Dataset::read_rows<T>(std::size_t, std::size_t, T*, std::size_t) const;        \
    template void Dataset::append_rows<T>(const T*, std::size_t);
DBN_HDF5_ROW_ACCESS(float)
DBN_HDF5_ROW_ACCESS(double)
DBN_HDF5_ROW_ACCESS(std::int32_t)
DBN_HDF5_ROW_ACCESS(std::int64_t)
DBN_HDF5_ROW_ACCESS(std::uint64_t)
#undef DBN_HDF5_ROW_ACCESS

}  // namespace dbn::hdf5
