#!/usr/bin/env bash
# cli/test_impact: the impact walkthrough (examples/jobs/WALKTHROUGH.md) end to
# end. The copilot writes the fact table's contract; make-repo.sh builds the
# example jobs repository at v1, pushed to a local bare remote; `weir hook
# install` writes the pre-push hook; the walkthrough change (a left join, a
# column renamed) is committed and `git push` is blocked by a report that
# names the column, the contract rule on it and the downstream table;
# WEIR_ALLOW_BREAKING=1 lets it through (the pre-commit hook blocks the
# commit first, likewise). Also `weir lineage`, `weir impact` itself (--json,
# FILES, nothing changed, bad revision, outside a repository, --shadow on the
# embedded engine), pipelines/impact.yaml, a foreign hook kept unless --force,
# a linked work tree, and `weir hook uninstall`.
. "$(dirname "$0")/lib.sh"
new_project
cp "$WEIR_SOURCE_DIR/examples/weir.yaml" .
cp -R "$WEIR_SOURCE_DIR/examples/catalog" .
mkdir -p lake
cp -R "$WEIR_SOURCE_DIR/examples/lake/example-lake" lake/
T=analytics_db.loan_repayment_fact
export GIT_CONFIG_NOSYSTEM=1 HOME=$PROJ # no user git config leaks in

check "the copilot writes the contract the report reads"
assert_exit 0 weir run "$WEIR_SOURCE_DIR/pipelines/copilot.yaml" --param table=$T
assert_contains lake/contracts/$T.json '"emi_amount"'

check "make-repo.sh: v1 of the jobs, pushed to a bare remote"
sh "$WEIR_SOURCE_DIR/examples/jobs/make-repo.sh" repo 1 >/dev/null
git init -q --bare remote.git
git -C repo remote add origin "$PROJ/remote.git"
git -C repo push -q origin main
V1=$(git -C repo rev-parse HEAD)

check "weir lineage: the fact table feeds the monthly summary"
assert_exit 0 weir lineage repo/jobs --format mermaid
assert_contains "$OUT" 'flowchart LR'
assert_contains "$OUT" '"analytics_db.loan_repayment_fact"'
assert_contains "$OUT" '"analytics_db.loan_monthly_summary"'
assert_exit 0 weir lineage repo/jobs --format dot
assert_contains "$OUT" 'digraph lineage'
assert_exit 0 weir lineage repo/jobs
assert_contains "$OUT" '"to": "table:analytics_db.loan_monthly_summary"'
printf '%s\n' "$(cat "$OUT")" >lineage.json
assert_eq '["raw_db.raw_payments.amount"]' "$(json_query lineage.json '
for _, e in ipairs(input.doc.column_edges) do
  if e.column == "emi_amount" then return e.from end
end')" "the column edge of emi_amount, qualified through the catalog"
assert_eq 1 "$(json_query lineage.json '
local n = 0
for _, e in ipairs(input.doc.column_edges) do
  if e.column == "loan_id" and e.table == "analytics_db.loan_repayment_fact" then n = n + 1 end
end
return n')" "one column edge per output column"
# a symlinked file counts, a symlinked folder (here a loop) is not followed
mkdir linked
cp repo/jobs/loan_monthly_summary.sql linked/
ln -s ../repo/jobs/loan_repayments_etl.py linked/etl.py
ln -s . linked/loop
assert_exit 0 weir lineage linked --format dot
assert_eq 2 "$(grep -c 'shape=ellipse' "$OUT")" "jobs found under linked/"
assert_exit 3 weir lineage repo/jobs --format svg
assert_contains "$ERR" "unknown format 'svg'"
assert_exit 2 weir lineage no-such-dir
assert_contains "$ERR" "cannot open the jobs directory"

check "hook install: a pre-push hook calling this weir with the project's config"
assert_exit 0 weir hook install pre-push --repo repo --config weir.yaml
HOOK=repo/.git/hooks/pre-push
[ -x "$HOOK" ] || fail "no executable $HOOK"
assert_contains "$HOOK" "weir-impact-hook"
assert_contains "$HOOK" "$(readlink -f "$WEIR_BIN")"
assert_contains "$HOOK" "$(cd "$PROJ" && pwd -P)/weir.yaml"

check "a foreign hook is kept unless --force"
printf '#!/bin/sh\necho mine\n' >repo/.git/hooks/pre-commit
assert_exit 1 weir hook install pre-commit --repo repo
assert_contains "$ERR" "was not written by weir; pass --force"
assert_contains repo/.git/hooks/pre-commit "echo mine"
assert_exit 0 weir hook install pre-commit --repo repo --force --config weir.yaml
assert_contains repo/.git/hooks/pre-commit "--from HEAD --to INDEX"

check "the walkthrough change: left join to dim_customer, emi_amount renamed"
cp "$WEIR_SOURCE_DIR/examples/jobs/versions/2/loan_repayments_etl.py" repo/jobs/
git -C repo add jobs
# the pre-commit hook reports on the staged change and blocks it
set +e
git -C repo commit -q -m "v2: left join, repayment_amount" >commit.log 2>&1
RC=$?
set -e
[ "$RC" != 0 ] || fail "the pre-commit hook let a breaking change through$(show log commit.log)"
assert_contains commit.log "emi_amount"
WEIR_ALLOW_BREAKING=1 git -C repo commit -q -m "v2: left join, repayment_amount" >commit.log 2>&1 ||
    fail "WEIR_ALLOW_BREAKING=1 did not let the commit through$(show log commit.log)"
V2=$(git -C repo rev-parse HEAD)
[ "$V2" != "$V1" ] || fail "nothing committed"

check "git push: the pre-push hook prints the report and blocks"
set +e
git -C repo push origin main >push.log 2>&1
RC=$?
set -e
[ "$RC" != 0 ] || fail "the push went through$(show log push.log)"
assert_contains push.log "breaking"
assert_contains push.log "column emi_amount renamed to repayment_amount"
assert_contains push.log "rule emi_amount.not_null (error) is obsolete"
assert_contains push.log "join with analytics_db.dim_customer: inner -> left"
assert_contains push.log "downstream    analytics_db.loan_monthly_summary (jobs/loan_monthly_summary.sql) reads [\"emi_amount\"] into [\"total_emi\"]"
assert_contains push.log "WEIR_ALLOW_BREAKING=1"
assert_eq "$V1" "$(git -C remote.git rev-parse main)" "remote main after a blocked push"
[ -f "lake/reports/impact/$V2.md" ] || fail "no report lake/reports/impact/$V2.md"
assert_contains "lake/reports/impact/$V2.md" "**Status: breaking**"
assert_contains "lake/reports/impact/$V2.md" "rule \`emi_amount.not_null\` (error): **obsolete**"
[ -f "lake/reports/impact/$V2.json" ] || fail "no report lake/reports/impact/$V2.json"

check "WEIR_ALLOW_BREAKING=1 lets the push through"
WEIR_ALLOW_BREAKING=1 git -C repo push origin main >push.log 2>&1 || fail "push failed$(show log push.log)"
assert_contains push.log "breaking changes allowed"
assert_eq "$V2" "$(git -C remote.git rev-parse main)" "remote main after an allowed push"

check "weir impact directly: --json, exit 1 on breaking, --allow-breaking"
assert_exit 1 weir impact --repo repo --from "$V1" --to "$V2" --json --no-write
[ "$(json_query "$OUT" 'return input.doc.status')" = '"breaking"' ] || fail "status not breaking$(show stdout "$OUT")"
assert_exit 0 weir impact --repo repo --from "$V1" --to "$V2" --allow-breaking --no-write
assert_contains "$OUT" "suggest       contracts/$T.json: rename the column key \"emi_amount\" to \"repayment_amount\""
assert_exit 0 weir impact --repo repo --from "$V2" --to "$V2"
assert_contains "$OUT" "no job scripts (.py, .sql) changed"
assert_exit 0 weir impact --repo repo --from "$V2" --to "$V2" --json
assert_eq 0 "$(json_query "$OUT" 'return #input.doc.files')" "files of an empty diff"
assert_exit 2 weir impact --repo repo --from no-such-rev
assert_contains "$ERR" "no-such-rev"
mkdir -p elsewhere
assert_exit 2 weir impact --repo elsewhere --from HEAD
assert_contains "$ERR" "is not inside a git repository"

check "weir impact FILES: only the scripts named"
assert_exit 0 weir impact --repo repo --from "$V1" --to "$V2" --no-write repo/jobs/loan_monthly_summary.sql
assert_contains "$OUT" "(0 breaking, 0 needs review, 0 non-breaking) in 1 script(s)"
assert_exit 0 weir impact --help
assert_contains "$OUT" "exit codes: 0 no breaking change"

check "pipelines/impact.yaml: the same steps for CI, failing the run on a breaking change"
assert_exit 0 weir validate "$WEIR_SOURCE_DIR/pipelines/impact.yaml"
assert_exit 1 weir run "$WEIR_SOURCE_DIR/pipelines/impact.yaml" -p repo=repo -p from="$V1" -p to="$V2"
assert_contains "$ERR" "breaking changes found"
assert_exit 0 weir run "$WEIR_SOURCE_DIR/pipelines/impact.yaml" -p repo=repo -p from="$V1" -p to="$V2" -p allow_breaking=true

check "--shadow: the old and new query of the SQL job on the embedded engine"
# expected figures straight from the example's CSV files: payments per
# (month, product), all of them and without PENDING
read -r NGROUPS MAX_ALL MAX_DONE <<<"$(python3 - "$PROJ/lake/example-lake/analytics_db" <<'PY'
import csv, glob, sys
root = sys.argv[1]
product = {r["loan_id"]: r["product"] for r in csv.DictReader(open(root + "/dim_loan/part-000.csv"))}
all_, done = {}, {}
for f in glob.glob(root + "/loan_repayment_fact/dt=*/*.csv"):
    for r in csv.DictReader(open(f)):
        k = (r["payment_date"][:7], product[r["loan_id"]])
        all_[k] = all_.get(k, 0) + 1
        if r["status"] != "PENDING":
            done[k] = done.get(k, 0) + 1
print(len(all_), max(all_.values()), max(done.values()))
PY
)"
sed "s/^JOIN analytics_db.dim_loan l ON l.loan_id = f.loan_id/&\nWHERE f.status <> 'PENDING'/" \
    "$WEIR_SOURCE_DIR/examples/jobs/loan_monthly_summary.sql" >repo/jobs/loan_monthly_summary.sql
assert_exit 0 weir impact --repo repo --from "$V2" --shadow --no-write
assert_contains "$OUT" "filter added: f.status <> 'PENDING'"
assert_contains "$OUT" "shadow        rows $NGROUPS -> $NGROUPS (+0.0%); range moved: payments, total_emi"
assert_exit 0 weir impact --repo repo --from "$V2" --shadow --no-write --json
assert_eq "$MAX_ALL" "$(json_query "$OUT" 'return input.doc.files[1].shadow.before.columns.payments.max')" "payments max, old query"
assert_eq "$MAX_DONE" "$(json_query "$OUT" 'return input.doc.files[1].shadow.after.columns.payments.max')" "payments max, new query"
cp "$WEIR_SOURCE_DIR/examples/jobs/versions/3/loan_monthly_summary.sql" repo/jobs/
assert_exit 1 weir impact --repo repo --from "$V2" --shadow --no-write
assert_contains "$OUT" "column total_emi renamed to total_repaid"
assert_contains "$OUT" "shadow        new query fails on the engine: engine.query: no such column: f.repayment_amount"
git -C repo checkout -q -- jobs

check "a linked work tree shares the repository's hooks"
git -C repo worktree add -q "$PROJ/wt" -b wt-branch
assert_exit 0 weir hook install pre-push --repo wt --config weir.yaml
assert_contains "$OUT" "repo/.git/hooks/pre-push"
git -C repo worktree remove --force "$PROJ/wt"

check "hook uninstall removes weir's hooks only"
printf '#!/bin/sh\n' >repo/.git/hooks/post-commit
assert_exit 0 weir hook uninstall --repo repo
[ ! -e "$HOOK" ] || fail "pre-push still there"
[ ! -e repo/.git/hooks/pre-commit ] || fail "pre-commit still there"
[ -e repo/.git/hooks/post-commit ] || fail "a foreign hook was removed"
assert_exit 2 weir hook install post-merge --repo repo
