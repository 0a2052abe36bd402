#!/usr/bin/env bash
# bench/kafka_bench.sh [N]: the Kafka listener benchmark.
# N JSON messages of 1 KB (recorded audit lines of at most 990 bytes, each
# padded to 1024 with a sequence number and a filler field; written once) are
# produced by `kcat -P` into the embedded broker of `kumasim serve`, whose
# Kafka listener (codec json) consumes them while, in the same run, a second
# consumer, `kcat -C` (the peer), consumes the same topic. Prints msg/s of the
# producer and of both consumers (messages received over the time from the
# producer's start to the last message), each consumer's loss (kumasim:
# kafka_lost_messages and kafka_offset_gaps; kcat: missing offsets), kumasim's
# CPU seconds, and kumasim's rate as a ratio of kcat's. Loopback only; every
# wait is bounded.
#
# The mock broker keeps only about 5 MiB a partition and drops the oldest
# messages, consumed or not, so an unthrottled kcat -P (over 1 M msg/s into
# the in-process broker) outruns any consumer: the producer is held at most a
# few MB ahead of the SLOWER of the two consumers (see "The producer" below),
# so neither is favoured: each consumer's figure is the rate at which it kept
# up with a producer that waited for both, and nothing is lost. A Fetch that finds no new data is answered
# by the mock broker only after the consumer's full fetch.wait.max.ms
# (librdkafka's rdkafka_mock_handlers.c), so both consumers use 10 ms, as
# kumasim's embedded listener does: with the default 500 ms a consumer that
# catches up idles long enough for the broker to drop what it has not read.
#
# kcat -C runs with -c (exit after that many messages) rather than -e: -e
# exits at the first partition EOF, which a consumer that keeps up reaches
# long before the producer is done. kumasim's count is its listener's `frames`
# counter, which store eviction does not touch; kcat's is read from the size of
# its output (one offset a line), which its stdio buffer holds back by at most
# 8 KiB (about 1100 lines): a lower bound, so pacing on it is safe.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
build=build/release
# KUMASIM=path/to/kumasim runs that binary instead of building the release one.
kumasim=${KUMASIM:-$build/simulator/kumasim}
topic=bench

if [[ -z ${KUMASIM:-} ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target kumasim >/dev/null
fi
work=$(mktemp -d /tmp/kumasim-kafka-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# N lines of exactly 1024 bytes (1023 + LF): {"seq":I,"pad":"xx…",<audit record's fields>}.
cat fixtures/audit/*.log | awk -v n="$n" '
  length($0) <= 990 && substr($0, 1, 1) == "{" { rec[r++] = substr($0, 2) }
  END {
    if (r == 0) exit 1
    for (i = 0; i < n; i++) {
      body = rec[i % r]
      head = sprintf("{\"seq\":%d,\"pad\":\"", i)
      fill = 1023 - length(head) - 2 - length(body)
      pad = sprintf("%*s", fill, "")
      gsub(/ /, "x", pad)
      printf "%s%s\",%s\n", head, pad, body
    }
  }' >"$work/messages.txt"
bytes=$(stat -c %s "$work/messages.txt")

now() { date +%s.%N; }
peak_rss_mib() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
stat_of() { jq -r ".listeners.bench.$1 // 0" <<<"$2" 2>/dev/null || echo 0; }

"$kumasim" serve --listen "kafka://127.0.0.1:0?name=bench&topic=$topic&codec=json" \
  --api 127.0.0.1:0 --ready-file "$work/ready.json" --max-store 268435456 >/dev/null 2>"$work/serve.err" &
serve_pid=$!
pids+=("$serve_pid")
for _ in $(seq 200); do [[ -f $work/ready.json ]] && break; sleep 0.05; done
[[ -f $work/ready.json ]] || { echo "kumasim serve did not become ready" >&2; cat "$work/serve.err" >&2; exit 1; }
bootstrap=$(jq -r '.[] | select(.name == "bench") | .bootstrap' "$work/ready.json")
api=$(jq -r '.[] | select(.name == "api") | .address' "$work/ready.json")
stats() { curl -s --max-time 5 "http://$api/api/v1/stats" || echo '{}'; }
# kumasim's frames counter without forking (curl and jq cost more than a
# chunk takes to consume): one HTTP/1.0 request over bash's /dev/tcp.
frames_now() {
  local fd response=""
  exec {fd}<>"/dev/tcp/${api%:*}/${api##*:}"
  printf 'GET /api/v1/stats HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$api" >&"$fd"
  read -r -d '' -u "$fd" response || true
  exec {fd}>&-
  if [[ $response =~ \"frames\":([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
}

# kcat -C's count so far, from its output's size: offsets 0, 1, ... one a line
# (the warm-up message included), so the size says how many lines are whole.
kcat_now() {
  local size count=0 digits=1 width=10 first=0
  size=$(stat -c %s "$work/kcat.out" 2>/dev/null || echo 0)
  # Lines of `digits` digits: offsets first..first+width-1, digits+1 bytes each.
  while (( size >= width * (digits + 1) )); do
    size=$((size - width * (digits + 1))); count=$((count + width))
    first=$((first + width)); digits=$((digits + 1)); width=$((first * 9))
  done
  echo $((count + size / (digits + 1)))
}

# The peer consumer: one line (the offset) per message; exits after the
# warm-up message and N more. Its output is buffered, so its last write is its
# exit; it says on stderr when it reaches the end of the partition.
kcat_at_1() { grep -q "Reached end of topic $topic \[0\] at offset 1" "$work/kcat-c.err"; }
timeout 900 kcat -C -X fetch.wait.max.ms=10 -b "$bootstrap" -t "$topic" -o beginning -c "$((n + 1))" -f '%o\n' >"$work/kcat.out" \
  2>"$work/kcat-c.err" &
kcat_c_pid=$!
pids+=("$kcat_c_pid")
# A warm-up message (offset 0): once both consumers have it, both are
# assigned the partition and fetching, so neither starts behind the producer
# (the broker keeps only ~5 MiB). It is not counted.
echo '{"warmup":true}' | kcat -P -b "$bootstrap" -t "$topic" 2>"$work/kcat-warmup.err"
for _ in $(seq 400); do
  (( $(stat_of frames "$(stats)") >= 1 )) && kcat_at_1 && break
  sleep 0.05
done
(( $(stat_of frames "$(stats)") == 1 )) || { echo "kumasim did not consume the warm-up message" >&2; cat "$work/serve.err" >&2; exit 1; }
kcat_at_1 || { echo "kcat -C did not consume the warm-up message" >&2; cat "$work/kcat-c.err" >&2; exit 1; }

echo "kafka benchmark: $n messages, $bytes bytes, 1 KB JSON values, one partition, bootstrap $bootstrap"
start=$(now)
# The producer: one kcat -P reading a FIFO, fed 1000 lines at a time, never
# more than 3000 messages (plus kcat -C's unflushed output, about 1100; about
# 4.5 MB in all with the broker's overhead, under its ~5 MiB a partition) ahead
# of the slower consumer, so the broker drops nothing either has not consumed:
# the producer runs at the slower consumer's pace, and both consumers are
# measured against the same producer. If one still cannot keep up, it loses
# messages (reported as its loss).
chunk=1000 window=2000
split -l "$chunk" -d -a 6 "$work/messages.txt" "$work/chunk."
mkfifo "$work/produce.fifo"
kcat -P -b "$bootstrap" -t "$topic" <"$work/produce.fifo" 2>"$work/kcat-p.err" &
producer_pid=$!
pids+=("$producer_pid")
exec 3>"$work/produce.fifo"
seen=0 i=0
for part in "$work"/chunk.*; do
  # Bounded: the consumers must move within 10 s, else the producer goes on regardless.
  for _ in $(seq 2000); do
    (( i * chunk - window <= seen )) && break
    frames_now >"$work/frames"; read -r seen <"$work/frames"; seen=$((seen - 1))
    if (( i * chunk - window <= seen )); then  # kumasim is there; and kcat -C?
      peer=$(( $(kcat_now) - 1 ))
      if (( peer < seen )); then seen=$peer; fi
    fi
    (( i * chunk - window <= seen )) || sleep 0.005
  done
  cat "$part" >&3
  i=$((i + 1))
done
exec 3>&-
wait "$producer_pid"
produced_at=$(now)

# kumasim: poll the listener's frames until N or no growth for 10 s.
kumasim_end=$start count=0 last=-1 still=0
while (( count < n && still < 200 )); do
  sleep 0.05
  s=$(stats)
  count=$(( $(stat_of frames "$s") - 1 ))
  if (( count == last )); then still=$((still + 1)); else still=0; last=$count; kumasim_end=$(now); fi
done
s=$(stats)
lost=$(stat_of kafka_lost_messages "$s")
gaps=$(stat_of kafka_offset_gaps "$s")
errors=$(stat_of kafka_errors "$s")
decode_errors=$(stat_of decode_errors "$s")
rss=$(peak_rss_mib "$serve_pid")
# kumasim's CPU seconds (user + system) over the whole run, warm-up included.
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$serve_pid/stat")

# kcat -C exits after the warm-up message and N more; if messages were lost it
# cannot, so stop it once its output has not grown for 10 s. Its end is its
# output's last write (the final flush).
last=-1 still=0
while kill -0 "$kcat_c_pid" 2>/dev/null && (( still < 200 )); do
  sleep 0.05
  got=$(stat -c %s "$work/kcat.out")
  if (( got == last )); then still=$((still + 1)); else still=0; last=$got; fi
done
kill "$kcat_c_pid" 2>/dev/null || true
wait "$kcat_c_pid" 2>/dev/null || true
kcat_end=$(stat -c %.9Y "$work/kcat.out")
kcat_got=$(( $(wc -l <"$work/kcat.out") - 1 ))
# Offsets kcat skipped (the broker dropped them before kcat read them).
kcat_gaps=$(awk 'NR > 1 && $1 != prev + 1 { g++ } { prev = $1 } END { print g + 0 }' "$work/kcat.out")

rate() { echo "$1 / ($3 - $2)" | bc -l; }
produce_rate=$(rate "$n" "$start" "$produced_at")
kumasim_rate=$(rate "$count" "$start" "$kumasim_end")
kcat_rate=$(rate "$kcat_got" "$start" "$kcat_end")
printf '%-18s %10.0f msg/s  %6.1f MB/s\n' "kcat -P (producer)" "$produce_rate" \
  "$(echo "$produce_rate * 1024 / 1000000" | bc -l)"
printf '%-18s %10.0f msg/s  %6.1f MB/s  received %d of %d  kafka_lost_messages %d  kafka_offset_gaps %d  kafka_errors %d  decode_errors %d  peak RSS %s MiB  CPU %s s\n' \
  "kumasim" "$kumasim_rate" "$(echo "$kumasim_rate * 1024 / 1000000" | bc -l)" "$count" "$n" "$lost" "$gaps" \
  "$errors" "$decode_errors" "$rss" "$cpu"
printf '%-18s %10.0f msg/s  %6.1f MB/s  received %d of %d  offset gaps %d\n' "kcat -C (peer)" "$kcat_rate" \
  "$(echo "$kcat_rate * 1024 / 1000000" | bc -l)" "$kcat_got" "$n" "$kcat_gaps"
if (( kcat_got > 0 )); then printf 'kumasim / kcat -C: %.2fx\n' "$(echo "$kumasim_rate / $kcat_rate" | bc -l)"; fi
if [[ -s $work/serve.err ]]; then echo "kumasim stderr (first lines):"; head -n 5 "$work/serve.err"; fi
if grep -qv "Reached end of topic" "$work/kcat-c.err"; then echo "kcat -C stderr (first lines):"; grep -v "Reached end of topic" "$work/kcat-c.err" | head -n 5; fi
