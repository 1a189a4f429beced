#!/usr/bin/env bash
# Installs the LLVM 23 bundle that burn 0.22's CUDA backend needs at build time, from PyPI, on a
# machine that cannot reach GitHub.
#
# Why: `--features cuda` builds cubecl-llvm, whose build dependency tracel-llvm-bundler downloads
# `tracel-llvm-<version>` from GitHub into `$XDG_DATA_HOME/tracel/` (default
# `~/.local/share/tracel/`) unless a directory there already holds the sentinel file
# `.tracel-llvm-installed` (read from tracel-llvm-bundler 23.1.0-4's build.rs and config.rs).
# With internet access you do not need this script: the first CUDA build downloads the bundle
# itself. PyPI's mlc-llvm-static wheels hold the same static LLVM 23 (bin/ include/ lib/ share/;
# 23.1.1 for the bundler's 23.1.0); the NVPTX target libraries are only in the extra-targets
# wheel. Their `llvm-config` is a Python script, so python3 must be on PATH during the build.
# cubecl-llvm links LLVM statically: the built binary needs no LLVM at run time.
#
# Usage: scripts/offline-llvm.sh            # then: cargo build --release --features cuda
#        XDG_DATA_HOME=/dir scripts/offline-llvm.sh   # export the same XDG_DATA_HOME to cargo
set -euo pipefail

BUNDLE_VERSION="${TRACEL_LLVM_VERSION:-23.1.0-4}"   # tracel-llvm-bundler's version (Cargo.lock)
WHEEL_VERSION="${MLC_LLVM_VERSION:-23.1.1.post0}"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
DEST="$DATA/tracel/tracel-llvm-$BUNDLE_VERSION"

if [ -e "$DEST/.tracel-llvm-installed" ]; then
    echo "LLVM bundle already installed: $DEST"
    exit 0
fi
command -v python3 >/dev/null || { echo "python3 is needed (llvm-config is a Python script)" >&2; exit 1; }
command -v unzip >/dev/null || { echo "unzip is needed (apt-get install unzip)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" \
    "mlc-llvm-static==$WHEEL_VERSION" "mlc-llvm-static-extra-targets==$WHEEL_VERSION"
for w in "$tmp"/mlc_llvm_static-*.whl "$tmp"/mlc_llvm_static_extra_targets-*.whl; do
    unzip -q -o "$w" -d "$tmp/unpacked"
done
[ -d "$tmp/unpacked/mlc_llvm_static/static/lib" ] || {
    echo "unexpected wheel layout: no mlc_llvm_static/static/lib" >&2
    exit 1
}
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.partial"
cp -a "$tmp/unpacked/mlc_llvm_static/static" "$DEST.partial"
"$DEST.partial/bin/llvm-config" --version >/dev/null
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
touch "$DEST/.tracel-llvm-installed"
echo "installed LLVM $("$DEST/bin/llvm-config" --version) into $DEST"
