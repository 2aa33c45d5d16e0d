#!/usr/bin/env bash
# Installs the Debian 12 packages weir needs to build and test. Idempotent: when
# everything is already installed it does nothing, not even `apt-get update`,
# so repeated runs (and offline machines that have the packages) stay fast.
set -euo pipefail

packages=(
    build-essential cmake pkg-config git ca-certificates
    clang libclang-rt-14-dev # clang + libFuzzer, for the fuzz targets
    libyaml-dev libjansson-dev liblua5.4-dev libsqlite3-dev
    libgit2-dev libcurl4-openssl-dev libssl-dev # libcurl; OpenSSL libcrypto for SigV4
    libpcre2-dev # contract pre-load pattern rules
    libpg-query-dev # impact: the PostgreSQL parser for SQL job scripts
    libcmocka-dev # unit tests
    python3 python3-botocore # test servers: AWS wire shapes, independent SigV4 check
    python3-yaml # tests/aws-server: reads the short YAML table form of the catalog
    chromium libxml2-utils # drift report check: renders in headless Chromium, well-formed
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        echo "install-deps: missing packages (${missing[*]}) and not root; run as root or install sudo" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
