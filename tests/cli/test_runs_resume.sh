#!/usr/bin/env bash
# cli/test_runs_resume: `weir runs list|show` (text and --json), the per-run
# event log, and `weir run --resume RUN` re-running only what failed.
. "$(dirname "$0")/lib.sh"
new_project

# b fails until the file `fixed` exists, as a real step fails until someone
# fixes its cause. (core.flaky cannot stand in: its attempt counter lives in
# the process, so a resume in a new process starts counting again.)
# a and c append to runs.log each time they really run.
cat >chain.yaml <<'EOF'
version: 1
name: chain
steps:
  - id: a
    uses: core.shell
    with:
      argv: [sh, -c, 'echo a >> runs.log; printf a-out']
  - id: b
    needs: [a]
    uses: core.shell
    with:
      argv: [sh, -c, 'test -f fixed || { echo "upstream table missing" >&2; exit 3; }; printf "b saw %s" "$0"', "${{ steps.a.output.stdout }}"]
  - id: c
    needs: [b]
    uses: core.shell
    with:
      argv: [sh, -c, 'echo c >> runs.log; printf "%s" "$0"', "${{ steps.b.output.stdout }}"]
EOF
count() { grep -c "^$1\$" runs.log || true; }

check "a failing run: exit 1, stderr names b and the command's error"
assert_exit 1 weir run chain.yaml --json
cp "$OUT" run1.json
run=$(run_id_of run1.json)
assert_contains "$ERR" "step 'b' failed"
assert_contains "$ERR" "upstream table missing"
assert_eq 1 "$(count a)" "a runs"
assert_eq 0 "$(count c)" "c runs"
got=$(json_query run1.json 'local s = input.doc.steps
return {input.doc.status, s.a.status, s.b.status, s.c.status}')
assert_eq '["failed","success","failed","skipped"]' "$got" "run --json statuses"

check "runs list: shows the run, failed"
assert_exit 0 weir runs list
assert_contains "$OUT" "RUN"
grep -q "^$run  *failed  *chain  *local " "$OUT" || fail "no '$run failed chain local' row$(show stdout "$OUT")"
assert_exit 0 weir runs list --json
cp "$OUT" list.json
assert_eq "[\"$run\",\"failed\",\"chain\"]" \
    "$(json_query list.json 'return {input.doc[1].id, input.doc[1].status, input.doc[1].pipeline}')" "runs list --json"

check "runs show: every step with status, attempts and the error"
assert_exit 0 weir runs show "$run"
assert_contains "$OUT" "run $run"
assert_contains "$OUT" "status failed"
grep -q '^  success  *a  *attempts 1 ' "$OUT" || fail "no success line for a$(show stdout "$OUT")"
grep -q '^  failed  *b  *attempts 1 .*upstream table missing' "$OUT" || fail "no failed line for b$(show stdout "$OUT")"
grep -q '^  skipped  *c ' "$OUT" || fail "no skipped line for c$(show stdout "$OUT")"
assert_exit 2 weir runs show 20000101-000000-nosuch
assert_contains "$ERR" "20000101-000000-nosuch"

check "runs show --json parses and has each step"
assert_exit 0 weir runs show "$run" --json
cp "$OUT" show1.json
got=$(json_query show1.json 'local out = {input.doc.id, input.doc.status}
for _, s in ipairs(input.doc.steps) do out[#out + 1] = s.step .. "=" .. s.status end
return out')
assert_eq "[\"$run\",\"failed\",\"a=success\",\"b=failed\",\"c=skipped\"]" "$got" "runs show --json"

check "event log: .weir/runs/$run/events.jsonl with start and end lines"
log=.weir/runs/$run/events.jsonl
[ -s "$log" ] || fail "$log is missing or empty"
head -1 "$log" | grep -q '"event":"start"' || fail "the first event is not start$(show events "$log")"
tail -1 "$log" | grep -q '"event":"end"' || fail "the last event is not end$(show events "$log")"
tail -1 "$log" | grep -q '"status":"failed"' || fail "the end event is not failed$(show events "$log")"
assert_contains "$log" "\"run\":\"$run\""
assert_contains "$log" '"event":"error","step":"b","status":"failed"'
bad=$(grep -cv '^{.*}$' "$log" || true)
assert_eq 0 "$bad" "event lines that are not one JSON object each"

check "resume: after the fix, --resume exits 0 and re-runs only b and c"
touch fixed
assert_exit 0 weir run --resume "$run" --json
cp "$OUT" resumed.json
assert_eq "$run" "$(run_id_of resumed.json)" "the resumed run id"
assert_contains resumed.json '"status": "success"'
assert_contains resumed.json '"b saw a-out"'
assert_eq 1 "$(count a)" "a runs after resume"
assert_eq 1 "$(count c)" "c runs after resume"
assert_exit 0 weir runs show "$run" --json
cp "$OUT" show2.json
got=$(json_query show2.json 'local out = {input.doc.status}
for _, s in ipairs(input.doc.steps) do
  out[#out + 1] = s.step .. ":" .. s.status
  if s.step == "a" then out[#out + 1] = s.attempts end
end
return out')
assert_eq '["success","a:success",1,"b:success","c:success"]' "$got" "runs show --json after resume"
tail -1 "$log" | grep -q '"status":"success"' || fail "the last event after resume is not a success end$(show events "$log")"
grep -q '"event":"start".*"resumed":true' "$log" || fail "no resumed start event$(show events "$log")"

check "resume: a finished run cannot be resumed; an unknown run is an error"
set +e
weir run --resume "$run" >"$OUT" 2>"$ERR"
RC=$?
set -e
[ "$RC" -ne 0 ] || fail "resuming a finished run exited 0"
assert_contains "$ERR" "already succeeded"
assert_exit 2 weir run --resume 20000101-000000-nosuch
assert_exit 2 weir run --resume "$run" chain.yaml
assert_contains "$ERR" "--resume takes no pipeline file"

echo "cli/test_runs_resume: ok"
