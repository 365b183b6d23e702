#!/usr/bin/env bash
# Idle CPU of `checkd serve` with its sampler stopped, over 30 s (utime+stime ticks from /proc).
# Usage: bash bench/idle_cpu.sh [PORT]   (run from the repository root after `make`)
set -u
P=${1:-18771}
D=$(mktemp -d)
"$(dirname "$0")/../.venv/bin/python" -m checkd serve --data-dir $D --port $P --interval 60 > $D/log 2>&1 &
PID=$!
for i in $(seq 60); do curl -sf localhost:$P/healthz >/dev/null && break; sleep 0.5; done
curl -s -X POST -H "Authorization: Bearer $(cat $D/api-token)" localhost:$P/api/v2/sampler/stop >/dev/null
sleep 3
a=$(awk '{print $14+$15}' /proc/$PID/stat); sleep 30; b=$(awk '{print $14+$15}' /proc/$PID/stat)
echo "idle ticks over 30 s: $((b-a)) (1 tick = 10 ms) => $(echo "scale=3; ($b-$a)/30" | bc) % of a core"
kill $PID; wait $PID 2>/dev/null; rm -rf $D
