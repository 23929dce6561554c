# Included by tests/CMakeLists.txt.
#
# End-to-end tests of the dbn program (label "cli"): one CTest test per case of
# tests/cli/cli_test.py, run by Debian's python3, which has h5py and numpy.
# Install and exported-package tests (label "package"): install this build tree into a temporary
# prefix and build tests/consumer against it with find_package(dbn), in C++17 and C++20.

set(DBN_TEST_PYTHON /usr/bin/python3 CACHE FILEPATH "Python 3 with h5py and numpy, for the CLI tests")
set(DBN_FASHION_MNIST_DIR /usr/share/datasets/fashion-mnist CACHE PATH
    "Fashion-MNIST (*-idx3-ubyte.gz); the tests that need it are skipped when it is missing")

# ---- cli ----------------------------------------------------------------------------------------
set(_dbn_cli_script ${CMAKE_CURRENT_SOURCE_DIR}/cli/cli_test.py)
if(TARGET dbn_cli AND EXISTS ${DBN_TEST_PYTHON})
  # The script is the one list of cases; re-read it when it changes.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_dbn_cli_script})
  execute_process(COMMAND ${DBN_TEST_PYTHON} ${_dbn_cli_script} --list
                  OUTPUT_VARIABLE _dbn_cli_cases OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE _dbn_cli_status)
  if(NOT _dbn_cli_status EQUAL 0)
    message(FATAL_ERROR "${_dbn_cli_script} --list failed (${_dbn_cli_status})")
  endif()
  foreach(_case IN LISTS _dbn_cli_cases)
    add_test(NAME cli.${_case}
             COMMAND ${DBN_TEST_PYTHON} ${_dbn_cli_script}
                     --dbn $<TARGET_FILE:dbn_cli>
                     --source-dir ${PROJECT_SOURCE_DIR}
                     --work-dir ${CMAKE_CURRENT_BINARY_DIR}/cli/${_case}
                     --fashion-mnist ${DBN_FASHION_MNIST_DIR}
                     ${_case})
    set_tests_properties(cli.${_case} PROPERTIES LABELS cli SKIP_RETURN_CODE 77 TIMEOUT 600)
  endforeach()
elseif(TARGET dbn_cli)
  message(WARNING "${DBN_TEST_PYTHON} not found: the command-line tests are not registered "
                  "(set DBN_TEST_PYTHON to a Python 3 with h5py and numpy)")
endif()

# ---- MPI (issue 15) ----------------------------------------------------------------------------
# dbn eval under mpirun against one process, and a killed rank; only in the MPI build.
if(DBN_MPI AND TARGET dbn_cli AND EXISTS ${DBN_TEST_PYTHON} AND MPIEXEC_EXECUTABLE)
  foreach(_case eval_matches_one_process killed_rank_ends_job)
    add_test(NAME mpi.${_case}
             COMMAND ${DBN_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/cli/mpi_test.py
                     --dbn $<TARGET_FILE:dbn_cli> --mpirun ${MPIEXEC_EXECUTABLE}
                     --source-dir ${PROJECT_SOURCE_DIR}
                     --work-dir ${CMAKE_CURRENT_BINARY_DIR}/mpi/${_case}
                     --fashion-mnist ${DBN_FASHION_MNIST_DIR} ${_case})
    set_tests_properties(mpi.${_case} PROPERTIES LABELS "cli;mpi" SKIP_RETURN_CODE 77 TIMEOUT 600
                         ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
  endforeach()
endif()

# ---- package ------------------------------------------------------------------------------------
if(DBN_INSTALL)
  set(_dbn_pkg_dir ${CMAKE_CURRENT_BINARY_DIR}/package)
  set(_dbn_consumer_flags "")
  if(DBN_SANITIZE)
    # The installed static library holds instrumented objects: its consumer needs the runtimes.
    set(_dbn_consumer_flags -fsanitize=address,undefined)
  endif()
  add_test(NAME package.install
           COMMAND ${CMAKE_COMMAND}
                   -D BUILD_DIR=${PROJECT_BINARY_DIR}
                   -D SOURCE_DIR=${PROJECT_SOURCE_DIR}
                   -D PREFIX=${_dbn_pkg_dir}/prefix
                   -D CONFIG=$<CONFIG>
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/install.cmake)
  set_tests_properties(package.install PROPERTIES LABELS package FIXTURES_SETUP dbn_installed
                       TIMEOUT 300)
  foreach(_std 17 20)
    add_test(NAME package.consumer_cxx${_std}
             COMMAND ${CMAKE_COMMAND}
                     -D SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/consumer
                     -D BUILD_DIR=${_dbn_pkg_dir}/consumer-cxx${_std}
                     -D PREFIX=${_dbn_pkg_dir}/prefix
                     -D CXX_STANDARD=${_std}
                     -D GENERATOR=${CMAKE_GENERATOR}
                     -D CXX_COMPILER=${CMAKE_CXX_COMPILER}
                     -D "EXTRA_FLAGS=${_dbn_consumer_flags}"
                     -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/build_and_run.cmake)
    set_tests_properties(package.consumer_cxx${_std} PROPERTIES LABELS package
                         FIXTURES_REQUIRED dbn_installed TIMEOUT 300)
  endforeach()
endif()
