# Included by tests/CMakeLists.txt.
#
# Tests of the Python module (label "python"): one CTest test per case of
# tests/python/python_test.py, run by the Python the module is built for (DBN_PYTHON_EXECUTABLE,
# Debian's /usr/bin/python3 with numpy, h5py and scikit-learn), importing <build>/python and
# comparing with the dbn program. Only when the module is built (DBN_PYTHON: off under the
# sanitizers).
set(_dbn_python_script ${CMAKE_CURRENT_SOURCE_DIR}/python/python_test.py)
if(TARGET dbn_python AND TARGET dbn_cli)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_dbn_python_script})
  execute_process(COMMAND ${DBN_PYTHON_EXECUTABLE} ${_dbn_python_script} --list
                  OUTPUT_VARIABLE _dbn_python_cases OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE _dbn_python_status)
  if(NOT _dbn_python_status EQUAL 0)
    message(FATAL_ERROR "${_dbn_python_script} --list failed (${_dbn_python_status})")
  endif()
  foreach(_case IN LISTS _dbn_python_cases)
    add_test(NAME python.${_case}
             COMMAND ${DBN_PYTHON_EXECUTABLE} ${_dbn_python_script}
                     --python-dir ${PROJECT_BINARY_DIR}/python
                     --dbn $<TARGET_FILE:dbn_cli>
                     --build-dir ${PROJECT_BINARY_DIR}
                     --source-dir ${PROJECT_SOURCE_DIR}
                     --work-dir ${CMAKE_CURRENT_BINARY_DIR}/python/${_case}
                     ${_case})
    # Two OpenBLAS threads at most: the suite runs tests side by side.
    set_tests_properties(python.${_case} PROPERTIES LABELS python SKIP_RETURN_CODE 77
                         TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=2")
  endforeach()
endif()
