#!/usr/bin/env bash
# Two builds' default import of the same generated posts, alternated on one machine (these
# machines are shared and noisy: only runs side by side compare). Prints, per run, the wall
# time, the CPU time (user + system), the peak memory and the posts/s of the whole command
# and of its posts stage (from the first batch to "stored every input").
#
#   BIN_A=/path/to/old BIN_B=/path/to/new N=1000000 ROUNDS=2 bash scripts/compare-import.sh
#
# Never a timed test: run by hand, figures go to BENCHMARKS.md with the machine.
set -euo pipefail
N="${N:-1000000}"
ROUNDS="${ROUNDS:-2}"
WORK="${WORK:-/var/tmp/waterline-compare-import}"
: "${BIN_A:?BIN_A: the first build's binary}"
: "${BIN_B:?BIN_B: the second build's binary}"
mkdir -p "$WORK"
if [ ! -f "$WORK/input/waterline.toml" ]; then
    "$BIN_B" generate --posts "$N" --seed 5 --out "$WORK/input" >/dev/null
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; $(date -u +%Y-%m-%dT%H:%MZ); $N posts"
for round in $(seq "$ROUNDS"); do
    for side in A B; do
        bin_var="BIN_$side"
        bin="${!bin_var}"
        ws="$WORK/ws-$side"
        rm -rf "$ws" && mkdir -p "$ws" && cp "$WORK/input/waterline.toml" "$ws/"
        /usr/bin/time -o "$WORK/time" -f "%e %U %S %M" "$bin" --log warn,waterline_app=info \
            --workspace "$ws" import "$WORK/input/*.jsonl" --json >/dev/null 2>"$WORK/log"
        read -r wall user system kb <"$WORK/time"
        posts_stage=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/log" | python3 -c '
import sys, datetime
times = {}
for line in sys.stdin:
    for key in ("read the account book", "stored every input"):
        if key in line:
            times[key] = datetime.datetime.fromisoformat(line.split()[0].rstrip("Z")[:26])
if len(times) == 2:
    print(round((times["stored every input"] - times["read the account book"]).total_seconds(), 1))
else:
    print("?")')
        python3 -c "
n, wall, cpu, stage = $N, $wall, $user + $system, '$posts_stage'
rate = f'{n / float(stage):,.0f}' if stage != '?' else '?'
print(f'round $round build $side: {wall:7.2f} s ({n / wall:,.0f} posts/s), CPU {cpu:6.1f} s, peak {$kb // 1024} MB; posts stage {stage} s ({rate} posts/s)')"
    done
done
