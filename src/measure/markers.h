/* SPDX-License-Identifier: MIT */
#pragma once

/* Phases and metrics from a job's output lines (pure: no system calls). Every line of
 * stdout and stderr is fed as it arrives; phase boundaries take the monotonic time of
 * the line (or the time written in the line, with `timestamp:`) and the job group's CPU
 * usage, which is asked for through a callback only when a boundary matched. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result/result.h"
#include "spec/spec.h"

typedef struct MarkerEngine MarkerEngine;

/* Compiles every pattern (PCRE2, JIT where available). On a bad pattern: -EINVAL and
 * *ret_error = "job 'x': phase 'p2' start pattern 'a(b': missing closing parenthesis
 * at offset 3". */
int marker_engine_new(const JobSpec *job, MarkerEngine **ret, char **ret_error);
MarkerEngine *marker_engine_free(MarkerEngine *e);
/* False when the job has no phases and no metrics: the caller skips line splitting. */
bool marker_engine_active(const MarkerEngine *e);

typedef uint64_t (*MarkerCpuFn)(void *userdata); /* the group's CPU usage, usec */

/* Feeds one line (without its newline). mono_usec: when it arrived (a replay, which has
 * no such clock, feeds 0). With `timestamp:`, the line's own time counts instead, put on
 * the arrival clock through the first line that had one; lines before it keep their
 * arrival time, lines after it without one take the last one's. Returns 1 when a
 * phase started or ended (then *ret_change, if given, says which: "p2 started"),
 * 0 otherwise. */
int marker_engine_feed(MarkerEngine *e, const char *line, size_t len, uint64_t mono_usec, MarkerCpuFn cpu,
                       void *userdata, char *ret_change, size_t change_len);

/* The most recently started phase that is still running, or NULL. */
const char *marker_engine_current(const MarkerEngine *e);

/* Closes the books at job end and appends the phases and metrics to res. Phases with an
 * end pattern still running are "unfinished" with the time so far; short-form phases
 * (no end pattern) end with the job (or its last timestamp, if later). start_usec: the
 * job's start (monotonic; 0 in a replay, where start_s then counts from the first
 * timestamp). */
int marker_engine_finish(MarkerEngine *e, uint64_t start_usec, uint64_t end_usec, uint64_t end_cpu_usec,
                         JobResult *res);

/* Counters for tests and the log replay: lines seen, ends ignored (end before start). */
uint64_t marker_engine_lines(const MarkerEngine *e);
uint64_t marker_engine_ignored_ends(const MarkerEngine *e);
/* Timestamp mode: lines whose time was read, and lines the regex matched whose text the
 * format could not read (*ret_sample: the first such text, or NULL). */
void marker_engine_timestamps(const MarkerEngine *e, uint64_t *ret_read, uint64_t *ret_unreadable,
                              const char **ret_sample);

/* Timestamp parsing (for `timestamp: {regex, format}`): a strptime format plus %f (the
 * fraction of a second) and %s (seconds since the epoch, UTC); without %f, a fraction
 * ".123" right after the parsed text counts. UTC unless %z says otherwise. Returns 0 and
 * usec since the epoch for a format with a date; 1 and usec since midnight for a clock
 * without a date ("%H:%M:%S"); -EINVAL when the text does not fit or the format has a
 * day but no year; -ERANGE before 1970. Exposed for tests. */
int marker_parse_time(const char *text, const char *format, uint64_t *ret_usec);

/* Splits a byte stream into lines for the engine: any chunking in, whole lines out.
 * Lines longer than MARKER_LINE_MAX are cut there (flagged), never unbounded memory. */
#define MARKER_LINE_MAX 65536
typedef struct LineSplitter {
        char *buf;
        size_t len;
        bool truncating; /* inside an overlong line: drop bytes until its newline */
        uint64_t lines_cut;
} LineSplitter;
typedef void (*LineFn)(const char *line, size_t len, void *userdata);
int line_splitter_feed(LineSplitter *s, const char *data, size_t n, LineFn fn, void *userdata);
void line_splitter_flush(LineSplitter *s, LineFn fn, void *userdata);
void line_splitter_done(LineSplitter *s);
