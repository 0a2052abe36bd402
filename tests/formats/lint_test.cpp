#include "formats/lint.h"

#include <gtest/gtest.h>

#include <set>

namespace kumasim::formats {
namespace {

TEST(Lint, CatalogHasEverySpecIdOnceWithItsLevel) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kLintCount; ++i) {
    const auto& info = lint_info(static_cast<LintId>(i));
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_FALSE(info.definition.empty()) << info.name;
    EXPECT_EQ(lint_from_name(info.name), static_cast<LintId>(i));
  }
  EXPECT_EQ(names.size(), 29u);  // kuma-receiver.md §8
  EXPECT_EQ(lint_info(LintId::cef_version_1).level, LintLevel::warn);
  EXPECT_EQ(lint_info(LintId::frame_not_cef).level, LintLevel::error);
  EXPECT_EQ(lint_info(LintId::trailing_cr).level, LintLevel::info);
  EXPECT_EQ(lint_info(LintId::octet_counting_unsupported).name, "octet-counting-unsupported");
  EXPECT_EQ(lint_info(LintId::tls_ip_url).name, "tls-ip-url");
}

TEST(Lint, UnknownNamesAreRejected) {
  EXPECT_FALSE(lint_from_name("cef-version-2"));
  EXPECT_FALSE(lint_from_name(""));
}

TEST(Lint, HasLint) {
  const Lints lints{{LintId::non_utf8, "at byte 3"}};
  EXPECT_TRUE(has_lint(lints, LintId::non_utf8));
  EXPECT_FALSE(has_lint(lints, LintId::trailing_cr));
  EXPECT_EQ(to_string(LintLevel::warn), "warn");
}

}  // namespace
}  // namespace kumasim::formats
