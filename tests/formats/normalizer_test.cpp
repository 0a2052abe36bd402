#include "formats/normalizer.h"
#include "support/test_data.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace kumasim::formats {
namespace {

std::string wire(const char* name) {
  std::string line = kumasim::testing::read_file(std::string("fixtures/wire/") + name);
  line.pop_back();  // the LF that framed it
  return line;
}

Normalized normalize(std::string_view frame, Codec codec, bool lenient = false) {
  Normalizer normalizer({codec, lenient, {}});
  StreamState state;
  return normalizer.normalize(frame, state);
}

std::vector<std::string> lint_names(const Lints& lints) {
  std::vector<std::string> names;
  for (const auto& l : lints) names.emplace_back(lint_info(l.id).name);
  return names;
}

TEST(Normalizer, CodecNamesRoundTrip) {
  for (auto name : {"json", "cef", "syslog", "rfc5424", "rfc3164", "syslog-cef", "raw", "auto"}) {
    const auto codec = codec_from_name(name);
    ASSERT_TRUE(codec) << name;
    EXPECT_EQ(to_string(*codec), name);
  }
  EXPECT_FALSE(codec_from_name("gelf"));
}

TEST(Normalizer, AutoDetectsEachFormat) {
  EXPECT_EQ(normalize(wire("dkp-gen-c-tcp.json"), Codec::automatic).format, Codec::json);
  EXPECT_EQ(normalize(wire("dkp-gen-c-tcp.cef"), Codec::automatic).format, Codec::cef);
  EXPECT_EQ(normalize(wire("dkp-gen-c-tcp.syslog"), Codec::automatic).format, Codec::rfc5424);
  EXPECT_EQ(normalize("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", Codec::automatic).format, Codec::rfc3164);
  EXPECT_EQ(normalize("hello", Codec::automatic).format, Codec::raw);
  EXPECT_EQ(normalize(" [1]", Codec::automatic).format, Codec::json);
}

// kuma-receiver.md §7, row 2: TCP JSON.
TEST(Normalizer, DkpJsonIsAnObjectWithTheAuditRecordAsAString) {
  const auto r = normalize(wire("dkp-gen-c-tcp.json"), Codec::json);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.lints.empty());
  EXPECT_EQ(r.fields["host"], "master-0");
  EXPECT_TRUE(r.fields["message"].is_string());
  EXPECT_EQ(r.audit["user"]["username"], "system:node:master-0");
  EXPECT_EQ(r.kuma.extra.at("source_type"), "file");
  EXPECT_EQ(r.kuma.extra.count("message.user.username"), 0u);
  EXPECT_FALSE(r.kuma.raw);
}

// kuma-receiver.md §7, row 3: TCP CEF.
TEST(Normalizer, DkpCefLandsInExtraWithTwoLints) {
  const auto r = normalize(wire("dkp-gen-c-tcp.cef"), Codec::cef);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(lint_names(r.lints), (std::vector<std::string>{"cef-version-1", "cef-nonstandard-extension-keys"}));
  EXPECT_EQ(r.kuma.fields.at("DeviceVendor"), "Deckhouse");
  EXPECT_EQ(r.kuma.fields.at("DeviceProduct"), "log-shipper-agent");
  EXPECT_EQ(r.kuma.fields.at("DeviceVersion"), "1");
  EXPECT_EQ(r.kuma.fields.at("DeviceEventClassID"), "Log event");
  EXPECT_EQ(r.kuma.fields.at("Name"), "Deckhouse Event");
  EXPECT_EQ(r.kuma.fields.at("Severity"), "5");
  EXPECT_EQ(r.kuma.fields.count("Message"), 0u);
  EXPECT_EQ(r.kuma.extra.at("cefVersion"), "1");
  EXPECT_EQ(r.kuma.extra.at("hostip"), "10.0.0.5");
  EXPECT_NE(r.kuma.extra.at("message").find("timeout=10s"), std::string::npos);  // \= unescaped
}

// kuma-receiver.md §7, row 4: TCP Syslog.
TEST(Normalizer, DkpSyslogIsReadLenientlyWithTheSecfracLint) {
  const auto strict = normalize(wire("dkp-gen-c-tcp.syslog"), Codec::syslog);
  EXPECT_FALSE(strict.ok());
  EXPECT_FALSE(strict.kuma.raw);  // KUMA reads it leniently: no normalization error, no Raw
  const auto r = normalize(wire("dkp-gen-c-tcp.syslog"), Codec::syslog, /*lenient=*/true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(lint_names(r.lints), std::vector<std::string>{"syslog-secfrac-over-6"});
  EXPECT_EQ(lint_names(strict.lints), lint_names(r.lints));  // lints come from KUMA's (lenient) view
  EXPECT_EQ(r.kuma.fields.at("DeviceHostName"), "master-0");
  EXPECT_EQ(r.kuma.fields.at("Severity"), "6");
  EXPECT_EQ(r.kuma.extra.at("facility"), "1");
  EXPECT_EQ(r.kuma.fields.at("Message").substr(0, 8), R"({"kind":)");  // BOM removed
  EXPECT_EQ(r.fields["msg"].get<std::string>().substr(0, 8), R"({"kind":)");
}

TEST(Normalizer, FrameNotCefSuspectsAContinuationAfterACefFrame) {
  Normalizer normalizer({Codec::cef, false, {}});
  StreamState state;
  const auto first = normalizer.normalize("CEF:1|Deckhouse|log-shipper-agent|1|Log event|d8|1|message=panic: boom", state);
  EXPECT_TRUE(first.ok());
  const auto tail = normalizer.normalize("goroutine 1 [running] node=node-1", state);
  ASSERT_FALSE(tail.ok());
  ASSERT_EQ(tail.lints.size(), 1u);
  EXPECT_EQ(tail.lints[0], (Lint{LintId::frame_not_cef, "continuation-suspected"}));
  EXPECT_EQ(*tail.kuma.raw, "goroutine 1 [running] node=node-1");
  const auto again = normalizer.normalize("not cef either", state);
  EXPECT_EQ(again.lints[0], (Lint{LintId::frame_not_cef, ""}));
}

TEST(Normalizer, SyslogHeaderBeforeCefIsReadAsSyslogCef) {
  // kuma-receiver.md §5.3's first example: an RFC 3164 header (with a space after PRI) before CEF.
  const auto r = normalize(
      "<189> Jun 18 10:55:50 host CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1",
      Codec::cef);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(has_lint(r.lints, LintId::cef_unexpected_prefix));
  EXPECT_EQ(r.kuma.fields.at("DeviceVendor"), "Security");
  EXPECT_EQ(r.kuma.fields.at("Severity"), "10");  // CEF's, not the syslog severity 5
  EXPECT_EQ(r.kuma.fields.at("SourceAddress"), "10.0.0.1");
  EXPECT_EQ(r.kuma.fields.at("DeviceHostName"), "host");
  EXPECT_EQ(r.kuma.extra.count("cefPrefix"), 0u);
  EXPECT_EQ(r.kuma.fields.count("Message"), 0u);
}

TEST(Normalizer, PrefixThatIsNoSyslogHeaderStaysInExtra) {
  // A header without PRI is content to a syslog relay (RFC 3164 §4.3.3): kept as Extra.cefPrefix.
  for (const char* frame : {"Sep 29 08:26:10 host CEF:1|Security|threatmanager|1.0|100|worm|10|src=10.0.0.1",
                            "garbage!! CEF:0|V|P|1|C|N|3|"}) {
    const auto r = normalize(frame, Codec::cef);
    ASSERT_TRUE(r.ok()) << frame;
    EXPECT_TRUE(has_lint(r.lints, LintId::cef_unexpected_prefix));
    EXPECT_EQ(r.kuma.extra.count("cefPrefix"), 1u) << frame;
    EXPECT_EQ(r.kuma.fields.count("DeviceHostName"), 0u) << frame;
  }
}

TEST(Normalizer, SyslogCefNormalizerExpectsAHeader) {
  // DKP never sends a syslog header before CEF (§5.3): KUMA's Syslog-CEF normalizer would miss it.
  const auto raw_cef = normalize(wire("dkp-gen-c-tcp.cef"), Codec::syslog_cef);
  ASSERT_TRUE(raw_cef.ok());
  EXPECT_TRUE(has_lint(raw_cef.lints, LintId::cef_syslog_header_missing));
  const auto with_header = normalize("<189> Jun 18 10:55:50 host CEF:0|V|P|1|C|N|3|act=x", Codec::syslog_cef);
  ASSERT_TRUE(with_header.ok());
  EXPECT_FALSE(has_lint(with_header.lints, LintId::cef_syslog_header_missing));
  EXPECT_FALSE(has_lint(with_header.lints, LintId::cef_unexpected_prefix));
  EXPECT_EQ(with_header.kuma.fields.at("DeviceHostName"), "host");
}

TEST(Normalizer, SyslogCarryingCefMergesTheCefFields) {
  const auto r = normalize("<134>1 2021-06-18T10:55:50.000003Z fw app - - - CEF:0|Kaspersky|NGFW|1.1|Firewall|Session start|Low|act=allow",
                           Codec::syslog);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.kuma.fields.at("DeviceVendor"), "Kaspersky");
  EXPECT_EQ(r.kuma.fields.at("Severity"), "Low");  // CEF takes precedence over the syslog severity
  EXPECT_EQ(r.kuma.fields.at("DeviceAction"), "allow");
  EXPECT_EQ(r.kuma.fields.at("DeviceHostName"), "fw");
  EXPECT_EQ(r.kuma.fields.count("Message"), 0u);  // MSG was the CEF payload, as on the cef codec
  EXPECT_EQ(r.kuma.extra.count("cefPrefix"), 0u);
}

TEST(Normalizer, LooksRfc3164OnlyOnA5424OnlyListener) {
  const std::string bsd = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed";
  const Lint looks{LintId::syslog_not_rfc5424, "looks-rfc3164"};
  for (Codec codec : {Codec::syslog, Codec::rfc3164, Codec::automatic}) {
    const auto r = normalize(bsd, codec, /*lenient=*/true);
    EXPECT_TRUE(r.ok()) << to_string(codec);
    EXPECT_EQ(std::count(r.lints.begin(), r.lints.end(), looks), 0) << to_string(codec);
  }
  const auto only_5424 = normalize(bsd, Codec::rfc5424, /*lenient=*/true);
  EXPECT_FALSE(only_5424.ok());
  EXPECT_EQ(std::count(only_5424.lints.begin(), only_5424.lints.end(), looks), 1);
}

TEST(Normalizer, StrictSyslogFailureStillShowsWhatWasRead) {
  const auto r = normalize(wire("dkp-gen-c-tcp.syslog"), Codec::rfc5424);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.fields["pri"], 14);
}

TEST(Normalizer, EventsOver4MbAreNotNormalized) {
  // kuma-receiver.md §3: lost to KUMA and counted; the frame lint says why.
  const std::string big = "{\"message\":\"" + std::string(kKumaMaxEventSize, 'x') + "\"}";
  const auto r = normalize(big, Codec::json);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.fields.is_null());
  EXPECT_TRUE(r.kuma.fields.empty());
  EXPECT_TRUE(r.kuma.extra.empty());
  EXPECT_TRUE(normalize(std::string(kKumaMaxEventSize - 2, ' ') + "{}", Codec::json).ok());
}

TEST(Normalizer, UnreadableSyslogKeepsRaw) {
  const auto r = normalize("<999>1 - - - - - -", Codec::syslog, /*lenient=*/true);
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(r.kuma.raw);
  EXPECT_EQ(*r.kuma.raw, "<999>1 - - - - - -");
  EXPECT_EQ(r.lints, (Lints{{LintId::syslog_not_rfc5424, "bad-pri"}}));
}

TEST(Normalizer, StrictRfc3164NeedsAPri) {
  EXPECT_TRUE(normalize("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", Codec::rfc3164).ok());
  const auto strict = normalize("no pri here", Codec::rfc3164);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error->offset, 0u);
  const auto relayed = normalize("no pri here", Codec::rfc3164, /*lenient=*/true);
  ASSERT_TRUE(relayed.ok());
  EXPECT_EQ(relayed.fields["pri"], 13);
  EXPECT_EQ(relayed.lints, (Lints{{LintId::syslog_not_rfc5424, "no-pri"}}));
}

TEST(Normalizer, CefAfterABsdTimestampIsNotATag) {
  // "CEF:" must not be read as an RFC 3164 TAG or HOSTNAME, or the CEF payload is lost.
  const auto r = normalize("<13>Jun 18 10:55:50 CEF:0|V|P|1|C|N|3|act=x", Codec::syslog);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.fields["app_name"].is_null());
  EXPECT_TRUE(r.fields["hostname"].is_null());
  EXPECT_EQ(r.kuma.fields.at("DeviceVendor"), "V");
  EXPECT_EQ(r.kuma.fields.at("DeviceAction"), "x");
}

TEST(Normalizer, JsonThatIsNotAnObject) {
  const auto r = normalize("[1,2]", Codec::json);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.lints, (Lints{{LintId::json_not_object, "not a JSON object"}}));
  EXPECT_EQ(*r.kuma.raw, "[1,2]");
  // Anything else is not an object either (§4.3).
  EXPECT_EQ(normalize("{oops", Codec::json).lints, (Lints{{LintId::json_not_object, "invalid JSON"}}));
}

TEST(Normalizer, RawKeepsTheFrameAsMessage) {
  const auto r = normalize("caf\xE9", Codec::raw);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.kuma.fields.at("Message"), "caf\xEF\xBF\xBD");
  EXPECT_FALSE(r.kuma.raw);
}

TEST(Normalizer, VerdictDetailHasTheSameVerdictAndLintsWithoutTheViews) {
  for (const char* name : {"dkp-gen-c-tcp.json", "dkp-gen-c-tcp.cef", "dkp-gen-c-tcp.syslog"}) {
    for (std::string frame : {wire(name), wire(name).substr(0, 40)}) {
      Normalizer normalizer;
      StreamState full_state, verdict_state;
      const auto full = normalizer.normalize(frame, full_state);
      const auto verdict = normalizer.normalize(frame, verdict_state, Normalizer::Detail::verdict);
      EXPECT_EQ(verdict.ok(), full.ok()) << frame;
      EXPECT_EQ(verdict.format, full.format) << frame;
      EXPECT_EQ(verdict.lints, full.lints) << frame;
      EXPECT_TRUE(verdict.fields.is_null());
      EXPECT_TRUE(verdict.kuma.fields.empty() && verdict.kuma.extra.empty() && !verdict.kuma.raw);
    }
  }
}

TEST(FrameLints, CarriageReturnAndUtf8) {
  Lints lints;
  add_frame_lints("caf\xE9 au lait\r", {}, lints);
  EXPECT_EQ(lint_names(lints), (std::vector<std::string>{"trailing-cr", "non-utf8"}));
  EXPECT_EQ(lints[1].detail, "at byte 3");
  lints.clear();
  add_frame_lints("clean \xC3\xA9", {}, lints);
  EXPECT_TRUE(lints.empty());
}

TEST(FrameLints, OctetCountingPrefixOnlyWithKumaFraming) {
  Lints lints;
  add_frame_lints("74 <165>1 2003-10-11T22:14:15.003Z host app - - - hi", {}, lints);
  EXPECT_EQ(lint_names(lints), std::vector<std::string>{"octet-counting-unsupported"});
  for (const char* no : {"074 <1>x", "1234567890 <1>x", "12 <>x", "12 <1234>x", "12 [1]", "12<1>"}) {
    lints.clear();
    add_frame_lints(no, {}, lints);
    EXPECT_TRUE(lints.empty()) << no;
  }
  lints.clear();
  FrameContext counted;
  counted.delimiter_framing = false;
  add_frame_lints("74 <165>1 x", counted, lints);
  EXPECT_TRUE(lints.empty());
}

TEST(FrameLints, SizesAgainstKumaBuffers) {
  auto lints_for = [](Transport t, std::uint64_t size, std::uint64_t buffer = 0) {
    Lints lints;
    add_frame_lints("x", {t, size, buffer, true, false}, lints);
    return lint_names(lints);
  };
  EXPECT_TRUE(lints_for(Transport::tcp, kKumaTcpBuffer).empty());
  EXPECT_EQ(lints_for(Transport::tcp, kKumaTcpBuffer + 1), std::vector<std::string>{"tcp-frame-over-buffer"});
  EXPECT_EQ(lints_for(Transport::tls, 2048, 1024), std::vector<std::string>{"tcp-frame-over-buffer"});
  EXPECT_TRUE(lints_for(Transport::udp, kKumaUdpBuffer).empty());
  EXPECT_EQ(lints_for(Transport::udp, kKumaUdpBuffer + 1), std::vector<std::string>{"udp-over-kuma-buffer"});
  EXPECT_EQ(lints_for(Transport::udp, 40000, 65536), std::vector<std::string>{});
  EXPECT_EQ(lints_for(Transport::kafka, kKumaMaxEventSize + 1), std::vector<std::string>{"event-over-4mb"});
  EXPECT_EQ(lints_for(Transport::tcp, kKumaMaxEventSize + 1),
            (std::vector<std::string>{"event-over-4mb", "tcp-frame-over-buffer"}));
}

TEST(FrameLints, TlsHandshakeOnAPlainTransport) {
  const std::string client_hello("\x16\x03\x01\x02\x00\x01", 6);
  Lints lints;
  add_frame_lints(client_hello, {Transport::tcp, client_hello.size(), 0, true, false}, lints);
  EXPECT_TRUE(has_lint(lints, LintId::tls_mismatch));
  lints.clear();
  add_frame_lints(client_hello, {Transport::tls, client_hello.size(), 0, true, false}, lints);
  EXPECT_FALSE(has_lint(lints, LintId::tls_mismatch));
}

TEST(FrameLints, Unterminated) {
  Lints lints;
  FrameContext context;
  context.unterminated = true;
  add_frame_lints("tail", context, lints);
  EXPECT_EQ(lint_names(lints), std::vector<std::string>{"frame-unterminated"});
}

}  // namespace
}  // namespace kumasim::formats
