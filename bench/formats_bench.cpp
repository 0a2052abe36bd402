// Throughput of the formats library on one core. Each figure has a peer
// measured in the same run, since the machines are shared and noisy:
// memcpy of the same bytes (the hardware's ceiling), nlohmann::json for
// JSON, and an RE2 pattern for RFC 5424. Compare ratios, not absolutes.
#include "formats/cef.h"
#include "formats/framing.h"
#include "formats/json.h"
#include "formats/syslog.h"

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <re2/re2.h>
#include <simdjson.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace kumasim::formats;

std::vector<std::string> read_lines(const char* relative) {
  std::ifstream in(std::string(KUMASIM_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.empty()) throw std::runtime_error(std::string("no lines in ") + relative);
  return lines;
}

// The real audit records, each wrapped as DKP gen-c sends it.
const std::vector<std::string>& audit_lines() {
  static const auto lines = [] {
    auto all = read_lines("fixtures/audit/audit2rbac-demo.log");
    for (auto& l : read_lines("fixtures/audit/sysdiglabs-aks-audit-log.log")) all.push_back(l);
    return all;
  }();
  return lines;
}

nlohmann::json dkp_event(const std::string& audit) {
  return {{"file", "/var/log/kube-audit/audit.log"}, {"host", "master-0"}, {"host_ip", "10.0.0.5"},
          {"message", audit}, {"source_type", "file"}, {"timestamp", "2025-01-15T10:20:30.130512345+03:00"}};
}

const std::vector<std::string>& dkp_json_lines() {
  static const auto lines = [] {
    std::vector<std::string> out;
    for (const auto& audit : audit_lines()) {
      std::string line;
      json::encode(dkp_event(audit), line);
      out.push_back(std::move(line));
    }
    return out;
  }();
  return lines;
}

const std::vector<std::string>& dkp_cef_lines() {
  static const auto lines = [] {
    std::vector<std::string> out;
    const auto config = cef::config_for_profile("gen-c", {});
    for (const auto& audit : audit_lines()) {
      auto event = dkp_event(audit);
      cef::apply_cef_step(event);
      std::string line;
      if (!cef::encode(event, config, line)) out.push_back(std::move(line));
    }
    return out;
  }();
  return lines;
}

// ≈300-byte RFC 5424 messages with structured data, varied in content.
const std::vector<std::string>& rfc5424_lines() {
  static const auto lines = [] {
    std::vector<std::string> out;
    for (int i = 0; i < 1024; ++i) {
      out.push_back("<165>1 2025-01-15T10:20:30.130512Z node-" + std::to_string(i % 17) +
                    ".cluster.example.com kube-apiserver 4242 AUDIT [meta@32473 seq=\"" + std::to_string(i) +
                    "\" verb=\"get\" user=\"system:node:master-0\"] \xEF\xBB\xBF" "GET /api/v1/nodes/master-0?timeout=10s "
                    "user-agent kubelet/v1.29.4 (linux/amd64) kubernetes/55019c8 code 200 latency " +
                    std::to_string(i * 7 % 1000) + "us audit 4d2c6a0e-1b7f-4c51-9a3e-2f0d8b6c7e11");
    }
    return out;
  }();
  return lines;
}

std::size_t total_bytes(const std::vector<std::string>& lines) {
  std::size_t n = 0;
  for (const auto& l : lines) n += l.size();
  return n;
}

// Runs `decode` over every line once per iteration, counting lines and bytes.
template <class F>
void over_lines(benchmark::State& state, const std::vector<std::string>& lines, F&& decode) {
  for (auto _ : state) {
    for (const auto& line : lines) decode(line);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes(lines)));
}

// --- peer: memcpy of the same bytes -----------------------------------------

void BM_Memcpy_AuditJsonLines(benchmark::State& state) {
  std::vector<char> sink(1 << 20);
  over_lines(state, dkp_json_lines(), [&](const std::string& line) {
    std::memcpy(sink.data(), line.data(), std::min(line.size(), sink.size()));
    benchmark::DoNotOptimize(sink.data());
  });
}
BENCHMARK(BM_Memcpy_AuditJsonLines);

// --- framing ---------------------------------------------------------------

std::string framed_stream(bool octet) {
  std::string stream;
  while (stream.size() < (32u << 20)) {
    for (const auto& line : rfc5424_lines()) {
      if (octet) stream += std::to_string(line.size()) + " " + line;
      else stream += line + "\n";
    }
  }
  return stream;
}

void frame_stream(benchmark::State& state, const std::string& stream, FramingConfig config) {
  std::size_t frames = 0;
  for (auto _ : state) {
    Framer framer(config);
    for (std::size_t at = 0; at < stream.size(); at += 64 * 1024) {
      framer.feed(std::string_view(stream).substr(at, 64 * 1024), [&](const Frame& f) {
        benchmark::DoNotOptimize(f.bytes.data());
        ++frames;
      });
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
}

void BM_Framing_Lf(benchmark::State& state) {
  static const std::string stream = framed_stream(false);
  frame_stream(state, stream, {FramingMode::delimiter, '\n', 1 << 20});
}
BENCHMARK(BM_Framing_Lf);

void BM_Framing_OctetCounting(benchmark::State& state) {
  static const std::string stream = framed_stream(true);
  frame_stream(state, stream, {FramingMode::octet, '\n', 1 << 20});
}
BENCHMARK(BM_Framing_OctetCounting);

void BM_Peer_Memcpy_FramingStream(benchmark::State& state) {
  static const std::string stream = framed_stream(false);
  std::vector<char> sink(64 * 1024);
  for (auto _ : state) {
    for (std::size_t at = 0; at < stream.size(); at += sink.size()) {
      std::memcpy(sink.data(), stream.data() + at, std::min(sink.size(), stream.size() - at));
      benchmark::DoNotOptimize(sink.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_Peer_Memcpy_FramingStream);

// --- RFC 5424 --------------------------------------------------------------

void BM_Rfc5424_Strict(benchmark::State& state) {
  syslog::Message message;
  over_lines(state, rfc5424_lines(), [&](const std::string& line) {
    benchmark::DoNotOptimize(syslog::parse_rfc5424(line, syslog::Mode::strict, message));
  });
}
BENCHMARK(BM_Rfc5424_Strict);

void BM_Rfc5424_Lenient(benchmark::State& state) {
  syslog::Message message;
  over_lines(state, rfc5424_lines(), [&](const std::string& line) {
    benchmark::DoNotOptimize(syslog::parse_rfc5424(line, syslog::Mode::lenient, message));
  });
}
BENCHMARK(BM_Rfc5424_Lenient);

// Peer: one RE2 pattern capturing the RFC 5424 header fields, as a regex-based receiver does.
void BM_Peer_Re2_Rfc5424Header(benchmark::State& state) {
  static const RE2 pattern(R"(<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[[^\]]*\])+) ?(.*))");
  re2::StringPiece pri, version, ts, host, app, procid, msgid, sd, msg;
  over_lines(state, rfc5424_lines(), [&](const std::string& line) {
    benchmark::DoNotOptimize(
        RE2::FullMatch(line, pattern, &pri, &version, &ts, &host, &app, &procid, &msgid, &sd, &msg));
  });
}
BENCHMARK(BM_Peer_Re2_Rfc5424Header);

// --- CEF -------------------------------------------------------------------

void BM_Cef_DecodeDkpLines(benchmark::State& state) {
  cef::Event event;
  over_lines(state, dkp_cef_lines(), [&](const std::string& line) { benchmark::DoNotOptimize(cef::decode(line, event)); });
}
BENCHMARK(BM_Cef_DecodeDkpLines);

// The same, then every value unescaped: what a consumer of all fields pays.
void BM_Cef_DecodeDkpLinesAndValues(benchmark::State& state) {
  cef::Event event;
  over_lines(state, dkp_cef_lines(), [&](const std::string& line) {
    benchmark::DoNotOptimize(cef::decode(line, event));
    for (const auto& ext : event.extensions) benchmark::DoNotOptimize(ext.value());
  });
}
BENCHMARK(BM_Cef_DecodeDkpLinesAndValues);

void BM_Cef_EncodeDkpEvents(benchmark::State& state) {
  std::vector<nlohmann::json> events;
  for (const auto& audit : audit_lines()) {
    events.push_back(dkp_event(audit));
    cef::apply_cef_step(events.back());
  }
  const auto config = cef::config_for_profile("gen-c", {});
  std::string line;
  for (auto _ : state) {
    for (const auto& e : events) benchmark::DoNotOptimize(cef::encode(e, config, line));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events.size()));
}
BENCHMARK(BM_Cef_EncodeDkpEvents);

// --- JSON ------------------------------------------------------------------

void BM_Json_EnvelopeDecode(benchmark::State& state) {
  json::EnvelopeDecoder decoder;
  json::Envelope envelope;
  over_lines(state, dkp_json_lines(), [&](const std::string& line) {
    benchmark::DoNotOptimize(decoder.decode(line, envelope));
    benchmark::DoNotOptimize(envelope.audit.verb.data());
  });
}
BENCHMARK(BM_Json_EnvelopeDecode);

// Peer: nlohmann::json::parse of the envelope and of the audit record inside it.
void BM_Peer_Nlohmann_EnvelopeParse(benchmark::State& state) {
  over_lines(state, dkp_json_lines(), [&](const std::string& line) {
    auto envelope = nlohmann::json::parse(line);
    auto audit = nlohmann::json::parse(envelope["message"].get_ref<const std::string&>());
    benchmark::DoNotOptimize(audit);
  });
}
BENCHMARK(BM_Peer_Nlohmann_EnvelopeParse);

void BM_Json_EncodeDkpEvents(benchmark::State& state) {
  std::vector<nlohmann::json> events;
  for (const auto& audit : audit_lines()) events.push_back(dkp_event(audit));
  std::string line;
  for (auto _ : state) {
    for (const auto& e : events) {
      line.clear();
      json::encode(e, line);
      benchmark::DoNotOptimize(line.data());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events.size()));
}
BENCHMARK(BM_Json_EncodeDkpEvents);

}  // namespace

BENCHMARK_MAIN();
