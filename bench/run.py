#!/usr/bin/env python3
"""corun benchmarks. Each prints its figure next to a baseline measured in the same run,
the target it is held to and a verdict (PASS / MISS), and a table of verdicts at the end.

Usage: bench/run.py [--build DIR] [--quick] [--only NAME]... [NAME ...]
  Cost (issue 12): process overhead shuf scale sampling plan benchexec
  Others: timeout cpulimit peak queue alloc isolation priority gpu-sampling gpu-caps gpu-neighbours
  Default: the cost benches. --quick: fewer repetitions, 200 vs 2,000 jobs for `scale`,
  a 10 s sampling window. Needs root (real cgroups). Record the output in
  docs/performance.md with the command line.
"""
import argparse
import csv
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
QUICK = False
VERDICTS = []  # (bench, what, figure text, target text, "PASS" | "MISS" | "n/a")


def verdict(bench, what, figure, target, ok):
    v = "n/a" if ok is None else ("PASS" if ok else "MISS")
    VERDICTS.append((bench, what, figure, target, v))
    return v


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def spawn_wait_s(argv):
    """Wall time of one process from posix_spawn to its reaping, and its rusage: the same
    harness for corun and its baselines, so Python's own cost falls on both."""
    t0 = time.monotonic()
    pid = os.posix_spawn(argv[0], argv, os.environ)
    _, status, ru = os.wait4(pid, 0)
    dt = time.monotonic() - t0
    return dt, os.waitstatus_to_exitcode(status), ru


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


def bench_overhead(tmp, reps=None):
    """(b) per job above bare fork+exec+wait."""
    reps = reps or (2 if QUICK else 3)
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
    run_corun([y], tmp, "overhead-warm", check=True)  # page cache, topology cache
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
    v = verdict("overhead", "per job above bare fork+exec+wait (200 x /bin/true)", f"{per:.2f} ms",
                "<= 1 ms", per <= 1)
    print(f"overhead: {n} x /bin/true in partitions, median of {reps}: corun {t_corun:.3f}s "
          f"(runs {', '.join(f'{x:.2f}' for x in t_c)}), bare fork+exec+wait {t_bare:.3f}s; extra per job "
          f"{per:.2f} ms (ratio {t_corun / t_bare:.1f}x) [target <= 1 ms: {v}]; corun's own CPU "
          f"{cpu_per:.2f} ms per job; load average before {before['loadavg']}, after {after['loadavg']}")
    return {"n": n, "corun_s": t_corun, "bare_s": t_bare, "extra_ms_per_job": per, "corun_runs_s": t_c,
            "bare_runs_s": t_b, "runner_cpu_ms_per_job": cpu_per, "load_before": before, "load_after": after}


def bench_process(tmp):
    """(a) `corun run -c 1 -m 200M -- /bin/true` as a whole process against /bin/true and a
    bare fork+exec+wait, alternating, after a warm-up; medians."""
    reps = 10 if QUICK else 40
    res_dir = os.path.join(tmp, "proc-res")
    argv = [CORUN, "run", "-q", "-c", "1", "-m", "200M", "-o", res_dir, "--", "/bin/true"]
    t_c, t_t, t_b = [], [], []
    for i in range(reps + 3):
        shutil.rmtree(res_dir, ignore_errors=True)
        dc, rc, _ = spawn_wait_s(argv)
        if rc != 0:
            sys.exit(f"process: corun failed ({rc}): {' '.join(argv)}")
        dt, _, _ = spawn_wait_s(["/bin/true"])
        bare = subprocess.run([BARE, "20", "/bin/true"], capture_output=True, text=True, check=True)
        if i >= 3:  # warm-up: page cache, the topology cache, the journal dir
            t_c.append(dc)
            t_t.append(dt)
            t_b.append(float(bare.stdout) / 20)
    c, t, b = median(t_c) * 1000, median(t_t) * 1000, median(t_b) * 1000
    # The first non-root cpuset group on a host switches the kernel's cpusets_enabled
    # static key (text patching on every CPU: about 2 ms of CPU in cpuset_css_online);
    # hosts where any other cpuset group exists (Docker, a Slurm node, a v2 host with the
    # cpuset controller enabled) skip it. Measured with a sibling group present, alternating.
    cs_extra = None
    keep = "/sys/fs/cgroup/cpuset/corun-bench-keep"
    if os.path.isdir("/sys/fs/cgroup/cpuset") and not os.path.exists(keep):
        t_k = []
        try:
            os.mkdir(keep)
            for i in range(reps + 3):
                shutil.rmtree(res_dir, ignore_errors=True)
                dc, rc, _ = spawn_wait_s(argv)
                if i >= 3:
                    t_k.append(dc)
        finally:
            os.rmdir(keep)
        cs_extra = median(t_k) * 1000
        print(f"process: the same with another cpuset group on the host: median {cs_extra:.1f} ms "
              f"(min {min(t_k) * 1000:.1f})")
    # Python's fork+exec of a large interpreter adds 0.3-1 ms to every spawn above (compare
    # its /bin/true with the bare figure); hyperfine -N (installed by the setup script, and
    # the tool of the figure this target was set from) spawns from a small process. Its
    # median is the verdict when it is there.
    hf = hyperfine_medians([" ".join(argv), "/bin/true"], res_dir, 20 if QUICK else 60)
    c_v, how = (hf[0], "hyperfine -N median") if hf else (c, "median")
    v = verdict("process", "corun run -c 1 -m 200M -- /bin/true, whole process", f"{c_v:.1f} ms ({how})",
                "<= 10 ms", c_v <= 10)
    if hf:
        print(f"process: hyperfine -N: corun median {hf[0]:.2f} ms, /bin/true {hf[1]:.2f} ms")
    print(f"process: `corun run -c 1 -m 200M -- /bin/true` spawned from Python: median of {reps} {c:.1f} ms "
          f"(min {min(t_c) * 1000:.1f}); /bin/true {t:.2f} ms; bare fork+exec+wait {b:.2f} ms; "
          f"corun - /bin/true {c - t:.1f} ms [target <= 10 ms: {v}]; load {load_note()['loadavg']}")
    return {"corun_ms": c, "true_ms": t, "bare_ms": b, "corun_min_ms": min(t_c) * 1000, "runs": reps,
            "corun_ms_other_cpuset": cs_extra, "hyperfine_corun_ms": hf[0] if hf else None,
            "hyperfine_true_ms": hf[1] if hf else None}


def hyperfine_medians(commands, res_dir, runs):
    """Medians in ms of each command under `hyperfine -N`, res_dir removed before each run;
    None when hyperfine is not installed."""
    if not shutil.which("hyperfine"):
        return None
    out = res_dir + ".hyperfine.json"
    subprocess.run(["hyperfine", "-N", "-w", "5", "-r", str(runs), "--style", "none", "--export-json", out,
                    "--prepare", f"rm -rf {res_dir}"] + commands, check=True, capture_output=True)
    with open(out) as f:
        return [r["median"] * 1000 for r in json.load(f)["results"]]


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


def bench_sampling(tmp, seconds=None):
    """(e) the runner's CPU while it samples 64 jobs at 10 Hz (corun's own utime+stime from
    /proc between second 3 and seconds-3: its jobs' time is not in it)."""
    seconds = seconds or (15 if QUICK else 30)
    n = 64
    y = os.path.join(tmp, "sampling.yaml")
    write_yaml(y, [(f"h{i}", [f"command: [{CORUN}, stress, mem, 50M, --hold, {seconds}s]", "cpus: all"])
                   for i in range(n)], "name: sampling\nsample_interval: 100ms\n")
    out = os.path.join(tmp, "sampling")
    share, window = runner_cpu_share([CORUN, "run", "-q", "-o", out, y], n, seconds)
    t_a, t_b = 0.0, window
    r = corun_json(out)
    ok = sum(1 for j in r["runs"][0]["jobs"] if j["reason"] == "exit")
    v = verdict("sampling", "runner CPU, 64 jobs sampled at 10 Hz", f"{share:.2f} % of a core", "<= 1 %",
                share <= 1)
    print(f"sampling: {n} jobs x 50 MiB, PSS + group stats at 10 Hz: corun used {share:.2f} % of one core "
          f"over {t_b - t_a:.1f} s ({ok}/{n} jobs exited normally) [target <= 1 %: {v}]")
    return {"cpu_percent": share, "window_s": t_b - t_a}


def runner_cpu_share(cmd, n, seconds, env=None):
    """corun's own CPU (% of one core) while its n jobs run: read from /proc between 3 s
    after every job started and 3 s before they end. corun reaps its jobs, so
    RUSAGE_CHILDREN after it exits would include them: /proc while it runs does not."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    runner = p.pid
    t_start = time.monotonic()
    time.sleep(3)
    # a wrapper (scripts/gpu-sim.sh) execs corun: the same pid
    while time.monotonic() - t_start < seconds / 2 and len(children_of(runner)) < n:
        time.sleep(0.1)
    t_a, c_a = time.monotonic(), proc_cpu(runner)
    time.sleep(max(1.0, seconds - 3 - (t_a - t_start)))
    t_b, c_b = time.monotonic(), proc_cpu(runner)
    p.wait()
    return (c_b - c_a) / (t_b - t_a) * 100, t_b - t_a


def bench_gpu_sampling(tmp, seconds=None):
    """The NVML monitor's cost (issue 15): the runner's CPU with 16 GPU jobs on the simulated
    GPU, each measured from NVML for its own pids, against the same 16 jobs with gpus: any
    (no assignment, no NVML sampling), in the same script; per job and second of run."""
    seconds = seconds or (12 if QUICK else 24)
    n = 16
    env = dict(os.environ, CORUN_GPU_SIM_STATE=os.path.join(tmp, "gpu-sim-state"))
    sim = [os.path.join(ROOT, "scripts", "gpu-sim.sh")]
    env["CORUN_GPU_SIM_LIBDIR"] = os.path.join(BUILD, "tests", "gpu-sim")
    shares = {}
    for mode, gpus in (("any", "any"), ("measured", "{count: 1, shared: true}")):
        y = os.path.join(tmp, f"gpu-{mode}.yaml")
        write_yaml(y, [(f"g{i}", [f"command: [{CORUN}, stress, gpu, --kernel-ms, '1', --duty, '0.05', "
                                  f"--seconds, '{seconds}']", "cpus: all", f"gpus: {gpus}"])
                       for i in range(n)], f"name: gpu-{mode}\n")
        out = os.path.join(tmp, f"gpu-{mode}")
        shares[mode], window = runner_cpu_share(sim + [CORUN, "run", "-q", "-o", out, y], n, seconds, env)
        r = corun_json(out)
        bad = [j["name"] for j in r["runs"][0]["jobs"] if j["reason"] != "exit" or j["exit_code"] != 0]
        if bad:
            sys.exit(f"gpu-sampling: jobs failed in mode {mode}: {bad}")
    per_job_ms = (shares["measured"] - shares["any"]) / 100 / n * 1000
    v = verdict("gpu-sampling", "runner CPU per GPU job per second of run (simulated NVML)",
                f"{per_job_ms:.3f} ms/s", "<= 1 ms/s", per_job_ms <= 1)
    print(f"gpu-sampling: {n} GPU jobs at 5 % duty, sample_interval 200 ms: corun used "
          f"{shares['measured']:.2f} % of a core measuring them, {shares['any']:.2f} % with gpus: any; "
          f"{per_job_ms:.3f} ms of CPU per job per second [target <= 1 ms/s: {v}]")
    return {"cpu_percent_measured": shares["measured"], "cpu_percent_any": shares["any"],
            "per_job_ms_per_s": per_job_ms}


class GpuBench:
    """Runs scenarios of `corun stress gpu` jobs on the simulated GPU, or on a real one with
    CORUN_BENCH_REAL_GPU=1, and reads what each job got. The truth of a job's share of the
    GPU's time: on the simulated GPU its timeline (gpu-sim-ctl busy, for the job's own pids);
    on a real GPU the stress kernel's own count of the GPU time it ran (kernels x kernel_ms
    over its wall time), since NVML's per-process samples are not per process while
    contexts time-slice (docs/gpu.md)."""

    def __init__(self, tmp, bench):
        self.tmp, self.bench = tmp, bench
        self.real = os.environ.get("CORUN_BENCH_REAL_GPU") == "1"
        self.env = dict(os.environ)
        self.wrap = []
        if not self.real:
            self.env["CORUN_GPU_SIM_LIBDIR"] = os.path.join(BUILD, "tests", "gpu-sim")
            self.wrap = [os.path.join(ROOT, "scripts", "gpu-sim.sh")]
        self.ctl = os.path.join(BUILD, "tests", "gpu-sim", "gpu-sim-ctl")
        # CORUN_BENCH_BACKEND=none where cgroups cannot be used (a VM whose cgroup holds
        # other processes, as on the device machine).
        self.backend = os.environ.get("CORUN_BENCH_BACKEND")

    def run(self, name, jobs):
        y = os.path.join(self.tmp, f"{name}.yaml")
        write_yaml(y, jobs, f"name: {name}\n" + (f"backend: {self.backend}\n" if self.backend else ""))
        out = os.path.join(self.tmp, name)
        if not self.real:
            self.env["CORUN_GPU_SIM_STATE"] = os.path.join(self.tmp, f"{name}.state")
        p = subprocess.run(self.wrap + [CORUN, "run", "-q", "-o", out, y], env=self.env, capture_output=True,
                           text=True)
        if p.returncode != 0:
            sys.exit(f"{self.bench}: {name} failed: {p.stderr[-2000:]}")
        r = corun_json(out)
        r["_name"] = name
        return r

    @staticmethod
    def job(r, name):
        return [j for j in r["runs"][0]["jobs"] if j["name"] == name][0]

    def truth(self, r, name):
        if self.real:
            kv = self.stress_end(r, name)
            return float(kv["kernels"]) * float(kv["kernel_ms"]) / 1000 / float(kv["wall_s"]) if kv else float("nan")
        j = self.job(r, name)
        g = j["gpus"][0]
        busy = 0
        for pid in g["pids"]:
            busy += int(subprocess.run(self.wrap + [self.ctl, "busy", str(g["index"]), str(pid), "0", str(2**64 - 1)],
                                       env=self.env, capture_output=True, text=True, check=True).stdout)
        return busy / 1e9 / j["wall_s"]

    def stress_end(self, r, name):
        """The fields of the job's 'stress gpu: kernels=...' line (None when it has none)."""
        with open(os.path.join(self.tmp, r["_name"], self.job(r, name)["logs"]["stdout"])) as f:
            for line in f:
                if line.startswith("stress gpu: kernels="):
                    return dict(x.split("=", 1) for x in line.split()[2:])
        return None

    def kps(self, r, name):
        kv = self.stress_end(r, name)
        return float(kv["kernels_per_s"]) if kv else float("nan")

    @staticmethod
    def stress(ms, seconds):
        return f"command: [{CORUN}, stress, gpu, --kernel-ms, '{ms}', --seconds, '{seconds}']"


def bench_gpu_caps(tmp, seconds=None):
    """Caps held (issue 16): 1, 2 or 3 backlogged tenants on one GPU, each capped at 10, 30
    or 50 % (3 × 50 is refused: more than the GPU), with kernels of 0.1, 1 and 10 ms: each
    tenant's share of the GPU's time against its cap (GpuBench's truth), and its wall-clock
    throughput against the same tenant uncapped and alone, measured in the same script
    (kernels/s; the share of GPU time a tenant alone gets is below 100 % with short kernels,
    so this ratio is above the cap there)."""
    seconds = seconds or (6 if QUICK else 10)
    g = GpuBench(tmp, "gpu-caps")
    rows, errs = [], []
    for ms in os.environ.get("CORUN_BENCH_CAPS_KERNELS", "0.1,1,10").split(","):
        alone = g.run(f"alone-{ms}".replace(".", "_"), [("t", [g.stress(ms, seconds), "cpus: all", "gpus: 1"])])
        base_kps = g.kps(alone, "t")
        for cap in (10, 30, 50):
            for n in (1, 2, 3):
                if cap * n > 100:
                    continue
                name = f"cap{cap}-n{n}-k{ms}".replace(".", "_")
                r = g.run(name, [(f"t{i}", [g.stress(ms, seconds), "cpus: all", f"gpus: {{count: 1, share: {cap}}}"])
                                 for i in range(n)])
                for i in range(n):
                    share = g.truth(r, f"t{i}")
                    thr = g.kps(r, f"t{i}") / base_kps if base_kps else float("nan")
                    err = abs(share - cap / 100) * 100
                    errs.append(err)
                    rows.append((ms, cap, n, i, share, thr, err))
                    print(f"gpu-caps: kernel {ms} ms, cap {cap} %, {n} tenant(s), t{i}: share {share * 100:.2f} %, "
                          f"throughput {thr * 100:.1f} % of alone, error {err:.2f} pp")
    mean_err, worst = statistics.mean(errs), max(errs)
    target = 2.0 if g.real else 1.0
    v = verdict("gpu-caps", "mean |share - cap| over the matrix" + (" (real GPU)" if g.real else " (simulated GPU)"),
                f"{mean_err:.2f} pp (worst {worst:.2f})", f"<= {target:g} pp", mean_err <= target)
    print(f"gpu-caps: mean error {mean_err:.2f} pp, worst {worst:.2f} pp over {len(errs)} tenants [target <= {target:g} pp: {v}]")
    return {"rows": rows, "mean_error_pp": mean_err, "worst_error_pp": worst}


def bench_gpu_neighbours(tmp, seconds=None):
    """A 30 % cap beside 1, 2 or 3 uncapped tenants (share: 100) that always have work
    queued, with kernels of 1 and 10 ms (CORUN_BENCH_CAPS_KERNELS): the capped tenant's
    share of the GPU's time (GpuBench's truth) and what the runner told its shim of its
    neighbours (others_busy, the mean of its GPU series from 1 s on). On the simulated GPU
    with putil=whole and the H200's slices and switches (docs/gpu-sim.md), as the
    gpu-limit-whole test does. Kernels longer than a slice beside two or more busy
    neighbours are what the shim does not correct for (docs/gpu.md): there the cap is
    under-used; the figures say by how much."""
    seconds = seconds or (6 if QUICK else 8)
    g = GpuBench(tmp, "gpu-neighbours")
    if not g.real:
        g.env.update(CORUN_GPU_SIM_DEVICES="putil=whole", CORUN_GPU_SIM_SLICE="2090us", CORUN_GPU_SIM_SWITCH="150us")
    rows = []
    for ms in os.environ.get("CORUN_BENCH_CAPS_KERNELS", "1,10").split(","):
        for n in (1, 2, 3):
            name = f"hogs{n}-k{ms}".replace(".", "_")
            jobs = [("c30", [g.stress(ms, seconds), "cpus: all", "gpus: {count: 1, shared: true, share: 30}"])]
            jobs += [(f"hog{i}", [g.stress(ms, seconds), "cpus: all", "gpus: {count: 1, shared: true, share: 100}"])
                     for i in range(n)]
            r = g.run(name, jobs)
            share = g.truth(r, "c30")
            busy = []
            with open(os.path.join(tmp, name, g.job(r, "c30")["gpu_samples"])) as f:
                rd = csv.DictReader(f)
                busy = [float(x["others_busy"]) for x in rd if float(x["t_s"]) >= 1 and x.get("others_busy")]
            ob = statistics.mean(busy) if busy else float("nan")
            hogs = ", ".join(f"{g.truth(r, f'hog{i}') * 100:.1f}" for i in range(n))
            rows.append((ms, n, share, ob))
            print(f"gpu-neighbours: kernel {ms} ms, cap 30 % beside {n} uncapped: share {share * 100:.2f} % "
                  f"(the uncapped {hogs} %), others_busy {ob:.2f}")
    return {"rows": rows}


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read().split()
    except OSError:
        return []


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


def shuf_yaml(tmp, n=200):
    # Two at a time whatever the machine: the scenario may use two CPUs, each job one core.
    y = os.path.join(tmp, "shuf.yaml")
    write_yaml(y, [(f"s{i}", ["command: [shuf, --echo, 'true']", "cpus: 1", "memory: 200M"]) for i in range(n)],
               "name: shuf\nsample_interval: 1s\nscenarios:\n  two:\n    allowed_cpus: \"0-1\"\n    jobs: ["
               + ", ".join(f"s{i}" for i in range(n)) + "]\n")
    return y


def bench_shuf(tmp):
    """(c) 200 x `shuf --echo true`, 1 core and 200 MiB each, two at a time, against
    `xargs -P2` (no partitions); alternating, medians."""
    n, reps = 200, (2 if QUICK else 3)
    y = shuf_yaml(tmp, n)
    shuf = shutil.which("shuf")
    t_c, t_x = [], []
    run_corun([y], tmp, "shuf-warm", check=True)
    for r in range(reps):
        shutil.rmtree(os.path.join(tmp, "shuf"), ignore_errors=True)
        t_c.append(run_corun([y], tmp, "shuf", check=True)[1])
        t0 = time.monotonic()
        subprocess.run(f"seq {n} | xargs -P2 -I{{}} {shuf} --echo true", shell=True, check=True,
                       stdout=subprocess.DEVNULL)
        t_x.append(time.monotonic() - t0)
    c, x = median(t_c), median(t_x)
    ratio = x / c
    v = verdict("shuf", "200 x shuf, 2 at a time: speed vs xargs -P2", f"{ratio:.2f}x ({c:.2f} s vs {x:.2f} s)",
                ">= 0.5x", ratio >= 0.5)
    print(f"shuf: {n} x `shuf --echo true`, 1 core + 200 MiB each, two at a time, median of {reps}: corun "
          f"{c:.2f} s (runs {', '.join(f'{t:.2f}' for t in t_c)}), xargs -P2 {x:.2f} s: {ratio:.2f}x of xargs's "
          f"speed [target >= 0.5x: {v}]; load {load_note()['loadavg']}")
    return {"corun_s": c, "xargs_s": x, "ratio": ratio, "corun_runs_s": t_c, "xargs_runs_s": t_x}


def timed_with_rss(argv, tmp):
    """Wall time, exit code and peak RSS (MiB, wait4's ru_maxrss) of argv. A child of this
    Python process starts with Python's own high-water mark (exec keeps the larger of the old
    and new image's), so the RSS comes through GNU time, whose child starts small."""
    gnu_time = "/usr/bin/time"
    if not os.access(gnu_time, os.X_OK):
        dt, rc, ru = spawn_wait_s(argv)
        return dt, rc, ru.ru_maxrss / 1024  # floored at this Python's RSS
    out = os.path.join(tmp, "rss.txt")
    dt, rc, _ = spawn_wait_s([gnu_time, "-f", "%M", "-o", out] + argv)
    with open(out) as f:
        return dt, rc, int(f.read().split()[-1]) / 1024


def bench_scale(tmp):
    """(d) flat cost per job: 200 vs 2,000 vs 10,000 x /bin/true (1 core each), the whole
    corun process timed; its peak RSS from wait4."""
    sizes = [200, 2000] if QUICK else [200, 2000, 10000]
    out = {}
    for n in sizes:
        y = os.path.join(tmp, f"scale{n}.yaml")
        write_yaml(y, [(f"q{i}", ["command: [/bin/true]", "cpus: 1"]) for i in range(n)],
                   f"name: scale{n}\nsample_interval: 1s\n")
        res = os.path.join(tmp, f"scale{n}")
        shutil.rmtree(res, ignore_errors=True)
        dt, rc, rss = timed_with_rss([CORUN, "run", "-q", "-o", res, y], tmp)
        if rc != 0:
            sys.exit(f"scale: corun failed on {n} jobs ({rc})")
        out[n] = {"s": dt, "jobs_per_s": n / dt, "peak_rss_mib": rss}
        print(f"scale: {n} x /bin/true: {dt:.2f} s, {n / dt:.0f} jobs/s, runner peak RSS "
              f"{rss:.1f} MiB; load {load_note()['loadavg']}")
        shutil.rmtree(res, ignore_errors=True)
    big = sizes[-1]
    factor = big / 200
    ratio = out[big]["s"] / (factor * out[200]["s"])
    v = verdict("scale", f"{big}-job run vs {factor:.0f} x the 200-job run", f"{ratio:.2f}x "
                f"(RSS {out[big]['peak_rss_mib']:.0f} MiB)", "<= 1.2x", ratio <= 1.2)
    print(f"scale: {big} jobs took {ratio:.2f}x of {factor:.0f} x the 200-job run [target <= 1.2x: {v}]")
    return {str(k): x for k, x in out.items()} | {"ratio": ratio}


def bench_plan(tmp):
    """Parsing and expanding 200 / 2,000 / 10,000-job files (bench/bench-plan), and
    `corun plan` (placement simulation) on the same files."""
    exe = os.path.join(BUILD, "bench", "bench-plan")
    out = {}
    for n in [200, 2000, 10000]:
        y = os.path.join(tmp, f"plan{n}.yaml")
        write_yaml(y, [(f"q{i}", ["command: [/bin/true]", "cpus: 1", "memory: 200M"]) for i in range(n)],
                   f"name: plan{n}\n")
        p = subprocess.run([exe, y, "3"], capture_output=True, text=True, check=True)
        parse_s, expand_s, _ = p.stdout.split()
        t0 = time.monotonic()
        subprocess.run([CORUN, "plan", y], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=None if n < 10000 or not QUICK else 60)
        t_plan = time.monotonic() - t0
        out[n] = {"parse_s": float(parse_s), "expand_s": float(expand_s), "corun_plan_s": t_plan}
        print(f"plan: {n} jobs: parse {float(parse_s) * 1000:.1f} ms, expand {float(expand_s) * 1000:.2f} ms, "
              f"`corun plan` {t_plan:.2f} s")
    for key, what in (("parse_s", "parse"), ("expand_s", "expansion"), ("corun_plan_s", "corun plan")):
        ratio = out[10000][key] / (50 * out[200][key]) if out[200][key] > 0 else float("nan")
        v = verdict("plan", f"{what}: 10,000 jobs vs 50 x 200", f"{ratio:.2f}x", "<= 1.2x", ratio <= 1.2)
        print(f"plan: {what} of 10,000 jobs = {ratio:.2f}x of 50 x 200 [target <= 1.2x: {v}]")
    return {str(k): x for k, x in out.items()}


# BenchExec as measured on this machine before issue 12 (docs/performance.md), shown when
# BenchExec cannot be imported here.
BENCHEXEC_RECORDED = {"runexec_true_ms": 347, "benchexec_shuf_s": 15.0}


def bench_benchexec(tmp):
    """(f) BenchExec's runexec on /bin/true and `benchexec -N 2` on the shuf workload, when
    `import benchexec` works (see docs/performance.md for how to get it)."""
    try:
        import benchexec  # noqa: F401
    except ImportError:
        r = BENCHEXEC_RECORDED
        print(f"benchexec: not importable here (not a dependency; docs/performance.md says how to get it); "
              f"recorded earlier on this machine: runexec /bin/true {r['runexec_true_ms']} ms, "
              f"benchexec -N 2 on 200 x shuf {r['benchexec_shuf_s']} s")
        verdict("benchexec", "BenchExec comparison", "not importable (recorded figures shown)", "-", None)
        return {"importable": False, "recorded": r}
    runexec = shutil.which("runexec") or sys.exit("benchexec: importable but runexec not on PATH")
    reps = 5 if QUICK else 10
    t = []
    for _ in range(reps):
        dt, _, _ = spawn_wait_s([runexec, "--no-container", "--output", os.path.join(tmp, "rx.log"), "--",
                                 "/bin/true"])
        t.append(dt)
    rx = median(t) * 1000
    out = {"importable": True, "runexec_true_ms": rx}
    print(f"benchexec: runexec --no-container /bin/true median of {reps}: {rx:.0f} ms")
    bx = shutil.which("benchexec")
    if bx:
        bdir = os.path.join(tmp, "bx")
        os.makedirs(bdir, exist_ok=True)
        tasks = os.path.join(bdir, "tasks.set")
        with open(os.path.join(bdir, "t.yml"), "w") as f:
            f.write("format_version: '2.0'\ninput_files: []\n")
        with open(tasks, "w") as f:
            f.write("".join(f"t{i}.yml\n" for i in range(200)))
        for i in range(200):
            shutil.copy(os.path.join(bdir, "t.yml"), os.path.join(bdir, f"t{i}.yml"))
        xml = os.path.join(bdir, "b.xml")
        with open(xml, "w") as f:
            f.write('<?xml version="1.0"?>\n<!DOCTYPE benchmark PUBLIC "+//IDN sosy-lab.org//DTD BenchExec '
                    'benchmark 2.3//EN" "https://www.sosy-lab.org/benchexec/benchmark-2.3.dtd">\n'
                    '<benchmark tool="dummy" timelimit="60s" memlimit="200MB" cpuCores="1">\n'
                    f'<rundefinition/><tasks><include>{tasks}</include></tasks></benchmark>\n')
        t0 = time.monotonic()
        p = subprocess.run([bx, "-N", "2", "--no-container", "-o", os.path.join(bdir, "out"), xml],
                           capture_output=True, text=True)
        out["benchexec_s"] = time.monotonic() - t0
        out["benchexec_rc"] = p.returncode
        print(f"benchexec: benchexec -N 2 --no-container, 200 tasks: {out['benchexec_s']:.1f} s (rc {p.returncode})")
    verdict("benchexec", "runexec /bin/true (peer, no target)", f"{rx:.0f} ms", "-", None)
    return out


BENCHES = {"overhead": bench_overhead, "process": bench_process, "timeout": bench_timeout,
           "cpulimit": bench_cpulimit, "peak": bench_peak, "sampling": bench_sampling, "gpu-sampling": bench_gpu_sampling, "gpu-caps": bench_gpu_caps, "gpu-neighbours": bench_gpu_neighbours, "queue": bench_queue,
           "alloc": bench_alloc, "isolation": bench_isolation, "priority": bench_priority,
           "shuf": bench_shuf, "scale": bench_scale, "plan": bench_plan, "benchexec": bench_benchexec}
COST = ["process", "overhead", "shuf", "scale", "sampling", "plan", "benchexec"]


def main():
    global CORUN, BARE, TOUCH, BUILD, QUICK
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, smaller runs")
    ap.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this bench (repeatable)")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    QUICK = a.quick
    BUILD = os.path.abspath(a.build)
    CORUN = os.path.join(BUILD, "corun")
    BARE = os.path.join(BUILD, "bench", "bare-spawn")
    TOUCH = os.path.join(BUILD, "tests", "helpers", "touch-exact")
    os.environ["PATH"] = BUILD + ":" + os.environ["PATH"]
    names = a.only + a.names or COST
    for n in names:
        if n not in BENCHES:
            sys.exit(f"unknown bench '{n}'; known: {' '.join(BENCHES)}")
    out = {}
    with tempfile.TemporaryDirectory(prefix="corun-bench.") as tmp:
        for n in names:
            out[n] = BENCHES[n](tmp)
    if VERDICTS:
        print("\nverdicts:")
        for b, what, fig, target, v in VERDICTS:
            print(f"  {v:4s}  {b:9s} {what}: {fig} (target {target})")
    print(json.dumps(out, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
