// The control API's routing table, called directly; the socket side is
// covered by the serve test.
#include "simulator/control_api.h"

#include <gtest/gtest.h>

namespace kumasim::sim {
namespace {

Request request(http::verb verb, std::string target, std::string token = {}) {
  Request r(verb, target, 11);
  if (!token.empty()) r.set(http::field::authorization, "Bearer " + token);
  return r;
}

class ControlApiTest : public ::testing::Test {
 protected:
  ControlApiTest() : server_(config()), api_(server_, "") {}

  static ServerConfig config() {
    ServerConfig c;
    c.listeners.push_back(std::get<ListenerConfig>(parse_listener_url("tcp://127.0.0.1:0?name=kuma&codec=cef", 1)));
    c.io_threads = 1;
    return c;
  }

  // Stores `raw` with the verdict and lints a listener would record.
  void store(std::string raw) {
    std::vector<ReceivedEvent> batch(1);
    auto& e = batch[0];
    e.listener = std::make_shared<const ListenerInfo>(ListenerInfo{"kuma", formats::Transport::tcp, {formats::Codec::cef, true, {}}});
    e.raw = std::move(raw);
    formats::StreamState state;
    auto verdict = formats::Normalizer(e.listener->options).normalize(e.raw, state, formats::Normalizer::Detail::verdict);
    e.ok = verdict.ok();
    e.format = verdict.format;
    e.error = verdict.error;
    e.lints = std::move(verdict.lints);
    server_.store().append(batch);
  }

  nlohmann::json get_json(const std::string& target, http::status expected = http::status::ok) {
    const Response r = api_.handle(request(http::verb::get, target));
    EXPECT_EQ(r.result(), expected) << target << ": " << r.body();
    return nlohmann::json::parse(r.body(), nullptr, false);
  }

  Server server_;
  ControlApi api_;
};

TEST_F(ControlApiTest, HealthAndListeners) {
  const Response health = api_.handle(request(http::verb::get, "/healthz"));
  EXPECT_EQ(health.result(), http::status::ok);
  EXPECT_EQ(health.body(), "ok\n");
  api_.set_own_address("127.0.0.1:9999");
  const auto listeners = get_json("/api/v1/listeners");
  ASSERT_EQ(listeners.size(), 2u);
  EXPECT_EQ(listeners[0]["name"], "kuma");
  EXPECT_NE(listeners[0]["port"], 0);  // the port actually bound
  EXPECT_EQ(listeners[1]["address"], "127.0.0.1:9999");
}

TEST_F(ControlApiTest, EventsWithFiltersAndPaging) {
  store("CEF:0|V|P|1|C|N|3|act=a");
  store("oops");
  store("CEF:0|V|P|1|C|N|3|act=c");
  const auto all = get_json("/api/v1/events");
  ASSERT_EQ(all["events"].size(), 3u);
  EXPECT_EQ(all["events"][0]["kuma"]["DeviceAction"], "a");
  EXPECT_EQ(all["last_id"], 3);
  EXPECT_EQ(get_json("/api/v1/events?since=1&limit=1")["events"][0]["id"], 2);
  EXPECT_EQ(get_json("/api/v1/events?ok=false")["events"].size(), 1u);
  EXPECT_EQ(get_json("/api/v1/events?listener=other")["events"].size(), 0u);
  EXPECT_EQ(get_json("/api/v1/events?since=3")["last_id"], 3);
  const Response deleted = api_.handle(request(http::verb::delete_, "/api/v1/events"));
  EXPECT_EQ(deleted.result(), http::status::ok);
  EXPECT_TRUE(get_json("/api/v1/events")["events"].empty());
}

TEST_F(ControlApiTest, BadParametersAreNamed) {
  EXPECT_NE(get_json("/api/v1/events?limit=0", http::status::bad_request)["error"].get<std::string>().find("limit"),
            std::string::npos);
  EXPECT_NE(get_json("/api/v1/events?since=x", http::status::bad_request)["error"].get<std::string>().find("since"),
            std::string::npos);
  EXPECT_NE(get_json("/api/v1/events?ok=yes", http::status::bad_request)["error"].get<std::string>().find("ok"),
            std::string::npos);
  EXPECT_NE(get_json("/api/v1/nothing", http::status::not_found)["error"].get<std::string>().find("/api/v1/nothing"),
            std::string::npos);
}

TEST_F(ControlApiTest, StatsAndPrometheusMetrics) {
  const auto stats = get_json("/api/v1/stats");
  EXPECT_EQ(stats["listeners"]["kuma"]["frames"], 0);
  EXPECT_EQ(stats["store"]["max_bytes"], 256ull * 1024 * 1024);
  const Response metrics = api_.handle(request(http::verb::get, "/metrics"));
  EXPECT_EQ(metrics[http::field::content_type], "text/plain; version=0.0.4");
  EXPECT_NE(metrics.body().find("# TYPE kumasim_frames_total counter"), std::string::npos) << metrics.body();
  EXPECT_NE(metrics.body().find("kumasim_frames_total{listener=\"kuma\"} 0"), std::string::npos);
}

Response post(ControlApi& api, const std::string& target, const std::string& body) {
  Request r(http::verb::post, target, 11);
  r.body() = body;
  r.prepare_payload();
  return api.handle(r);
}

TEST_F(ControlApiTest, ExpectationsAreEvaluatedAgainstTheStoredEvents) {
  store("CEF:1|Deckhouse|log-shipper-agent|1|Log event|Deckhouse Event|5|message={\"verb\":\"get\"}");
  store("CEF:1|Deckhouse|log-shipper-agent|1|Log event|Deckhouse Event|5|message={\"verb\":\"list\"}");
  const Response pass = post(api_, "/api/v1/expect", R"({"expectations":[
      {"name":"two events","count":{"eq":2}},
      {"every":[{"field":"kuma.DeviceVendor","equals":"Deckhouse"},{"lint":"cef-version-1"}]},
      {"some":[{"field":"kuma.Extra.message","json":{"verb":"list"}}]}]})");
  ASSERT_EQ(pass.result(), http::status::ok) << pass.body();
  EXPECT_EQ(nlohmann::json::parse(pass.body())["pass"], true) << pass.body();
  const Response fail = post(api_, "/api/v1/expect", R"({"every":[{"field":"kuma.Severity","equals":"1"}]})");
  const auto result = nlohmann::json::parse(fail.body());
  EXPECT_EQ(result["pass"], false);
  EXPECT_NE(result["expectations"][0]["message"].get<std::string>().find("kuma.Severity"), std::string::npos) << result;
}

TEST_F(ControlApiTest, BadExpectationsAreA400NamingThePlace) {
  const Response not_json = post(api_, "/api/v1/expect", "{");
  EXPECT_EQ(not_json.result(), http::status::bad_request);
  const Response bad = post(api_, "/api/v1/expect", R"({"expectations":[{"every":[{"field":"x","regx":"a"}]}]})");
  EXPECT_EQ(bad.result(), http::status::bad_request);
  EXPECT_NE(bad.body().find("expectations[0].every[0]"), std::string::npos) << bad.body();
}

TEST_F(ControlApiTest, TokenIsRequiredWhenSet) {
  ControlApi guarded(server_, "s3cret");
  EXPECT_EQ(guarded.handle(request(http::verb::get, "/api/v1/stats")).result(), http::status::unauthorized);
  EXPECT_EQ(guarded.handle(request(http::verb::get, "/api/v1/stats", "wrong")).result(), http::status::unauthorized);
  EXPECT_EQ(guarded.handle(request(http::verb::get, "/api/v1/stats", "s3cret")).result(), http::status::ok);
  EXPECT_EQ(guarded.handle(request(http::verb::get, "/healthz")).result(), http::status::ok);
}

TEST(LoopbackAddress, Recognised) {
  EXPECT_TRUE(is_loopback_address("127.0.0.1:8089"));
  EXPECT_TRUE(is_loopback_address("127.9.9.9:0"));
  EXPECT_TRUE(is_loopback_address("[::1]:0"));
  EXPECT_TRUE(is_loopback_address("localhost:1"));
  EXPECT_FALSE(is_loopback_address("0.0.0.0:8089"));
  EXPECT_FALSE(is_loopback_address("10.1.2.3:8089"));
}

}  // namespace
}  // namespace kumasim::sim

namespace kumasim::sim {
namespace {

TEST_F(ControlApiTest, FaultsNeedAnEmbeddedKafkaListener) {
  const auto fault = [&](const std::string& target, const std::string& body) {
    Request r(http::verb::post, target, 11);
    r.body() = body;
    r.prepare_payload();
    return api_.handle(r);
  };
  const Response missing = fault("/api/v1/listeners/nope/faults", R"({"broker":1,"down":true})");
  EXPECT_EQ(missing.result(), http::status::not_found) << missing.body();
  EXPECT_NE(missing.body().find("no listener nope"), std::string::npos) << missing.body();
  const Response tcp = fault("/api/v1/listeners/kuma/faults", R"({"broker":1,"down":true})");
  EXPECT_EQ(tcp.result(), http::status::conflict) << tcp.body();
  EXPECT_NE(tcp.body().find("not a kafka listener"), std::string::npos) << tcp.body();
  const Response get = api_.handle(request(http::verb::get, "/api/v1/listeners/kuma/faults"));
  EXPECT_EQ(get.result(), http::status::method_not_allowed);
}

}  // namespace
}  // namespace kumasim::sim
