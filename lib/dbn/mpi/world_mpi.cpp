// The world of a library built with MPI (DBN_MPI on): MPI_COMM_WORLD once Session started MPI.
// The C interface only (Open MPI and MPICH would otherwise bring in their C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include "dbn/core/error.hpp"
#include "dbn/mpi/communicator.hpp"

namespace dbn::mpi {
namespace {

class WorldCommunicator final : public Communicator {
public:
    int rank() const override {
        int r = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
        return r;
    }
    int size() const override {
        int s = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &s);
        return s;
    }
    void barrier() const override { MPI_Barrier(MPI_COMM_WORLD); }
    void allreduce_sum(double* data, std::size_t n) const override {
        MPI_Allreduce(MPI_IN_PLACE, data, count(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }
    void allreduce_sum(float* data, std::size_t n) const override {
        MPI_Allreduce(MPI_IN_PLACE, data, count(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    void broadcast(double* data, std::size_t n) const override {
        MPI_Bcast(data, count(n), MPI_DOUBLE, 0, MPI_COMM_WORLD);
    }
    std::vector<double> allgather(const std::vector<double>& mine) const override {
        return gather(mine, MPI_DOUBLE);
    }
    std::vector<float> allgather(const std::vector<float>& mine) const override {
        return gather(mine, MPI_FLOAT);
    }
    [[noreturn]] void abort(int status) const override {
        MPI_Abort(MPI_COMM_WORLD, status);
        std::exit(status);
    }

private:
    static int count(std::size_t n) {
        DBN_CHECK(n <= 2147483647u, ShapeError,
                  "mpi: " << n << " elements in one message (at most 2^31 - 1)");
        return static_cast<int>(n);
    }
    template <class T>
    std::vector<T> gather(const std::vector<T>& mine, MPI_Datatype type) const {
        const int p = size();
        std::vector<int> counts(static_cast<std::size_t>(p)), offsets(static_cast<std::size_t>(p));
        const int n = count(mine.size());
        MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
        std::size_t total = 0;
        for (int r = 0; r < p; ++r) {
            offsets[static_cast<std::size_t>(r)] = count(total);
            total += static_cast<std::size_t>(counts[static_cast<std::size_t>(r)]);
        }
        std::vector<T> all(total);
        MPI_Allgatherv(mine.data(), n, type, all.data(), counts.data(), offsets.data(), type,
                       MPI_COMM_WORLD);
        return all;
    }
};

bool g_started = false;

}  // namespace

const Communicator& world() {
    static const WorldCommunicator mpi_world;
    return g_started ? static_cast<const Communicator&>(mpi_world) : serial();
}

bool built_with_mpi() { return true; }

Session::Session(int& argc, char**& argv) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized || !launched_by_mpirun()) return;
    // Only the main thread calls MPI; the library's worker threads never do.
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    // An error in any rank ends the job (the default handler aborts): no rank waits forever.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    active_ = g_started = true;
}

Session::~Session() {
    if (active_) MPI_Finalize();
    g_started = false;
}

}  // namespace dbn::mpi
