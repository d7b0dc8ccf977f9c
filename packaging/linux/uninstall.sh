#!/bin/sh
# Remove what install.sh installed for this user, and nothing else:
#
#   ~/.local/lib/reading-assistant/uninstall.sh           (or ./uninstall.sh from the unpacked tarball)
#   ~/.local/lib/reading-assistant/uninstall.sh --purge   also your settings, history, log, library and caches
#
# It follows the list install.sh wrote (~/.local/lib/reading-assistant/installed-files), so the
# folders used at install time are found whatever XDG_DATA_HOME is now. What the app wrote for you
# is kept unless you say --purge, and it says where: your settings with the recent files and the
# question history, the log, the library's index and the models you added, the cached pastes and OCR
# results. Your documents themselves are never touched. --purge works after an uninstall too.
set -eu

name=reading-assistant
: "${HOME:?HOME is not set}"
lib_dir="$HOME/.local/lib/$name"
manifest="$lib_dir/installed-files"
quiet=false
purge=false
for argument in "$@"; do
    case $argument in
        --quiet) quiet=true ;;
        --purge) purge=true ;;
        -h | --help)
            printf 'usage: uninstall.sh [--purge] [--quiet]\n'
            printf '  --purge  also remove your settings, question history, log, library index, added models and caches\n'
            exit 0
            ;;
        *)
            printf 'uninstall.sh: unknown option %s (see --help)\n' "$argument" >&2
            exit 2
            ;;
    esac
done

say() { $quiet || printf '%s\n' "$*"; }

# The app's own folders, where it finds them (platformdirs: an absolute XDG_* variable, else the default).
xdg_folder() {  # VARIABLE DEFAULT
    eval "folder=\${$1:-}"
    case $folder in
        /*) printf '%s/%s\n' "$folder" "$name" ;;
        *) printf '%s/%s/%s\n' "$HOME" "$2" "$name" ;;
    esac
}
config_dir=$(xdg_folder XDG_CONFIG_HOME .config)
state_dir=$(xdg_folder XDG_STATE_HOME .local/state)
data_dir=$(xdg_folder XDG_DATA_HOME .local/share)
cache_dir=$(xdg_folder XDG_CACHE_HOME .cache)

if [ -f "$manifest" ]; then
    entries=$(cat "$manifest")
elif $purge; then
    entries=""
    say "Reading Assistant is not installed in $lib_dir; removing only what it kept for you"
else
    printf 'uninstall.sh: Reading Assistant is not installed (no %s); --purge removes what it kept for you\n' "$manifest" >&2
    exit 1
fi

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
if [ -n "$entries" ]; then
    case $lib_dir in
        "$HOME"/.local/lib/"$name") rm -rf "$lib_dir" ;;
    esac
    printf '%s\n' "$entries" | sed -n 's/^d //p' | while IFS= read -r folder; do
        rmdir "$folder" 2>/dev/null || true
    done
    say "Removed Reading Assistant from $lib_dir"
fi

# What the app wrote for you: removed with --purge (a link is removed, never what it points to),
# else named, with the command that removes it.
quoted() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
removal=""
user_folder() {  # FOLDER WHAT
    [ -e "$1" ] || [ -L "$1" ] || return 0
    if $purge; then
        rm -rf "$1"
        say "Removed $1 ($2)"
    else
        [ -n "$removal" ] || say "Kept for a later install (your documents are never touched):"
        say "  $1  ($2)"
        removal="$removal $(quoted "$1")"
    fi
}
user_folder "$config_dir" "settings: recent files, question history"
user_folder "$state_dir" "the log"
user_folder "$data_dir" "the library's index, the models you added"
user_folder "$cache_dir" "cached pastes and OCR results"
[ -z "$removal" ] || say "Remove them with: rm -rf$removal"
if [ -n "${READING_ASSISTANT_CONFIG_DIR:-}" ] && [ -e "$READING_ASSISTANT_CONFIG_DIR" ]; then
    say "READING_ASSISTANT_CONFIG_DIR points the settings to $READING_ASSISTANT_CONFIG_DIR: left as it is"
fi
