#!/usr/bin/env bash
# cli/test_profile: `weir profile` on a copy of the example project: a catalog
# table (--json and the readable table), a folder of partitions and a single
# file not in the catalog (definition inferred on the fly, nothing written),
# --partition, and the usage errors (exit 2, with a message naming the problem).
. "$(dirname "$0")/lib.sh"
new_project
cp "$WEIR_SOURCE_DIR/examples/weir.yaml" .
cp -R "$WEIR_SOURCE_DIR/examples/catalog" .
mkdir lake
cp -R "$WEIR_SOURCE_DIR/examples/lake/example-lake" lake/
catalog_before=$(find catalog -type f | sort)

check "a catalog table, --json: the profile JSON"
assert_exit 0 weir profile analytics_db.loan_repayment_fact --json
assert_empty "$ERR"
assert_eq '{"files":3,"rows":120,"status":3,"table":"analytics_db.loan_repayment_fact"}' \
    "$(json_query "$OUT" 'return { table = input.doc.table, rows = input.doc.row_count,
  files = input.doc.files, status = input.doc.column_stats.status.distinct_count }')" "profile"

check "a catalog table, readable: one line per column with its stats"
assert_exit 0 weir profile analytics_db.loan_repayment_fact
assert_contains "$OUT" "analytics_db.loan_repayment_fact: 120 rows in 3 files"
assert_contains "$OUT" "SUCCESS 105, PENDING 9, FAILED 6"
grep -q '^emi_amount  *double  *0\.0%  *120  *504\.55  *19865\.69 ' "$OUT" ||
    fail "no emi_amount line$(show stdout "$OUT")"

check "--partition selects partitions (repeat a key for several values)"
assert_exit 0 weir profile analytics_db.loan_repayment_fact --json -p dt=2026-10-01 --partition dt=2026-10-03
assert_eq '{"files":2,"rows":80}' \
    "$(json_query "$OUT" 'return { rows = input.doc.row_count, files = input.doc.files }')" "partitions"

check "a folder of partitions, not in the catalog: inferred, profiled, nothing written"
assert_exit 0 weir profile lake/example-lake/analytics_db/loan_repayment_fact --json
assert_eq '{"dt":"date","emi":"double","rows":120}' \
    "$(json_query "$OUT" 'local c = input.doc.column_stats
return { rows = input.doc.row_count, dt = c.dt.declared_type, emi = c.emi_amount.declared_type }')" "folder"
assert_eq "$catalog_before" "$(find catalog -type f | sort)" "catalog files after profiling a folder"

check "one JSON Lines file, from another directory"
(cd lake && assert_exit 0 weir profile --config ../weir.yaml example-lake/raw_db/raw_payments/dt=2026-10-01/part-000.json)
assert_contains "$OUT" "42 rows in 1 file"
assert_contains "$OUT" "payment_status"

check "neither a table nor a path: exit 2, saying so"
assert_exit 2 weir profile analytics_db.no_such_table
assert_contains "$ERR" "'analytics_db.no_such_table' is neither a table of the catalog"
assert_contains "$ERR" "weir catalog list analytics_db"
assert_empty "$OUT"
assert_exit 2 weir profile no/such/dir
assert_contains "$ERR" "'no/such/dir' is neither a table of the catalog"

check "usage errors: exit 2"
assert_exit 2 weir profile
assert_contains "$ERR" "usage: weir profile"
assert_exit 2 weir profile analytics_db.loan_repayment_fact extra
assert_exit 2 weir profile analytics_db.loan_repayment_fact --partition dt
assert_contains "$ERR" "--partition wants KEY=VALUE"
assert_exit 2 weir profile analytics_db.loan_repayment_fact --top 0
assert_exit 0 weir profile --help
assert_contains "$OUT" "usage: weir profile DATABASE.TABLE|PATH"
assert_empty "$ERR"

echo "cli/test_profile: ok"
