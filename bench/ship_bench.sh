#!/usr/bin/env bash
# bench/ship_bench.sh [BYTES]: the shipper benchmark of issue 4.
# The recorded audit fixtures repeated to about BYTES (default 1 GB) are read
# from a file and sent over TCP with newline framing into a discarding sink
# (line_sink), by kumasim-shipper (codec JSON as DKP sends it, and Text, the
# raw line) and, in the same run, by rsyslog (imfile -> omfwd, the raw line).
# Prints lines/s, MB/s of input and peak RSS of each, and the shipper's rates
# as ratios of rsyslog's. Loopback only; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
target_bytes=${1:-1000000000}
build=build/release
shipper=$build/shipper/kumasim-shipper
sink=$build/bench/line_sink

cmake --preset release >/dev/null
cmake --build --preset release --target kumasim-shipper line_sink >/dev/null
work=$(mktemp -d /tmp/kumasim-ship-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

input=$work/root/var/log/kube-audit/audit.log
mkdir -p "$(dirname "$input")"
cat fixtures/audit/*.log >"$input"
# Double the file while that stays under the target, then top it up with its first lines.
while (( $(stat -c %s "$input") * 2 <= target_bytes )); do cat "$input" "$input" >"$work/double" && mv "$work/double" "$input"; done
size=$(stat -c %s "$input")
head -n $(( $(wc -l <"$input") * (target_bytes - size) / size )) "$input" >"$work/top-up"
cat "$work/top-up" >>"$input" && rm "$work/top-up"
lines=$(wc -l <"$input")
bytes=$(stat -c %s "$input")
echo "shipper benchmark: $lines lines, $bytes bytes, TCP with LF framing into a discarding sink"

start_sink() {  # start_sink NAME: starts line_sink expecting every line; sets sink_pid and port
  rm -f "$work/port"
  "$sink" "$work/port" "$lines" 60 >"$work/$1.sink" &
  sink_pid=$!
  pids+=("$sink_pid")
  for _ in $(seq 200); do [[ -s $work/port ]] && break; sleep 0.05; done
  port=$(cat "$work/port")
}

declare -A rate
report() {  # report NAME RSS_MIB: reads the sink's "lines bytes seconds"
  local got seconds
  read -r got _ seconds <"$work/$1.sink"
  rate[$1]=$(echo "$got / $seconds" | bc -l)
  printf '%-16s %10.0f lines/s  %7.1f MB/s  %d of %d lines  peak RSS %s MiB\n' "$1" "${rate[$1]}" \
    "$(echo "$bytes / $seconds / 1000000" | bc -l)" "$got" "$lines" "$2"
}

run_shipper() {  # run_shipper JSON|Text
  start_sink "shipper-$1"
  cat >"$work/manifest.yaml" <<YAML
apiVersion: deckhouse.io/v1alpha1
kind: ClusterLogDestination
metadata: {name: sink}
spec: {type: Socket, socket: {address: "127.0.0.1:$port", mode: TCP, encoding: {codec: $1}}}
---
apiVersion: deckhouse.io/v1alpha2
kind: ClusterLoggingConfig
metadata: {name: audit}
spec: {type: File, file: {include: [/var/log/kube-audit/audit.log]}, destinationRefs: [sink]}
YAML
  "$shipper" run "$work/manifest.yaml" --once --root "$work/root" --summary "$work/summary.json" 2>"$work/shipper.err"
  wait "$sink_pid" || true
  report "shipper-$1" "$(grep -o '"peak_rss_kib": [0-9]*' "$work/summary.json" | awk '{printf "%.0f", $2 / 1024}')"
}

run_rsyslog() {
  start_sink rsyslog
  local dir=$work/rsyslog
  mkdir -p "$dir"
  cat >"$dir/rsyslog.conf" <<CONF
global(workDirectory="$dir" maxMessageSize="128k")
module(load="imfile")
template(name="raw" type="string" string="%rawmsg%")
ruleset(name="forward") {
  action(type="omfwd" target="127.0.0.1" port="$port" protocol="tcp" template="raw")
}
input(type="imfile" file="$input" tag="audit" ruleset="forward" freshStartTail="off")
CONF
  rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/pid" 2>"$dir/err" &
  local pid=$!
  pids+=("$pid")
  wait "$sink_pid" || true
  local rss
  rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  report rsyslog "$rss"
}

run_rsyslog
run_shipper JSON
run_shipper Text
for codec in JSON Text; do
  printf 'shipper-%s / rsyslog: %.2fx\n' "$codec" "$(echo "${rate[shipper-$codec]} / ${rate[rsyslog]}" | bc -l)"
done
