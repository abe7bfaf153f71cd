/* SPDX-License-Identifier: MIT */
/* protector.c: the priority protector's glue (docs/priorities.md). src/protect decides
 * from plain numbers; this reads those numbers from the jobs' groups at its own timer,
 * applies its freezes and thaws, records them as result events, and releases a job
 * (thawed, forgotten) before it stops, exits or loses its group. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "exec/exec-internal.h"
#include "util/parse.h"

static void protector_record(Runner *R, Job *j, const ProtectAction *a, uint64_t now) {
        const ProtectJob *p = &R->prot[j->index];
        char detail[320], b1[32], b2[32];

        if (a->kind == PROTECT_THAW) {
                size_t e = R->prot_event[j->index];
                if (e < R->result->n_events)
                        R->result->events[e].duration_s = (double)a->duration_usec / USEC_PER_SEC;
                R->prot_event[j->index] = SIZE_MAX;
                R->result_dirty = true;
                return;
        }
        if (R->result->n_events >= EXEC_PROTECT_MAX_EVENTS) {
                R->n_events_dropped++;
                return;
        }
        if (a->reason == PROTECT_REASON_STALL) {
                const ProtectJob *c = &R->prot[a->cause];
                const char *who = R->jobs[a->cause].pj->name;
                if (c->has_stall)
                        snprintf(detail, sizeof detail,
                                 "high-priority job '%s' stalled on memory %.0f%% of the time (threshold "
                                 "%.0f%%)",
                                 who, c->stall_share * 100, R->pcfg.threshold * 100);
                else
                        snprintf(detail, sizeof detail,
                                 "high-priority job '%s' hit its memory limits (%.0f new memory events)",
                                 who, c->rank);
        } else
                snprintf(detail, sizeof detail, "memory %s is %.0f%% above its high mark %s",
                         format_size(b1, sizeof b1, p->memory_current), a->overage * 100,
                         format_size(b2, sizeof b2, p->memory_high));
        EventResult *ev = result_add_event(R->result);
        if (!ev)
                return;
        ev->t_s = exec_since(R, now);
        ev->job = strdup(j->pj->name);
        ev->action = strdup("freeze");
        ev->detail = strdup(detail);
        ev->run = (int)j->run_index;
        ev->duration_s = (double)a->duration_usec / USEC_PER_SEC;
        R->prot_event[j->index] = R->result->n_events - 1;
        R->result_dirty = true;
}

static void protector_apply(Runner *R, const ProtectAction *a, uint64_t now) {
        Job *j = &R->jobs[a->job];
        bool freeze = a->kind == PROTECT_FREEZE;
        int r = j->cg ? cg_freeze(j->cg, freeze) : -ENOENT;
        if (r < 0 && freeze) {
                protect_job_forget_freeze(&R->prot[a->job], now);
                R->prot[a->job].n_freezes--;
                if (!R->prot_warned)
                        exec_warn(R, "job '%s': the priority protector cannot freeze it: %s", j->pj->name,
                                  strerror(-r));
                R->prot_warned = true;
                return;
        }
        if (r < 0) {
                /* A job left frozen would never finish: still frozen as far as the
                 * protector knows, due now, so the next tick tries again. */
                protect_job_thaw_failed(&R->prot[a->job], a->reason, now);
                exec_warn(R, "job '%s': the priority protector cannot thaw it (trying again): %s",
                          j->pj->name, strerror(-r));
                return;
        }
        protector_record(R, j, a, now);
}

/* Before a job stops, exits or loses its group: thawed, and left alone from now on. */
void protector_release(Job *j) {
        Runner *R = j->R;
        ProtectAction a;
        if (!R || !R->prot || j->index >= R->n_jobs)
                return;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        if (protect_job_release(&R->prot[j->index], j->index, now, &a)) {
                int r = j->cg ? cg_freeze(j->cg, false) : 0;
                if (r < 0 && j->cg)
                        r = cg_freeze(j->cg, false);
                if (r < 0)
                        exec_warn(R, "job '%s': cannot thaw it: %s; it is killed frozen", j->pj->name,
                                  strerror(-r));
                protector_record(R, j, &a, now);
        }
        R->prot[j->index].running = false;
}

static void protector_arm(Runner *R, uint64_t now) {
        uint64_t next = now + R->o->spec->protector.interval_usec;
        next = MIN(next, protect_next_deadline(R->prot, R->n_jobs, now));
        next = MAX(next, now + 1);
        struct itimerspec its = {.it_value = {.tv_sec = (time_t)(next / USEC_PER_SEC),
                                              .tv_nsec = (long)(next % USEC_PER_SEC * NSEC_PER_USEC)}};
        timerfd_settime(R->protfd, TFD_TIMER_ABSTIME, &its, NULL);
}

void protector_on_tick(Runner *R, Job *unused) {
        uint64_t exp;
        ssize_t _unused_ rd = read(R->protfd, &exp, sizeof exp);
        if (!R->prot)
                return;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        for (size_t i = 0; i < R->n_jobs; i++) {
                Job *j = &R->jobs[i];
                ProtectJob *p = &R->prot[i];
                p->running = j->state == JOB_RUNNING && j->stop == STOP_NONE && j->cg;
                if (!p->running)
                        continue;
                sample_open_fds(j);
                if (j->mem_fd >= 0)
                        (void)cg_sample_read_memory(j->cg, j->mem_fd, &p->memory_current);
                else
                        p->memory_current = j->mem_current; /* none backend: the sampled RSS */
                CgPressure cp;
                if (p->priority == PRIORITY_HIGH && cg_read_memory_pressure(j->cg, &cp) >= 0) {
                        p->has_stall = cp.has_stall;
                        p->stall_usec = cp.stall_usec;
                        p->pressure_count = cp.count + j->press_events;
                }
        }
        size_t k = protect_tick(&R->pcfg, R->prot, R->n_jobs, now, R->prot_actions);
        for (size_t i = 0; i < k; i++)
                protector_apply(R, &R->prot_actions[i], now);
        protector_arm(R, now);
}

/* On for a run when asked, or (auto) when a job has a priority class or a high mark
 * the kernel will not enforce (v1, none). */
static bool protector_wanted(const Runner *R, const PlanRun *run) {
        ProtectorMode m = R->o->spec->protector.mode;
        if (m != PROTECTOR_AUTO)
                return m == PROTECTOR_ON;
        for (size_t i = 0; i < run->n_jobs; i++) {
                const Limits *l = &run->jobs[i].limits;
                if (l->priority != PRIORITY_NORMAL)
                        return true;
                if (l->memory_high_set && l->memory_high != LIMIT_MAX &&
                    cg_manager_backend(R->cgm) != BACKEND_V2)
                        return true;
        }
        return false;
}

int protector_begin(Runner *R, const PlanRun *run) {
        if (!protector_wanted(R, run))
                return 0;
        R->prot = calloc(run->n_jobs, sizeof *R->prot);
        R->prot_event = malloc(run->n_jobs * sizeof *R->prot_event);
        R->prot_actions = calloc(2 * run->n_jobs, sizeof *R->prot_actions);
        if (!R->prot || !R->prot_event || !R->prot_actions)
                return -ENOMEM;
        for (size_t i = 0; i < run->n_jobs; i++) {
                R->prot[i].priority = run->jobs[i].limits.priority;
                R->prot[i].memory_high = UINT64_MAX;
                R->prot_event[i] = SIZE_MAX;
        }
        protect_config_from_spec(&R->o->spec->protector, true, &R->pcfg);
        protector_arm(R, now_usec(CLOCK_MONOTONIC));
        return 0;
}

void protector_end(Runner *R) {
        struct itimerspec off = {0};
        if (R->protfd >= 0)
                timerfd_settime(R->protfd, 0, &off, NULL);
        free(R->prot);
        free(R->prot_event);
        free(R->prot_actions);
        R->prot = NULL;
        R->prot_event = NULL;
        R->prot_actions = NULL;
}

/* v1 without PSI: a HIGH job's memory pressure notifications, counted like memory events. */
void protector_on_pressure(Runner *R, Job *j) {
        uint64_t v;
        if (read(j->press_fd, &v, sizeof v) == (ssize_t)sizeof v)
                j->press_events += v;
}

/* A started job's part: its pressure notifications (a HIGH job without PSI) and the high
 * mark the kernel did not take, which the protector then emulates. */
void protector_job_started(Runner *R, Job *j, const CgLimits *lim) {
        /* A HIGH job's memory pressure without PSI (v1 on kernels built or booted without
         * it): the kernel's "medium" notifications count like memory events. */
        if (R->prot && j->pj->limits.priority == PRIORITY_HIGH && !cg_manager_has_psi(R->cgm) &&
            cg_open_pressure_eventfd(j->cg, "medium", &j->press_fd) >= 0 &&
            loop_add(R, j->press_fd, &j->s_press, protector_on_pressure, j) < 0) {
                close(j->press_fd);
                j->press_fd = -1;
        }
        /* A high mark the kernel did not take (v1 has no memory.high) is the protector's. */
        if (lim->memory_high != LIMIT_MAX && j->applied.memory_high == LIMIT_MAX) {
                if (R->prot)
                        R->prot[j->index].memory_high = lim->memory_high;
                else
                        exec_warn(
                                R,
                                "job '%s': memory_high is not enforced: this backend has no memory.high and "
                                "the priority protector is off",
                                j->pj->name);
        }
}
