#include "formats/json.h"

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace kumasim::formats::json {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

std::string_view string_or_empty(element value) {
  std::string_view text;
  return value.get_string().get(text) ? std::string_view{} : text;
}

void read_envelope_field(std::string_view key, element value, Envelope& out) {
  if (key == "message") out.message = string_or_empty(value);
  else if (key == "timestamp") out.timestamp = string_or_empty(value);
  else if (key == "host") out.host = string_or_empty(value);
  else if (key == "host_ip") out.host_ip = string_or_empty(value);
  else if (key == "file") out.file = string_or_empty(value);
  else if (key == "source_type") out.source_type = string_or_empty(value);
}

void read_audit_field(std::string_view key, element value, AuditEvent& out) {
  if (key == "verb") out.verb = string_or_empty(value);
  else if (key == "requestURI") out.request_uri = string_or_empty(value);
  else if (key == "userAgent") out.user_agent = string_or_empty(value);
  else if (key == "auditID") out.audit_id = string_or_empty(value);
  else if (key == "stage") out.stage = string_or_empty(value);
  else if (key == "level") out.level = string_or_empty(value);
  else if (key == "kind") out.kind = string_or_empty(value);
  else if (key == "apiVersion") out.api_version = string_or_empty(value);
  else if (key == "user") {
    object user;
    if (!value.get_object().get(user)) {
      element name;
      if (!user["username"].get(name)) out.username = string_or_empty(name);
    }
  } else if (key == "responseStatus") {
    object status;
    element code;
    std::int64_t number;
    if (!value.get_object().get(status) && !status["code"].get(code) && !code.get_int64().get(number)) {
      out.response_code = number;
    }
  }
}

// simdjson says what is wrong but not where; nlohmann's parser gives the byte.
DecodeError locate_syntax_error(std::string_view text) {
  try {
    [[maybe_unused]] const auto parsed = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return {e.byte > 0 ? e.byte - 1 : 0, "invalid JSON"};
  } catch (const nlohmann::json::exception&) {
    return {0, "JSON number out of range"};  // e.g. 1e999: nlohmann names no position
  }
  return {0, "invalid JSON"};
}

// simdjson refuses integers beyond 64 bits, which JSON allows and serde_json
// reads as floats: such a document is re-encoded through nlohmann (which
// reads them as doubles, as serde does) and parsed again.
simdjson::error_code parse(simdjson::dom::parser& parser, std::string_view text, std::string& reencoded, element& out) {
  const auto error = parser.parse(text.data(), text.size()).get(out);
  if (error != simdjson::NUMBER_ERROR) return error;
  const auto value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return error;
  reencoded.clear();
  encode(value, reencoded);
  return parser.parse(reencoded.data(), reencoded.size()).get(out);
}

}  // namespace

struct EnvelopeDecoder::Impl {
  simdjson::dom::parser envelope;
  simdjson::dom::parser audit;  // a second parser: the message's views live in the first
  std::string reencoded;        // a document with integers beyond 64 bits, re-encoded
};

EnvelopeDecoder::EnvelopeDecoder() : impl_(std::make_unique<Impl>()) {}
EnvelopeDecoder::~EnvelopeDecoder() = default;

DecodeResult EnvelopeDecoder::decode(std::string_view text, Envelope& out) {
  out = Envelope{};
  element doc;
  if (parse(impl_->envelope, text, impl_->reencoded, doc)) return locate_syntax_error(text);
  object fields;
  if (doc.get_object().get(fields)) return DecodeError{0, "not a JSON object"};
  for (auto [key, value] : fields) read_envelope_field(key, value, out);

  element audit_doc;
  object audit;
  if (out.message.empty() || out.message.front() != '{' ||
      parse(impl_->audit, out.message, impl_->reencoded, audit_doc) ||
      audit_doc.get_object().get(audit)) {
    return std::nullopt;  // a message that is not an audit record is still a valid envelope
  }
  out.message_is_object = true;
  for (auto [key, value] : audit) read_audit_field(key, value, out.audit);
  return std::nullopt;
}


}  // namespace kumasim::formats::json
