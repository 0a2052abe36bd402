# Every third-party library, located once. Nothing is vendored: ci/install-deps
# installs the Debian packages these come from.
find_package(nlohmann_json 3.10 REQUIRED)  # decode output and event values
find_package(simdjson REQUIRED)            # JSON envelope decoding on the hot path
find_package(CLI11 REQUIRED)               # command lines with usage errors that name the flag

if(KUMASIM_TESTS)
  find_package(GTest REQUIRED)
endif()
if(KUMASIM_BENCH)
  find_package(benchmark REQUIRED)
endif()
