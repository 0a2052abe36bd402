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

// Whether `text` is a JSON document whose top-level value is not an object
// (the decoder's "not a JSON object" case), for the json-not-object lint.
bool is_non_object_json(std::string_view text);

// The KUMA JSON normalizer (§4.3): `object` must be a JSON object. With no
// mapping table every leaf goes to Extra under its dotted path; strings as
// they are, other values as compact JSON. Fields named in `parse_nested`
// that hold a JSON string with an object are parsed before flattening.
KumaEvent kuma_view(const nlohmann::json& object, const std::vector<std::string>& parse_nested = {});

}  // namespace kumasim::formats::json
