#!/usr/bin/env bash
# Metric query benchmark (issue #5): generates N posts, imports and annotates them, then runs
# the queries the dashboard needs through `waterline query --timing` (each a fresh process:
# open the store, plan, run; the median of RUNS) and one raw SQL statement through
# `waterline sql --timing` and DuckDB (warm, on the Parquet export) side by side.
#
#   bash scripts/bench-metrics.sh           # N=1000000
#   N=10000000 bash scripts/bench-metrics.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-1000000}"
RUNS="${RUNS:-5}"
TARGET="${CARGO_TARGET_DIR:-/var/tmp/waterline-target}"
BIN="$TARGET/release/waterline"
WORK="${WORK:-/var/tmp/waterline-bench-metrics-$N}"
VENV="${VENV:-/var/tmp/waterline-bench-venv}"

if [ -z "${SKIP_BUILD:-}" ]; then cargo build --release -p waterline --locked >&2; fi
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet duckdb pytz
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; $(uname -m)"
if [ ! -d "$WORK/.waterline" ]; then
    rm -rf "$WORK"
    "$BIN" generate --posts "$N" --seed 1 --out "$WORK" >/dev/null
    start=$(date +%s.%N)
    "$BIN" --workspace "$WORK" import "$WORK/*.jsonl" --json >/dev/null
    echo "import with enrichment: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
fi
echo "posts: $N in $WORK"

median_ms() {
    # Runs `waterline query … --timing` RUNS times; prints the median of the reported times.
    local times=()
    for _ in $(seq "$RUNS"); do
        times+=("$("$BIN" --workspace "$WORK" query "$@" --timing 2>&1 >/dev/null | sed -n 's/^query: \([0-9.]*\) ms$/\1/p')")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

first=$( { /usr/bin/time -f "%e" "$BIN" --workspace "$WORK" query --metrics posts --by day >/dev/null; } 2>&1 | tail -1)
echo "first query after the import (builds the daily rollup): $first s; rollup $(du -h "$WORK/.waterline/rollup.parquet" | cut -f1)"
echo "query (median of $RUNS runs, ms; each a fresh process):"
echo "  day x platform series (rollup):         $(median_ms --metrics posts,engagements,applause_rate,net_sentiment --by day,platform)"
echo "  top-20 brand and competitor accounts (rollup): $(median_ms --metrics posts,engagements,conversation_rate --by account --where side=own,competitor --limit 20)"
echo "  share-of-voice table (rollup):          $(median_ms --metrics mentions,share_of_voice_mentions,share_of_voice_engagement,share_of_voice_positive,share_of_voice_negative --by panel)"
echo "  response-time summary (scan):           $(median_ms --metrics inbound,response_rate,first_response_hours,first_response_hours_p90,first_response_business_hours)"
echo "  day x platform series, --scan:          $(median_ms --metrics posts,engagements,applause_rate,net_sentiment --by day,platform --scan)"
echo "  median engagement rate by week (scan):  $(median_ms --metrics engagement_rate_followers --by week)"

SQL="SELECT date_trunc('day', created_at) AS day, platform, count(*) AS posts, sum(likes) AS likes, sum(shares) AS shares FROM posts GROUP BY 1, 2 ORDER BY 1, 2"
[ -f "$WORK/posts.parquet" ] || "$BIN" --workspace "$WORK" export --format parquet --out "$WORK/posts.parquet" >/dev/null
for run in 1 2 3; do
    ours=$("$BIN" --workspace "$WORK" sql "$SQL" --timing 2>&1 >/dev/null | sed -n 's/^warm execution: \([0-9.]*\) ms$/\1/p')
    theirs=$("$VENV/bin/python" - "$WORK/posts.parquet" "$SQL" <<'PY'
import sys, time, duckdb
con = duckdb.connect()
con.execute(f"CREATE VIEW posts AS SELECT * FROM read_parquet('{sys.argv[1]}')")
sql = sys.argv[2]
con.execute(sql).fetchall()
start = time.perf_counter()
con.execute(sql).fetchall()
print(round((time.perf_counter() - start) * 1000, 1))
PY
)
    echo "raw SQL run $run: waterline $ours ms, duckdb $theirs ms, ratio $(python3 -c "print(round($ours / $theirs, 2))")"
done
