#!/usr/bin/env bash
# How precisely the Lua time budget stops runaway scripts: runs a 1000 ms
# budget against `while true do end` plain, inside pcall, inside a coroutine
# and inside an xpcall handler, and prints each step's wall time.
#
#   bench/lua-timeout.sh [BUILD_DIR]        (default: build)
#
# The target is <= 1100 ms each. Not a test: a busy machine delays threads.
set -euo pipefail
weir="$(cd "${1:-build}" && pwd)/bin/weir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'version: 1\nworkspace: .weir\nlua: { time_budget_ms: 1000 }\n' > weir.yaml
declare -A scripts=(
    [plain]='while true do end'
    [pcall]='while true do pcall(function() while true do end end) end'
    [coroutine]='coroutine.wrap(function() while true do end end)()'
    [xpcall_handler]='xpcall(function() error("x") end, function() while true do end end)'
)
for name in plain pcall coroutine xpcall_handler; do
    printf 'version: 1\nsteps:\n  - id: spin\n    lua: |\n      %s\n' "${scripts[$name]}" > p.yaml
    t0=$(date +%s%N)
    "$weir" run -q p.yaml > /dev/null 2>&1 || true
    t1=$(date +%s%N)
    printf '%-16s %6d ms (budget 1000 ms, includes ~10 ms of weir start-up)\n' "$name" $(((t1 - t0) / 1000000))
done
