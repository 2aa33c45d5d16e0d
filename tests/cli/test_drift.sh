#!/usr/bin/env bash
# cli/test_drift: `weir drift` on the drift example (analytics_db.payment_events:
# 40 days, six planted incidents listed in examples/drift/incidents.json).
#   - backfill builds the stats history from the day partitions;
#   - every day is judged; each planted incident must be flagged on its day by
#     its detector (recall), and from the day the weekly pattern is known on
#     (day 21) every clean day must raise nothing; precision and recall over
#     all 40 days are printed;
#   - exit codes: 1 on an error-severity day, 0 on a clean one;
#   - the HTML report is well-formed (XML and HTML parsers), holds one SVG per
#     judged metric and renders in headless Chromium (PNG left in the build
#     tree's tests/out/); the Markdown report names the anomaly.
. "$(dirname "$0")/lib.sh"
new_project
cp "$WEIR_SOURCE_DIR/examples/weir.yaml" .
cp -R "$WEIR_SOURCE_DIR/examples/catalog" .
mkdir lake
cp -R "$WEIR_SOURCE_DIR/examples/lake/example-lake" lake/
TRUTH=$WEIR_SOURCE_DIR/examples/drift/incidents.json
T=analytics_db.payment_events

check "backfill: one stats-history file per day partition"
assert_exit 0 weir drift backfill --table $T --from 2026-09-01 --to 2026-10-10 --schema files
assert_contains "$OUT" "backfilled 40 days of $T (0 gaps)"
assert_eq 40 "$(find lake/stats-history/$T -name '*.json' | wc -l)" "history files"

check "every day judged: the verdicts"
: >verdicts.jsonl
for k in $(seq 0 39); do
    day=$(date -u -d "2026-09-01 + $k days" +%F)
    set +e
    weir drift --table $T --date "$day" --no-record --json >day.json 2>day.err
    rc=$?
    set -e
    [ $rc -le 1 ] || fail "weir drift --date $day exited $rc: $(cat day.err)"
    json_query day.json 'local a = {}
      for _, x in ipairs(input.doc.anomalies) do
        a[#a + 1] = { detector = x.detector, metric = x.metric, column = x.column, severity = x.severity }
      end
      return { date = input.doc.date, status = input.doc.status, anomalies = weir.array(a),
               series = #input.doc.series }' >>verdicts.jsonl
    if [ "$day" = 2026-10-02 ]; then cp day.json incident-day.json; fi
done

check "precision and recall against the planted incidents"
python3 - "$TRUTH" verdicts.jsonl <<'EOF' || fail "drift evaluation failed (see above)"
import json, sys
truth = json.load(open(sys.argv[1]))["incidents"]
days = [json.loads(line) for line in open(sys.argv[2])]
planted = {t["date"]: t for t in truth}
tp = fp = 0
found = set()
late_false = []
for d in days:
    t = planted.get(d["date"])
    for a in d["anomalies"]:
        hit = t and a["detector"] == t["detector"] and a["column"] == t["column"]
        if hit:
            found.add(d["date"])
        # other alarms on an incident day describe the same incident (e.g. PSI
        # next to a new category, p50 next to mean): not false, not counted
        elif not t:
            fp += 1
            if d["date"] >= "2026-09-21":
                late_false.append((d["date"], a))
    if t and d["date"] in found:
        tp += 1
recall = len(found) / len(planted)
precision = tp / (tp + fp) if tp + fp else 1.0
clean_late = [d for d in days if d["date"] >= "2026-09-21" and d["date"] not in planted]
print("drift evaluation: %d planted, %d found on the right day by the right detector" % (len(planted), len(found)))
print("  recall %.2f  precision %.2f (day-level: %d true, %d false alarms over 40 days)" % (recall, precision, tp, fp))
print("  clean days from 2026-09-21: %d, alarms on them: %d" % (len(clean_late), len(late_false)))
missed = sorted(set(planted) - found)
if missed:
    print("  MISSED:", missed)
for f in late_false:
    print("  FALSE ALARM:", f)
ok = recall == 1.0 and not late_false and len(clean_late) >= 10 and precision >= 0.85
sys.exit(0 if ok else 1)
EOF

check "exit codes: 1 on an incident day, 0 on a clean day"
assert_exit 1 weir drift --table $T --date 2026-10-02 --no-record
assert_contains "$OUT" "distribution"
assert_contains "$OUT" "amount.mean"
assert_exit 0 weir drift --table $T --date 2026-10-03 --no-record
assert_contains "$OUT" "OK, 0 errors"

check "a daily run with the catalog's columns after a files backfill: partition keys are not drift"
assert_exit 0 weir drift --table $T --date 2026-10-08
assert_contains "$OUT" "OK, 0 errors, 0 warnings"

check "the Markdown report names the anomaly and its expected range"
MD=lake/reports/drift/$T/2026-10-02.md
HTML=lake/reports/drift/$T/2026-10-02.html
assert_exit 1 weir drift --table $T --date 2026-10-02 --no-record --narrative
assert_contains "$MD" "# Drift report: $T, 2026-10-02"
assert_contains "$MD" '| error | distribution | `amount.mean` |'
assert_contains "$MD" "## What it may mean"
assert_contains "$MD" "unit or currency change"

check "the HTML report: well-formed, one SVG per judged metric, no external asset"
series=$(json_query incident-day.json 'return #input.doc.series')
[ "$series" -ge 10 ] || fail "only $series judged series"
xmllint --noout "$HTML" 2>xml.err || fail "not well-formed XML: $(cat xml.err)"
xmllint --html --noout "$HTML" 2>html.err || fail "HTML parser complained: $(cat html.err)"
assert_eq "$series" "$(grep -o '<svg ' "$HTML" | wc -l)" "SVG count"
assert_eq 3 "$(grep -o 'class="chart bad"' "$HTML" | wc -l)" "anomalous charts (amount p50, p95, mean)"
if grep -Eq '(src|href)="(https?:)?//' "$HTML"; then fail "external asset in the report"; fi
if grep -q '<script' "$HTML"; then fail "script in the report"; fi

check "the HTML report renders in headless Chromium"
CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || fail "chromium is not installed (scripts/install-deps.sh installs it)"
PNG_DIR=${WEIR_BINARY_DIR:-$PROJ}/tests/out
mkdir -p "$PNG_DIR"
PNG=$PNG_DIR/drift-report.png
rm -f "$PNG"
chrome() {
    timeout -k 5 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --user-data-dir="$PROJ/chrome" "$@" 2>>chrome.err
}
chrome --window-size=1200,1600 --screenshot="$PNG" "file://$PROJ/$HTML" >/dev/null ||
    fail "chromium could not render the report: $(tail -5 chrome.err)"
[ -s "$PNG" ] || fail "chromium wrote no PNG"
head -c 8 "$PNG" | od -An -c | grep -q 'P   N   G' || fail "$PNG is not a PNG"
chrome --dump-dom "file://$PROJ/$HTML" >dom.html ||
    fail "chromium could not load the report: $(tail -5 chrome.err)"
assert_eq "$series" "$(grep -o '<svg ' dom.html | wc -l)" "SVGs in the rendered DOM"
echo "rendered: $PNG ($(stat -c %s "$PNG") bytes)"

check "the day's post-load results (results/<table>/<date>.json) are in the report"
mkdir -p lake/results/$T
printf '%s\n' '{"table": "'$T'", "date": "2026-10-03", "passed": 5, "failed": 1, "errors": 0,' \
    '"skipped": 0, "results": [{"name": "unique_event_id", "status": "failed", "severity": "error",' \
    '"expectation": "failures == 0", "message": "3 duplicate keys"}]}' >lake/results/$T/2026-10-03.json
assert_exit 0 weir drift --table $T --date 2026-10-03 --no-record
assert_contains "$OUT" "post-load tests: 5 passed, 1 failed"
assert_contains lake/reports/drift/$T/2026-10-03.md '- failed `unique_event_id` (error): 3 duplicate keys'

check "a day with no rows is an error for the scheduler, even without history to compare"
assert_exit 1 weir drift --table $T --date 2026-10-11
assert_contains "$OUT" "no data: nothing was loaded for $T on 2026-10-11"

check "usage errors exit 2"
assert_exit 2 weir drift --table $T --database analytics_db
assert_exit 2 weir drift --table $T --date 2026-13-01
assert_exit 2 weir drift backfill --table $T --from 2026-10-02 --to 2026-10-01
assert_exit 2 weir drift --table $T --schema crawler

echo "ok"
