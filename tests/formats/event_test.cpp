#include "formats/event.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kumasim::formats::event {
namespace {

TEST(Event, FindWalksNestedObjects) {
  const auto e = nlohmann::json::parse(R"({"host":"n","cef":{"severity":"1"},"list":[1],"s":"x"})");
  ASSERT_NE(find(e, "host"), nullptr);
  EXPECT_EQ(*find(e, "cef.severity"), "1");
  EXPECT_EQ(find(e, "cef.name"), nullptr);
  EXPECT_EQ(find(e, "s.x"), nullptr);      // through a string
  EXPECT_EQ(find(e, "list.0"), nullptr);   // arrays are not walked by a dotted path
  EXPECT_EQ(find(e, "missing.deep"), nullptr);
}

TEST(Event, RustFloatDisplay) {
  EXPECT_EQ(rust_float(5.0), "5");
  EXPECT_EQ(rust_float(1.5), "1.5");
  EXPECT_EQ(rust_float(-0.0), "-0");
  EXPECT_EQ(rust_float(0.1), "0.1");
  EXPECT_EQ(rust_float(1e21), "1000000000000000000000");
  EXPECT_EQ(rust_float(1.25e-7), "0.000000125");
  EXPECT_EQ(rust_float(3.0), "3");
}

}  // namespace
}  // namespace kumasim::formats::event
