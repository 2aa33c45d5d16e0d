#!/bin/sh
# install/template: what a third-party plugin author does, end to end.
#   1. `cmake --install` this build tree into a fresh prefix
#   2. build sdk/template out of tree with only that prefix to find weir in
#   3. run sdk/template/pipeline.yaml with the INSTALLED weir and the new plugin
# usage: template.sh CMAKE BUILD_DIR SOURCE_DIR WORK_DIR
set -eu
cmake=$1 build=$2 src=$3 work=$4

rm -rf "$work"
mkdir -p "$work/run"
prefix=$work/prefix

"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"
# The plugin must come from the installed SDK, not from this source tree.
unset WEIR_PLUGIN_PATH CMAKE_PREFIX_PATH
"$cmake" -S "$src/sdk/template" -B "$work/template" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/configure.log"
found=$(sed -n 's/^weir_DIR:PATH=//p' "$work/template/CMakeCache.txt")
case $found in
"$prefix"/*) ;;
*) echo "FAIL: find_package(weir) found '$found', not the install in $prefix" >&2; exit 1 ;;
esac
"$cmake" --build "$work/template" >"$work/build.log"

# A hung run fails the test in minutes, not at ctest's timeout.
weir() { timeout -k 10 120 "$prefix/bin/weir" "$@"; }

# The installed weir must find its own plugins (core) and the template one.
weir plugin describe core >/dev/null
weir plugin describe template --plugin-dir "$work/template"

cd "$work/run"
weir run "$src/sdk/template/pipeline.yaml" --plugin-dir "$work/template" \
    --param name=weir --json >"$work/run.json"
cat "$work/run.json"
for want in '"status": "success"' '"greeting": "HELLO, WEIR!"' '"count": 2' '"run_id": "'; do
    if ! grep -qF "$want" "$work/run.json"; then
        echo "FAIL: the run summary has no $want" >&2
        exit 1
    fi
done
echo "install/template: ok"
