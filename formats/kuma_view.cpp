#include "formats/kuma_view.h"

#include <nlohmann/json.hpp>

namespace kumasim::formats {

nlohmann::json to_json(const KumaEvent& event) {
  nlohmann::json view(event.fields);
  if (!event.extra.empty()) view["Extra"] = event.extra;
  if (event.raw) view["Raw"] = *event.raw;
  return view;
}

}  // namespace kumasim::formats
