#!/usr/bin/env python3
"""corun benchmarks. Each prints its figure next to a baseline measured in the same run.

Usage: bench/run.py [--build DIR] [NAME ...]   (names: overhead process timeout cpulimit
       peak sampling queue alloc; default: all). Needs root (real cgroups). Record the
       output in docs/performance.md with the command line.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def corun_json(res_dir):
    with open(os.path.join(res_dir, "result.json")) as f:
        return json.load(f)


def run_corun(args, tmp, name, check=False):
    out = os.path.join(tmp, name)
    cmd = [CORUN, "run", "-q", "-o", out] + args
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t0
    if check and p.returncode != 0:
        sys.exit(f"corun failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    return corun_json(out), dt


def write_yaml(path, jobs, extra=""):
    with open(path, "w") as f:
        f.write(extra)
        f.write("jobs:\n")
        for name, body in jobs:
            f.write(f"  {name}:\n")
            for line in body:
                f.write(f"    {line}\n")


def bench_overhead(tmp):
    n = 200
    # Every job asks for all usable cores, so they run one after another, exactly like the
    # sequential baseline: the difference per job is corun's own cost (partition create,
    # clone3 into it, wait, stats, remove, result.json rewrite).
    ncpu = len(os.sched_getaffinity(0))
    y = os.path.join(tmp, "overhead.yaml")
    write_yaml(y, [(f"t{i}", ["command: [/bin/true]", f"cpus: {ncpu}"]) for i in range(n)],
               "name: overhead\nsample_interval: 1s\n")
    _, t_corun = run_corun([y], tmp, "overhead", check=True)
    bare = subprocess.run([BARE, str(n), "/bin/true"], capture_output=True, text=True, check=True)
    t_bare = float(bare.stdout)
    per = (t_corun - t_bare) / n * 1000
    print(f"overhead: {n} x /bin/true in partitions: corun {t_corun:.3f}s, bare fork+exec+wait {t_bare:.3f}s; "
          f"extra per job {per:.2f} ms (ratio {t_corun / t_bare:.1f}x)")
    return {"n": n, "corun_s": t_corun, "bare_s": t_bare, "extra_ms_per_job": per}


def bench_process(tmp):
    hf = shutil.which("hyperfine")
    if not hf:
        print("process: hyperfine not installed (scripts/install-deps.sh installs it)")
        return None
    out = os.path.join(tmp, "hf.json")
    res_dir = os.path.join(tmp, "hf-res")
    subprocess.run([hf, "-N", "--warmup", "5", "--runs", "50", "--export-json", out,
                    "--prepare", f"rm -rf {res_dir}", f"{CORUN} run -q -o {res_dir} -- /bin/true",
                    "--prepare", f"rm -rf {res_dir}", "/bin/true"], check=True, capture_output=True)
    with open(out) as f:
        r = json.load(f)["results"]
    t_corun, t_true = (x["median"] for x in r)
    extra = (t_corun - t_true) * 1000
    print(f"process: `corun run -- /bin/true` median {t_corun * 1000:.1f} ms vs /bin/true {t_true * 1000:.2f} ms: "
          f"+{extra:.1f} ms (runexec: ~313 ms)")
    return {"corun_ms": t_corun * 1000, "true_ms": t_true * 1000, "extra_ms": extra}


def bench_timeout(tmp):
    over = []
    for i in range(10):
        r, _ = run_corun(["-t", "300ms", "--", "sleep", "10"], tmp, f"to{i}")
        j = r["runs"][0]["jobs"][0]
        assert j["reason"] == "timeout", j["reason"]
        over.append((j["wall_s"] - 0.300) * 1000)
    med = statistics.median(over)
    print(f"timeout: 300 ms wall limit on `sleep 10`: overshoot median {med:.2f} ms "
          f"(min {min(over):.2f}, max {max(over):.2f}); runexec: ~1000 ms")
    return {"median_ms": med, "min_ms": min(over), "max_ms": max(over)}


def bench_cpulimit(tmp):
    over, wall = [], []
    for i in range(10):
        r, _ = run_corun(["--cpu-timeout", "300ms", "--", CORUN, "stress", "cpu", "--seconds", "10"], tmp, f"cl{i}")
        j = r["runs"][0]["jobs"][0]
        assert j["reason"] == "timeout" and j.get("limit") == "cpu", j
        over.append((j["user_s"] + j["sys_s"] - 0.300) * 1000)
        wall.append(j["wall_s"])
    med = statistics.median(over)
    print(f"cpulimit: 300 ms CPU limit on a burner: CPU-time overshoot median {med:.2f} ms "
          f"(min {min(over):.2f}, max {max(over):.2f}); wall median {statistics.median(wall) * 1000:.1f} ms")
    return {"median_ms": med, "min_ms": min(over), "max_ms": max(over)}


def bench_peak(tmp):
    size = 256 << 20
    r0, _ = run_corun(["--", TOUCH, "4096", "--hold", "1000"], tmp, "peak0", check=True)
    r1, _ = run_corun(["--", TOUCH, str(size), "--hold", "1000"], tmp, "peak1", check=True)
    j0, j1 = r0["runs"][0]["jobs"][0], r1["runs"][0]["jobs"][0]
    base = j0["memory"]["peak_bytes"]
    peak = j1["memory"]["peak_bytes"]
    err = (peak - (size - 4096 + base)) / (1 << 20)
    pss = j1["memory"]["pss_peak_bytes"]
    print(f"peak: static toucher of 256 MiB: group peak {peak / (1 << 20):.2f} MiB, baseline footprint "
          f"{base / (1 << 20):.2f} MiB, error vs 256 MiB + baseline {err:+.2f} MiB; sampled PSS peak "
          f"{pss / (1 << 20):.2f} MiB")
    return {"peak_bytes": peak, "baseline_bytes": base, "error_mib": err, "pss_peak_bytes": pss}


def bench_sampling(tmp, seconds=30):
    n = 64
    y = os.path.join(tmp, "sampling.yaml")
    write_yaml(y, [(f"h{i}", [f"command: [{CORUN}, stress, mem, 50M, --hold, {seconds}s]", "cpus: all"])
                   for i in range(n)], "name: sampling\nsample_interval: 100ms\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # corun itself is the only direct child; the jobs are its children and their usage is
    # not folded into ours because corun reaps them: RUSAGE_CHILDREN after it exits
    # includes them, so measure corun through /proc while it runs instead.
    out = os.path.join(tmp, "sampling")
    p = subprocess.Popen([CORUN, "run", "-q", "-o", out, y], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(3)
    t_a, c_a = time.monotonic(), proc_cpu(p.pid)
    time.sleep(seconds - 6)
    t_b, c_b = time.monotonic(), proc_cpu(p.pid)
    p.wait()
    del before
    share = (c_b - c_a) / (t_b - t_a) * 100
    r = corun_json(out)
    ok = sum(1 for j in r["runs"][0]["jobs"] if j["reason"] == "exit")
    print(f"sampling: {n} jobs x 50 MiB, PSS + group stats at 10 Hz: corun used {share:.2f} % of one core "
          f"over {t_b - t_a:.1f} s ({ok}/{n} jobs exited normally)")
    return {"cpu_percent": share}


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tck


def bench_queue(tmp):
    n = 2000
    y = os.path.join(tmp, "queue.yaml")
    write_yaml(y, [(f"q{i}", ["command: [/bin/true]", "cpus: 1"]) for i in range(n)],
               "name: queue\nsample_interval: 1s\n")
    _, t_corun = run_corun([y], tmp, "queue", check=True)
    t0 = time.monotonic()
    subprocess.run(f"yes | head -n {n} | xargs -P2 -n1 /bin/true", shell=True, check=True)
    t_x = time.monotonic() - t0
    print(f"queue: {n} x /bin/true, 1 core each: corun {n / t_corun:.0f} jobs/s, xargs -P2 (no partitions) "
          f"{n / t_x:.0f} jobs/s: ratio {t_x / t_corun:.2f}x of xargs")
    return {"corun_jobs_per_s": n / t_corun, "xargs_jobs_per_s": n / t_x, "ratio": t_x / t_corun}


def bench_alloc(tmp):
    exe = os.path.join(BUILD, "bench", "bench-alloc")
    if not os.path.exists(exe):
        print("alloc: bench-alloc not built")
        return None
    p = subprocess.run([exe], capture_output=True, text=True, check=True)
    print(p.stdout.strip())
    return {"output": p.stdout.strip()}


BENCHES = {"overhead": bench_overhead, "process": bench_process, "timeout": bench_timeout,
           "cpulimit": bench_cpulimit, "peak": bench_peak, "sampling": bench_sampling, "queue": bench_queue,
           "alloc": bench_alloc}


def main():
    global CORUN, BARE, TOUCH, BUILD
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    BUILD = os.path.abspath(a.build)
    CORUN = os.path.join(BUILD, "corun")
    BARE = os.path.join(BUILD, "bench", "bare-spawn")
    TOUCH = os.path.join(BUILD, "tests", "helpers", "touch-exact")
    os.environ["PATH"] = BUILD + ":" + os.environ["PATH"]
    names = a.names or list(BENCHES)
    out = {}
    with tempfile.TemporaryDirectory(prefix="corun-bench.") as tmp:
        for n in names:
            out[n] = BENCHES[n](tmp)
    print(json.dumps(out, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
