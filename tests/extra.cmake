# Tests of the project as a whole, beyond unit/, runtime/ and plugins/
# (included by tests/CMakeLists.txt):
#   header/c99, header/cxx11  the public SDK headers compile for a plugin
#                             author's strictest settings
#   install/template          `cmake --install` of this build tree, then the
#                             SDK template plugin built out of tree against the
#                             installed SDK only and run by the installed weir
#   fuzz/<name>               with WEIR_FUZZ=ON: a 30 s libFuzzer smoke run of
#                             every fuzz_* target, failing on any crash

# ---- header/ ----------------------------------------------------------------
# -pedantic -Werror on top of the project's warnings: a warning in a public
# header would break every plugin built with -Werror.
set(WEIR_STRICT_FLAGS -Wall -Wextra -pedantic -Werror)

add_executable(headertest_c99 ${CMAKE_CURRENT_SOURCE_DIR}/header/headertest.c)
set_target_properties(headertest_c99 PROPERTIES C_STANDARD 99 C_EXTENSIONS OFF)
target_compile_options(headertest_c99 PRIVATE ${WEIR_STRICT_FLAGS})
target_link_libraries(headertest_c99 PRIVATE weir::sdk)
add_test(NAME header/c99 COMMAND headertest_c99)

include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  add_executable(headertest_cxx11 ${CMAKE_CURRENT_SOURCE_DIR}/header/headertest.cpp)
  set_target_properties(headertest_cxx11 PROPERTIES CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF)
  # The project-wide C flags include -Wstrict-prototypes, which C++ rejects.
  get_target_property(opts headertest_cxx11 COMPILE_OPTIONS)
  list(REMOVE_ITEM opts -Wstrict-prototypes)
  set_target_properties(headertest_cxx11 PROPERTIES COMPILE_OPTIONS "${opts};${WEIR_STRICT_FLAGS}")
  target_link_libraries(headertest_cxx11 PRIVATE weir::sdk)
  add_test(NAME header/cxx11 COMMAND headertest_cxx11)
endif()

# ---- install/ ---------------------------------------------------------------
add_test(NAME install/template
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install/template.sh
    ${CMAKE_COMMAND} ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
    ${CMAKE_CURRENT_BINARY_DIR}/install-template)
# Configures and builds a small project: give it time on a loaded 2-core box.
set_tests_properties(install/template PROPERTIES TIMEOUT 600)

# ---- fuzz/ ------------------------------------------------------------------
# fuzz/CMakeLists.txt makes one executable per fuzz_*.c, named after the file;
# the same glob finds them here (add_test resolves target names at generate
# time, after fuzz/ has been added).
if(WEIR_FUZZ)
  file(GLOB WEIR_FUZZ_SMOKE_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.c)
  foreach(src ${WEIR_FUZZ_SMOKE_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    # libFuzzer writes new inputs into its first corpus dir: a scratch one in
    # the build tree, so the checked-in corpus (read second) stays as it is.
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${name})
    file(MAKE_DIRECTORY ${work}/corpus)
    set(corpora ${work}/corpus)
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
      list(APPEND corpora ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
    endif()
    add_test(NAME fuzz/${name}
      COMMAND ${name} -max_total_time=30 -timeout=10 -print_final_stats=1
        -artifact_prefix=${work}/ ${corpora}
      WORKING_DIRECTORY ${work})
    set_tests_properties(fuzz/${name} PROPERTIES TIMEOUT 180)
  endforeach()
endif()

# ---- cli/ -------------------------------------------------------------------
# End-to-end tests of the `weir` command line as a user and a scheduler use
# it: one bash script per area in cli/ (lib.sh holds their helpers), each in
# its own temp project, run against the built weir (WEIR_WEIR_BIN).
find_program(WEIR_BASH bash)
if(WEIR_BASH)
  file(GLOB WEIR_CLI_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_*.sh)
  foreach(script ${WEIR_CLI_TESTS})
    get_filename_component(name ${script} NAME_WE)
    add_test(NAME cli/${name} COMMAND ${WEIR_BASH} ${script})
    set_tests_properties(cli/${name} PROPERTIES ENVIRONMENT "${WEIR_TEST_ENV}" TIMEOUT 300)
  endforeach()
endif()

# ---- aws-server/ ------------------------------------------------------------
# The offline AWS/LLM imitation server (Glue, Athena, S3, Bedrock, OpenAI,
# Gemini) that weir's AWS clients are tested against: its own self-test, with
# real botocore clients (python3 + python3-botocore from scripts/install-deps.sh).
add_test(NAME aws-server/selftest
  COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/aws-server/test_aws_server.py)
set_tests_properties(aws-server/selftest PROPERTIES ENVIRONMENT "${WEIR_TEST_ENV}" TIMEOUT 300)
