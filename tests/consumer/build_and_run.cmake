# cmake -D SOURCE_DIR=tests/consumer -D BUILD_DIR=... -D PREFIX=<installed dbn> -D CXX_STANDARD=17
#       [-D GENERATOR=...] [-D CXX_COMPILER=...] [-D EXTRA_FLAGS=...]
#       -P build_and_run.cmake
# Configures and builds the consumer project against the installed package (and nothing else:
# the dbn build tree is not on any search path), then runs it.
foreach(var SOURCE_DIR BUILD_DIR PREFIX CXX_STANDARD)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "build_and_run.cmake: -D ${var}=... is required")
  endif()
endforeach()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${what} failed (${status}): ${ARGN}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${BUILD_DIR})
set(configure ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BUILD_DIR}
    -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${PREFIX}
    -DCMAKE_CXX_STANDARD=${CXX_STANDARD}
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
if(GENERATOR)
  list(APPEND configure -G ${GENERATOR})
endif()
if(CXX_COMPILER)
  list(APPEND configure -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
if(EXTRA_FLAGS)
  list(APPEND configure "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
endif()
run_step("configuring the consumer" ${configure})
if(NOT step_output MATCHES "dbn_DIR=${PREFIX}/")
  message(FATAL_ERROR "the consumer did not find dbn under ${PREFIX}")
endif()
run_step("building the consumer" ${CMAKE_COMMAND} --build ${BUILD_DIR})
run_step("running the consumer" ${BUILD_DIR}/app ${BUILD_DIR}/model.h5)
if(NOT step_output MATCHES "dbn [0-9]+\\.[0-9]+\\.[0-9]+, C\\+\\+${CXX_STANDARD}: free energy")
  message(FATAL_ERROR "unexpected output of the consumer: ${step_output}")
endif()
