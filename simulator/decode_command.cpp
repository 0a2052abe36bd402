#include "simulator/decode_command.h"
#include "simulator/decode_output.h"

#include "formats/framing.h"
#include "formats/json.h"
#include "formats/normalizer.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <algorithm>
#include <string>
#include <vector>

namespace kumasim::cli {

using namespace kumasim::formats;

struct DecodeOptions {
  CLI::App* command = nullptr;
  std::string format = "auto";
  std::string framing = "lf";
  bool lenient = false;
  std::size_t max_frame = 64 * 1024 * 1024;
  std::vector<std::string> parse_nested;
  std::vector<std::string> mappings;  // PATH=FIELD
  std::string output = "json";
  std::vector<std::string> files;
};

namespace {

const std::vector<std::string> kFormats{"rfc5424", "rfc3164", "syslog", "cef", "syslog-cef", "json", "raw", "auto"};
const std::vector<std::string> kFramings{"lf", "nul", "tab", "octet", "auto", "none"};

json::JsonNormalizerConfig json_config(const DecodeOptions& options) {
  json::JsonNormalizerConfig config;
  config.parse_nested = options.parse_nested;
  for (const auto& mapping : options.mappings) {
    const auto eq = mapping.rfind('=');  // checked by the option's validator
    config.mapping.push_back({mapping.substr(0, eq), mapping.substr(eq + 1)});
  }
  return config;
}

FramingConfig framing_config(const DecodeOptions& options) {
  FramingConfig config;
  config.max_frame_size = options.max_frame;
  if (options.framing == "nul") config.delimiter = '\0';
  if (options.framing == "tab") config.delimiter = '\t';
  if (options.framing == "octet") config.mode = FramingMode::octet;
  if (options.framing == "auto") config.mode = FramingMode::automatic;
  return config;
}

// Normalizes each frame and prints its result; remembers whether all decoded.
class FramePrinter {
 public:
  explicit FramePrinter(const DecodeOptions& options)
      : normalizer_({*codec_from_name(options.format), options.lenient, json_config(options)}),
        delimiter_framing_(options.framing != "octet" && options.framing != "auto"),
        text_(options.output == "text") {}

  void start_input(std::string name) {
    input_ = std::move(name);
    state_ = {};
    empty_frames_ = 0;
  }

  // Empty frames are skipped as KUMA skips them (§2.1). The first of an input
  // is printed with lint empty-frame (once per input, as once per connection);
  // the count of all of them goes to stderr.
  void end_input() {
    if (empty_frames_ > 0) std::cerr << "kumasim decode: " << input_ << ": skipped " << empty_frames_ << " empty frame(s)\n";
  }

  void print(const Frame& frame) {
    if (frame.status == FrameStatus::empty && empty_frames_++ > 0) return;
    Normalized result = normalize(frame);
    add_frame_lints(frame.bytes, {Transport::none, frame.size, 0, delimiter_framing_, frame.unterminated}, result.lints);
    all_ok_ = all_ok_ && result.ok();

    line_.clear();
    const FrameReport report{input_, frame.offset, result};
    text_ ? append_text(report, line_) : append_json_line(report, line_);
    std::fwrite(line_.data(), 1, line_.size(), stdout);
  }

  bool all_ok() const { return all_ok_; }

 private:
  // Only whole frames are normalized; the framer's other verdicts are reported as they are.
  Normalized normalize(const Frame& frame) {
    Normalized result;
    switch (frame.status) {
      case FrameStatus::ok: return normalizer_.normalize(frame.bytes, state_);
      case FrameStatus::empty: result.lints.push_back({LintId::empty_frame, {}}); break;
      case FrameStatus::oversize: result.error = DecodeError{frame.bytes.size(), "frame exceeds --max-frame"}; break;
      case FrameStatus::bad_octet_count: result.error = DecodeError{0, "octet count is not MSG-LEN SP"}; break;
    }
    return result;
  }

  Normalizer normalizer_;
  bool delimiter_framing_;
  bool text_;
  StreamState state_;
  std::size_t empty_frames_ = 0;
  std::string input_;
  std::string line_;
  bool all_ok_ = true;
};

// Feeds one input through the framer (or as one frame with --framing none).
void decode_stream(std::istream& in, const DecodeOptions& options, FramePrinter& printer) {
  std::vector<char> buffer(64 * 1024);
  auto sink = [&](const Frame& frame) { printer.print(frame); };
  if (options.framing == "none") {  // one frame, kept up to --max-frame like any other
    std::string whole;
    Frame frame;
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
      const auto n = static_cast<std::size_t>(in.gcount());
      whole.append(buffer.data(), std::min(n, options.max_frame - std::min(options.max_frame, whole.size())));
      frame.size += n;
    }
    frame.bytes = whole;
    if (frame.size == 0) frame.status = FrameStatus::empty;
    if (frame.size > options.max_frame) frame.status = FrameStatus::oversize;
    printer.print(frame);
    return;
  }
  Framer framer(framing_config(options));
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    framer.feed({buffer.data(), static_cast<std::size_t>(in.gcount())}, sink);
  }
  framer.finish(sink);
}

}  // namespace

std::shared_ptr<DecodeOptions> add_decode_command(CLI::App& app) {
  auto options = std::make_shared<DecodeOptions>();
  auto* cmd = app.add_subcommand("decode", "Decode frames from files or stdin and print one JSON object per frame");
  options->command = cmd;
  cmd->add_option("--format", options->format, "rfc5424, rfc3164, syslog, cef, syslog-cef, json, raw or auto")
      ->check(CLI::IsMember(kFormats))
      ->capture_default_str();
  cmd->add_flag("--lenient", options->lenient, "Syslog: accept what DKP sends and report each leniency");
  cmd->add_option("--framing", options->framing, "lf, nul, tab, octet, auto or none")
      ->check(CLI::IsMember(kFramings))
      ->capture_default_str();
  cmd->add_option("--max-frame", options->max_frame, "Largest frame in bytes; longer ones fail as oversize")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32))
      ->capture_default_str();
  // One value per occurrence, so that the options may come before the files.
  cmd->add_option("--parse-nested", options->parse_nested, "JSON: string fields to re-parse as JSON in the KUMA view")
      ->allow_extra_args(false);
  cmd->add_option("--map", options->mappings, "JSON: map a source path to a KUMA field, PATH=FIELD (repeatable)")
      ->check(CLI::Validator(
          [](const std::string& value) -> std::string {
            const auto eq = value.rfind('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) return "expected PATH=FIELD, got " + value;
            return {};
          },
          "PATH=FIELD"))
      ->allow_extra_args(false);
  cmd->add_option("--output", options->output, "json (one object per line) or text (for people)")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  cmd->add_option("files", options->files, "Input files (default: stdin; - is stdin)");
  return options;
}

bool decode_selected(const DecodeOptions& options) { return options.command->parsed(); }

int run_decode(const DecodeOptions& options) {
  FramePrinter printer(options);
  const std::vector<std::string> inputs = options.files.empty() ? std::vector<std::string>{"-"} : options.files;
  for (const auto& name : inputs) {
    printer.start_input(name);
    if (name == "-") {
      decode_stream(std::cin, options, printer);
      printer.end_input();
      continue;
    }
    std::ifstream file(name, std::ios::binary);
    if (!file) {
      std::fflush(stdout);
      std::cerr << "kumasim decode: cannot read " << name << "\n";
      return 2;
    }
    decode_stream(file, options, printer);
    printer.end_input();
  }
  std::fflush(stdout);
  return printer.all_ok() ? 0 : 1;
}

}  // namespace kumasim::cli
