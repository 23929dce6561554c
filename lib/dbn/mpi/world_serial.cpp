// The world of a library built without MPI (DBN_MPI off): always one process.
#include "dbn/mpi/communicator.hpp"

namespace dbn::mpi {

const Communicator& world() { return serial(); }
bool built_with_mpi() { return false; }
Session::Session(int&, char**&) {}
Session::~Session() = default;

}  // namespace dbn::mpi
