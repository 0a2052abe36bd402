#include "shipper/manifest/rules.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <map>
#include <memory>
#include <mutex>

namespace kumasim::shipper::detail {
namespace {

// Compiled once per pattern; the patterns are the few constants of the header.
const RE2& compiled(std::string_view pattern) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<RE2>, std::less<>> cache;
  const std::lock_guard lock(mutex);
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    it = cache.emplace(std::string(pattern), std::make_unique<RE2>(std::string(pattern), RE2::Quiet)).first;
  }
  return *it->second;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view take_digits(std::string_view& text) {
  std::size_t n = 0;
  while (n < text.size() && is_digit(text[n])) ++n;
  const std::string_view digits = text.substr(0, n);
  text.remove_prefix(n);
  return digits;
}

// The number's scale: value = mantissa * 2^binary_shift * 10^decimal_exponent.
struct Scale {
  int binary_shift = 0;
  long decimal_exponent = 0;
};

std::optional<Scale> suffix_scale(std::string_view suffix) {
  static const std::array<std::pair<std::string_view, Scale>, 16> kSuffixes = {{
      {"", {}}, {"Ki", {10, 0}}, {"Mi", {20, 0}}, {"Gi", {30, 0}}, {"Ti", {40, 0}}, {"Pi", {50, 0}}, {"Ei", {60, 0}},
      {"n", {0, -9}}, {"u", {0, -6}}, {"m", {0, -3}}, {"k", {0, 3}}, {"M", {0, 6}}, {"G", {0, 9}}, {"T", {0, 12}},
      {"P", {0, 15}}, {"E", {0, 18}},
  }};
  for (const auto& [name, scale] : kSuffixes) {
    if (name == suffix) return scale;
  }
  if (suffix.size() < 2 || (suffix[0] != 'e' && suffix[0] != 'E')) return std::nullopt;
  std::string_view exponent = suffix.substr(1);
  const bool negative = exponent.front() == '-';
  if (exponent.front() == '+' || exponent.front() == '-') exponent.remove_prefix(1);
  long value = 0;
  const auto [end, ec] = std::from_chars(exponent.data(), exponent.data() + exponent.size(), value);
  if (ec != std::errc{} || end != exponent.data() + exponent.size() || value > 100) return std::nullopt;
  return Scale{0, negative ? -value : value};
}

// mantissa * 10^exponent rounded up; nullopt when it does not fit in 64 bits.
std::optional<std::uint64_t> scale_decimal(std::uint64_t mantissa, long exponent) {
  for (; exponent > 0; --exponent) {
    if (mantissa > std::numeric_limits<std::uint64_t>::max() / 10) return std::nullopt;
    mantissa *= 10;
  }
  for (; exponent < 0; ++exponent) mantissa = mantissa / 10 + (mantissa % 10 != 0 ? 1 : 0);
  return mantissa;
}

}  // namespace

bool matches(std::string_view pattern, std::string_view text) { return RE2::PartialMatch(text, compiled(pattern)); }

HostPort split_address(std::string_view address) {
  const std::size_t colon = address.rfind(':');
  HostPort out;
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  out.host = std::string(host);
  const std::string_view port = address.substr(colon + 1);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (ec != std::errc{}) out.port = std::numeric_limits<std::uint64_t>::max();  // too many digits
  return out;
}

std::variant<std::int64_t, std::string> parse_quantity(std::string_view text) {
  std::string_view rest = text;
  const bool negative = !rest.empty() && rest.front() == '-';
  if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) rest.remove_prefix(1);
  const std::string_view whole = take_digits(rest);
  std::string_view fraction;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    fraction = take_digits(rest);
  }
  if (whole.empty() && fraction.empty()) return std::string("no number");
  const auto scale = suffix_scale(rest);
  if (!scale) return "unknown suffix `" + std::string(rest) + "` (use Ki Mi Gi Ti Pi Ei, k M G T P E, or an exponent)";
  std::string digits = std::string(whole) + std::string(fraction);
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  if (digits.size() > 19) return std::string("too many digits");
  std::uint64_t mantissa = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), mantissa);
  if (scale->binary_shift > 0 && mantissa > (std::numeric_limits<std::uint64_t>::max() >> scale->binary_shift)) {
    return std::string("too large");
  }
  mantissa <<= scale->binary_shift;
  const auto bytes = scale_decimal(mantissa, scale->decimal_exponent - static_cast<long>(fraction.size()));
  if (!bytes || *bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::string("too large");
  }
  const auto value = static_cast<std::int64_t>(*bytes);
  return negative ? -value : value;
}

bool is_forbidden_label_key(std::string_view key) {
  static constexpr std::array<std::string_view, 8> kForbidden = {"pod",   "pod_ip",    "pod_owner", "parsed_data",
                                                                 "namespace", "image", "container", "node"};
  return std::find(kForbidden.begin(), kForbidden.end(), key) != kForbidden.end();
}

bool is_valid_label_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '.' || c == '-';
  });
}

bool has_top_level_alternation(std::string_view regex) {
  int groups = 0, classes = 0;
  for (std::size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '\\') {
      ++i;  // the escaped character is a literal, `\|` included
      continue;
    }
    if (classes > 0) {
      if (c == '[') ++classes;  // a nested class (Rust syntax) or [:alpha:]
      if (c == ']') --classes;
      continue;
    }
    if (c == '[') {
      classes = 1;
      // `]` right after `[` or `[^` is a literal, not the end of the class.
      if (i + 1 < regex.size() && regex[i + 1] == '^') ++i;
      if (i + 1 < regex.size() && regex[i + 1] == ']') ++i;
    } else if (c == '(') {
      ++groups;
    } else if (c == ')' && groups > 0) {
      --groups;
    } else if (c == '|' && groups == 0) {
      return true;
    }
  }
  return false;
}

bool is_dns_subdomain(std::string_view name) {
  static constexpr std::string_view kSubdomain = R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)";
  return name.size() <= 253 && matches(kSubdomain, name);
}

}  // namespace kumasim::shipper::detail
