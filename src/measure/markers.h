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

/* Feeds one line (without its newline). mono_usec: when it arrived. Returns 1 when a
 * phase started or ended (then *ret_change, if given, says which: "p2 started"),
 * 0 otherwise. */
int marker_engine_feed(MarkerEngine *e, const char *line, size_t len, uint64_t mono_usec, MarkerCpuFn cpu,
                       void *userdata, char *ret_change, size_t change_len);

/* The most recently started phase that is still running, or NULL. */
const char *marker_engine_current(const MarkerEngine *e);

/* Closes the books at job end and appends the phases and metrics to res. Phases with an
 * end pattern still running are "unfinished" with the time so far; short-form phases
 * (no end pattern) end with the job. start_usec: the job's start (monotonic). */
int marker_engine_finish(MarkerEngine *e, uint64_t start_usec, uint64_t end_usec, uint64_t end_cpu_usec,
                         JobResult *res);

/* Counters for tests and the log replay: lines seen, ends ignored (end before start). */
uint64_t marker_engine_lines(const MarkerEngine *e);
uint64_t marker_engine_ignored_ends(const MarkerEngine *e);

/* Timestamp parsing (for `timestamp: {regex, format}`): strptime format, then an
 * optional fraction ".123" right after the parsed text. UTC. Returns usec since the
 * epoch, or negative errno. Exposed for tests. */
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
