#!/usr/bin/env bash
# cli/test_help: `--help` (and -h) on every command and subcommand exits 0 and
# prints its usage on stdout; `weir` alone prints the usage on stderr, exit 2.
. "$(dirname "$0")/lib.sh"
new_project

check "weir alone: usage on stderr, exit 2"
assert_exit 2 weir
assert_contains "$ERR" "usage: weir <command>"
assert_contains "$ERR" "exit codes"
assert_empty "$OUT"

check "weir --help / -h / help: usage on stdout with every command, exit 0"
for h in --help -h help; do
    assert_exit 0 weir "$h"
    for cmd in run validate graph plugins "plugin describe" "runs list" approvals drift impact lineage hook version; do
        assert_contains "$OUT" "$cmd"
    done
    assert_empty "$ERR"
done

check "weir version"
assert_exit 0 weir version
grep -q '^weir [0-9][0-9.]* (plugin ABI [0-9]*\.[0-9]*)$' "$OUT" || fail "odd version line$(show stdout "$OUT")"
assert_exit 0 weir --version

# "command words|text its usage must contain"
cases=(
    "run|usage: weir run PIPELINE"
    "validate|usage: weir validate PIPELINE"
    "graph|usage: weir graph PIPELINE"
    "plugins|usage: weir plugins"
    "plugin|usage: weir plugin describe NAME"
    "plugin describe|usage: weir plugin describe NAME"
    "runs|usage: weir runs list"
    "runs list|weir runs list"
    "runs show|weir runs show RUN"
    "approvals|usage: weir approvals list"
    "approvals list|weir approvals list"
    "approvals show|weir approvals show RUN STEP"
    "approvals approve|weir approvals approve RUN STEP"
    "approvals reject|weir approvals reject RUN STEP --comment"
    "approvals refine|weir approvals refine RUN STEP --comment"
    "version|usage: weir version"
    "drift|usage: weir drift --table T"
    "drift backfill|weir drift backfill --table T --from D1 --to D2"
    "impact|usage: weir impact"
    "lineage|usage: weir lineage"
    "hook|usage: weir hook install"
)
for c in "${cases[@]}"; do
    words=${c%%|*}
    want=${c#*|}
    for h in --help -h; do
        check "weir $words $h"
        # shellcheck disable=SC2086 # the command words split on purpose
        assert_exit 0 weir $words "$h"
        assert_contains "$OUT" "$want"
        assert_empty "$ERR"
    done
done

check "--help wins over a missing or bad argument, and needs no weir.yaml"
rm weir.yaml
assert_exit 0 weir run --help
assert_exit 0 weir run no-such.yaml other.yaml --help
assert_contains "$OUT" "usage: weir run"
assert_exit 0 weir approvals reject --help

check "run --help documents the options a scheduler needs"
assert_exit 0 weir run --help
for opt in --param --target --date --jobs --resume --quiet --json --config --workspace --plugin-dir "exit codes"; do
    assert_contains "$OUT" "$opt"
done

echo "cli/test_help: ok"
