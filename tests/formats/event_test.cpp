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
  // Shortest digits, positional: not the exact binary expansion.
  EXPECT_EQ(rust_float(1e23), "100000000000000000000000");
  EXPECT_EQ(rust_float(1.5e300), "15" + std::string(299, '0'));
  EXPECT_EQ(rust_float(-2.5e-5), "-0.000025");
  EXPECT_EQ(rust_float(123.456), "123.456");
  EXPECT_EQ(rust_float(5e-324), "0." + std::string(323, '0') + "5");
}

}  // namespace
}  // namespace kumasim::formats::event
