#!/usr/bin/env bash
# cli/test_aws_target: the shipped copilot, preload and postload pipelines run
# unchanged on a target made of the AWS plugins (glue-catalog, athena, s3)
# against tests/aws-server (which checks every SigV4 signature with botocore
# and runs Athena queries on SQLite), and produce the same artifacts as the
# local target on the same data. Documented difference: Athena's distinct
# counts above top_k are approximate, so the docs mark them "(approx.)".
. "$(dirname "$0")/lib.sh"
new_project
cp -R "$WEIR_SOURCE_DIR/examples/catalog" "$WEIR_SOURCE_DIR/examples/incoming" .
mkdir -p lake s3/weir-artifacts s3/weir-athena
cp -R "$WEIR_SOURCE_DIR/examples/lake/example-lake" lake/
cat >weir.yaml <<'EOF'
version: 1
workspace: .weir
default_target: local
targets:
  local: { catalog: lake, engine: lake, store: fs, llm: builtin, notify: file }
  aws-test:
    catalog: glue-catalog
    engine: { plugin: athena, with: { output_location: "s3://weir-athena/results/" } }
    store: { plugin: s3, with: { bucket: weir-artifacts } }
    llm: builtin
    notify: file
EOF
PIPES=$WEIR_SOURCE_DIR/pipelines
T=analytics_db.loan_repayment_fact

check "the AWS imitation server starts"
python3 "$WEIR_SOURCE_DIR/tests/aws-server/aws_server.py" --port-file port --pid-file server.pid \
    --catalog catalog --data lake --s3-root s3 --athena-polls 1 >server.log 2>&1 &
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "aws_server.py did not start: $(cat server.log)"
stop_server() { kill "$(cat "$PROJ/server.pid")" 2>/dev/null || true; cleanup; }
trap stop_server EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$(cat port)" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_GLUE AWS_ENDPOINT_URL_ATHENA

# Two JSON documents are equal (key order and layout aside).
same_json() {
    python3 - "$1" "$2" <<'EOF' || fail "$1 and $2 differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
if a != b:
    import difflib
    sys.stderr.write("".join(difflib.unified_diff(
        json.dumps(a, indent=1, sort_keys=True).splitlines(True),
        json.dumps(b, indent=1, sort_keys=True).splitlines(True), "local", "aws"))[:3000])
    sys.exit(1)
EOF
}

check "copilot: the same contract, tests and docs on both targets"
assert_exit 0 weir run "$PIPES/copilot.yaml" --param table=$T
assert_exit 0 weir run "$PIPES/copilot.yaml" --target aws-test --param table=$T
same_json lake/contracts/$T.json s3/weir-artifacts/contracts/$T.json
same_json lake/tests/$T.json s3/weir-artifacts/tests/$T.json
sed 's/ (approx\.)//' s3/weir-artifacts/docs/$T.md >docs-aws.md
diff -u lake/docs/$T.md docs-aws.md >docs.diff || fail "docs differ beyond (approx.): $(cat docs.diff)"
grep -q '(approx.)' s3/weir-artifacts/docs/$T.md || fail "the Athena docs mark no approximate count"

check "preload: the same valid and quarantined rows, uploaded to S3"
in=incoming/loan_repayment_fact/2026-10-04.csv
assert_exit 0 weir run "$PIPES/preload.yaml" --param input=$in --param max_quarantine_pct=25
assert_exit 0 weir run "$PIPES/preload.yaml" --target aws-test --param input=$in --param max_quarantine_pct=25
local_q=$(find lake/quarantine/$T -name rejected.jsonl)
aws_q=$(find s3/weir-artifacts/quarantine/$T -name rejected.jsonl)
local_v=$(find lake/preload/$T -name valid.csv)
aws_v=$(find s3/weir-artifacts/preload/$T -name valid.csv)
[ -n "$aws_q" ] && [ -n "$aws_v" ] || fail "no preload outputs in S3: $(find s3 -type f)"
cmp "$local_v" "$aws_v" || fail "valid rows differ"
assert_eq 4 "$(wc -l <"$aws_q")" "quarantined rows in S3"
python3 - "$local_q" "$aws_q" <<'EOF' || fail "quarantined rows differ"
import json, sys
def rows(p):
    out = []
    for line in open(p):
        r = json.loads(line)
        r.pop("run_id", None)
        out.append(r)
    return out
sys.exit(0 if rows(sys.argv[1]) == rows(sys.argv[2]) else 1)
EOF
# the aws run's local copies were removed once uploaded: only the local run's remain
assert_eq 1 "$(find lake/preload/$T -name valid.csv | wc -l)" "valid files on disk"
assert_eq 1 "$(find lake/quarantine/$T -name rejected.jsonl | wc -l)" "quarantine files on disk"

check "postload: the same test results on both targets (SQL in the Trino dialect on Athena)"
assert_exit 0 weir run "$PIPES/postload.yaml" --param table=$T --param date=2026-10-03
assert_exit 0 weir run "$PIPES/postload.yaml" --target aws-test --param table=$T --param date=2026-10-03
same_json lake/results/$T/2026-10-03.json s3/weir-artifacts/results/$T/2026-10-03.json

check "every AWS request was signed correctly (the server checked each with botocore)"
curl -sf "$AWS_ENDPOINT_URL/__weir/log" >requests.json || fail "no request log"
python3 - requests.json <<'EOF' || fail "a request was refused"
import json, sys
log = json.load(open(sys.argv[1]))
reqs = log if isinstance(log, list) else log.get("requests", [])
aws = [r for r in reqs if r.get("service") in ("glue", "athena", "s3")]
# a 404 is an answer (the copilot looks for a hand-edited contract first);
# 401/403 or a failed signature check would be a refusal
bad = [r for r in aws if r.get("signature_ok") is not True or int(r.get("status", 200)) in (401, 403)]
print("signed AWS requests: %d, refused: %d" % (len(aws), len(bad)))
sys.exit(1 if bad or len(aws) < 20 else 0)
EOF

echo "ok"
