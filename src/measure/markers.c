/* SPDX-License-Identifier: MIT */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "measure/markers.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/macros.h"

typedef struct Pattern {
        pcre2_code *code;
        bool jit;
} Pattern;

typedef struct PhaseInstance {
        uint64_t start_usec, end_usec, start_cpu, end_cpu;
        bool unfinished;
} PhaseInstance;

typedef struct PhaseState {
        const PhaseSpec *spec;
        Pattern start, end; /* end.code NULL: ends when another phase starts, or at job end */
        bool running;
        uint64_t start_usec, start_cpu, started_seq;
        PhaseInstance *done;
        size_t n_done;
} PhaseState;

typedef struct MetricState {
        const MetricSpec *spec;
        Pattern re;
        double value, sum;
        double *all;
        size_t n, cap;
        char *unit;
} MetricState;

struct MarkerEngine {
        const JobSpec *job;
        PhaseState *phases;
        size_t n_phases;
        MetricState *metrics;
        size_t n_metrics;
        Pattern ts;
        pcre2_match_data *md;
        uint64_t lines, ignored_ends, seq;
        uint64_t last_ts_usec;  /* timestamp mode: the time of the last line that had one */
        uint64_t first_ts_usec; /* timestamp mode: the first one, the job's start */
        bool ts_mode;
};

static void pattern_done(Pattern *p) {
        pcre2_code_free(p->code);
        p->code = NULL;
}

/* which: "start " or "end " for a phase's patterns, "" otherwise. */
static int compile(const char *job, const char *what, const char *name, const char *which, const char *re,
                   Pattern *ret, char **ret_error) {
        int err;
        PCRE2_SIZE off;
        pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
        if (!c) {
                PCRE2_UCHAR msg[256];
                pcre2_get_error_message(err, msg, sizeof msg);
                if (asprintf(ret_error, "job '%s': %s '%s' %spattern '%s': %s at offset %zu", job, what, name, which,
                             re, (char *)msg, (size_t)off) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        ret->code = c;
        /* JIT makes matching every line of a chatty job cheap; without it (an arch
         * pcre2 has no JIT for) the interpreter still works. */
        ret->jit = pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0;
        return 0;
}

static int capture_count(const Pattern *p) {
        uint32_t n = 0;
        pcre2_pattern_info(p->code, PCRE2_INFO_CAPTURECOUNT, &n);
        return (int)n;
}

MarkerEngine *marker_engine_free(MarkerEngine *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_phases; i++) {
                pattern_done(&e->phases[i].start);
                pattern_done(&e->phases[i].end);
                free(e->phases[i].done);
        }
        for (size_t i = 0; i < e->n_metrics; i++) {
                pattern_done(&e->metrics[i].re);
                free(e->metrics[i].all);
                free(e->metrics[i].unit);
        }
        free(e->phases);
        free(e->metrics);
        pattern_done(&e->ts);
        pcre2_match_data_free(e->md);
        free(e);
        return NULL;
}

int marker_engine_new(const JobSpec *job, MarkerEngine **ret, char **ret_error) {
        MarkerEngine *e = calloc(1, sizeof *e);
        int r = 0;
        if (!e)
                return -ENOMEM;
        e->job = job;
        e->phases = job->n_phases ? calloc(job->n_phases, sizeof(PhaseState)) : NULL;
        e->metrics = job->n_metrics ? calloc(job->n_metrics, sizeof(MetricState)) : NULL;
        if ((job->n_phases && !e->phases) || (job->n_metrics && !e->metrics)) {
                marker_engine_free(e);
                return -ENOMEM;
        }
        for (size_t i = 0; i < job->n_phases && r >= 0; i++) {
                PhaseState *p = &e->phases[e->n_phases++];
                p->spec = &job->phases[i];
                if (p->spec->start)
                        r = compile(job->name, "phase", p->spec->name, "start ", p->spec->start, &p->start, ret_error);
                if (r >= 0 && p->spec->end)
                        r = compile(job->name, "phase", p->spec->name, "end ", p->spec->end, &p->end, ret_error);
        }
        for (size_t i = 0; i < job->n_metrics && r >= 0; i++) {
                MetricState *m = &e->metrics[e->n_metrics++];
                m->spec = &job->metrics[i];
                m->value = NAN;
                r = compile(job->name, "metric", m->spec->name, "", m->spec->pattern, &m->re, ret_error);
                if (r >= 0 && capture_count(&m->re) < 1) {
                        if (asprintf(ret_error,
                                     "job '%s': metric '%s' pattern '%s' has no capture group; put the number in "
                                     "parentheses, e.g. 'proofs/s: ([0-9.]+)'",
                                     job->name, m->spec->name, m->spec->pattern) < 0)
                                *ret_error = NULL;
                        r = -EINVAL;
                }
        }
        if (r >= 0 && job->timestamp.regex) {
                r = compile(job->name, "timestamp", "regex", "", job->timestamp.regex, &e->ts, ret_error);
                if (r >= 0 && capture_count(&e->ts) < 1) {
                        if (asprintf(ret_error, "job '%s': timestamp regex '%s' needs one capture group around the time",
                                     job->name, job->timestamp.regex) < 0)
                                *ret_error = NULL;
                        r = -EINVAL;
                }
                e->ts_mode = r >= 0;
        }
        if (r >= 0) {
                e->md = pcre2_match_data_create(16, NULL);
                if (!e->md)
                        r = -ENOMEM;
        }
        if (r < 0) {
                marker_engine_free(e);
                return r;
        }
        *ret = e;
        return 0;
}

bool marker_engine_active(const MarkerEngine *e) {
        return e && (e->n_phases > 0 || e->n_metrics > 0);
}

static bool match(MarkerEngine *e, const Pattern *p, const char *line, size_t len) {
        if (!p->code)
                return false;
        int rc = p->jit ? pcre2_jit_match(p->code, (PCRE2_SPTR)line, len, 0, 0, e->md, NULL)
                        : pcre2_match(p->code, (PCRE2_SPTR)line, len, 0, 0, e->md, NULL);
        return rc > 0;
}

/* The text of capture group 1 of the last match. */
static bool group1(MarkerEngine *e, const char *line, const char **ret, size_t *ret_len) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
        if (pcre2_get_ovector_count(e->md) < 2 || ov[2] == PCRE2_UNSET)
                return false;
        *ret = line + ov[2];
        *ret_len = ov[3] - ov[2];
        return true;
}

int marker_parse_time(const char *text, const char *format, uint64_t *ret_usec) {
        struct tm tm = {0};
        const char *end = strptime(text, format, &tm);
        if (!end)
                return -EINVAL;
        time_t t = timegm(&tm);
        if (t == (time_t)-1 && tm.tm_year != 69)
                return -ERANGE;
        if (t < 0)
                return -ERANGE;
        uint64_t frac = 0, scale = USEC_PER_SEC;
        if ((*end == '.' || *end == ',') && isdigit((unsigned char)end[1])) {
                for (const char *p = end + 1; isdigit((unsigned char)*p); p++)
                        if (scale > 1) {
                                scale /= 10;
                                frac += (uint64_t)(*p - '0') * scale;
                        }
        }
        *ret_usec = (uint64_t)t * USEC_PER_SEC + frac;
        return 0;
}

static void phase_close(PhaseState *p, uint64_t t, uint64_t cpu, bool unfinished) {
        PhaseInstance *n = realloc(p->done, (p->n_done + 1) * sizeof *n);
        if (!n)
                return;
        p->done = n;
        n[p->n_done++] = (PhaseInstance){.start_usec = p->start_usec, .end_usec = t, .start_cpu = p->start_cpu,
                                         .end_cpu = cpu, .unfinished = unfinished};
        p->running = false;
}

int marker_engine_feed(MarkerEngine *e, const char *line, size_t len, uint64_t mono_usec, MarkerCpuFn cpu,
                       void *userdata, char *ret_change, size_t change_len) {
        bool have_cpu = false, changed = false;
        uint64_t cpu_now = 0, t = mono_usec;
        const char *first_change = NULL, *first_how = NULL;

        e->lines++;
        if (e->ts_mode) {
                const char *s;
                size_t n;
                char buf[128];
                if (match(e, &e->ts, line, len) && group1(e, line, &s, &n) && n < sizeof buf) {
                        uint64_t ts;
                        memcpy(buf, s, n);
                        buf[n] = '\0';
                        if (marker_parse_time(buf, e->job->timestamp.format, &ts) >= 0) {
                                if (e->last_ts_usec == 0)
                                        e->first_ts_usec = ts;
                                e->last_ts_usec = ts;
                        }
                }
                t = e->last_ts_usec;
        }
#define CPU_NOW() (have_cpu ? cpu_now : (have_cpu = true, cpu_now = cpu ? cpu(userdata) : 0))

        /* Ends first, so that one line can end a phase and start the next. */
        for (size_t i = 0; i < e->n_phases; i++) {
                PhaseState *p = &e->phases[i];
                if (!p->end.code || !match(e, &p->end, line, len))
                        continue;
                if (!p->running) {
                        /* A line that also starts this phase (a lap) is not a stray end. */
                        if (!match(e, &p->start, line, len))
                                e->ignored_ends++;
                        continue;
                }
                phase_close(p, t, CPU_NOW(), false);
                changed = true;
                if (!first_change) {
                        first_change = p->spec->name;
                        first_how = "ended";
                }
        }
        bool any_start = false;
        for (size_t i = 0; i < e->n_phases; i++) {
                PhaseState *p = &e->phases[i];
                if (!p->start.code || !match(e, &p->start, line, len))
                        continue;
                if (!any_start) {
                        /* Short-form phases (no end pattern) end when another starts. */
                        for (size_t k = 0; k < e->n_phases; k++)
                                if (e->phases[k].running && !e->phases[k].end.code)
                                        phase_close(&e->phases[k], t, CPU_NOW(), false);
                        any_start = true;
                }
                if (p->running) /* started again before its end: the first is unfinished */
                        phase_close(p, t, CPU_NOW(), true);
                p->running = true;
                p->start_usec = t;
                p->start_cpu = CPU_NOW();
                p->started_seq = ++e->seq;
                changed = true;
                first_change = p->spec->name;
                first_how = "started";
        }
        for (size_t i = 0; i < e->n_metrics; i++) {
                MetricState *m = &e->metrics[i];
                const char *s;
                size_t n;
                char buf[128];
                if (!match(e, &m->re, line, len) || !group1(e, line, &s, &n) || n == 0 || n >= sizeof buf)
                        continue;
                memcpy(buf, s, n);
                buf[n] = '\0';
                char *end;
                double v = strtod(buf, &end);
                if (end == buf || !isfinite(v))
                        continue;
                while (*end == ' ')
                        end++;
                if (*end && !m->unit)
                        m->unit = strdup(end);
                if (m->n == m->cap) {
                        size_t cap = m->cap ? m->cap * 2 : 16;
                        /* Bounded: a job printing a metric a million times keeps the
                         * aggregates, not every value. */
                        if (cap <= 1u << 20) {
                                double *a = realloc(m->all, cap * sizeof(double));
                                if (a) {
                                        m->all = a;
                                        m->cap = cap;
                                }
                        }
                }
                if (m->n < m->cap)
                        m->all[m->n] = v;
                m->n++;
                m->sum += v;
                switch (m->spec->agg) {
                case METRIC_MAX:
                        m->value = isnan(m->value) || v > m->value ? v : m->value;
                        break;
                case METRIC_MIN:
                        m->value = isnan(m->value) || v < m->value ? v : m->value;
                        break;
                default:
                        m->value = v;
                }
        }
#undef CPU_NOW
        if (changed && ret_change && change_len)
                snprintf(ret_change, change_len, "%s %s", first_change, first_how);
        return changed ? 1 : 0;
}

const char *marker_engine_current(const MarkerEngine *e) {
        const PhaseState *best = NULL;
        for (size_t i = 0; e && i < e->n_phases; i++)
                if (e->phases[i].running && (!best || e->phases[i].started_seq > best->started_seq))
                        best = &e->phases[i];
        return best ? best->spec->name : NULL;
}

int marker_engine_finish(MarkerEngine *e, uint64_t start_usec, uint64_t end_usec, uint64_t end_cpu_usec,
                         JobResult *res) {
        /* In timestamp mode the times are the log's; the job's start is its first line. */
        uint64_t t_end = e->ts_mode ? e->last_ts_usec : end_usec;
        for (size_t i = 0; i < e->n_phases; i++) {
                PhaseState *p = &e->phases[i];
                if (p->running)
                        phase_close(p, t_end, end_cpu_usec, p->end.code != NULL);
        }
        /* Phases in the order they started. */
        size_t total = 0;
        for (size_t i = 0; i < e->n_phases; i++)
                total += e->phases[i].n_done;
        for (size_t emitted = 0; emitted < total; emitted++) {
                PhaseState *bp = NULL;
                size_t bk = 0;
                for (size_t i = 0; i < e->n_phases; i++)
                        for (size_t k = 0; k < e->phases[i].n_done; k++)
                                if (e->phases[i].done[k].start_usec != UINT64_MAX &&
                                    (!bp || e->phases[i].done[k].start_usec < bp->done[bk].start_usec)) {
                                        bp = &e->phases[i];
                                        bk = k;
                                }
                PhaseInstance *in = &bp->done[bk];
                PhaseResult *pr = job_result_add_phase(res);
                if (!pr)
                        return -ENOMEM;
                pr->name = strdup(bp->spec->name);
                uint64_t base = e->ts_mode ? e->first_ts_usec : start_usec;
                pr->start_s = in->start_usec >= base ? (double)(in->start_usec - base) / USEC_PER_SEC : 0;
                pr->wall_s = in->end_usec >= in->start_usec ? (double)(in->end_usec - in->start_usec) / USEC_PER_SEC
                                                            : 0;
                pr->cpu_s = in->end_cpu >= in->start_cpu ? (double)(in->end_cpu - in->start_cpu) / USEC_PER_SEC : -1;
                pr->unfinished = in->unfinished;
                in->start_usec = UINT64_MAX; /* emitted */
        }
        for (size_t i = 0; i < e->n_metrics; i++) {
                MetricState *m = &e->metrics[i];
                if (m->n == 0)
                        continue;
                MetricResult *mr = job_result_add_metric(res);
                if (!mr)
                        return -ENOMEM;
                mr->name = strdup(m->spec->name);
                mr->unit = m->unit ? strdup(m->unit) : NULL;
                switch (m->spec->agg) {
                case METRIC_SUM:
                        mr->value = m->sum;
                        break;
                case METRIC_MEAN:
                        mr->value = m->sum / (double)m->n;
                        break;
                default:
                        mr->value = m->value;
                }
                if (m->spec->agg == METRIC_ALL) {
                        size_t n = MIN(m->n, m->cap);
                        mr->all = malloc(MAX(n, (size_t)1) * sizeof(double));
                        if (mr->all) {
                                memcpy(mr->all, m->all, n * sizeof(double));
                                mr->n_all = n;
                        }
                }
        }
        return 0;
}

uint64_t marker_engine_lines(const MarkerEngine *e) {
        return e->lines;
}

uint64_t marker_engine_ignored_ends(const MarkerEngine *e) {
        return e->ignored_ends;
}

/* ---- line splitting ---- */

int line_splitter_feed(LineSplitter *s, const char *data, size_t n, LineFn fn, void *userdata) {
        const char *p = data, *end = data + n;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t chunk = nl ? (size_t)(nl - p) : (size_t)(end - p);
                if (s->truncating) {
                        if (nl)
                                s->truncating = false;
                        p = nl ? nl + 1 : end;
                        continue;
                }
                if (s->len == 0 && nl && chunk <= MARKER_LINE_MAX) {
                        /* The common case: a whole line inside the chunk, no copy. */
                        fn(p, chunk, userdata);
                        p = nl + 1;
                        continue;
                }
                size_t room = MARKER_LINE_MAX - s->len, take = MIN(chunk, room);
                if (!s->buf) {
                        s->buf = malloc(MARKER_LINE_MAX);
                        if (!s->buf)
                                return -ENOMEM;
                }
                memcpy(s->buf + s->len, p, take);
                s->len += take;
                if (take < chunk || (s->len == MARKER_LINE_MAX && !nl)) {
                        /* Overlong: deliver what fits, drop the rest of the line. */
                        fn(s->buf, s->len, userdata);
                        s->len = 0;
                        s->lines_cut++;
                        s->truncating = !nl;
                        p = nl ? nl + 1 : end;
                        continue;
                }
                if (nl) {
                        fn(s->buf, s->len, userdata);
                        s->len = 0;
                        p = nl + 1;
                } else
                        p = end;
        }
        return 0;
}

void line_splitter_flush(LineSplitter *s, LineFn fn, void *userdata) {
        if (s->len > 0 && !s->truncating)
                fn(s->buf, s->len, userdata);
        s->len = 0;
        s->truncating = false;
}

void line_splitter_done(LineSplitter *s) {
        free(s->buf);
        *s = (LineSplitter){0};
}
