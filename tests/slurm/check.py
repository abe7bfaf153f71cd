#!/usr/bin/env python3
"""Checks on collected Slurm results for the slurm suite (one subcommand per check)."""
import glob
import json
import os
import sys


def load(path):
    if os.path.isdir(path):
        path = os.path.join(path, "result.json")
    with open(path) as f:
        return json.load(f)


def cpus(text):
    out = set()
    for part in (text or "").split(","):
        if not part:
            continue
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def structure(doc):
    return [(r["scenario"], r["repetition"], r["solo"], r.get("solo_for"), r["replicas"], r.get("params"),
             # A run lists its jobs in the order they finished, which may differ.
             sorted((j["name"], j["reason"]) for j in r["jobs"])) for r in doc["runs"]]


def fail(msg):
    print("check.py: " + msg, file=sys.stderr)
    sys.exit(1)


def same_structure(local, slurm):
    a, b = load(local), load(slurm)
    if b.get("executor") != "slurm":
        fail("%s: executor is %r, not 'slurm'" % (slurm, b.get("executor")))
    if structure(a) != structure(b):
        fail("run structure differs:\nlocal %s\nslurm %s" % (structure(a), structure(b)))
    for r in b["runs"]:
        for j in r["jobs"]:
            s = j.get("slurm") or {}
            if not s.get("job_id") or not s.get("node"):
                fail("job %s has no Slurm job id or node: %s" % (j["name"], s))
    if not b.get("hosts"):
        fail("no per-node host metadata")


def cpus_inside(slurm):
    """Every job's applied CPUs, and the CPUs the job itself saw (Cpus_allowed_list in its
    stdout, when it prints one), lie inside what Slurm gave its step."""
    doc = load(slurm)
    base = slurm if os.path.isdir(slurm) else os.path.dirname(slurm)
    n = 0
    for r in doc["runs"]:
        for j in r["jobs"]:
            s = j["slurm"]
            given = cpus(s.get("cpus") or doc["hosts"][s["node"]]["allowed_cpus"])
            applied = cpus((j.get("applied") or {}).get("cpus"))
            if not applied or not applied <= given:
                fail("job %s: applied CPUs %s not inside the step's %s" % (j["name"], applied, given))
            out = (j.get("logs") or {}).get("stdout")
            if out and os.path.exists(os.path.join(base, out)):
                for line in open(os.path.join(base, out)):
                    if line.startswith("Cpus_allowed_list:"):
                        seen = cpus(line.split(":", 1)[1].strip())
                        if not seen <= given:
                            fail("job %s saw CPUs %s outside the step's %s" % (j["name"], seen, given))
                        n += 1
    print("cpus-inside: %s: every job inside its allocation (%d saw their own CPUs)" % (slurm, n))


def slurm_failure(slurm, job):
    doc = load(slurm)
    for r in doc["runs"]:
        for j in r["jobs"]:
            if j["name"] == job:
                if j["reason"] != "failed-to-start" or not (j.get("slurm") or {}).get("failure"):
                    fail("job %s: %s, slurm %s: not reported as a Slurm failure" % (job, j["reason"], j.get("slurm")))
                if j.get("exit_code") is not None:
                    fail("job %s has an exit code %s: a Slurm failure must not look like one" % (job, j["exit_code"]))
                return
    fail("no job %s" % job)


def reasons(slurm, *want):
    doc = load(slurm)
    got = sorted(j["name"] + "=" + j["reason"] for r in doc["runs"] for j in r["jobs"])
    if got != sorted(want):
        fail("reasons %s, expected %s" % (got, sorted(want)))


def one_cpu(result):
    doc = load(result)
    h = doc["host"]
    if h["cpus_allowed"] != 1:
        fail("host.cpus_allowed is %s, not 1" % h["cpus_allowed"])
    for r in doc["runs"]:
        for j in r["jobs"]:
            if len(cpus(j["applied"]["cpus"])) != 1:
                fail("job %s placed on %s" % (j["name"], j["applied"]["cpus"]))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"same-structure": same_structure, "cpus-inside": cpus_inside, "slurm-failure": slurm_failure,
     "reasons": reasons, "one-cpu": one_cpu}[cmd](*args)
