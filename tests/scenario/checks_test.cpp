// The checks on input lines: delivered once (duplicates, order, altered text,
// lines not selected) and the latency from write to receipt.
#include "simulator/scenario/checks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/eventually.h"

namespace kumasim::scenario {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kLines = {R"({"n":1,"verb":"get"})", R"({"n":2,"verb":"list"})", R"({"n":3,"verb":"get"})"};

class ChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kumasim-checks-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream out(dir_ / "audit.log");
    for (const auto& l : kLines) out << l << "\n";
    input_.file = (dir_ / "audit.log").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // An event as the store renders it: the line in kuma.Extra.message (JSON and CEF).
  static json event(std::uint64_t id, const std::string& line, const std::string& listener = "kuma") {
    return {{"id", id}, {"listener", listener}, {"raw", "…" + line}, {"kuma", {{"Extra", {{"message", line}}}}}};
  }
  DeliveredCheck check(const InputCatalog& catalog, DeliveredSpec spec = {}) const {
    if (spec.name.empty()) spec.name = "d";
    return DeliveredCheck(spec, catalog, 0);
  }

  fs::path dir_;
  InputSpec input_;
};

TEST_F(ChecksTest, EveryLineOnceInOrderPasses) {
  const InputCatalog catalog({input_}, {nullptr});
  DeliveredSpec spec;
  spec.in_order = true;
  auto c = check(catalog, spec);
  for (std::size_t i = 0; i < kLines.size(); ++i) c.observe(event(i + 1, kLines[i]));
  EXPECT_TRUE(c.complete());
  EXPECT_FALSE(c.failed());
  EXPECT_EQ(c.result()["pass"], true) << c.result().dump();
}

TEST_F(ChecksTest, AMissingLineIsNamed) {
  const InputCatalog catalog({input_}, {nullptr});
  auto c = check(catalog);
  c.observe(event(1, kLines[0]));
  c.observe(event(2, kLines[2]));
  EXPECT_FALSE(c.complete());
  EXPECT_FALSE(c.failed());  // it may still come
  EXPECT_EQ(c.result()["message"], "1 of 3 selected lines missing, first line 2");
}

TEST_F(ChecksTest, DuplicatesBeyondTheBudgetFailForGood) {
  const InputCatalog catalog({input_}, {nullptr});
  DeliveredSpec spec;
  spec.duplicates = 1;
  auto c = check(catalog, spec);
  c.observe(event(1, kLines[0]));
  c.observe(event(2, kLines[0]));
  EXPECT_FALSE(c.failed());
  c.observe(event(3, kLines[0]));
  EXPECT_TRUE(c.failed());
  const auto r = c.result();
  EXPECT_EQ(r["duplicates"], 2);
  EXPECT_EQ(r["failing"][0]["id"], 3);
  EXPECT_EQ(r["failing"][0]["reason"], "a duplicate of input line 1");
}

TEST_F(ChecksTest, OutOfOrderFailsOnlyWhenOrderIsAsked) {
  const InputCatalog catalog({input_}, {nullptr});
  DeliveredSpec ordered;
  ordered.in_order = true;
  auto strict = check(catalog, ordered);
  auto loose = check(catalog);
  for (auto* c : {&strict, &loose}) {
    c->observe(event(1, kLines[1]));
    c->observe(event(2, kLines[0]));
  }
  EXPECT_TRUE(strict.failed());
  EXPECT_EQ(strict.result()["failing"][0]["reason"], "input line 1 arrived after line 2");
  EXPECT_FALSE(loose.failed());
}

TEST_F(ChecksTest, AnAlteredLineFailsWithADiffAgainstTheLineMissing) {
  const InputCatalog catalog({input_}, {nullptr});
  auto c = check(catalog);
  c.observe(event(1, kLines[0]));
  c.observe(event(2, R"({"n":2,"verb":"lis")"));  // cut on the way
  EXPECT_TRUE(c.failed());
  const auto r = c.result();
  EXPECT_EQ(r["foreign"], 1);
  EXPECT_EQ(r["failing"][0]["reason"], "its text is no input line (altered on the way?)");
  const std::string diff = r["failing"][0]["diff"];
  EXPECT_NE(diff.find("against input line 2, first difference at byte 18"), std::string::npos) << diff;
  EXPECT_NE(diff.find("(21 and 19 bytes)"), std::string::npos) << diff;
  EXPECT_FALSE(r["failing"][0].contains("carried"));
}

TEST_F(ChecksTest, AnEventWithoutTextIsForeign) {
  const InputCatalog catalog({input_}, {nullptr});
  auto c = check(catalog);
  c.observe({{"id", 1}, {"listener", "kuma"}, {"ok", false}, {"raw", "garbage"}});
  EXPECT_TRUE(c.failed());
  EXPECT_EQ(c.result()["failing"][0]["reason"], "it carries no input line (not decoded?)");
}

TEST_F(ChecksTest, SelectionOtherListenersAndExclusivity) {
  auto gets = std::get<expect::Selector>(expect::Selector::parse(json::parse(R"({"field":"verb","equals":"get"})"), "s"));
  const InputCatalog catalog({input_}, {&gets});
  DeliveredSpec spec;
  spec.listener = "kuma";
  auto lenient = check(catalog, spec);
  spec.exclusive = true;
  auto exclusive = check(catalog, spec);
  for (auto* c : {&lenient, &exclusive}) {
    c->observe(event(1, kLines[0]));
    c->observe(event(2, kLines[1]));           // not selected
    c->observe(event(3, kLines[2], "other"));  // another listener: not this check's
  }
  EXPECT_FALSE(lenient.failed());
  EXPECT_EQ(lenient.result()["message"], "1 of 2 selected lines missing, first line 3");
  EXPECT_TRUE(exclusive.failed());
  EXPECT_EQ(exclusive.result()["unselected"], 1);
}

TEST_F(ChecksTest, ContentAtAnotherPath) {
  const InputCatalog catalog({input_}, {nullptr});
  DeliveredSpec spec;
  spec.content = "raw";
  auto c = check(catalog, spec);
  c.observe({{"id", 1}, {"listener", "kuma"}, {"raw", kLines[1]}});
  EXPECT_EQ(c.result()["arrived"], 1);
  EXPECT_EQ(CarriedLine("").hash({{"kuma", {{"Message", kLines[0]}}}}), text_hash(kLines[0]));  // Syslog's MSG
}

TEST_F(ChecksTest, LatencyIsThePercentileOfWriteToReceipt) {
  const InputCatalog catalog({input_}, {nullptr});
  InputWriter writer({input_}, dir_ / "out" / "audit.log", catalog.lines());
  writer.start();
  ASSERT_TRUE(kumasim::testing::eventually([&] { return writer.done(); }));
  LatencySpec spec;
  spec.name = "p50";
  spec.percentile = 50;
  spec.max = std::chrono::milliseconds(20);
  LatencyCheck check(spec, catalog, writer);
  EXPECT_EQ(check.result()["message"], "no input line arrived: nothing to measure");
  const std::int64_t ms = 1'000'000;
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto e = event(i + 1, kLines[i]);
    e["received_ns"] = writer.written_ns(i) + static_cast<std::int64_t>(i + 1) * 10 * ms;  // 10, 20, 30 ms
    check.observe(e);
  }
  auto r = check.result();
  EXPECT_EQ(r["measured_ms"], 20.0);
  EXPECT_EQ(r["pass"], true) << r.dump();
  spec.percentile = 100;
  LatencyCheck worst(spec, catalog, writer);
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto e = event(i + 1, kLines[i]);
    e["received_ns"] = writer.written_ns(i) + static_cast<std::int64_t>(i + 1) * 10 * ms;
    worst.observe(e);
  }
  EXPECT_EQ(worst.result()["message"], "p100 latency 30.0 ms, expected at most 20 ms");
}

}  // namespace
}  // namespace kumasim::scenario
