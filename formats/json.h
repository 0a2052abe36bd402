// The DKP event envelope as JSON (dkp-log-shipper.md §10.2, kuma-receiver.md §4.3).
//
// Encoding reproduces Vector's JSON codec byte for byte: compact, keys sorted
// by their UTF-8 bytes at every level, serde_json's string escaping, invalid
// UTF-8 replaced as String::from_utf8_lossy does, floats in ryu's shortest form.
//
// Decoding is the hot path of a JSON listener: simdjson, reused buffers, and
// string views into them; the audit record that DKP sends as a JSON string in
// `message` is parsed too.
#pragma once

#include "formats/decode_error.h"
#include "formats/kuma_view.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kumasim::formats::json {

// Appends the encoding of `value` to `out`.
void encode(const nlohmann::json& value, std::string& out);
// Appends `text` as a JSON string literal (quotes included).
void encode_string(std::string_view text, std::string& out);
// Appends a double in ryu's shortest round-trip form ("1.0", "1e20", "1.5e-7").
void encode_double(double value, std::string& out);

// The fields of a Kubernetes audit.k8s.io Event that assertions use most.
// Absent fields are empty views; response_code is -1 when absent.
struct AuditEvent {
  std::string_view kind, api_version, level, audit_id, stage, request_uri, verb, user_agent, username;
  std::int64_t response_code = -1;
};

// A decoded envelope. Views stay valid until the decoder's next decode().
struct Envelope {
  std::string_view file, host, host_ip, message, source_type, timestamp;  // message unescaped
  bool message_is_object = false;  // `message` holds a JSON object (an audit record)
  AuditEvent audit;                // filled when message_is_object
};

class EnvelopeDecoder {
 public:
  EnvelopeDecoder();
  ~EnvelopeDecoder();
  EnvelopeDecoder(const EnvelopeDecoder&) = delete;
  EnvelopeDecoder& operator=(const EnvelopeDecoder&) = delete;

  // Decodes one JSON object. A valid JSON value that is not an object is the
  // error "not a JSON object" at offset 0 (lint json-not-object).
  DecodeResult decode(std::string_view text, Envelope& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits a dotted path into keys at every dot not escaped as "\."
// ("a.b\.c" -> {"a", "b.c"}), as KUMA's JSON normalizer reads paths.
std::vector<std::string> split_path(std::string_view path);

// One row of a KUMA JSON normalizer's mapping table: a source path, dotted
// for nested keys ("user.username"; "\." is a literal dot inside a key, as in
// "annotations.authorization\.k8s\.io/decision"), and the KUMA field it fills.
struct FieldMapping {
  std::string path;
  std::string field;
};

struct JsonNormalizerConfig {
  std::vector<FieldMapping> mapping;
  // String fields holding JSON that are parsed before mapping (§4.3
  // parse_nested; DKP sends the audit record as a string in `message`).
  std::vector<std::string> parse_nested;
};

// The KUMA JSON normalizer (§4.3) on a JSON object: mapped leaves fill their
// fields; every other leaf goes to Extra under its dotted path ("Save extra
// fields"). Strings are kept as they are, other values as compact JSON.
KumaEvent kuma_view(const nlohmann::json& object, const JsonNormalizerConfig& config = {});

}  // namespace kumasim::formats::json
