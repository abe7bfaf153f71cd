/* SPDX-License-Identifier: MIT */
#pragma once

/* The samples CSV (samples/<job>.csv, path in result.json jobs[].samples): one row per
 * sample of a job, written by the runner while the job runs and read by the report.
 * The columns are defined once, here (samples.c's table):
 *   t_s,memory_current_bytes,pss_bytes,rss_bytes,cpu_usage_s,pids
 * Add columns at the end; readers find columns by name and ignore unknown ones. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct SampleRow {
        double t_s;                    /* since the job started */
        uint64_t memory_current_bytes; /* the group's memory.current (RSS where there is no group) */
        uint64_t pss_bytes, rss_bytes; /* summed over the job's processes */
        double cpu_usage_s;            /* the group's CPU time so far */
        uint64_t pids;                 /* processes in the job */
} SampleRow;

/* The header line. Returns 0 or a negative errno (-EIO when the stream does not say). */
int samples_write_header(FILE *f);
/* One row, in the header's order. Returns 0 or a negative errno. */
int samples_write_row(FILE *f, const SampleRow *row);

/* Reads a samples CSV into *ret_rows (malloc'ed, *ret_n rows). The header must name
 * t_s and memory_current_bytes (-EBADMSG otherwise: not a samples file); a column it
 * lacks reads as NAN (seconds) or UINT64_MAX (counts). Lines that do not have one
 * valid value per header column, and a last line without its newline (the sampler was
 * killed while writing it), are skipped. Reading stops after 64 MiB. An empty file is
 * -ENODATA. */
int samples_read(const char *path, SampleRow **ret_rows, size_t *ret_n);

/* The per-job GPU series (samples/<...>.gpu.csv, path in result.json jobs[].gpu_samples),
 * written by the runner (src/exec/gpu.c), one row per NVML sampling tick and GPU:
 *   t_s,gpu,sm_share,memory_bytes,share_target,memory_limit_bytes,throttled_s,
 *   charged_share,rate,scale,others_busy,sm_clock_mhz,clock_events
 * Files of corun before GPU limits have the first four columns only, before the
 * controller's columns the first seven, before the clocks the first eleven (columns from
 * charged_share on are not read here). */
typedef struct GpuSampleRow {
        double t_s;                  /* since the job started */
        uint64_t gpu;                /* NVML index */
        double sm_share;             /* the job's share in the newest NVML sample period, 0–1 */
        uint64_t memory_bytes;       /* the job's memory on that GPU */
        double share_target;         /* what the limiter aimed at then (the cap, or guarantee +
                                      * lent); NAN: the job has no share */
        uint64_t memory_limit_bytes; /* UINT64_MAX: none */
        double throttled_s;          /* cumulative wait for the share; NAN: no limit */
} GpuSampleRow;

/* As samples_read, for a GPU series: t_s, gpu, sm_share and memory_bytes are required;
 * the limiter's columns may be missing (older files) or empty (no such limit), and read as
 * NAN / UINT64_MAX. */
int gpu_samples_read(const char *path, GpuSampleRow **ret_rows, size_t *ret_n);
