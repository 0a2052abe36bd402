// The expectation language (docs/expectations.md): what `POST /api/v1/expect`
// checks against the stored events, and what scenario files check as events
// arrive. One parser and one incremental evaluator serve both, so that a
// scenario's memory stays bounded however many events flow through it.
//
// An expectation selects events with matchers ("where") and checks their
// number ("count") and content ("every", "none", "some"). JSON in, JSON out.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kumasim::expect {

// A request the language rejects: `where` names the place in the body
// ("expectations[0].every[1]"), `message` what is wrong there
// ("unknown predicate \"regx\"").
struct ParseError {
  std::string where;
  std::string message;

  std::string text() const;        // "where: message"
  nlohmann::json as_json() const;  // {"error":"where: message","where":…,"message":…}
};

// A compiled request: validated, regexes compiled once. Immutable, cheap to
// copy (shared), safe to evaluate from several threads at once.
class Expectations {
 public:
  std::size_t size() const;

 private:
  struct Compiled;
  explicit Expectations(std::shared_ptr<const Compiled> compiled);
  std::shared_ptr<const Compiled> compiled_;
  friend std::variant<Expectations, ParseError> parse(const nlohmann::json& body);
  friend class Evaluation;
};

// A field path of the language ("kuma.Extra.message", "lints.0.id",
// "kuma.Extra.label\.team"): steps at unescaped dots, a step into an array a
// decimal index. Split once, looked up many times.
class FieldPath {
 public:
  explicit FieldPath(std::string_view path);
  // The value at the path, or nullptr when a step is missing.
  const nlohmann::json* find(const nlohmann::json& root) const;

 private:
  std::vector<std::string> steps_;
};

// A list of matchers on its own ("where", "every"…: docs/expectations.md),
// for callers that select objects one at a time: scenarios choose input
// lines with it. `where` names the place in errors.
class Selector {
 public:
  static std::variant<Selector, ParseError> parse(const nlohmann::json& matchers, const std::string& where);
  bool matches(const nlohmann::json& object) const;  // every matcher holds

 private:
  struct Compiled;
  explicit Selector(std::shared_ptr<const Compiled> compiled);
  std::shared_ptr<const Compiled> compiled_;
};

// Accepts {"expectations":[E, …]}, a bare list [E, …], or a single E (a list
// of one: places are still named "expectations[0]"). Never throws on input.
std::variant<Expectations, ParseError> parse(const nlohmann::json& body);

// Checks events one at a time. Memory: a few counters per expectation plus at
// most 10 sample events (strings cut to 1 KiB) per expectation for the report,
// and 10 more per "some" while no event satisfies it yet. Not thread-safe.
class Evaluation {
 public:
  explicit Evaluation(Expectations expectations);
  ~Evaluation();
  Evaluation(Evaluation&&) noexcept;
  Evaluation& operator=(Evaluation&&) noexcept;

  // One received event (the simulator's stored-event object). Never throws on
  // an unexpected shape: a missing or mistyped field simply does not match.
  void observe(const nlohmann::json& event);

  // The verdict can no longer change, whatever events come next: some
  // expectation has failed for good (an "every" or "none" violated, a count
  // "eq"/"max" exceeded), or every expectation has passed for good (only
  // "count.min" and "some", and both reached). Scenarios stop on it.
  bool decided() const;

  // The verdict if no more events came: every expectation passes.
  bool pass() const;

  // {"pass":bool,"decided":bool,"observed":N,"expectations":[{"name"?,"pass",
  //  "decided","selected":N,"message":"…","failing":[{"id"?,"position",
  //  "reason","event"}…≤10]}]}. `message` is "" when the expectation passes.
  nlohmann::json result() const;

 private:
  struct State;
  Expectations expectations_;
  std::unique_ptr<State> state_;
};

}  // namespace kumasim::expect
