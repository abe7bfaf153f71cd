#!/bin/sh
# make demo: runs examples/demo.yaml with the freshly built corun and says where the
# results are. The demo has an OOM and a timeout on purpose, so corun exits 1.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
export PATH="$PWD/$BUILD:$PATH"
OUT=${DEMO_RESULTS:-corun-results/demo-$(date -u +%Y%m%dT%H%M%SZ)}
rc=0
corun run -o "$OUT" examples/demo.yaml || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        echo "demo: corun failed (exit $rc)" >&2
        exit "$rc"
fi
echo
echo "demo: results in $OUT/"
echo "      result.json   every job's measurements (docs/result-schema.md)"
echo "      summary.md    the table above, for pasting"
echo "      logs/         each job's stdout and stderr; samples/: memory over time (CSV)"
[ -f "$OUT/report.html" ] && echo "      report.html   open it in a browser"
echo
echo "next: corun is not on your PATH yet; call it as ./$BUILD/corun (e.g. ./$BUILD/corun run 'sleep 1' 'sleep 2')"
echo "      or install it with: sudo make install"
echo "      manual: man -l docs/corun.1"
exit 0
