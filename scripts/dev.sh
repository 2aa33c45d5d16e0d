#!/usr/bin/env bash
# dev.sh - build, try and test weir from a fresh clone (Debian 12).
#
#   ./scripts/dev.sh demo    dependencies, build, then the demo pipeline on the example lake
#   ./scripts/dev.sh test    dependencies, then the whole test suite (see cmd_test)
#   ./scripts/dev.sh build   dependencies and the build only
#
# Needs no network beyond apt and no cloud account. Build dirs: build/ (normal)
# and build-asan/ (clang, ASan+UBSan, libFuzzer targets). WEIR_TEST_JOBS sets
# ctest's parallelism (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
test_jobs=${WEIR_TEST_JOBS:-2}

step() { printf '\n==> %s\n' "$*"; }

# configure_build DIR CMAKE_ARGS...
configure_build() {
    local dir=$1
    shift
    cmake -S . -B "$dir" "$@"
    cmake --build "$dir" -j "$jobs"
}

# run_ctest DIR: every test of that build; the last lines are ctest's summary.
run_ctest() {
    (cd "$1" && ctest --output-on-failure -j "$test_jobs")
}

cmd_build() {
    step "dependencies"
    ./scripts/install-deps.sh
    step "build/ (RelWithDebInfo)"
    configure_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
}

cmd_demo() {
    local stamp
    cmd_build
    stamp=$(mktemp)
    step "demo: weir run pipelines/demo.yaml, from examples/ (its weir.yaml: target local)"
    (cd examples && ../build/bin/weir run ../pipelines/demo.yaml --json)
    step "artifacts"
    echo "run state and event logs: examples/.weir/ (weir runs list, weir runs show RUN)"
    echo "artifacts written by this run (store root examples/lake/):"
    find examples/lake -type f -newer "$stamp" | sort
    rm -f "$stamp"
}

# 1. build/: unit, runtime and plugin tests, the SDK headers as strict C99 and
#    C++11, and install/template: `cmake --install` into a temporary prefix,
#    sdk/template built out of tree against that prefix only, and its pipeline
#    run by the installed weir.
# 2. build-asan/: the same tests built by clang with ASan+UBSan, plus a 30 s
#    libFuzzer run of every fuzz_* target (fuzz/<name>). Last, so the final
#    line is the ctest summary that counts every kind of test.
cmd_test() {
    step "dependencies"
    ./scripts/install-deps.sh
    step "1/2 build/: normal build and tests"
    configure_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEIR_BUILD_TESTS=ON
    run_ctest build
    step "2/2 build-asan/: clang + ASan + UBSan build, tests and fuzz smoke runs"
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
    CC=clang configure_build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEIR_BUILD_TESTS=ON \
        -DWEIR_SANITIZE=ON -DWEIR_FUZZ=ON
    run_ctest build-asan
}

case ${1:-} in
build | demo | test) "cmd_$1" ;;
*)
    sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
