/* SPDX-License-Identifier: MIT */
/* corun plan: the dry run. Parses and expands the scenario file like `run`, places every run's
 * jobs on this machine (or a --topology) with the same allocator, and prints where each job
 * would sit, what stays idle, what waits and what can never fit. Touches nothing. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "cli/cli.h"
#include "exec/job-setup.h"
#include "plan/plan.h"
#include "protect/protect.h"
#include "spec/spec.h"
#include "topo/topo.h"
#include "util/cpuset.h"
#include "util/parse.h"

static void print_priority(FILE *f, const PlanJob *pj);

#define PLAN_FILE_MAX (16u << 20)
#include "gpu/gpu.h"

static const char plan_usage[] =
        "Usage: corun plan [RUN OPTIONS] FILE.yaml [--topology DESC|FILE.xml] [--memory-available SIZE]\n"
        "                  [--machine-gpus N] [--json]\n"
        "\n"
        "Shows where every job of every run would be placed, without running anything:\n"
        "its CPUs, the cores, L3 caches and NUMA nodes they belong to, its memory nodes and\n"
        "limit; per run the cores left idle and the memory committed; jobs that would wait\n"
        "for others to finish; and jobs that can never fit, with what would.\n"
        "\n"
        "      --topology T  plan for another machine: a hwloc synthetic description\n"
        "                    (\"pack:2 numa:2 l3:4 core:8 pu:2\", add \"numa:2(memory=64GiB)\" for\n"
        "                    memory, \"; mhz 0-7=5000 8-15=3000\" for P/E cores) or an XML\n"
        "                    file from `lstopo machine.xml`\n"
        "      --memory-available SIZE  memory jobs may commit (default: the machine's)\n"
        "      --machine-gpus N  plan for N GPUs (NVML indexes 0..N-1, node unknown; default:\n"
        "                    this machine's GPUs, or none with --topology)\n"
        "      RUN OPTIONS   every override of `corun run` (-c, -m, --gpus, --replicas, -L, ...),\n"
        "                    applied to the file as run applies them\n"
        "      --json        the plan as JSON\n"
        "  -h, --help        this text\n"
        "\n"
        "Exit status: 0 every job fits, 1 some job can never be placed, 2 bad input.\n";

/* One job of one run, as placed. */
typedef struct Placed {
        const PlanJob *pj;
        Assignment a;
        unsigned wave;     /* 1: starts with the run; n > 1: the (n-1)th time a job's end starts others */
        unsigned order;    /* 1-based: the order in which the run starts its jobs */
        const char *after; /* wave > 1: the job whose end starts it (borrowed name) */
        bool placed;
        char *error; /* why it can never be placed */
} Placed;

typedef struct RunPlan {
        const PlanRun *run;
        Placed *jobs;
        unsigned idle_cores; /* after the first wave started */
        CpuSet idle_cpus;
        uint64_t committed; /* by the first wave */
        uint64_t memory_available;
        char *error; /* the run itself cannot be placed (allowed_cpus) */
} RunPlan;

typedef struct Planner {
        const Spec *spec;
        const Plan *plan;
        const Topology *t;
        AllocOptions o;
        const CorePool *global; /* for the usable set */
        const GpuHost *gpus;    /* this machine's, or --gpus N made-up ones */
        RunPlan *runs;
        size_t n_runs;
        char **warnings;
        size_t n_warnings;
        bool infeasible;
} Planner;

static int warn(Planner *p, const char *fmt, ...) _printf_(2, 3);
static int warn(Planner *p, const char *fmt, ...) {
        char **w = realloc(p->warnings, (p->n_warnings + 1) * sizeof(char *));
        if (!w)
                return -ENOMEM;
        p->warnings = w;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&w[p->n_warnings], fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        p->n_warnings++;
        return 0;
}

static void planner_done(Planner *p) {
        for (size_t i = 0; i < p->n_runs; i++) {
                RunPlan *rp = &p->runs[i];
                for (size_t k = 0; rp->jobs && k < rp->run->n_jobs; k++) {
                        assignment_done(&rp->jobs[k].a);
                        free(rp->jobs[k].error);
                }
                free(rp->jobs);
                free(rp->error);
        }
        free(p->runs);
        for (size_t i = 0; i < p->n_warnings; i++)
                free(p->warnings[i]);
        free(p->warnings);
}

/* Places one run's jobs by simulating the run's queue with the rule the runner uses
 * (alloc_admit): what it admits on an empty pool is wave 1; then running jobs end one
 * at a time, in the order they started (the assumption: the plan knows no durations),
 * and what the queue admits after each end is the next wave. A run whose jobs finish
 * in the order they started places every job exactly so, on the same CPUs. */
static int place_run(Planner *p, const Topology *t, RunPlan *rp) {
        _cleanup_(alloc_pool_freep) CorePool *pool = NULL;
        int r = alloc_pool_new(t, &p->o, &pool);
        if (r < 0)
                return r;
        const PlanRun *run = rp->run;
        size_t n = run->n_jobs, m = MAX(n, (size_t)1);
        _cleanup_free_ AllocRequest *reqs = calloc(m, sizeof(AllocRequest));
        _cleanup_free_ bool *waiting = calloc(m, sizeof(bool));
        _cleanup_free_ Assignment *admitted = calloc(m, sizeof(Assignment));
        _cleanup_free_ size_t *running = calloc(m, sizeof(size_t)); /* by start order */
        if (!reqs || !waiting || !admitted || !running)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                Placed *j = &rp->jobs[k];
                alloc_request_init(&reqs[k], j->pj->name, &j->pj->limits);
                /* `run` refuses such a job before anything starts; here the others go on */
                if (gpu_request_resolve(&j->pj->limits.gpus, p->gpus, j->pj->name, &reqs[k].gpu_mask, &j->error) <
                            0 ||
                    alloc_check(pool, &reqs[k], &j->error) < 0) {
                        if (!j->error && asprintf(&j->error, "job '%s' cannot be placed", reqs[k].job) < 0)
                                return -ENOMEM;
                        p->infeasible = true;
                        continue;
                }
                waiting[k] = true;
        }
        /* Shares over 100 % of a GPU: `run` refuses the run before anything starts. */
        _cleanup_free_ const GpuRequest **g = calloc(m, sizeof *g);
        if (!g)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++)
                g[k] = &rp->jobs[k].pj->limits.gpus;
        if (gpu_shares_check(reqs, g, n, p->gpus ? (unsigned)MIN(p->gpus->n_devices, (size_t)ALLOC_GPUS_MAX) : 0,
                             &rp->error) < 0) {
                p->infeasible = true;
                return 0;
        }
        size_t n_started = 0, next_end = 0;
        const Placed *ended = NULL;
        for (unsigned wave = 1;; wave++) {
                int admitted_now = alloc_admit(pool, reqs, waiting, n, admitted, NULL, NULL);
                if (admitted_now < 0)
                        return admitted_now;
                for (size_t k = 0; k < n && admitted_now > 0; k++) {
                        Placed *j = &rp->jobs[k];
                        if (j->placed || j->error || waiting[k])
                                continue;
                        j->a = admitted[k];
                        j->placed = true;
                        j->wave = wave;
                        j->order = (unsigned)n_started + 1;
                        j->after = ended ? ended->pj->name : NULL;
                        running[n_started++] = k;
                }
                if (wave == 1) {
                        rp->idle_cores = alloc_pool_free_cores(pool);
                        rp->committed = alloc_pool_memory_committed(pool);
                        CpuSet busy = {0};
                        for (size_t k = 0; k < n; k++)
                                if (rp->jobs[k].placed)
                                        cpuset_or(&busy, &rp->jobs[k].a.cpus);
                        rp->idle_cpus = *alloc_pool_usable(pool);
                        cpuset_andnot(&rp->idle_cpus, &busy);
                }
                if (admitted_now == 0)
                        wave--; /* nothing started at this end: no new wave */
                /* the next job to end, in start order */
                if (next_end == n_started)
                        break;
                ended = &rp->jobs[running[next_end++]];
                alloc_release(pool, &ended->a);
        }
        /* Every waiting job passed alloc_check, so on an emptied pool it fits. */
        for (size_t k = 0; k < n; k++)
                if (waiting[k])
                        return -EIO;
        return 0;
}

static int plan_runs(Planner *p) {
        /* Repetitions are placed like their first: the pool starts empty for every run. */
        for (size_t i = 0; i < p->plan->n_runs; i++)
                if (p->plan->runs[i].repetition == 0)
                        p->n_runs++;
        p->runs = calloc(MAX(p->n_runs, (size_t)1), sizeof(RunPlan));
        if (!p->runs)
                return -ENOMEM;
        for (size_t i = 0, n = 0; i < p->plan->n_runs; i++) {
                const PlanRun *run = &p->plan->runs[i];
                if (run->repetition != 0)
                        continue;
                RunPlan *rp = &p->runs[n++];
                rp->run = run;
                rp->memory_available = p->o.memory_available;
                rp->jobs = calloc(MAX(run->n_jobs, (size_t)1), sizeof(Placed));
                if (!rp->jobs)
                        return -ENOMEM;
                for (size_t k = 0; k < run->n_jobs; k++)
                        rp->jobs[k].pj = &run->jobs[k];

                /* allowed_cpus: the run gets the part of the machine it names, as in `run` */
                _cleanup_(topo_freep) Topology *restricted = NULL;
                const Topology *t = p->t;
                if (run->scenario && !cpuset_is_empty(&run->scenario->allowed_cpus)) {
                        CpuSet allowed = run->scenario->allowed_cpus;
                        cpuset_and(&allowed, alloc_pool_usable(p->global));
                        if (cpuset_is_empty(&allowed) || topo_restrict(p->t, &allowed, &restricted) < 0) {
                                char want[256];
                                cpuset_format(&run->scenario->allowed_cpus, want, sizeof(want));
                                if (asprintf(&rp->error, "scenario '%s': allowed_cpus %s has no usable CPU",
                                             run->scenario_name, want) < 0)
                                        return -ENOMEM;
                                p->infeasible = true;
                                continue;
                        }
                        t = restricted;
                }
                AllocOptions o = p->o;
                if (restricted)
                        o.reserve_cores = 0; /* already outside the usable set */
                const AllocOptions saved = p->o;
                p->o = o;
                int r = place_run(p, t, rp);
                p->o = saved;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int collect_warnings(Planner *p) {
        int r;
        for (size_t i = 0; i < p->n_runs; i++) {
                const RunPlan *rp = &p->runs[i];
                for (size_t k = 0; k < rp->run->n_jobs; k++) {
                        const Placed *j = &rp->jobs[k];
                        if (j->a.note && (r = warn(p, "run '%s': job '%s': %s", rp->run->label, j->pj->name,
                                                   j->a.note)) < 0)
                                return r;
                        if (j->placed && j->wave > 1 &&
                            (r = warn(p, "run '%s': job '%s' waits: it starts when '%s' ends, if jobs end in the "
                                         "order they start",
                                      rp->run->label, j->pj->name, j->after)) < 0)
                                return r;
                }
        }
        /* once per job definition, not per replica */
        if (p->o.memory_available != UINT64_MAX)
                for (size_t i = 0; i < p->spec->n_jobs; i++) {
                        const JobSpec *js = &p->spec->jobs[i];
                        if (js->limits.memory_max == LIMIT_MAX &&
                            (r = warn(p,
                                      "job '%s' has no memory limit: it is not counted against the memory "
                                      "available, and nothing stops it from taking all of it",
                                      js->name)) < 0)
                                return r;
                }
        return 0;
}

/* ---- where a set of CPUs sits ---- */

typedef struct Where {
        char cpus[256], cores[256], l3[128], numa[64], packages[64], mems[64];
} Where;

static void where_of(const Topology *t, const Assignment *a, Where *w) {
        CpuSet cores, l3 = {0}, numa, pkg = {0};
        cpuset_format(&a->cpus, w->cpus, sizeof(w->cpus));
        cpuset_format(&a->mems, w->mems, sizeof(w->mems));
        topo_cores_of(t, &a->cpus, &cores);
        cpuset_format(&cores, w->cores, sizeof(w->cores));
        topo_mems_of(t, &a->cpus, &numa);
        cpuset_format(&numa, w->numa, sizeof(w->numa));
        CPUSET_FOREACH(c, &cores) {
                if (t->cores[c].l3 >= 0)
                        cpuset_add(&l3, t->l3[t->cores[c].l3].os_index);
                cpuset_add(&pkg, t->packages[t->cores[c].package].os_index);
        }
        if (cpuset_is_empty(&l3))
                snprintf(w->l3, sizeof(w->l3), "-");
        else
                cpuset_format(&l3, w->l3, sizeof(w->l3));
        cpuset_format(&pkg, w->packages, sizeof(w->packages));
}

static const char *memory_text(char *buf, size_t n, uint64_t bytes) {
        if (bytes == LIMIT_MAX)
                return "-";
        return format_size(buf, n, bytes);
}

/* ---- text ---- */

static void print_topology(const Planner *p, FILE *f) {
        char usable[512], mem[FORMAT_SIZE_MAX];
        cpuset_format(alloc_pool_usable(p->global), usable, sizeof(usable));
        fprintf(f, "machine: %s (%s)\n", p->t->source, p->t->description);
        fprintf(f, "usable:  CPUs %s (%u cores, %u reserved)\n", *usable ? usable : "none",
                alloc_pool_usable_cores(p->global), alloc_pool_reserved_cores(p->global));
        fprintf(f, "memory:  %s available to jobs\n",
                p->o.memory_available == UINT64_MAX ? "unknown (no check)"
                                                    : format_size(mem, sizeof(mem), p->o.memory_available));
        for (size_t i = 0; i < p->gpus->n_devices; i++) {
                const GpuDevice *d = &p->gpus->devices[i];
                fprintf(f, "%s %u %s%s%s", i ? "        " : "gpus:   ", d->nvml_index, d->uuid, *d->name ? ", " : "",
                        d->name);
                if (d->memory_total)
                        fprintf(f, ", %s", format_size(mem, sizeof mem, d->memory_total));
                if (d->numa_node >= 0)
                        fprintf(f, ", NUMA node %d", d->numa_node);
                fputc('\n', f);
        }
        if (p->gpus->n_devices == 0)
                fprintf(f, "gpus:    none (%s)\n", p->gpus->why_none ?: "no NVIDIA GPU");
        if (p->spec->repeat > 1)
                fprintf(f, "repeat:  %u (every repetition is placed like the first, shown here)\n",
                        p->spec->repeat);
}

static void print_run(const Planner *p, const RunPlan *rp, FILE *f) {
        const PlanRun *run = rp->run;
        fprintf(f, "\nrun '%s'\n", run->label);
        if (rp->error) {
                fprintf(f, "  error: %s\n", rp->error);
                return;
        }
        const Topology *t = p->t;
        /* column widths from the content */
        size_t wn = 4, wc = 4, wk = 5, wl = 2, wu = 4, wm = 4;
        Where *w = calloc(MAX(run->n_jobs, (size_t)1), sizeof(Where));
        if (!w)
                return;
        for (size_t k = 0; k < run->n_jobs; k++) {
                const Placed *j = &rp->jobs[k];
                wn = MAX(wn, strlen(j->pj->name));
                if (!j->placed)
                        continue;
                where_of(t, &j->a, &w[k]);
                wc = MAX(wc, strlen(w[k].cpus));
                wk = MAX(wk, strlen(w[k].cores));
                wl = MAX(wl, strlen(w[k].l3));
                wu = MAX(wu, strlen(w[k].numa));
                wm = MAX(wm, strlen(w[k].mems));
        }
        fprintf(f, "  %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %-8s  %s\n", (int)wn, "JOB", (int)wc, "CPUS",
                (int)wk, "CORES", (int)wl, "L3", (int)wu, "NUMA", (int)wm, "MEMS", "MEMORY", "START");
        for (size_t k = 0; k < run->n_jobs; k++) {
                const Placed *j = &rp->jobs[k];
                char mem[FORMAT_SIZE_MAX], start[32];
                if (!j->placed) {
                        fprintf(f, "  %-*s  never fits: %s\n", (int)wn, j->pj->name, j->error ?: "?");
                        continue;
                }
                if (j->wave == 1)
                        snprintf(start, sizeof(start), "at once");
                else
                        snprintf(start, sizeof(start), "wave %u", j->wave);
                fprintf(f, "  %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %-8s  %s%s", (int)wn, j->pj->name, (int)wc,
                        w[k].cpus, (int)wk, w[k].cores, (int)wl, w[k].l3, (int)wu, w[k].numa, (int)wm,
                        w[k].mems, memory_text(mem, sizeof(mem), j->pj->limits.memory_max), start,
                        j->a.exclusive ? "" : " (shared)");
                for (size_t g = 0, n = 0; g < p->gpus->n_devices && g < ALLOC_GPUS_MAX; g++)
                        if (j->a.gpus & (UINT64_C(1) << g))
                                fprintf(f, "%s%u", n++ ? "," : ", GPU ", p->gpus->devices[g].nvml_index);
                const GpuRequest *gr = &j->pj->limits.gpus;
                if (j->a.gpus && gr->share_ppm > 0)
                        fprintf(f, " (%g %% %s%s)", gr->share_ppm / 1e4, gpu_share_mode_to_string(gr->mode),
                                gr->via == GPU_VIA_MPS ? " via mps" : "");
                else if (j->a.gpus && j->a.gpus_shared)
                        fputs(" (shared)", f);
                if (j->a.gpus && gr->memory_limit > 0) {
                        char gm[FORMAT_SIZE_MAX];
                        fprintf(f, " (GPU memory %s)", format_size(gm, sizeof gm, gr->memory_limit));
                }
                print_priority(f, j->pj);
                fputc('\n', f);
        }
        free(w);
        char idle[512], a[FORMAT_SIZE_MAX], b[FORMAT_SIZE_MAX];
        cpuset_format(&rp->idle_cpus, idle, sizeof(idle));
        fprintf(f, "  idle: %u core%s%s%s%s; memory committed: %s", rp->idle_cores,
                rp->idle_cores == 1 ? "" : "s", *idle ? " (CPUs " : "", idle, *idle ? ")" : "",
                format_size(a, sizeof(a), rp->committed));
        if (rp->memory_available != UINT64_MAX)
                fprintf(f, " of %s", format_size(b, sizeof(b), rp->memory_available));
        fputc('\n', f);
}

static void print_priority(FILE *f, const PlanJob *pj) {
        CgLimits l;
        char a[FORMAT_SIZE_MAX], b[FORMAT_SIZE_MAX];
        protect_job_limits(&pj->limits, &l);
        if (pj->limits.priority != PRIORITY_NORMAL)
                fprintf(f, ", priority %s (cpu weight %" PRIu64 ")", priority_to_string(pj->limits.priority),
                        l.cpu_weight);
        if (l.memory_high != LIMIT_MAX)
                fprintf(f, ", high mark %s", format_size(a, sizeof a, l.memory_high));
        if (l.memory_low != 0)
                fprintf(f, ", protected %s", l.memory_low == LIMIT_MAX ? "all" : format_size(b, sizeof b, l.memory_low));
}

/* ---- JSON ---- */

/* What the runner's job-setup computes for the job (the same function): paths relative to
 * the results dir, its group below the run's, and the variables corun sets (the inherited
 * environment left out); the run id is not known yet. NULL when out of memory. */
static json_t *json_setup(const Planner *p, const RunPlan *rp, const Placed *j) {
        JobSetupInput in = {
                .run_id = "RUN-ID",
                .scratch_base = "$TMPDIR/corun-RUN-ID",
                .run_index = (size_t)(rp->run - p->plan->runs),
                .run = rp->run,
                .pj = j->pj,
                .cpus = &j->a.cpus,
        };
        JobSetup s;
        if (job_setup_build(&in, &s) < 0)
                return NULL;
        json_t *env = json_object();
        for (char **e = s.envp; env && *e; e++) {
                size_t k = strcspn(*e, "=");
                json_object_setn_new(env, *e, k, json_string((*e)[k] ? *e + k + 1 : ""));
        }
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o*}", "log_stdout", s.log_stdout_rel, "log_stderr",
                              s.log_stderr_rel, "samples_csv", s.samples_rel, "cgroup", s.cgroup_rel, "scratch",
                              s.scratch, "env", env);
        job_setup_done(&s);
        return o;
}

static json_t *json_bytes(uint64_t v) {
        return v == UINT64_MAX ? json_null() : json_integer((json_int_t)MIN(v, (uint64_t)INT64_MAX));
}

static json_t *json_run(const Planner *p, const RunPlan *rp) {
        const PlanRun *run = rp->run;
        json_t *jobs = json_array();
        for (size_t k = 0; k < run->n_jobs; k++) {
                const Placed *j = &rp->jobs[k];
                json_t *o = json_object();
                json_object_set_new(o, "name", json_string(j->pj->name));
                json_object_set_new(o, "memory_max_bytes", json_bytes(j->pj->limits.memory_max));
                CgLimits pl;
                protect_job_limits(&j->pj->limits, &pl);
                json_object_set_new(o, "priority", json_string(priority_to_string(j->pj->limits.priority)));
                json_object_set_new(o, "memory_high_bytes", json_bytes(pl.memory_high));
                json_object_set_new(o, "memory_low_bytes", json_bytes(pl.memory_low));
                json_object_set_new(o, "cpu_weight", pl.cpu_weight ? json_integer((json_int_t)pl.cpu_weight) : json_null());
                if (j->placed) {
                        Where w;
                        where_of(p->t, &j->a, &w);
                        json_object_set_new(o, "wave", json_integer(j->wave));
                        json_object_set_new(o, "cpus", json_string(w.cpus));
                        json_object_set_new(o, "cores", json_string(w.cores));
                        json_object_set_new(o, "l3", json_string(streq(w.l3, "-") ? "" : w.l3));
                        json_object_set_new(o, "numa_nodes", json_string(w.numa));
                        json_object_set_new(o, "packages", json_string(w.packages));
                        json_object_set_new(o, "mems", json_string(w.mems));
                        json_object_set_new(o, "exclusive", json_boolean(j->a.exclusive));
                        json_t *gpus = json_array();
                        for (size_t g = 0; g < p->gpus->n_devices && g < ALLOC_GPUS_MAX; g++)
                                if (j->a.gpus & (UINT64_C(1) << g))
                                        json_array_append_new(
                                                gpus, json_pack("{s:i, s:s}", "index",
                                                                (int)p->gpus->devices[g].nvml_index, "uuid",
                                                                p->gpus->devices[g].uuid));
                        json_object_set_new(o, "gpus", gpus);
                        json_object_set_new(o, "gpus_shared", json_boolean(j->a.gpus_shared));
                        json_object_set_new(o, "note", j->a.note ? json_string(j->a.note) : json_null());
                        json_object_set_new(o, "order", json_integer(j->order));
                        json_object_set_new(o, "setup", json_setup(p, rp, j) ?: json_null());
                        json_object_set_new(o, "after", j->after ? json_string(j->after) : json_null());
                        json_object_set_new(o, "waits", j->after ? json_sprintf("starts when '%s' ends", j->after)
                                                                 : json_null());
                }
                json_object_set_new(o, "error", j->error ? json_string(j->error) : json_null());
                json_array_append_new(jobs, o);
        }
        char idle[512];
        cpuset_format(&rp->idle_cpus, idle, sizeof(idle));
        return json_pack("{s:s, s:s, s:b, s:i, s:o, s:o, s:i, s:s, s:I, s:o}", "label", run->label,
                         "scenario", run->scenario_name, "solo", run->solo, "replicas", (int)run->replicas,
                         "params", run->params ? json_string(run->params) : json_null(), "error",
                         rp->error ? json_string(rp->error) : json_null(), "idle_cores", (int)rp->idle_cores,
                         "idle_cpus", idle, "memory_committed_bytes", (json_int_t)rp->committed, "jobs",
                         jobs);
}

static int print_json(const Planner *p) {
        char usable[1024];
        cpuset_format(alloc_pool_usable(p->global), usable, sizeof(usable));
        json_t *runs = json_array(), *warnings = json_array();
        for (size_t i = 0; i < p->n_runs; i++)
                json_array_append_new(runs, json_run(p, &p->runs[i]));
        for (size_t i = 0; i < p->n_warnings; i++)
                json_array_append_new(warnings, json_string(p->warnings[i]));
        json_t *machine = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:s, s:i, s:i, s:o}", "source",
                                    p->t->source, "description", p->t->description, "pus", (int)p->t->n_pus,
                                    "cores", (int)p->t->n_cores, "numa_nodes", (int)p->t->n_numa,
                                    "core_kinds", (int)p->t->n_kinds, "usable_cpus", usable, "usable_cores",
                                    (int)alloc_pool_usable_cores(p->global), "reserved_cores",
                                    (int)alloc_pool_reserved_cores(p->global), "memory_available_bytes",
                                    json_bytes(p->o.memory_available));
        json_t *root =
                json_pack("{s:o, s:i, s:b, s:o, s:o}", "machine", machine, "repeat", (int)p->spec->repeat,
                          "feasible", !p->infeasible, "runs", runs, "warnings", warnings);
        if (!root)
                return -ENOMEM;
        int r = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ? -EIO : 0;
        fputc('\n', stdout);
        json_decref(root);
        return r;
}

/* ---- the command ---- */

DEFINE_TRIVIAL_CLEANUP_FUNC(Spec *, spec_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(Plan *, plan_free);

int cmd_plan(int argc, char **argv) {
        /* plan's own flags; every other one is run's (-c, -m, --gpus, --replicas, -L, ...),
         * parsed by the same code, so a plan is the plan of exactly that `run` command. */
        const char *topology = NULL, *memory = NULL, *gpus_arg = NULL;
        bool json = false;
        _cleanup_free_ char **rest = calloc((size_t)argc + 1, sizeof(char *));
        if (!rest) {
                log_error("out of memory");
                return 2;
        }
        int n_rest = 0;
        rest[n_rest++] = argv[0];
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char **slot = streq(a, "--topology") || strneq(a, "--topology=", 11) ? &topology
                                    : streq(a, "--memory-available") || strneq(a, "--memory-available=", 19) ? &memory
                                    : streq(a, "--machine-gpus") || strneq(a, "--machine-gpus=", 15) ? &gpus_arg
                                                                                                 : NULL;
                if (streq(a, "--")) {
                        while (i < argc)
                                rest[n_rest++] = argv[i++];
                        break;
                }
                if (streq(a, "--json")) {
                        json = true;
                        continue;
                }
                if (streq(a, "-h") || streq(a, "--help")) {
                        fputs(plan_usage, stdout);
                        return 0;
                }
                if (slot) {
                        const char *eq = strchr(a, '=');
                        if (!eq && i + 1 >= argc) {
                                log_error("%s: expected a value, got nothing", a);
                                return 2;
                        }
                        *slot = eq ? eq + 1 : argv[++i];
                        continue;
                }
                rest[n_rest++] = argv[i];
        }
        int file_index = -1;
        SpecError fe = {0};
        if (spec_cli_find_file(n_rest, rest, &file_index, &fe) < 0 || file_index < 0) {
                log_error("%s", fe.message ?: "plan: expected a scenario file");
                spec_error_done(&fe);
                fputs(plan_usage, stderr);
                return 2;
        }
        const char *file = rest[file_index];

        uint64_t memory_bytes = 0;
        if (memory && (parse_size(memory, &memory_bytes) < 0 || memory_bytes == 0)) {
                log_error("--memory-available: '%s' is not a size (e.g. 64G, 512M, max)", memory);
                return 2;
        }

        /* The GPUs: --gpus N made up (for another machine), this machine's, or none. */
        _cleanup_(gpu_host_freep) GpuHost *gh = NULL;
        unsigned n_gpus = 0;
        if (gpus_arg && (parse_unsigned(gpus_arg, &n_gpus) < 0 || n_gpus > ALLOC_GPUS_MAX)) {
                log_error("--machine-gpus: expected a GPU count from 0 to %d, got '%s'", ALLOC_GPUS_MAX, gpus_arg);
                return 2;
        }
        if (gpus_arg || topology) {
                gh = calloc(1, sizeof *gh);
                GpuDevice *d = calloc(MAX(n_gpus, 1u), sizeof *d);
                if (!gh || !d) {
                        free(d);
                        log_error("out of memory");
                        return 2;
                }
                gh->devices = d;
                gh->n_devices = n_gpus;
                for (unsigned i = 0; i < n_gpus; i++) {
                        d[i] = (GpuDevice){.nvml_index = i, .numa_node = -1, .mig_mode = -1};
                        snprintf(d[i].uuid, sizeof d[i].uuid, "GPU-%u", i);
                }
                if (n_gpus == 0)
                        gh->why_none = strdup(gpus_arg ? "--machine-gpus 0" : "--topology without --machine-gpus");
        } else if (gpu_host_discover(&gh) < 0) {
                log_error("out of memory");
                return 2;
        }

        _cleanup_free_ char *text = NULL, *err = NULL;
        size_t len = 0;
        int r = read_full_file(file, PLAN_FILE_MAX, &text, &len);
        if (r < 0) {
                log_error("cannot read scenario file %s: %s", file, strerror(-r));
                return 2;
        }
        _cleanup_(spec_freep) Spec *spec = NULL;
        SpecError se = {0};
        SpecCliInput in = {.argc = n_rest, .argv = rest, .file_text = text, .file_len = len};
        r = spec_from_cli(&in, &spec, &se);
        if (r < 0) {
                log_error("%s", se.message ?: "invalid scenario");
                spec_error_done(&se);
                return 2;
        }
        _cleanup_(plan_freep) Plan *plan = NULL;
        r = plan_build(spec, &plan, &err);
        if (r < 0) {
                log_error("%s", err ?: "cannot expand the scenario");
                return 2;
        }

        _cleanup_(topo_freep) Topology *t = NULL;
        r = topology ? topo_load_arg(topology, &t, &err) : topo_load_host(NULL, &t, &err);
        if (r < 0) {
                log_error("%s", err ?: strerror(-r));
                return 2;
        }
        /* hwloc gives synthetic NUMA nodes 1 GiB unless the description says memory=: that
         * number would refuse every real job, so it means "unknown" here */
        bool fake_memory = topology && !strstr(topology, ".xml") && !strstr(topology, "memory=");
        _cleanup_free_ int *gpu_numa = calloc(MAX(gh->n_devices, (size_t)1), sizeof(int));
        if (!gpu_numa) {
                log_error("out of memory");
                return 2;
        }
        for (size_t i = 0; i < gh->n_devices; i++)
                gpu_numa[i] = gh->devices[i].numa_node;
        Planner p = {
                .spec = spec,
                .plan = plan,
                .t = t,
                .gpus = gh,
                .o = {.reserve_cores = spec->reserve_cores,
                      .numa = spec->numa,
                      .memory_available = memory                                ? memory_bytes
                                          : fake_memory || t->memory_bytes == 0 ? UINT64_MAX
                                                                                : t->memory_bytes,
                      .n_gpus = (unsigned)MIN(gh->n_devices, (size_t)ALLOC_GPUS_MAX),
                      .gpu_numa = gpu_numa},
        };
        _cleanup_(alloc_pool_freep) CorePool *global = NULL;
        r = alloc_pool_new(t, &p.o, &global);
        if (r < 0) {
                log_error("cannot set up core allocation: %s", strerror(-r));
                return 2;
        }
        p.global = global;
        r = plan_runs(&p);
        if (r >= 0)
                r = collect_warnings(&p);
        if (r < 0) {
                log_error("cannot plan: %s", strerror(-r));
                planner_done(&p);
                return 2;
        }

        if (json)
                r = print_json(&p);
        else {
                print_topology(&p, stdout);
                for (size_t i = 0; i < p.n_runs; i++)
                        print_run(&p, &p.runs[i], stdout);
                if (p.n_warnings > 0)
                        fputc('\n', stdout);
                for (size_t i = 0; i < p.n_warnings; i++)
                        printf("warning: %s\n", p.warnings[i]);
        }
        /* the refusals also go to stderr, once each, so scripts see why the status is 1 */
        for (size_t i = 0; i < p.n_runs; i++) {
                if (p.runs[i].error)
                        log_error("%s", p.runs[i].error);
                for (size_t k = 0; k < p.runs[i].run->n_jobs; k++)
                        if (p.runs[i].jobs[k].error)
                                log_error("run '%s': %s", p.runs[i].run->label, p.runs[i].jobs[k].error);
        }
        bool infeasible = p.infeasible;
        planner_done(&p);
        if (r < 0)
                return 2;
        return infeasible ? 1 : 0;
}
