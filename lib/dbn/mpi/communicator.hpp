#pragma once

// The processes of one job and the few collective operations the library needs. The interface
// names no MPI type: the estimators take a Communicator, and only this module's MPI build
// (CMake option DBN_MPI) includes <mpi.h>. Without MPI, or when the program was not started by
// mpirun, world() is a job of one process whose operations copy or do nothing, so callers need
// no #ifdef.

#include <cstddef>
#include <vector>

namespace dbn::mpi {

/// @brief The processes of a job. Every operation is collective: every rank calls it, in the
/// same order, with the same counts where they must agree.
class Communicator {
public:
    virtual ~Communicator() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    virtual void barrier() const = 0;
    /// @brief Sums `data` element-wise over the ranks, in place on every rank.
    virtual void allreduce_sum(double* data, std::size_t n) const = 0;
    virtual void allreduce_sum(float* data, std::size_t n) const = 0;
    /// @brief Rank 0's `data` on every rank.
    virtual void broadcast(double* data, std::size_t n) const = 0;
    /// @brief Every rank's `mine` (any length each), concatenated in rank order, on every rank.
    virtual std::vector<double> allgather(const std::vector<double>& mine) const = 0;
    virtual std::vector<float> allgather(const std::vector<float>& mine) const = 0;
    /// @brief Ends the whole job with `status` (MPI_Abort under MPI; std::exit alone).
    [[noreturn]] virtual void abort(int status) const = 0;

    bool root() const { return rank() == 0; }
};

/// @brief A job of one process.
const Communicator& serial();

/// @brief The job this program runs in: MPI_COMM_WORLD after Session started MPI, else serial().
const Communicator& world();

/// @brief Whether the library was built with MPI (DBN_MPI).
bool built_with_mpi();

/// @brief Starts MPI for the program's lifetime when the library was built with it and the
/// process was started by an MPI launcher (mpirun sets OMPI_COMM_WORLD_SIZE, PMI_SIZE or
/// PMIX_RANK); else does nothing. A plain `dbn` run therefore never starts MPI's runtime (Open
/// MPI's singleton start-up spawns a helper daemon and refuses root without extra variables).
class Session {
public:
    Session(int& argc, char**& argv);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    bool active() const { return active_; }

private:
    bool active_ = false;
};

/// @brief Whether an MPI launcher started this process (the environment variables above).
bool launched_by_mpirun();

}  // namespace dbn::mpi
