#!/usr/bin/env bash
# One-off check of the aws-server's wire shapes against the official AWS SDK v3
# JS clients: npm-installs the pinned clients into a temp dir outside the
# repository, starts aws_server.py on a free port and runs check.mjs against it.
# Needs node >= 18 and npm with registry access. Not part of CI.
#   usage: tests/aws-server/sdk-check/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d -t weir-sdk-check.XXXXXX)
server_pid=
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

cp "$here/package.json" "$here/check.mjs" "$work/"
(cd "$work" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

python3 "$here/../aws_server.py" --s3-min-part-size 5 --bedrock-token sdk-check-token \
    --log "$work/requests.jsonl" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
    [[ -s "$work/server.out" ]] && break
    sleep 0.1
done
port=$(sed -n 's/^PORT=//p' "$work/server.out")
[[ -n "$port" ]] || { echo "run.sh: aws_server.py did not start:" >&2; cat "$work/server.err" >&2; exit 1; }

(cd "$work" && AWS_SERVER_URL="http://127.0.0.1:$port" BEDROCK_TOKEN=sdk-check-token node check.mjs)
echo "versions: $(cd "$work" && npm ls --depth=0 2>/dev/null | tail -n +2 | tr -d '\n')"
