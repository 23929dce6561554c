#pragma once

#include <functional>
#include <string>

namespace dbn::hdf5 {

/// @brief Runs `read` (a whole read of the HDF5 file `path`, results discarded) once in a
/// forked child process, so that a damaged file that crashes or hangs the HDF5 library kills
/// the child, not this process; the caller then reads the file itself.
///
/// HDF5 1.10 trusts some structures of a file without checking them (the global heap of
/// variable-length strings, local heaps, layout messages): a damaged one can make it crash,
/// spin, or read past its own buffers. The child has no core file, no output (its stdout and
/// stderr go to /dev/null: a crash report there would be a second one beside the caller's),
/// 600 s of wall time and 1 s of CPU time plus 1 s per MiB of file.
///
/// Nothing is reported for a read that finishes or ends in an exception (the caller's own read
/// reports it), nor when no process can be forked (the caller's read then runs unguarded).
/// Not while another thread of the program uses HDF5 (the child could inherit its lock).
/// @throws FormatError "<path>: the file is damaged (...)" when the child dies from a signal,
///         runs out of time, or ends with an exit status that is not its own (a sanitizer's).
void trial_read(const std::string& path, const std::function<void()>& read);

}  // namespace dbn::hdf5
