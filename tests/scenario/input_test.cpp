// The scenario input: lines as the writer produces them (limit, repeat), the
// catalog that recognises them by hash, and the writer's file with rotations.
#include "simulator/scenario/input.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/eventually.h"

namespace kumasim::scenario {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class InputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kumasim-input-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "audit.log") << R"({"verb":"get","userAgent":"kubelet/1.29"})" << "\n"
                                      << R"({"verb":"list"})" << "\n"
                                      << "not json\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  InputSpec spec() const {
    InputSpec s;
    s.file = (dir_ / "audit.log").string();
    return s;
  }
  static std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
};

std::vector<std::string> lines_of(const std::vector<InputSpec>& input) {
  std::vector<std::string> out;
  for_each_input_line(input, [&](std::string_view text, const InputSpec&) { out.emplace_back(text); });
  return out;
}

TEST_F(InputTest, LimitAndRepeatApplyAcrossRounds) {
  auto s = spec();
  s.repeat = 2;
  EXPECT_EQ(lines_of({s}).size(), 6u);
  s.limit = 4;  // the limit counts every round
  const auto lines = lines_of({s});
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], lines[0]);
  auto missing = spec();
  missing.file = (dir_ / "nope.log").string();
  try {
    lines_of({missing});
    FAIL() << "a missing file was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.log: cannot read"), std::string::npos) << e.what();
  }
}

TEST_F(InputTest, CatalogFindsLinesByTextAndKnowsWhatEachSelectorPicks) {
  auto kubelet = std::get<expect::Selector>(expect::Selector::parse(json::parse(R"({"field":"userAgent","regex":"^kubelet"})"), "s"));
  auto missing = std::get<expect::Selector>(expect::Selector::parse(json::parse(R"({"field":"verb","exists":false})"), "s"));
  auto s = spec();
  s.repeat = 2;
  const InputCatalog catalog({s}, {nullptr, &kubelet, &missing});
  EXPECT_EQ(catalog.lines(), 6u);
  EXPECT_EQ(catalog.lines_with(text_hash(R"({"verb":"list"})")), (std::vector<std::uint32_t>{1, 4}));
  EXPECT_TRUE(catalog.lines_with(text_hash("no such line")).empty());
  EXPECT_EQ(catalog.selected_count(0), 6u);
  EXPECT_EQ(catalog.selected_count(1), 2u);
  EXPECT_TRUE(catalog.selected(1, 3));
  EXPECT_EQ(catalog.selected_count(2), 2u);  // "not json" has no fields at all
  EXPECT_TRUE(catalog.selected(2, 2));
  EXPECT_EQ(catalog.text_of(4), R"({"verb":"list"})");
}

TEST_F(InputTest, WriterAppendsEveryLineAndRotatesWhereAsked) {
  auto s = spec();
  s.repeat = 3;
  s.rotate_after = {2, 7};
  const auto log = dir_ / "root" / "audit.log";
  InputWriter writer({s}, log, 9);
  writer.start();
  ASSERT_TRUE(kumasim::testing::eventually([&] { return writer.done(); }));
  EXPECT_FALSE(writer.error()) << *writer.error();
  EXPECT_EQ(writer.written(), 9u);
  EXPECT_EQ(writer.rotations(), 2u);
  for (std::uint32_t i = 0; i < 9; ++i) EXPECT_GT(writer.written_ns(i), 0) << i;
  const auto all = lines_of({s});
  const auto joined = [&](std::size_t from, std::size_t to) {
    std::string text;
    for (std::size_t i = from; i < to; ++i) text += all[i] + "\n";
    return text;
  };
  EXPECT_EQ(slurp(dir_ / "root" / "audit.log.1"), joined(0, 2));
  EXPECT_EQ(slurp(dir_ / "root" / "audit.log.2"), joined(2, 7));
  EXPECT_EQ(slurp(log), joined(7, 9));
}

TEST_F(InputTest, WriterAtARateWritesEverythingToo) {
  auto s = spec();
  s.pace = InputSpec::Pace::rate;
  s.rate = 1000;
  InputWriter writer({s}, dir_ / "paced" / "audit.log", 3);
  writer.start();
  ASSERT_TRUE(kumasim::testing::eventually([&] { return writer.done(); }));
  EXPECT_EQ(writer.written(), 3u);
  EXPECT_EQ(slurp(dir_ / "paced" / "audit.log"), slurp(dir_ / "audit.log"));
}

TEST_F(InputTest, WriterReportsAFileThatCannotBeRead) {
  auto s = spec();
  s.file = (dir_ / "gone.log").string();
  InputWriter writer({s}, dir_ / "out" / "audit.log", 0);
  writer.start();
  ASSERT_TRUE(kumasim::testing::eventually([&] { return writer.done(); }));
  ASSERT_TRUE(writer.error());
  EXPECT_NE(writer.error()->find("gone.log: cannot read"), std::string::npos) << *writer.error();
}

}  // namespace
}  // namespace kumasim::scenario
