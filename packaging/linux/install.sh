#!/usr/bin/env bash
# Install the desktop integration for one user: the launcher entry, AppStream metadata, icons and
# the .modstudio file type, so ModStudio appears in the application menu and project files open
# with it on double-click.
#
#   bash packaging/linux/install.sh [BUNDLE_DIR]   BUNDLE_DIR: a built dist/ModStudio folder, copied
#                                                 to ~/.local/opt/ModStudio and linked as
#                                                 ~/.local/bin/modstudio. Without it the `modstudio`
#                                                 command already on PATH (pip install) is used.
#   PREFIX=/usr/local sudo -E bash packaging/linux/install.sh ...   for every user
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ICONS="$HERE/../icons"
ROOT="$HERE/../.."
PREFIX="${PREFIX:-$HOME/.local}"
SHARE="$PREFIX/share"
APP_ID=io.github.modstudio.ModStudio

if [[ $# -ge 1 ]]; then
    bundle="$(cd "$1" && pwd)"
    [[ -x "$bundle/modstudio" ]] || { echo "no executable at $bundle/modstudio" >&2; exit 2; }
    mkdir -p "$PREFIX/opt" "$PREFIX/bin"
    rm -rf "$PREFIX/opt/ModStudio"
    cp -a "$bundle" "$PREFIX/opt/ModStudio"
    ln -sf "$PREFIX/opt/ModStudio/modstudio" "$PREFIX/bin/modstudio"
    echo "installed the bundle in $PREFIX/opt/ModStudio (command: $PREFIX/bin/modstudio)"
fi

install -Dm644 "$HERE/$APP_ID.desktop" "$SHARE/applications/$APP_ID.desktop"
install -Dm644 "$HERE/$APP_ID.metainfo.xml" "$SHARE/metainfo/$APP_ID.metainfo.xml"
install -Dm644 "$HERE/modstudio-mime.xml" "$SHARE/mime/packages/modstudio.xml"
install -Dm644 "$ROOT/modstudio/resources/icons/modstudio.svg" "$SHARE/icons/hicolor/scalable/apps/$APP_ID.svg"
install -Dm644 "$ICONS/application-x-modstudio.svg" "$SHARE/icons/hicolor/scalable/mimetypes/application-x-modstudio.svg"
for png in "$ICONS"/hicolor/*/*/*.png; do
    rel="${png#"$ICONS"/hicolor/}"
    install -Dm644 "$png" "$SHARE/icons/hicolor/$rel"
done

command -v update-mime-database >/dev/null && update-mime-database "$SHARE/mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database -q "$SHARE/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
echo "desktop entry, file type and icons installed under $SHARE"
