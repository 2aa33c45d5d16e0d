#!/usr/bin/env bash
# cli/test_signals: a scheduler stopping a run. SIGINT and SIGTERM cancel it
# within a few seconds with exit 5; the run is recorded as cancelled (state and
# event log); a command a step started is killed too; the run resumes later.
. "$(dirname "$0")/lib.sh"
new_project

cat >sleep.yaml <<'EOF'
version: 1
name: sleepy
steps:
  - id: before
    uses: core.echo
    with: {value: 1}
  - id: nap
    needs: [before]
    uses: core.sleep
    with: {ms: 10000}
  - id: after
    needs: [nap]
    uses: core.echo
EOF
# wait writes its pid, then sleeps 30 s unless the file `go` exists.
cat >shell.yaml <<'EOF'
version: 1
name: shelly
steps:
  - id: quick
    uses: core.echo
    with: {value: 1}
  - id: wait
    needs: [quick]
    uses: core.shell
    with:
      argv: [sh, -c, 'echo $$ > child.pid; test -f go && exit 0; exec sleep 30']
  - id: after
    needs: [wait]
    uses: core.echo
    with: {value: "${{ steps.wait.output.exit_code }}"}
EOF

# start_run FILE: starts weir in the background (PID), waits until its run
# appears in .weir/runs, sets RUN.
start_run() {
    rm -rf .weir/runs
    "$WEIR_BIN" run "$1" --json >bg.out 2>bg.err &
    PID=$!
    RUN=
    for _ in $(seq 200); do
        RUN=$(ls .weir/runs 2>/dev/null | head -1 || true)
        [ -n "$RUN" ] && break
        sleep 0.05
    done
    [ -n "$RUN" ] || fail "the run did not start in 10 s$(show stderr bg.err)"
}

# stop SIG: sends SIG to PID and expects exit 5 within 5 s.
stop() {
    local start=$SECONDS
    kill -s "$1" "$PID"
    set +e
    wait "$PID"
    RC=$?
    set -e
    assert_eq 5 "$RC" "exit code after SIG$1"
    [ $((SECONDS - start)) -le 5 ] || fail "SIG$1 took $((SECONDS - start)) s to stop the run"
}

for sig in INT TERM; do
    check "SIG$sig during core.sleep 10000: exit 5 within 5 s"
    start_run sleep.yaml
    sleep 0.5
    stop "$sig"

    check "SIG$sig: runs show says cancelled; the finished step stays a success"
    assert_exit 0 weir runs show "$RUN"
    assert_contains "$OUT" "status cancelled"
    grep -q '^  success  *before ' "$OUT" || fail "before is not a success$(show stdout "$OUT")"
    assert_not_contains "$OUT" "success    after"
    assert_exit 0 weir runs list
    grep -q "^$RUN  *cancelled " "$OUT" || fail "runs list has no cancelled $RUN$(show stdout "$OUT")"

    check "SIG$sig: the --json summary is one document with status cancelled"
    got=$(json_query bg.out 'return {input.doc.status, input.doc.steps.nap.status}')
    assert_eq '["cancelled","cancelled"]' "$got" "summary after SIG$sig"

    check "SIG$sig: the event log ends with a cancelled end event"
    log=.weir/runs/$RUN/events.jsonl
    [ -s "$log" ] || fail "no $log"
    head -1 "$log" | grep -q '"event":"start"' || fail "first event is not start$(show events "$log")"
    tail -1 "$log" | grep -q '"event":"end","status":"cancelled"' || fail "last event is not a cancelled end$(show events "$log")"
done

check "SIGINT during core.shell: weir exits 5 and the command is killed too"
rm -f child.pid go
start_run shell.yaml
for _ in $(seq 200); do
    [ -s child.pid ] && break
    sleep 0.05
done
[ -s child.pid ] || fail "the shell step did not start"
child=$(cat child.pid)
stop INT
sleep 0.2
if kill -0 "$child" 2>/dev/null; then
    kill "$child" 2>/dev/null || true
    fail "the step's command (pid $child) outlived the cancelled run"
fi
assert_exit 0 weir runs show "$RUN"
assert_contains "$OUT" "status cancelled"

check "a cancelled run resumes: only the unfinished steps run, exit 0"
touch go
assert_exit 0 weir run --resume "$RUN" --json
cp "$OUT" resumed.json
got=$(json_query resumed.json 'local s = input.doc.steps
return {input.doc.status, s.quick.status, s.wait.status, s.after.status, s.after.output}')
assert_eq '["success","success","success","success",0]' "$got" "resumed run"
assert_exit 0 weir runs show "$RUN"
assert_contains "$OUT" "status success"

echo "cli/test_signals: ok"
