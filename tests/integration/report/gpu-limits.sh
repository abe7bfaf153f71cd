#!/bin/sh
# GPU limits in report.html, in headless Chromium, from a results directory made here
# (result.json and the jobs' GPU series; no GPU, no runner, no root): `corun report DIR`
# re-renders it; the capped job's cap is a dashed step line in its colour labelled "cap
# 30%", its memory limit one in the memory chart, the unlimited job has none; the page
# renders without console errors and loads nothing from outside.
. "$SRCDIR/tests/integration/lib.sh"
cd "$WORK"
mkdir -p r/samples
cat > r/result.json <<'JSON'
{"schema": 1, "corun_version": "test", "runs": [{"scenario": "gpus", "repetition": 0, "replicas": 1,
 "started_s": 0, "ended_s": 4, "jobs": [
  {"name": "capped", "base_name": "capped", "command": "./infer", "reason": "exit", "exit_code": 0,
   "started_s": 0, "ended_s": 4, "wall_s": 4, "gpu_samples": "samples/capped.gpu.csv",
   "gpus": [{"uuid": "GPU-a", "index": 0, "name": "NVIDIA H200", "shared": true, "sm_share_mean": 0.298,
     "sm_share_peak": 0.31, "memory_peak_bytes": 6442450944, "memory_total_bytes": 17179869184, "samples": 4,
     "pids": [10],
     "limit": {"share_requested": 0.3, "share_applied": 0.3, "mode": "cap", "mechanism": "shim",
       "semantics": "time-share", "throttled_s": 1.5, "uncontrollable": false,
       "launches": {"cuLaunchKernel": 400, "captured": 0}, "memory_limit_bytes": 8589934592,
       "memory_refused": 1}}]},
  {"name": "greedy", "base_name": "greedy", "command": "./train", "reason": "gpu-oom", "exit_code": null,
   "signal": 9, "started_s": 0, "ended_s": 3, "wall_s": 3, "gpu_samples": "samples/greedy.gpu.csv",
   "gpus": [{"uuid": "GPU-a", "index": 0, "name": "NVIDIA H200", "shared": true, "sm_share_mean": 0.6,
     "sm_share_peak": 0.7, "memory_peak_bytes": 5368709120, "memory_total_bytes": 17179869184, "samples": 3,
     "pids": [11]}]}]}]}
JSON
cat > r/samples/capped.gpu.csv <<'CSV'
t_s,gpu,sm_share,memory_bytes,share_target,memory_limit_bytes,throttled_s
0.500,0,0.2800,6442450944,0.3000,8589934592,0.100
1.500,0,0.3000,6442450944,0.3000,8589934592,0.600
2.500,0,0.3100,6442450944,0.3000,8589934592,1.100
3.500,0,0.2950,6442450944,0.3000,8589934592,1.500
CSV
# greedy's series from a corun before GPU limits: four columns.
cat > r/samples/greedy.gpu.csv <<'CSV'
t_s,gpu,sm_share,memory_bytes
0.500,0,0.6000,2147483648
1.500,0,0.7000,5368709120
2.500,0,0.6000,5368709120
CSV
"$CORUN" report r > out 2> err || fail "corun report: $(cat err)"
grep -q 'gpu_share_requested' r/results.csv || fail "results.csv has no GPU limit columns: $(head -1 r/results.csv)"
grep -q '(cap 30% by shim, throttled 1.5s)' r/summary.md || fail "summary.md: no cap beside the share"

. "$SRCDIR/tests/integration/report/chrome-lib.sh"
SHOT="$(dirname "$CORUN")/meson-logs/report-gpu-limits.png"
chrome_render "$WORK/r/report.html" "$SHOT" 1200,1400
python3 - dom.html <<'PY' || fail "the GPU panel in the rendered DOM (above)"
import re, sys
dom = open(sys.argv[1]).read()
bad = []
charts = re.findall(r'<svg class="gpuchart".*?</svg>', dom, re.S)
if len(charts) != 2:
    sys.exit(f"expected the share and memory charts, got {len(charts)}")
share, memory = charts
def colour(name):
    m = re.search(r'<polyline class="series" stroke="([^"]+)"[^>]*>\s*<title>' + name + '</title>', share)
    return m.group(1) if m else None
capped, greedy = colour("capped"), colour("greedy")
if not capped or not greedy or capped == greedy:
    sys.exit(f"the jobs' series and colours: capped {capped}, greedy {greedy}")
# The cap: a dashed path in capped's colour at 30 % (y = 8 + 140 - 0.3 * 140 = 106), titled
# and labelled "cap 30%"; nothing dashed for greedy, which has no limits.
cap = re.findall(r'<path class="cap" stroke="' + capped + r'" d="([^"]+)"><title>capped: cap 30%</title>', share)
if not cap:
    bad.append("no cap line in capped's colour")
elif not re.match(r'M[0-9.]+ 106\.0 ', cap[0]) or 'H' not in cap[0]:
    bad.append(f"the cap line is not a step line at 30 %: {cap[0]}")
if not re.search(r'<text class="caplabel"[^>]*style="fill:' + capped + '">cap 30%</text>', share):
    bad.append("no 'cap 30%' label")
if 'stroke="' + greedy + '"' in ''.join(re.findall(r'<path class="cap"[^>]*>', share + memory)):
    bad.append("a cap line for greedy, which has no limits")
if not re.search(r'<path class="cap" stroke="' + capped + r'" d="M[^"]+"><title>capped: limit 8\.00 GiB</title>', memory):
    bad.append("no memory limit line in capped's colour")
if 'cap 30%)' not in dom:
    bad.append("the legend does not say the cap")
if 'class="marker gpu-oom"' not in dom:
    bad.append("no gpu-oom marker on greedy's lane")
for x in re.findall(r'[MH]([0-9.]+)', ''.join(cap)):
    if not (0 <= float(x) <= 1000):
        bad.append(f"cap line x={x} outside the chart")
if re.search(r'(src|href)="https?:', dom):
    bad.append("the report loads something from outside")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
echo "screenshot: $SHOT"
