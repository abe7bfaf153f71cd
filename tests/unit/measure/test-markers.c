/* SPDX-License-Identifier: MIT */
/* The phase/metric engine (src/measure/markers.c) on hand-built JobSpecs: lines are fed
 * with explicit monotonic times and a fake CPU counter, and the JobResult is checked for
 * exact values. Also the timestamp parser and the line splitter. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure/markers.h"
#include "result/result.h"
#include "spec/spec.h"
#include "util/macros.h"

#define S(x) ((char *)(x))
#define SEC(x) ((uint64_t)((x)*1000000.0))

/* Exact double comparison with both values in the failure message. */
#define assert_dbl(a, b)                                                                                    \
        do {                                                                                                \
                double _a = (a), _b = (b);                                                                  \
                if (!(_a == _b))                                                                            \
                        fail_msg("%s == %.9g, expected %.9g", #a, _a, _b);                                  \
        } while (0)

/* The fake CPU counter: what the engine reads, and how often it asked. */
typedef struct FakeCpu {
        uint64_t usec;
        unsigned calls;
} FakeCpu;

static uint64_t fake_cpu(void *userdata) {
        FakeCpu *c = userdata;
        c->calls++;
        return c->usec;
}

static MarkerEngine *engine(const JobSpec *job) {
        MarkerEngine *e = NULL;
        char *err = NULL;
        int r = marker_engine_new(job, &e, &err);
        if (r < 0)
                fail_msg("marker_engine_new: %d: %s", r, err ? err : "(no message)");
        assert_null(err);
        assert_non_null(e);
        return e;
}

/* Feeds one line at t seconds with the CPU counter at cpu seconds. */
static int feed(MarkerEngine *e, FakeCpu *c, const char *line, double t, double cpu) {
        c->usec = SEC(cpu);
        return marker_engine_feed(e, line, strlen(line), SEC(t), fake_cpu, c, NULL, 0);
}

static void assert_phase(const PhaseResult *p, const char *name, double start, double wall, double cpu,
                         bool unfinished) {
        assert_string_equal(p->name, name);
        assert_dbl(p->start_s, start);
        assert_dbl(p->wall_s, wall);
        assert_dbl(p->cpu_s, cpu);
        assert_int_equal(p->unfinished, unfinished);
}

/* (1) start/end: wall and cpu exact; start_s relative to the job start. */
static void test_start_end(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("p2"), .start = S("p2: start"), .end = S("p2: done")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 1};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        char change[64] = "";
        JobResult res;
        job_result_init(&res);

        assert_true(marker_engine_active(e));
        assert_int_equal(feed(e, &c, "noise", 100.5, 1), 0);
        c.usec = SEC(3);
        assert_int_equal(
                marker_engine_feed(e, "x p2: start y", 13, SEC(101), fake_cpu, &c, change, sizeof change),
                1);
        assert_string_equal(change, "p2 started");
        c.usec = SEC(7.5);
        assert_int_equal(
                marker_engine_feed(e, "p2: done", 8, SEC(103.25), fake_cpu, &c, change, sizeof change), 1);
        assert_string_equal(change, "p2 ended");
        assert_int_equal(feed(e, &c, "after", 104, 9), 0);
        assert_int_equal(marker_engine_lines(e), 4);

        assert_int_equal(marker_engine_finish(e, SEC(100), SEC(110), SEC(20), &res), 0);
        assert_int_equal(res.n_phases, 1);
        assert_phase(&res.phases[0], "p2", 1.0, 2.25, 4.5, false);
        assert_int_equal(res.n_metrics, 0);
        job_result_done(&res);
        marker_engine_free(e);
}

/* (2) A phase seen twice: two entries, in start order. */
static void test_twice(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("a"), .start = S("^a<"), .end = S("^a>")},
                          {.name = S("b"), .start = S("^b<"), .end = S("^b>")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 2};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        feed(e, &c, "a<", 1, 1);
        feed(e, &c, "a>", 2, 2);
        feed(e, &c, "b<", 3, 3);
        feed(e, &c, "a<", 4, 5);
        feed(e, &c, "b>", 5, 8);
        feed(e, &c, "a>", 7, 9);
        assert_int_equal(marker_engine_finish(e, 0, SEC(10), SEC(10), &res), 0);
        assert_int_equal(res.n_phases, 3);
        assert_phase(&res.phases[0], "a", 1, 1, 1, false);
        assert_phase(&res.phases[1], "b", 3, 2, 5, false);
        assert_phase(&res.phases[2], "a", 4, 3, 4, false);
        job_result_done(&res);
        marker_engine_free(e);
}

/* (3) Started, never ended: unfinished, with the time up to the job end. */
static void test_unfinished(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("p"), .start = S("go"), .end = S("stop")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 1};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        feed(e, &c, "go", 2, 1);
        assert_string_equal(marker_engine_current(e), "p");
        assert_int_equal(marker_engine_finish(e, SEC(1), SEC(6.5), SEC(4), &res), 0);
        assert_int_equal(res.n_phases, 1);
        assert_phase(&res.phases[0], "p", 1, 4.5, 3, true);
        job_result_done(&res);
        marker_engine_free(e);
}

/* (4) An end before any start is ignored and counted. */
static void test_end_before_start(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("p"), .start = S("go"), .end = S("stop")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 1};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        assert_int_equal(feed(e, &c, "stop", 1, 1), 0);
        assert_int_equal(marker_engine_ignored_ends(e), 1);
        assert_null(marker_engine_current(e));
        assert_int_equal(marker_engine_finish(e, 0, SEC(5), SEC(5), &res), 0);
        assert_int_equal(res.n_phases, 0);
        job_result_done(&res);
        marker_engine_free(e);
}

/* (5) One line ends A and starts B; and a lap (start == end of one phase). */
static void test_end_and_start_on_one_line(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("A"), .start = S("^begin"), .end = S("^switch")},
                          {.name = S("B"), .start = S("^switch"), .end = S("^finish")},
                          {.name = S("lap"), .start = S("^lap"), .end = S("^lap")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 3};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        char change[64] = "";
        JobResult res;
        job_result_init(&res);

        feed(e, &c, "begin", 1, 1);
        c.usec = SEC(4);
        assert_int_equal(marker_engine_feed(e, "switch", 6, SEC(3), fake_cpu, &c, change, sizeof change), 1);
        assert_string_equal(change, "B started");
        assert_int_equal(c.calls, 2); /* once per line with a boundary */
        assert_string_equal(marker_engine_current(e), "B");
        feed(e, &c, "finish", 6, 10);
        feed(e, &c, "lap", 7, 10);
        feed(e, &c, "lap", 8, 11);
        feed(e, &c, "lap", 10, 12);
        assert_int_equal(marker_engine_ignored_ends(e), 0);
        assert_int_equal(marker_engine_finish(e, 0, SEC(11), SEC(12), &res), 0);
        assert_int_equal(res.n_phases, 5);
        assert_phase(&res.phases[0], "A", 1, 2, 3, false);
        assert_phase(&res.phases[1], "B", 3, 3, 6, false);
        assert_phase(&res.phases[2], "lap", 7, 1, 1, false);
        assert_phase(&res.phases[3], "lap", 8, 2, 1, false);
        assert_phase(&res.phases[4], "lap", 10, 1, 0, true); /* the last lap never ended */
        job_result_done(&res);
        marker_engine_free(e);
}

/* (6) Short form: each start ends the previous phase; the last ends with the job. */
static void test_short_form(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("load"), .start = S("loading")},
                          {.name = S("warm"), .start = S("warming up")},
                          {.name = S("run"), .start = S("measuring")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 3};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        feed(e, &c, "loading", 1, 1);
        feed(e, &c, "warming up", 3, 2);
        assert_string_equal(marker_engine_current(e), "warm");
        feed(e, &c, "measuring", 6, 4);
        feed(e, &c, "loading", 7, 8); /* loops: load again */
        assert_int_equal(marker_engine_finish(e, 0, SEC(10), SEC(16), &res), 0);
        assert_int_equal(res.n_phases, 4);
        assert_phase(&res.phases[0], "load", 1, 2, 1, false);
        assert_phase(&res.phases[1], "warm", 3, 3, 2, false);
        assert_phase(&res.phases[2], "run", 6, 1, 4, false);
        assert_phase(&res.phases[3], "load", 7, 3, 8, false);
        job_result_done(&res);
        marker_engine_free(e);
}

/* (7) Nested phases with explicit ends: the outer spans the inner. */
static void test_nested(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("inner"), .start = S("in<"), .end = S("in>")},
                          {.name = S("outer"), .start = S("out<"), .end = S("out>")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 2};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        feed(e, &c, "out<", 1, 1);
        feed(e, &c, "in<", 2, 2);
        assert_string_equal(marker_engine_current(e), "inner");
        feed(e, &c, "in>", 3, 4);
        assert_string_equal(marker_engine_current(e), "outer");
        feed(e, &c, "out>", 5, 9);
        assert_null(marker_engine_current(e));
        assert_int_equal(marker_engine_finish(e, 0, SEC(6), SEC(9), &res), 0);
        assert_int_equal(res.n_phases, 2);
        assert_phase(&res.phases[0], "outer", 1, 4, 8, false);
        assert_phase(&res.phases[1], "inner", 2, 1, 2, false);
        job_result_done(&res);
        marker_engine_free(e);
}

/* (8) A running explicit-end phase started again: the first instance is unfinished. */
static void test_restart(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("p"), .start = S("try"), .end = S("ok")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 1};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        feed(e, &c, "try", 1, 1);
        assert_int_equal(feed(e, &c, "try", 4, 2), 1);
        feed(e, &c, "ok", 6, 5);
        assert_int_equal(marker_engine_finish(e, 0, SEC(7), SEC(5), &res), 0);
        assert_int_equal(res.n_phases, 2);
        assert_phase(&res.phases[0], "p", 1, 3, 1, true);
        assert_phase(&res.phases[1], "p", 4, 2, 3, false);
        job_result_done(&res);
        marker_engine_free(e);
}

static void expect_error(const JobSpec *job, const char *msg) {
        MarkerEngine *e = NULL;
        char *err = NULL;
        assert_int_equal(marker_engine_new(job, &e, &err), -EINVAL);
        assert_null(e);
        assert_non_null(err);
        assert_string_equal(err, msg);
        free(err);
}

/* (9) Compile errors name the job, the phase or metric, the pattern and the offset. */
static void test_errors(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("ok"), .start = S("fine"), .end = S("also fine")},
                          {.name = S("p"), .start = S("a(b"), .end = S("x")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 2};
        expect_error(&job,
                     "job 'j': phase 'p' start pattern 'a(b': missing closing parenthesis at offset 3");

        MetricSpec ms[] = {{.name = S("speed"), .pattern = S("speed: [0-9.]+")}};
        JobSpec job2 = {.name = S("j"), .metrics = ms, .n_metrics = 1};
        expect_error(&job2,
                     "job 'j': metric 'speed' pattern 'speed: [0-9.]+' has no capture group; put the number "
                     "in parentheses, e.g. 'proofs/s: ([0-9.]+)'");

        /* With a position (a scenario file), the message starts with it. */
        PhaseSpec at[] = {
                {.name = S("p"), .start = S("a(b"), .pos = {.file = "s.yaml", .line = 4, .col = 7}}};
        JobSpec job3 = {.name = S("j"), .phases = at, .n_phases = 1};
        expect_error(&job3,
                     "s.yaml:4:7: job 'j': phase 'p' start pattern 'a(b': missing closing parenthesis at "
                     "offset 3");

        /* Timestamp formats are checked before anything runs. */
        JobSpec ts = {.name = S("j"), .phases = ph, .n_phases = 1, .timestamp = {.regex = S("^(\\S+)")}};
        ts.timestamp.format = S("%b %d %H:%M:%S");
        expect_error(
                &ts,
                "job 'j': timestamp format '%b %d %H:%M:%S' has a day but no year, so corun cannot tell "
                "the year; capture the date with its year, or only the clock (a format such as "
                "'%H:%M:%S', whose times then count from the first timestamp)");
        ts.timestamp.format = S("%Y-%m-%d %N");
        expect_error(
                &ts,
                "job 'j': timestamp format '%Y-%m-%d %N': '%N' is not a strptime conversion (corun adds "
                "%f for the fraction of a second and %s for seconds since the epoch)");
        ts.timestamp.format = S("%Y-%m-%d %");
        expect_error(&ts,
                     "job 'j': timestamp format '%Y-%m-%d %': '%' is not a strptime conversion (corun adds "
                     "%f for the fraction of a second and %s for seconds since the epoch)");
        ts.timestamp.format = S("at %f");
        expect_error(&ts, "job 'j': timestamp format 'at %f' reads neither a date nor a clock; e.g. "
                          "'%Y-%m-%d %H:%M:%S' or '%H:%M:%S'");
        ts.pos = (SpecPos){.file = "s.yaml", .line = 2, .col = 3};
        ts.timestamp.format = S("%d %H:%M");
        expect_error(
                &ts,
                "s.yaml:2:3: job 'j': timestamp format '%d %H:%M' has a day but no year, so corun cannot "
                "tell the year; capture the date with its year, or only the clock (a format such as "
                "'%H:%M:%S', whose times then count from the first timestamp)");
        ts.pos = (SpecPos){0};
        ts.timestamp.regex = S("^\\S+");
        ts.timestamp.format = S("%H:%M:%S");
        expect_error(&ts, "job 'j': timestamp regex '^\\S+' needs one capture group around the time");

        /* A job with neither phases nor metrics is inactive. */
        JobSpec none = {.name = S("j")};
        MarkerEngine *e = engine(&none);
        assert_false(marker_engine_active(e));
        marker_engine_free(e);
}

static const MetricResult *metric(const JobResult *res, const char *name) {
        for (size_t i = 0; i < res->n_metrics; i++)
                if (strcmp(res->metrics[i].name, name) == 0)
                        return &res->metrics[i];
        return NULL;
}

/* (10) Metrics: every aggregation, units, and a metric never seen is absent. */
static void test_metrics(void **state) {
        (void)state;
        MetricSpec ms[] = {
                {.name = S("last"), .pattern = S("speed: (\\S+ \\S+)"), .agg = METRIC_LAST},
                {.name = S("max"), .pattern = S("speed: (\\S+)"), .agg = METRIC_MAX},
                {.name = S("min"), .pattern = S("speed: (\\S+)"), .agg = METRIC_MIN},
                {.name = S("sum"), .pattern = S("speed: (\\S+)"), .agg = METRIC_SUM},
                {.name = S("mean"), .pattern = S("speed: (\\S+)"), .agg = METRIC_MEAN},
                {.name = S("all"), .pattern = S("speed: (\\S+)"), .agg = METRIC_ALL},
                {.name = S("never"), .pattern = S("proofs/s: ([0-9.]+)"), .agg = METRIC_LAST},
        };
        JobSpec job = {.name = S("j"), .metrics = ms, .n_metrics = ELEMENTSOF(ms)};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        assert_true(marker_engine_active(e));
        assert_int_equal(feed(e, &c, "speed: 10 GiB/s", 1, 0), 0);
        feed(e, &c, "speed: 20.5 GiB/s", 2, 0);
        feed(e, &c, "speed: nan GiB/s", 2.5, 0); /* not a number: ignored */
        feed(e, &c, "speed: 4 GiB/s", 3, 0);
        feed(e, &c, "speed: 12.5 GiB/s", 4, 0);
        assert_int_equal(c.calls, 0); /* no phase boundary, no CPU read */
        assert_int_equal(marker_engine_finish(e, 0, SEC(5), 0, &res), 0);
        assert_int_equal(res.n_metrics, 6);
        assert_null(metric(&res, "never"));

        const MetricResult *m = metric(&res, "last");
        assert_non_null(m);
        assert_dbl(m->value, 12.5);
        assert_non_null(m->unit);
        assert_string_equal(m->unit, "GiB/s");
        assert_null(m->all);
        m = metric(&res, "max");
        assert_non_null(m);
        assert_dbl(m->value, 20.5);
        assert_null(m->unit); /* the group holds only the number */
        m = metric(&res, "min");
        assert_non_null(m);
        assert_dbl(m->value, 4);
        m = metric(&res, "sum");
        assert_non_null(m);
        assert_dbl(m->value, 47);
        m = metric(&res, "mean");
        assert_non_null(m);
        assert_dbl(m->value, 11.75);
        m = metric(&res, "all");
        assert_non_null(m);
        assert_dbl(m->value, 12.5);
        assert_int_equal(m->n_all, 4);
        assert_non_null(m->all);
        assert_dbl(m->all[0], 10);
        assert_dbl(m->all[1], 20.5);
        assert_dbl(m->all[2], 4);
        assert_dbl(m->all[3], 12.5);
        job_result_done(&res);
        marker_engine_free(e);
}

/* A timestamp-mode job with one start/end phase per entry of ph. */
static JobSpec ts_job(PhaseSpec *ph, size_t n, const char *regex, const char *format) {
        return (JobSpec){.name = S("j"),
                         .phases = ph,
                         .n_phases = n,
                         .timestamp = {.regex = S(regex), .format = S(format)}};
}

#define DATE_RE "^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d)"

/* (11) Timestamp mode, live: times are taken from the lines, put on the arrival clock
 * at the first timestamped line (arrived 0.25 s after the job started). */
static void test_timestamp(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("seal"), .start = S("seal start"), .end = S("seal done")}};
        JobSpec job = ts_job(ph, 1, DATE_RE, "%Y-%m-%d %H:%M:%S");
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        feed(e, &c, "2020-07-19 02:00:00 booting", 0.75, 0);
        feed(e, &c, "2020-07-19 02:35:20 seal start", 1, 1);
        feed(e, &c, "no time on this line", 1.5, 2);
        feed(e, &c, "2020-07-19 04:45:50 seal done", 2, 3);
        assert_int_equal(marker_engine_finish(e, SEC(0.5), SEC(3), SEC(3), &res), 0);
        assert_int_equal(res.n_phases, 1);
        /* 02:00:00 arrived at 0.75, 0.25 s into the job: 02:35:20 is 0.25 + 2120 s. */
        assert_phase(&res.phases[0], "seal", 2120.25, 7830, 2, false);
        uint64_t read, bad;
        const char *sample;
        marker_engine_timestamps(e, &read, &bad, &sample);
        assert_int_equal(read, 3);
        assert_int_equal(bad, 0);
        assert_null(sample);
        job_result_done(&res);
        marker_engine_free(e);
}

/* (11a) Live, lines before the first timestamp: they keep their arrival time (the job's
 * elapsed time) and the log's times are pinned to the arrival of the first one. */
static void test_timestamp_live_before_first(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("load"), .start = S("load start"), .end = S("load end")},
                          {.name = S("run"), .start = S("run start"), .end = S("run end")}};
        JobSpec job = ts_job(ph, 2, DATE_RE, "%Y-%m-%d %H:%M:%S");
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        /* The job starts at 10 s (monotonic). */
        assert_int_equal(feed(e, &c, "load start (no time yet)", 10.5, 0), 1);
        feed(e, &c, "2020-07-19 02:00:00 logging set up", 12, 1); /* 02:00:00 = 12 s */
        feed(e, &c, "2020-07-19 02:00:05 load end", 12.1, 2);     /* 17 s */
        feed(e, &c, "2020-07-19 02:00:07 run start", 12.2, 3);    /* 19 s */
        feed(e, &c, "still running, no time", 14, 4);             /* 19 s: the last one's */
        assert_int_equal(marker_engine_finish(e, SEC(10), SEC(25), SEC(5), &res), 0);
        assert_int_equal(res.n_phases, 2);
        assert_phase(&res.phases[0], "load", 0.5, 6.5, 2, false);
        assert_phase(&res.phases[1], "run", 9, 6, 2, true); /* ends with the job at 25 s */
        job_result_done(&res);
        marker_engine_free(e);
}

/* (11b) Replay (`corun phases`: arrival and start times are 0): lines before the first
 * timestamp take its time; a phase left open ends at the last timestamp. */
static void test_timestamp_replay_before_first(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("load"), .start = S("load start"), .end = S("load end")},
                          {.name = S("open"), .start = S("banner"), .end = S("never")}};
        JobSpec job = ts_job(ph, 2, DATE_RE, "%Y-%m-%d %H:%M:%S");
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        feed(e, &c, "banner: benchy 1.0", 0, 0);
        feed(e, &c, "load start", 0, 0);
        feed(e, &c, "2020-07-19 02:00:10 first line with a time", 0, 0);
        feed(e, &c, "2020-07-19 02:00:40 load end", 0, 0);
        feed(e, &c, "2020-07-19 02:01:10 last line", 0, 0);
        assert_int_equal(marker_engine_finish(e, 0, 0, 0, &res), 0);
        assert_int_equal(res.n_phases, 2);
        /* Both start at 02:00:10 (start_s 0); equal starts keep the spec's order. */
        assert_phase(&res.phases[0], "load", 0, 30, 0, false);
        assert_phase(&res.phases[1], "open", 0, 60, 0, true);
        job_result_done(&res);
        marker_engine_free(e);
}

/* (11c) A clock without a date: times count from the first timestamp; a time more than
 * 12 h earlier than the one before is the next day, more than 12 h later the day before
 * (a late line). Replay, so times are seconds since the first timestamp. */
static void test_timestamp_clock_only(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("p"), .start = S("p start"), .end = S("p end")},
                          {.name = S("q"), .start = S("q start"), .end = S("q end")},
                          {.name = S("r"), .start = S("r start"), .end = S("r end")},
                          {.name = S("s"), .start = S("s start"), .end = S("s end")}};
        JobSpec job = ts_job(ph, 4, "^\\[(\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?)\\]", "%H:%M:%S");
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);

        /* Day 0 23:59:50 is time 0. */
        feed(e, &c, "[23:59:50] p start", 0, 0); /* 0 */
        feed(e, &c, "[23:59:58] tick", 0, 0);    /* 8 */
        feed(e, &c, "[00:00:10] p end", 0, 0);   /* midnight passed: day 1 00:00:10 = 20 */
        feed(e, &c, "[23:59:59] q start", 0, 0); /* 24 h later than 00:00:10: day 0, 9 */
        feed(e, &c, "[00:00:20.5] q end", 0, 0); /* day 1 again: 30.5 */
        feed(e, &c, "[06:00:00] r start", 0, 0); /* day 1 06:00 = 21610 */
        feed(e, &c, "[13:00:00] tick", 0, 0);    /* 46810 */
        feed(e, &c, "[20:00:00] tick", 0, 0);    /* 72010 */
        feed(e, &c, "[02:00:00] r end", 0, 0);   /* 18 h earlier: day 2 02:00 = 93610 */
        feed(e, &c, "[14:00:00] s start", 0, 0); /* 12 h later, not more: day 2 = 136810 */
        feed(e, &c, "[02:00:00] s end", 0, 0);   /* 12 h earlier, not more: day 2 02:00 = 93610 */
        assert_int_equal(marker_engine_finish(e, 0, 0, 0, &res), 0);
        assert_int_equal(res.n_phases, 4);
        assert_phase(&res.phases[0], "p", 0, 20, 0, false);
        assert_phase(&res.phases[1], "q", 9, 21.5, 0, false);
        assert_phase(&res.phases[2], "r", 21610, 72000, 0, false);
        /* An end before its start (times running backwards) gives 0, never negative. */
        assert_phase(&res.phases[3], "s", 136810, 0, 0, false);
        job_result_done(&res);
        marker_engine_free(e);

        /* Live: the first clock time is pinned to its arrival (5 s into the job). */
        PhaseSpec ph2[] = {{.name = S("m"), .start = S("m start"), .end = S("m end")}};
        JobSpec job2 = ts_job(ph2, 1, "^(\\S+) ", "%H:%M:%S.%f");
        e = engine(&job2);
        job_result_init(&res);
        feed(e, &c, "23:59:59.750 m start", 105, 1);
        feed(e, &c, "00:00:00.250 m end", 105.5, 3);
        assert_int_equal(marker_engine_finish(e, SEC(100), SEC(106), SEC(3), &res), 0);
        assert_int_equal(res.n_phases, 1);
        assert_phase(&res.phases[0], "m", 5, 0.5, 2, false);
        job_result_done(&res);
        marker_engine_free(e);
}

/* (11d) Lines the regex matches but the format cannot read are counted, and keep the
 * last good time. */
static void test_timestamp_unreadable(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("p"), .start = S("p start"), .end = S("p end")}};
        JobSpec job = ts_job(ph, 1, "^(\\S+ \\S+)", "%Y-%m-%d %H:%M:%S");
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);
        feed(e, &c, "2020-07-19 02:00:00 p start", 0, 0);
        feed(e, &c, "2020-07-19 02:00:30 tick", 0, 0);
        feed(e, &c, "2020-13-45 99:99:99 p end", 0, 0); /* takes 02:00:30 */
        feed(e, &c, "garbage garbage", 0, 0);
        assert_int_equal(marker_engine_finish(e, 0, 0, 0, &res), 0);
        assert_phase(&res.phases[0], "p", 0, 30, 0, false);
        uint64_t read, bad;
        const char *sample;
        marker_engine_timestamps(e, &read, &bad, &sample);
        assert_int_equal(read, 2);
        assert_int_equal(bad, 2);
        assert_string_equal(sample, "2020-13-45 99:99:99");
        job_result_done(&res);
        marker_engine_free(e);
}

/* (11e) The parser on its own: hand-computed values. 2020-07-19 02:35:20 UTC is
 * 1595126120 s since the epoch; 02:35:20 is 9320 s after midnight. */
static void test_parse_time(void **state) {
        (void)state;
        static const struct {
                const char *text, *format;
                int ret;
                uint64_t usec;
        } cases[] = {
                {"2020-07-19 02:35:20", "%Y-%m-%d %H:%M:%S", 0, UINT64_C(1595126120000000)},
                {"2020-07-19 02:35:20.250", "%Y-%m-%d %H:%M:%S", 0, UINT64_C(1595126120250000)},
                {"2020-07-19 02:35:20,5 rest", "%Y-%m-%d %H:%M:%S", 0, UINT64_C(1595126120500000)},
                {"2020-07-19 02:35:20.123456789", "%Y-%m-%d %H:%M:%S.%f", 0, UINT64_C(1595126120123456)},
                {"2020-07-19T04:35:20+0200", "%Y-%m-%dT%H:%M:%S%z", 0, UINT64_C(1595126120000000)},
                {"19/Jul/2020:02:35:20", "%d/%b/%Y:%H:%M:%S", 0, UINT64_C(1595126120000000)},
                {"1595126120.250", "%s", 0, UINT64_C(1595126120250000)},
                {"t=1595126120", "t=%s", 0, UINT64_C(1595126120000000)},
                {"02:35:20", "%H:%M:%S", 1, UINT64_C(9320000000)},
                {"[02:35:20]", "[%H:%M:%S]", 1, UINT64_C(9320000000)},
                {"02:35:20.5", "%H:%M:%S", 1, UINT64_C(9320500000)},
                {"02:35:20.000250", "%H:%M:%S.%f", 1, UINT64_C(9320000250)},
                {"02:35:20.250 PM", "%I:%M:%S.%f %p", 1, UINT64_C(52520250000)},
                {"2:35:20 pm", "%I:%M:%S %p", 1, UINT64_C(52520000000)},
                {"12:05:00 AM", "%I:%M:%S %p", 1, UINT64_C(300000000)},
                {"12:05:00 PM", "%I:%M:%S %p", 1, UINT64_C(43500000000)},
                {"23:59:60", "%H:%M:%S", 1, UINT64_C(0)}, /* a leap second: the next midnight */
                {"not a time", "%Y-%m-%d %H:%M:%S", -EINVAL, 0},
                {"02:35", "%H:%M:%S", -EINVAL, 0},
                {"02:35:20", "%H:%M:%S.%f", -EINVAL, 0},
                {"02:35:20 XM", "%H:%M:%S %p", -EINVAL, 0},
                {"Jul 19 02:35:20", "%b %d %H:%M:%S", -EINVAL, 0}, /* a day but no year */
                {"2020-07-19", "%Y-%m-%d %N", -EINVAL, 0},
                {"1969-12-31 23:59:59", "%Y-%m-%d %H:%M:%S", -ERANGE, 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t t = 42;
                int r = marker_parse_time(cases[i].text, cases[i].format, &t);
                if (r != cases[i].ret)
                        fail_msg("'%s' with '%s': returned %d, expected %d", cases[i].text, cases[i].format,
                                 r, cases[i].ret);
                uint64_t want = cases[i].ret >= 0 ? cases[i].usec : 42; /* untouched on failure */
                if (t != want)
                        fail_msg("'%s' with '%s': %" PRIu64 " usec, expected %" PRIu64, cases[i].text,
                                 cases[i].format, t, want);
        }
}

/* (11f) Output is bytes, not always UTF-8: a marker on a line with invalid UTF-8 (a
 * binary progress bar, a Latin-1 name) is still seen, and so is a metric. */
static void test_invalid_utf8(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("p"), .start = S("p start"), .end = S("p end")}};
        MetricSpec ms[] = {{.name = S("speed"), .pattern = S("speed: (\\d+)"), .agg = METRIC_LAST}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 1, .metrics = ms, .n_metrics = 1};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};
        JobResult res;
        job_result_init(&res);
        assert_int_equal(feed(e, &c,
                              "\xff\xfe caf\xe9"
                              "p start \xc3",
                              1, 0),
                         1);
        feed(e, &c, "\x80speed: 42\xff", 2, 0);
        assert_int_equal(feed(e, &c, "p end \xed\xa0\x80", 4, 1), 1); /* a UTF-16 surrogate */
        assert_int_equal(marker_engine_finish(e, 0, SEC(5), SEC(1), &res), 0);
        assert_int_equal(res.n_phases, 1);
        assert_phase(&res.phases[0], "p", 1, 3, 1, false);
        assert_int_equal(res.n_metrics, 1);
        assert_dbl(res.metrics[0].value, 42);
        job_result_done(&res);
        marker_engine_free(e);
}

/* (12) The CPU callback is asked only on lines with a phase boundary. */
static void test_cpu_calls(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("p"), .start = S("go"), .end = S("stop")}};
        MetricSpec ms[] = {{.name = S("m"), .pattern = S("m=(\\d+)")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 1, .metrics = ms, .n_metrics = 1};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};

        for (int i = 0; i < 100; i++)
                assert_int_equal(feed(e, &c, "nothing here", i, i), 0);
        feed(e, &c, "m=5", 100, 100);
        assert_int_equal(c.calls, 0);
        feed(e, &c, "go", 101, 101);
        assert_int_equal(c.calls, 1);
        feed(e, &c, "nothing", 102, 102);
        feed(e, &c, "stop", 103, 103); /* lines that match end AND a metric: one call */
        assert_int_equal(c.calls, 2);
        feed(e, &c, "stop", 104, 104); /* ignored end: no CPU needed */
        assert_int_equal(marker_engine_ignored_ends(e), 1);
        assert_int_equal(c.calls, 2);
        assert_int_equal(marker_engine_lines(e), 105);
        marker_engine_free(e);
}

/* ---- line splitter ---- */

typedef struct Collected {
        char **v;
        size_t n, cap;
} Collected;

static void collect(const char *line, size_t len, void *userdata) {
        Collected *c = userdata;
        if (c->n == c->cap) {
                c->cap = c->cap * 2 + 16;
                c->v = realloc(c->v, c->cap * sizeof *c->v);
                assert_non_null(c->v);
        }
        c->v[c->n] = malloc(len + 1);
        assert_non_null(c->v[c->n]);
        memcpy(c->v[c->n], line, len);
        c->v[c->n][len] = '\0';
        c->n++;
}

static void collected_done(Collected *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i]);
        free(c->v);
        *c = (Collected){0};
}

/* Feeds data in chunks of 1..max_chunk bytes (rand, seeded by the caller). */
static void feed_chunked(LineSplitter *s, const char *data, size_t n, size_t max_chunk, Collected *out) {
        size_t off = 0;
        while (off < n) {
                size_t k = (size_t)rand() % max_chunk + 1; /* not inside MIN(): evaluated twice */
                k = MIN(k, n - off);
                assert_int_equal(line_splitter_feed(s, data + off, k, collect, out), 0);
                off += k;
        }
}

/* (13a) 1000 lines under random chunkings come out exactly, in order. */
static void test_splitter_random(void **state) {
        (void)state;
        enum { N = 1000 };
        srand(12345);
        char *lines[N];
        size_t total = 0;
        for (size_t i = 0; i < N; i++) {
                size_t len = (size_t)rand() % 120; /* empty lines included */
                lines[i] = malloc(len + 1);
                assert_non_null(lines[i]);
                for (size_t k = 0; k < len; k++)
                        lines[i][k] = (char)(' ' + rand() % 95);
                lines[i][len] = '\0';
                total += len + 1;
        }
        char *text = malloc(total);
        assert_non_null(text);
        size_t off = 0;
        for (size_t i = 0; i < N; i++) {
                size_t len = strlen(lines[i]);
                memcpy(text + off, lines[i], len);
                text[off + len] = '\n';
                off += len + 1;
        }
        static const size_t max_chunks[] = {1, 7, 64, 300, 5000, 1 << 20};
        for (size_t m = 0; m < ELEMENTSOF(max_chunks); m++) {
                LineSplitter s = {0};
                Collected out = {0};
                feed_chunked(&s, text, total, max_chunks[m], &out);
                line_splitter_flush(&s, collect, &out);
                assert_int_equal(out.n, N);
                for (size_t i = 0; i < N; i++)
                        assert_string_equal(out.v[i], lines[i]);
                assert_int_equal(s.lines_cut, 0);
                collected_done(&out);
                line_splitter_done(&s);
        }
        free(text);
        for (size_t i = 0; i < N; i++)
                free(lines[i]);
}

/* (13b) An overlong line is cut to MARKER_LINE_MAX and counted; the next is intact,
 * whether the long line arrives in one chunk or in pieces. */
static void test_splitter_long_line(void **state) {
        (void)state;
        size_t long_len = MARKER_LINE_MAX + 1000;
        size_t n = long_len + sizeof "\nnext\nlast\n" - 1;
        char *text = malloc(n);
        assert_non_null(text);
        for (size_t i = 0; i < long_len; i++)
                text[i] = (char)('a' + i % 26);
        memcpy(text + long_len, "\nnext\nlast\n", sizeof "\nnext\nlast\n" - 1);

        srand(7);
        static const size_t max_chunks[] = {0 /* all at once */, 1000, 70000, 3};
        for (size_t m = 0; m < ELEMENTSOF(max_chunks); m++) {
                LineSplitter s = {0};
                Collected out = {0};
                if (max_chunks[m] == 0)
                        assert_int_equal(line_splitter_feed(&s, text, n, collect, &out), 0);
                else
                        feed_chunked(&s, text, n, max_chunks[m], &out);
                line_splitter_flush(&s, collect, &out);
                assert_int_equal(out.n, 3);
                assert_int_equal(strlen(out.v[0]), MARKER_LINE_MAX);
                assert_memory_equal(out.v[0], text, MARKER_LINE_MAX);
                assert_string_equal(out.v[1], "next");
                assert_string_equal(out.v[2], "last");
                assert_int_equal(s.lines_cut, 1);
                collected_done(&out);
                line_splitter_done(&s);
        }
        free(text);
}

/* (13c) A last line without newline appears only at flush. */
static void test_splitter_flush(void **state) {
        (void)state;
        LineSplitter s = {0};
        Collected out = {0};
        assert_int_equal(line_splitter_feed(&s, "one\ntw", 6, collect, &out), 0);
        assert_int_equal(line_splitter_feed(&s, "o\nthr", 5, collect, &out), 0);
        assert_int_equal(line_splitter_feed(&s, "ee", 2, collect, &out), 0);
        assert_int_equal(out.n, 2);
        assert_string_equal(out.v[0], "one");
        assert_string_equal(out.v[1], "two");
        line_splitter_flush(&s, collect, &out);
        assert_int_equal(out.n, 3);
        assert_string_equal(out.v[2], "three");
        line_splitter_flush(&s, collect, &out); /* nothing left */
        assert_int_equal(out.n, 3);
        collected_done(&out);
        line_splitter_done(&s);
}

/* (14) current: the most recently started phase still running. */
static void test_current(void **state) {
        (void)state;
        PhaseSpec ph[] = {{.name = S("b"), .start = S("b<"), .end = S("b>")},
                          {.name = S("a"), .start = S("a<"), .end = S("a>")},
                          {.name = S("c"), .start = S("c<"), .end = S("c>")}};
        JobSpec job = {.name = S("j"), .phases = ph, .n_phases = 3};
        MarkerEngine *e = engine(&job);
        FakeCpu c = {0};

        assert_null(marker_engine_current(e));
        feed(e, &c, "a<", 1, 0);
        assert_string_equal(marker_engine_current(e), "a");
        feed(e, &c, "c<", 2, 0);
        assert_string_equal(marker_engine_current(e), "c");
        feed(e, &c, "b<", 3, 0);
        assert_string_equal(marker_engine_current(e), "b");
        feed(e, &c, "a<", 4, 0); /* restart: a is the newest again */
        assert_string_equal(marker_engine_current(e), "a");
        feed(e, &c, "a>", 5, 0);
        assert_string_equal(marker_engine_current(e), "b");
        feed(e, &c, "b>", 6, 0);
        assert_string_equal(marker_engine_current(e), "c");
        feed(e, &c, "c>", 7, 0);
        assert_null(marker_engine_current(e));
        marker_engine_free(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_start_end),
                cmocka_unit_test(test_twice),
                cmocka_unit_test(test_unfinished),
                cmocka_unit_test(test_end_before_start),
                cmocka_unit_test(test_end_and_start_on_one_line),
                cmocka_unit_test(test_short_form),
                cmocka_unit_test(test_nested),
                cmocka_unit_test(test_restart),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_metrics),
                cmocka_unit_test(test_timestamp),
                cmocka_unit_test(test_timestamp_live_before_first),
                cmocka_unit_test(test_timestamp_replay_before_first),
                cmocka_unit_test(test_timestamp_clock_only),
                cmocka_unit_test(test_timestamp_unreadable),
                cmocka_unit_test(test_parse_time),
                cmocka_unit_test(test_invalid_utf8),
                cmocka_unit_test(test_cpu_calls),
                cmocka_unit_test(test_splitter_random),
                cmocka_unit_test(test_splitter_long_line),
                cmocka_unit_test(test_splitter_flush),
                cmocka_unit_test(test_current),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
