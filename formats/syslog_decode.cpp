// Syslog decoding: RFC 5424 strict and lenient (kuma-receiver.md §6.1, §6.2),
// RFC 3164 with its variants (§6.3) and the auto-detection between them.
//
// Every parser is a single forward pass over string_views; the only
// exception is the lenient label skipping of §6.2, which looks ahead a few
// tokens and only runs when a label-shaped token follows APP-NAME.
#include "formats/syslog.h"

#include "formats/utf8.h"

#include <array>

namespace kumasim::formats::syslog {
namespace {

constexpr std::size_t npos = std::string_view::npos;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_print(char c) { return c >= 33 && c <= 126; }  // PRINTUSASCII (char may be signed: >= 0x80 is negative)
bool digit_at(std::string_view s, std::size_t i) { return i < s.size() && is_digit(s[i]); }

// Value of `count` digits at s[at]; -1 when one is missing or not a digit.
int number_at(std::string_view s, std::size_t at, std::size_t count) {
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (!digit_at(s, i)) return -1;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

bool is_leap(int year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

void set_pri(Message& m, int pri) {
  m.pri = pri;
  m.facility = pri / 8;
  m.severity = pri % 8;
}

// ---------------------------------------------------------------- TIMESTAMP

struct TimestampCheck {
  std::size_t bad_at = npos;  // offset in the token of the problem; npos when valid
  std::string_view why;
  int frac_digits = 0;  // 0-9; a caller decides whether 7-9 is acceptable
};

TimestampCheck bad_ts(std::size_t at, std::string_view why) { return {at, why, 0}; }

TimestampCheck check_offset(std::string_view ts, std::size_t p, int frac) {
  if (p >= ts.size()) return bad_ts(p, "TIME-OFFSET is missing");
  if (ts[p] == 'z') return bad_ts(p, "'Z' must be uppercase");
  if (ts[p] == 'Z') {
    ++p;
  } else if (ts[p] == '+' || ts[p] == '-') {
    const int hour = number_at(ts, p + 1, 2), minute = number_at(ts, p + 4, 2);
    if (hour < 0 || minute < 0 || ts[p + 3] != ':') return bad_ts(p, "TIME-NUMOFFSET is not +HH:MM or -HH:MM");
    if (hour > 23) return bad_ts(p + 1, "TIME-NUMOFFSET hour is over 23");
    if (minute > 59) return bad_ts(p + 4, "TIME-NUMOFFSET minute is over 59");
    p += 6;
  } else {
    return bad_ts(p, "TIME-OFFSET is not Z, +HH:MM or -HH:MM");
  }
  if (p != ts.size()) return bad_ts(p, "text after TIME-OFFSET");
  return {npos, {}, frac};
}

// Checks an RFC 3339 TIMESTAMP as RFC 5424 restricts it, except that up to
// 9 fraction digits pass (the caller applies the 6-digit rule).
TimestampCheck check_timestamp(std::string_view ts) {
  const int year = number_at(ts, 0, 4), month = number_at(ts, 5, 2), day = number_at(ts, 8, 2);
  if (year < 0 || month < 0 || day < 0 || ts[4] != '-' || ts[7] != '-') {
    return bad_ts(0, "FULL-DATE is not YYYY-MM-DD");
  }
  if (month < 1 || month > 12) return bad_ts(5, "DATE-MONTH is not 01-12");
  if (day < 1 || day > days_in_month(year, month)) return bad_ts(8, "DATE-MDAY does not exist in that month");
  if (ts.size() < 11 || ts[10] != 'T') {
    return bad_ts(10, ts.size() > 10 && ts[10] == 't' ? "'T' must be uppercase" : "expected 'T' after FULL-DATE");
  }
  const int hour = number_at(ts, 11, 2), minute = number_at(ts, 14, 2), second = number_at(ts, 17, 2);
  if (hour < 0 || minute < 0 || second < 0 || ts[13] != ':' || ts[16] != ':') {
    return bad_ts(11, "PARTIAL-TIME is not HH:MM:SS");
  }
  if (hour > 23) return bad_ts(11, "TIME-HOUR is over 23");
  if (minute > 59) return bad_ts(14, "TIME-MINUTE is over 59");
  if (second > 59) return bad_ts(17, "TIME-SECOND is over 59 (no leap seconds)");
  std::size_t p = 19;
  int frac = 0;
  if (p < ts.size() && ts[p] == '.') {
    while (digit_at(ts, ++p)) ++frac;
    if (frac == 0) return bad_ts(20, "TIME-SECFRAC has no digit");
    if (frac > 9) return bad_ts(29, "TIME-SECFRAC has more than 9 digits");
  }
  return check_offset(ts, p, frac);
}

// ------------------------------------------------------- STRUCTURED-DATA

// Problems met while scanning structured data. Scanning goes on after a
// soft problem (the lenient parse wants to read on); `fatal` is set when the
// text cannot be read as structured data at all.
struct Issues {
  std::uint16_t reasons = 0;
  DecodeError first;
  DecodeError fatal;
  bool any = false;

  void add(Reason r, std::size_t at, std::string_view why) {
    if (!any) first = {at, why};
    any = true;
    reasons |= static_cast<std::uint16_t>(1u << static_cast<unsigned>(r));
  }
  std::size_t fail(std::size_t at, std::string_view why) {
    add(Reason::bad_structured_data, at, why);
    fatal = {at, why};
    return npos;
  }
};

// SD-NAME (SD-ID or PARAM-NAME) at p: ends at SP, '=', ']', '"' or the end.
std::size_t scan_name(std::string_view in, std::size_t p, Issues& issues) {
  const std::size_t start = p;
  for (; p < in.size(); ++p) {
    const char c = in[p];
    if (c == ' ' || c == '=' || c == ']' || c == '"') break;
    if (!is_print(c)) issues.add(Reason::bad_structured_data, p, "SD-NAME has a character outside PRINTUSASCII");
  }
  if (p - start > 32) issues.add(Reason::bad_structured_data, start + 32, "SD-NAME is longer than 32 characters");
  return p;
}

// PARAM-VALUE after its opening quote; returns the position after the closing quote.
std::size_t scan_value(std::string_view in, std::size_t p, Param& param, Issues& issues) {
  const std::size_t start = p;
  bool non_ascii = false;
  for (; p < in.size(); ++p) {
    const char c = in[p];
    if (c == '"') break;
    if (c == '\\') {
      // Escapes \" \\ \]; a backslash before anything else stays literal, but
      // still pairs with that character, so "\x" never ends the value early.
      if (++p == in.size()) break;
      param.escaped = true;
    } else if (c == ']') {
      issues.add(Reason::bad_structured_data, p, "']' in PARAM-VALUE is not escaped");
    } else if (c == '\n') {
      issues.add(Reason::bad_structured_data, p, "LF outside MSG");
    }
    non_ascii |= static_cast<unsigned char>(c) >= 0x80;
  }
  if (p >= in.size()) return issues.fail(p, "PARAM-VALUE is not closed by '\"'");
  param.value = in.substr(start, p - start);
  if (non_ascii) {
    const std::size_t good = utf8::valid_prefix(param.value);
    if (good != param.value.size()) issues.add(Reason::bad_structured_data, start + good, "PARAM-VALUE is not valid UTF-8");
  }
  return p + 1;
}

// SD-PARAM at p: PARAM-NAME "=" %d34 PARAM-VALUE %d34.
std::size_t scan_param(std::string_view in, std::size_t p, std::vector<Param>* sink, Issues& issues) {
  const std::size_t start = p;
  p = scan_name(in, p, issues);
  if (p == start) return issues.fail(p, "PARAM-NAME is empty");
  if (p + 1 >= in.size() || in[p] != '=' || in[p + 1] != '"') return issues.fail(p, "expected '=\"' after PARAM-NAME");
  Param param{in.substr(start, p - start), {}, false};
  p = scan_value(in, p + 2, param, issues);
  if (p != npos && sink) sink->push_back(param);
  return p;
}

// SD-ELEMENT at p ('['); returns the position after its ']'. Params go to `sink` when given.
std::size_t scan_element(std::string_view in, std::size_t p, std::string_view& id, std::vector<Param>* sink,
                         Issues& issues) {
  const std::size_t id_start = ++p;
  p = scan_name(in, p, issues);
  id = in.substr(id_start, p - id_start);
  if (id.empty()) return issues.fail(p, "SD-ID is empty");
  while (true) {
    if (p >= in.size()) return issues.fail(p, "SD-ELEMENT is not closed by ']'");
    if (in[p] == ']') return p + 1;
    if (in[p] != ' ') return issues.fail(p, "expected SP or ']' in SD-ELEMENT");
    for (++p; p < in.size() && in[p] == ' '; ++p) {
      issues.add(Reason::bad_structured_data, p, "more than one SP in SD-ELEMENT");
    }
    if (p < in.size() && in[p] == ']') {
      issues.add(Reason::bad_structured_data, p - 1, "SP before ']' in SD-ELEMENT");
      continue;
    }
    p = scan_param(in, p, sink, issues);
    if (p == npos) return npos;
  }
}

// A DKP label token at p (§6.2): NAME="VALUE", or [ID ...] elements whose
// SD-ID is followed by SP. Returns its end (p itself for an empty token), or
// npos when the token is not a label. Labels go to `sink` when given.
std::size_t label_end(std::string_view in, std::size_t p, std::vector<Param>* sink) {
  if (p >= in.size()) return npos;
  if (in[p] == ' ') return p;
  Issues ignored;
  if (in[p] != '[') return scan_param(in, p, sink, ignored);
  std::string_view id;
  while (p < in.size() && in[p] == '[') {
    const std::size_t id_end = scan_name(in, p + 1, ignored);
    if (id_end >= in.size() || in[id_end] != ' ') return npos;
    p = scan_element(in, p, id, sink, ignored);
    if (p == npos) return npos;
  }
  return p;
}

// --------------------------------------------------------------- RFC 5424

struct FieldRule {
  std::size_t max;
  std::string_view empty, too_long, not_print;
};
constexpr FieldRule kHostname{255, "HOSTNAME is empty", "HOSTNAME is longer than 255 characters",
                              "HOSTNAME has a character outside PRINTUSASCII"};
constexpr FieldRule kAppName{48, "APP-NAME is empty", "APP-NAME is longer than 48 characters",
                             "APP-NAME has a character outside PRINTUSASCII"};
constexpr FieldRule kProcId{128, "PROCID is empty", "PROCID is longer than 128 characters",
                            "PROCID has a character outside PRINTUSASCII"};
constexpr FieldRule kMsgId{32, "MSGID is empty", "MSGID is longer than 32 characters",
                           "MSGID has a character outside PRINTUSASCII"};

class Rfc5424Parser {
 public:
  Rfc5424Parser(std::string_view in, Mode mode, Message& m) : in_(in), strict_(mode == Mode::strict), m_(m) {}

  DecodeResult run() {
    if (auto e = pri()) return e;
    if (auto e = version()) return e;
    if (auto e = timestamp()) return e;
    if (auto e = field(m_.hostname, kHostname)) return e;
    if (auto e = field(m_.app_name, kAppName)) return e;
    if (!strict_) skip_labels();
    if (auto e = field(m_.procid, kProcId)) return e;
    if (auto e = field(m_.msgid, kMsgId)) return e;
    if (auto e = structured_data()) return e;
    return msg();
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  bool strict_;
  Message& m_;

  // A violation that ends the parse in both modes.
  DecodeResult fatal(Reason r, std::size_t at, std::string_view why) {
    m_.note(r);
    return DecodeError{at, why};
  }
  // A violation that ends a strict parse; the lenient parse records it and reads on.
  DecodeResult soft(Reason r, std::size_t at, std::string_view why) {
    m_.note(r);
    if (strict_) return DecodeError{at, why};
    return std::nullopt;
  }
  DecodeResult merge(const Issues& issues, bool unreadable) {
    m_.violations |= issues.reasons;
    if (unreadable) return strict_ ? issues.first : issues.fatal;
    if (strict_ && issues.any) return issues.first;
    return std::nullopt;
  }

  DecodeResult pri() {
    if (in_.empty() || in_[0] != '<') return fatal(Reason::no_pri, 0, "message does not start with '<' (no PRI)");
    std::size_t p = 1;
    int value = 0;
    for (; p <= 3 && digit_at(in_, p); ++p) value = value * 10 + (in_[p] - '0');
    if (p == 1) return fatal(Reason::bad_pri, 1, "PRIVAL has no digit");
    if (p >= in_.size() || in_[p] != '>') return fatal(Reason::bad_pri, p, "PRIVAL is not 1-3 digits followed by '>'");
    if (value > 191) return fatal(Reason::bad_pri, 1, "PRIVAL is greater than 191");
    set_pri(m_, value);
    pos_ = p + 1;
    if (p > 2 && in_[1] == '0') return soft(Reason::bad_pri, 1, "PRIVAL has a leading zero");
    return std::nullopt;
  }

  DecodeResult version() {
    const std::size_t start = pos_;
    std::size_t p = start;
    int value = 0;
    for (; digit_at(in_, p); ++p) {
      if (value < 100'000'000) value = value * 10 + (in_[p] - '0');
    }
    if (p >= in_.size()) return fatal(Reason::empty_field, p, "message ends inside the HEADER");
    if (p == start || in_[p] != ' ') return fatal(Reason::looks_rfc3164, start, "no VERSION SP after PRI (RFC 3164 layout)");
    m_.version = value;
    pos_ = p + 1;
    if (in_[start] == '0') return soft(Reason::bad_version, start, "VERSION starts with 0");
    if (p - start > 3) return soft(Reason::bad_version, start + 3, "VERSION has more than 3 digits");
    return std::nullopt;
  }

  // The header token at pos_, which must be followed by SP; pos_ moves past the SP.
  DecodeResult token(std::string_view& out, bool& printable) {
    const std::size_t start = pos_;
    printable = true;
    std::size_t p = start;
    for (; p < in_.size() && in_[p] != ' '; ++p) printable &= is_print(in_[p]);
    if (p >= in_.size()) return fatal(Reason::empty_field, p, "message ends inside the HEADER");
    out = in_.substr(start, p - start);
    pos_ = p + 1;
    return std::nullopt;
  }

  DecodeResult empty(std::size_t at, std::string_view why) {
    if (auto e = soft(Reason::empty_field, at, why)) return e;
    m_.note(Leniency::empty_field_as_nil);
    return std::nullopt;
  }

  DecodeResult timestamp() {
    const std::size_t start = pos_;
    std::string_view ts;
    bool printable;
    if (auto e = token(ts, printable)) return e;
    if (ts.empty()) return empty(start, "TIMESTAMP is empty");
    if (ts == "-") return std::nullopt;
    m_.timestamp = ts;
    const TimestampCheck check = check_timestamp(ts);
    if (check.bad_at != npos) return soft(Reason::bad_timestamp, start + check.bad_at, check.why);
    m_.secfrac_digits = check.frac_digits;
    if (check.frac_digits <= 6) return std::nullopt;
    m_.note(Leniency::secfrac_over_6);  // recorded by a strict parse too: it is what lint syslog-secfrac-over-6 reports
    if (strict_) return DecodeError{start + 26, "TIME-SECFRAC has more than 6 digits"};
    return std::nullopt;
  }

  DecodeResult field(std::optional<std::string_view>& out, const FieldRule& rule) {
    const std::size_t start = pos_;
    std::string_view text;
    bool printable;
    if (auto e = token(text, printable)) return e;
    if (text.empty()) return empty(start, rule.empty);
    if (!printable) {
      std::size_t bad = 0;
      while (is_print(text[bad])) ++bad;
      if (auto e = soft(Reason::non_printusascii, start + bad, rule.not_print)) return e;
    }
    if (text.size() > rule.max) {
      if (auto e = soft(Reason::field_too_long, start + rule.max, rule.too_long)) return e;
    }
    if (text != "-") out = text;
    return std::nullopt;
  }

  // §6.2: after APP-NAME, skip DKP label tokens. Of the positions reachable by
  // skipping labels, take the last one where PROCID MSGID STRUCTURED-DATA can
  // be read, so that label-shaped words are labels when the rest allows it.
  void skip_labels() {
    std::size_t p = pos_, best = npos;
    while (true) {
      const std::size_t end = label_end(in_, p, nullptr);
      if (end == npos || end >= in_.size() || in_[end] != ' ') break;
      p = end + 1;
      if (tail_readable(p)) best = p;
    }
    if (best == npos) return;
    m_.note(Leniency::labels_between_app_and_procid);
    for (p = pos_; p < best; p = label_end(in_, p, &m_.labels) + 1) {
      m_.note(in_[p] == ' ' ? Reason::empty_field : Reason::bad_structured_data);
    }
    pos_ = best;
  }

  // PROCID SP MSGID SP STRUCTURED-DATA (SP / end) at p, both IDs non-empty.
  bool tail_readable(std::size_t p) const {
    for (int field = 0; field < 2; ++field) {
      if (p >= in_.size() || in_[p] == ' ') return false;
      p = in_.find(' ', p);
      if (p == npos) return false;
      ++p;
    }
    if (p >= in_.size()) return false;
    if (in_[p] == '-') {
      ++p;
    } else {
      Issues ignored;
      std::string_view id;
      if (in_[p] != '[') return false;
      while (p < in_.size() && in_[p] == '[') {
        p = scan_element(in_, p, id, nullptr, ignored);
        if (p == npos) return false;
      }
    }
    return p == in_.size() || in_[p] == ' ';
  }

  DecodeResult structured_data() {
    if (pos_ >= in_.size() || in_[pos_] == ' ') {
      if (auto e = empty(pos_, "STRUCTURED-DATA is empty")) return e;
      if (pos_ >= in_.size()) return std::nullopt;
    } else if (in_[pos_] == '-') {
      ++pos_;
    } else if (in_[pos_] == '[') {
      if (auto e = elements()) return e;
    } else {
      return fatal(Reason::bad_structured_data, pos_, "STRUCTURED-DATA is neither '-' nor '['");
    }
    if (pos_ == in_.size()) return std::nullopt;  // no MSG
    if (in_[pos_] != ' ') return fatal(Reason::bad_structured_data, pos_, "expected SP after STRUCTURED-DATA");
    ++pos_;
    m_.msg = in_.substr(pos_);
    return std::nullopt;
  }

  DecodeResult elements() {
    while (pos_ < in_.size() && in_[pos_] == '[') {
      Issues issues;
      std::string_view id;
      const auto first = static_cast<std::uint32_t>(m_.params.size());
      const std::size_t end = scan_element(in_, pos_, id, &m_.params, issues);
      if (auto e = merge(issues, end == npos)) return e;
      for (const Element& seen : m_.sd) {
        if (seen.id != id) continue;
        if (auto e = soft(Reason::duplicate_sd_id, pos_ + 1, "SD-ID repeats")) return e;
        break;
      }
      m_.sd.push_back({id, first, static_cast<std::uint32_t>(m_.params.size()) - first});
      pos_ = end;
    }
    return std::nullopt;
  }

  DecodeResult msg() {
    if (!m_.msg || !m_.msg->starts_with(kBom)) return std::nullopt;
    m_.bom = true;
    m_.msg->remove_prefix(kBom.size());
    const std::size_t good = utf8::valid_prefix(*m_.msg);
    if (good == m_.msg->size()) return std::nullopt;
    return soft(Reason::bad_utf8_after_bom, pos_ + kBom.size() + good, "MSG after the BOM is not valid UTF-8");
  }
};

// --------------------------------------------------------------- RFC 3164

// `<PRI>` at the start; returns the position after '>', or 0 when there is no
// valid PRI (the message is then read as a relay would, RFC 3164 §4.3.3).
std::size_t read_3164_pri(std::string_view in, Message& m) {
  if (in.empty() || in[0] != '<') {
    m.note(Reason::no_pri);
    return 0;
  }
  std::size_t p = 1;
  int value = 0;
  for (; p <= 3 && digit_at(in, p); ++p) value = value * 10 + (in[p] - '0');
  if (p == 1 || p >= in.size() || in[p] != '>' || value > 191) {
    m.note(Reason::bad_pri);
    return 0;
  }
  set_pri(m, value);
  m.note(Reason::looks_rfc3164);
  return p + 1;
}

int month_number(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == name) return static_cast<int>(i) + 1;
  }
  return 0;
}

// "Mmm dd hh:mm:ss" at p: the day space-padded, zero-padded or a bare digit.
std::size_t read_bsd_timestamp(std::string_view in, std::size_t p) {
  const int month = in.size() >= p + 4 ? month_number(in.substr(p, 3)) : 0;
  if (month == 0 || in[p + 3] != ' ') return npos;
  p += 4;
  int day;
  if (p < in.size() && in[p] == ' ' && digit_at(in, p + 1)) {
    day = in[p + 1] - '0';
    p += 2;
  } else if (digit_at(in, p) && digit_at(in, p + 1)) {
    day = number_at(in, p, 2);
    p += 2;
  } else if (digit_at(in, p)) {
    day = in[p] - '0';
    p += 1;
  } else {
    return npos;
  }
  if (day < 1 || day > days_in_month(2000, month)) return npos;  // no year: Feb 29 passes
  const int hour = number_at(in, p + 1, 2), minute = number_at(in, p + 4, 2), second = number_at(in, p + 7, 2);
  if (hour < 0 || minute < 0 || second < 0 || in[p] != ' ' || in[p + 3] != ':' || in[p + 6] != ':') return npos;
  if (hour > 23 || minute > 59 || second > 59) return npos;
  p += 9;
  // Variant: a year after the time.
  if (p < in.size() && in[p] == ' ' && number_at(in, p + 1, 4) >= 0 && (p + 5 == in.size() || in[p + 5] == ' ')) p += 5;
  return p;
}

// The TIMESTAMP at p (BSD, or the RFC 3339 variant); its end, or npos.
std::size_t read_3164_timestamp(std::string_view in, std::size_t p) {
  std::size_t end = read_bsd_timestamp(in, p);
  if (end == npos) {
    end = std::min(in.find(' ', p), in.size());
    if (check_timestamp(in.substr(p, end - p)).bad_at != npos) return npos;
  }
  return end == in.size() || in[end] == ' ' ? end : npos;
}

// TAG at p: NAME ":" or NAME "[" PID "]" [":"], NAME 1-32 characters; the
// position of CONTENT, or p when there is no TAG.
std::size_t read_tag(std::string_view in, std::size_t p, Message& m) {
  std::size_t q = p;
  while (q < in.size() && in[q] != ' ' && in[q] != ':' && in[q] != '[') ++q;
  if (q == p || q - p > 32 || q >= in.size() || in[q] == ' ') return p;
  const std::string_view name = in.substr(p, q - p);
  if (name == "CEF" && in[q] == ':') return p;  // "CEF:0|…" is a CEF payload, not a TAG (kuma-receiver §5.3)
  if (in[q] == '[') {
    const std::size_t close = in.find(']', q);
    if (close == npos) return p;
    const std::string_view pid = in.substr(q + 1, close - q - 1);
    if (pid.find(' ') != npos) return p;
    if (!pid.empty()) m.procid = pid;
    q = close + 1;
    if (q < in.size() && in[q] == ':') ++q;
  } else {
    ++q;  // ':'
  }
  m.app_name = name;
  if (q < in.size() && in[q] == ' ') ++q;
  return q;
}

// HOSTNAME, TAG and CONTENT after the TIMESTAMP and its SP.
void read_host_tag_msg(std::string_view in, std::size_t p, Message& m) {
  const std::size_t end = std::min(in.find(' ', p), in.size());
  const std::string_view token = in.substr(p, end - p);
  // Variant: no HOSTNAME, detected when the token is already a TAG.
  if (!token.empty() && token.back() != ':' && token.find('[') == npos && !token.starts_with("CEF:")) {
    m.hostname = token;
    if (end == in.size()) return;
    p = end + 1;
  }
  m.msg = in.substr(read_tag(in, p, m));
}

std::size_t pri_end(std::string_view in) { return std::min(in.find('>'), in.size() - 1) + 1; }

}  // namespace

std::string_view reason_code(Reason r) {
  static constexpr std::array<std::string_view, kReasonCount> kCodes{
      "no-pri",         "bad-pri",          "bad-version",         "bad-timestamp",   "empty-field",       "field-too-long",
      "non-printusascii", "bad-structured-data", "duplicate-sd-id", "bad-utf8-after-bom", "looks-rfc3164"};
  return kCodes[static_cast<std::size_t>(r)];
}

void Message::reset() {
  flavor = Flavor::rfc5424;
  pri = facility = severity = version = std::nullopt;
  timestamp = hostname = app_name = procid = msgid = msg = std::nullopt;
  bom = false;
  sd.clear();
  params.clear();
  labels.clear();
  secfrac_digits = 0;
  violations = 0;
  leniencies = 0;
}

std::string unescape_param(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      const char next = raw[i + 1];
      if (next == '"' || next == '\\' || next == ']') {
        out += next;
      } else {
        out.append(raw.substr(i, 2));  // not an escape: both characters stay
      }
      ++i;
    } else {
      out += raw[i];
    }
  }
  return out;
}

DecodeResult parse_rfc5424(std::string_view in, Mode mode, Message& out) {
  out.reset();
  return Rfc5424Parser(in, mode, out).run();
}

DecodeResult parse_rfc3164(std::string_view in, Message& out) {
  out.reset();
  out.flavor = Flavor::rfc3164;
  std::size_t p = read_3164_pri(in, out);
  if (p == 0) {
    set_pri(out, 13);  // RFC 3164 §4.3.3: a relay gives a message without PRI <13>
    out.msg = in;
    return std::nullopt;
  }
  if (p < in.size() && in[p] == ' ') ++p;  // variant "<189> Jun 18 ..."
  const std::size_t ts_end = read_3164_timestamp(in, p);
  if (ts_end == npos) {
    out.msg = in.substr(p);  // RFC 3164 §4.3.2: without a TIMESTAMP all of it is CONTENT
    return std::nullopt;
  }
  out.timestamp = in.substr(p, ts_end - p);
  if (ts_end < in.size()) read_host_tag_msg(in, ts_end + 1, out);
  return std::nullopt;
}

bool looks_like_rfc5424(std::string_view in) {
  if (in.empty() || in[0] != '<') return false;
  std::size_t p = 1;
  while (p <= 3 && digit_at(in, p)) ++p;
  if (p == 1 || p >= in.size() || in[p] != '>') return false;
  std::size_t q = ++p;
  while (digit_at(in, q)) ++q;
  return q > p && q < in.size() && in[q] == ' ';
}

DecodeResult parse(std::string_view in, Mode mode, Message& out) {
  if (looks_like_rfc5424(in)) return parse_rfc5424(in, mode, out);
  parse_rfc3164(in, out);
  if (mode == Mode::lenient) return std::nullopt;
  // Strict means "valid RFC 5424": the fields are decoded, but the call fails.
  if (out.has(Reason::no_pri)) return DecodeError{0, "message does not start with '<' (no PRI)"};
  if (out.has(Reason::bad_pri)) return DecodeError{1, "PRI is not '<' 1-3 digits (at most 191) '>'"};
  return DecodeError{pri_end(in), "no VERSION SP after PRI (RFC 3164 layout)"};
}

}  // namespace kumasim::formats::syslog
