/* SPDX-License-Identifier: MIT */
/* One result.json out of a Slurm results directory (layout in slurm.h). Merged at the
 * JSON level, so every field a step's corun wrote survives, including ones this file
 * does not know; the merged file is then read back with result_read to prove that
 * `report` and `compare` can use it. A job whose step left no result is reported as a
 * Slurm failure (failed-to-start, with "slurm": {"failure": ...}), never as its exit. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "slurm/slurm.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/macros.h"
#include "util/parse.h"

#define SPEC_FILE_MAX (16u << 20)

static json_t *load(const char *dir, const char *name) {
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return NULL;
        return json_load_file(p, 0, NULL);
}

static const char *jstr(json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

/* The last non-empty line of a step's log: srun's own error when Slurm refused it. */
static char *last_line(const char *dir, const char *name) {
        _cleanup_free_ char *p = NULL, *text = NULL;
        size_t len;
        if (asprintf(&p, "%s/%s", dir, name) < 0 || read_full_file(p, 1u << 20, &text, &len) < 0)
                return NULL;
        while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
                text[--len] = '\0';
        char *nl = strrchr(text, '\n');
        return strdup(nl ? nl + 1 : text);
}

static int read_status(const char *dir, const char *name, int *ret) {
        _cleanup_free_ char *p = NULL, *text = NULL;
        size_t len;
        int64_t v;
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        int r = read_full_file(p, 64, &text, &len);
        if (r < 0)
                return r;
        text[strcspn(text, "\n")] = '\0';
        r = parse_i64(text, &v);
        if (r < 0 || v < 0 || v > 255)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

/* Paths in a step's result are relative to its own directory. */
static void prefix_path(json_t *o, const char *key, const char *prefix) {
        const char *v = json_string_value(json_object_get(o, key));
        _cleanup_free_ char *n = NULL;
        if (v && asprintf(&n, "%s/%s", prefix, v) >= 0)
                json_object_set_new(o, key, json_string(n));
}

static void shift(json_t *o, const char *key, double by) {
        json_t *v = json_object_get(o, key);
        if (json_is_number(v))
                json_object_set_new(o, key, json_real(json_number_value(v) + by));
}

static void fix_job(json_t *job, const char *prefix, double by) {
        prefix_path(json_object_get(job, "logs"), "stdout", prefix);
        prefix_path(json_object_get(job, "logs"), "stderr", prefix);
        prefix_path(job, "samples", prefix);
        shift(job, "started_s", by);
        shift(job, "ended_s", by);
}

static void add_warning(json_t *doc, const char *w) {
        json_t *a = json_object_get(doc, "warnings");
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
                if (streq(json_string_value(v) ?: "", w))
                        return;
        }
        json_array_append_new(a, json_string(w));
}

/* The parts of a step's document that belong to the whole: the first step gives the
 * top-level fields, every step its host (per node) and its warnings and events. */
static void merge_top(json_t *doc, json_t *sr, const char *node, size_t run, double by) {
        static const char *const keys[] = {"corun_version", "started_at", "name",
                                           "spec_file",     "backend",    "host"};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (!json_object_get(doc, keys[i]) && json_object_get(sr, keys[i]))
                        json_object_set(doc, keys[i], json_object_get(sr, keys[i]));
        json_t *hosts = json_object_get(doc, "hosts");
        if (node[0] && !json_object_get(hosts, node) && json_object_get(sr, "host"))
                json_object_set(hosts, node, json_object_get(sr, "host"));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(sr, "warnings"), i, v) {
                if (json_is_string(v))
                        add_warning(doc, json_string_value(v));
        }
        json_array_foreach(json_object_get(sr, "events"), i, v) {
                json_t *e = json_deep_copy(v);
                shift(e, "t_s", by);
                json_object_set_new(e, "run", json_integer((json_int_t)run));
                json_array_append_new(json_object_get(doc, "events"), e);
        }
}

static double ended(json_t *job) {
        json_t *v = json_object_get(job, "ended_s");
        /* Jobs Slurm never ran have no end: after all the others, in plan order. */
        return json_is_number(v) ? json_number_value(v) : 1e300;
}

/* A local run lists a run's jobs in the order they finished; so does the merge. Insertion
 * sort: a run has few jobs, and equal ends keep plan order. */
static void sort_by_end(json_t *jobs) {
        size_t n = json_array_size(jobs);
        for (size_t i = 1; i < n; i++)
                for (size_t k = i;
                     k > 0 && ended(json_array_get(jobs, k - 1)) > ended(json_array_get(jobs, k)); k--) {
                        json_t *a = json_incref(json_array_get(jobs, k - 1));
                        json_array_set(jobs, k - 1, json_array_get(jobs, k));
                        json_array_set_new(jobs, k, a);
                }
}

static json_t *run_from_plan(const PlanRun *run) {
        return json_pack("{s:s, s:I, s:b, s:s?, s:I, s:s?, s:[]}", "scenario", run->scenario_name,
                         "repetition", (json_int_t)run->repetition, "solo", run->solo, "solo_for",
                         run->solo && run->scenario ? run->scenario->name : NULL, "replicas",
                         (json_int_t)run->replicas, "params", run->params, "jobs");
}

/* A job Slurm did not run: why, in words, from the status file and srun's last line. */
static json_t *failed_job(const PlanJob *pj, const char *rdir, const char *jname, const char *job_id,
                          bool cancelled) {
        _cleanup_free_ char *st_name = NULL, *log_name = NULL, *why = NULL, *line = NULL;
        int status = -1;
        if (asprintf(&st_name, "%s.status", jname) < 0 || asprintf(&log_name, "%s.log", jname) < 0)
                return NULL;
        bool ran = read_status(rdir, st_name, &status) >= 0;
        line = last_line(rdir, log_name);
        int k;
        if (ran)
                k = asprintf(&why, "Slurm did not run this step (srun exit %d)%s%s", status,
                             line ? ": " : "", line ? line : "");
        else
                k = asprintf(&why, "Slurm never reached this step%s",
                             cancelled ? " (the job was cancelled)"
                                       : " (the job ended or is still running)");
        if (k < 0)
                return NULL;
        const char *reason = !ran && cancelled ? "interrupted" : "failed-to-start";
        return json_pack("{s:s, s:s, s:s?, s:s, s:n, s:s, s:{s:s, s:s, s:o}}", "name", pj->name, "base_name",
                         pj->spec->name, "command", pj->spec->command_text, "reason", reason, "exit_code",
                         "start_error", why, "slurm", "job_id", job_id, "failure", why, "srun_status",
                         ran ? json_integer(status) : json_null());
}

static int collect_steps(json_t *doc, const char *dir, const Plan *plan, const char *job_id,
                         bool cancelled) {
        /* Each step's corun counts time from its own start; the steps' wall-clock starts
         * put all of them on the clock of the earliest. */
        double t0_min = -1;
        for (size_t i = 0; i < plan->n_runs; i++)
                for (size_t k = 0; k < plan->runs[i].n_jobs; k++) {
                        _cleanup_free_ char *n = NULL;
                        if (asprintf(&n, "runs/r%zu/j%zu/slurm-step.json", i, k) < 0)
                                return -ENOMEM;
                        json_t *info = load(dir, n);
                        json_t *t = json_object_get(info, "t0_realtime_usec");
                        if (json_is_integer(t) && (t0_min < 0 || json_integer_value(t) < t0_min))
                                t0_min = (double)json_integer_value(t);
                        json_decref(info);
                }
        json_t *runs = json_object_get(doc, "runs");
        for (size_t i = 0; i < plan->n_runs; i++) {
                const PlanRun *pr = &plan->runs[i];
                json_t *run = run_from_plan(pr);
                if (!run || json_array_append_new(runs, run) < 0)
                        return -ENOMEM;
                json_t *jobs = json_object_get(run, "jobs");
                double start = -1, end = -1;
                _cleanup_free_ char *rdir = NULL;
                if (asprintf(&rdir, "%s/runs/r%zu", dir, i) < 0)
                        return -ENOMEM;
                for (size_t k = 0; k < pr->n_jobs; k++) {
                        _cleanup_free_ char *jname = NULL, *jdir = NULL, *rel = NULL;
                        if (asprintf(&jname, "j%zu", k) < 0 || asprintf(&jdir, "%s/%s", rdir, jname) < 0 ||
                            asprintf(&rel, "runs/r%zu/j%zu", i, k) < 0)
                                return -ENOMEM;
                        json_t *sr = load(jdir, "result.json"), *info = load(jdir, "slurm-step.json");
                        json_t *srun = json_array_get(json_object_get(sr, "runs"), 0);
                        json_t *job = json_deep_copy(json_array_get(json_object_get(srun, "jobs"), 0));
                        if (job) {
                                json_t *t = json_object_get(info, "t0_realtime_usec");
                                double by = json_is_integer(t) && t0_min >= 0
                                                    ? ((double)json_integer_value(t) - t0_min) / 1e6
                                                    : 0;
                                fix_job(job, rel, by);
                                json_object_set_new(
                                        job, "slurm",
                                        json_pack("{s:s, s:s, s:s, s:s}", "job_id",
                                                  jstr(info, "job_id")[0] ? jstr(info, "job_id") : job_id,
                                                  "step_id", jstr(info, "step_id"), "node",
                                                  jstr(info, "node"), "cpus", jstr(info, "cpus")));
                                merge_top(doc, sr, jstr(info, "node"), i, by);
                                double s = json_number_value(json_object_get(job, "started_s"));
                                double e = json_number_value(json_object_get(job, "ended_s"));
                                start = start < 0 ? s : MIN(start, s);
                                end = MAX(end, e);
                        } else
                                job = failed_job(&pr->jobs[k], rdir, jname, job_id, cancelled);
                        json_decref(sr);
                        json_decref(info);
                        if (!job || json_array_append_new(jobs, job) < 0)
                                return -ENOMEM;
                }
                sort_by_end(jobs);
                json_object_set_new(run, "started_s", json_real(MAX(start, 0)));
                json_object_set_new(run, "ended_s", json_real(MAX(end, 0)));
        }
        return 0;
}

/* --mode node: one corun ran everything; its result sr only moves up a directory. */
static int collect_node(json_t *doc, json_t *sr, const char *job_id) {
        const char *node = jstr(json_object_get(sr, "host"), "hostname");
        size_t i, k;
        json_t *run, *job;
        json_array_foreach(json_object_get(sr, "runs"), i, run)
                json_array_foreach(json_object_get(run, "jobs"), k, job) {
                fix_job(job, "node", 0);
                json_object_set_new(
                        job, "slurm",
                        json_pack("{s:s, s:s, s:s}", "job_id", job_id, "step_id", "batch", "node", node));
        }
        const char *keys[] = {"runs", "events", "warnings"};
        for (size_t n = 0; n < ELEMENTSOF(keys); n++)
                json_object_set(doc, keys[n], json_object_get(sr, keys[n]) ?: json_array());
        merge_top(doc, sr, node, 0, 0);
        json_object_set(doc, "events", json_object_get(sr, "events") ?: json_array());
        static const char *const more[] = {"partial", "interrupted", "finished_at", "run_id",
                                           "command_line"};
        for (size_t n = 0; n < ELEMENTSOF(more); n++)
                if (json_object_get(sr, more[n]))
                        json_object_set(doc, more[n], json_object_get(sr, more[n]));
        return 0;
}

int slurm_load_plan(const char *spec_file, Spec **ret_spec, Plan **ret_plan, char **ret_error) {
        _cleanup_free_ char *text = NULL, *err = NULL;
        size_t len;
        SpecError se = {0};
        int r = read_full_file(spec_file, SPEC_FILE_MAX, &text, &len);
        if (r < 0)
                return error_setf(ret_error, r, "cannot read the scenario file %s: %s", spec_file,
                                  strerror(-r));
        r = spec_parse_yaml(spec_file, text, len, ret_spec, &se);
        if (r < 0) {
                error_setf(ret_error, r, "%s", se.message ? se.message : "invalid scenario");
                spec_error_done(&se);
                return r;
        }
        r = plan_build(*ret_spec, ret_plan, &err);
        if (r < 0) {
                *ret_spec = spec_free(*ret_spec);
                return error_setf(ret_error, r, "%s", err ? err : "cannot expand the scenario");
        }
        return 0;
}

/* scancel signals every process of the job, the benchmarks included: corun inside saw
 * them killed by a signal it did not send. They were stopped because the user cancelled,
 * which a local run calls "interrupted". */
static void mark_cancelled(json_t *doc) {
        size_t i, k;
        json_t *run, *job;
        json_array_foreach(json_object_get(doc, "runs"), i, run)
                json_array_foreach(json_object_get(run, "jobs"), k, job) {
                if (!streq(jstr(job, "reason"), "killed"))
                        continue;
                json_object_set_new(job, "reason", json_string("interrupted"));
                json_t *sl = json_object_get(job, "slurm");
                if (json_is_object(sl))
                        json_object_set_new(sl, "cancelled", json_true());
        }
}

int slurm_collect(const char *dir, const char *slurm_state, char **ret_error) {
        json_t *manifest = load(dir, "slurm.json");
        if (!manifest)
                return error_setf(
                        ret_error, -ENOENT,
                        "%s/slurm.json is missing or unreadable: this is not the results directory of "
                        "a corun Slurm job (or the job has not started yet)",
                        dir);
        SlurmMode mode = slurm_mode_from_string(jstr(manifest, "mode"));
        const char *job_id = jstr(manifest, "job_id");
        bool cancelled = slurm_state && strneq(slurm_state, "CANCELLED", 9);
        json_t *doc = json_pack("{s:I, s:s, s:b, s:b, s:{}, s:[], s:[], s:[]}", "schema",
                                (json_int_t)RESULT_SCHEMA_VERSION, "executor", "slurm", "partial", false,
                                "interrupted", cancelled, "hosts", "runs", "events", "warnings");
        Spec *spec = NULL;
        Plan *plan = NULL;
        json_t *node = NULL;
        Result *check = NULL;
        /* Declared before the first goto: a jump past a cleanup variable's declaration
         * would free an uninitialised pointer (clang refuses it; gcc accepted it). */
        _cleanup_free_ char *err = NULL;
        int r;
        if (!doc) {
                r = -ENOMEM;
                goto out;
        }
        if (mode == SLURM_MODE_NODE && (node = load(dir, "node/result.json")))
                r = collect_node(doc, node, job_id);
        else if (mode >= 0) {
                /* Steps and array tasks; or a node job whose corun never wrote a result
                 * (cancelled before it started, or Slurm never ran it): every job of the
                 * plan is then one Slurm did not run. */
                r = slurm_load_plan(jstr(manifest, "spec_file"), &spec, &plan, ret_error);
                if (r >= 0)
                        r = collect_steps(doc, dir, plan, job_id, cancelled);
                if (r >= 0 && !json_object_get(doc, "spec_file"))
                        json_object_set(doc, "spec_file", json_object_get(manifest, "spec_file"));
                if (r >= 0 && !json_object_get(doc, "name"))
                        json_object_set_new(doc, "name", json_string(spec->name));
        } else
                r = error_setf(ret_error, -EINVAL, "%s/slurm.json: unknown mode \"%s\"", dir,
                               jstr(manifest, "mode"));
        if (r < 0)
                goto out;
        if (cancelled) {
                json_object_set_new(doc, "partial", json_true());
                mark_cancelled(doc);
        }
        json_object_set_new(doc, "slurm",
                            json_pack("{s:s, s:s, s:s?}", "job_id", job_id, "mode", jstr(manifest, "mode"),
                                      "state", slurm_state));
        r = slurm_json_write(dir, "result.json", doc);
        if (r < 0) {
                error_setf(ret_error, r, "cannot write %s/result.json: %s", dir, strerror(-r));
                goto out;
        }
        /* What report and compare will see: fail here rather than there. */
        r = result_read(dir, &check, &err);
        if (r < 0)
                error_setf(ret_error, r, "the merged %s/result.json does not read back: %s", dir,
                           err ? err : strerror(-r));
        result_free(check);
out:
        if (r == -ENOMEM && ret_error && !*ret_error)
                error_setf(ret_error, r, "out of memory");
        json_decref(manifest);
        json_decref(node);
        json_decref(doc);
        plan_free(plan);
        spec_free(spec);
        return r;
}

bool slurm_result_all_ok(const Result *r) {
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t k = 0; k < r->runs[i].n_jobs; k++)
                        if (r->runs[i].jobs[k].reason != REASON_EXIT || r->runs[i].jobs[k].exit_code != 0)
                                return false;
        return true;
}
