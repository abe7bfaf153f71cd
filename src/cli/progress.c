/* SPDX-License-Identifier: MIT */
#include "cli/progress.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/parse.h"

void progress_init(Progress *p, FILE *out, const char *name, bool quiet) {
        const char *t = getenv("TERM");
        *p = (Progress){
                .out = out,
                .quiet = quiet,
                .tty = isatty(fileno(out)) && !(t && streq(t, "dumb")) && !arg_no_live,
                .color = use_color(fileno(out)),
                .name = name,
                .heartbeat_usec = 10 * USEC_PER_SEC,
                .slots = 1,
        };
}

typedef struct ProgressEta {
        char *name; /* NULL: a free slot */
        double secs; /* < 0: not known yet */
} ProgressEta;

/* FNV-1a */
static size_t eta_hash(const char *s) {
        uint64_t h = UINT64_C(1469598103934665603);
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
        return (size_t)h;
}

static ProgressEta *eta_find(ProgressEta *t, size_t cap, const char *name) {
        for (size_t i = eta_hash(name) & (cap - 1);; i = (i + 1) & (cap - 1))
                if (!t[i].name || streq(t[i].name, name))
                        return &t[i];
}

static const ProgressEta *eta_lookup(const Progress *p, const char *name) {
        if (p->eta_cap == 0)
                return NULL;
        const ProgressEta *e = eta_find(p->eta, p->eta_cap, name);
        return e->name ? e : NULL;
}

static ProgressEta *eta_slot(Progress *p, const char *name) {
        if (2 * (p->n_eta + 1) > p->eta_cap) {
                size_t cap = p->eta_cap ? 2 * p->eta_cap : 64;
                ProgressEta *t = calloc(cap, sizeof *t);
                if (!t)
                        return NULL;
                for (size_t i = 0; i < p->eta_cap; i++)
                        if (p->eta[i].name)
                                *eta_find(t, cap, p->eta[i].name) = p->eta[i];
                free(p->eta);
                p->eta = t;
                p->eta_cap = cap;
        }
        ProgressEta *e = eta_find(p->eta, p->eta_cap, name);
        if (!e->name) {
                e->name = strdup(name);
                if (!e->name)
                        return NULL;
                e->secs = -1;
                p->n_eta++;
        }
        return e;
}

static void learn_one(Progress *p, const char *name, double wall) {
        ProgressEta *e = eta_slot(p, name);
        if (!e)
                return;
        if (e->secs < 0)
                p->eta_known++;
        else
                p->eta_sum -= e->secs;
        /* Exponential smoothing: recent repetitions count more, one outlier less. */
        e->secs = e->secs < 0 ? wall : 0.5 * e->secs + 0.5 * wall;
        p->eta_sum += e->secs;
}

void progress_learn(Progress *p, const Result *earlier) {
        for (size_t i = 0; earlier && i < earlier->n_runs; i++)
                for (size_t k = 0; k < earlier->runs[i].n_jobs; k++) {
                        const JobResult *j = &earlier->runs[i].jobs[k];
                        if (j->reason == REASON_EXIT && j->wall_s > 0)
                                learn_one(p, j->name, j->wall_s);
                }
}

double progress_eta(const Progress *p, const ExecEvent *ev) {
        double mean = -1;
        if (p->done_wall_n > 0)
                mean = p->done_wall_sum / (double)p->done_wall_n;
        else if (p->eta_known > 0)
                mean = p->eta_sum / (double)p->eta_known;
        double work = 0;
        for (size_t i = 0; i < ev->n_running; i++) {
                const ProgressEta *e = eta_lookup(p, ev->running[i].name);
                double exp = e ? e->secs : -1;
                if (exp < 0)
                        exp = mean;
                if (exp < 0)
                        return -1;
                work += exp > ev->running[i].elapsed_s ? exp - ev->running[i].elapsed_s : 0;
        }
        size_t waiting = ev->jobs_total > ev->jobs_done + ev->n_running ? ev->jobs_total - ev->jobs_done - ev->n_running
                                                                        : 0;
        if (waiting > 0) {
                if (mean < 0)
                        return -1;
                work += (double)waiting * mean;
        }
        return work / (p->slots ? p->slots : 1);
}

static const char *fmt_secs(char *buf, size_t n, double s) {
        return format_duration(buf, n, s < 0 ? 0 : (uint64_t)(s * USEC_PER_SEC));
}

static void clear_block(Progress *p) {
        if (p->tty && p->drawn_lines > 0) {
                fprintf(p->out, "\033[%uA\033[J", p->drawn_lines);
                p->drawn_lines = 0;
        }
}

static void draw_block(Progress *p) {
        if (!p->tty || !p->have_last)
                return;
        const ExecEvent *ev = &p->last;
        char el[FORMAT_DURATION_MAX], eta[FORMAT_DURATION_MAX], mem[FORMAT_SIZE_MAX], lim[FORMAT_SIZE_MAX];
        double e = progress_eta(p, ev);
        const char *b = p->color ? "\033[1m" : "", *off = p->color ? "\033[0m" : "";
        fprintf(p->out, "%s%s%s  %zu/%zu done", b, p->name ? p->name : "corun", off, ev->jobs_done, ev->jobs_total);
        if (ev->jobs_failed)
                fprintf(p->out, ", %s%zu failed%s", p->color ? "\033[31m" : "", ev->jobs_failed, off);
        fprintf(p->out, "  elapsed %s  ", fmt_secs(el, sizeof el, ev->t_s));
        if (e < 0)
                fputs("ETA unknown\n", p->out);
        else
                fprintf(p->out, "ETA %s\n", fmt_secs(eta, sizeof eta, e));
        unsigned lines = 1;
        for (size_t i = 0; i < p->n_running; i++) {
                const ExecJobView *v = &p->running[i];
                fprintf(p->out, "  %-20.20s cpus %-8.8s %-14.14s %9s  %s", v->name, v->cpus ? v->cpus : "-",
                        v->phase ? v->phase : "", fmt_secs(el, sizeof el, v->elapsed_s),
                        format_size(mem, sizeof mem, v->memory_current));
                if (v->memory_max != LIMIT_MAX && v->memory_max)
                        fprintf(p->out, " / %s", format_size(lim, sizeof lim, v->memory_max));
                if (v->n_gpus) {
                        fprintf(p->out, "  gpu %.0f%%", 100 * v->gpu_share);
                        if (v->gpu_cap > 0)
                                fprintf(p->out, " of %.0f%%", 100 * v->gpu_cap * v->n_gpus);
                        fprintf(p->out, " %s", format_size(lim, sizeof lim, v->gpu_memory));
                        if (v->gpu_memory_max)
                                fprintf(p->out, " / %s", format_size(lim, sizeof lim, v->gpu_memory_max * v->n_gpus));
                }
                if (v->frozen_s > 0)
                        fprintf(p->out, "  %sfrozen%s %s", v->frozen && p->color ? "\033[35m" : "",
                                v->frozen && p->color ? "\033[0m" : "", fmt_secs(el, sizeof el, v->frozen_s));
                fputc('\n', p->out);
                lines++;
        }
        p->drawn_lines = lines;
        fflush(p->out);
}

/* An event line: above the live block on a TTY, a plain line elsewhere. */
static void event_line(Progress *p, double t, const char *fmt, ...) _printf_(3, 4);
static void event_line(Progress *p, double t, const char *fmt, ...) {
        va_list ap;
        clear_block(p);
        fprintf(p->out, "[%8.2fs] ", t);
        va_start(ap, fmt);
        vfprintf(p->out, fmt, ap);
        va_end(ap);
        fputc('\n', p->out);
        draw_block(p);
        fflush(p->out);
}

static void remember_running(Progress *p, const ExecEvent *ev) {
        p->last = *ev;
        p->n_running = MIN(ev->n_running, ELEMENTSOF(p->running));
        for (size_t i = 0; i < p->n_running; i++) {
                p->running[i] = ev->running[i];
                /* The views' strings live in exec; keep the pointers only until the next
                 * heartbeat, which is when exec may free them. */
        }
        p->last.running = p->running;
        p->have_last = true;
        if (ev->n_running > p->slots)
                p->slots = (unsigned)ev->n_running;
}

/* The last lines (at most PROGRESS_TAIL_LINES) of a failed job's stderr, under its end
 * line, as a failed start shows its error. */
#define PROGRESS_TAIL_LINES 5
static void stderr_tail(Progress *p, const char *text) {
        size_t len = strlen(text);
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
                len--;
        size_t start = len;
        for (int lines = 0; start > 0; start--)
                if (text[start - 1] == '\n' && ++lines == PROGRESS_TAIL_LINES)
                        break;
        clear_block(p);
        for (const char *s = text + start, *end = text + len; s < end;) {
                const char *nl = memchr(s, '\n', (size_t)(end - s));
                size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);
                fprintf(p->out, "             | %.*s\n", (int)MIN(l, (size_t)200), s);
                s += l + 1;
        }
        fflush(p->out);
        draw_block(p);
}

static void job_end_line(Progress *p, const ExecEvent *ev) {
        const JobResult *r = ev->job->result;
        char wall[FORMAT_DURATION_MAX], peak[FORMAT_SIZE_MAX], how[200];
        if (!r)
                return;
        bool ok = r->reason == REASON_EXIT && r->exit_code == 0;
        if (r->reason == REASON_EXIT && r->wall_s > 0) {
                p->done_wall_sum += r->wall_s;
                p->done_wall_n++;
                learn_one(p, r->name, r->wall_s);
        }
        if (r->reason == REASON_FAILED_TO_START)
                snprintf(how, sizeof how, "failed-to-start (%s)", r->start_error ? r->start_error : "?");
        else if (r->signal)
                snprintf(how, sizeof how, "%s (signal %d, %s)", job_reason_to_string(r->reason), r->signal,
                         strsignal(r->signal));
        else
                snprintf(how, sizeof how, "%s %d", job_reason_to_string(r->reason), r->exit_code);
        /* The job is gone: drop it from the block right away. */
        for (size_t i = 0; i < p->n_running; i++)
                if (streq(p->running[i].name, r->name)) {
                        p->running[i] = p->running[--p->n_running];
                        break;
                }
        p->last.jobs_done = ev->jobs_done;
        p->last.jobs_failed = ev->jobs_failed;
        p->last.n_running = p->n_running;
        event_line(p, ev->t_s, "end    %s: %s%s%s, wall %s, cpu %.2fs, peak %s", r->name,
                   p->color ? (ok ? "\033[32m" : "\033[31m") : "", how, p->color ? "\033[0m" : "",
                   format_duration(wall, sizeof wall, (uint64_t)(r->wall_s * USEC_PER_SEC)), r->user_s + r->sys_s,
                   format_size(peak, sizeof peak, r->peak_bytes ? r->peak_bytes : r->rss_peak_bytes));
        if (!ok && ev->message)
                stderr_tail(p, ev->message);
}


void progress_observer(const ExecEvent *ev, void *userdata) {
        Progress *p = userdata;
        char mem[FORMAT_SIZE_MAX];

        if (ev->kind == EXEC_EVENT_WARNING) {
                clear_block(p);
                log_warning("%s", ev->message);
                draw_block(p);
                return;
        }
        if (p->quiet) {
                /* Quiet still says what failed, and why. */
                if (ev->kind == EXEC_EVENT_JOB_END && ev->job->result &&
                    !(ev->job->result->reason == REASON_EXIT && ev->job->result->exit_code == 0))
                        job_end_line(p, ev);
                return;
        }
        switch (ev->kind) {
        case EXEC_EVENT_RUN_START:
                if (ev->n_runs > 1)
                        event_line(p, ev->t_s, "run %zu/%zu: %s", ev->run_index + 1, ev->n_runs,
                                   ev->message ? ev->message : "");
                break;
        case EXEC_EVENT_JOB_QUEUED:
                event_line(p, ev->t_s, "queued %s (waiting for cores or memory)", ev->job->name);
                break;
        case EXEC_EVENT_JOB_START:
                event_line(p, ev->t_s, "start  %s (cpus %s, memory %s)", ev->job->name,
                           ev->job->cpus ? ev->job->cpus : "?",
                           ev->job->memory_max == LIMIT_MAX ? "unlimited"
                                                             : format_size(mem, sizeof mem, ev->job->memory_max));
                break;
        case EXEC_EVENT_JOB_PHASE:
                event_line(p, ev->t_s, "phase  %s: %s", ev->job->name, ev->message ? ev->message : "");
                break;
        case EXEC_EVENT_JOB_END:
                job_end_line(p, ev);
                break;
        case EXEC_EVENT_STOPPING:
                event_line(p, ev->t_s, "%s: stopping every job (again to kill at once)",
                           ev->message ? ev->message : "interrupt");
                break;
        case EXEC_EVENT_HEARTBEAT: {
                uint64_t now = (uint64_t)(ev->t_s * USEC_PER_SEC);
                remember_running(p, ev);
                if (p->tty) {
                        clear_block(p);
                        draw_block(p);
                        break;
                }
                if (now - p->last_heartbeat_usec < p->heartbeat_usec)
                        break;
                p->last_heartbeat_usec = now;
                char eta[FORMAT_DURATION_MAX];
                double e = progress_eta(p, ev);
                fprintf(p->out, "[%8.2fs] %zu/%zu done, %zu failed, %zu running, ETA %s:", ev->t_s, ev->jobs_done,
                        ev->jobs_total, ev->jobs_failed, ev->n_running,
                        e < 0 ? "unknown" : fmt_secs(eta, sizeof eta, e));
                for (size_t i = 0; i < ev->n_running; i++) {
                        fprintf(p->out, " %s%s%s %.0fs %s", ev->running[i].name, ev->running[i].phase ? "/" : "",
                                ev->running[i].phase ? ev->running[i].phase : "", ev->running[i].elapsed_s,
                                format_size(mem, sizeof mem, ev->running[i].memory_current));
                        if (ev->running[i].n_gpus)
                                fprintf(p->out, " gpu %.0f%%", 100 * ev->running[i].gpu_share);
                        if (ev->running[i].n_gpus && ev->running[i].gpu_cap > 0)
                                fprintf(p->out, " of %.0f%%", 100 * ev->running[i].gpu_cap * ev->running[i].n_gpus);
                        if (ev->running[i].frozen_s > 0)
                                fprintf(p->out, " frozen %.1fs", ev->running[i].frozen_s);
                }
                fputc('\n', p->out);
                fflush(p->out);
                break;
        }
        default:
                break;
        }
}

void progress_finish(Progress *p) {
        clear_block(p);
        p->have_last = false;
        fflush(p->out);
}

void progress_done(Progress *p) {
        for (size_t i = 0; i < p->eta_cap; i++)
                free(p->eta[i].name);
        free(p->eta);
        p->eta = NULL;
        p->n_eta = p->eta_cap = p->eta_known = 0;
        p->eta_sum = 0;
}
