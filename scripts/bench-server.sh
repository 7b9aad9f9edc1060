#!/usr/bin/env bash
# Dashboard and API benchmark (issue #6): serves a workspace of N generated posts with the
# release binary and measures, on loopback,
#   - page loads (each page RUNS times in turn; median and p90 of curl's total time),
#   - API metric queries (each RUNS times; median), first (uncached) and repeated,
#   - 200 concurrent API clients for a minute (wrk, a fixed mix of metric queries),
#   - live latency: ingest call to the `posts` event on an open event stream,
#   - the server's resident memory at the end.
#
#   bash scripts/bench-server.sh              # N=1000000 (reuses scripts/bench-metrics.sh's workspace)
#   N=10000000 bash scripts/bench-server.sh   # report pages skipped (they hold every post in memory)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-1000000}"
RUNS="${RUNS:-15}"
PORT="${PORT:-18181}"
LOAD_SECONDS="${LOAD_SECONDS:-60}"
TARGET="${CARGO_TARGET_DIR:-/var/tmp/waterline-target}"
BIN="$TARGET/release/waterline"
WORK="${WORK:-/var/tmp/waterline-bench-metrics-$N}"
command -v wrk >/dev/null || { echo "needs wrk (apt install wrk)" >&2; exit 1; }
if [ -z "${SKIP_BUILD:-}" ]; then cargo build --release -p waterline --locked >&2; fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; $(uname -m)"
if [ ! -d "$WORK/.waterline" ]; then
    rm -rf "$WORK"
    "$BIN" generate --posts "$N" --seed 1 --out "$WORK" >/dev/null
    "$BIN" --workspace "$WORK" import "$WORK/*.jsonl" --json >/dev/null
fi
echo "posts: $N in $WORK"
TOKEN=$("$BIN" --workspace "$WORK" token create --role analyst --name bench 2>/dev/null)
log=$(mktemp)
started=$(date +%s.%N)
"$BIN" --workspace "$WORK" serve --listen "127.0.0.1:$PORT" >"$log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$log"' EXIT
until grep -q "serving on" "$log"; do sleep 0.2; kill -0 $SERVER 2>/dev/null || { cat "$log"; exit 1; }; done
echo "server ready in $(python3 -c "print(round($(date +%s.%N) - $started, 2))") s (opens the store, registers the caches)"
BASE="http://127.0.0.1:$PORT"

stats() { sort -n | awk '{ a[NR] = $1 } END { printf "%.1f %.1f\n", a[int((NR + 1) / 2)] * 1000, a[int(NR * 0.9 + 0.5)] * 1000 }'; }

PAGES="/ /share-of-voice /audience /responsiveness /baselines /alerts /metrics"
if [ "$N" -le 2000000 ]; then PAGES="$PAGES /listening /gap /audit"; fi
echo "page loads (ms; first load, then median and p90 of $RUNS):"
for page in $PAGES; do
    first=$(curl -s -o /dev/null -w "%{time_total}" "$BASE$page")
    read -r median p90 < <(for _ in $(seq "$RUNS"); do curl -s -o /dev/null -w "%{time_total}\n" "$BASE$page"; done | stats)
    printf "  %-18s first %8.1f   median %7s   p90 %7s\n" "$page" "$(python3 -c "print($first * 1000)")" "$median" "$p90"
done

echo "API queries (ms; first, then median of $RUNS repeated):"
while IFS= read -r body; do
    first=$(curl -s -o /dev/null -w "%{time_total}" -d "$body" "$BASE/api/v1/query")
    read -r median _ < <(for _ in $(seq "$RUNS"); do curl -s -o /dev/null -w "%{time_total}\n" -d "$body" "$BASE/api/v1/query"; done | stats)
    printf "  first %7.1f  median %6s  %s\n" "$(python3 -c "print($first * 1000)")" "$median" "$body"
done <<'QUERIES'
{"metrics": ["posts", "engagements", "applause_rate", "net_sentiment"], "by": ["day", "platform"], "from": "2026-07-01"}
{"metrics": ["mentions", "share_of_voice_mentions", "share_of_voice_engagement", "share_of_voice_positive"], "by": ["panel"], "where": ["language=fr"]}
{"metrics": ["inbound", "response_rate", "first_response_hours", "first_response_hours_p90"], "by": ["account"]}
{"metrics": ["interacting_audience", "new_authors", "returning_authors"], "by": ["month"]}
{"metrics": ["posts"], "by": ["week", "side"], "where": ["platform=mastodon"]}
QUERIES
read -r median _ < <(for _ in $(seq "$RUNS"); do curl -s -o /dev/null -w "%{time_total}\n" "$BASE/api/v1/posts?per_page=50&side=audience"; done | stats)
echo "  posts, newest 50 audience posts: median $median ms"

echo "load: 200 connections, ${LOAD_SECONDS} s, wrk -t2 -c200 (mix of 6 metric queries):"
wrk -t2 -c200 -d"${LOAD_SECONDS}s" --timeout 30s --latency -s scripts/wrk-queries.lua "$BASE" \
    | grep -E "Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx|Socket errors" | sed 's/^/  /'

echo "live: ingest call to the posts event on an open stream (60 posts, one a second):"
python3 scripts/bench-live.py "127.0.0.1:$PORT" "$TOKEN" "${LIVE_POSTS:-60}" "${LIVE_INTERVAL:-1}" | sed 's/^/  /'
echo "server memory at the end: $(ps -o rss= -p $SERVER | awk '{ printf "%.0f MB", $1 / 1024 }')"
