/* SPDX-License-Identifier: MIT */
/* result.json writer: a Result as the JSON document docs/result-schema.md describes
 * field by field (keep the two in step), and its atomic replacement in the results
 * directory (util's write_file_atomic). The reader is result-read.c. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "result/json-writer.h"
#include "result/result-gpu-json.h"
#include "result/result.h"
#include "util/fileio.h"
#include "util/macros.h"

/* 15 significant digits: what a measured value carries, and short enough to read
 * ("1.234" instead of %.17g's "1.2340000000000000"). */
#define RESULT_JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(15))

/* jansson ships json_decrefp for exactly this. */
#define _cleanup_json_ _cleanup_(json_decrefp)

static json_t *host_to_json(const HostInfo *h) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= jw_put(o, "hostname", jw_str(h->hostname));
        e |= jw_put(o, "kernel", jw_str(h->kernel));
        e |= jw_put(o, "cpu_model", jw_str(h->cpu_model));
        e |= jw_put(o, "cpus_online", json_integer(h->n_cpus_online));
        e |= jw_put(o, "cpus_allowed", json_integer(h->n_cpus_allowed));
        e |= jw_put(o, "allowed_cpus", jw_str(h->allowed_cpus));
        e |= jw_put(o, "smt", jw_str(h->smt));
        e |= jw_put(o, "governor", jw_str(h->governor));
        e |= jw_put(o, "turbo", jw_str(h->turbo));
        e |= jw_put(o, "memory_total_bytes", jw_u64(h->memory_total_bytes));
        e |= jw_put(o, "swap_on", json_boolean(h->swap_on));
        e |= jw_put(o, "cgroup_backend_detail", jw_str(h->cgroup_backend_detail));
        json_t *g = json_array();
        e |= !g;
        for (size_t i = 0; !e && i < h->n_gpus; i++) {
                const HostGpu *d = &h->gpus[i];
                json_t *x = json_object();
                e |= !x;
                if (e)
                        break;
                e |= jw_put(x, "index", json_integer(d->index));
                e |= jw_put(x, "uuid", jw_str(d->uuid));
                e |= jw_put(x, "name", jw_str(d->name));
                e |= jw_put(x, "pci_bus_id", jw_str(d->pci_bus_id));
                e |= jw_put(x, "memory_bytes", jw_u64(d->memory_bytes));
                e |= jw_put(x, "numa_node", d->numa_node < 0 ? json_null() : json_integer(d->numa_node));
                e |= jw_put(x, "sm_count", d->sm_count ? json_integer(d->sm_count) : json_null());
                e |= jw_put(x, "sm_clock_max_mhz",
                            d->sm_clock_max_mhz ? json_integer(d->sm_clock_max_mhz) : json_null());
                e |= jw_put(x, "timeslice_ns", d->timeslice_ns ? jw_u64(d->timeslice_ns) : json_null());
                e |= jw_put(x, "timeslice_switch_ns",
                            d->timeslice_ns ? jw_u64(d->timeslice_switch_ns) : json_null());
                e |= jw_append(g, x);
        }
        e |= jw_put(o, "gpus", g);
        e |= jw_put(o, "gpu_driver", jw_str(h->gpu_driver));
        e |= jw_put(o, "cuda_driver", h->cuda_driver ? json_integer(h->cuda_driver) : json_null());
        e |= jw_put(o, "gpus_why_none", jw_str(h->gpus_why_none));
        return jw_finish(o, e);
}

static const char *job_limit(const JobResult *j) {
        if (j->limit)
                return j->limit;
        if (j->reason == REASON_CPU_TIMEOUT)
                return "cpu";
        if (j->reason == REASON_TIMEOUT)
                return "wall";
        return NULL;
}

static json_t *memory_to_json(const JobResult *j) {
        json_t *o = json_object(), *ev = json_object();
        int e = !o || !ev;
        if (!e) {
                e |= jw_put(ev, "low", jw_u64(j->ev_low));
                e |= jw_put(ev, "high", jw_u64(j->ev_high));
                e |= jw_put(ev, "max", jw_u64(j->ev_max));
                e |= jw_put(ev, "oom", jw_u64(j->ev_oom));
                e |= jw_put(ev, "oom_kill", jw_u64(j->ev_oom_kill));
                e |= jw_put(o, "peak_bytes", jw_u64(j->peak_bytes));
                e |= jw_put(o, "rss_peak_bytes", jw_u64(j->rss_peak_bytes));
                e |= jw_put(o, "pss_peak_bytes", jw_u64(j->pss_peak_bytes));
                e |= jw_put(o, "pss_mean_bytes", jw_u64(j->pss_mean_bytes));
                e |= jw_put(o, "events", TAKE_PTR(ev));
        }
        json_decref(ev);
        return jw_finish(o, e);
}

static json_t *pressure_to_json(const JobResult *j) {
        if (!j->has_psi)
                return json_null();
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= jw_put(o, "cpu_some_s", jw_dbl(j->psi_cpu_some_s));
        e |= jw_put(o, "memory_some_s", jw_dbl(j->psi_mem_some_s));
        e |= jw_put(o, "memory_full_s", jw_dbl(j->psi_mem_full_s));
        e |= jw_put(o, "io_some_s", jw_dbl(j->psi_io_some_s));
        e |= jw_put(o, "io_full_s", jw_dbl(j->psi_io_full_s));
        return jw_finish(o, e);
}

static json_t *pair_to_json(const char *k1, json_t *v1, const char *k2, json_t *v2) {
        json_t *o = json_object();
        int e = !o;
        if (!e) {
                e |= jw_put(o, k1, TAKE_PTR(v1));
                e |= jw_put(o, k2, TAKE_PTR(v2));
        }
        json_decref(v1);
        json_decref(v2);
        return jw_finish(o, e);
}

static json_t *requested_to_json(const JobResult *j) {
        json_t *o = pair_to_json("cpus", jw_str(j->req_cpus), "memory_bytes", jw_u64(j->req_memory_bytes));
        if (o && jw_put(o, "gpus", jw_str(j->req_gpus)))
                return jw_finish(o, 1);
        return o;
}

static json_t *applied_to_json(const JobResult *j) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= jw_put(o, "cpus", jw_str(j->applied_cpus));
        e |= jw_put(o, "mems", jw_str(j->applied_mems));
        e |= jw_put(o, "memory_bytes", jw_u64(j->applied_memory_bytes));
        e |= jw_put(o, "swap_bytes", jw_u64(j->applied_swap_bytes));
        e |= jw_put(o, "pids_max", jw_u64(j->applied_pids_max));
        e |= jw_put(o, "memory_enforced", json_boolean(j->memory_enforced));
        e |= jw_put(o, "memory_high_bytes", jw_u64(j->applied_memory_high_bytes));
        e |= jw_put(o, "memory_low_bytes", jw_u64(j->applied_memory_low_bytes));
        e |= jw_put(o, "cpu_weight", jw_u64(j->applied_cpu_weight));
        e |= jw_put(o, "memory_high_emulated", json_boolean(j->memory_high_emulated));
        return jw_finish(o, e);
}

static json_t *phases_to_json(const JobResult *j) {
        json_t *a = json_array();
        int e = !a;
        for (size_t i = 0; !e && i < j->n_phases; i++) {
                const PhaseResult *p = &j->phases[i];
                json_t *o = json_object();
                if (!o) {
                        e = -1;
                        break;
                }
                e |= jw_put(o, "name", jw_str(p->name));
                e |= jw_put(o, "start_s", jw_dbl(p->start_s));
                e |= jw_put(o, "wall_s", jw_dbl(p->wall_s));
                e |= jw_put(o, "cpu_s", p->cpu_s < 0 ? json_null() : jw_dbl(p->cpu_s));
                e |= jw_put(o, "unfinished", json_boolean(p->unfinished));
                e |= jw_append(a, o);
        }
        return jw_finish(a, e);
}

/* "metrics" stays a flat {name: number} map (DESIGN §9) so that scripts can read it
 * without knowing about units or "all" aggregation; those go to "metric_details". */
static json_t *metrics_to_json(const JobResult *j, bool details) {
        json_t *o = json_object();
        int e = !o;
        for (size_t i = 0; !e && i < j->n_metrics; i++) {
                const MetricResult *m = &j->metrics[i];
                if (!m->name)
                        continue;
                if (!details) {
                        e |= jw_put(o, m->name, jw_dbl(m->value));
                        continue;
                }
                if (!m->unit && !m->all)
                        continue;
                json_t *d = json_object(), *all = m->all ? json_array() : json_null();
                e |= !d || !all;
                for (size_t k = 0; !e && m->all && k < m->n_all; k++)
                        e |= jw_append(all, jw_dbl(m->all[k]));
                if (!e) {
                        e |= jw_put(d, "unit", jw_str(m->unit));
                        e |= jw_put(d, "all", TAKE_PTR(all));
                        e |= jw_put(o, m->name, TAKE_PTR(d));
                }
                json_decref(all);
                json_decref(d);
        }
        return jw_finish(o, e);
}

static json_t *container_to_json(const ContainerResult *c) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= jw_put(o, "engine", jw_str(c->engine));
        e |= jw_put(o, "engine_version", jw_str(c->engine_version));
        e |= jw_put(o, "image", jw_str(c->image));
        e |= jw_put(o, "image_id", jw_str(c->image_id));
        e |= jw_put(o, "digest", jw_str(c->digest));
        e |= jw_put(o, "name", jw_str(c->name));
        return jw_finish(o, e);
}

static json_t *job_to_json(const JobResult *j) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= jw_put(o, "name", jw_str(j->name));
        e |= jw_put(o, "base_name", jw_str(j->base_name));
        e |= jw_put(o, "command", jw_str(j->command));
        e |= jw_put(o, "priority", jw_str(j->priority));
        e |= jw_put(o, "frozen_s", jw_dbl(j->frozen_s));
        e |= jw_put(o, "freezes", json_integer(j->freezes));
        e |= jw_put(o, "reason", jw_str(job_reason_to_string(j->reason)));
        e |= jw_put(o, "limit", jw_str(job_limit(j)));
        e |= jw_put(o, "exit_code", j->exit_code < 0 ? json_null() : json_integer(j->exit_code));
        e |= jw_put(o, "signal", j->signal <= 0 ? json_null() : json_integer(j->signal));
        e |= jw_put(o, "start_errno", j->start_errno <= 0 ? json_null() : json_integer(j->start_errno));
        e |= jw_put(o, "start_error", jw_str(j->start_error));
        e |= jw_put(o, "started_s", jw_dbl(j->started_s));
        e |= jw_put(o, "ended_s", jw_dbl(j->ended_s));
        e |= jw_put(o, "wall_s", jw_dbl(j->wall_s));
        e |= jw_put(o, "user_s", jw_dbl(j->user_s));
        e |= jw_put(o, "sys_s", jw_dbl(j->sys_s));
        e |= jw_put(o, "wait4",
                    pair_to_json("user_s", jw_dbl(j->wait4_user_s), "sys_s", jw_dbl(j->wait4_sys_s)));
        e |= jw_put(o, "memory", memory_to_json(j));
        e |= jw_put(o, "pressure", pressure_to_json(j));
        e |= jw_put(o, "context_switches",
                    pair_to_json("voluntary", jw_u64(j->vol_ctxsw), "involuntary", jw_u64(j->invol_ctxsw)));
        e |= jw_put(o, "pids_peak", jw_u64(j->pids_peak));
        e |= jw_put(o, "forks_refused", jw_u64(j->forks_refused));
        e |= jw_put(o, "log_truncated", json_boolean(j->log_truncated));
        e |= jw_put(o, "escaped", json_boolean(j->escaped));
        e |= jw_put(o, "leftovers_killed", jw_u64(j->leftovers_killed));
        e |= jw_put(o, "escaped_pids", jw_pids(j->escaped_pids, j->n_escaped_pids));
        e |= jw_put(o, "requested", requested_to_json(j));
        e |= jw_put(o, "applied", applied_to_json(j));
        e |= jw_put(o, "cgroup", jw_str(j->cgroup));
        /* Only for a job in an image: results of other jobs stay as they were. */
        if (j->container)
                e |= jw_put(o, "container", container_to_json(j->container));
        e |= jw_put(o, "phases", phases_to_json(j));
        e |= jw_put(o, "metrics", metrics_to_json(j, false));
        e |= jw_put(o, "metric_details", metrics_to_json(j, true));
        e |= jw_put(o, "logs",
                    pair_to_json("stdout", jw_str(j->log_stdout), "stderr", jw_str(j->log_stderr)));
        e |= jw_put(o, "samples", jw_str(j->samples_csv));
        e |= jw_put(o, "gpus", result_job_gpus_to_json(j));
        e |= jw_put(o, "gpu_samples", jw_str(j->gpu_samples_csv));
        return jw_finish(o, e);
}

static json_t *run_to_json(const RunResult *run) {
        json_t *o = json_object(), *jobs = json_array();
        int e = !o || !jobs;
        for (size_t i = 0; !e && i < run->n_jobs; i++)
                e |= jw_append(jobs, job_to_json(&run->jobs[i]));
        if (!e) {
                e |= jw_put(o, "scenario", jw_str(run->scenario));
                e |= jw_put(o, "repetition", json_integer(run->repetition));
                e |= jw_put(o, "solo", json_boolean(run->solo));
                e |= jw_put(o, "warmup", json_boolean(run->warmup));
                e |= jw_put(o, "solo_for", jw_str(run->solo_for));
                e |= jw_put(o, "replicas", json_integer(run->replicas));
                e |= jw_put(o, "params", jw_str(run->params));
                e |= jw_put(o, "started_s", jw_dbl(run->started_s));
                e |= jw_put(o, "ended_s", jw_dbl(run->ended_s));
                e |= jw_put(o, "jobs", TAKE_PTR(jobs));
        }
        json_decref(jobs);
        return jw_finish(o, e);
}

static json_t *event_to_json(const EventResult *ev) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= jw_put(o, "t_s", jw_dbl(ev->t_s));
        e |= jw_put(o, "job", jw_str(ev->job));
        e |= jw_put(o, "action", jw_str(ev->action));
        e |= jw_put(o, "detail", jw_str(ev->detail));
        e |= jw_put(o, "run", ev->run < 0 ? json_null() : json_integer(ev->run));
        e |= jw_put(o, "duration_s", jw_dbl(ev->duration_s));
        return jw_finish(o, e);
}

static json_t *result_to_json(const Result *r) {
        json_t *o = json_object(), *runs = json_array(), *events = json_array(), *warnings = json_array();
        int e = !o || !runs || !events || !warnings;

        for (size_t i = 0; !e && i < r->n_runs; i++)
                e |= jw_append(runs, run_to_json(&r->runs[i]));
        for (size_t i = 0; !e && i < r->n_events; i++)
                e |= jw_append(events, event_to_json(&r->events[i]));
        for (char **w = r->warnings; !e && w && *w; w++)
                e |= jw_append(warnings, jw_str(*w));
        if (!e) {
                /* The schema this writer produces, whatever the struct says: a Result read
                 * from an older file is written back in today's layout. */
                e |= jw_put(o, "schema", json_integer(RESULT_SCHEMA_VERSION));
                e |= jw_put(o, "corun_version", jw_str(r->corun_version));
                e |= jw_put(o, "partial", json_boolean(r->partial));
                e |= jw_put(o, "interrupted", json_boolean(r->interrupted));
                e |= jw_put(o, "started_at", jw_str(r->started_at));
                e |= jw_put(o, "finished_at", jw_str(r->finished_at));
                e |= jw_put(o, "name", jw_str(r->name));
                e |= jw_put(o, "run_id", jw_str(r->run_id));
                e |= jw_put(o, "spec_file", jw_str(r->spec_file));
                e |= jw_put(o, "command_line", jw_str(r->command_line));
                e |= jw_put(o, "backend", jw_str(r->backend));
                e |= jw_put(o, "host", host_to_json(&r->host));
                e |= jw_put(o, "runs", TAKE_PTR(runs));
                e |= jw_put(o, "events", TAKE_PTR(events));
                e |= jw_put(o, "warnings", TAKE_PTR(warnings));
        }
        json_decref(runs);
        json_decref(events);
        json_decref(warnings);
        return jw_finish(o, e);
}

/* One write: json_dumpfd writes every token separately, which made rewriting a run of
 * 200 jobs cost millions of system calls. */
static int write_text(int fd, const char *text) {
        int k = write_all(fd, text, strlen(text));
        return k < 0 ? k : write_all(fd, "\n", 1);
}

int result_write_fd(const Result *r, int fd) {
        _cleanup_json_ json_t *root = result_to_json(r);
        if (!root)
                return -ENOMEM;
        _cleanup_free_ char *text = json_dumps(root, RESULT_JSON_FLAGS);
        if (!text)
                return -ENOMEM;
        return write_text(fd, text);
}

/* ---- rewrites during a run: each finished job serialised once ----
 *
 * Re-serialising every job at every rewrite made a run's cost per job grow with the
 * number of jobs before it (and its memory: the whole JSON tree at once). The cache
 * keeps the text of each job as it will appear in the file; a rewrite builds the
 * document with a placeholder string in place of each run's "jobs" array and splices
 * the kept texts in. The text is what json_dumps gives for the whole document: a job
 * object sits at depth 4 (root, runs, run, jobs), and with JSON_INDENT every newline
 * of a value is structural (strings escape theirs), so a job dumped alone and
 * indented by 4 levels after each newline is byte for byte the same. Jobs must not
 * change once written (exec appends finished jobs only); the final result goes
 * through result_write. */
#define JOB_DEPTH 4
#define INDENT_WIDTH 2
#define JOBS_PLACEHOLDER "\x01corun-jobs\x01"

typedef struct CachedRun {
        char **jobs; /* text per job, indented for JOB_DEPTH */
        size_t n;
} CachedRun;

struct ResultWriteCache {
        CachedRun *runs;
        size_t n_runs;
};

ResultWriteCache *result_write_cache_new(void) {
        return calloc(1, sizeof(ResultWriteCache));
}

ResultWriteCache *result_write_cache_free(ResultWriteCache *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_runs; i++) {
                for (size_t k = 0; k < c->runs[i].n; k++)
                        free(c->runs[i].jobs[k]);
                free(c->runs[i].jobs);
        }
        free(c->runs);
        free(c);
        return NULL;
}

/* s with `pad` spaces after each newline. */
static char *indent_text(const char *s, size_t pad) {
        size_t nl = 0, len = strlen(s);
        for (const char *p = s; (p = strchr(p, '\n')); p++)
                nl++;
        char *out = malloc(len + nl * pad + 1), *o = out;
        if (!out)
                return NULL;
        for (const char *p = s; *p; p++) {
                *o++ = *p;
                if (*p == '\n') {
                        memset(o, ' ', pad);
                        o += pad;
                }
        }
        *o = '\0';
        return out;
}

/* Serialises the jobs of r's runs that c does not hold yet. */
static int cache_update(ResultWriteCache *c, const Result *r) {
        if (r->n_runs > c->n_runs) {
                CachedRun *n = realloc(c->runs, r->n_runs * sizeof *n);
                if (!n)
                        return -ENOMEM;
                memset(n + c->n_runs, 0, (r->n_runs - c->n_runs) * sizeof *n);
                c->runs = n;
                c->n_runs = r->n_runs;
        }
        for (size_t i = 0; i < r->n_runs; i++) {
                CachedRun *cr = &c->runs[i];
                const RunResult *run = &r->runs[i];
                if (run->n_jobs < cr->n)
                        return -EINVAL; /* jobs only ever come, never go */
                if (run->n_jobs == cr->n)
                        continue;
                char **n = realloc(cr->jobs, run->n_jobs * sizeof *n);
                if (!n)
                        return -ENOMEM;
                cr->jobs = n;
                for (; cr->n < run->n_jobs; cr->n++) {
                        _cleanup_json_ json_t *o = job_to_json(&run->jobs[cr->n]);
                        if (!o)
                                return -ENOMEM;
                        _cleanup_free_ char *t = json_dumps(o, RESULT_JSON_FLAGS);
                        if (!t || !(cr->jobs[cr->n] = indent_text(t, JOB_DEPTH * INDENT_WIDTH)))
                                return -ENOMEM;
                }
        }
        return 0;
}

/* The document's text with each run's "jobs": <placeholder> replaced by "jobs": and its
 * array, laid out as json_dumps lays out an array at depth JOB_DEPTH - 1. */
static int splice_jobs(const ResultWriteCache *c, const char *doc, const char *ph, FILE *f) {
        size_t phl = strlen(ph);
        const char *p = doc;
        for (size_t i = 0; i < c->n_runs; i++) {
                const char *at = strstr(p, ph);
                if (!at)
                        return -EBADMSG;
                fwrite(p, 1, (size_t)(at - p), f);
                fputs("\"jobs\": ", f);
                const CachedRun *cr = &c->runs[i];
                if (cr->n == 0)
                        fputs("[]", f);
                else {
                        fputs("[", f);
                        for (size_t k = 0; k < cr->n; k++)
                                fprintf(f, "\n%*s%s%s", JOB_DEPTH * INDENT_WIDTH, "", cr->jobs[k],
                                        k + 1 < cr->n ? "," : "");
                        fprintf(f, "\n%*s]", (JOB_DEPTH - 1) * INDENT_WIDTH, "");
                }
                p = at + phl;
        }
        fputs(p, f);
        return 0;
}

/* Writes the document to f: its runs without their jobs as one small tree, each run's
 * jobs array spliced in from the cache. Streamed, so that the whole text is never in
 * memory either. */
static int result_stream_cached(const Result *r, ResultWriteCache *c, FILE *f) {
        int k = cache_update(c, r);
        if (k < 0)
                return k;
        /* The document without jobs: each run's "jobs" a placeholder string (whose dumped
         * form, with its escaped control characters and the key before it, no value of a
         * user's can produce unescaped). */
        Result shallow = *r;
        _cleanup_free_ RunResult *runs = r->n_runs ? calloc(r->n_runs, sizeof *runs) : NULL;
        if (r->n_runs && !runs)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_runs; i++) {
                runs[i] = r->runs[i];
                runs[i].jobs = NULL;
                runs[i].n_jobs = 0;
        }
        shallow.runs = runs;
        _cleanup_json_ json_t *root = result_to_json(&shallow);
        if (!root)
                return -ENOMEM;
        json_t *ra = json_object_get(root, "runs");
        for (size_t i = 0; i < json_array_size(ra); i++)
                if (json_object_set_new(json_array_get(ra, i), "jobs", json_string(JOBS_PLACEHOLDER)) < 0)
                        return -ENOMEM;
        _cleanup_free_ char *doc = json_dumps(root, RESULT_JSON_FLAGS);
        _cleanup_json_ json_t *phs = json_string(JOBS_PLACEHOLDER);
        _cleanup_free_ char *phv = phs ? json_dumps(phs, JSON_ENCODE_ANY) : NULL;
        _cleanup_free_ char *ph = NULL;
        if (!doc || !phv || asprintf(&ph, "\"jobs\": %s", phv) < 0)
                return -ENOMEM;
        k = splice_jobs(c, doc, ph, f);
        if (k >= 0 && fputc('\n', f) == EOF)
                k = -EIO;
        return k;
}

typedef struct CachedWrite {
        const Result *r;
        ResultWriteCache *c;
} CachedWrite;

static int render_cached(FILE *f, void *userdata) {
        CachedWrite *w = userdata;
        return result_stream_cached(w->r, w->c, f);
}

/* Readers (compare, report, a script tailing the run) only ever see a complete file.
 * Intermediate rewrites (partial) skip the syncs: the rename alone keeps the file whole,
 * and syncing after every one of thousands of short jobs cost milliseconds each. The
 * final result is made durable. */
int result_write_cached(const Result *r, const char *dir, ResultWriteCache *c) {
        if (!c)
                return result_write(r, dir);
        return write_file_atomic_stream(dir, "result.json", render_cached, &(CachedWrite){r, c}, 1 << 16,
                                        !r->partial);
}

/* Through a cache of its own: one job's JSON tree at a time instead of the whole
 * document's (the tree of a 10,000-job result was most of the runner's peak memory). */
int result_write(const Result *r, const char *dir) {
        ResultWriteCache *c = result_write_cache_new();
        if (!c)
                return -ENOMEM;
        int k = write_file_atomic_stream(dir, "result.json", render_cached, &(CachedWrite){r, c}, 1 << 16,
                                         !r->partial);
        result_write_cache_free(c);
        return k;
}
