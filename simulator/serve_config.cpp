#include "simulator/serve_config.h"

#include <yaml-cpp/yaml.h>

#include <set>
#include <string_view>

namespace kumasim::sim {
namespace {

struct ConfigError {
  std::string message;
};

std::string place(const YAML::Node& node) {
  const auto mark = node.Mark();
  return mark.is_null() ? "" : ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

template <class T>
T scalar(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) throw ConfigError{where + ": expected a single value"};
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw ConfigError{where + ": \"" + node.Scalar() + "\" is not a valid value"};
  }
}

// A listener map becomes the equivalent URL, so both forms share one parser and its checks.
std::string url_from_map(const YAML::Node& node, const std::string& where) {
  static const std::set<std::string> kKeys{"name",      "codec",     "delimiter", "framing",  "buffer",   "rcvbuf",
                                           "topic",     "group",     "partitions", "brokers", "embedded", "bootstrap",
                                           "sasl",      "username",  "password",  "ca",       "cert",     "key"};
  std::string transport = "tcp", address, query;
  auto add = [&](const std::string& key, const std::string& value) {
    query += (query.empty() ? "?" : "&") + key + "=" + url_encoded(value);
  };
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    const std::string at = where + "." + key;
    if (key == "transport") transport = scalar<std::string>(entry.second, at);
    else if (key == "address") address = scalar<std::string>(entry.second, at);
    else if (kKeys.count(key)) add(key, scalar<std::string>(entry.second, at));
    else if (key == "tls" && entry.second.IsScalar()) add(key, scalar<std::string>(entry.second, at));  // kafka: off, on, verify
    else if (key == "tls" && entry.second.IsMap()) {
      for (const auto& t : entry.second) {
        const auto tls_key = t.first.as<std::string>();
        if (tls_key != "mode" && tls_key != "cert" && tls_key != "key" && tls_key != "ca") {
          throw ConfigError{at + "." + tls_key + ": unknown key (mode, cert, key, ca)"};
        }
        add(tls_key, scalar<std::string>(t.second, at + "." + tls_key));
      }
    } else {
      throw ConfigError{at + ": unknown key"};
    }
  }
  if (address.empty()) throw ConfigError{where + ": address is required (HOST:PORT)"};
  return transport + "://" + address + query;
}

ListenerConfig read_listener(const YAML::Node& node, const std::string& where, int index) {
  std::string url;
  if (node.IsScalar()) url = node.Scalar();
  else if (node.IsMap() && node["url"] && node.size() == 1) url = scalar<std::string>(node["url"], where + ".url");
  else if (node.IsMap()) url = url_from_map(node, where);
  else throw ConfigError{where + ": expected a URL or a map"};
  auto parsed = parse_listener_url(url, index);
  if (auto* error = std::get_if<std::string>(&parsed)) throw ConfigError{where + ": " + *error};
  return std::get<ListenerConfig>(parsed);
}

ServeFileConfig read(const YAML::Node& root, const std::string& path) {
  if (!root.IsMap()) throw ConfigError{path + place(root) + ": expected a map of settings"};
  ServeFileConfig config;
  for (const auto& entry : root) {
    const auto key = entry.first.as<std::string>();
    const std::string where = path + place(entry.second) + ": " + key;
    if (key == "api") config.api = scalar<std::string>(entry.second, where);
    else if (key == "api_token") config.api_token = scalar<std::string>(entry.second, where);
    else if (key == "capture") config.capture = scalar<std::string>(entry.second, where);
    else if (key == "max_store") config.max_store = scalar<std::uint64_t>(entry.second, where);
    else if (key == "io_threads") config.io_threads = scalar<unsigned>(entry.second, where);
    else if (key == "listeners") {
      if (!entry.second.IsSequence()) throw ConfigError{where + ": expected a list"};
      int index = 0;
      for (const auto& item : entry.second) {
        ++index;
        const std::string at = path + place(item) + ": listeners[" + std::to_string(index - 1) + "]";
        config.listeners.push_back(read_listener(item, at, index));
      }
    } else {
      throw ConfigError{where + ": unknown setting (api, api_token, capture, max_store, io_threads, listeners)"};
    }
  }
  return config;
}

}  // namespace

std::variant<ServeFileConfig, std::string> load_serve_config(const std::string& path) {
  try {
    return read(YAML::LoadFile(path), path);
  } catch (const ConfigError& e) {
    return e.message;
  } catch (const YAML::BadFile&) {
    return path + ": cannot read the file";
  } catch (const YAML::Exception& e) {
    return path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg;
  }
}

}  // namespace kumasim::sim
