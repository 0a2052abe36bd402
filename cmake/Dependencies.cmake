# Every third-party library, located once. Nothing is vendored: ci/install-deps
# installs the Debian packages these come from, and configuring fails here,
# naming the library, when one is missing.
find_package(PkgConfig REQUIRED)

# Used by formats/ and the kumasim command line.
find_package(nlohmann_json 3.10 REQUIRED)  # decode output and the shipper's event values
find_package(simdjson REQUIRED)            # JSON envelope decoding on the hot path
find_package(CLI11 REQUIRED)               # command lines whose usage errors name the flag
find_package(Threads REQUIRED)             # the simulator's I/O threads

# The listeners, control API, Kafka and the shipper (next issues) build on these;
# locating them now keeps ci/install-deps honest from the first commit.
find_package(Boost 1.74 REQUIRED)          # Asio and Beast are header-only
find_package(OpenSSL REQUIRED)             # TLS listeners and sinks, the test PKI
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)  # Kafka consumer, producer, mock cluster
find_package(yaml-cpp REQUIRED)            # configs, manifests, scenarios
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)          # the regex dialect of Vector and KUMA

if(KUMASIM_TESTS)
  find_package(GTest REQUIRED)
endif()
if(KUMASIM_BENCH)
  find_package(benchmark REQUIRED)
endif()
