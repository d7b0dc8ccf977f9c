#!/bin/sh
# Install Reading Assistant for this user only, from the unpacked tarball:
#
#   ./install.sh
#
# Writes nothing outside your home folder and needs no root:
#   ~/.local/lib/reading-assistant/            the app (and uninstall.sh, and the list of what was installed)
#   ~/.local/bin/reading-assistant             a link to it, for the command line
#   $XDG_DATA_HOME/applications/reading-assistant.desktop   the menu entry and "Open with" (default ~/.local/share)
#   $XDG_DATA_HOME/icons/hicolor/*/apps/reading-assistant.*  the icon at each size
# It never changes which application opens a file type by default (no `xdg-mime default`, no
# mimeapps.list): Reading Assistant is only offered under "Open with".
# It refuses a system whose glibc is older than the bundle needs (needs-glibc, written by build.py),
# and names any library the system lacks.
# Remove it with ~/.local/lib/reading-assistant/uninstall.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
name=reading-assistant
: "${HOME:?HOME is not set}"
lib_dir="$HOME/.local/lib/$name"
bin_dir="$HOME/.local/bin"
data_home=${XDG_DATA_HOME:-}
case $data_home in
    /*) ;;
    *) data_home="$HOME/.local/share" ;;  # unset, empty or relative: the XDG default
esac
apps_dir="$data_home/applications"
icons_dir="$data_home/icons/hicolor"
manifest="$lib_dir/installed-files"

say() { printf '%s\n' "$*"; }
fail() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ -x "$here/$name/$name" ] || fail "no $here/$name/$name: run install.sh from the unpacked tarball"

# The bundle's libraries were built against this glibc or an older one; an older system's cannot load them.
at_least() {  # VERSION FLOOR: whether VERSION is FLOOR or newer, number by number
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -t . -k 1,1n -k 2,2n -k 3,3n | head -n 1)" = "$2" ]
}
needed=$(cat "$here/needs-glibc" 2>/dev/null) || needed=""
case $needed in
    [0-9]*.[0-9]*) ;;
    *) fail "no glibc version in $here/needs-glibc: the tarball is incomplete; download it again" ;;
esac
have=$(getconf GNU_LIBC_VERSION 2>/dev/null) || have=""
have=${have#glibc }
case $have in
    [0-9]*.[0-9]*) ;;
    *) fail "Reading Assistant needs the GNU C library (glibc) $needed or newer, and this system has none (the README's \"Install the app\" names the systems it runs on)" ;;
esac
if ! at_least "$have" "$needed"; then
    fail "Reading Assistant needs glibc $needed or newer, and this system has glibc $have (the README's \"Install the app\" names the systems it runs on)"
fi

# An earlier install goes first, through its own record of what it wrote.
if [ -f "$manifest" ]; then
    say "Removing the earlier install in $lib_dir"
    sh "$here/uninstall.sh" --quiet
fi
[ ! -e "$lib_dir" ] || fail "$lib_dir exists but holds no install of Reading Assistant; move it away first"

files=""         # what uninstall.sh removes, one "KIND PATH" a line
created_dirs=""  # folders this script made, newest first
record() { files="$files$1 $2
"; }
make_dir() {  # mkdir -p that remembers each folder it creates
    [ -d "$1" ] && return 0
    make_dir "$(dirname "$1")"
    mkdir "$1"
    created_dirs="d $1
$created_dirs"
}

# The app itself.
make_dir "$lib_dir"
cp -R "$here/$name/." "$lib_dir/"
cp "$here/uninstall.sh" "$lib_dir/uninstall.sh"
chmod 755 "$lib_dir/uninstall.sh" "$lib_dir/$name"
executable="$lib_dir/$name"

# The command.
make_dir "$bin_dir"
link="$bin_dir/$name"
if [ -L "$link" ] && [ "$(readlink "$link")" = "$executable" ]; then
    rm -f "$link"
fi
if [ -e "$link" ] || [ -L "$link" ]; then
    say "warning: $link already exists and is not ours; left as it is (the app is $executable)" >&2
else
    ln -s "$executable" "$link"
    record l "$link"
fi

# The desktop entry: Exec is the installed executable's absolute path, quoted and escaped as the
# Desktop Entry Specification asks, so it works whatever PATH the desktop session has.
quoted=$(printf '%s' "$executable" | sed -e 's/[\\"`$]/\\&/g' -e 's/\\/\\\\/g' -e 's/%/%%/g')
plain=$(printf '%s' "$executable" | sed -e 's/\\/\\\\/g')
make_dir "$apps_dir"
desktop="$apps_dir/$name.desktop"
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
        Exec=*) printf 'Exec="%s" %%f\n' "$quoted" ;;
        TryExec=*) printf 'TryExec=%s\n' "$plain" ;;
        *) printf '%s\n' "$line" ;;
    esac
done <"$here/$name.desktop" >"$desktop"
record f "$desktop"

# The icon, at every size the tarball has.
for png in "$here"/icons/"$name"-*.png; do
    [ -f "$png" ] || continue
    size=${png##*-}
    size=${size%.png}
    make_dir "$icons_dir/${size}x${size}/apps"
    cp "$png" "$icons_dir/${size}x${size}/apps/$name.png"
    record f "$icons_dir/${size}x${size}/apps/$name.png"
done
if [ -f "$here/icons/$name.svg" ]; then
    make_dir "$icons_dir/scalable/apps"
    cp "$here/icons/$name.svg" "$icons_dir/scalable/apps/$name.svg"
    record f "$icons_dir/scalable/apps/$name.svg"
fi

# Caches, where the tools exist; a cache this install creates is removed again by uninstall.sh.
if command -v update-desktop-database >/dev/null 2>&1; then
    [ -e "$apps_dir/mimeinfo.cache" ] || record c "$apps_dir/mimeinfo.cache"
    update-desktop-database -q "$apps_dir" 2>/dev/null || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    [ -e "$icons_dir/icon-theme.cache" ] || record c "$icons_dir/icon-theme.cache"
    gtk-update-icon-cache -q -t -f "$icons_dir" 2>/dev/null || true
fi

printf '%s%s' "$files" "$created_dirs" >"$manifest"

# Libraries the system must provide (the bundle carries the others), named if any is missing.
if command -v ldd >/dev/null 2>&1; then
    missing=$(find "$lib_dir" -type f -name '*.so*' | while IFS= read -r library; do
        LD_LIBRARY_PATH="$lib_dir/_internal" ldd "$library" 2>/dev/null
    done | sed -n 's/^[[:space:]]*\([^[:space:]]*\) => not found$/\1/p' | sort -u | tr '\n' ' ')
    if [ -n "$missing" ]; then
        say "warning: this system lacks libraries Reading Assistant loads: ${missing% }" >&2
        say "  install them with your package manager (the .deb's dependencies name their packages)" >&2
    fi
fi

say "Installed Reading Assistant in $lib_dir"
say "  menu entry: $desktop (offered under \"Open with\" for documents, never made the default)"
case ":$PATH:" in
    *":$bin_dir:"*) say "  command: $name" ;;
    *) say "  command: $link ($bin_dir is not on your PATH)" ;;
esac
say "Remove it with $lib_dir/uninstall.sh (with --purge, your settings, history and library as well)"
