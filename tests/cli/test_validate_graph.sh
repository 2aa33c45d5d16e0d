#!/usr/bin/env bash
# cli/test_validate_graph: `weir validate` (ok message, every error of a broken
# file, --json) and `weir graph` (dot and mermaid contain every edge).
. "$(dirname "$0")/lib.sh"
new_project

# a -> (b, c) -> d
cat >diamond.yaml <<'EOF'
version: 1
name: diamond
params:
  table: {type: string, default: orders}
steps:
  - id: a
    uses: core.echo
    with: {value: "${{ params.table }}"}
  - id: b
    needs: [a]
    uses: core.echo
  - id: c
    needs: [a]
    lua: "return 1"
  - id: d
    needs: [b, c]
    uses: core.echo
EOF
# three problems, each on its own line
cat >broken.yaml <<'EOF'
version: 1
name: broken
colour: blue
steps:
  - id: a
    uses: core.echo
    flavour: mint
  - id: b
    needs: [nowhere]
    uses: core.echo
EOF

check "validate: an ok message naming the file, the step count and the pipeline"
assert_exit 0 weir validate diamond.yaml
assert_contains "$OUT" "diamond.yaml: ok (4 steps, pipeline 'diamond')"
assert_empty "$ERR"

check "validate --json: valid, name, steps, params"
assert_exit 0 weir validate diamond.yaml --json
cp "$OUT" validate.json
got=$(json_query validate.json 'return {input.doc.valid, input.doc.pipeline, input.doc.steps, input.doc.params.table.default}')
assert_eq '[true,"diamond",4,"orders"]' "$got" "validate --json"

check "validate: a broken file lists ALL its errors, one line each, as file:line:col"
assert_exit 3 weir validate broken.yaml
assert_contains "$ERR" "broken.yaml:3:1:"
assert_contains "$ERR" "unknown key 'colour'"
assert_contains "$ERR" "broken.yaml:7:5:"
assert_contains "$ERR" "unknown key 'flavour'"
assert_contains "$ERR" "broken.yaml:9:"
assert_contains "$ERR" "nowhere"
n=$(grep -c '^broken\.yaml:[0-9]*:[0-9]*: ' "$ERR" || true)
assert_eq 3 "$n" "number of error lines"
assert_empty "$OUT"

check "validate: a YAML syntax error has file:line:col and exit 3"
printf 'version: 1\nsteps:\n  - id: a\n    uses: [core.echo\n' >syntax.yaml
assert_exit 3 weir validate syntax.yaml
grep -q '^syntax\.yaml:[0-9]*:[0-9]*: ' "$ERR" || fail "no file:line:col in$(show stderr "$ERR")"

check "validate: a cycle is named"
cat >cycle.yaml <<'EOF'
version: 1
steps:
  - id: x
    needs: [y]
    uses: core.echo
  - id: y
    needs: [x]
    uses: core.echo
EOF
assert_exit 3 weir validate cycle.yaml
assert_contains "$ERR" "cycle"
grep -q '^cycle\.yaml:[0-9]*:[0-9]*: ' "$ERR" || fail "no file:line:col in$(show stderr "$ERR")"

check "graph: dot by default, every edge"
assert_exit 0 weir graph diamond.yaml
assert_contains "$OUT" 'digraph "diamond" {'
for e in '"a" -> "b";' '"a" -> "c";' '"b" -> "d";' '"c" -> "d";'; do
    assert_contains "$OUT" "$e"
done
assert_eq 4 "$(grep -c -- '->' "$OUT")" "number of dot edges"
assert_contains "$OUT" "core.echo"
assert_exit 0 weir graph diamond.yaml --format dot
assert_contains "$OUT" '"c" -> "d";'

check "graph --format mermaid: every edge"
assert_exit 0 weir graph diamond.yaml --format mermaid
assert_contains "$OUT" "flowchart"
for e in 'a --> b' 'a --> c' 'b --> d' 'c --> d'; do
    assert_contains "$OUT" "$e"
done
assert_eq 4 "$(grep -c -- '-->' "$OUT")" "number of mermaid edges"

check "graph: an unknown format is a usage error, a broken pipeline exit 3"
assert_exit 2 weir graph diamond.yaml --format svg
assert_contains "$ERR" "svg"
assert_exit 3 weir graph broken.yaml
assert_contains "$ERR" "broken.yaml:3:1:"

echo "cli/test_validate_graph: ok"
