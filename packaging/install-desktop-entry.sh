#!/bin/sh
# Add ET Denoise to your applications menu (for you only; no administrator rights needed).
#
#   ./install-desktop-entry.sh              add the menu entry and icon for this app folder
#   ./install-desktop-entry.sh --uninstall  remove them
#
# Run it from the unpacked app folder, and again after moving the folder.
set -eu

app_dir=$(cd "$(dirname "$0")" && pwd)
data_dir=${XDG_DATA_HOME:-$HOME/.local/share}
entry="$data_dir/applications/et-denoise.desktop"
sizes="16 22 24 32 48 64 128 256 512"

refresh() {
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data_dir/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data_dir/icons/hicolor" || true
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$entry"
    for size in $sizes; do
        rm -f "$data_dir/icons/hicolor/${size}x${size}/apps/et-denoise.png"
    done
    refresh
    echo "Removed ET Denoise from the applications menu."
    exit 0
fi

executable="$app_dir/et-denoise"
if [ ! -x "$executable" ]; then
    echo "error: $executable not found: run this script from the unpacked ET Denoise folder" >&2
    exit 1
fi
for size in $sizes; do
    mkdir -p "$data_dir/icons/hicolor/${size}x${size}/apps"
    cp "$app_dir/_internal/et_denoise/resources/app-icon-$size.png" "$data_dir/icons/hicolor/${size}x${size}/apps/et-denoise.png"
done
# Exec takes the path in double quotes (the folder may contain spaces), with " ` $ and \ escaped by a
# backslash, and every backslash doubled once more because the whole value is an escaped string.
quoted=$(printf '%s' "$executable" | sed -e 's/\\/\\\\\\\\/g' -e 's/["`$]/\\\\&/g')
unquoted=$(printf '%s' "$executable" | sed -e 's/\\/\\\\/g')
mkdir -p "$data_dir/applications"
while IFS= read -r line; do
    case $line in
        Exec=*) printf 'Exec="%s" %%f\n' "$quoted" ;;
        TryExec=*) printf 'TryExec=%s\n' "$unquoted" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$app_dir/et-denoise.desktop" > "$entry"
refresh
echo "Added ET Denoise to the applications menu: $entry"
