#!/usr/bin/env bash
# Instructions the bench worker spends draining N pre-filled tasks, counted by valgrind's callgrind:
# the same count for the same build and input whatever else the machine is doing, so two builds can be
# compared on a busy box where wall-clock figures cannot. Per-task cost with start-up removed:
# (count at 3000 - count at 1000) / 2000.
#
#   npm run bench -- --quick --no-anchors --only floor --against-rev HEAD~1   # builds bench/.build and bench/.build-against
#   bench/callgrind-worker.sh bench/.build 1000 && bench/callgrind-worker.sh bench/.build 3000
#   bench/callgrind-worker.sh bench/.build-against 1000 && bench/callgrind-worker.sh bench/.build-against 3000
#
# Env: BENCH_REDIS_PORT (default 6379), BENCH_REDIS_DB (default 12). Only keys under `cgbench:<pid>:`
# are used, and they are deleted at the end. Prints "<build> <n> <instructions>".
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:?build dir, e.g. bench/.build}
N=${2:?number of tasks}
PORT=${BENCH_REDIS_PORT:-6379}
DB=${BENCH_REDIS_DB:-12}
PREFIX="cgbench:$$:"
R() { redis-cli -p "$PORT" -n "$DB" "$@"; }
export BENCH_CFG="{\"brokerUrl\":\"redis://127.0.0.1:$PORT/$DB\",\"resultBackend\":\"redis://127.0.0.1:$PORT/$DB\",\"queue\":\"q\",\"keyPrefix\":\"$PREFIX\",\"concurrency\":100,\"prefetchMultiplier\":4}"
OUT=$(mktemp -d)
cleanup() {
  R --scan --pattern "${PREFIX}*" | xargs -r -n 500 redis-cli -p "$PORT" -n "$DB" del >/dev/null
  rm -rf "$OUT"
}
trap cleanup EXIT
node -r "./$BUILD/paths.js" "$BUILD/bench/client.js" prefill --n "$N" >/dev/null
# The worker exits (and callgrind writes its counts) on SIGINT.
echo "process.on('SIGINT', () => process.exit(0));" >"$OUT/exit.js"
valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" \
  node -r "$OUT/exit.js" -r "./$BUILD/paths.js" "$BUILD/bench/worker.js" >/dev/null 2>"$OUT/err" &
W=$!
# Done when the queue and unacked are empty and every result is stored.
until [ "$(R llen "${PREFIX}q")" = 0 ] && [ "$(R hlen "${PREFIX}unacked")" = 0 ] &&
  [ "$(R --scan --pattern "${PREFIX}celery-task-meta-*" | wc -l)" = "$N" ]; do
  kill -0 "$W" 2>/dev/null || { cat "$OUT/err" >&2; exit 1; }
  sleep 1
done
kill -INT "$W"
wait "$W" || true
echo "$BUILD $N $(grep -m1 '^totals:\|^summary:' "$OUT/cg.out" | awk '{print $2}')"
