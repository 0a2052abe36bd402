// Paths and loaders for the test data kept in the repository.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace kumasim::testing {

// Absolute path of a file under the source tree, e.g. "tests/data/vectors/cef.jsonl".
std::string source_path(const std::string& relative);

// Every line of a JSONL file, parsed. Fails the calling test on a parse error.
std::vector<nlohmann::json> read_jsonl(const std::string& relative);

// Whole file as bytes.
std::string read_file(const std::string& relative);

}  // namespace kumasim::testing
