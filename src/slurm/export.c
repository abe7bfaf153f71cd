/* SPDX-License-Identifier: MIT */
/* The sbatch script for a plan, one of three shapes (docs/slurm.md). The script is meant
 * to be read and edited: every block says what it does. Whatever a step needs beyond
 * what srun can express (memory.high, priorities, phases, metrics, timeouts) is kept by
 * running corun itself inside the step; what neither can keep is named in a warning. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "slurm/slurm.h"
#include "util/error.h"
#include "util/macros.h"
#include "util/parse.h"

static const char *const mode_names[_SLURM_MODE_MAX] = {
        [SLURM_MODE_NODE] = "node",
        [SLURM_MODE_STEPS] = "steps",
        [SLURM_MODE_ARRAY] = "array",
};

const char *slurm_mode_to_string(SlurmMode m) {
        return m >= 0 && m < _SLURM_MODE_MAX ? mode_names[m] : NULL;
}

SlurmMode slurm_mode_from_string(const char *s) {
        for (int i = 0; s && i < _SLURM_MODE_MAX; i++)
                if (streq(s, mode_names[i]))
                        return i;
        return _SLURM_MODE_INVALID;
}

/* Slack on top of the plan's worst case: Slurm kills at --time, and a run also spends
 * time in hooks, setup and queueing for cores that the timeouts do not count. */
#define TIME_MARGIN_USEC (5 * 60 * USEC_PER_SEC)

uint64_t slurm_plan_duration_usec(const Plan *plan) {
        uint64_t total = 0;
        for (size_t i = 0; i < plan->n_runs; i++) {
                uint64_t longest = 0;
                for (size_t k = 0; k < plan->runs[i].n_jobs; k++) {
                        const JobSpec *js = plan->runs[i].jobs[k].spec;
                        if (js->timeout_usec == USEC_INFINITY)
                                return USEC_INFINITY;
                        longest = MAX(longest, js->timeout_usec + js->grace_usec);
                }
                total += longest;
        }
        return total;
}

void slurm_format_time(uint64_t usec, char *buf, size_t n) {
        uint64_t s = (usec + usec / 10 + TIME_MARGIN_USEC + USEC_PER_SEC - 1) / USEC_PER_SEC;
        snprintf(buf, n, "%" PRIu64 "-%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 86400, s / 3600 % 24,
                 s / 60 % 60, s % 60);
}

typedef struct Warnings {
        char **v;
        size_t n;
        int oom;
} Warnings;

static void warn(Warnings *w, const char *fmt, ...) _printf_(2, 3);
static void warn(Warnings *w, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        int k = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (k < 0) {
                w->oom = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < w->n; i++)
                if (streq(w->v[i], s)) {
                        free(s);
                        return;
                }
        char **nv = realloc(w->v, (w->n + 2) * sizeof *nv);
        if (!nv) {
                free(s);
                w->oom = -ENOMEM;
                return;
        }
        w->v = nv;
        w->v[w->n++] = s;
        w->v[w->n] = NULL;
}

/* 'text' with embedded single quotes closed and reopened, for the shell. */
static void put_quoted(FILE *f, const char *s) {
        fputc('\'', f);
        for (; *s; s++)
                if (*s == '\'')
                        fputs("'\\''", f);
                else
                        fputc(*s, f);
        fputc('\'', f);
}

/* srun's CPU request for one job: -c, and --overlap where the jobs share CPUs. */
static void put_cpus(FILE *f, const PlanJob *j, Warnings *w) {
        const CpuRequest *c = &j->limits.cpus;
        switch (c->kind) {
        case CPUS_COUNT:
                fprintf(f, " -c %u", c->count);
                break;
        case CPUS_LIST:
                fprintf(f, " -c %u", cpuset_count(&c->set));
                warn(w,
                     "job '%s': cpus: a CPU list; Slurm picks which %u CPUs the step gets, the exact ids "
                     "are "
                     "not kept",
                     j->name, cpuset_count(&c->set));
                break;
        case CPUS_SHARED:
                /* Jobs that share CPUs share them in Slurm too: steps may overlap. */
                fprintf(f, " -c %u --overlap", cpuset_count(&c->set));
                break;
        case CPUS_ALL:
                fputs(" -c \"$SLURM_CPUS_ON_NODE\" --overlap", f);
                break;
        default:
                fputs(" -c 1", f);
                break;
        }
}

static void put_mem(FILE *f, const PlanJob *j, size_t n_jobs) {
        uint64_t m = j->limits.memory_max;
        if (j->limits.memory_max_set && m != LIMIT_MAX)
                fprintf(f, " --mem=%" PRIu64 "M", (m + (1u << 20) - 1) >> 20);
        else
                /* No limit asked: an equal share of the allocation, since a step without
                 * --mem takes all of it and the run's other steps would wait. */
                fprintf(f, " --mem=\"$(mem_share %zu)\"", n_jobs);
}

/* What corun keeps inside the step (listed in the script) and what splitting the run
 * into steps loses (warnings). */
static void job_notes(FILE *f, const Spec *spec, const PlanRun *run, const PlanJob *j, SlurmMode mode,
                      Warnings *w) {
        const Limits *l = &j->limits;
        char a[64];
        fprintf(f, "#   %s:", j->name);
        if (l->memory_high_set && l->memory_high != LIMIT_MAX)
                fprintf(f, " memory_high=%s", format_size(a, sizeof a, l->memory_high));
        if (l->memory_low_set && l->memory_low != LIMIT_MAX)
                fprintf(f, " memory_low=%s", format_size(a, sizeof a, l->memory_low));
        if (l->swap_max_set)
                fprintf(f, " swap=%s",
                        l->swap_max == LIMIT_MAX ? "max" : format_size(a, sizeof a, l->swap_max));
        if (l->cpu_weight)
                fprintf(f, " cpu_weight=%" PRIu64, l->cpu_weight);
        if (l->cpu_max_pct)
                fprintf(f, " cpu_max=%" PRIu64 "%%", l->cpu_max_pct);
        if (l->priority != PRIORITY_NORMAL)
                fprintf(f, " priority=%s", priority_to_string(l->priority));
        if (j->spec->timeout_usec != USEC_INFINITY)
                fprintf(f, " timeout=%s", format_duration(a, sizeof a, j->spec->timeout_usec));
        if (j->spec->n_phases)
                fprintf(f, " phases=%zu", j->spec->n_phases);
        if (j->spec->n_metrics)
                fprintf(f, " metrics=%zu", j->spec->n_metrics);
        if (j->spec->cwd)
                fprintf(f, " cwd=%s", j->spec->cwd);
        size_t n_env = 0;
        while (j->env && j->env[n_env])
                n_env++;
        if (n_env)
                fprintf(f, " env=%zu", n_env);
        fputc('\n', f);
        if (mode == SLURM_MODE_NODE)
                return;
        if (l->priority != PRIORITY_NORMAL && spec->protector.mode != PROTECTOR_OFF)
                warn(w,
                     "job '%s': priority %s: the protector acts between the jobs of one run, which --mode "
                     "%s "
                     "puts in separate steps; use --mode node to keep it",
                     j->name, priority_to_string(l->priority), slurm_mode_to_string(mode));
        if (run->scenario && run->scenario->memory_total != LIMIT_MAX)
                warn(w,
                     "scenario '%s': memory_total (one limit over all its jobs) cannot span steps; each "
                     "step "
                     "has only its own --mem; use --mode node to keep it",
                     run->scenario->name);
        if (run->scenario && !cpuset_is_empty(&run->scenario->allowed_cpus))
                warn(w, "scenario '%s': allowed_cpus; Slurm picks the CPUs of each step",
                     run->scenario->name);
}

static void put_header(FILE *f, const Spec *spec, const Plan *plan, const SlurmExportOptions *o,
                       Warnings *w) {
        char t[64];
        fprintf(f,
                "#!/bin/bash\n"
                "# Generated by `corun export slurm --mode %s` (corun %s) from\n"
                "#   %s\n"
                "# %zu job(s) in %zu run(s). Submit with `sbatch THIS_FILE`; afterwards\n"
                "# `corun collect DIR` merges what the steps wrote into DIR/result.json\n"
                "# (DIR is printed at the start of the job's output). docs/slurm.md explains each part.\n"
                "#\n",
                slurm_mode_to_string(o->mode), CORUN_VERSION, o->spec_file, plan->n_jobs_total,
                plan->n_runs);
        fprintf(f, "#SBATCH --job-name=corun-%s\n", spec->name);
        if (o->partition)
                fprintf(f, "#SBATCH --partition=%s\n", o->partition);
        if (o->account)
                fprintf(f, "#SBATCH --account=%s\n", o->account);
        if (o->workdir)
                fprintf(f, "#SBATCH --chdir=%s\n", o->workdir);
        uint64_t d = slurm_plan_duration_usec(plan);
        if (o->mode == SLURM_MODE_ARRAY) {
                /* One task runs one run: the longest run bounds each task. */
                uint64_t longest = 0;
                for (size_t i = 0; i < plan->n_runs && longest != USEC_INFINITY; i++) {
                        Plan one = {.runs = plan->runs + i, .n_runs = 1};
                        longest = MAX(longest, slurm_plan_duration_usec(&one));
                }
                d = longest;
        }
        if (d == USEC_INFINITY) {
                fputs("# --time: not set, a job has no timeout; the partition's default limit applies.\n",
                      f);
                warn(w, "a job has no timeout: --time is left to the partition's default (give every job a "
                        "timeout:, or edit #SBATCH --time)");
        } else {
                slurm_format_time(d, t, sizeof t);
                fprintf(f, "#SBATCH --time=%s\n", t);
                fprintf(f,
                        "# --time: %s, the %s's longest case (each job's timeout plus grace) plus 10%% and "
                        "5 min.\n",
                        format_duration((char[64]){0}, 64, d), o->mode == SLURM_MODE_ARRAY ? "run" : "plan");
        }
}

/* The part every mode shares: where corun is, where the results go, the manifest. */
static void put_prologue(FILE *f, const Spec *spec, const SlurmExportOptions *o, const char *jobid_var) {
        fputs("\nset -u\n# The corun binary and the scenario file; edit when they live elsewhere on the "
              "cluster.\nCORUN=${CORUN:-",
              f);
        put_quoted(f, o->corun_path);
        fputs("}\nSPEC=", f);
        put_quoted(f, o->spec_file);
        fprintf(f,
                "\n# Results: a directory all steps can write (shared filesystem); `corun run --slurm`\n"
                "# sets CORUN_RESULTS.\n"
                "RESULTS=${CORUN_RESULTS:-${SLURM_SUBMIT_DIR:-$PWD}/corun-results/%s-slurm-%s}\n"
                "mkdir -p \"$RESULTS\" || exit 1\n"
                "echo \"corun: results in $RESULTS\"\n"
                "# The manifest tells `corun collect` how this job was laid out.\n"
                "printf '{\"mode\": \"%s\", \"spec_file\": \"%%s\", \"job_id\": \"%%s\", \"corun\": "
                "\"%%s\"}\\n' \\\n"
                "        \"$SPEC\" \"%s\" \"$CORUN\" >\"$RESULTS/slurm.json.$$\" &&\n"
                "        mv -f \"$RESULTS/slurm.json.$$\" \"$RESULTS/slurm.json\"\n",
                spec->name, jobid_var, slurm_mode_to_string(o->mode), jobid_var);
}

static int export_node(const Spec *spec, const Plan *plan, const SlurmExportOptions *o, FILE *f,
                       Warnings *w) {
        fputs("#SBATCH --nodes=1\n#SBATCH --exclusive\n#SBATCH --mem=0\n"
              "# A whole node (--exclusive, --mem=0: all its memory). corun runs the plan in it as on\n"
              "# any machine: its own partitions, co-scheduling, priorities and protector, limited to\n"
              "# the CPUs and memory Slurm gave the job. Nothing of the scenario is lost.\n",
              f);
        put_prologue(f, spec, o, "$SLURM_JOB_ID");
        fputs("\n# Every job's limits, phases and metrics, kept by corun:\n", f);
        for (size_t i = 0; i < spec->n_jobs; i++) {
                PlanJob pj = {.name = spec->jobs[i].name,
                              .spec = &spec->jobs[i],
                              .env = spec->jobs[i].env,
                              .limits = spec->jobs[i].limits};
                job_notes(f, spec, NULL, &pj, SLURM_MODE_NODE, w);
        }
        fputs("\"$CORUN\" run \"$SPEC\" -o \"$RESULTS/node\"\n"
              "status=$?\n"
              "echo \"$status\" >\"$RESULTS/node.status\"\n"
              "exit \"$status\"\n",
              f);
        return 0;
}

/* A function the steps and array scripts share: one job of the plan, its exit status and
 * log next to its result directory. A step Slurm never started leaves a status and a log
 * but no result directory: collect tells that apart from the job's own failure. */
static void put_step_fn(FILE *f, bool use_srun) {
        fputs("\n# step RUN JOB [SRUN OPTIONS...]: job JOB of run RUN of the plan (from 0, in the order\n"
              "# `corun plan` lists them), run by corun inside the step so that every limit, phase and\n"
              "# metric of the scenario is kept. Its result goes to runs/rRUN/jJOB/, the exit status\n"
              "# to jJOB.status.\n"
              "step() {\n"
              "        local run=$1 job=$2 d\n"
              "        shift 2\n"
              "        d=\"$RESULTS/runs/r$run\"\n"
              "        mkdir -p \"$d\"\n",
              f);
        if (use_srun)
                fputs("        srun --exact -N1 -n1 --cpu-bind=cores --job-name=\"corun-r$run-j$job\" "
                      "\"$@\" \\\n"
                      "                \"$CORUN\" slurm-step \"$SPEC\" --run \"$run\" --job \"$job\" -o "
                      "\"$d/j$job\" \\\n"
                      "                >\"$d/j$job.log\" 2>&1\n",
                      f);
        else
                fputs("        \"$CORUN\" slurm-step \"$SPEC\" --run \"$run\" --job \"$job\" -o "
                      "\"$d/j$job\" "
                      ">\"$d/j$job.log\" 2>&1\n",
                      f);
        fputs("        echo $? >\"$d/j$job.status\"\n}\n", f);
}

static int export_steps(const Spec *spec, const Plan *plan, const SlurmExportOptions *o, FILE *f,
                        Warnings *w) {
        fputs("#SBATCH --nodes=1\n#SBATCH --exclusive\n#SBATCH --mem=0\n"
              "# One allocation (a whole node). Each job of a run is an `srun --exact` step with its own\n"
              "# CPUs (-c, bound to cores) and memory (--mem); the jobs of one run start together in the\n"
              "# background and the script waits for all of them before the next run starts.\n",
              f);
        put_prologue(f, spec, o, "$SLURM_JOB_ID");
        fputs("\n# --mem for a job without a memory limit: an equal share of the allocation.\n"
              "mem_share() { echo \"$(( ${SLURM_MEM_PER_NODE:-1024} / $1 ))M\"; }\n",
              f);
        put_step_fn(f, true);
        for (size_t i = 0; i < plan->n_runs; i++) {
                const PlanRun *run = &plan->runs[i];
                fprintf(f, "\n# run %zu: %s (%zu job(s) side by side)\n", i, run->label, run->n_jobs);
                fputs("# kept by corun inside each step:\n", f);
                for (size_t k = 0; k < run->n_jobs; k++)
                        job_notes(f, spec, run, &run->jobs[k], SLURM_MODE_STEPS, w);
                for (size_t k = 0; k < run->n_jobs; k++) {
                        fprintf(f, "step %zu %zu", i, k);
                        put_cpus(f, &run->jobs[k], w);
                        put_mem(f, &run->jobs[k], run->n_jobs);
                        fprintf(f, " &\n");
                }
                fputs("wait\n", f);
        }
        if (spec->preflight || spec->hooks.setup || spec->hooks.cleanup || spec->hooks.prepare ||
            spec->hooks.conclude)
                warn(w, "run-level hooks and preflight run once per step (each step is a corun of its own), "
                        "not "
                        "once per plan");
        fputs("\nexit 0\n", f);
        return 0;
}

static int export_array(const Spec *spec, const Plan *plan, const SlurmExportOptions *o, FILE *f,
                        Warnings *w, char **ret_error) {
        unsigned cpus = 1;
        uint64_t mem = 0;
        for (size_t i = 0; i < plan->n_runs; i++) {
                const PlanRun *run = &plan->runs[i];
                if (run->n_jobs > 1)
                        return error_setf(
                                ret_error, -EINVAL,
                                "--mode array: run %zu (%s) has %zu jobs that must run side by side; an "
                                "array task runs one job; use --mode steps (or node) for this plan",
                                i, run->label, run->n_jobs);
                const CpuRequest *c = &run->jobs[0].limits.cpus;
                unsigned n = c->kind == CPUS_COUNT                            ? c->count
                             : c->kind == CPUS_LIST || c->kind == CPUS_SHARED ? cpuset_count(&c->set)
                                                                              : 1;
                if (c->kind == CPUS_ALL)
                        warn(w, "job '%s': cpus: all; an array task gets the -c below, not the whole node",
                             run->jobs[0].name);
                cpus = MAX(cpus, n);
                const Limits *l = &run->jobs[0].limits;
                if (l->memory_max_set && l->memory_max != LIMIT_MAX)
                        mem = MAX(mem, l->memory_max);
        }
        unsigned par = o->array_parallel ? o->array_parallel : 4;
        fprintf(f,
                "#SBATCH --array=0-%zu%%%u\n"
                "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%u\n",
                plan->n_runs - 1, par, cpus);
        if (mem)
                fprintf(f, "#SBATCH --mem=%" PRIu64 "M\n", (mem + (1u << 20) - 1) >> 20);
        fprintf(f,
                "# One array task per run (%zu runs, at most %u at once: the %%%u). No run needs jobs side\n"
                "# by side, so the tasks are independent. Every task asks for the largest job's CPUs and\n"
                "# memory; corun inside the task applies each job's own limits.\n",
                plan->n_runs, par, par);
        put_prologue(f, spec, o, "${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}");
        put_step_fn(f, false);
        fputs("\n# What corun keeps inside each task:\n", f);
        for (size_t i = 0; i < plan->n_runs; i++)
                job_notes(f, spec, &plan->runs[i], &plan->runs[i].jobs[0], SLURM_MODE_ARRAY, w);
        if (spec->preflight || spec->hooks.setup || spec->hooks.cleanup)
                warn(w, "run-level hooks and preflight run once per array task, not once per plan");
        fputs("step \"$SLURM_ARRAY_TASK_ID\" 0\n", f);
        return 0;
}

int slurm_export(const Spec *spec, const Plan *plan, const SlurmExportOptions *o, FILE *f,
                 char ***ret_warnings, char **ret_error) {
        Warnings w = {0};
        int r;

        if (plan->n_runs == 0)
                return error_setf(ret_error, -EINVAL, "the plan has no runs: nothing to export");
        if (o->mode == SLURM_MODE_ARRAY)
                /* Checked before anything is written: a refused plan leaves no half script. */
                for (size_t i = 0; i < plan->n_runs; i++)
                        if (plan->runs[i].n_jobs > 1)
                                return export_array(spec, plan, o, f, &w, ret_error);
        put_header(f, spec, plan, o, &w);
        switch (o->mode) {
        case SLURM_MODE_NODE:
                r = export_node(spec, plan, o, f, &w);
                break;
        case SLURM_MODE_STEPS:
                r = export_steps(spec, plan, o, f, &w);
                break;
        case SLURM_MODE_ARRAY:
                r = export_array(spec, plan, o, f, &w, ret_error);
                break;
        default:
                r = error_setf(ret_error, -EINVAL, "unknown mode");
        }
        if (r >= 0 && w.n) {
                fputs("\n# Not kept (also printed by `corun export`):\n", f);
                for (size_t i = 0; i < w.n; i++)
                        fprintf(f, "#   %s\n", w.v[i]);
        }
        if (r >= 0 && w.oom)
                r = w.oom;
        if (r >= 0 && ferror(f))
                r = -EIO;
        if (r < 0 || !ret_warnings) {
                for (size_t i = 0; i < w.n; i++)
                        free(w.v[i]);
                free(w.v);
        } else
                *ret_warnings = w.v;
        return r;
}
