#include "shipper/pipeline/field_path.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kumasim::shipper {
namespace {

PathSegment key(std::string name) { return PathSegment{std::move(name)}; }
PathSegment index(std::int64_t n) { return PathSegment{{}, n, true}; }

FieldPath parsed(std::string_view text) {
  auto result = parse_filter_path(text);
  if (auto* error = std::get_if<PathError>(&result)) {
    ADD_FAILURE() << "`" << text << "`: " << error->reason;
    return {};
  }
  return std::get<FieldPath>(result);
}

PathError rejected(std::string_view text) {
  auto result = parse_filter_path(text);
  if (auto* error = std::get_if<PathError>(&result)) return *error;
  ADD_FAILURE() << "`" << text << "` was accepted";
  return {};
}

FieldPath template_path(std::string_view inner) {
  auto result = parse_template_path(inner);
  if (auto* error = std::get_if<PathError>(&result)) {
    ADD_FAILURE() << "`" << inner << "`: " << error->reason;
    return {};
  }
  return std::get<FieldPath>(result);
}

TEST(FilterPath, DotsNestAndIndexesAddress) {
  EXPECT_EQ(parsed("user.username"), (FieldPath{key("user"), key("username")}));
  EXPECT_EQ(parsed("items[0].name"), (FieldPath{key("items"), index(0), key("name")}));
  EXPECT_EQ(parsed("a[-1]"), (FieldPath{key("a"), index(-1)}));
  EXPECT_EQ(parsed("a[0][2]"), (FieldPath{key("a"), index(0), index(2)}));
  EXPECT_EQ(parsed("a[1_0]"), (FieldPath{key("a"), index(10)}));  // VRL integer literal separators
  EXPECT_EQ(parsed("@timestamp.x_1"), (FieldPath{key("@timestamp"), key("x_1")}));
  EXPECT_EQ(parsed("0abc"), FieldPath{key("0abc")});
  EXPECT_EQ(parsed("[3]"), FieldPath{index(3)});  // `.[3]` from the root
  EXPECT_TRUE(parsed("").empty());
}

TEST(FilterPath, QuotedSegmentKeepsDotsAndSlashes) {
  EXPECT_EQ(parsed(R"(annotations."authorization.k8s.io/decision")"),
            (FieldPath{key("annotations"), key("authorization.k8s.io/decision")}));
  EXPECT_EQ(parsed(R"("a\"b\\c".d)"), (FieldPath{key("a\"b\\c"), key("d")}));
  EXPECT_EQ(parsed(R"("x-y"[1])"), (FieldPath{key("x-y"), index(1)}));
  EXPECT_EQ(parsed(R"("")"), FieldPath{key("")});
}

TEST(FilterPath, UnquotedSlashOrDashIsAConfigError) {
  const PathError slash = rejected("annotations.authorization.k8s.io/decision");
  EXPECT_EQ(slash.offset, 32u);
  EXPECT_NE(slash.reason.find("`/`"), std::string::npos);
  EXPECT_EQ(rejected("pay-load").offset, 3u);
  EXPECT_EQ(rejected("a b").offset, 1u);
}

TEST(FilterPath, MalformedPathsAreRejected) {
  EXPECT_EQ(rejected(".x").offset, 0u);  // DKP would write `..x`
  EXPECT_EQ(rejected("x.").offset, 2u);
  EXPECT_EQ(rejected("a..b").offset, 2u);
  EXPECT_EQ(rejected(R"("abc)").offset, 0u);
  EXPECT_EQ(rejected(R"("a\q")").offset, 2u);
  EXPECT_EQ(rejected("a[x]").offset, 1u);
  EXPECT_EQ(rejected("a[1").offset, 1u);
  EXPECT_EQ(rejected("a[99999999999999999999]").offset, 1u);
  EXPECT_EQ(rejected(R"(a."x"y)").offset, 5u);
  EXPECT_EQ(rejected("a.0").offset, 2u);  // VRL lexes `0` as a number
  EXPECT_EQ(rejected("a._").offset, 2u);  // and `_` as the discard token
}

TEST(Lookup, WalksObjectsAndArrays) {
  const auto doc = nlohmann::json::parse(R"({"a":{"b":[10,{"c":"x"},30]},"n":null,"s":"text"})");
  ASSERT_NE(lookup(doc, parsed("a.b[1].c")), nullptr);
  EXPECT_EQ(*lookup(doc, parsed("a.b[1].c")), "x");
  EXPECT_EQ(*lookup(doc, parsed("a.b[-1]")), 30);
  EXPECT_EQ(*lookup(doc, parsed("a.b[-3]")), 10);
  EXPECT_EQ(lookup(doc, parsed("a.b[-4]")), nullptr);
  EXPECT_EQ(lookup(doc, parsed("a.b[3]")), nullptr);
  EXPECT_EQ(lookup(doc, parsed("s.x")), nullptr);   // through a string
  EXPECT_EQ(lookup(doc, parsed("a[0]")), nullptr);  // index on an object
  EXPECT_EQ(lookup(doc, parsed("a.b.c")), nullptr); // key on an array
  const nlohmann::json* null_value = lookup(doc, parsed("n"));
  ASSERT_NE(null_value, nullptr);  // present with null is not missing
  EXPECT_TRUE(null_value->is_null());
  EXPECT_EQ(lookup(doc, FieldPath{}), &doc);
}

TEST(Assign, CreatesObjectsAndReplacesScalarsInTheWay) {
  nlohmann::json doc = nlohmann::json::parse(R"({"a":"scalar","keep":1})");
  assign(doc, parsed("a.b"), "x");
  assign(doc, parsed("c.d.e"), 5);
  EXPECT_EQ(doc.dump(), R"({"a":{"b":"x"},"c":{"d":{"e":5}},"keep":1})");
  assign(doc, parsed("keep"), nullptr);
  EXPECT_TRUE(doc["keep"].is_null());
}

TEST(Assign, IndexesPadWithNullsAsVrlDoes) {
  nlohmann::json doc = nlohmann::json::object();
  assign(doc, parsed("a[2]"), 10);
  EXPECT_EQ(doc.dump(), R"({"a":[null,null,10]})");
  // VRL's own insert test: [-2]=10, [-1]=5, [-2]=2, [-1][1]=3 on null.
  nlohmann::json root;
  assign(root, parsed("[-2]"), 10);
  EXPECT_EQ(root.dump(), "[10,null]");
  assign(root, parsed("[-1]"), 5);
  assign(root, parsed("[-2]"), 2);
  assign(root, parsed("[-1][1]"), 3);
  EXPECT_EQ(root.dump(), "[2,[null,3]]");
}

TEST(LabelKeyPath, DotsNestAndADashQuotesTheWholeKey) {
  auto path = [](std::string_view k) {
    auto result = label_key_path(k);
    return std::holds_alternative<FieldPath>(result) ? std::get<FieldPath>(result) : FieldPath{key("<error>")};
  };
  EXPECT_EQ(path("cef.severity"), (FieldPath{key("cef"), key("severity")}));
  EXPECT_EQ(path("host"), FieldPath{key("host")});
  // DKP's own test: key9.with-dots.and-hypens -> ."key9.with-dots.and-hypens"
  EXPECT_EQ(path("key9.with-dots.and-hypens"), FieldPath{key("key9.with-dots.and-hypens")});
  EXPECT_EQ(path("X-Check"), FieldPath{key("X-Check")});
  EXPECT_TRUE(std::holds_alternative<PathError>(label_key_path("a..b")));
  EXPECT_TRUE(std::holds_alternative<PathError>(label_key_path(".a")));
  EXPECT_TRUE(std::holds_alternative<PathError>(label_key_path("a.0")));
}

TEST(TemplatePath, FollowsDkpGenerator) {
  // The examples of DKP's extra_fields_test.go.
  EXPECT_EQ(template_path(R"(pay\.lo[3].te\.st)"), (FieldPath{key("pay.lo"), index(3), key("te.st")}));
  EXPECT_EQ(template_path("X-Check-hypen"), FieldPath{key("X-Check-hypen")});
  EXPECT_EQ(template_path(R"(va\.lue-hy\.pen)"), FieldPath{key("va.lue-hy.pen")});
  EXPECT_EQ(template_path("ve.ry.dot.ted"), (FieldPath{key("ve"), key("ry"), key("dot"), key("ted")}));
  EXPECT_TRUE(template_path("parsed_data").empty());
  EXPECT_EQ(template_path("parsed_data.check.parsed-data"), (FieldPath{key("check"), key("parsed-data")}));
  EXPECT_EQ(template_path("user.username"), (FieldPath{key("user"), key("username")}));
  EXPECT_EQ(template_path("items[0][1]"), (FieldPath{key("items"), index(0), index(1)}));
  EXPECT_EQ(template_path("pay-load[0].a"), (FieldPath{key("pay-load"), index(0), key("a")}));
  // A negative index carries `-`, so DKP quotes the whole part as a key.
  EXPECT_EQ(template_path("a[-1]"), FieldPath{key("a[-1]")});
  // A backslash not before a dot is dropped.
  EXPECT_EQ(template_path(R"(a\b)"), FieldPath{key("ab")});
}

TEST(TemplatePath, RejectsWhatDkpOrVrlCannotUse) {
  EXPECT_TRUE(std::holds_alternative<PathError>(parse_template_path("a..b")));          // Go panics
  EXPECT_TRUE(std::holds_alternative<PathError>(parse_template_path("parsed_data.")));  // same
  EXPECT_TRUE(std::holds_alternative<PathError>(parse_template_path("[0]")));           // .parsed_data.[0]
  EXPECT_TRUE(std::holds_alternative<PathError>(parse_template_path("a.0")));
  EXPECT_TRUE(std::holds_alternative<PathError>(parse_template_path("a[b]")));
}

}  // namespace
}  // namespace kumasim::shipper
