# respodiff_add_test(NAME name SOURCES ... LIBS ... LABELS ... [ARGS ...] [FIXTURES_REQUIRED ...]
#                    [FIXTURES_SETUP ...] [QT])
# Builds one test executable and registers it with CTest under its labels. QT tests use Qt Test
# and run under the offscreen platform; the others use tests/support/testing.h.
function(respodiff_add_test)
  cmake_parse_arguments(T "QT" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS;FIXTURES_REQUIRED;FIXTURES_SETUP" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  if(T_QT)
    target_link_libraries(${T_NAME} PRIVATE Qt6::Test ${T_LIBS})
  else()
    target_link_libraries(${T_NAME} PRIVATE respodiff_testing ${T_LIBS})
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
  if(T_QT)
    # Qt's own 5-minute limit per test function is too short for the GUI tests that train a module
    # when the machine is busy; CTest's timeout still bounds the whole test.
    set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen;QTEST_FUNCTION_TIMEOUT=900000")
  endif()
  if(T_TIMEOUT)
    set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT})
  endif()
  if(T_FIXTURES_REQUIRED)
    set_tests_properties(${T_NAME} PROPERTIES FIXTURES_REQUIRED "${T_FIXTURES_REQUIRED}")
  endif()
  if(T_FIXTURES_SETUP)
    set_tests_properties(${T_NAME} PROPERTIES FIXTURES_SETUP "${T_FIXTURES_SETUP}")
  endif()
endfunction()

# respodiff_add_reference(NAME name SCRIPT file.py ARGS ... LABELS ... FIXTURES_SETUP f [FIXTURES_REQUIRED ...])
# Runs a Python reference script from the pinned environment as a CTest step, so expectations are
# regenerated on every run and cannot go stale.
function(respodiff_add_reference)
  cmake_parse_arguments(R "" "NAME;SCRIPT" "ARGS;LABELS;FIXTURES_SETUP;FIXTURES_REQUIRED" ${ARGN})
  if(NOT RESPODIFF_PYTHON)
    message(FATAL_ERROR "Reference test ${R_NAME} needs RESPODIFF_PYTHON (run scripts/setup.sh)")
  endif()
  add_test(NAME ${R_NAME}
           COMMAND ${RESPODIFF_PYTHON} ${PROJECT_SOURCE_DIR}/tests/reference/${R_SCRIPT} ${R_ARGS})
  set_tests_properties(${R_NAME} PROPERTIES LABELS "${R_LABELS}"
                       ENVIRONMENT "HF_HUB_OFFLINE=1;TRANSFORMERS_OFFLINE=1;PYTHONDONTWRITEBYTECODE=1")
  if(R_FIXTURES_SETUP)
    set_tests_properties(${R_NAME} PROPERTIES FIXTURES_SETUP "${R_FIXTURES_SETUP}")
  endif()
  if(R_FIXTURES_REQUIRED)
    set_tests_properties(${R_NAME} PROPERTIES FIXTURES_REQUIRED "${R_FIXTURES_REQUIRED}")
  endif()
endfunction()
