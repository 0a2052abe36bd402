// The checks a scenario adds to the expectation language, which need the
// input: each selected input line delivered exactly once (or within a
// duplicate budget), in order when asked, its text intact; and the latency
// from the write of a line to the receipt of its event. Both recognise a
// line by the text an event carries (DKP puts the audit record, unchanged,
// in `message`).
#pragma once

#include "simulator/expect.h"
#include "simulator/scenario/input.h"
#include "simulator/scenario/scenario.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kumasim::scenario {

// Where an event carries its input line: the string at `content` (a field
// path; empty: kuma.Extra.message, else kuma.Message).
class CarriedLine {
 public:
  explicit CarriedLine(const std::string& content);
  // The line's text, or nullptr when the event carries none (it did not
  // decode, or the field is missing or no string).
  const std::string* text(const nlohmann::json& event) const;
  std::optional<std::uint64_t> hash(const nlohmann::json& event) const;

 private:
  std::vector<expect::FieldPath> paths_;  // the first string found wins
};

class DeliveredCheck {
 public:
  // `selector`: the index of this check's selector in `catalog`.
  DeliveredCheck(DeliveredSpec spec, const InputCatalog& catalog, std::size_t selector);
  void observe(const nlohmann::json& event);
  // Failed whatever comes next: duplicates over the budget, an arrival out of
  // order, an event whose text is no input line (or, when exclusive, a line
  // the check does not select).
  bool failed() const;
  bool complete() const { return arrived_ == catalog_.selected_count(selector_); }
  // {"name","pass","message","selected","arrived","duplicates","out_of_order","foreign","unselected","failing":[…≤10]}
  nlohmann::json result() const;

 private:
  nlohmann::json* sample(const nlohmann::json& event, const std::string& reason);  // null: enough samples

  DeliveredSpec spec_;
  const InputCatalog& catalog_;
  CarriedLine carried_;
  std::size_t selector_;
  std::vector<std::uint8_t> copies_;  // per input line, saturating
  std::uint64_t arrived_ = 0, duplicates_ = 0, out_of_order_ = 0, foreign_ = 0, unselected_ = 0;
  std::int64_t last_line_ = -1;
  std::vector<nlohmann::json> failing_;
};

class LatencyCheck {
 public:
  LatencyCheck(LatencySpec spec, const InputCatalog& catalog, const InputWriter& writer);
  void observe(const nlohmann::json& event);
  // {"name","pass","message","percentile","measured_ms","max_ms","samples"}
  nlohmann::json result() const;

 private:
  LatencySpec spec_;
  const InputCatalog& catalog_;
  CarriedLine carried_;
  const InputWriter& writer_;
  std::vector<bool> seen_;
  std::vector<std::int64_t> latencies_ns_;  // first arrival of each line
};

}  // namespace kumasim::scenario
