# lib.sh - helpers for the end-to-end tests of the `weir` command line.
# Sourced by tests/cli/test_*.sh, which ctest runs with WEIR_WEIR_BIN (the
# built weir) and WEIR_SOURCE_DIR in the environment.
#
#   new_project            a temp dir with `workspace: .weir` in weir.yaml; cd there
#   check TEXT             prints what the test checks next
#   weir ARGS...           the weir under test, killed if it hangs
#   assert_exit CODE CMD...  runs CMD, stdout to $OUT, stderr to $ERR; fails
#                          unless it exits CODE
#   assert_contains FILE TEXT / assert_not_contains FILE TEXT (fixed strings)
#   assert_empty FILE / assert_eq WANT GOT WHAT
#   json_query FILE LUA    parses FILE with a core.json_read step (so it must
#                          be exactly one JSON document), runs the Lua body on
#                          it as input.doc and prints its result as compact JSON
#   run_id_of FILE         the "run" of a `weir run --json` summary
# Every failed assertion exits 1 at once with what was expected and what came.
set -euo pipefail

: "${WEIR_WEIR_BIN:?run these tests through ctest (WEIR_WEIR_BIN names the weir binary)}"
WEIR_BIN=$WEIR_WEIR_BIN
TEST_NAME=$(basename "$0" .sh)
PROJ=
OUT=
ERR=
RC=0

fail() {
    printf 'FAIL [%s]: %s\n' "$TEST_NAME" "$*" >&2
    exit 1
}

check() {
    printf -- '-- %s\n' "$*"
}

cleanup() {
    local pid
    for pid in $(jobs -p); do
        kill "$pid" 2>/dev/null || true
    done
    if [ -n "$PROJ" ] && [ -z "${WEIR_CLI_KEEP:-}" ]; then
        rm -rf "$PROJ"
    fi
}

new_project() {
    PROJ=$(mktemp -d "${TMPDIR:-/tmp}/weir-cli-$TEST_NAME.XXXXXX")
    trap cleanup EXIT
    printf 'workspace: .weir\n' >"$PROJ/weir.yaml"
    OUT=$PROJ/.out
    ERR=$PROJ/.err
    cd "$PROJ"
}

# A hung weir fails the test in two minutes, not at ctest's timeout.
weir() {
    timeout -k 5 120 "$WEIR_BIN" "$@"
}

# Shows a captured file in a failure message.
show() {
    printf '\n--- %s ---\n%s' "$1" "$(head -c 3000 "$2" 2>/dev/null)"
}

assert_exit() {
    local want=$1
    shift
    set +e
    "$@" >"$OUT" 2>"$ERR"
    RC=$?
    set -e
    if [ "$RC" != "$want" ]; then
        fail "'$*' exited $RC, expected $want$(show stdout "$OUT")$(show stderr "$ERR")"
    fi
}

assert_contains() {
    grep -qF -- "$2" "$1" || fail "$(basename "$1") has no '$2'$(show "$(basename "$1")" "$1")"
}

assert_not_contains() {
    if grep -qF -- "$2" "$1"; then
        fail "$(basename "$1") should not have '$2'$(show "$(basename "$1")" "$1")"
    fi
}

assert_empty() {
    [ ! -s "$1" ] || fail "$(basename "$1") should be empty$(show "$(basename "$1")" "$1")"
}

assert_eq() {
    [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

run_id_of() {
    local id
    id=$(sed -n 's/^  "run": "\([^"]*\)",\{0,1\}$/\1/p' "$1")
    [ -n "$id" ] || fail "no run id in $(basename "$1")$(show "$(basename "$1")" "$1")"
    printf '%s\n' "$id"
}

json_query() {
    local file=$1 body=$2 dir
    dir=$(mktemp -d "$PROJ/.jq.XXXXXX")
    {
        printf '%s\n' 'version: 1' 'name: json_query' 'params:' \
            '  file: {type: string, required: true}' '  out: {type: string, required: true}' 'steps:' \
            '  - id: read' '    uses: core.json_read' '    with: {path: "${{ params.file }}"}' \
            '  - id: q' '    needs: [read]' '    with: {doc: "${{ steps.read.output }}"}' '    lua: |'
        printf '%s\n' "$body" | sed 's/^/      /'
        printf '%s\n' '  - id: write' '    needs: [q]' '    uses: core.json_write' \
            '    with: {path: "${{ params.out }}", value: "${{ steps.q.output }}", pretty: false}'
    } >"$dir/query.yaml"
    # Its own workspace, so the query runs do not show up in the tests' runs.
    if ! weir run "$dir/query.yaml" --workspace "$dir/ws" -p "file=$(cd "$(dirname "$file")" && pwd)/$(basename "$file")" \
        -p "out=$dir/out.json" >"$dir/log" 2>&1; then
        fail "$(basename "$file") is not one valid JSON document (or the query failed)$(show log "$dir/log")$(show "$(basename "$file")" "$file")"
    fi
    cat "$dir/out.json"
}
