# lib.sh - helpers shared by the benchmark scripts (sourced, not run).

now_ms() { date +%s%3N; }

# Runs "$@" and sets secs and rss_kb (peak RSS) for it, output in run.out.
# Returns the command's status (callers use `measure ... || fail`: set -e does
# not apply inside a function called that way).
measure() {
    local t0 t1 rc=0
    t0=$(now_ms)
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -v -o time.txt "$@" > run.out 2>&1 || rc=$?
        rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' time.txt)
    else
        python3 - "$@" > run.out 2>&1 <<'PY' || rc=$?
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print("maxrss_kb", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
        rss_kb=$(awk '/^maxrss_kb/ {print $2}' run.out)
    fi
    t1=$(now_ms)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
    return $rc
}
