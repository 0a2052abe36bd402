#include "support/dkp_example.h"

namespace kumasim::testing {

const std::string kAuditLine =
    R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"4d2c6a0e-1b7f-4c51-9a3e-2f0d8b6c7e11",)"
    R"("stage":"ResponseComplete","requestURI":"/api/v1/nodes/master-0?timeout=10s","verb":"get",)"
    R"("user":{"username":"system:node:master-0"},"userAgent":"kubelet/v1.29.4 (linux/amd64) kubernetes/55019c8",)"
    R"("responseStatus":{"metadata":{},"code":200}})";

const std::string kReadTimestamp = "2025-01-15T10:20:30.130512345+03:00";

nlohmann::json gen_c_event() {
  return {{"file", "/var/log/kube-audit/audit.log"}, {"host", "master-0"}, {"host_ip", "10.0.0.5"},
          {"message", kAuditLine}, {"source_type", "file"}, {"timestamp", kReadTimestamp}};
}

nlohmann::json gen_b_event() {
  return {{"host", "log-shipper-agent-7xk2p"}, {"message", kAuditLine}, {"source_type", "file"},
          {"timestamp", kReadTimestamp}};
}

}  // namespace kumasim::testing
