// syslog_stream N FILE: writes N RFC 5424 messages of about 300 bytes, each
// with an RFC 6587 octet count, the load of the receiver benchmark
// (bench/receive_bench.sh). Messages vary in content so no layer can cache.
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: syslog_stream N FILE\n");
    return 2;
  }
  const long count = std::atol(argv[1]);
  std::FILE* out = std::fopen(argv[2], "wb");
  if (count <= 0 || out == nullptr) {
    std::fprintf(stderr, "syslog_stream: bad count or cannot write %s\n", argv[2]);
    return 2;
  }
  std::string message, frame;
  for (long i = 0; i < count; ++i) {
    message = "<165>1 2025-01-15T10:20:30.130512Z node-" + std::to_string(i % 17) +
              ".cluster.example.com kube-apiserver 4242 AUDIT [meta@32473 seq=\"" + std::to_string(i) +
              "\" verb=\"get\"] GET /api/v1/nodes/master-0?timeout=10s user-agent kubelet/v1.29.4 (linux/amd64) "
              "kubernetes/55019c8 user system:node:master-0 code 200 latency " + std::to_string(i * 7 % 1000) +
              "us audit 4d2c6a0e-1b7f-4c51-9a3e-2f0d8b6c7e11";
    frame = std::to_string(message.size()) + " " + message;
    std::fwrite(frame.data(), 1, frame.size(), out);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
