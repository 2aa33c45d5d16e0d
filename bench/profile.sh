#!/usr/bin/env bash
# engine.profile benchmark: generates a CSV of N rows (id, category with 20
# values, amount, email, date) with awk into a temp project with a Glue
# catalog entry, profiles it with `weir run` of a one-step pipeline, and
# prints rows/s, MB/s and peak RSS. If python3 has pandas, also times
# describe() + nunique() on the same file as a peer ratio.
#
#   bench/profile.sh [BUILD_DIR] [N]        (defaults: build, 1000000)
#
# Not a test: the machine is shared and noisy; read the figures, don't assert.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
build=${1:-build}
n=${2:-1000000}
weir="$(cd "$build" && pwd)/bin/weir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

mkdir -p catalog/bench data/events
awk -v n="$n" 'BEGIN {
    srand(42)
    print "id,category,amount,email,day"
    for (i = 0; i < n; i++) {
        printf "%d,cat%02d,%.2f,user%d@example.com,2026-%02d-%02d\n", i, int(rand() * 20),
               rand() * 10000, int(rand() * 200000), 1 + i % 12, 1 + i % 28
    }
}' > data/events/part-000.csv
bytes=$(stat -c %s data/events/part-000.csv)

cat > catalog/bench/events.json <<'EOF'
{"Table": {"Name": "events", "DatabaseName": "bench",
  "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
  "StorageDescriptor": {"Columns": [
      {"Name": "id", "Type": "bigint"}, {"Name": "category", "Type": "string"},
      {"Name": "amount", "Type": "double"}, {"Name": "email", "Type": "string"},
      {"Name": "day", "Type": "date"}],
    "Location": "data/events/", "SerdeInfo": {"Parameters": {"field.delim": ","}}},
  "PartitionKeys": []}}
EOF
cat > weir.yaml <<'EOF'
version: 1
workspace: .weir
default_target: local
targets:
  local: { catalog: lake, engine: lake, store: fs }
EOF
cat > profile.yaml <<'EOF'
version: 1
name: bench-profile
steps:
  - id: profile
    uses: engine.profile
    with: { table: bench.events }
  - id: save
    needs: [profile]
    uses: core.json_write
    with: { path: profile.json, value: "${{ steps.profile.output }}" }
EOF


measure "$weir" run profile.yaml || { echo "weir run failed:"; cat run.out; exit 1; }
weir_secs=$secs
printf 'weir engine.profile: %d rows, %.1f MB in %s s: %.0f rows/s, %.1f MB/s, peak RSS %.1f MB\n' \
    "$n" "$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" "$secs" \
    "$(awk -v n="$n" -v s="$secs" 'BEGIN { print n / s }')" \
    "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { print b / 1e6 / s }')" \
    "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')"
python3 -c 'import json; d = json.load(open("profile.json")); c = d["column_stats"]; print("  row_count", d["row_count"], "| distinct id", c["id"]["distinct_count"], "| amount p50/p95/p99", c["amount"]["p50"], c["amount"]["p95"], c["amount"]["p99"])' 2>/dev/null || true

if python3 -c 'import pandas' 2>/dev/null; then
    cat > pandas_profile.py <<'PY'
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1])
df.describe(include="all")
df.nunique()
df.quantile([0.5, 0.95, 0.99], numeric_only=True)
PY
    measure python3 pandas_profile.py data/events/part-000.csv || { cat run.out; exit 1; }
    printf 'pandas describe+nunique+quantile: %s s, peak RSS %.1f MB; weir is %.2fx faster\n' "$secs" \
        "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')" \
        "$(awk -v a="$secs" -v b="$weir_secs" 'BEGIN { print a / b }')"
else
    echo "pandas: not installed (python3 -c 'import pandas' failed); peer comparison skipped"
fi
