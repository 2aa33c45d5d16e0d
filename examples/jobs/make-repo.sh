#!/bin/sh
# make-repo.sh DIR [N] - builds a throwaway git repository of the example jobs
# for the impact walkthrough (WALKTHROUGH.md) and the tests: commit 1 has the
# scripts of this folder under jobs/, commit n (2..N) applies versions/<n>/
# on top (its commit message is versions/<n>.txt). N defaults to every
# version. DIR must not exist yet.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: make-repo.sh DIR [N]}
last=${2:-99}
if [ -e "$dir" ]; then
    echo "make-repo.sh: $dir exists; give a new directory" >&2
    exit 2
fi
mkdir -p "$dir/jobs"
cd "$dir"
git init -q -b main
git config user.name "weir example"
git config user.email "example@weir.invalid"
cp "$here"/*.py "$here"/*.sql jobs/
git add jobs
git commit -q -m "v1: loan repayments ETL and the monthly summary"
n=2
while [ "$n" -le "$last" ] && [ -d "$here/versions/$n" ]; do
    cp "$here/versions/$n"/* jobs/
    git add jobs
    git commit -q -m "v$n: $(cat "$here/versions/$n.txt" 2>/dev/null || echo "version $n")"
    n=$((n + 1))
done
git log --oneline
