#!/usr/bin/env bash
# Import and query benchmark (issue #2): generates N posts, imports them with the release
# binary without annotations (`--no-enrich`: the foundation's speed; scripts/bench-enrich.sh
# measures the enrichment chain) for throughput and peak memory, exports Parquet, and runs the same group-by query
# through `waterline sql --timing` and DuckDB (the Python package, installed here into a
# throw-away virtual environment, never a dependency of the product) side by side.
#
#   bash scripts/bench-import.sh            # N=1000000
#   N=200000 bash scripts/bench-import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-1000000}"
TARGET="${CARGO_TARGET_DIR:-/var/tmp/waterline-target}"
BIN="$TARGET/release/waterline"
WORK="${WORK:-$(mktemp -d /var/tmp/waterline-bench.XXXXXX)}"
VENV="${VENV:-/var/tmp/waterline-bench-venv}"

if [ -z "${SKIP_BUILD:-}" ]; then cargo build --release -p waterline --locked >&2; fi
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet duckdb pytz
fi

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; $(uname -m)"
echo "posts: $N; work dir: $WORK"
rm -rf "$WORK/scenario"
"$BIN" generate --posts "$N" --seed 1 --out "$WORK/scenario" >/dev/null
du -sh "$WORK/scenario" | awk '{ print "input size: " $1 }'

measure() {
    # Prints wall seconds and peak RSS (MiB) of a command, then its stdout.
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >"$WORK/out.txt"
    read -r seconds kilobytes <"$WORK/time.txt"
    echo "$seconds $((kilobytes / 1024))"
}

read -r seconds mib < <(measure "$BIN" --workspace "$WORK/scenario" import "$WORK/scenario/*.jsonl" --json --no-enrich)
read_count=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["read"])' "$WORK/out.txt")
echo "import: $read_count records in $seconds s = $(python3 -c "print(round($read_count / $seconds))") posts/s, peak RSS $mib MiB"

read -r seconds mib < <(measure "$BIN" --workspace "$WORK/scenario" import "$WORK/scenario/*.jsonl" --json --no-enrich)
echo "re-import (all unchanged): $seconds s, peak RSS $mib MiB"

"$BIN" --workspace "$WORK/scenario" export --format parquet --out "$WORK/posts.parquet" >/dev/null
du -h "$WORK/posts.parquet" | awk '{ print "parquet export: " $1 }'

SQL="SELECT date_trunc('day', created_at) AS day, platform, count(*) AS posts, sum(likes) AS likes, sum(shares) AS shares FROM posts GROUP BY 1, 2 ORDER BY 1, 2"
echo "query: $SQL"
for run in 1 2 3; do
    waterline_ms=$("$BIN" --workspace "$WORK/scenario" sql "$SQL" --timing 2>&1 >/dev/null | sed -n 's/warm execution: \([0-9.]*\) ms/\1/p')
    duckdb_ms=$("$VENV/bin/python" - "$WORK/posts.parquet" "$SQL" <<'PY'
import sys, time, duckdb
path, sql = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(f"CREATE VIEW posts AS SELECT * FROM read_parquet('{path}')")
con.execute(sql).fetchall()
start = time.perf_counter()
con.execute(sql).fetchall()
print(round((time.perf_counter() - start) * 1000, 1))
PY
)
    echo "run $run: waterline sql warm ${waterline_ms} ms, duckdb warm ${duckdb_ms} ms, ratio $(python3 -c "print(round($waterline_ms / $duckdb_ms, 2))")"
done
