#!/usr/bin/env bash
# bench/scenario_bench.sh [LINES]: the scenario runner's figures.
# 1. The whole suite: wall time of `kumasim run scenarios/` on this machine
#    (release build, default --jobs).
# 2. One replay end to end, TCP with CEF: the recorded audit2rbac log repeated
#    to at least LINES lines (default 100,000) written all at once into the
#    sandbox, shipped by kumasim-shipper, received and checked by the runner
#    (every line once, in order, intact). Reports events/s from the first line
#    written to the last event received, and the peak RSS of the shipper and of
#    the runner (the simulator's process). The peer, in the same run: the same
#    shipper on the same lines with --stdout into /dev/null, which is the
#    pipeline's rate without the network and the receiver; the ratio says what
#    end-to-end delivery and checking cost.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-100000}
build=build/release
kumasim=$build/simulator/kumasim
shipper=$build/shipper/kumasim-shipper

cmake --preset release >/dev/null
cmake --build --preset release --target kumasim kumasim-shipper >/dev/null
work=$(mktemp -d /tmp/kumasim-scenario-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
[[ ${KEEP:-} ]] && trap - EXIT
fixture=$PWD/fixtures/audit/audit2rbac-demo.log
per_copy=$(wc -l <"$fixture")
repeat=$(((lines + per_copy - 1) / per_copy))

echo "== the suite: kumasim run scenarios/"
start=$(date +%s.%N)
[[ ${SKIP_SUITE:-} ]] || "$kumasim" run scenarios/ --shipper "$shipper" >"$work/suite.txt" || true
end=$(date +%s.%N)
grep "scenarios passed in" "$work/suite.txt" || true
awk -v s="$start" -v e="$end" 'BEGIN { printf "wall time %.1f s\n", e - s }'

cat >"$work/replay.yaml" <<YAML
name: replay-tcp-cef
timeout: 10m
listeners:
  kuma: tcp://127.0.0.1:0?codec=cef
shipper:
  manifests:
    - inline: |
        apiVersion: deckhouse.io/v1alpha1
        kind: ClusterLogDestination
        metadata: {name: kuma}
        spec:
          type: Socket
          socket: {address: "\${listener.kuma.address}", mode: TCP, encoding: {codec: CEF}}
        ---
        apiVersion: deckhouse.io/v1alpha2
        kind: ClusterLoggingConfig
        metadata: {name: audit}
        spec:
          type: File
          file: {include: [/var/log/kube-audit/audit.log]}
          destinationRefs: [kuma]
input:
  file: $fixture
  repeat: $repeat
expect:
  delivered: {listener: kuma, in_order: true}
  shipper: {exit: 0}
YAML
echo
echo "== one replay end to end: $((per_copy * repeat)) events, TCP, CEF"
"$kumasim" run "$work/replay.yaml" --jobs 1 --shipper "$shipper" --json "$work/replay.json" | head -1
rate=$(grep -o '"events_per_second": [0-9.e+]*' "$work/replay.json" | grep -o '[0-9.e+]*$')
shipper_rss=$(grep -o '"peak_rss_kib": [0-9]*' "$work/replay.json" | head -1 | grep -o '[0-9]*$')
runner_rss=$(grep -o '"process_peak_rss_kib": [0-9]*' "$work/replay.json" | grep -o '[0-9]*$')

# The peer: the same lines through the same pipeline into /dev/null.
mkdir -p "$work/root/var/log/kube-audit"
for _ in $(seq "$repeat"); do cat "$fixture"; done >"$work/root/var/log/kube-audit/audit.log"
sed -n '/^    - inline: |$/,/^input:$/p' "$work/replay.yaml" | sed '1d;$d; s/^        //; s/\${listener.kuma.address}/127.0.0.1:19/' >"$work/manifest.yaml"
start=$(date +%s.%N)
"$shipper" run "$work/manifest.yaml" --root "$work/root" --once --stdout >/dev/null 2>"$work/stdout-run.log"
end=$(date +%s.%N)
peer=$(awk -v n=$((per_copy * repeat)) -v s="$start" -v e="$end" 'BEGIN { print n / (e - s) }')

printf 'end to end      %10.0f events/s   shipper peak RSS %d MiB, runner (simulator) peak RSS %d MiB\n' \
  "$rate" $((shipper_rss / 1024)) $((runner_rss / 1024))
printf 'shipper alone   %10.0f events/s   (--stdout > /dev/null, the peer)\n' "$peer"
awk -v r="$rate" -v p="$peer" 'BEGIN { printf "ratio           %10.2f\n", r / p }'
