#!/usr/bin/env bash
# cli/test_contract: `weir contract export|test` and pipelines/postload.yaml on a
# copy of the example project with a hand-written contract and tests: every
# export format, --output, a contract file instead of a table, a clean day
# (exit 0, summary table, results in the store), a day that fails a check
# (exit 1, the failing test named), reruns writing the same bytes, and the
# usage errors.
. "$(dirname "$0")/lib.sh"
new_project
cp "$WEIR_SOURCE_DIR/examples/weir.yaml" .
cp -R "$WEIR_SOURCE_DIR/examples/catalog" .
mkdir -p lake/contracts lake/tests
cp -R "$WEIR_SOURCE_DIR/examples/lake/example-lake" lake/
T=analytics_db.loan_repayment_fact
cat >lake/contracts/$T.json <<'EOF'
{"table_name": "loan_repayment_fact", "primary_key": ["loan_id", "payment_date"],
 "columns": {
  "loan_id": {"type": "string", "rules": [{"type": "not_null"},
     {"type": "foreign_key", "ref_table": "dim_loan", "ref_column": "loan_id"}]},
  "emi_amount": {"type": "double", "rules": [{"type": "min", "value": 0}]},
  "status": {"type": "string", "rules": [{"type": "allowed_values", "values": ["SUCCESS", "FAILED", "PENDING"]}]}},
 "table_level_checks": [{"type": "grain_unique", "grain": ["loan_id", "payment_date"]},
  {"type": "row_count_range", "min": 30}]}
EOF
cat >lake/tests/$T.json <<'EOF'
{"tests": [
 {"name": "not_null_loan_id", "stage": "post_load",
  "sql": "SELECT COUNT(*) AS n FROM analytics_db.loan_repayment_fact WHERE loan_id IS NULL"},
 {"name": "emi_non_negative", "stage": "pre_load", "rule": "emi_amount >= 0"}]}
EOF

check "export: every format from the table's contract in the store"
for f in pyspark dqdl sql odcs dbt soda; do
    assert_exit 0 weir contract export $T --format $f
    assert_empty "$ERR"
done
assert_exit 0 weir contract export $T --format dqdl
assert_contains "$OUT" 'IsComplete "loan_id"'
assert_contains "$OUT" 'ColumnValues "status" in ["SUCCESS", "FAILED", "PENDING"]'
assert_contains "$OUT" 'IsPrimaryKey "loan_id" "payment_date"'

check "export --output FILE, from a contract file"
assert_exit 0 weir contract export lake/contracts/$T.json --format dbt --output schema.yml
assert_empty "$OUT"
assert_contains schema.yml "accepted_values"
assert_contains schema.yml "relationships"

check "export: unknown format is invalid (3), missing --format is usage (2)"
assert_exit 3 weir contract export $T --format great_expectations
assert_contains "$ERR" "unknown format"
assert_exit 2 weir contract export $T
assert_exit 2 weir contract nothing $T

check "test: a clean day passes, prints the table and writes results"
assert_exit 0 weir contract test $T --date 2026-10-02
assert_contains "$OUT" "passed 5, failed 0, errors 0"
assert_contains "$OUT" "loan_id.foreign_key"
[ -f "lake/results/$T/2026-10-02.json" ] || fail "no results file"
cp "lake/results/$T/2026-10-02.json" first.json
assert_exit 0 weir contract test $T --date 2026-10-02
cmp -s first.json "lake/results/$T/2026-10-02.json" || fail "rerun changed the results bytes"

check "test: a day with no rows fails row_count_range (exit 1), results still written"
assert_exit 1 weir contract test $T --date 2026-10-09
assert_contains "$OUT" "fail    error row_count_range"
assert_contains "$ERR" "1 error-severity test failed: row_count_range"
[ -f "lake/results/$T/2026-10-09.json" ] || fail "no results file for the failing day"

check "pipelines/postload.yaml: summary on a clean day, exit 1 on a failing one"
assert_exit 0 weir run "$WEIR_SOURCE_DIR/pipelines/postload.yaml" -p table=$T -p date=2026-10-03
assert_contains "$ERR" "2026-10-03: 5 passed, 0 failed"
assert_exit 1 weir run "$WEIR_SOURCE_DIR/pipelines/postload.yaml" -p table=$T -p date=2026-10-09
assert_contains "$ERR" "row_count_range"
