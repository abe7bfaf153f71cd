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

#include "result/result.h"
#include "util/fileio.h"
#include "util/macros.h"

/* 15 significant digits: what a measured value carries, and short enough to read
 * ("1.234" instead of %.17g's "1.2340000000000000"). */
#define RESULT_JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(15))

/* jansson ships json_decrefp for exactly this. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Length of the valid UTF-8 sequence at s, 0 if it is not one (overlong, surrogate,
 * beyond U+10FFFF, truncated). */
static size_t utf8_seq_len(const unsigned char *s) {
        unsigned c = s[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                n = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
                n = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
                n = 4, cp = c & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return n;
}

/* Command lines and start errors come from users and the system and need not be UTF-8,
 * which JSON requires: such bytes are written as U+FFFD rather than losing the field. */
static json_t *j_str(const char *s) {
        if (!s)
                return json_null();
        json_t *v = json_string(s);
        if (v)
                return v;
        _cleanup_free_ char *fixed = malloc(strlen(s) * 3 + 1);
        if (!fixed)
                return NULL;
        char *o = fixed;
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                size_t n = utf8_seq_len(p);
                if (n == 0) {
                        memcpy(o, "\xEF\xBF\xBD", 3);
                        o += 3;
                        p++;
                } else {
                        memcpy(o, p, n);
                        o += n;
                        p += n;
                }
        }
        *o = '\0';
        return json_string(fixed);
}

/* Byte and count values; UINT64_MAX means "no limit" and is written as null. */
static json_t *j_u64(uint64_t v) {
        return v > INT64_MAX ? json_null() : json_integer((json_int_t)v);
}

/* NaN and infinities are not JSON. */
static json_t *j_dbl(double d) {
        return isfinite(d) ? json_real(d) : json_null();
}

/* Adds key -> v (stealing v); a NULL v is an allocation failure. Returns 0 or -1 so that
 * callers can OR a whole object's worth of calls and check once. */
static int put(json_t *o, const char *key, json_t *v) {
        if (!v)
                return -1;
        return json_object_set_new(o, key, v) < 0 ? -1 : 0;
}

/* The end of every builder: the finished value, or NULL (and nothing leaked) if any
 * step failed. */
static json_t *finish(json_t *v, int failed) {
        if (failed) {
                json_decref(v);
                return NULL;
        }
        return v;
}

static int append(json_t *a, json_t *v) {
        if (!v)
                return -1;
        return json_array_append_new(a, v) < 0 ? -1 : 0;
}

static json_t *pids_to_json(const int64_t *pids, unsigned n) {
        json_t *a = json_array();
        for (unsigned i = 0; a && i < n; i++)
                if (append(a, json_integer(pids[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *host_to_json(const HostInfo *h) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= put(o, "hostname", j_str(h->hostname));
        e |= put(o, "kernel", j_str(h->kernel));
        e |= put(o, "cpu_model", j_str(h->cpu_model));
        e |= put(o, "cpus_online", json_integer(h->n_cpus_online));
        e |= put(o, "cpus_allowed", json_integer(h->n_cpus_allowed));
        e |= put(o, "allowed_cpus", j_str(h->allowed_cpus));
        e |= put(o, "smt", j_str(h->smt));
        e |= put(o, "governor", j_str(h->governor));
        e |= put(o, "turbo", j_str(h->turbo));
        e |= put(o, "memory_total_bytes", j_u64(h->memory_total_bytes));
        e |= put(o, "swap_on", json_boolean(h->swap_on));
        e |= put(o, "cgroup_backend_detail", j_str(h->cgroup_backend_detail));
        json_t *g = json_array();
        e |= !g;
        for (size_t i = 0; !e && i < h->n_gpus; i++) {
                const HostGpu *d = &h->gpus[i];
                json_t *x = json_object();
                e |= !x;
                if (e)
                        break;
                e |= put(x, "index", json_integer(d->index));
                e |= put(x, "uuid", j_str(d->uuid));
                e |= put(x, "name", j_str(d->name));
                e |= put(x, "pci_bus_id", j_str(d->pci_bus_id));
                e |= put(x, "memory_bytes", j_u64(d->memory_bytes));
                e |= put(x, "numa_node", d->numa_node < 0 ? json_null() : json_integer(d->numa_node));
                e |= put(x, "sm_count", d->sm_count ? json_integer(d->sm_count) : json_null());
                e |= append(g, x);
        }
        e |= put(o, "gpus", g);
        e |= put(o, "gpu_driver", j_str(h->gpu_driver));
        e |= put(o, "cuda_driver", h->cuda_driver ? json_integer(h->cuda_driver) : json_null());
        e |= put(o, "gpus_why_none", j_str(h->gpus_why_none));
        return finish(o, e);
}

static json_t *gpus_to_json(const JobResult *j) {
        json_t *a = json_array();
        int e = !a;
        for (size_t i = 0; !e && i < j->n_gpus; i++) {
                const JobGpuResult *g = &j->gpus[i];
                json_t *o = json_object();
                e |= !o;
                if (e)
                        break;
                e |= put(o, "uuid", j_str(g->uuid));
                e |= put(o, "index", json_integer(g->index));
                e |= put(o, "name", j_str(g->name));
                e |= put(o, "shared", json_boolean(g->shared));
                e |= put(o, "sm_share_mean", j_dbl(g->sm_share_mean));
                e |= put(o, "sm_share_peak", j_dbl(g->sm_share_peak));
                e |= put(o, "memory_peak_bytes", j_u64(g->memory_peak_bytes));
                e |= put(o, "memory_total_bytes", j_u64(g->memory_total_bytes));
                e |= put(o, "samples", json_integer(g->samples));
                e |= put(o, "pids", pids_to_json(g->pids, g->n_pids));
                e |= append(a, o);
        }
        return finish(a, e);
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
                e |= put(ev, "low", j_u64(j->ev_low));
                e |= put(ev, "high", j_u64(j->ev_high));
                e |= put(ev, "max", j_u64(j->ev_max));
                e |= put(ev, "oom", j_u64(j->ev_oom));
                e |= put(ev, "oom_kill", j_u64(j->ev_oom_kill));
                e |= put(o, "peak_bytes", j_u64(j->peak_bytes));
                e |= put(o, "rss_peak_bytes", j_u64(j->rss_peak_bytes));
                e |= put(o, "pss_peak_bytes", j_u64(j->pss_peak_bytes));
                e |= put(o, "pss_mean_bytes", j_u64(j->pss_mean_bytes));
                e |= put(o, "events", TAKE_PTR(ev));
        }
        json_decref(ev);
        return finish(o, e);
}

static json_t *pressure_to_json(const JobResult *j) {
        if (!j->has_psi)
                return json_null();
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= put(o, "cpu_some_s", j_dbl(j->psi_cpu_some_s));
        e |= put(o, "memory_some_s", j_dbl(j->psi_mem_some_s));
        e |= put(o, "memory_full_s", j_dbl(j->psi_mem_full_s));
        e |= put(o, "io_some_s", j_dbl(j->psi_io_some_s));
        e |= put(o, "io_full_s", j_dbl(j->psi_io_full_s));
        return finish(o, e);
}

static json_t *pair_to_json(const char *k1, json_t *v1, const char *k2, json_t *v2) {
        json_t *o = json_object();
        int e = !o;
        if (!e) {
                e |= put(o, k1, TAKE_PTR(v1));
                e |= put(o, k2, TAKE_PTR(v2));
        }
        json_decref(v1);
        json_decref(v2);
        return finish(o, e);
}

static json_t *requested_to_json(const JobResult *j) {
        json_t *o = pair_to_json("cpus", j_str(j->req_cpus), "memory_bytes", j_u64(j->req_memory_bytes));
        if (o && put(o, "gpus", j_str(j->req_gpus)))
                return finish(o, 1);
        return o;
}

static json_t *applied_to_json(const JobResult *j) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= put(o, "cpus", j_str(j->applied_cpus));
        e |= put(o, "mems", j_str(j->applied_mems));
        e |= put(o, "memory_bytes", j_u64(j->applied_memory_bytes));
        e |= put(o, "swap_bytes", j_u64(j->applied_swap_bytes));
        e |= put(o, "pids_max", j_u64(j->applied_pids_max));
        e |= put(o, "memory_enforced", json_boolean(j->memory_enforced));
        e |= put(o, "memory_high_bytes", j_u64(j->applied_memory_high_bytes));
        e |= put(o, "memory_low_bytes", j_u64(j->applied_memory_low_bytes));
        e |= put(o, "cpu_weight", j_u64(j->applied_cpu_weight));
        e |= put(o, "memory_high_emulated", json_boolean(j->memory_high_emulated));
        return finish(o, e);
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
                e |= put(o, "name", j_str(p->name));
                e |= put(o, "start_s", j_dbl(p->start_s));
                e |= put(o, "wall_s", j_dbl(p->wall_s));
                e |= put(o, "cpu_s", p->cpu_s < 0 ? json_null() : j_dbl(p->cpu_s));
                e |= put(o, "unfinished", json_boolean(p->unfinished));
                e |= append(a, o);
        }
        return finish(a, e);
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
                        e |= put(o, m->name, j_dbl(m->value));
                        continue;
                }
                if (!m->unit && !m->all)
                        continue;
                json_t *d = json_object(), *all = m->all ? json_array() : json_null();
                e |= !d || !all;
                for (size_t k = 0; !e && m->all && k < m->n_all; k++)
                        e |= append(all, j_dbl(m->all[k]));
                if (!e) {
                        e |= put(d, "unit", j_str(m->unit));
                        e |= put(d, "all", TAKE_PTR(all));
                        e |= put(o, m->name, TAKE_PTR(d));
                }
                json_decref(all);
                json_decref(d);
        }
        return finish(o, e);
}

static json_t *container_to_json(const ContainerResult *c) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= put(o, "engine", j_str(c->engine));
        e |= put(o, "engine_version", j_str(c->engine_version));
        e |= put(o, "image", j_str(c->image));
        e |= put(o, "image_id", j_str(c->image_id));
        e |= put(o, "digest", j_str(c->digest));
        e |= put(o, "name", j_str(c->name));
        return finish(o, e);
}

static json_t *job_to_json(const JobResult *j) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= put(o, "name", j_str(j->name));
        e |= put(o, "base_name", j_str(j->base_name));
        e |= put(o, "command", j_str(j->command));
        e |= put(o, "priority", j_str(j->priority));
        e |= put(o, "frozen_s", j_dbl(j->frozen_s));
        e |= put(o, "freezes", json_integer(j->freezes));
        e |= put(o, "reason", j_str(job_reason_to_string(j->reason)));
        e |= put(o, "limit", j_str(job_limit(j)));
        e |= put(o, "exit_code", j->exit_code < 0 ? json_null() : json_integer(j->exit_code));
        e |= put(o, "signal", j->signal <= 0 ? json_null() : json_integer(j->signal));
        e |= put(o, "start_errno", j->start_errno <= 0 ? json_null() : json_integer(j->start_errno));
        e |= put(o, "start_error", j_str(j->start_error));
        e |= put(o, "started_s", j_dbl(j->started_s));
        e |= put(o, "ended_s", j_dbl(j->ended_s));
        e |= put(o, "wall_s", j_dbl(j->wall_s));
        e |= put(o, "user_s", j_dbl(j->user_s));
        e |= put(o, "sys_s", j_dbl(j->sys_s));
        e |= put(o, "wait4", pair_to_json("user_s", j_dbl(j->wait4_user_s), "sys_s", j_dbl(j->wait4_sys_s)));
        e |= put(o, "memory", memory_to_json(j));
        e |= put(o, "pressure", pressure_to_json(j));
        e |= put(o, "context_switches",
                 pair_to_json("voluntary", j_u64(j->vol_ctxsw), "involuntary", j_u64(j->invol_ctxsw)));
        e |= put(o, "pids_peak", j_u64(j->pids_peak));
        e |= put(o, "forks_refused", j_u64(j->forks_refused));
        e |= put(o, "log_truncated", json_boolean(j->log_truncated));
        e |= put(o, "escaped", json_boolean(j->escaped));
        e |= put(o, "leftovers_killed", j_u64(j->leftovers_killed));
        e |= put(o, "escaped_pids", pids_to_json(j->escaped_pids, j->n_escaped_pids));
        e |= put(o, "requested", requested_to_json(j));
        e |= put(o, "applied", applied_to_json(j));
        e |= put(o, "cgroup", j_str(j->cgroup));
        /* Only for a job in an image: results of other jobs stay as they were. */
        if (j->container)
                e |= put(o, "container", container_to_json(j->container));
        e |= put(o, "phases", phases_to_json(j));
        e |= put(o, "metrics", metrics_to_json(j, false));
        e |= put(o, "metric_details", metrics_to_json(j, true));
        e |= put(o, "logs", pair_to_json("stdout", j_str(j->log_stdout), "stderr", j_str(j->log_stderr)));
        e |= put(o, "samples", j_str(j->samples_csv));
        e |= put(o, "gpus", gpus_to_json(j));
        e |= put(o, "gpu_samples", j_str(j->gpu_samples_csv));
        return finish(o, e);
}

static json_t *run_to_json(const RunResult *run) {
        json_t *o = json_object(), *jobs = json_array();
        int e = !o || !jobs;
        for (size_t i = 0; !e && i < run->n_jobs; i++)
                e |= append(jobs, job_to_json(&run->jobs[i]));
        if (!e) {
                e |= put(o, "scenario", j_str(run->scenario));
                e |= put(o, "repetition", json_integer(run->repetition));
                e |= put(o, "solo", json_boolean(run->solo));
                e |= put(o, "warmup", json_boolean(run->warmup));
                e |= put(o, "solo_for", j_str(run->solo_for));
                e |= put(o, "replicas", json_integer(run->replicas));
                e |= put(o, "params", j_str(run->params));
                e |= put(o, "started_s", j_dbl(run->started_s));
                e |= put(o, "ended_s", j_dbl(run->ended_s));
                e |= put(o, "jobs", TAKE_PTR(jobs));
        }
        json_decref(jobs);
        return finish(o, e);
}

static json_t *event_to_json(const EventResult *ev) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= put(o, "t_s", j_dbl(ev->t_s));
        e |= put(o, "job", j_str(ev->job));
        e |= put(o, "action", j_str(ev->action));
        e |= put(o, "detail", j_str(ev->detail));
        e |= put(o, "run", ev->run < 0 ? json_null() : json_integer(ev->run));
        e |= put(o, "duration_s", j_dbl(ev->duration_s));
        return finish(o, e);
}

static json_t *result_to_json(const Result *r) {
        json_t *o = json_object(), *runs = json_array(), *events = json_array(), *warnings = json_array();
        int e = !o || !runs || !events || !warnings;

        for (size_t i = 0; !e && i < r->n_runs; i++)
                e |= append(runs, run_to_json(&r->runs[i]));
        for (size_t i = 0; !e && i < r->n_events; i++)
                e |= append(events, event_to_json(&r->events[i]));
        for (char **w = r->warnings; !e && w && *w; w++)
                e |= append(warnings, j_str(*w));
        if (!e) {
                /* The schema this writer produces, whatever the struct says: a Result read
                 * from an older file is written back in today's layout. */
                e |= put(o, "schema", json_integer(RESULT_SCHEMA_VERSION));
                e |= put(o, "corun_version", j_str(r->corun_version));
                e |= put(o, "partial", json_boolean(r->partial));
                e |= put(o, "interrupted", json_boolean(r->interrupted));
                e |= put(o, "started_at", j_str(r->started_at));
                e |= put(o, "finished_at", j_str(r->finished_at));
                e |= put(o, "name", j_str(r->name));
                e |= put(o, "run_id", j_str(r->run_id));
                e |= put(o, "spec_file", j_str(r->spec_file));
                e |= put(o, "command_line", j_str(r->command_line));
                e |= put(o, "backend", j_str(r->backend));
                e |= put(o, "host", host_to_json(&r->host));
                e |= put(o, "runs", TAKE_PTR(runs));
                e |= put(o, "events", TAKE_PTR(events));
                e |= put(o, "warnings", TAKE_PTR(warnings));
        }
        json_decref(runs);
        json_decref(events);
        json_decref(warnings);
        return finish(o, e);
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
        return write_file_atomic_stream(dir, "result.json", render_cached, &(CachedWrite){r, c}, 1 << 16, !r->partial);
}

/* Through a cache of its own: one job's JSON tree at a time instead of the whole
 * document's (the tree of a 10,000-job result was most of the runner's peak memory). */
int result_write(const Result *r, const char *dir) {
        ResultWriteCache *c = result_write_cache_new();
        if (!c)
                return -ENOMEM;
        int k = write_file_atomic_stream(dir, "result.json", render_cached, &(CachedWrite){r, c}, 1 << 16, !r->partial);
        result_write_cache_free(c);
        return k;
}
