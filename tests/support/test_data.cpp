#include "support/test_data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kumasim::testing {

std::string source_path(const std::string& relative) {
  return std::string(KUMASIM_SOURCE_DIR) + "/" + relative;
}

std::string read_file(const std::string& relative) {
  std::ifstream in(source_path(relative), std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + source_path(relative));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<nlohmann::json> read_jsonl(const std::string& relative) {
  std::vector<nlohmann::json> rows;
  std::istringstream lines(read_file(relative));
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.empty()) continue;
    try {
      rows.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      ADD_FAILURE() << relative << ":" << number << ": " << e.what();
    }
  }
  return rows;
}

}  // namespace kumasim::testing
