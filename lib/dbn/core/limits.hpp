#pragma once

// What this machine can hold and run, for refusing inputs that ask for more (docs/CONFIG.md,
// "Limits"): physical memory, hardware threads, and the messages that say so.

#include <cstddef>
#include <cstdint>
#include <string>

namespace dbn {

/// @brief Bytes of physical memory; 0 when the system does not say.
std::uint64_t physical_memory_bytes();

/// @brief Threads the hardware runs at once (at least 1).
std::size_t hardware_threads();

/// @brief The threads to run when `requested` are asked for: at most hardware_threads(), since
/// more only compete for the same cores (and each BLAS thread reserves its own buffers).
/// @param note set to a one-line note, naming `flag`, when the request was cut; else emptied.
std::size_t usable_threads(std::size_t requested, const std::string& flag, std::string& note);

/// @brief `bytes` for a message: "512 B", "3.1 MB", "7.6 GB", "4.0 TB" (powers of 1000).
std::string format_bytes(double bytes);

/// @brief Refuses work whose memory cannot fit on this machine.
/// @param bytes the estimate (a double: products of untrusted counts may exceed 2^64)
/// @param what names the setting and the shape, e.g. "cfg.json: layers[0].hidden: a 784 x
///        1000000000 layer"; the message goes on "needs about 9.4 TB, more than ...".
/// @throws ConfigError when `bytes` exceeds the physical memory (or, when that is unknown,
///         2^48 bytes, beyond any address space in use).
void check_memory(double bytes, const std::string& what);

}  // namespace dbn
