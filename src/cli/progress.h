/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "exec/exec.h"
#include "result/result.h"

/* The run's live display. On a TTY: a block redrawn in place (a header with done/total,
 * failures, elapsed and ETA, then one line per running job: name, cores, phase,
 * elapsed, memory vs limit), with event lines scrolling above it. Elsewhere (CI,
 * `| tee`): one plain line per event and a heartbeat line every heartbeat_usec. */
typedef struct Progress {
        FILE *out;
        bool quiet, tty, color;
        const char *name;
        const char *results_dir;  /* for a failed job's stderr tail; NULL: not shown */
        uint64_t heartbeat_usec;  /* plain mode */
        uint64_t last_heartbeat_usec, last_draw_usec;
        unsigned drawn_lines;     /* TTY block currently on screen */
        /* ETA: expected seconds per job name, from earlier runs of it; an open-addressing
         * table (n_eta of eta_cap used, eta_cap a power of two), so a run of 10,000 jobs
         * looks names up in constant time. eta_sum/eta_known: the mean of the known ones. */
        struct ProgressEta *eta;
        size_t n_eta, eta_cap, eta_known;
        double eta_sum;
        double done_wall_sum;
        size_t done_wall_n;
        unsigned slots;           /* how many jobs run at once, for the fallback ETA */
        ExecEvent last;           /* last heartbeat, for redraws after an event line */
        ExecJobView running[64];
        size_t n_running;
        bool have_last;
        char *last_phase[64];
} Progress;

void progress_init(Progress *p, FILE *out, const char *name, bool quiet);
/* Learns job durations from an earlier result (same job names) for the ETA. */
void progress_learn(Progress *p, const Result *earlier);
void progress_observer(const ExecEvent *ev, void *userdata);
/* Clears the live block (before the summary is printed). */
void progress_finish(Progress *p);
void progress_done(Progress *p);
/* "ETA 1m20s", "ETA unknown": remaining seconds or < 0 when unknown. Pure, tested. */
double progress_eta(const Progress *p, const ExecEvent *ev);
