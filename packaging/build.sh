#!/usr/bin/env bash
# Build the one-folder bundle of the studio with PyInstaller, then smoke-test it.
#
#   bash packaging/build.sh            → build/bundle/dist/ModStudio/modstudio
#   BUILD_DIR=/tmp/b bash packaging/build.sh
#
# Prints the build time and the bundle size. tests/packaging/test_bundle.py (marked slow) runs this
# into a temp folder; CI runs that test after the suite (.ci/run; minutes, and ~1 GB with torch).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build/bundle}"
PYTHON="${PYTHON:-python}"

"$PYTHON" -m PyInstaller --version >/dev/null 2>&1 || "$PYTHON" -m pip install "pyinstaller>=6.10"
[[ -f packaging/icons/modstudio.ico ]] || "$PYTHON" packaging/make_icons.py

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$BUILD_DIR/dist" --workpath "$BUILD_DIR/work" packaging/modstudio.spec
build_s=$(( $(date +%s) - start ))
bundle="$BUILD_DIR/dist/ModStudio"

echo "built $bundle in ${build_s} s; size $(du -sh "$bundle" | cut -f1) ($(find "$bundle" -type f | wc -l) files)"
"$PYTHON" packaging/smoke.py "$bundle"
echo "bundle OK: $bundle"
