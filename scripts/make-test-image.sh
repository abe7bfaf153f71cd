#!/bin/sh
# Builds, when it is missing, a tiny container image for examples/container.yaml and the
# container tests: a root file system made of Debian's busybox-static (the binary and
# one link per applet), imported into the engine's local storage. No registry, no
# network. Prints the image's name as its last line.
#
# Usage: scripts/make-test-image.sh [podman|docker]   (default: podman when installed)
set -eu
ENGINE=${1:-}
if [ -z "$ENGINE" ]; then
        if command -v podman >/dev/null 2>&1; then ENGINE=podman; else ENGINE=docker; fi
fi
# Bump when what goes into the image changes: a new name, so an old image is not reused.
VERSION=1
NAME=localhost/corun-test:busybox-$VERSION

command -v "$ENGINE" >/dev/null 2>&1 || { echo "make-test-image: $ENGINE is not installed (scripts/install-deps.sh)" >&2; exit 1; }
if "$ENGINE" image inspect "$NAME" >/dev/null 2>&1; then
        echo "$NAME"
        exit 0
fi
BUSYBOX=$(dpkg -L busybox-static 2>/dev/null | grep '/bin/busybox$' | head -n 1 || true)
[ -n "$BUSYBOX" ] && [ -x "$BUSYBOX" ] ||
        { echo "make-test-image: busybox-static is not installed (scripts/install-deps.sh)" >&2; exit 1; }

ROOT=$(mktemp -d /tmp/corun-test-image.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/bin" "$ROOT/etc" "$ROOT/tmp" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/root" "$ROOT/work"
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
# One link per applet, made by busybox's own shell, whose ln runs without an exec: a
# few times faster, 10 s less in the systemd test VM (qemu TCG), where 270 execs of
# a dynamically linked ln took 14 s.
"$ROOT/bin/busybox" sh -c 'cd "$1/bin" && for a in $(./busybox --list); do [ -e "$a" ] || ln -s busybox "$a"; done' sh "$ROOT"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
# podman prints its progress on stderr; docker's import has no --quiet.
quiet=
[ "$ENGINE" = podman ] && quiet=--quiet
tar -C "$ROOT" --numeric-owner --owner=0 --group=0 -cf - . |
        "$ENGINE" import $quiet --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' - "$NAME" >/dev/null
echo "$NAME"
