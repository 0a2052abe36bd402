#include "formats/base64.h"
#include "simulator/event_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <fstream>

namespace kumasim::sim {
using formats::base64_encode;
namespace {

std::shared_ptr<const ListenerInfo> listener(std::string name, formats::Codec codec = formats::Codec::cef) {
  formats::NormalizerOptions options;
  options.codec = codec;
  options.lenient = true;
  return std::make_shared<const ListenerInfo>(ListenerInfo{std::move(name), formats::Transport::tcp, options});
}

ReceivedEvent event(std::shared_ptr<const ListenerInfo> from, std::string raw, bool ok = true) {
  ReceivedEvent e;
  e.listener = std::move(from);
  e.peer = "127.0.0.1:1";
  e.size = raw.size();
  e.raw = std::move(raw);
  e.ok = ok;
  return e;
}

// A query with one field set (GCC 12 warns about designated initializers that skip members).
template <class Set>
EventQuery query(Set set) {
  EventQuery q;
  set(q);
  return q;
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\xfe", 3)), "/wD+");
}

TEST(EventStore, AssignsIdsAndFindsByListenerSinceAndVerdict) {
  EventStore store(1 << 20);
  const auto a = listener("a"), b = listener("b");
  std::vector<ReceivedEvent> batch;
  batch.push_back(event(a, "one"));
  batch.push_back(event(b, "two", false));
  batch.push_back(event(a, "three"));
  store.append(batch);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(store.stats().last_id, 3u);
  EXPECT_EQ(store.find({}).size(), 3u);
  EXPECT_EQ(store.find(query([](auto& q) { q.listener = "a"; })).size(), 2u);
  const auto since = store.find(query([](auto& q) { q.since = 1; }));
  ASSERT_EQ(since.size(), 2u);
  EXPECT_EQ(since[0].id, 2u);
  EXPECT_EQ(store.find(query([](auto& q) { q.limit = 1; })).size(), 1u);
  const auto failed = store.find(query([](auto& q) { q.ok = false; }));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].raw, "two");
  store.clear();
  EXPECT_TRUE(store.find({}).empty());
  EXPECT_EQ(store.stats().last_id, 3u);  // ids keep growing after a clear
}

TEST(EventStore, APageEndsAtItsByteBound) {
  EventStore store(1 << 20);
  const auto a = listener("a");
  std::vector<ReceivedEvent> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(event(a, std::string(10, 'x')));
  store.append(batch);
  EXPECT_EQ(store.find(query([](auto& q) { q.max_bytes = 15; })).size(), 2u);
  EXPECT_EQ(store.find(query([](auto& q) { q.max_bytes = 1; })).size(), 1u);  // never an empty page
}

TEST(EventStore, MemoryStaysBoundedByEvictingTheOldest) {
  const auto a = listener("a");
  const std::size_t one = event(a, std::string(1000, 'x')).footprint();
  EventStore store(10 * one);
  for (int i = 0; i < 100; ++i) {
    std::vector<ReceivedEvent> batch;
    batch.push_back(event(a, std::string(1000, 'x')));
    store.append(batch);
  }
  const auto stats = store.stats();
  EXPECT_LE(stats.bytes, 10 * one);
  EXPECT_EQ(stats.events + stats.evicted, 100u);
  EXPECT_EQ(store.find({}).front().id, stats.evicted + 1);
}

// With a reader that must see everything, a full store makes the writer wait
// for the reader instead of evicting what it has not seen.
TEST(EventStore, AFollowedReaderMissesNothing) {
  const auto a = listener("a");
  const auto one = event(a, std::string(1000, 'x')).footprint();
  EventStore store(3 * one);
  store.follow_reader();
  std::atomic<int> appended{0};
  std::thread writer([&] {
    for (int i = 0; i < 10; ++i) {
      std::vector<ReceivedEvent> batch;
      batch.push_back(event(a, std::string(1000, 'x')));
      store.append(batch);
      ++appended;
    }
  });
  std::uint64_t seen = 0;
  while (seen < 10) {
    const auto page = store.find(EventQuery{});
    for (const auto& e : page) {
      if (e.id != seen + 1) continue;  // already seen (kept until evicted)
      seen = e.id;
    }
    EXPECT_LE(store.stats().bytes, 4 * one);  // the bound, and one batch over it at most
    store.reader_at(seen);
  }
  writer.join();
  EXPECT_EQ(appended, 10);
  EXPECT_EQ(store.stats().evicted + store.stats().events, 10u);
}

TEST(EventStore, ReleaseEndsTheWait) {
  const auto a = listener("a");
  EventStore store(1);
  store.follow_reader();
  std::vector<ReceivedEvent> first;
  first.push_back(event(a, "one"));
  store.append(first);  // nothing unread yet: taken even over the bound
  std::thread writer([&] {
    std::vector<ReceivedEvent> batch;
    batch.push_back(event(a, "two"));
    store.append(batch);  // waits: "one" is unread and over the bound
  });
  store.release();
  writer.join();
  EXPECT_EQ(store.stats().last_id, 2u);
}

TEST(EventStore, CaptureFileHasEveryEventWithNonUtf8AsBase64) {
  const auto path = std::filesystem::temp_directory_path() / ("kumasim-capture-" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  {
    EventStore store(1 << 20, path.string());
    std::vector<ReceivedEvent> batch;
    batch.push_back(event(listener("a"), "plain"));
    batch.push_back(event(listener("a"), "caf\xe9"));
    store.append(batch);
  }
  std::ifstream in(path);
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  EXPECT_EQ(nlohmann::json::parse(first)["raw"], "plain");
  EXPECT_EQ(nlohmann::json::parse(second)["raw_base64"], "Y2Fm6Q==");
  std::filesystem::remove(path);
}

TEST(EventStore, UnwritableCaptureIsAnErrorNamingTheFile) {
  try {
    EventStore store(1, "/nonexistent/dir/capture.jsonl");
    FAIL() << "accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/capture.jsonl"), std::string::npos);
  }
}

TEST(EventRenderer, RebuildsFieldsAndKumaViewFromTheRawBytes) {
  const auto e = event(listener("kuma"), "CEF:0|V|P|1|C|N|3|act=allow src=10.0.0.1");
  EventRenderer render;
  const auto json = render(e);
  EXPECT_EQ(json["listener"], "kuma");
  EXPECT_EQ(json["fields"]["extensions"]["act"], "allow");
  EXPECT_EQ(json["kuma"]["DeviceAction"], "allow");
  EXPECT_EQ(json["kuma"]["SourceAddress"], "10.0.0.1");
  EXPECT_EQ(json["raw"], "CEF:0|V|P|1|C|N|3|act=allow src=10.0.0.1");
}

TEST(EventRenderer, UdpKumaViewIsTheBufferedPrefix) {
  auto e = event(listener("u", formats::Codec::json), R"({"a":"bcdefgh"})");
  e.kuma_bytes = 5;  // KUMA's buffer held only `{"a":`
  EventRenderer render;
  const auto json = render(e);
  EXPECT_EQ(json["raw"], R"({"a":"bcdefgh"})");
  EXPECT_EQ(json["kuma"]["Raw"], R"({"a":)");
}

}  // namespace
}  // namespace kumasim::sim
