#include "crypto/openssl_error.h"

#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <system_error>

namespace kumasim::openssl {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// System errors carry errno as their reason, which OpenSSL has no text for.
std::string reason_text(unsigned long code) {
  if (ERR_SYSTEM_ERROR(code)) return std::error_code(ERR_GET_REASON(code), std::system_category()).message();
  if (const char* reason = ERR_reason_error_string(code)) return reason;
  std::array<char, 256> buffer{};
  ERR_error_string_n(code, buffer.data(), buffer.size());
  return buffer.data();
}

}  // namespace

std::string take_errors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    const std::string item = reason_text(code);
    if (item.ends_with(" lib") || lowercase(text).find(lowercase(item)) != std::string::npos) continue;
    text += (text.empty() ? "" : "; ") + item;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

}  // namespace kumasim::openssl
