/* SPDX-License-Identifier: MIT */
/* The per-job GPU share from NVML process samples (pure: no system calls). NVML gives one
 * sample per busy process per sample period, stamped with the period's end; a period in
 * which nobody was busy gives no sample at all. So the time grid comes from every
 * process's samples on the GPU (the caller passes them all), and the job's share in a
 * period is the sum over its own pids, never over the other tenants'. */
#include <math.h>
#include <string.h>

#include "gpu/gpu.h"
#include "util/macros.h"

#define DEFAULT_PERIOD_USEC UINT64_C(166667)

static bool pid_in(pid_t pid, const pid_t *pids, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

static void pid_seen(GpuShareAccum *a, pid_t pid) {
        if (pid_in(pid, a->pids_seen, a->n_pids_seen) || a->n_pids_seen >= ELEMENTSOF(a->pids_seen))
                return;
        a->pids_seen[a->n_pids_seen++] = pid;
}

/* The oldest timestamp newer than `after`, or 0 when there is none. */
static uint64_t next_ts(const GpuProcSample *s, size_t n, uint64_t after) {
        uint64_t best = 0;
        for (size_t i = 0; i < n; i++)
                if (s[i].timestamp_usec > after && (best == 0 || s[i].timestamp_usec < best))
                        best = s[i].timestamp_usec;
        return best;
}

void gpu_share_accum_add(GpuShareAccum *a, const GpuProcSample *samples, size_t n_samples,
                         const pid_t *job_pids, size_t n_job_pids, uint64_t sample_period_usec) {
        uint64_t period = sample_period_usec > 0 ? sample_period_usec : DEFAULT_PERIOD_USEC;
        /* Samples of one period that carry slightly different stamps are one period:
         * anything within half a period of the first stamp. */
        uint64_t tol = period / 2;

        for (uint64_t t0; (t0 = next_ts(samples, n_samples, a->last_ts_usec)) != 0;) {
                uint64_t ts = t0, util = 0;
                for (size_t i = 0; i < n_samples; i++) {
                        const GpuProcSample *s = &samples[i];
                        if (s->timestamp_usec < t0 || s->timestamp_usec - t0 > tol)
                                continue;
                        ts = MAX(ts, s->timestamp_usec);
                        if (!pid_in(s->pid, job_pids, n_job_pids))
                                continue;
                        /* A sample repeated in the input counts once: only the first of a pid. */
                        bool repeat = false;
                        for (size_t j = 0; j < i && !repeat; j++)
                                repeat = samples[j].pid == s->pid && samples[j].timestamp_usec >= t0 &&
                                         samples[j].timestamp_usec - t0 <= tol;
                        if (repeat)
                                continue;
                        util += MIN(s->sm_util, 100u);
                        if (s->sm_util > 0)
                                pid_seen(a, s->pid);
                }
                double share = (double)MIN(util, UINT64_C(100)) / 100.0;
                uint64_t dt = a->last_ts_usec == 0 ? period : ts - a->last_ts_usec;
                if (a->first_ts_usec == 0)
                        a->first_ts_usec = ts > period ? ts - period : 1;
                /* The sample speaks for one period; a longer gap had no busy process on
                 * the GPU at all, so the job's share there was 0. */
                a->weighted_sum += share * (double)MIN(dt, period);
                a->covered_usec += (double)dt;
                a->peak = MAX(a->peak, share);
                a->last_share = share;
                a->samples++;
                a->last_ts_usec = ts;
        }
}

double gpu_share_accum_mean(const GpuShareAccum *a) {
        return a->covered_usec > 0 ? a->weighted_sum / a->covered_usec : 0;
}

double gpu_share_accum_period(GpuShareAccum *a) {
        double dw = a->weighted_sum - a->period_weighted, dc = a->covered_usec - a->period_covered;
        a->period_weighted = a->weighted_sum;
        a->period_covered = a->covered_usec;
        return dc > 0 ? dw / dc : NAN;
}

bool gpu_share_accum_memory(GpuShareAccum *a, const pid_t *procs_pids, const uint64_t *procs_bytes,
                            size_t n_procs, const pid_t *job_pids, size_t n_job_pids) {
        uint64_t sum = 0;
        bool on = false;
        for (size_t i = 0; i < n_procs; i++)
                if (pid_in(procs_pids[i], job_pids, n_job_pids)) {
                        sum += procs_bytes[i];
                        pid_seen(a, procs_pids[i]);
                        on = true;
                }
        a->memory_last_bytes = sum;
        a->memory_peak_bytes = MAX(a->memory_peak_bytes, sum);
        return on;
}

void gpu_share_accum_clock(GpuShareAccum *a, unsigned mhz, uint64_t events, bool events_known, bool on_gpu) {
        a->clock_last_mhz = mhz;
        a->clock_last_events = events_known ? events : 0;
        if (!on_gpu || (events_known && (events & GPU_CLOCK_EVENT_IDLE)))
                return;
        if (events_known) {
                a->clock_events |= events;
                a->clock_events_known = true;
        }
        if (mhz == 0)
                return;
        a->clock_min_mhz = a->clock_polls == 0 ? mhz : MIN(a->clock_min_mhz, mhz);
        a->clock_max_mhz = MAX(a->clock_max_mhz, mhz);
        a->clock_sum_mhz += mhz;
        a->clock_polls++;
}

double gpu_share_accum_clock_mean(const GpuShareAccum *a) {
        return a->clock_polls ? a->clock_sum_mhz / a->clock_polls : 0;
}
