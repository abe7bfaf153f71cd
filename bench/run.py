#!/usr/bin/env python3
"""corun benchmarks. Each prints its figure next to a baseline measured in the same run.

Usage: bench/run.py [--build DIR] [NAME ...]   (names: overhead process timeout cpulimit
       peak sampling queue alloc isolation; default: all). Needs root (real cgroups). Record the
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


def load_note():
    """The 1/5/15-minute load averages: these benchmarks share the cores with whatever else
    runs on the machine, so every figure is printed with the load it met."""
    return {"loadavg": [round(x, 2) for x in os.getloadavg()]}


def children_cpu_s():
    # Grows by every reaped child *and* what it reaped: corun plus its jobs, or bare-spawn
    # plus the same jobs. The difference of the two is corun's own CPU time.
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def bench_overhead(tmp, reps=3):
    n = 200
    # Every job asks for all usable cores, so they run one after another, exactly like the
    # sequential baseline: the difference per job is corun's own cost (partition create,
    # clone3 into it, wait, stats, remove, result.json rewrite). corun and the baseline
    # alternate `reps` times and the medians are compared, so that load from other work
    # on the machine falls on both.
    ncpu = len(os.sched_getaffinity(0))
    y = os.path.join(tmp, "overhead.yaml")
    write_yaml(y, [(f"t{i}", ["command: [/bin/true]", f"cpus: {ncpu}"]) for i in range(n)],
               "name: overhead\nsample_interval: 1s\n")
    before = load_note()
    t_c, t_b, cpu_c, cpu_b = [], [], [], []
    for r in range(reps):
        shutil.rmtree(os.path.join(tmp, "overhead"), ignore_errors=True)
        c0 = children_cpu_s()
        t_c.append(run_corun([y], tmp, "overhead", check=True)[1])
        c1 = children_cpu_s()
        bare = subprocess.run([BARE, str(n), "/bin/true"], capture_output=True, text=True, check=True)
        c2 = children_cpu_s()
        t_b.append(float(bare.stdout))
        cpu_c.append(c1 - c0)
        cpu_b.append(c2 - c1)
    t_corun, t_bare = statistics.median(t_c), statistics.median(t_b)
    per = (t_corun - t_bare) / n * 1000
    cpu_per = (statistics.median(cpu_c) - statistics.median(cpu_b)) / n * 1000
    after = load_note()
    print(f"overhead: {n} x /bin/true in partitions, median of {reps}: corun {t_corun:.3f}s "
          f"(runs {', '.join(f'{x:.2f}' for x in t_c)}), bare fork+exec+wait {t_bare:.3f}s; extra per job "
          f"{per:.2f} ms (ratio {t_corun / t_bare:.1f}x); corun's own CPU {cpu_per:.2f} ms per job; "
          f"load average before {before['loadavg']}, after {after['loadavg']}")
    return {"n": n, "corun_s": t_corun, "bare_s": t_bare, "extra_ms_per_job": per, "corun_runs_s": t_c,
            "bare_runs_s": t_b, "runner_cpu_ms_per_job": cpu_per, "load_before": before, "load_after": after}


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


def bench_queue(tmp, reps=3):
    n = 2000
    y = os.path.join(tmp, "queue.yaml")
    write_yaml(y, [(f"q{i}", ["command: [/bin/true]", "cpus: 1"]) for i in range(n)],
               "name: queue\nsample_interval: 1s\n")
    # corun and xargs alternate `reps` times; medians are compared (see bench_overhead).
    before = load_note()
    t_c, t_xs = [], []
    for r in range(reps):
        shutil.rmtree(os.path.join(tmp, "queue"), ignore_errors=True)
        t_c.append(run_corun([y], tmp, "queue", check=True)[1])
        t0 = time.monotonic()
        subprocess.run(f"yes | head -n {n} | xargs -P2 -n1 /bin/true", shell=True, check=True)
        t_xs.append(time.monotonic() - t0)
    t_corun, t_x = statistics.median(t_c), statistics.median(t_xs)
    after = load_note()
    print(f"queue: {n} x /bin/true, 1 core each, median of {reps}: corun {n / t_corun:.0f} jobs/s "
          f"(runs {', '.join(f'{n / x:.0f}' for x in t_c)}), xargs -P2 (no partitions) {n / t_x:.0f} jobs/s: "
          f"ratio {t_x / t_corun:.2f}x of xargs; load average before {before['loadavg']}, after {after['loadavg']}")
    return {"corun_jobs_per_s": n / t_corun, "xargs_jobs_per_s": n / t_x, "ratio": t_x / t_corun,
            "corun_runs_s": t_c, "xargs_runs_s": t_xs, "load_before": before, "load_after": after}


def bench_alloc(tmp):
    exe = os.path.join(BUILD, "bench", "bench-alloc")
    if not os.path.exists(exe):
        print("alloc: bench-alloc not built")
        return None
    p = subprocess.run([exe], capture_output=True, text=True, check=True)
    print(p.stdout.strip())
    return {"output": p.stdout.strip()}


def worker_walls(res, job):
    """{baseline or scenario: [wall_s]} of a job's good instances; baselines keyed "solo:<scenario>"."""
    walls = {}
    for run in res["runs"]:
        key = "solo:" + (run.get("solo_for") or "") if run["solo"] else run["scenario"]
        for j in run["jobs"]:
            if (j.get("base_name") or j["name"]) == job and j["reason"] == "exit" and j["exit_code"] == 0:
                walls.setdefault(key, []).append(j["wall_s"])
    return walls


def slowdown_of(walls, scenario):
    # The baseline made for the scenario; results without solo_for have one "solo:" key.
    solo = walls.get("solo:" + scenario) or walls.get("solo:")
    w = walls.get(scenario)
    if not solo or not w:
        sys.exit(f"isolation: no successful worker run (or baseline) for scenario {scenario}")
    m = statistics.median(solo)
    # Other work on the machine only ever adds time: the ratio of the fastest runs is a
    # second, noise-resistant estimate next to the ratio of the medians.
    return {"median_s": statistics.median(w), "solo_median_s": m, "slowdown": statistics.median(w) / m,
            "fastest_ratio": min(w) / min(solo), "min": min(w) / m, "max": max(w) / m}


def bench_isolation(tmp, repeat=5):
    # examples/partitions.yaml with more repetitions: a 2-thread worker doing fixed work (its
    # wall time is its speed) next to a 2-thread burner, each on an exclusive core, then both
    # on shared CPUs 0-1; each against its solo baseline in the same partition.
    load = os.getloadavg()[0]
    spec = os.path.join(ROOT, "examples", "partitions.yaml")
    r, _ = run_corun(["--repeat", str(repeat), spec], tmp, "isolation", check=True)
    walls = worker_walls(r, "worker")
    res = {"repeat": repeat, "loadavg_before": load}
    for sc in ("exclusive", "shared"):
        res[sc] = slowdown_of(walls, sc)
    # The same neighbour next to a single-threaded worker on shared CPUs 0-1: with one cgroup
    # per job the kernel shares the CPUs between the jobs, not between their threads.
    r, _ = run_corun(["--repeat", str(repeat), "--solo", "--shared", "0-1", "-n", "isolation-1t",
                      "--job-name", "worker", "--job-name", "noisy", "corun stress cpu --work 800",
                      "corun stress cpu --threads 2 --work 2500"], tmp, "isolation-1t", check=True)
    res["shared_1thread"] = slowdown_of(worker_walls(r, "worker"), "default")

    def fmt(x):
        return (f"{x['slowdown']:.3f}x (fastest/fastest {x['fastest_ratio']:.3f}x, "
                f"runs {x['min']:.3f}-{x['max']:.3f})")
    print(f"isolation: 2-thread worker (fixed work) next to a 2-thread burner, slowdown vs solo in the same "
          f"partition, median of {repeat}: exclusive cores {fmt(res['exclusive'])} [target <= 1.03x]; "
          f"shared CPUs 0-1 {fmt(res['shared'])}; 1-thread worker on shared CPUs 0-1 "
          f"{fmt(res['shared_1thread'])}; 1-min load average before: {load:.2f}")
    return res


def bench_priority(tmp, repeat=3):
    # examples/memory-priority.yaml: one HIGH and two LOW tenants of 256 MiB with a 200 MiB
    # high mark, without classes (baseline) and with them (protected), each job against its
    # solo baseline in the same scenario (docs/priorities.md).
    load = os.getloadavg()[0]
    spec = os.path.join(ROOT, "examples", "memory-priority.yaml")
    r, _ = run_corun(["--repeat", str(repeat), spec], tmp, "priority", check=True)
    res = {"repeat": repeat, "loadavg_before": load, "backend": r.get("backend")}
    for sc in ("baseline", "protected"):
        res[sc] = {job: slowdown_of(worker_walls(r, job), sc) for job in ("high", "low1", "low2")}
    p, b = res["protected"], res["baseline"]
    low_p = statistics.mean([p["low1"]["median_s"], p["low2"]["median_s"]])
    low_b = statistics.mean([b["low1"]["slowdown"], b["low2"]["slowdown"]])
    frozen = {}
    for run in r["runs"]:
        if not run["solo"]:
            for j in run["jobs"]:
                frozen.setdefault(run["scenario"] + ":" + j["name"], []).append(j.get("frozen_s", 0))
    res["frozen_s_median"] = {k: statistics.median(v) for k, v in frozen.items()}
    res["events"] = len(r.get("events", []))
    print(f"priority ({res['backend']}, median of {repeat}): protected HIGH {p['high']['median_s']:.2f}s = "
          f"{p['high']['slowdown']:.3f}x its solo time [target <= 1.20x], LOW {p['low1']['median_s']:.2f}s and "
          f"{p['low2']['median_s']:.2f}s = {low_p / p['high']['median_s']:.2f}x HIGH's [target > 1x]; baseline "
          f"slowdowns HIGH {b['high']['slowdown']:.3f}x, LOW mean {low_b:.3f}x, ratio "
          f"{b['high']['slowdown'] / low_b:.3f} [target 0.75-1.25]; {res['events']} freeze events; "
          f"1-min load average before: {load:.2f}")
    return res


BENCHES = {"overhead": bench_overhead, "process": bench_process, "timeout": bench_timeout,
           "cpulimit": bench_cpulimit, "peak": bench_peak, "sampling": bench_sampling, "queue": bench_queue,
           "alloc": bench_alloc, "isolation": bench_isolation, "priority": bench_priority}


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
