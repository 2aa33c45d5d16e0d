#!/usr/bin/env bash
# cli/test_exit_codes: the documented exit codes, as a scheduler sees them
# (stdout and stderr are files, never a terminal): 0 ok, 1 a step failed,
# 2 usage, 3 invalid pipeline, 4 paused, 5 cancelled; and params given with
# --param, converted to their declared types.
. "$(dirname "$0")/lib.sh"
new_project

cat >ok.yaml <<'EOF'
version: 1
name: ok
params:
  n: {type: integer, required: true}
  label: {type: string, default: total}
steps:
  - id: a
    uses: core.echo
    with: {value: "${{ params.n }}"}
  - id: calc
    needs: [a]
    with: {n: "${{ params.n }}", label: "${{ params.label }}"}
    lua: |
      return {label = input.label, result = input.n * 2 + 1, kind = math.type(input.n)}
EOF
cat >fail.yaml <<'EOF'
version: 1
name: failing
steps:
  - id: first
    uses: core.echo
    with: {value: 1}
  - id: boom
    needs: [first]
    uses: core.fail
    with: {message: "the warehouse is on fire"}
  - id: after
    needs: [boom]
    uses: core.echo
EOF
# two errors: line 3 col 1 and line 7 col 5
cat >invalid.yaml <<'EOF'
version: 1
name: invalid
colour: blue
steps:
  - id: a
    uses: core.echo
    wat: 2
EOF
cat >pause.yaml <<'EOF'
version: 1
name: pausing
steps:
  - id: gen
    uses: core.echo
    with: {value: draft}
  - id: review
    needs: [gen]
    approval: {message: "ok to go on?"}
  - id: use
    needs: [review]
    uses: core.echo
EOF
cat >sleep.yaml <<'EOF'
version: 1
name: sleepy
steps:
  - id: nap
    uses: core.sleep
    with: {ms: 10000}
EOF

check "exit 0: a successful run"
assert_exit 0 weir run ok.yaml --param n=20

check "--param converts to the declared integer type (Lua does arithmetic on it)"
assert_exit 0 weir run ok.yaml --param n=20 --param label=sum --json
assert_contains "$OUT" '"result": 41'
assert_contains "$OUT" '"kind": "integer"'
assert_contains "$OUT" '"label": "sum"'
assert_contains "$OUT" '"output": 20'
assert_not_contains "$OUT" '"output": "20"'

check "exit 1: a failing step; stderr (not a terminal) names the step and the error"
assert_exit 1 weir run fail.yaml
assert_contains "$ERR" "boom"
assert_contains "$ERR" "the warehouse is on fire"
assert_not_contains "$ERR" "'first' failed"

check "exit 2: usage errors"
assert_exit 2 weir frobnicate
assert_contains "$ERR" "unknown command 'frobnicate'"
assert_exit 2 weir run ok.yaml --no-such-option
assert_contains "$ERR" "--no-such-option"
assert_exit 2 weir run
assert_contains "$ERR" "usage: weir run"
assert_exit 2 weir run ok.yaml --param n
assert_contains "$ERR" "NAME=VALUE"
assert_exit 2 weir run ok.yaml --param =5
assert_exit 2 weir run ok.yaml other.yaml
assert_exit 2 weir run ok.yaml -j 0
assert_exit 2 weir validate
assert_exit 2 weir runs
assert_exit 2 weir runs show
assert_exit 2 weir plugins extra
assert_contains "$ERR" "usage: weir plugins"

check "exit 3: invalid pipeline, every error as file:line:col, nothing ran"
assert_exit 3 weir run invalid.yaml
assert_contains "$ERR" "invalid.yaml:3:1:"
assert_contains "$ERR" "colour"
assert_contains "$ERR" "invalid.yaml:7:5:"
assert_contains "$ERR" "wat"
weir runs list >runs.txt
assert_not_contains runs.txt "invalid"

check "exit 3: param errors (unknown param, missing required with its name, wrong type)"
assert_exit 3 weir run ok.yaml --param n=1 --param colour=red
assert_contains "$ERR" "unknown param 'colour'"
assert_exit 3 weir run ok.yaml
assert_contains "$ERR" "'n'"
assert_contains "$ERR" "--param n="
assert_exit 3 weir run ok.yaml --param n=twelve
assert_contains "$ERR" "'n'"
assert_contains "$ERR" "integer"

check "exit 3: a pipeline file that does not exist"
assert_exit 3 weir run nowhere.yaml

check "exit 4: paused for an approval"
assert_exit 4 weir run pause.yaml

check "exit 5: SIGINT cancels a running pipeline within a few seconds"
for sig in INT TERM; do
    rm -rf .weir/runs
    start=$SECONDS
    "$WEIR_BIN" run sleep.yaml >"$OUT" 2>"$ERR" &
    pid=$!
    # wait until the run is in the state database, i.e. the step runs
    for _ in $(seq 100); do
        [ -n "$(ls .weir/runs 2>/dev/null | head -1)" ] && break
        sleep 0.05
    done
    sleep 0.3
    kill -s "$sig" "$pid"
    set +e
    wait "$pid"
    RC=$?
    set -e
    assert_eq 5 "$RC" "exit code after SIG$sig"
    [ $((SECONDS - start)) -le 5 ] || fail "SIG$sig took $((SECONDS - start)) s to stop the run (nap sleeps 10 s)"
    run=$(weir runs list --json | sed -n 's/^ *"id": "\([^"]*\)",$/\1/p' | head -1)
    [ -n "$run" ] || fail "no run in 'weir runs list --json'"
    assert_exit 0 weir runs show "$run"
    assert_contains "$OUT" "status cancelled"
done

echo "cli/test_exit_codes: ok"
