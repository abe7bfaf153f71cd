/* SPDX-License-Identifier: MIT */
/* sample.c: what a job uses, read at every sample tick: the group's memory and CPU from
 * files kept open, PSS/RSS from smaps_rollup of each of its processes (re-read only when
 * the group's memory moved, see pss_due), peaks and sums for its result, and one line of
 * samples/<run>-<job>.csv per tick, the file created at the first sample. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "exec/exec-internal.h"
#include "result/samples.h"

/* The samples CSV (docs/results.md); report/ reads it back by these column names. */
/* PSS needs the kernel to walk every page table entry of every process (smaps_rollup):
 * for 64 jobs of 50 MiB that is about 1.5 ms each. PSS moves when the group's own memory
 * does, or when a process sharing its pages comes or goes. The first shows in the group's
 * usage, read at every tick: PSS is re-read when it moved by more than
 * PSS_REREAD_DELTA (no more often than a quarter of the job's age, at most 2 s
 * apart). The second, within a run, is a job starting or ending (jobs of one
 * run share binaries and libraries): every job's PSS is re-read at its next tick at least
 * PSS_SHARERS_MIN_USEC after its last read. Sharers outside the run are caught by a timer,
 * pss_every, which starts at PSS_REREAD_USEC and doubles (up to PSS_REREAD_MAX_USEC) each
 * time a timed re-read finds PSS where it was. */
#define PSS_REREAD_USEC (30 * USEC_PER_SEC)
#define PSS_REREAD_MAX_USEC (120 * USEC_PER_SEC)
#define PSS_SHARERS_MIN_USEC USEC_PER_SEC
#define PSS_MOVING_MAX_GAP_USEC (2 * USEC_PER_SEC)
#define PSS_MOVING_AGE_DIV 4
#define PSS_REREAD_DELTA_MIN (UINT64_C(1) << 20) /* bytes */
#define PSS_REREAD_DELTA_DIV 50                  /* 2 % of the group's memory */
static bool pss_moved(uint64_t mem, uint64_t at) {
        uint64_t d = mem > at ? mem - at : at - mem;
        return d > MAX(PSS_REREAD_DELTA_MIN, at / PSS_REREAD_DELTA_DIV);
}

static bool pss_due(const Runner *R, const Job *j, uint64_t mem, uint64_t now) {
        if (j->mem_fd < 0 || j->n_samples == 0 || now - j->pss_at_usec >= j->pss_every)
                return true;
        if (j->pss_sharers != R->sharers_changed && now - j->pss_at_usec >= PSS_SHARERS_MIN_USEC)
                return true;
        /* While the memory keeps moving (a job filling its heap), PSS follows it at a
         * resolution relative to the job's age: every tick early on, at least every 2 s
         * later (64 jobs filling 50 MiB each: about 10 re-reads per job instead of 36). The exact peak is the group's own counter; PSS is the sharing-aware view. */
        uint64_t age = now > j->sp.start_usec ? now - j->sp.start_usec : 0;
        return now - j->pss_at_usec >= MIN(PSS_MOVING_MAX_GAP_USEC, age / PSS_MOVING_AGE_DIV) &&
               pss_moved(mem, j->pss_at_mem);
}

/* A job whose CPU time has not moved at all since the last tick did not run: it cannot
 * have charged memory itself, so its memory is the last value read, re-read at least
 * every MEM_REREAD_IDLE_USEC for what happens to it from outside (reclaim, page cache
 * charged by others). For jobs that wait or sleep this halves the reads per tick. */
#define MEM_REREAD_IDLE_USEC USEC_PER_SEC
static bool memory_due(const Job *j, bool have_cpu, uint64_t cpu, uint64_t now) {
        return !have_cpu || j->n_samples == 0 || cpu != j->last_cpu ||
               now - j->mem_at_usec >= MEM_REREAD_IDLE_USEC;
}

/* The group's memory and CPU files, opened at the first read (a tick, a CPU-limit check,
 * the protector): most short jobs end before any and never need them. */
void sample_open_fds(Job *j) {
        if (j->sample_fds_opened || !j->cg)
                return;
        j->sample_fds_opened = true;
        (void)cg_open_sample_fds(j->cg, &j->mem_fd, &j->cpu_fd);
}

void sample_job(Runner *R, Job *j, uint64_t now) {
        uint64_t mem = 0, cpu = 0;

        sample_open_fds(j);
        bool have_cpu = j->cpu_fd >= 0 && cg_sample_read_cpu(j->cpu_fd, &cpu) >= 0;
        if (j->mem_fd >= 0 && memory_due(j, have_cpu, cpu, now)) {
                (void)cg_sample_read_memory(j->cg, j->mem_fd, &mem);
                j->mem_at_usec = now;
        } else
                mem = j->last_memory;
        j->last_cpu = cpu;
        j->last_memory = mem;
        if (pss_due(R, j, mem, now)) {
                /* A timed re-read that finds PSS where it was waits twice as long next. */
                bool timed = j->n_samples > 0 && !pss_moved(mem, j->pss_at_mem);
                uint64_t pss_before = j->last_mem.pss;
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                ProcMem pm = {0};
                if (!j->cg || cg_pids(j->cg, &pids, &n) < 0) {
                        free(pids);
                        pids = NULL;
                        if (proc_descendants(R->proc_fd, j->sp.pid, &pids, &n) < 0)
                                n = 0;
                        /* Descendants leave out the root: add the job's main process. */
                        pid_t *all = realloc(pids, (n + 1) * sizeof(pid_t));
                        if (all) {
                                all[n++] = j->sp.pid;
                                pids = all;
                        }
                }
                if (n > 0)
                        (void)proc_sample_pids(R->proc_fd, pids, n, &pm);
                if (!timed || pss_moved(pm.pss, pss_before))
                        j->pss_every = PSS_REREAD_USEC;
                else
                        j->pss_every = MIN(j->pss_every * 2, PSS_REREAD_MAX_USEC);
                j->last_mem = pm;
                j->last_npids = n;
                j->pss_at_mem = mem;
                j->pss_at_usec = now;
                j->pss_sharers = R->sharers_changed;
        }
        const ProcMem *m = &j->last_mem;
        j->mem_current = mem ? mem : m->rss;
        j->pss_peak = MAX(j->pss_peak, m->pss);
        j->rss_peak = MAX(j->rss_peak, m->rss);
        j->pss_sum += m->pss;
        j->pids_peak = MAX(j->pids_peak, (uint64_t)j->last_npids);
        j->n_samples++;
        if (!j->samples_opened && j->setup.samples_path) {
                j->samples_opened = true;
                j->samples = fopen(j->setup.samples_path, "we");
                if (j->samples)
                        (void)samples_write_header(j->samples);
        }
        if (j->samples)
                (void)samples_write_row(j->samples,
                                        &(SampleRow){
                                                .t_s = (double)(now - j->sp.start_usec) / USEC_PER_SEC,
                                                .memory_current_bytes = j->mem_current,
                                                .pss_bytes = m->pss,
                                                .rss_bytes = m->rss,
                                                .cpu_usage_s = (double)cpu / USEC_PER_SEC,
                                                .pids = j->last_npids,
                                        });
}
