#!/usr/bin/env bash
# cli/test_approvals: a human in the loop through `weir approvals`: a run
# pauses (exit 4) and says how to go on; list and show it; refine re-runs the
# step named in `refine:` with the comment; approve finishes the run (exit 0);
# reject fails it (exit 1); reject without --comment is a usage error.
. "$(dirname "$0")/lib.sh"
new_project

# gen appends to gen.log each time it really runs.
cat >review.yaml <<'EOF'
version: 1
name: review
params:
  topic: {type: string, default: sales}
steps:
  - id: gen
    uses: core.shell
    with:
      argv: [sh, -c, 'echo ran >> gen.log; printf %s "$0"', "draft about ${{ params.topic }}${{ feedback.comment }}"]
  - id: review
    needs: [gen]
    approval:
      message: "Publish the ${{ params.topic }} draft?"
      show: {draft: "${{ steps.gen.output.stdout }}"}
      refine: gen
  - id: use
    needs: [review]
    uses: core.echo
    with: {value: "${{ steps.review.output.decision }}: ${{ steps.gen.output.stdout }}"}
EOF
gen_runs() { wc -l <gen.log | tr -d ' '; }

check "run: pauses with exit 4 and says how to approve (stderr is not a terminal)"
assert_exit 4 weir run review.yaml --json
cp "$OUT" run1.json
run=$(run_id_of run1.json)
assert_contains run1.json '"status": "paused"'
assert_contains "$ERR" "weir approvals approve $run review"
assert_eq 1 "$(gen_runs)" "gen runs after the first run"

check "approvals list: shows the pending approval"
assert_exit 0 weir approvals list
assert_contains "$OUT" "run $run"
assert_contains "$OUT" "step review"
assert_contains "$OUT" "status pending"
assert_contains "$OUT" "Publish the sales draft?"
assert_contains "$OUT" '"draft": "draft about sales"'
assert_exit 0 weir approvals list --json
cp "$OUT" list.json
assert_eq '["review","pending"]' "$(json_query list.json 'return {input.doc[1].step, input.doc[1].status}')" "approvals list --json"

check "approvals show RUN review"
assert_exit 0 weir approvals show "$run" review
assert_contains "$OUT" "Publish the sales draft?"
assert_contains "$OUT" "draft about sales"
assert_exit 2 weir approvals show "$run" nosuchstep
assert_contains "$ERR" "nosuchstep"

check "approvals refine --comment: re-runs gen with feedback.comment, pauses again (exit 4)"
assert_exit 4 weir approvals refine "$run" review --comment " using X" --by ann
assert_contains "$ERR" "weir approvals approve $run review"
assert_eq 2 "$(gen_runs)" "gen runs after refine"
assert_exit 0 weir runs show "$run" --json
cp "$OUT" show1.json
assert_contains show1.json "draft about sales using X"
got=$(json_query show1.json '
for _, s in ipairs(input.doc.steps) do
  if s.step == "gen" then return {input.doc.status, s.output.stdout} end
end
return "no gen step"')
assert_eq '["paused","draft about sales using X"]' "$got" "run after refine"
assert_exit 0 weir approvals show "$run" review
assert_contains "$OUT" "draft about sales using X"

check "approvals approve: resumes to the end, exit 0, gen not re-run"
assert_exit 0 weir approvals approve "$run" review --json
cp "$OUT" approved.json
assert_contains approved.json '"status": "success"'
assert_contains approved.json '"approved: draft about sales using X"'
assert_eq 2 "$(gen_runs)" "gen runs after approve"
assert_exit 0 weir approvals list
assert_contains "$OUT" "no pending approvals"
assert_exit 0 weir approvals list --all
assert_contains "$OUT" "status approved"
assert_exit 0 weir runs show "$run"
assert_contains "$OUT" "status success"

check "approving a decided approval again is an error"
assert_exit 2 weir approvals approve "$run" review
assert_contains "$ERR" "review"

check "reject: needs --comment (exit 2); with one the run fails (exit 1)"
assert_exit 4 weir run review.yaml --param topic=churn --json
run2=$(run_id_of "$OUT")
assert_exit 2 weir approvals reject "$run2" review
assert_contains "$ERR" "--comment"
assert_exit 2 weir approvals refine "$run2" review
assert_exit 0 weir runs show "$run2"
assert_contains "$OUT" "status paused"
assert_exit 1 weir approvals reject "$run2" review --comment "wrong table"
assert_contains "$ERR" "review"
assert_contains "$ERR" "wrong table"
assert_exit 0 weir runs show "$run2"
assert_contains "$OUT" "status failed"

check "approvals: usage errors"
assert_exit 2 weir approvals
assert_exit 2 weir approvals approve "$run2"
assert_exit 2 weir approvals frobnicate "$run2" review

echo "cli/test_approvals: ok"
