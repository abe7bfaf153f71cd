/* SPDX-License-Identifier: MIT */
/* result.json writer and reader. The layout is documented field by field in
 * docs/result-schema.md; keep the two in step. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "result/result.h"
#include "util/fileio.h"
#include "util/macros.h"

/* A result.json of a few thousand jobs is a few MiB; anything far larger is not ours, and
 * jansson would hold all of it (several times over) in memory. */
#define RESULT_FILE_MAX (256u << 20)
/* 15 significant digits: what a measured value carries, and short enough to read
 * ("1.234" instead of %.17g's "1.2340000000000000"). */
#define RESULT_JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(15))

/* jansson ships json_decrefp for exactly this. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* ---- writer ---- */

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
        return finish(o, e);
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
        return pair_to_json("cpus", j_str(j->req_cpus), "memory_bytes", j_u64(j->req_memory_bytes));
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
        e |= put(o, "requested", requested_to_json(j));
        e |= put(o, "applied", applied_to_json(j));
        e |= put(o, "cgroup", j_str(j->cgroup));
        e |= put(o, "phases", phases_to_json(j));
        e |= put(o, "metrics", metrics_to_json(j, false));
        e |= put(o, "metric_details", metrics_to_json(j, true));
        e |= put(o, "logs", pair_to_json("stdout", j_str(j->log_stdout), "stderr", j_str(j->log_stderr)));
        e |= put(o, "samples", j_str(j->samples_csv));
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

int result_write_fd(const Result *r, int fd) {
        _cleanup_json_ json_t *root = result_to_json(r);
        if (!root)
                return -ENOMEM;
        /* One write: json_dumpfd writes every token separately, which made rewriting a
         * run of 200 jobs cost millions of system calls. */
        _cleanup_free_ char *text = json_dumps(root, RESULT_JSON_FLAGS);
        if (!text)
                return -ENOMEM;
        size_t len = strlen(text);
        int k = write_all(fd, text, len);
        return k < 0 ? k : write_all(fd, "\n", 1);
}

static int fill_result(int fd, void *userdata) {
        return result_write_fd(userdata, fd);
}

/* Readers (compare, report, a script tailing the run) only ever see a complete file.
 * Intermediate rewrites (partial) skip the syncs: the rename alone keeps the file whole,
 * and syncing after every one of thousands of short jobs cost milliseconds each. The
 * final result is made durable. */
int result_write(const Result *r, const char *dir) {
        return write_file_atomic(dir, "result.json", fill_result, (void *)r, !r->partial);
}

/* ---- reader ---- */

typedef struct Reader {
        const char *file;
        char path[256]; /* where in the document we are: "runs[2].jobs[0].memory" */
        char *error;
} Reader;

static size_t rd_push(Reader *rd, const char *fmt, ...) _printf_(2, 3);
static size_t rd_push(Reader *rd, const char *fmt, ...) {
        size_t mark = strlen(rd->path);
        va_list ap;
        if (mark > 0 && mark + 1 < sizeof rd->path && fmt[0] != '[')
                rd->path[mark] = '.', rd->path[mark + 1] = '\0';
        size_t at = strlen(rd->path);
        va_start(ap, fmt);
        if (at < sizeof rd->path)
                vsnprintf(rd->path + at, sizeof rd->path - at, fmt, ap);
        va_end(ap);
        return mark;
}

static void rd_pop(Reader *rd, size_t mark) {
        rd->path[mark] = '\0';
}

/* key NULL: the error is about the value at rd->path itself. */
static int rd_fail(Reader *rd, const char *key, const char *what) {
        size_t mark = key ? rd_push(rd, "%s", key) : strlen(rd->path);
        free(rd->error);
        if (asprintf(&rd->error, "%s: %s: %s", rd->file, rd->path, what) < 0)
                rd->error = NULL;
        rd_pop(rd, mark);
        return -EINVAL;
}

/* Each getter leaves *ret alone when the key is missing (the caller's default stays),
 * maps null as documented, and fails on a value of the wrong type. */
static int rd_str(Reader *rd, json_t *o, const char *key, char **ret) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return rd_fail(rd, key, "expected a string");
        char *s = strdup(json_string_value(v));
        if (!s)
                return -ENOMEM;
        free(*ret);
        *ret = s;
        return 0;
}

static int rd_double(Reader *rd, json_t *o, const char *key, double if_null, double *ret) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return 0;
        if (json_is_null(v))
                *ret = if_null;
        else if (json_is_number(v))
                *ret = json_number_value(v);
        else
                return rd_fail(rd, key, "expected a number");
        return 0;
}

static int rd_int64(Reader *rd, json_t *o, const char *key, int64_t lo, int64_t hi, int64_t if_null,
                    int64_t *ret) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return 0;
        if (json_is_null(v)) {
                *ret = if_null;
                return 0;
        }
        if (!json_is_integer(v))
                return rd_fail(rd, key, "expected an integer");
        json_int_t x = json_integer_value(v);
        if (x < lo || x > hi)
                return rd_fail(rd, key, "value out of range");
        *ret = x;
        return 0;
}

/* null is UINT64_MAX: "no limit" for limits, the writer's stand-in for values JSON
 * integers cannot hold otherwise. */
static int rd_u64(Reader *rd, json_t *o, const char *key, uint64_t *ret) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return 0;
        if (json_is_null(v)) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return rd_fail(rd, key, "expected a non-negative integer or null");
        *ret = (uint64_t)json_integer_value(v);
        return 0;
}

static int rd_unsigned(Reader *rd, json_t *o, const char *key, unsigned *ret) {
        int64_t x = *ret;
        int k = rd_int64(rd, o, key, 0, UINT_MAX, *ret, &x);
        if (k >= 0)
                *ret = (unsigned)x;
        return k;
}

static int rd_int(Reader *rd, json_t *o, const char *key, int if_null, int *ret) {
        int64_t x = *ret;
        int k = rd_int64(rd, o, key, INT_MIN, INT_MAX, if_null, &x);
        if (k >= 0)
                *ret = (int)x;
        return k;
}

static int rd_bool(Reader *rd, json_t *o, const char *key, bool *ret) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_boolean(v))
                return rd_fail(rd, key, "expected true or false");
        *ret = json_is_true(v);
        return 0;
}

/* Missing or null -> *ret = NULL, which callers treat as "nothing there". */
static int rd_container(Reader *rd, json_t *o, const char *key, bool array, json_t **ret) {
        json_t *v = json_object_get(o, key);
        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (array ? !json_is_array(v) : !json_is_object(v))
                return rd_fail(rd, key, array ? "expected an array" : "expected an object");
        *ret = v;
        return 0;
}

/* Reads o[key] (an object, or an array when array is set) with fn, the path extended by
 * key for error messages; missing or null is fine and reads nothing. */
typedef int (*ReadFn)(Reader *rd, json_t *v, void *userdata);
static int rd_section(Reader *rd, json_t *o, const char *key, bool array, ReadFn fn, void *userdata) {
        json_t *v = NULL;
        int k = rd_container(rd, o, key, array, &v);
        if (k < 0 || !v)
                return k;
        size_t mark = rd_push(rd, "%s", key);
        k = fn(rd, v, userdata);
        rd_pop(rd, mark);
        return k;
}

/* Calls fn on every element of the array a, each of which must be an object. */
static int rd_each(Reader *rd, json_t *a, ReadFn fn, void *userdata) {
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
                size_t mark = rd_push(rd, "[%zu]", i);
                int k = json_is_object(v) ? fn(rd, v, userdata) : rd_fail(rd, NULL, "expected an object");
                rd_pop(rd, mark);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int host_from_json(Reader *rd, json_t *o, void *userdata) {
        HostInfo *h = userdata;
        int k = 0;
        k = k ?: rd_str(rd, o, "hostname", &h->hostname);
        k = k ?: rd_str(rd, o, "kernel", &h->kernel);
        k = k ?: rd_str(rd, o, "cpu_model", &h->cpu_model);
        k = k ?: rd_unsigned(rd, o, "cpus_online", &h->n_cpus_online);
        k = k ?: rd_unsigned(rd, o, "cpus_allowed", &h->n_cpus_allowed);
        k = k ?: rd_str(rd, o, "allowed_cpus", &h->allowed_cpus);
        k = k ?: rd_str(rd, o, "smt", &h->smt);
        k = k ?: rd_str(rd, o, "governor", &h->governor);
        k = k ?: rd_str(rd, o, "turbo", &h->turbo);
        k = k ?: rd_u64(rd, o, "memory_total_bytes", &h->memory_total_bytes);
        k = k ?: rd_bool(rd, o, "swap_on", &h->swap_on);
        k = k ?: rd_str(rd, o, "cgroup_backend_detail", &h->cgroup_backend_detail);
        return k;
}

static int memory_events_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_u64(rd, o, "low", &j->ev_low);
        k = k ?: rd_u64(rd, o, "high", &j->ev_high);
        k = k ?: rd_u64(rd, o, "max", &j->ev_max);
        k = k ?: rd_u64(rd, o, "oom", &j->ev_oom);
        k = k ?: rd_u64(rd, o, "oom_kill", &j->ev_oom_kill);
        return k;
}

static int memory_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_u64(rd, o, "peak_bytes", &j->peak_bytes);
        k = k ?: rd_u64(rd, o, "rss_peak_bytes", &j->rss_peak_bytes);
        k = k ?: rd_u64(rd, o, "pss_peak_bytes", &j->pss_peak_bytes);
        k = k ?: rd_u64(rd, o, "pss_mean_bytes", &j->pss_mean_bytes);
        k = k ?: rd_section(rd, o, "events", false, memory_events_from_json, j);
        return k;
}

static int pressure_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        j->has_psi = true;
        k = k ?: rd_double(rd, o, "cpu_some_s", 0, &j->psi_cpu_some_s);
        k = k ?: rd_double(rd, o, "memory_some_s", 0, &j->psi_mem_some_s);
        k = k ?: rd_double(rd, o, "memory_full_s", 0, &j->psi_mem_full_s);
        k = k ?: rd_double(rd, o, "io_some_s", 0, &j->psi_io_some_s);
        k = k ?: rd_double(rd, o, "io_full_s", 0, &j->psi_io_full_s);
        return k;
}

static int wait4_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_double(rd, o, "user_s", 0, &j->wait4_user_s);
        k = k ?: rd_double(rd, o, "sys_s", 0, &j->wait4_sys_s);
        return k;
}

static int ctxsw_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_u64(rd, o, "voluntary", &j->vol_ctxsw);
        k = k ?: rd_u64(rd, o, "involuntary", &j->invol_ctxsw);
        return k;
}

static int requested_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_str(rd, o, "cpus", &j->req_cpus);
        k = k ?: rd_u64(rd, o, "memory_bytes", &j->req_memory_bytes);
        return k;
}

static int applied_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_str(rd, o, "cpus", &j->applied_cpus);
        k = k ?: rd_str(rd, o, "mems", &j->applied_mems);
        k = k ?: rd_u64(rd, o, "memory_bytes", &j->applied_memory_bytes);
        k = k ?: rd_u64(rd, o, "swap_bytes", &j->applied_swap_bytes);
        k = k ?: rd_u64(rd, o, "pids_max", &j->applied_pids_max);
        k = k ?: rd_bool(rd, o, "memory_enforced", &j->memory_enforced);
        k = k ?: rd_u64(rd, o, "memory_high_bytes", &j->applied_memory_high_bytes);
        k = k ?: rd_u64(rd, o, "memory_low_bytes", &j->applied_memory_low_bytes);
        k = k ?: rd_u64(rd, o, "cpu_weight", &j->applied_cpu_weight);
        k = k ?: rd_bool(rd, o, "memory_high_emulated", &j->memory_high_emulated);
        return k;
}

static int logs_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_str(rd, o, "stdout", &j->log_stdout);
        k = k ?: rd_str(rd, o, "stderr", &j->log_stderr);
        return k;
}

static int phase_from_json(Reader *rd, json_t *o, void *userdata) {
        PhaseResult *p = job_result_add_phase(userdata);
        int k = 0;
        if (!p)
                return -ENOMEM;
        k = k ?: rd_str(rd, o, "name", &p->name);
        k = k ?: rd_double(rd, o, "start_s", 0, &p->start_s);
        k = k ?: rd_double(rd, o, "wall_s", 0, &p->wall_s);
        k = k ?: rd_double(rd, o, "cpu_s", -1, &p->cpu_s);
        k = k ?: rd_bool(rd, o, "unfinished", &p->unfinished);
        return k;
}

static int phases_from_json(Reader *rd, json_t *a, void *userdata) {
        return rd_each(rd, a, phase_from_json, userdata);
}

static MetricResult *find_metric(JobResult *j, const char *name) {
        for (size_t i = 0; i < j->n_metrics; i++)
                if (j->metrics[i].name && streq(j->metrics[i].name, name))
                        return &j->metrics[i];
        return NULL;
}

static int metric_all_from_json(Reader *rd, json_t *a, void *userdata) {
        MetricResult *m = userdata;
        size_t n = json_array_size(a);
        _cleanup_free_ double *all = calloc(n ? n : 1, sizeof *all);
        size_t i;
        json_t *v;
        if (!all)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                if (json_is_null(v))
                        all[i] = NAN;
                else if (json_is_number(v))
                        all[i] = json_number_value(v);
                else
                        return rd_fail(rd, NULL, "expected an array of numbers");
        }
        free(m->all);
        m->all = TAKE_PTR(all);
        m->n_all = n;
        return 0;
}

static int metrics_from_json(Reader *rd, json_t *values, void *userdata) {
        JobResult *j = userdata;
        const char *name;
        json_t *v;
        json_object_foreach(values, name, v) {
                if (!json_is_number(v) && !json_is_null(v))
                        return rd_fail(rd, name, "expected a number");
                MetricResult *m = job_result_add_metric(j);
                if (!m)
                        return -ENOMEM;
                m->name = strdup(name);
                if (!m->name)
                        return -ENOMEM;
                m->value = json_is_null(v) ? NAN : json_number_value(v);
        }
        return 0;
}

static int metric_details_from_json(Reader *rd, json_t *details, void *userdata) {
        const char *name;
        json_t *v;
        int k = 0;
        json_object_foreach(details, name, v) {
                MetricResult *m = find_metric(userdata, name);
                /* Details of a metric that has no value are meaningless: skip them. */
                if (!m)
                        continue;
                if (!json_is_object(v))
                        return rd_fail(rd, name, "expected an object");
                size_t mark = rd_push(rd, "%s", name);
                k = k ?: rd_str(rd, v, "unit", &m->unit);
                k = k ?: rd_section(rd, v, "all", true, metric_all_from_json, m);
                rd_pop(rd, mark);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int reason_from_json(Reader *rd, json_t *o, JobResult *j) {
        _cleanup_free_ char *s = NULL;
        int k = rd_str(rd, o, "reason", &s);
        if (k < 0 || !s)
                return k;
        JobReason reason = job_reason_from_string(s);
        if (reason == _REASON_INVALID) {
                _cleanup_free_ char *m = NULL;
                if (asprintf(&m,
                             "unknown reason \"%s\" (known: exit, timeout, oom, killed, failed-to-start, "
                             "interrupted)",
                             s) < 0)
                        return -ENOMEM;
                return rd_fail(rd, "reason", m);
        }
        if (reason == REASON_TIMEOUT && j->limit && streq(j->limit, "cpu"))
                reason = REASON_CPU_TIMEOUT;
        j->reason = reason;
        return 0;
}

static int job_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = run_result_add_job(userdata);
        int k = 0;

        if (!j)
                return -ENOMEM;
        if (!json_is_string(json_object_get(o, "name")))
                return rd_fail(rd, "name", "missing (every job has a name)");
        k = k ?: rd_str(rd, o, "name", &j->name);
        k = k ?: rd_str(rd, o, "base_name", &j->base_name);
        k = k ?: rd_str(rd, o, "command", &j->command);
        k = k ?: rd_str(rd, o, "priority", &j->priority);
        k = k ?: rd_double(rd, o, "frozen_s", 0, &j->frozen_s);
        k = k ?: rd_unsigned(rd, o, "freezes", &j->freezes);
        k = k ?: rd_str(rd, o, "limit", &j->limit);
        k = k ?: reason_from_json(rd, o, j);
        k = k ?: rd_int(rd, o, "exit_code", -1, &j->exit_code);
        k = k ?: rd_int(rd, o, "signal", 0, &j->signal);
        k = k ?: rd_int(rd, o, "start_errno", 0, &j->start_errno);
        k = k ?: rd_str(rd, o, "start_error", &j->start_error);
        k = k ?: rd_double(rd, o, "started_s", 0, &j->started_s);
        k = k ?: rd_double(rd, o, "ended_s", 0, &j->ended_s);
        k = k ?: rd_double(rd, o, "wall_s", 0, &j->wall_s);
        k = k ?: rd_double(rd, o, "user_s", 0, &j->user_s);
        k = k ?: rd_double(rd, o, "sys_s", 0, &j->sys_s);
        k = k ?: rd_section(rd, o, "wait4", false, wait4_from_json, j);
        k = k ?: rd_section(rd, o, "memory", false, memory_from_json, j);
        k = k ?: rd_section(rd, o, "pressure", false, pressure_from_json, j);
        k = k ?: rd_section(rd, o, "context_switches", false, ctxsw_from_json, j);
        k = k ?: rd_u64(rd, o, "pids_peak", &j->pids_peak);
        k = k ?: rd_section(rd, o, "requested", false, requested_from_json, j);
        k = k ?: rd_section(rd, o, "applied", false, applied_from_json, j);
        k = k ?: rd_str(rd, o, "cgroup", &j->cgroup);
        k = k ?: rd_section(rd, o, "phases", true, phases_from_json, j);
        k = k ?: rd_section(rd, o, "metrics", false, metrics_from_json, j);
        /* After "metrics": details attach to the metrics read there. */
        k = k ?: rd_section(rd, o, "metric_details", false, metric_details_from_json, j);
        k = k ?: rd_section(rd, o, "logs", false, logs_from_json, j);
        k = k ?: rd_str(rd, o, "samples", &j->samples_csv);
        return k;
}

static int jobs_from_json(Reader *rd, json_t *a, void *userdata) {
        return rd_each(rd, a, job_from_json, userdata);
}

static int run_from_json(Reader *rd, json_t *o, void *userdata) {
        RunResult *run = result_add_run(userdata);
        int k = 0;

        if (!run)
                return -ENOMEM;
        if (!json_is_string(json_object_get(o, "scenario")))
                return rd_fail(rd, "scenario", "missing (every run names its scenario)");
        k = k ?: rd_str(rd, o, "scenario", &run->scenario);
        k = k ?: rd_unsigned(rd, o, "repetition", &run->repetition);
        k = k ?: rd_bool(rd, o, "solo", &run->solo);
        k = k ?: rd_str(rd, o, "solo_for", &run->solo_for);
        k = k ?: rd_unsigned(rd, o, "replicas", &run->replicas);
        k = k ?: rd_str(rd, o, "params", &run->params);
        k = k ?: rd_double(rd, o, "started_s", 0, &run->started_s);
        k = k ?: rd_double(rd, o, "ended_s", 0, &run->ended_s);
        k = k ?: rd_section(rd, o, "jobs", true, jobs_from_json, run);
        return k;
}

static int runs_from_json(Reader *rd, json_t *a, void *userdata) {
        return rd_each(rd, a, run_from_json, userdata);
}

static int event_from_json(Reader *rd, json_t *o, void *userdata) {
        EventResult *ev = result_add_event(userdata);
        int k = 0;
        if (!ev)
                return -ENOMEM;
        k = k ?: rd_double(rd, o, "t_s", 0, &ev->t_s);
        k = k ?: rd_str(rd, o, "job", &ev->job);
        k = k ?: rd_str(rd, o, "action", &ev->action);
        k = k ?: rd_str(rd, o, "detail", &ev->detail);
        k = k ?: rd_int(rd, o, "run", -1, &ev->run);
        k = k ?: rd_double(rd, o, "duration_s", 0, &ev->duration_s);
        return k;
}

static int events_from_json(Reader *rd, json_t *a, void *userdata) {
        return rd_each(rd, a, event_from_json, userdata);
}

static int warnings_from_json(Reader *rd, json_t *a, void *userdata) {
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
                if (!json_is_string(v)) {
                        rd_push(rd, "[%zu]", i);
                        return rd_fail(rd, NULL, "expected a string");
                }
                int k = result_add_warning(userdata, json_string_value(v));
                if (k < 0)
                        return k;
        }
        return 0;
}

static int result_from_json(Reader *rd, json_t *root, Result *r) {
        int k = 0;

        if (!json_is_object(root))
                return rd_fail(rd, "(top level)", "expected an object: this is not a corun result.json");
        json_t *v = json_object_get(root, "schema");
        if (!v)
                return rd_fail(rd, "schema", "missing: this is not a corun result.json");
        if (!json_is_integer(v))
                return rd_fail(rd, "schema", "expected an integer");
        if (json_integer_value(v) != RESULT_SCHEMA_VERSION) {
                free(rd->error);
                if (asprintf(&rd->error,
                             "%s: result schema %lld is not supported: this corun (%s) reads schema %d; "
                             "use the corun version that wrote it",
                             rd->file, (long long)json_integer_value(v), CORUN_VERSION,
                             RESULT_SCHEMA_VERSION) < 0)
                        rd->error = NULL;
                return -EPROTONOSUPPORT;
        }
        r->schema = RESULT_SCHEMA_VERSION;
        k = k ?: rd_str(rd, root, "corun_version", &r->corun_version);
        k = k ?: rd_bool(rd, root, "partial", &r->partial);
        k = k ?: rd_bool(rd, root, "interrupted", &r->interrupted);
        k = k ?: rd_str(rd, root, "started_at", &r->started_at);
        k = k ?: rd_str(rd, root, "finished_at", &r->finished_at);
        k = k ?: rd_str(rd, root, "name", &r->name);
        k = k ?: rd_str(rd, root, "run_id", &r->run_id);
        k = k ?: rd_str(rd, root, "spec_file", &r->spec_file);
        k = k ?: rd_str(rd, root, "command_line", &r->command_line);
        k = k ?: rd_str(rd, root, "backend", &r->backend);
        k = k ?: rd_section(rd, root, "host", false, host_from_json, &r->host);
        k = k ?: rd_section(rd, root, "runs", true, runs_from_json, r);
        k = k ?: rd_section(rd, root, "events", true, events_from_json, r);
        k = k ?: rd_section(rd, root, "warnings", true, warnings_from_json, r);
        return k;
}

static int set_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int set_error(char **ret_error, const char *fmt, ...) {
        va_list ap;
        char *m = NULL;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        if (ret_error) {
                free(*ret_error);
                *ret_error = m;
        } else
                free(m);
        return 0;
}

int result_read(const char *path, Result **ret, char **ret_error) {
        _cleanup_free_ char *file = NULL;
        struct stat st;

        if (stat(path, &st) < 0) {
                int k = negative_errno();
                set_error(ret_error, "%s: %s", path, strerror(-k));
                return k;
        }
        if (S_ISDIR(st.st_mode)) {
                if (asprintf(&file, "%s/result.json", path) < 0)
                        file = NULL;
        } else
                file = strdup(path);
        if (!file)
                return set_error(ret_error, "out of memory"), -ENOMEM;

        /* jansson's json_load_file opens without O_CLOEXEC; open it ourselves. */
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                int k = negative_errno();
                set_error(ret_error, "%s: %s", file, strerror(-k));
                return k;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > RESULT_FILE_MAX) {
                set_error(ret_error, "%s: %s", file,
                          S_ISREG(st.st_mode) ? "larger than 256 MiB: not a corun result.json"
                                              : "not a regular file");
                return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
        }

        json_error_t jerr;
        /* json_loadfd reads one byte per read(2): read the file whole. */
        _cleanup_free_ char *text = NULL;
        size_t text_len = 0;
        int rk = read_full_fd(fd, RESULT_FILE_MAX, &text, &text_len);
        if (rk < 0) {
                set_error(ret_error, "%s: %s", file, strerror(-rk));
                return rk;
        }
        _cleanup_json_ json_t *root = json_loadb(text, text_len, 0, &jerr);
        if (!root) {
                if (jerr.line > 0)
                        set_error(ret_error, "%s:%d:%d: %s", file, jerr.line, jerr.column, jerr.text);
                else
                        set_error(ret_error, "%s: %s", file, jerr.text);
                return -EINVAL;
        }

        Reader rd = {.file = file};
        Result *r = result_new();
        if (!r)
                return set_error(ret_error, "out of memory"), -ENOMEM;
        int k = result_from_json(&rd, root, r);
        if (k < 0) {
                result_free(r);
                if (rd.error)
                        set_error(ret_error, "%s", rd.error);
                else
                        set_error(ret_error, "%s: %s", file, strerror(-k));
                free(rd.error);
                return k;
        }
        *ret = r;
        return 0;
}
