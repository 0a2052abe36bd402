#include "yaml/document_starts.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>

namespace kumasim::yaml {
namespace {

// A handler that builds nothing and records where documents start.
class Starts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;
  bool repeated = false;

  void OnDocumentStart(const YAML::Mark& mark) override {
    repeated = !marks.empty() && mark.pos == marks.back().pos;
    marks.push_back(mark);
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

std::vector<YAML::Mark> document_starts(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  Starts starts;
  while (parser.HandleNextDocument(starts)) {
    if (starts.repeated) throw YAML::ParserException(starts.marks.back(), "unexpected token");
  }
  return starts.marks;
}

}  // namespace kumasim::yaml
