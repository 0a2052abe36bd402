#!/usr/bin/env bash
# bench/receive_bench.sh [N]: the receiver benchmark of issue 3.
# N RFC 5424 messages of ~300 bytes with octet counting (written once by
# syslog_stream) are sent by socat over one TCP connection, then over TLS, to
# `kumasim serve` and, in the same run, to rsyslog (imtcp -> omfile) as the
# peer. Prints msg/s, loss and peak RSS of each, and kumasim's rate as a
# ratio of rsyslog's. Loopback only; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000000}
build=build/release
kumasim=$build/simulator/kumasim

cmake --preset release >/dev/null
cmake --build --preset release --target kumasim syslog_stream >/dev/null
work=$(mktemp -d /tmp/kumasim-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$build/bench/syslog_stream" "$n" "$work/stream.txt"
"$kumasim" pki "$work/pki" >/dev/null
bytes=$(stat -c %s "$work/stream.txt")

now() { date +%s.%N; }
peak_rss_mib() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# A TCP port nobody listens on (rsyslog's imtcp cannot report an ephemeral one).
free_port() { comm -23 <(seq 20000 40000 | sort) <(ss -Htan | awk '{print $4}' | sed 's/.*://' | sort -u) | shuf -n 1; }

# wait_for COUNT_COMMAND: polls until the count reaches n or stops growing for 10 s; prints the last count.
wait_for() {
  local count=0 last=-1 still=0
  while (( count < n && still < 200 )); do
    sleep 0.05
    count=$("$@" || echo 0)
    if (( count == last )); then still=$((still + 1)); else still=0; last=$count; fi
  done
  echo "$count"
}

send() {  # send TLS PORT
  if [[ $1 == tls ]]; then socat -u "FILE:$work/stream.txt" "OPENSSL:127.0.0.1:$2,verify=0"
  else socat -u "FILE:$work/stream.txt" "TCP:127.0.0.1:$2"; fi
}

kumasim_frames() { curl -s "http://$api/api/v1/stats" | grep -o '"frames":[0-9]*' | head -n 1 | cut -d: -f2; }

run_kumasim() {  # run_kumasim tcp|tls
  local url="$1://127.0.0.1:0?codec=rfc5424&framing=rfc6587&name=bench"
  [[ $1 == tls ]] && url+="&cert=$work/pki/server.pem&key=$work/pki/server-key.pem"
  rm -f "$work/ready.json"
  "$kumasim" serve --listen "$url" --api 127.0.0.1:0 --ready-file "$work/ready.json" >/dev/null 2>"$work/serve.err" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do [[ -f $work/ready.json ]] && break; sleep 0.05; done
  local port
  port=$(grep -o '"address":"127.0.0.1:[0-9]*","codec"' "$work/ready.json" | grep -o '[0-9]*","codec' | grep -o '^[0-9]*')
  api=$(grep -o '"address":"[^"]*","name":"api"' "$work/ready.json" | sed 's/"address":"//; s/".*//')
  local start end got
  start=$(now)
  send "$1" "$port"
  got=$(wait_for kumasim_frames)
  end=$(now)
  report "kumasim $1" "$start" "$end" "$got" "$(peak_rss_mib "$pid")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

run_rsyslog() {  # run_rsyslog tcp|tls
  local dir="$work/rsyslog-$1" port
  port=$(free_port)
  mkdir -p "$dir"
  {
    echo "global(workDirectory=\"$dir\")"
    if [[ $1 == tls ]]; then
      echo "global(DefaultNetstreamDriver=\"ossl\" DefaultNetstreamDriverCAFile=\"$work/pki/ca.pem\""
      echo "       DefaultNetstreamDriverCertFile=\"$work/pki/server.pem\" DefaultNetstreamDriverKeyFile=\"$work/pki/server-key.pem\")"
      echo "module(load=\"imtcp\" StreamDriver.Name=\"ossl\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")"
    else
      echo "module(load=\"imtcp\")"
    fi
    echo "input(type=\"imtcp\" port=\"$port\")"
    echo "template(name=\"one\" type=\"string\" string=\"x\\n\")"  # 2 bytes a message: progress by file size
    echo "action(type=\"omfile\" file=\"$dir/out\" template=\"one\")"
  } >"$dir/rsyslog.conf"
  rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/pid" 2>"$dir/err" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  # The readiness probe itself may be logged as nothing; the count below is of messages only.
  local start end got
  start=$(now)
  send "$1" "$port"
  got=$(wait_for bash -c "echo \$(( \$(stat -c %s '$dir/out' 2>/dev/null || echo 0) / 2 ))")
  end=$(now)
  report "rsyslog $1" "$start" "$end" "$got" "$(peak_rss_mib "$pid")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

declare -A rate
report() {  # report NAME START END RECEIVED RSS_MIB
  local seconds msgs
  seconds=$(echo "$3 - $2" | bc -l)
  msgs=$(echo "$4 / $seconds" | bc -l)
  rate[$1]=$msgs
  printf '%-12s %10.0f msg/s  %6.1f MB/s  loss %d of %d  peak RSS %s MiB\n' "$1" "$msgs" \
    "$(echo "$bytes / $seconds / 1000000" | bc -l)" "$((n - $4))" "$n" "$5"
}

echo "receiver benchmark: $n messages, $bytes bytes, one connection"
for transport in tcp tls; do
  run_rsyslog "$transport"
  run_kumasim "$transport"
  printf 'kumasim / rsyslog over %s: %.2fx\n' "$transport" "$(echo "${rate[kumasim $transport]} / ${rate[rsyslog $transport]}" | bc -l)"
done
