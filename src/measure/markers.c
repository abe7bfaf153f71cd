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
#include <strings.h>
#include <time.h>

#include "util/macros.h"

typedef struct Pattern {
        pcre2_code *code;
        bool jit;
} Pattern;

/* Times are on the arrival clock (CLOCK_MONOTONIC usec as fed; 0 throughout a replay).
 * With `timestamp:`, a line's own time is put on that clock through the arrival time of
 * the first line that had one; signed, because a log's times may run backwards. */
typedef struct PhaseInstance {
        int64_t start_t, end_t;
        uint64_t start_cpu, end_cpu;
        bool unfinished, emitted;
} PhaseInstance;

typedef struct PhaseState {
        const PhaseSpec *spec;
        Pattern start, end; /* end.code NULL: ends when another phase starts, or at job end */
        bool running;
        int64_t start_t;
        uint64_t start_cpu, started_seq;
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
        /* timestamp mode */
        bool ts_mode, have_anchor, have_clock;
        int64_t anchor;    /* arrival time of the first timestamped line minus its timestamp */
        int64_t last_t;    /* the time of the last line that had one, on the arrival clock */
        int64_t clock_abs; /* clock-only formats: the last time of day, days counted from the first */
        uint64_t ts_read, ts_unreadable;
        char ts_sample[64]; /* the first text the format could not read */
};

static void pattern_done(Pattern *p) {
        pcre2_code_free(p->code);
        p->code = NULL;
}

/* which: "start " or "end " for a phase's patterns, "" otherwise. Errors start with
 * where the pattern was written: "file:line:col: " (nothing for a job from flags). */
static int compile(const SpecPos *pos, const char *job, const char *what, const char *name,
                   const char *which, const char *re, Pattern *ret, char **ret_error) {
        int err;
        PCRE2_SIZE off;
        /* Job output is bytes, not always valid UTF-8 (progress bars, Latin-1): without
         * MATCH_INVALID_UTF the interpreter refuses such a line (a marker lost) and JIT
         * matching on it is undefined. */
        pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                                      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
        if (!c) {
                PCRE2_UCHAR msg[256];
                pcre2_get_error_message(err, msg, sizeof msg);
                char where[SPEC_POS_MAX];
                if (asprintf(ret_error, "%sjob '%s': %s '%s' %spattern '%s': %s at offset %zu",
                             spec_pos_format(pos, where, sizeof where), job, what, name, which, re,
                             (char *)msg, (size_t)off) < 0)
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

/* ---- timestamps ---- */

#define USEC_PER_DAY ((int64_t)86400 * (int64_t)USEC_PER_SEC)
#define TIME_FORMAT_MAX 256

/* What a timestamp format can tell: a date with its year, a clock, or both. */
typedef struct TimeFormat {
        bool year, day, clock, epoch;
        char bad; /* an unknown conversion */
} TimeFormat;

/* Skips what glibc's strptime skips between '%' and the conversion (strftime flags,
 * a width, the E and O modifiers). */
static const char *conversion(const char *p) {
        while (*p && strchr("-_0^#", *p))
                p++;
        while (isdigit((unsigned char)*p))
                p++;
        if (*p == 'E' || *p == 'O')
                p++;
        return p;
}

static int time_format_scan(const char *format, TimeFormat *ret) {
        TimeFormat f = {0};
        if (strlen(format) >= TIME_FORMAT_MAX)
                return -E2BIG;
        for (const char *p = format; *p; p++) {
                if (*p != '%')
                        continue;
                p = conversion(p + 1);
                if (!*p) {
                        f.bad = '%';
                        break;
                }
                /* The C locale's %c ("%a %b %e %H:%M:%S %Y") and %x ("%m/%d/%y") carry
                 * a year; %a, %u, %U... name a weekday or a week, which is no date. */
                if (strchr("YyDFcxs", *p))
                        f.year = true;
                if (strchr("dembBhjDFcx", *p))
                        f.day = true;
                if (strchr("HMSTRrIklXc", *p))
                        f.clock = true;
                if (*p == 's')
                        f.epoch = true;
                if (!strchr("YyDFcxsdembBhjHMSTRrIklXpPfaAuwUWVgGCntzZ%", *p) && !f.bad)
                        f.bad = *p;
        }
        *ret = f;
        return 0;
}

static int time_format_check(const SpecPos *pos, const char *job, const char *format, char **ret_error) {
        char where[SPEC_POS_MAX];
        TimeFormat f;
        int r = time_format_scan(format, &f);
        const char *why = NULL;
        char conv[3] = {'%', 0, 0};
        if (r < 0)
                why = "is longer than 255 bytes";
        else if (f.bad) {
                conv[1] = f.bad == '%' ? 0 : f.bad;
                if (asprintf(ret_error,
                             "%sjob '%s': timestamp format '%s': '%s' is not a strptime conversion "
                             "(corun adds %%f for the fraction of a second and %%s for seconds since the "
                             "epoch)",
                             spec_pos_format(pos, where, sizeof where), job, format, conv) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        } else if (f.day && !f.year)
                why = "has a day but no year, so corun cannot tell the year; capture the date with its "
                      "year, or only the clock (a format such as '%H:%M:%S', whose times then count from "
                      "the first timestamp)";
        else if (!f.year && !f.clock)
                why = "reads neither a date nor a clock; e.g. '%Y-%m-%d %H:%M:%S' or '%H:%M:%S'";
        if (!why)
                return 0;
        if (asprintf(ret_error, "%sjob '%s': timestamp format '%s' %s",
                     spec_pos_format(pos, where, sizeof where), job, format, why) < 0)
                *ret_error = NULL;
        return r < 0 ? r : -EINVAL;
}

/* Reads digits as the fraction of a second (beyond microseconds they are dropped). */
static const char *parse_fraction(const char *p, uint64_t *ret_usec) {
        uint64_t frac = 0, scale = USEC_PER_SEC;
        for (; isdigit((unsigned char)*p); p++)
                if (scale > 1) {
                        scale /= 10;
                        frac += (uint64_t)(*p - '0') * scale;
                }
        *ret_usec = frac;
        return p;
}

int marker_parse_time(const char *text, const char *format, uint64_t *ret_usec) {
        TimeFormat f;
        int r = time_format_scan(format, &f);
        if (r < 0)
                return r;
        if (f.bad || (f.day && !f.year) || (!f.year && !f.clock))
                return -EINVAL;

        /* strptime knows neither %f nor a %s in UTC (glibc's goes through localtime),
         * so the format is cut at those and at %p: strptime reads the pieces between,
         * corun these conversions. %p (and %P, any case) is corun's so that
         * "%I:%M:%S.%f %p" works: glibc applies PM only to an hour read by the same
         * strptime call. */
        struct tm tm = {.tm_mday = 1};
        char seg[TIME_FORMAT_MAX];
        size_t n = 0;
        const char *p = text;
        uint64_t frac = 0, epoch = 0;
        bool have_frac = false;
        int pm = -1;
        for (const char *q = format;; q++) {
                const char *c = *q == '%' ? conversion(q + 1) : NULL;
                bool ours = c && (*c == 'f' || *c == 's' || *c == 'p' || *c == 'P');
                if (*q && !ours) {
                        if (c) { /* a strptime conversion: copied whole */
                                memcpy(seg + n, q, (size_t)(c - q + 1));
                                n += (size_t)(c - q + 1);
                                q = c;
                        } else
                                seg[n++] = *q;
                        continue;
                }
                if (n > 0) {
                        seg[n] = '\0';
                        p = strptime(p, seg, &tm);
                        if (!p)
                                return -EINVAL;
                        n = 0;
                }
                if (!*q)
                        break;
                if (*c == 'f') {
                        if (!isdigit((unsigned char)*p))
                                return -EINVAL;
                        p = parse_fraction(p, &frac);
                        have_frac = true;
                } else if (*c == 's') {
                        while (isspace((unsigned char)*p))
                                p++;
                        if (!isdigit((unsigned char)*p))
                                return -EINVAL;
                        for (; isdigit((unsigned char)*p); p++) {
                                epoch = epoch * 10 + (uint64_t)(*p - '0');
                                if (epoch > UINT64_C(1) << 40) /* year 36812: not a log of ours */
                                        return -ERANGE;
                        }
                } else {
                        while (isspace((unsigned char)*p))
                                p++;
                        if (strncasecmp(p, "am", 2) == 0)
                                pm = 0;
                        else if (strncasecmp(p, "pm", 2) == 0)
                                pm = 1;
                        else
                                return -EINVAL;
                        p += 2;
                }
                q = c;
        }
        /* Without %f, a fraction right after the parsed text counts: "02:35:20.250". */
        if (!have_frac && (*p == '.' || *p == ',') && isdigit((unsigned char)p[1]))
                (void)parse_fraction(p + 1, &frac);
        if (pm == 1 && tm.tm_hour < 12)
                tm.tm_hour += 12;
        else if (pm == 0 && tm.tm_hour == 12)
                tm.tm_hour = 0;

        if (f.epoch) {
                *ret_usec = epoch * USEC_PER_SEC + frac;
                return 0;
        }
        if (!f.year) {
                /* A clock without a date: the time of day; the engine places it. */
                int64_t s = (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec - (int64_t)tm.tm_gmtoff;
                s = ((s % 86400) + 86400) % 86400;
                *ret_usec = (uint64_t)s * USEC_PER_SEC + frac;
                return 1;
        }
        int64_t gmtoff = tm.tm_gmtoff; /* %z; timegm ignores it */
        time_t t = timegm(&tm);
        if (t == (time_t)-1 || (int64_t)t - gmtoff < 0)
                return -ERANGE;
        *ret_usec = (uint64_t)((int64_t)t - gmtoff) * USEC_PER_SEC + frac;
        return 0;
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
                        r = compile(&p->spec->pos, job->name, "phase", p->spec->name, "start ",
                                    p->spec->start, &p->start, ret_error);
                if (r >= 0 && p->spec->end)
                        r = compile(&p->spec->pos, job->name, "phase", p->spec->name, "end ", p->spec->end,
                                    &p->end, ret_error);
        }
        for (size_t i = 0; i < job->n_metrics && r >= 0; i++) {
                MetricState *m = &e->metrics[e->n_metrics++];
                m->spec = &job->metrics[i];
                m->value = NAN;
                r = compile(&m->spec->pos, job->name, "metric", m->spec->name, "", m->spec->pattern, &m->re,
                            ret_error);
                if (r >= 0 && capture_count(&m->re) < 1) {
                        char where[SPEC_POS_MAX];
                        if (asprintf(ret_error,
                                     "%sjob '%s': metric '%s' pattern '%s' has no capture group; put "
                                     "the number in parentheses, e.g. 'proofs/s: ([0-9.]+)'",
                                     spec_pos_format(&m->spec->pos, where, sizeof where), job->name,
                                     m->spec->name, m->spec->pattern) < 0)
                                *ret_error = NULL;
                        r = -EINVAL;
                }
        }
        if (r >= 0 && job->timestamp.regex) {
                r = compile(&job->pos, job->name, "timestamp", "regex", "", job->timestamp.regex, &e->ts,
                            ret_error);
                if (r >= 0 && capture_count(&e->ts) < 1) {
                        char where[SPEC_POS_MAX];
                        if (asprintf(ret_error,
                                     "%sjob '%s': timestamp regex '%s' needs one capture group "
                                     "around the time",
                                     spec_pos_format(&job->pos, where, sizeof where), job->name,
                                     job->timestamp.regex) < 0)
                                *ret_error = NULL;
                        r = -EINVAL;
                }
                if (r >= 0)
                        r = time_format_check(&job->pos, job->name, job->timestamp.format, ret_error);
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

static void phase_close(PhaseState *p, int64_t t, uint64_t cpu, bool unfinished) {
        PhaseInstance *n = realloc(p->done, (p->n_done + 1) * sizeof *n);
        if (!n)
                return;
        p->done = n;
        n[p->n_done++] = (PhaseInstance){.start_t = p->start_t,
                                         .end_t = t,
                                         .start_cpu = p->start_cpu,
                                         .end_cpu = cpu,
                                         .unfinished = unfinished};
        p->running = false;
}

static int64_t floor_div(int64_t a, int64_t b) {
        return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* A clock-only time of day, placed on the day that puts it nearest the last one: more
 * than 12 h earlier is the next day (midnight passed), more than 12 h later the day
 * before (a line that arrived late). The first one is on day 0. */
static int64_t clock_place(MarkerEngine *e, int64_t tod) {
        int64_t t = tod;
        if (e->have_clock) {
                t = floor_div(e->clock_abs, USEC_PER_DAY) * USEC_PER_DAY + tod;
                if (t < e->clock_abs - USEC_PER_DAY / 2)
                        t += USEC_PER_DAY;
                else if (t > e->clock_abs + USEC_PER_DAY / 2)
                        t -= USEC_PER_DAY;
        }
        e->have_clock = true;
        e->clock_abs = t;
        return t;
}

/* The time of a line in timestamp mode. Lines before the first timestamp have no time
 * of their own: they take their arrival time, which the first timestamp then anchors
 * the log's times to (live: the job's elapsed time up to there; a replay feeds 0, so
 * they take the first timestamp's time). Later lines without one take the last one's. */
static int64_t line_time(MarkerEngine *e, const char *line, size_t len, uint64_t mono_usec) {
        const char *s;
        size_t n;
        char buf[128];
        uint64_t ts;
        if (!match(e, &e->ts, line, len) || !group1(e, line, &s, &n))
                return e->have_anchor ? e->last_t : (int64_t)mono_usec;
        int r = -E2BIG;
        if (n < sizeof buf) {
                memcpy(buf, s, n);
                buf[n] = '\0';
                r = marker_parse_time(buf, e->job->timestamp.format, &ts);
        }
        if (r < 0) {
                if (e->ts_unreadable++ == 0)
                        snprintf(e->ts_sample, sizeof e->ts_sample, "%.*s",
                                 (int)MIN(n, sizeof e->ts_sample - 1), s);
                return e->have_anchor ? e->last_t : (int64_t)mono_usec;
        }
        e->ts_read++;
        int64_t t = r == 1 ? clock_place(e, (int64_t)ts) : (int64_t)ts;
        if (!e->have_anchor) {
                e->anchor = (int64_t)mono_usec - t;
                e->have_anchor = true;
        }
        e->last_t = t + e->anchor;
        return e->last_t;
}

int marker_engine_feed(MarkerEngine *e, const char *line, size_t len, uint64_t mono_usec, MarkerCpuFn cpu,
                       void *userdata, char *ret_change, size_t change_len) {
        bool have_cpu = false, changed = false;
        uint64_t cpu_now = 0;
        const char *first_change = NULL, *first_how = NULL;

        e->lines++;
        int64_t t = e->ts_mode ? line_time(e, line, len, mono_usec) : (int64_t)mono_usec;
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
                p->start_t = t;
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
        /* Timestamps may run ahead of the arrival clock (a log with whole seconds, or a
         * replay, whose arrival clock stays at 0): the job ends after its last line. */
        int64_t t_end = (int64_t)end_usec;
        if (e->ts_mode && e->have_anchor)
                t_end = MAX(t_end, e->last_t);
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
                                if (!e->phases[i].done[k].emitted &&
                                    (!bp || e->phases[i].done[k].start_t < bp->done[bk].start_t)) {
                                        bp = &e->phases[i];
                                        bk = k;
                                }
                PhaseInstance *in = &bp->done[bk];
                PhaseResult *pr = job_result_add_phase(res);
                if (!pr)
                        return -ENOMEM;
                pr->name = strdup(bp->spec->name);
                /* A log whose times run backwards gives no negative durations. */
                int64_t base = (int64_t)start_usec;
                pr->start_s = in->start_t >= base ? (double)(in->start_t - base) / USEC_PER_SEC : 0;
                pr->wall_s = in->end_t >= in->start_t ? (double)(in->end_t - in->start_t) / USEC_PER_SEC : 0;
                pr->cpu_s = in->end_cpu >= in->start_cpu
                                    ? (double)(in->end_cpu - in->start_cpu) / USEC_PER_SEC
                                    : -1;
                pr->unfinished = in->unfinished;
                in->emitted = true;
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

void marker_engine_timestamps(const MarkerEngine *e, uint64_t *ret_read, uint64_t *ret_unreadable,
                              const char **ret_sample) {
        *ret_read = e->ts_read;
        *ret_unreadable = e->ts_unreadable;
        *ret_sample = e->ts_unreadable ? e->ts_sample : NULL;
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
