#!/usr/bin/env bash
# Analysis at scale (issue 22): generates N posts, imports them with every default annotation
# and topic assignment, then runs every report, the topic list, catalogue queries, an export
# and the dashboard's pages and API calls, each in a fresh process (the server: first call
# after a start, then warm), recording wall time and peak memory. Budgets (issue 22, item 5)
# are checked and every miss is printed as `BUDGET EXCEEDED`; the script exits 1 if any was.
#
#   bash scripts/bench-scale.sh                  # N=1000000
#   N=10000000 bash scripts/bench-scale.sh       # the issue's scale (about 40 minutes)
#   SKIP_BUILD=1 KEEP=1 bash scripts/bench-scale.sh
#
# Never a timed test: run by hand, figures go to BENCHMARKS.md with the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-1000000}"
TARGET="${CARGO_TARGET_DIR:-/var/tmp/waterline-target}"
BIN="${BIN:-$TARGET/release/waterline}"
WORK="${WORK:-/var/tmp/waterline-bench-scale-$N}"
PORT="${PORT:-18099}"
MEMORY_BUDGET_KB="${MEMORY_BUDGET_KB:-4194304}"   # 4 GB for every command, call and page
CLI_BUDGET_S="${CLI_BUDGET_S:-2}"                  # reports and catalogue queries from the CLI
FIRST_CALL_BUDGET_S="${FIRST_CALL_BUDGET_S:-2}"    # a page or API call after a restart
WARM_BUDGET_S="${WARM_BUDGET_S:-0.2}"              # the same call, warm
IMPORT_RATE_BUDGET="${IMPORT_RATE_BUDGET:-20000}"  # posts/s, default import (at 1M posts)

if [ -z "${SKIP_BUILD:-}" ]; then cargo build --release -p waterline --locked >&2; fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; $(uname -m); $(date -u +%Y-%m-%d)"
echo "binary: $BIN"
failures=0
fail() {
    echo "BUDGET EXCEEDED: $*"
    failures=$((failures + 1))
}
# `timed LABEL BUDGET_S CMD…`: runs CMD, prints wall seconds and peak memory, checks both.
timed() {
    local label="$1" budget="$2"
    shift 2
    local out
    /usr/bin/time -o "$WORK/.time" -f "%e %M" "$@" >/dev/null 2>&1 || fail "$label: exit status $?"
    out=$(tail -1 "$WORK/.time")
    local seconds="${out% *}" kb="${out#* }"
    printf '  %-46s %8.2f s %8.0f MB\n' "$label" "$seconds" "$((kb / 1024))"
    if [ "$kb" -gt "$MEMORY_BUDGET_KB" ]; then fail "$label: peak $((kb / 1024)) MB"; fi
    if [ -n "$budget" ] && python3 -c "import sys; sys.exit(0 if $seconds > $budget else 1)"; then
        fail "$label: $seconds s (budget $budget s)"
    fi
}

if [ ! -d "$WORK/.waterline" ]; then
    rm -rf "$WORK"
    start=$(date +%s.%N)
    "$BIN" generate --posts "$N" --seed 5 --out "$WORK" >/dev/null
    echo "generate: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
    # The import's phases with the peak memory of each (scripts/rss-phases.py).
    python3 scripts/rss-phases.py /usr/bin/time -o "$WORK/.time" -f "%e %M" \
        "$BIN" --log warn,waterline_app=info --workspace "$WORK" import "$WORK/*.jsonl" --json
    out=$(tail -1 "$WORK/.time")
    seconds="${out% *}" kb="${out#* }"
    rate=$(python3 -c "print(round($N / $seconds))")
    echo "import (annotations, topics, screening): $seconds s, $rate posts/s, peak $((kb / 1024)) MB"
    if [ "$kb" -gt "$MEMORY_BUDGET_KB" ]; then fail "import: peak $((kb / 1024)) MB"; fi
    if [ "$N" -le 1000000 ] && [ "$rate" -lt "$IMPORT_RATE_BUDGET" ]; then
        fail "import: $rate posts/s (budget $IMPORT_RATE_BUDGET)"
    fi
    echo "disk: $(du -sh "$WORK/.waterline" | cut -f1) under .waterline"
fi
echo "posts: $N in $WORK"

echo "CLI (each a fresh process):"
timed "report listening" "$CLI_BUDGET_S" "$BIN" --workspace "$WORK" report listening --json
timed "report gap" "$CLI_BUDGET_S" "$BIN" --workspace "$WORK" report gap --json
timed "report audit" "$CLI_BUDGET_S" "$BIN" --workspace "$WORK" report audit --json
timed "topics list" "$CLI_BUDGET_S" "$BIN" --workspace "$WORK" topics list --json
timed "query posts by day (first after import)" "$CLI_BUDGET_S" "$BIN" --workspace "$WORK" query --metrics posts --by day --json
timed "query engagement by day, platform" "$CLI_BUDGET_S" "$BIN" --workspace "$WORK" query --metrics posts,engagements,applause_rate,net_sentiment --by day,platform --json
timed "query topic share by side" "$CLI_BUDGET_S" "$BIN" --workspace "$WORK" query --metrics topic_share --by side --json
timed "query response times" "$CLI_BUDGET_S" "$BIN" --workspace "$WORK" query --metrics inbound,response_rate,first_response_hours --json
timed "status" "$CLI_BUDGET_S" "$BIN" --workspace "$WORK" status --json
# A period no prepared report holds: the last 60 days (the prepared ones are all time and the
# last 90 days), computed by the engine on the spot.
last=$("$BIN" --workspace "$WORK" status --json | python3 -c "import json, sys; print((json.load(sys.stdin).get('latest_post') or '')[:10])")
if [ -n "$last" ]; then
    from=$(python3 -c "import datetime; print(datetime.date.fromisoformat('$last') - datetime.timedelta(days=59))")
    # Set the kept reports aside (a rerun would find these ones kept), then put them back for
    # the server's pages.
    reports="$WORK/.waterline/cache/reports"
    [ -d "$reports" ] && mv "$reports" "$reports.aside"
    timed "report listening --from $from (not prepared)" "" "$BIN" --workspace "$WORK" report listening --from "$from" --json
    timed "report gap --from $from (not prepared)" "" "$BIN" --workspace "$WORK" report gap --from "$from" --json
    timed "report audit --from $from (not prepared)" "" "$BIN" --workspace "$WORK" report audit --from "$from" --json
    rm -rf "$reports"
    [ -d "$reports.aside" ] && mv "$reports.aside" "$reports"
fi
timed "export parquet (streams)" "" "$BIN" --workspace "$WORK" export --format parquet --out "$WORK/export.parquet"
rm -f "$WORK/export.parquet"

echo "server (first call after a start, then warm; RSS of the server at the end):"
"$BIN" --workspace "$WORK" serve --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$PORT/api/v1/status" >/dev/null 2>&1 && break
    sleep 0.5
done
call() {
    local path="$1"
    local first warm
    first=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT$path")
    warm=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT$path")
    printf '  %-46s first %s s (HTTP %s), warm %s s\n' "$path" "${first#* }" "${first% *}" "${warm#* }"
    [ "${first% *}" = 200 ] || fail "$path: HTTP ${first% *}"
    python3 -c "import sys; sys.exit(0 if ${first#* } > $FIRST_CALL_BUDGET_S else 1)" && fail "$path first call ${first#* } s"
    python3 -c "import sys; sys.exit(0 if ${warm#* } > $WARM_BUDGET_S else 1)" && fail "$path warm ${warm#* } s"
    return 0
}
for path in / /listening /gap /audit /share-of-voice /audience /responsiveness /baselines \
    /alerts /pharmacovigilance /metrics /api/v1/status "/api/v1/reports/listening" "/api/v1/reports/gap" "/api/v1/reports/audit" \
    "/api/v1/posts?per_page=50" "/api/v1/posts?q=side%20effects&per_page=50" \
    "/posts" "/posts?unanswered=1" "/posts?interacting=1&period=all"; do
    call "$path"
done
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$server/status")
echo "  server peak RSS: $((rss / 1024)) MB"
if [ "$rss" -gt "$MEMORY_BUDGET_KB" ]; then fail "server: peak $((rss / 1024)) MB"; fi
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
trap - EXIT
[ -n "${KEEP:-}" ] || echo "(workspace kept in $WORK; remove it when done)"
echo "budgets exceeded: $failures"
[ "$failures" -eq 0 ]
