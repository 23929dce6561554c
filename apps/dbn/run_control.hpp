#pragma once

// What `dbn pretrain` and `dbn finetune` share to stop cleanly and to resume: the SIGINT/SIGTERM
// handlers (the first signal asks training to stop after its minibatch; a second one ends the
// program at once, touching no file) and the fingerprints that let a resumed run know it has
// its run's data and model.

#include <cstdint>
#include <string>

#include "dbn/core/types.hpp"

namespace dbn::cli {

/// @brief Installs the handlers of SIGINT and SIGTERM and forgets any earlier stop signal.
void install_stop_handlers();
/// @brief The signal that asked training to stop (0: none yet).
int stop_signal();
/// @brief "SIGINT" or "SIGTERM".
const char* signal_name(int sig);

/// FNV-1a offset basis: the start of every hash below.
inline constexpr std::uint64_t k_fnv_basis = 1469598103934665603ull;
/// @brief FNV-1a over the float values of the rows, as 32-bit words, continuing from `h`.
std::uint64_t hash_rows(const Matrix& x, std::uint64_t h = k_fnv_basis);
/// @brief FNV-1a over the labels, as 32-bit words, continuing from `h`.
std::uint64_t hash_labels(const Labels& y, std::uint64_t h = k_fnv_basis);
/// @brief FNV-1a over the bytes of a file.
/// @throws IoError naming the file when it cannot be read.
std::uint64_t hash_file(const std::string& path);

}  // namespace dbn::cli
