/* SPDX-License-Identifier: MIT */
#pragma once

/* The priority protector's decisions (docs/priorities.md). Pure: the runner's event loop
 * feeds it, every interval, what it read of each running job (memory use, cumulative
 * memory stall, cumulative memory events) and carries out the freezes and thaws it asks
 * for. Two reasons to freeze a job, both in freeze quanta:
 *
 *   - its memory is above its high mark and the kernel cannot throttle it there (cgroup
 *     v1 has no memory.high): the protector emulates the mark with a duty cycle, freezing
 *     the job for a part of every interval that grows with how far above the mark it is
 *     (PROTECT_FULL_OVERAGE above: max_share of the interval), much as the kernel puts
 *     a task over memory.high to sleep a little on every allocation;
 *   - a HIGH job stalls on memory (PSI "some" share of the interval above the
 *     threshold, or, without PSI, its memory.events high/max or v1 failcnt rising):
 *     every LOW job is frozen for a quantum, and thawed at the end of it (or as soon as
 *     that HIGH job has ended); while the HIGH job keeps stalling the next quantum follows.
 *
 * HIGH jobs are never frozen. No job is frozen more than max_share of the time: after a
 * freeze of d it runs at least d·(1 − max_share)/max_share before the next one. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "spec/spec.h"

typedef struct ProtectConfig {
        double threshold;       /* stall share of an interval that counts as stalling */
        uint64_t quantum_usec;  /* longest single freeze */
        double max_share;       /* (0, 1) */
        bool emulate_high;      /* freeze jobs above their high mark (v1) */
        uint64_t interval_usec;   /* how often the protector looks */
        uint64_t min_window_usec; /* shortest window a stall share is measured over */
} ProtectConfig;
void protect_config_from_spec(const ProtectorSpec *s, bool emulate_high, ProtectConfig *ret);

/* Overage (usage above the mark, as a fraction of the mark) from which a job is frozen
 * max_share of every interval; below it, proportionally less. */
#define PROTECT_FULL_OVERAGE 0.05

typedef enum ProtectReason {
        PROTECT_REASON_NONE,
        PROTECT_REASON_HIGH_MARK, /* above its (emulated) memory.high */
        PROTECT_REASON_STALL,     /* a HIGH job stalls on memory */
} ProtectReason;

typedef struct ProtectJob {
        /* Inputs, set by the caller before every tick. */
        Priority priority;
        bool running;
        uint64_t memory_current;
        uint64_t memory_high;    /* the high mark to emulate; UINT64_MAX: none */
        bool has_stall;          /* stall_usec is meaningful (PSI) */
        uint64_t stall_usec;     /* cumulative memory stall ("some" total) */
        uint64_t pressure_count; /* cumulative memory.events high + max, or v1 failcnt */

        /* State, the protector's own (zero-initialise). */
        bool primed; /* the counters below hold a previous reading */
        uint64_t last_stall_usec, last_pressure_count, last_tick;
        bool frozen;
        ProtectReason frozen_for;
        size_t frozen_cause; /* PROTECT_REASON_STALL: the HIGH job's index; thawed early when it ends */
        uint64_t frozen_since, frozen_until;
        uint64_t not_before;       /* no new freeze before this (max_share) */
        uint64_t frozen_total_usec;
        unsigned n_freezes;
        /* What the last tick measured, for messages. */
        double stall_share; /* share of the last window stalled (with PSI) */
        double rank;        /* how bad: the share, or without PSI the count's rise */
        bool stalled;
} ProtectJob;

typedef enum ProtectActionKind {
        PROTECT_FREEZE,
        PROTECT_THAW,
} ProtectActionKind;

typedef struct ProtectAction {
        ProtectActionKind kind;
        size_t job;        /* index into the jobs array */
        size_t cause;      /* PROTECT_REASON_STALL: the stalling HIGH job's index */
        ProtectReason reason;
        uint64_t duration_usec; /* FREEZE: planned; THAW: how long it was frozen */
        double overage;         /* PROTECT_REASON_HIGH_MARK: (usage − mark) / mark */
} ProtectAction;

/* One look at the jobs at time `now` (monotonic usec). Writes up to 2·n actions into
 * `out` (each job is thawed and frozen at most once per tick) and returns their count.
 * Updates each job's state as if the actions were carried out; a caller whose freeze
 * failed calls protect_job_forget_freeze(). */
size_t protect_tick(const ProtectConfig *c, ProtectJob *jobs, size_t n, uint64_t now, ProtectAction *out);
/* A thaw could not be applied: the job is still frozen, and the next tick thaws it again. */
void protect_job_thaw_failed(ProtectJob *j, ProtectReason reason, uint64_t now);
/* The job ended or a freeze could not be applied: clear the frozen state. */
void protect_job_forget_freeze(ProtectJob *j, uint64_t now);
/* Before a job's group goes away: a thaw action if it is frozen (true), for the caller to
 * apply and record. */
bool protect_job_release(ProtectJob *j, size_t index, uint64_t now, ProtectAction *ret);
/* When the next tick must come at the latest (UINT64_MAX: none): a frozen job's thaw, or
 * the end of a thawed job's rest, so that a duty cycle keeps its share. */
uint64_t protect_next_deadline(const ProtectJob *jobs, size_t n, uint64_t now);

/* ---- the static knobs of a priority class ---- */
#define PROTECT_WEIGHT_HIGH 400 /* cpu.weight (v1: cpu.shares 4096) unless cpu_weight is set */
#define PROTECT_WEIGHT_LOW 25   /* (v1: cpu.shares 256) */
/* A LOW job with a memory limit and no memory_high gets this share of its limit as its
 * high mark. */
#define PROTECT_LOW_HIGH_SHARE 0.75

/* Adjusts limits resolved from the job's keys for its class:
 *   high:   memory_high lifted (max); memory_low = its memory limit (max without one)
 *           unless memory_low or memory_min is set; cpu_weight 400 unless set;
 *   low:    memory_high = 3/4 of its memory limit unless set; memory_low 0; cpu_weight 25
 *           unless set;
 *   normal: unchanged.
 * cpu_weight_set/memory_*_set: whether the user gave the value (then it stays). */
void protect_static_limits(Priority p, const Limits *given, CgLimits *l);
/* A job's limits as the backend applies them: its resolved Limits with its class's
 * static knobs (protect_static_limits); cpus and mems are left empty (inherit) for the
 * caller to fill from the job's assignment. Used by exec and `corun plan`. */
void protect_job_limits(const Limits *l, CgLimits *ret);
