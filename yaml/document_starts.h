// Where each document of a YAML text starts, found before loading it:
// yaml-cpp 0.7 loops forever on some broken input (a stray `,` at the top
// level, jbeder/yaml-cpp#1040), starting empty documents at the same place
// again and again. Shared by the shipper's manifests and the scenario files.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace kumasim::yaml {

// The mark of each document's start, in order. Throws YAML::ParserException
// (as YAML::Load would for a syntax error) at the place where the parser
// would loop.
std::vector<YAML::Mark> document_starts(const std::string& text);

}  // namespace kumasim::yaml
