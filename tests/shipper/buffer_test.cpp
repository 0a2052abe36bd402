// The destination queue on its own (dkp-log-shipper.md §9): done_below()
// bookkeeping, messages given back after a broken connection or a failed
// delivery, and the disk storage's segments, cursor and recovery from a crash.
#include "shipper/delivery/buffer.h"
#include "shipper/delivery/disk_storage.h"

#include "tests/shipper/delivery_support.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kumasim::shipper {
namespace {

using testing::message;

std::vector<std::string> in_flight_payloads(const Buffer& buffer) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < buffer.in_flight(); ++i) out.push_back(buffer.in_flight(i).message.payload);
  return out;
}

struct MemoryBuffer : ::testing::Test {
  Buffer make(MemoryLimits limits, BufferSpec::WhenFull when_full = BufferSpec::WhenFull::block) {
    return Buffer(make_memory_storage(limits), when_full, counters, [this](const std::string& l) { logs.push_back(l); });
  }
  DeliveryCounters counters;
  std::vector<std::string> logs;
};

TEST_F(MemoryBuffer, DoneBelowIsTheOldestMessageNotDone) {
  auto buffer = make({10, 0});
  EXPECT_EQ(buffer.done_below(), 0u);
  for (std::uint64_t s : {3, 4, 7, 9}) ASSERT_EQ(buffer.push(message("m" + std::to_string(s), s)), Buffer::Push::queued);
  EXPECT_EQ(buffer.done_below(), 3u);
  ASSERT_EQ(buffer.take(2, 1 << 20, std::chrono::milliseconds(0)), 2u);
  EXPECT_EQ(buffer.done_below(), 3u);  // in flight is not done
  buffer.retire(1);
  EXPECT_EQ(buffer.done_below(), 4u);
  buffer.retire(1);
  EXPECT_EQ(buffer.done_below(), 7u);  // the oldest waiting one
  ASSERT_EQ(buffer.take(10, 1 << 20, std::chrono::milliseconds(0)), 2u);
  buffer.retire(2);
  EXPECT_EQ(buffer.done_below(), 10u);
  EXPECT_TRUE(buffer.wait_idle(std::chrono::steady_clock::now()));
}

TEST_F(MemoryBuffer, GivenBackMessagesGoFirstInTheirOrder) {
  auto buffer = make({10, 0});
  for (std::uint64_t s = 0; s < 5; ++s) buffer.push(message("m" + std::to_string(s), s));
  ASSERT_EQ(buffer.take(3, 1 << 20, std::chrono::milliseconds(0)), 3u);
  buffer.retire(1);
  EXPECT_EQ(buffer.give_back(), 2u);
  EXPECT_EQ(buffer.in_flight(), 0u);
  EXPECT_EQ(buffer.done_below(), 1u);
  ASSERT_EQ(buffer.take(10, 1 << 20, std::chrono::milliseconds(0)), 4u);
  EXPECT_EQ(in_flight_payloads(buffer), (std::vector<std::string>{"m1", "m2", "m3", "m4"}));
}

// A Kafka window whose reports came out of order: m0, m2 and m4 delivered,
// m1 and m3 failed. m0 retires; m1 and m3 go back in their order, m2 and m4
// leave, and done_below() waits for m1.
TEST_F(MemoryBuffer, OnlyFailedMessagesGoBackAndTheDoneOnesLeave) {
  auto buffer = make({10, 0});
  for (std::uint64_t s = 0; s < 6; ++s) buffer.push(message("m" + std::to_string(s), s));
  ASSERT_EQ(buffer.take(5, 1 << 20, std::chrono::milliseconds(0)), 5u);
  buffer.retire(1);
  EXPECT_EQ(buffer.give_back([](std::size_t i) { return i == 0 || i == 2; }), 2u);  // m1, m3
  EXPECT_EQ(buffer.in_flight(), 0u);
  EXPECT_EQ(buffer.done_below(), 1u);
  ASSERT_EQ(buffer.take(10, 1 << 20, std::chrono::milliseconds(0)), 3u);
  EXPECT_EQ(in_flight_payloads(buffer), (std::vector<std::string>{"m1", "m3", "m5"}));
  buffer.retire(2);
  EXPECT_EQ(buffer.done_below(), 5u);
  buffer.retire(1);
  EXPECT_EQ(buffer.done_below(), 6u);
  EXPECT_TRUE(buffer.wait_idle(std::chrono::steady_clock::now()));
}

TEST_F(MemoryBuffer, NothingFailedLeavesTheBufferIdle) {
  auto buffer = make({10, 0});
  for (std::uint64_t s = 0; s < 3; ++s) buffer.push(message("m" + std::to_string(s), s));
  ASSERT_EQ(buffer.take(10, 1 << 20, std::chrono::milliseconds(0)), 3u);
  EXPECT_EQ(buffer.give_back([](std::size_t) { return false; }), 0u);
  EXPECT_TRUE(buffer.wait_idle(std::chrono::steady_clock::now()));
  EXPECT_EQ(buffer.done_below(), 3u);
}

TEST_F(MemoryBuffer, TakeStopsAtTheByteBudget) {
  auto buffer = make({100, 0});
  for (std::uint64_t s = 0; s < 10; ++s) buffer.push(message(std::string(100, 'x'), s));
  EXPECT_EQ(buffer.take(100, 250, std::chrono::milliseconds(0)), 3u);  // stops once 250 is reached
}

TEST_F(MemoryBuffer, DropNewestKeepsDoneBelowBehindWaitingMessages) {
  auto buffer = make({2, 0}, BufferSpec::WhenFull::drop_newest);
  EXPECT_EQ(buffer.push(message("a", 0)), Buffer::Push::queued);
  EXPECT_EQ(buffer.push(message("b", 1)), Buffer::Push::queued);
  EXPECT_EQ(buffer.push(message("c", 2)), Buffer::Push::dropped);
  EXPECT_EQ(counters.dropped_buffer_full, 1u);
  EXPECT_EQ(buffer.done_below(), 0u);
  buffer.take(10, 1 << 20, std::chrono::milliseconds(0));
  buffer.retire(2);
  EXPECT_EQ(buffer.done_below(), 3u);
}

// Disk without a data directory: memory bounded by maxSize bytes (§9).
TEST_F(MemoryBuffer, ByteLimitBoundsPayloadBytes) {
  auto buffer = make({0, 250}, BufferSpec::WhenFull::drop_newest);
  for (std::uint64_t s = 0; s < 5; ++s) buffer.push(message(std::string(100, 'x'), s));
  EXPECT_EQ(counters.queued, 2u);
  EXPECT_EQ(counters.dropped_buffer_full, 3u);
}

TEST_F(MemoryBuffer, AMessageLargerThanTheLimitStillGoesIntoAnEmptyBuffer) {
  auto buffer = make({0, 10});
  EXPECT_EQ(buffer.push(message(std::string(100, 'x'), 0)), Buffer::Push::queued);
}

TEST_F(MemoryBuffer, StopWakesATakerAndRefusesPushes) {
  auto buffer = make({10, 0});
  buffer.stop();
  EXPECT_EQ(buffer.take(10, 1 << 20, std::chrono::hours(1)), 0u);
  EXPECT_EQ(buffer.push(message("late", 0)), Buffer::Push::stopped);
}

class DiskStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("kumasim-disk-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<DiskStorage> open(std::uint64_t max_bytes = 0) {
    return std::make_unique<DiskStorage>(dir_, max_bytes, [this](const std::string& l) { logs_.push_back(l); });
  }
  std::vector<std::filesystem::path> segments() const {
    std::vector<std::filesystem::path> out;
    for (const auto& item : std::filesystem::directory_iterator(dir_))
      if (item.path().extension() == ".seg") out.push_back(item.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::vector<std::string> drain(DiskStorage& storage, std::optional<Entry>* last = nullptr) {
    std::vector<std::string> out;
    Entry entry;
    while (storage.next(entry)) {
      out.push_back(entry.message.payload);
      if (last != nullptr) *last = entry;
    }
    return out;
  }
  std::string dir_;
  std::vector<std::string> logs_;
};

TEST_F(DiskStorageTest, KeysAndTopicsRoundTrip) {
  auto storage = open();
  Message keyed = message("v1", 0);
  keyed.key = "k";
  keyed.topic = "logs-2025";
  Message empty_key = message("v2", 1);
  empty_key.key = "";
  ASSERT_FALSE(storage->append(std::move(keyed)));
  ASSERT_FALSE(storage->append(std::move(empty_key)));
  ASSERT_FALSE(storage->append(message("v3", 2)));
  Entry entry;
  ASSERT_TRUE(storage->next(entry));
  EXPECT_EQ(entry.message.payload, "v1");
  EXPECT_EQ(entry.message.key, "k");
  EXPECT_EQ(entry.message.topic, "logs-2025");
  ASSERT_TRUE(storage->next(entry));
  EXPECT_EQ(entry.message.key, "");
  ASSERT_TRUE(storage->next(entry));
  EXPECT_FALSE(entry.message.key.has_value());
  EXPECT_EQ(entry.message.topic, "");
  EXPECT_FALSE(storage->next(entry));
  EXPECT_TRUE(storage->empty());
}

TEST_F(DiskStorageTest, ReopeningResumesAfterTheLastCommit) {
  {
    auto storage = open();
    for (int i = 0; i < 10; ++i) ASSERT_FALSE(storage->append(message("m" + std::to_string(i), 0)));
    Entry entry;
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(storage->next(entry));
    storage->commit(entry);  // m0..m3 done
    ASSERT_TRUE(storage->next(entry));  // m4 taken but not done
    storage->close();
  }
  auto storage = open();
  EXPECT_EQ(drain(*storage), (std::vector<std::string>{"m4", "m5", "m6", "m7", "m8", "m9"}));
}

TEST_F(DiskStorageTest, AnIncompleteRecordLeftByACrashIsSkipped) {
  {
    auto storage = open();
    ASSERT_FALSE(storage->append(message("whole", 0)));
    storage->close();
  }
  {
    std::ofstream segment(segments().back(), std::ios::app | std::ios::binary);
    const std::uint32_t header[3] = {0, 0, 1000};  // promises 1000 bytes of payload
    segment.write(reinterpret_cast<const char*>(header), sizeof header);
    segment << "cut short";
  }
  auto storage = open();
  ASSERT_FALSE(storage->append(message("after restart", 1)));
  EXPECT_EQ(drain(*storage), (std::vector<std::string>{"whole", "after restart"}));
  ASSERT_EQ(logs_.size(), 1u);
  EXPECT_NE(logs_[0].find("incomplete record at the end; skipping its last 21 bytes"), std::string::npos) << logs_[0];
}

TEST_F(DiskStorageTest, SegmentsRollOverAndGoOnceDelivered) {
  auto storage = open(512 * 1024);  // 64 KiB segments
  const std::string kilobyte(1024, 'k');
  for (int i = 0; i < 200; ++i) ASSERT_FALSE(storage->append(message(kilobyte, 0)));
  EXPECT_GE(segments().size(), 3u);
  std::optional<Entry> last;
  EXPECT_EQ(drain(*storage, &last).size(), 200u);
  storage->commit(*last);
  EXPECT_EQ(segments().size(), 1u);  // the one being written
  EXPECT_TRUE(storage->has_room(message(std::string(500 * 1024, 'x'), 0)));
}

TEST_F(DiskStorageTest, MaxBytesCountsRecordsNotYetDone) {
  auto storage = open(3 * 112);  // three records of 12 + 100 bytes
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(storage->has_room(message(std::string(100, 'x'), 0)));
    ASSERT_FALSE(storage->append(message(std::string(100, 'x'), 0)));
  }
  EXPECT_FALSE(storage->has_room(message(std::string(100, 'x'), 0)));
  Entry entry;
  ASSERT_TRUE(storage->next(entry));
  EXPECT_FALSE(storage->has_room(message(std::string(100, 'x'), 0)));  // taken is not done
  storage->commit(entry);
  EXPECT_TRUE(storage->has_room(message(std::string(100, 'x'), 0)));
}

TEST_F(DiskStorageTest, PutBackEntriesComeFirst) {
  auto storage = open();
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(storage->append(message("m" + std::to_string(i), 0)));
  Entry first, second;
  ASSERT_TRUE(storage->next(first));
  ASSERT_TRUE(storage->next(second));
  storage->put_back(std::move(second));
  storage->put_back(std::move(first));
  EXPECT_EQ(drain(*storage), (std::vector<std::string>{"m0", "m1", "m2"}));
}

// The cursor never moves past a message given back: after a restart it comes
// again, and so do the done ones behind it (sent twice, never lost).
TEST_F(DiskStorageTest, AFailedMessageGivenBackSurvivesARestart) {
  {
    DeliveryCounters counters;
    Buffer buffer(open(), BufferSpec::WhenFull::block, counters, [](const std::string&) {});
    for (std::uint64_t s = 0; s < 4; ++s) buffer.push(message("m" + std::to_string(s), s));
    ASSERT_EQ(buffer.take(10, 1 << 20, std::chrono::milliseconds(0)), 4u);
    buffer.retire(1);                                                         // m0 delivered
    EXPECT_EQ(buffer.give_back([](std::size_t i) { return i == 0; }), 1u);  // m1 failed; m2, m3 delivered
    ASSERT_EQ(buffer.take(10, 1 << 20, std::chrono::milliseconds(0)), 1u);
    EXPECT_EQ(in_flight_payloads(buffer), (std::vector<std::string>{"m1"}));
    buffer.give_back();  // stopped before m1 was delivered
    buffer.close();
  }
  auto storage = open();
  EXPECT_EQ(drain(*storage), (std::vector<std::string>{"m1", "m2", "m3"}));
}

TEST_F(DiskStorageTest, EmptySegmentsOfIdleRunsDoNotPileUp) {
  for (int run = 0; run < 3; ++run) open()->close();
  EXPECT_EQ(segments().size(), 1u);
}

TEST_F(DiskStorageTest, BufferOverDiskIsDoneOnceStored) {
  DeliveryCounters counters;
  Buffer buffer(open(), BufferSpec::WhenFull::block, counters, [](const std::string&) {});
  buffer.push(message("a", 41));
  EXPECT_EQ(buffer.done_below(), 42u);
  ASSERT_EQ(buffer.take(10, 1 << 20, std::chrono::milliseconds(0)), 1u);
  EXPECT_EQ(buffer.done_below(), 42u);
}

}  // namespace
}  // namespace kumasim::shipper
