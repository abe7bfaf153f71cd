/* SPDX-License-Identifier: MIT */
/* The priority protector's decisions; protect.h says what they are. Pure. */
#include "protect/protect.h"

#include "util/macros.h"

/* Freezes shorter than this are not worth two cgroup writes (the kernel skips
 * memory.high penalties under 10 ms for the same reason). */
#define MIN_FREEZE_USEC (10 * USEC_PER_MSEC)

void protect_config_from_spec(const ProtectorSpec *s, bool emulate_high, ProtectConfig *ret) {
        *ret = (ProtectConfig){
                .threshold = s->threshold,
                .quantum_usec = s->quantum_usec,
                .max_share = s->max_share > 0 && s->max_share < 1 ? s->max_share : 0.8,
                .emulate_high = emulate_high,
                .interval_usec = s->interval_usec,
                .min_window_usec = s->interval_usec / 2,
        };
}

/* A stall share from two readings of a cumulative counter; 0 when the counter went
 * backwards (a new group) or no time passed. */
static double share_of(uint64_t before, uint64_t after, uint64_t elapsed) {
        if (after <= before || elapsed == 0)
                return 0;
        double s = (double)(after - before) / (double)elapsed;
        return s > 1 ? 1 : s;
}

/* Measures every running job against its previous reading; returns the index of the
 * HIGH job stalling worst, or n when none stalls. */
static size_t measure(const ProtectConfig *c, ProtectJob *jobs, size_t n, uint64_t now) {
        size_t worst = n;
        double worst_rank = -1;

        for (size_t i = 0; i < n; i++) {
                ProtectJob *j = &jobs[i];
                if (!j->running) {
                        j->primed = j->stalled = false;
                        continue;
                }
                uint64_t elapsed = now > j->last_tick ? now - j->last_tick : 0;
                /* A wake-up to thaw someone soon after a tick: too short a window to say
                 * anything; the last verdict stands. */
                if (j->primed && elapsed < c->min_window_usec)
                        goto rank;
                if (j->primed) {
                        uint64_t rise = j->pressure_count > j->last_pressure_count
                                                ? j->pressure_count - j->last_pressure_count
                                                : 0;
                        j->stall_share = j->has_stall ? share_of(j->last_stall_usec, j->stall_usec, elapsed) : 0;
                        j->stalled = j->has_stall ? j->stall_share > c->threshold : rise > 0;
                        /* Without PSI only the count says anything: rank by it. */
                        j->rank = j->has_stall ? j->stall_share : (double)rise;
                }
                j->primed = true;
                j->last_tick = now;
                j->last_stall_usec = j->stall_usec;
                j->last_pressure_count = j->pressure_count;
        rank:
                if (j->priority == PRIORITY_HIGH && j->stalled && j->rank > worst_rank) {
                        worst = i;
                        worst_rank = j->rank;
                }
        }
        return worst;
}

static void end_freeze(const ProtectConfig *c, ProtectJob *j, uint64_t now, ProtectAction *a, size_t index) {
        uint64_t d = now > j->frozen_since ? now - j->frozen_since : 0;
        *a = (ProtectAction){.kind = PROTECT_THAW, .job = index, .reason = j->frozen_for, .duration_usec = d};
        j->frozen = false;
        j->frozen_for = PROTECT_REASON_NONE;
        j->frozen_total_usec += d;
        /* Run at least d·(1 − s)/s before the next freeze: frozen at most s of the time. */
        j->not_before = now + (uint64_t)((double)d * (1 - c->max_share) / c->max_share + 0.5);
}

size_t protect_tick(const ProtectConfig *c, ProtectJob *jobs, size_t n, uint64_t now, ProtectAction *out) {
        size_t k = 0;
        size_t stalling = measure(c, jobs, n, now);

        for (size_t i = 0; i < n; i++) {
                ProtectJob *j = &jobs[i];
                if (!j->running || !j->frozen)
                        continue;
                /* A quantum for a HIGH job that has ended is not worth waiting out. */
                bool cause_gone = j->frozen_for == PROTECT_REASON_STALL &&
                                  (j->frozen_cause >= n || !jobs[j->frozen_cause].running);
                if (now < j->frozen_until && !cause_gone)
                        continue;
                end_freeze(c, j, now, &out[k++], i);
        }

        for (size_t i = 0; i < n; i++) {
                ProtectJob *j = &jobs[i];
                if (!j->running || j->frozen || j->priority == PRIORITY_HIGH || now < j->not_before)
                        continue;

                ProtectAction a = {.kind = PROTECT_FREEZE, .job = i};
                if (stalling < n && j->priority == PRIORITY_LOW) {
                        a.reason = PROTECT_REASON_STALL;
                        a.cause = stalling;
                        a.duration_usec = c->quantum_usec;
                } else if (c->emulate_high && j->memory_high != UINT64_MAX && j->memory_high > 0 &&
                           j->memory_current > j->memory_high) {
                        a.reason = PROTECT_REASON_HIGH_MARK;
                        a.overage = (double)(j->memory_current - j->memory_high) / (double)j->memory_high;
                        /* A duty cycle, like the kernel's short penalty sleeps: a part of
                         * every interval, up to max_share of it. */
                        double part = MIN(1.0, a.overage / PROTECT_FULL_OVERAGE);
                        a.duration_usec = (uint64_t)(part * c->max_share * (double)c->interval_usec + 0.5);
                } else
                        continue;
                if (a.duration_usec < MIN_FREEZE_USEC)
                        continue;

                j->frozen = true;
                j->frozen_for = a.reason;
                j->frozen_cause = a.cause;
                j->frozen_since = now;
                j->frozen_until = now + a.duration_usec;
                j->n_freezes++;
                out[k++] = a;
        }
        return k;
}

void protect_job_thaw_failed(ProtectJob *j, ProtectReason reason, uint64_t now) {
        /* end_freeze counted the time and set a rest; undo both: it is still frozen. */
        j->frozen = true;
        j->frozen_for = reason;
        j->frozen_until = now;
        j->not_before = now;
        j->frozen_total_usec -= MIN(j->frozen_total_usec, now > j->frozen_since ? now - j->frozen_since : 0);
}

void protect_job_forget_freeze(ProtectJob *j, uint64_t now) {
        if (j->frozen)
                j->frozen_total_usec += now > j->frozen_since ? now - j->frozen_since : 0;
        j->frozen = false;
        j->frozen_for = PROTECT_REASON_NONE;
}

bool protect_job_release(ProtectJob *j, size_t index, uint64_t now, ProtectAction *ret) {
        if (!j->frozen)
                return false;
        ProtectConfig c = {.max_share = 0.5};
        end_freeze(&c, j, now, ret, index);
        return true;
}

uint64_t protect_next_deadline(const ProtectJob *jobs, size_t n, uint64_t now) {
        uint64_t t = UINT64_MAX;
        for (size_t i = 0; i < n; i++) {
                if (!jobs[i].running)
                        continue;
                if (jobs[i].frozen)
                        t = MIN(t, jobs[i].frozen_until);
                else if (jobs[i].not_before > now)
                        t = MIN(t, jobs[i].not_before); /* free to be frozen again then */
        }
        return t;
}

void protect_static_limits(Priority p, const Limits *given, CgLimits *l) {
        switch (p) {
        case PRIORITY_HIGH:
                l->memory_high = LIMIT_MAX;
                if (!given->memory_low_set && !given->memory_min_set)
                        l->memory_low = l->memory_max;
                if (given->cpu_weight == 0)
                        l->cpu_weight = PROTECT_WEIGHT_HIGH;
                break;
        case PRIORITY_LOW:
                if (!given->memory_high_set && l->memory_max != LIMIT_MAX)
                        l->memory_high = (uint64_t)((double)l->memory_max * PROTECT_LOW_HIGH_SHARE);
                if (!given->memory_low_set)
                        l->memory_low = 0;
                if (given->cpu_weight == 0)
                        l->cpu_weight = PROTECT_WEIGHT_LOW;
                break;
        default:
                break;
        }
}

void protect_job_limits(const Limits *l, CgLimits *ret) {
        cg_limits_init(ret);
        ret->memory_max = l->memory_max;
        ret->memory_high = l->memory_high;
        ret->memory_low = l->memory_low;
        ret->memory_min = l->memory_min;
        ret->swap_max = l->swap_max;
        ret->pids_max = l->pids_max;
        ret->cpu_weight = l->cpu_weight;
        ret->cpu_max_pct = l->cpu_max_pct;
        protect_static_limits(l->priority, l, ret);
}
