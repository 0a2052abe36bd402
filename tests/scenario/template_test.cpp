// `${NAME}` placeholders (simulator/scenario/template.h, docs/scenarios.md "Placeholders").
#include "simulator/scenario/template.h"

#include <gtest/gtest.h>

namespace kumasim::scenario {
namespace {

const std::map<std::string, std::string> kValues{
    {"listener.kuma.address", "127.0.0.1:40123"},
    {"listener.kuma.ca_base64", "LS0tLS1CRUdJTg=="},
    {"run_dir", "/tmp/run"},
    {"sandbox", "/tmp/run/root"},
};

std::string ok(std::string_view text, const std::map<std::string, std::string>& values = kValues) {
  const auto result = substitute(text, values);
  EXPECT_TRUE(result.ok()) << result.error;
  return result.text;
}

std::string error(std::string_view text, const std::map<std::string, std::string>& values = kValues) {
  const auto result = substitute(text, values);
  EXPECT_FALSE(result.ok()) << "substituted: " << result.text;
  EXPECT_TRUE(result.text.empty());
  return result.error;
}

TEST(Template, SubstitutesEveryPlaceholder) {
  EXPECT_EQ(ok("address: ${listener.kuma.address} # ${run_dir}"), "address: 127.0.0.1:40123 # /tmp/run");
  EXPECT_EQ(ok("${sandbox}${run_dir}"), "/tmp/run/root/tmp/run");
  EXPECT_EQ(ok("${sandbox}"), "/tmp/run/root");
}

TEST(Template, TextWithoutPlaceholdersIsUnchanged) {
  EXPECT_EQ(ok(""), "");
  EXPECT_EQ(ok("cost $5 and $HOME and trailing $"), "cost $5 and $HOME and trailing $");
  EXPECT_EQ(ok("{{ vector }} stays"), "{{ vector }} stays");
}

TEST(Template, DoubleDollarBraceIsALiteral) {
  EXPECT_EQ(ok("$${HOME}"), "${HOME}");
  EXPECT_EQ(ok("a $${run_dir} b ${run_dir}"), "a ${run_dir} b /tmp/run");
  EXPECT_EQ(ok("$$${run_dir}"), "$${run_dir}");  // "$", then the escape "$${"
  EXPECT_EQ(ok("$$"), "$$");                   // only "$${" is an escape
  EXPECT_EQ(ok("$${"), "${");                  // not an unterminated placeholder
}

TEST(Template, ValuesAreNotScannedAgain) {
  EXPECT_EQ(ok("${a}", {{"a", "${b}"}, {"b", "no"}}), "${b}");
}

TEST(Template, UnknownNameIsNamedWithTheKnownOnes) {
  EXPECT_EQ(error("x ${listener.kuma.adress}"),
            "unknown placeholder ${listener.kuma.adress} at byte 2 (known: listener.kuma.address, "
            "listener.kuma.ca_base64, run_dir, sandbox)");
  EXPECT_EQ(error("${x}", {}), "unknown placeholder ${x} at byte 0 (known: none)");
}

TEST(Template, KnownNamesAreCutWhenLong) {
  std::map<std::string, std::string> many;
  for (int i = 0; i < 30; ++i) many["name" + std::string(i < 10 ? "0" : "") + std::to_string(i)] = "v";
  const auto message = error("${nope}", many);
  EXPECT_NE(message.find("(known: name00, name01,"), std::string::npos) << message;
  EXPECT_NE(message.find("name19, ... (10 more))"), std::string::npos) << message;
  EXPECT_EQ(message.find("name20"), std::string::npos) << message;
}

TEST(Template, UnterminatedPlaceholderGivesItsOffset) {
  EXPECT_EQ(error("abc ${run_dir"),
            "unterminated \"${\" at byte 4 (a placeholder is ${NAME}; write $${ for a literal ${)");
  EXPECT_NE(error("${run_dir} then ${").find("at byte 16"), std::string::npos);
}

TEST(Template, InvalidNames) {
  EXPECT_NE(error("${}").find("invalid placeholder name \"\" at byte 0"), std::string::npos);
  EXPECT_NE(error("a ${run dir}").find("invalid placeholder name \"run dir\" at byte 2"), std::string::npos);
  EXPECT_NE(error("${a${run_dir}}").find("invalid placeholder name \"a${run_dir\""), std::string::npos);
  EXPECT_NE(error("${.a}").find("invalid placeholder name"), std::string::npos);
  EXPECT_NE(error("${a..b}").find("invalid placeholder name"), std::string::npos);
  EXPECT_TRUE(valid_placeholder_name("listener.kuma-2.ca_base64"));
  EXPECT_TRUE(valid_placeholder_name("file.rsyslog.conf"));
  EXPECT_FALSE(valid_placeholder_name("a."));
}

TEST(Template, FirstErrorWins) {
  // The unknown name comes before the unterminated brace.
  EXPECT_NE(error("${nope} ${").find("unknown placeholder ${nope} at byte 0"), std::string::npos);
}

TEST(Template, PlaceholdersInListsNamesAndOffsets) {
  const auto found = placeholders_in("a ${x.y} $${z} ${w}\n${listener.kuma.port}");
  ASSERT_TRUE(std::holds_alternative<std::vector<Placeholder>>(found)) << std::get<std::string>(found);
  const auto& list = std::get<std::vector<Placeholder>>(found);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "x.y");
  EXPECT_EQ(list[0].offset, 2u);
  EXPECT_EQ(list[1].name, "w");
  EXPECT_EQ(list[1].offset, 15u);
  EXPECT_EQ(list[2].name, "listener.kuma.port");
  EXPECT_EQ(list[2].offset, 20u);
}

TEST(Template, PlaceholdersInReportsSyntaxErrors) {
  const auto found = placeholders_in("ok ${a} then ${b");
  ASSERT_TRUE(std::holds_alternative<std::string>(found));
  EXPECT_NE(std::get<std::string>(found).find("unterminated \"${\" at byte 13"), std::string::npos);
  const auto bad = placeholders_in("${a b}");
  ASSERT_TRUE(std::holds_alternative<std::string>(bad));
  EXPECT_NE(std::get<std::string>(bad).find("invalid placeholder name"), std::string::npos);
}

}  // namespace
}  // namespace kumasim::scenario
