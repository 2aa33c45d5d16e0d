#!/usr/bin/env bash
# contract.preload benchmark: generates a CSV of about MB megabytes (10
# columns, ~0.1% planted bad rows) with awk into a temp project with a Glue
# catalog entry and a contract of 10 row rules, runs contract.preload with
# `weir run` of a one-step pipeline, and prints MB/s, rows/s and peak RSS.
# The input is read twice (the lake reader parses it, a raw pass keeps the
# row text for the byte-identical valid output); both passes are timed.
#
#   bench/preload.sh [BUILD_DIR] [MB]        (defaults: build, 1024)
#
# Not a test: the machine is shared and noisy; read the figures, don't assert.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
build=${1:-build}
mb=${2:-1024}
weir="$(cd "$build" && pwd)/bin/weir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

mkdir -p catalog/bench incoming lake/contracts
# ~97 bytes a row
rows=$(awk -v mb="$mb" 'BEGIN { printf "%d", mb * 1048576 / 97 }')
awk -v n="$rows" 'BEGIN {
    srand(7)
    split("SUCCESS FAILED PENDING", st, " ")
    split("web app branch agent", ch, " ")
    print "id,loan_id,customer_id,payment_date,emi_amount,status,channel,email,created_at,note"
    for (i = 0; i < n; i++) {
        amount = sprintf("%.2f", rand() * 20000)
        status = st[1 + i % 3]
        loan = sprintf("L%06d", i % 900000)
        if (i % 1000 == 17) { amount = "-" amount }        # emi_amount.min
        if (i % 1000 == 503) { status = "UNKNOWN" }         # status.allowed_values
        if (i % 5000 == 999) { loan = "" }                  # loan_id.not_null
        printf "%d,%s,C%05d,2026-%02d-%02d,%s,%s,%s,u%d@example.com,2026-10-03 0%d:%02d:00,ok\n",
               i, loan, i % 50000, 1 + i % 12, 1 + i % 28, amount, status, ch[1 + i % 4],
               i % 100000, i % 10, i % 60
    }
}' > incoming/batch.csv
bytes=$(stat -c %s incoming/batch.csv)

cat > catalog/bench/payments.json <<'EOF'
{"Table": {"Name": "payments", "DatabaseName": "bench",
  "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
  "StorageDescriptor": {"Columns": [
      {"Name": "id", "Type": "bigint"}, {"Name": "loan_id", "Type": "string"},
      {"Name": "customer_id", "Type": "string"}, {"Name": "payment_date", "Type": "date"},
      {"Name": "emi_amount", "Type": "double"}, {"Name": "status", "Type": "string"},
      {"Name": "channel", "Type": "string"}, {"Name": "email", "Type": "string"},
      {"Name": "created_at", "Type": "timestamp"}, {"Name": "note", "Type": "string"}],
    "Location": "incoming/", "SerdeInfo": {"Parameters": {"field.delim": ","}}},
  "PartitionKeys": []}}
EOF
# 10 row rules over 8 columns: every kind the hot loop has
cat > lake/contracts/bench.payments.json <<'EOF'
{"data_quality": {"table_name": "payments", "columns": {
  "loan_id": {"type": "string", "rules": [{"type": "not_null"},
      {"type": "pattern", "regex": "^L[0-9]{6}$"}]},
  "customer_id": {"type": "string", "rules": [{"type": "not_null"}]},
  "payment_date": {"type": "date", "rules": [{"type": "type_conformity"}]},
  "emi_amount": {"type": "double", "rules": [{"type": "min", "value": 0},
      {"type": "range_soft", "min": 0, "max": 25000}]},
  "status": {"type": "string", "rules": [{"type": "allowed_values",
      "values": ["SUCCESS", "FAILED", "PENDING"]}]},
  "channel": {"type": "string", "rules": [{"type": "disallowed_values", "values": ["fax", "telex"]}]},
  "email": {"type": "string", "rules": [{"type": "length_range", "min": 5, "max": 64}]}},
 "table_level_checks": [{"type": "check", "expression": "emi_amount >= 0 OR status = 'FAILED'"}]}}
EOF
cat > weir.yaml <<'EOF'
version: 1
workspace: .weir
default_target: local
targets:
  local: { catalog: lake, engine: lake, store: fs }
EOF
cat > preload.yaml <<'EOF'
version: 1
name: bench-preload
steps:
  - id: preload
    uses: contract.preload
    with:
      input: incoming/batch.csv
      table: bench.payments
      contract_uri: contracts/bench.payments.json
  - id: save
    needs: [preload]
    uses: core.json_write
    with: { path: result.json, value: "${{ steps.preload.output }}" }
EOF


# flush the generator's writes and warm the page cache, so the figure is the
# engine's, not the disk's (the valid output, ~1 GB, is still written and
# fsynced inside the measurement)
sync
cat incoming/batch.csv > /dev/null
measure "$weir" run preload.yaml || { echo "weir run failed:"; cat run.out; exit 1; }
printf 'weir contract.preload: %d rows, %.1f MB, 10 rules in %s s: %.1f MB/s, %.0f rows/s, peak RSS %.1f MB\n' \
    "$rows" "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$secs" \
    "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { print b / 1048576 / s }')" \
    "$(awk -v n="$rows" -v s="$secs" 'BEGIN { print n / s }')" \
    "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')"
python3 -c 'import json; d = json.load(open("result.json")); print("  valid", d["valid_rows"], "| quarantined", d["quarantined_rows"], "| per_rule", {k: v for k, v in d["per_rule"].items() if v})' 2>/dev/null || true
