#!/bin/sh
# Remove what install.sh installed for this user, and nothing else:
#
#   ~/.local/lib/reading-assistant/uninstall.sh      (or ./uninstall.sh from the unpacked tarball)
#
# It follows the list install.sh wrote (~/.local/lib/reading-assistant/installed-files), so the
# folders used at install time are found whatever XDG_DATA_HOME is now. Settings and logs in your
# config and state folders are kept; delete ~/.config/reading-assistant and
# ~/.local/state/reading-assistant as well to remove every trace.
set -eu

name=reading-assistant
: "${HOME:?HOME is not set}"
lib_dir="$HOME/.local/lib/$name"
manifest="$lib_dir/installed-files"
quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true

say() { $quiet || printf '%s\n' "$*"; }

if [ ! -f "$manifest" ]; then
    printf 'uninstall.sh: Reading Assistant is not installed (no %s)\n' "$manifest" >&2
    exit 1
fi
entries=$(cat "$manifest")

# Files and the command link (the link only while it still points into the install).
printf '%s\n' "$entries" | while IFS= read -r entry; do
    kind=${entry%% *}
    path=${entry#* }
    case $path in *"$name"*) ;; *) continue ;; esac  # every file install.sh writes carries the name
    case $kind in
        f) rm -f "$path" ;;
        l) if [ -L "$path" ] && [ "$(readlink "$path")" = "$lib_dir/$name" ]; then rm -f "$path"; fi ;;
    esac
done

# Caches: removed if this install created them and nothing else is left in them, else refreshed.
cache() {  # CACHE OTHERS COMMAND...: OTHERS is empty when nothing else is left to cache
    cache_file=$1 others=$2
    shift 2
    if printf '%s\n' "$entries" | grep -qxF "c $cache_file" && [ -z "$others" ]; then
        rm -f "$cache_file"
    elif [ -e "$cache_file" ] && command -v "$1" >/dev/null 2>&1; then
        "$@" 2>/dev/null || true
    fi
}
printf '%s\n' "$entries" | sed -n "s|^f \(.*\)/applications/$name\.desktop$|\1|p" | while IFS= read -r data_home; do
    apps="$data_home/applications"
    icons="$data_home/icons/hicolor"
    cache "$apps/mimeinfo.cache" "$(find "$apps" -name '*.desktop' 2>/dev/null | head -n 1)" \
        update-desktop-database -q "$apps"
    cache "$icons/icon-theme.cache" "$(find "$icons" -type f ! -name icon-theme.cache 2>/dev/null | head -n 1)" \
        gtk-update-icon-cache -q -t -f "$icons"
done

# The app folder (checked to be ours first), then the folders install.sh created, if now empty.
case $lib_dir in
    "$HOME"/.local/lib/"$name") rm -rf "$lib_dir" ;;
esac
printf '%s\n' "$entries" | sed -n 's/^d //p' | while IFS= read -r folder; do
    rmdir "$folder" 2>/dev/null || true
done

say "Removed Reading Assistant from $lib_dir"
