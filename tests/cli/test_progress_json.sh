#!/usr/bin/env bash
# cli/test_progress_json: what `weir run` prints. With --json stdout is exactly
# one JSON document (success, failure, pause); progress lines go to stderr on
# a terminal only; -q silences them; without a terminal a successful run
# prints nothing on stderr.
. "$(dirname "$0")/lib.sh"
new_project

cat >ok.yaml <<'EOF'
version: 1
name: ok
steps:
  - id: extract
    uses: core.echo
    with: {value: {rows: 3}}
  - id: load
    needs: [extract]
    uses: core.echo
    with: {value: "loaded ${{ steps.extract.output.rows }} rows"}
EOF
cat >fail.yaml <<'EOF'
version: 1
name: failing
steps:
  - id: boom
    uses: core.fail
    with: {message: "disk full"}
EOF
cat >pause.yaml <<'EOF'
version: 1
name: pausing
steps:
  - id: ask
    approval: {message: "go?"}
EOF

# one_doc FILE STATUS: FILE is one JSON document (core.json_read rejects
# anything after the first) whose run has STATUS.
one_doc() {
    local got
    got=$(json_query "$1" 'return {type(input.doc.run), input.doc.status, input.doc.pipeline ~= nil}')
    assert_eq "[\"string\",\"$2\",true]" "$got" "run summary in $(basename "$1")"
}

check "the JSON check itself rejects two documents in one file"
printf '{"run": "x", "status": "success", "pipeline": "p"}\n{}\n' >two.json
if (json_query two.json 'return 1') >/dev/null 2>&1; then
    fail "json_query accepted two JSON documents"
fi

check "--json, success: stdout is one JSON document"
assert_exit 0 weir run ok.yaml --json
cp "$OUT" ok.json
one_doc ok.json success
assert_eq 1 "$(grep -c '^{' ok.json)" "lines starting a JSON object"
assert_eq '}' "$(tail -1 ok.json)" "last line of stdout"
assert_contains ok.json '"rows": 3'

check "--json, a failed run: stdout is still one document; the error goes to stderr"
assert_exit 1 weir run fail.yaml --json
cp "$OUT" fail.json
one_doc fail.json failed
assert_contains fail.json '"error": "disk full"'
assert_contains "$ERR" "step 'boom' failed: disk full"

check "--json, a paused run: one document, the approval hint on stderr"
assert_exit 4 weir run pause.yaml --json
cp "$OUT" pause.json
one_doc pause.json paused
assert_contains "$ERR" "weir approvals approve"

check "--json for validate, runs list/show, approvals list, plugins: one document each"
for cmd in "validate ok.yaml" "runs list" "runs show $(run_id_of ok.json)" "approvals list" "approvals list --all" "plugins" "plugin describe core"; do
    # shellcheck disable=SC2086 # the command words split on purpose
    assert_exit 0 weir $cmd --json
    cp "$OUT" cmd.json
    json_query cmd.json 'return type(input.doc)' >/dev/null
done

check "not a terminal: a successful run prints nothing on stderr, with or without -q"
assert_exit 0 weir run ok.yaml
assert_empty "$ERR"
assert_empty "$OUT"
assert_exit 0 weir run ok.yaml -q
assert_empty "$ERR"
assert_empty "$OUT"
assert_exit 0 weir run ok.yaml -q --json
assert_empty "$ERR"
cp "$OUT" q.json
one_doc q.json success

if command -v script >/dev/null 2>&1; then
    # script(1) runs weir on a pseudo-terminal; all of weir's output lands in tty.txt.
    on_tty() {
        local cmd
        cmd=$(printf '%q ' "$WEIR_BIN" "$@")
        set +e
        timeout -k 5 120 script -qec "$cmd" /dev/null </dev/null | tr -d '\r' >tty.txt
        RC=${PIPESTATUS[0]}
        set -e
    }
    check "on a terminal: one progress line per step (status, step, elapsed) and the run's end"
    on_tty run ok.yaml
    assert_eq 0 "$RC" "exit code on a terminal"
    grep -q '^  success  *extract  *[0-9][0-9]* ms' tty.txt || fail "no progress line for extract$(show tty tty.txt)"
    grep -q '^  success  *load  *[0-9][0-9]* ms' tty.txt || fail "no progress line for load$(show tty tty.txt)"
    grep -q '^run [0-9a-f-]*: success$' tty.txt || fail "no end line$(show tty tty.txt)"

    check "on a terminal: a failure's progress line has the error"
    on_tty run fail.yaml
    assert_eq 1 "$RC" "exit code of a failed run on a terminal"
    grep -q '^  failed  *boom .*disk full' tty.txt || fail "no failed line$(show tty tty.txt)"

    check "on a terminal with -q: nothing at all for a successful run"
    on_tty run ok.yaml -q
    assert_eq 0 "$RC" "exit code with -q on a terminal"
    assert_empty tty.txt

    check "on a terminal with --json and -q: only the JSON document"
    on_tty run ok.yaml -q --json
    assert_eq 0 "$RC" "exit code with -q --json on a terminal"
    one_doc tty.txt success
else
    check "SKIP the terminal checks: no script(1) here"
fi

echo "cli/test_progress_json: ok"
