#!/bin/sh
# Installs the Debian packages corun's build, tests and demo need. Idempotent: only
# what is missing is installed, and apt-get update runs only when something is.
set -eu
PKGS="build-essential meson ninja-build pkg-config libyaml-dev libjansson-dev libhwloc-dev
libpcre2-dev libudev-dev libcmocka-dev hwloc procps psmisc jq python3 hyperfine stress-ng tmux chromium
qemu-system-x86 busybox-static cpio"
PKGS="$PKGS time"  # GNU time: the runner's peak memory in tests/integration/runner/flood.sh
PKGS="$PKGS clang libclang-rt-14-dev"  # make test-fuzz: libFuzzer targets (tests/fuzz)
PKGS="$PKGS slurm-wlm munge"  # the slurm suite: a private one-node cluster (tests/slurm)
# jobs in images (tests/integration/container, docs/containers.md): the engine, its runtime,
# monitor and init; the test image is made of busybox-static (scripts/make-test-image.sh)
PKGS="$PKGS podman crun conmon catatonit"
PKGS="$PKGS mmdebstrap uidmap"  # vm-systemd: the Debian root with systemd (scripts/build-vm-systemd-root.sh; uidmap for non-root)
[ "${CORUN_SKIP_DEPS:-0}" = 1 ] && exit 0
missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
