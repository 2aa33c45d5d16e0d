#!/usr/bin/env bash
# cli/test_plugins: `weir plugins` and `weir plugin describe`, and how an
# unsafe plugin file in a --plugin-dir is reported.
. "$(dirname "$0")/lib.sh"
new_project

installed=$(dirname "$WEIR_BIN")/../lib/weir/plugins
[ -f "$installed/core.so" ] || fail "no core.so next to weir in $installed"
core_steps="echo fail flaky sleep shell json_read json_write log"

check "weir plugins: lists core and every one of its steps"
assert_exit 0 weir plugins
grep -q '^core [0-9]' "$OUT" || fail "no loaded core line$(show stdout "$OUT")"
for s in $core_steps; do
    grep -q "^    core\.$s " "$OUT" || fail "no core.$s line$(show stdout "$OUT")"
done
assert_not_contains "$OUT" "core  (not loaded)"
assert_empty "$ERR"

check "weir plugins --json parses; core is loaded, from the dir next to weir"
assert_exit 0 weir plugins --json
cp "$OUT" plugins.json
got=$(json_query plugins.json '
for _, p in ipairs(input.doc) do
  if p.name == "core" then
    local names = {}
    for _, s in ipairs(p.steps) do names[#names + 1] = s.name end
    return {p.loaded, p.path:match("[^/]+/[^/]+$"), table.concat(names, " ")}
  end
end
return "no core"')
assert_eq "[true,\"plugins/core.so\",\"${core_steps}\"]" "$got" "core in plugins --json"

check "weir plugin describe core: params with type, required and defaults"
assert_exit 0 weir plugin describe core
assert_contains "$OUT" "uses: core.sleep"
grep -q '^    ms  *integer  *required ' "$OUT" || fail "no required integer ms param$(show stdout "$OUT")"
grep -q '^    failures  *integer  *optional .*(default 1)$' "$OUT" || fail "no flaky failures default$(show stdout "$OUT")"
grep -q '^    message  *string  *optional .*(default "core.fail was asked to fail")$' "$OUT" ||
    fail "no core.fail message default$(show stdout "$OUT")"
grep -q '^    check  *boolean  *optional .*(default true)$' "$OUT" || fail "no core.shell check default$(show stdout "$OUT")"
assert_exit 0 weir plugin describe core --json
cp "$OUT" describe.json
got=$(json_query describe.json '
for _, s in ipairs(input.doc.steps) do
  if s.name == "shell" then
    for _, p in ipairs(s.params) do
      if p.name == "max_output_bytes" then return {p.type, p.required, p.default} end
    end
  end
end
return "not found"')
assert_eq '["integer",false,1048576]' "$got" "core.shell max_output_bytes in describe --json"

check "weir plugin describe: an unknown plugin exits 2 and says so; bad usage exits 2"
assert_exit 2 weir plugin describe no_such_plugin
assert_contains "$ERR" "no plugin named 'no_such_plugin'"
assert_exit 2 weir plugin describe
assert_exit 2 weir plugin show core
assert_exit 2 weir plugins core

check "a world-writable core.so in --plugin-dir is refused, with the reason"
mkdir unsafe
cp "$installed/core.so" unsafe/core.so
chmod 666 unsafe/core.so
assert_exit 0 weir plugins --plugin-dir unsafe
assert_contains "$OUT" "core  (not loaded)"
assert_contains "$OUT" "unsafe/core.so"
assert_contains "$OUT" "refusing a group- or world-writable file (mode 0666)"
assert_contains "$OUT" "chmod go-w"
# The refused copy shadows nothing: the installed core still loads and serves
# core.* (the unsafe file is never dlopen'ed).
grep -q '^core [0-9]' "$OUT" || fail "the installed core did not load$(show stdout "$OUT")"
assert_exit 0 weir plugins --plugin-dir unsafe --json
cp "$OUT" unsafe.json
got=$(json_query unsafe.json '
local out = {}
for _, p in ipairs(input.doc) do
  if p.name == "core" then out[#out + 1] = {p.loaded, p.path:match("[^/]+/[^/]+$")} end
end
return out')
assert_eq '[[false,"unsafe/core.so"],[true,"plugins/core.so"]]' "$got" "core entries with the unsafe dir"

check "a group-writable copy is refused as well; a safe copy in --plugin-dir is used first"
chmod 664 unsafe/core.so
assert_exit 0 weir plugins --plugin-dir unsafe
assert_contains "$OUT" "(mode 0664)"
chmod 644 unsafe/core.so
assert_exit 0 weir plugins --plugin-dir unsafe --json
cp "$OUT" safe.json
got=$(json_query safe.json '
local out = {}
for _, p in ipairs(input.doc) do
  if p.name == "core" and p.loaded then out[#out + 1] = p.path:match("[^/]+/[^/]+$") end
end
return out')
assert_eq '["unsafe/core.so"]' "$got" "the loaded core with a safe copy in --plugin-dir"

check "a world-writable plugin under another name: not loaded, the same refusal"
mkdir other
cp "$installed/core.so" other/mine.so
chmod 666 other/mine.so
assert_exit 0 weir plugins --plugin-dir other
assert_contains "$OUT" "mine  (not loaded)"
assert_contains "$OUT" "refusing a group- or world-writable file"
assert_exit 0 weir plugin describe mine --plugin-dir other
assert_contains "$OUT" "mine: not loaded:"

check "a pipeline using an unknown plugin step is invalid (exit 3)"
printf 'version: 1\nsteps:\n  - id: a\n    uses: mine.echo\n' >uses_mine.yaml
assert_exit 3 weir validate uses_mine.yaml --plugin-dir other
assert_contains "$ERR" "uses_mine.yaml:4:"

echo "cli/test_plugins: ok"
