#!/usr/bin/env bash
# Runtime overhead benchmark: validate + run of generated pipelines with N
# steps of core.echo (chain, independent fan-out, for_each) and of Lua, and
# the per-step cost derived from the difference to a 1-step pipeline.
#
#   bench/runtime.sh [BUILD_DIR] [N]        (defaults: build, 1000)
#
# Prints one line per case: median wall time of 5 runs and µs per step.
# Not a test: the machine is shared and noisy; read the figures, don't assert.
set -euo pipefail
build=${1:-build}
n=${2:-1000}
weir="$(cd "$build" && pwd)/bin/weir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'version: 1\nworkspace: .weir\n' > weir.yaml

gen_chain() { # $1 steps, $2 kind (echo|lua)
    echo "version: 1"; echo "name: chain"; echo "steps:"
    for ((i = 0; i < $1; i++)); do
        echo "  - id: s$i"
        if [[ $2 == lua ]]; then
            echo "    lua: 'return (input.v or 0) + 1'"
        else
            echo "    uses: core.echo"
        fi
        if ((i > 0)); then
            echo "    needs: [s$((i - 1))]"
            echo "    with: { v$([[ $2 == lua ]] || echo alue): \"\${{ steps.s$((i - 1)).output }}\" }"
        else
            echo "    with: { v$([[ $2 == lua ]] || echo alue): 0 }"
        fi
    done
}

gen_fanout() { # $1 independent steps
    echo "version: 1"; echo "name: fanout"; echo "steps:"
    for ((i = 0; i < $1; i++)); do
        echo "  - id: s$i"; echo "    uses: core.echo"; echo "    with: { value: $i }"
    done
}

gen_foreach() { # one step over $1 items
    echo "version: 1"; echo "name: foreach"; echo "steps:"
    echo "  - id: items"; echo "    lua: 'local t = weir.array({}) for i = 1, $1 do t[i] = i end return t'"
    echo "  - id: each"; echo "    needs: [items]"; echo "    for_each: \"\${{ steps.items.output }}\""
    echo "    uses: core.echo"; echo "    with: { value: \"\${{ item }}\" }"
}

median_ms() { # runs "$@" 5 times, prints the median wall time in ms
    local times=()
    for _ in 1 2 3 4 5; do
        local t0 t1
        t0=$(date +%s%N)
        "$@" > /dev/null
        t1=$(date +%s%N)
        times+=($(((t1 - t0) / 1000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 / 1000 }'
}

report() { # name, file, steps
    local v r base
    v=$(median_ms "$weir" validate "$2")
    "$weir" run -q -j "$jobs" "$2" > /dev/null || { echo "$1: run failed" >&2; exit 1; }
    r=$(median_ms "$weir" run -q -j "$jobs" "$2")
    base=$(median_ms "$weir" run -q -j "$jobs" one.yaml)
    awk -v name="$1" -v v="$v" -v r="$r" -v b="$base" -v n="$3" 'BEGIN {
        printf "%-22s steps %5d  validate %8.1f ms  run %8.1f ms  per step %6.1f us\n",
               name, n, v, r, (r - b) * 1000 / (n - 1) }'
}

gen_chain 1 echo > one.yaml
gen_chain "$n" echo > chain.yaml
gen_chain "$n" lua > lua.yaml
gen_fanout "$n" > fanout.yaml
gen_foreach "$n" > foreach.yaml
echo "weir $("$weir" version | cut -d' ' -f2) on $(nproc) cores; median of 5 runs; per step = (run - 1-step run) / (N - 1)"
for jobs in 1 2; do
    echo "-j $jobs:"
    report "chain core.echo" chain.yaml "$n"
    report "fan-out core.echo" fanout.yaml "$n"
    report "for_each core.echo" foreach.yaml "$n"
    report "chain lua" lua.yaml "$n"
done
