/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the phase and metric matcher: a job with start/end phases, a
 * short-form phase, metrics and a timestamp format is fed the input as its output, split
 * into lines the way the runner splits a job's pipe, then its books are closed. Built and
 * run by `make test-fuzz` (docs/fuzzing.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure/markers.h"
#include "result/result.h"
#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char scenario[] = "jobs:\n"
                               "  j:\n"
                               "    command: [x]\n"
                               "    timestamp: {regex: '^\\[([^]]+)\\]', format: '%Y-%m-%d %H:%M:%S'}\n"
                               "    phases:\n"
                               "      load: {start: 'loading (\\w+)', end: 'loaded'}\n"
                               "      run: {start: 'measuring'}\n"
                               "    metrics:\n"
                               "      rate: 'rate=([0-9.]+)'\n";

static Spec *spec;
static uint64_t clock_usec;

static uint64_t cpu(void *userdata) {
        (void)userdata;
        return clock_usec / 2;
}

static void on_line(const char *line, size_t len, void *userdata) {
        clock_usec += 1000;
        (void)marker_engine_feed(userdata, line, len, clock_usec, cpu, NULL, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (!spec) {
                SpecError e = {0};
                if (spec_parse_yaml("fuzz.yaml", scenario, sizeof scenario - 1, &spec, &e) < 0) {
                        /* The fixed scenario must parse: a broken harness, not a finding. */
                        spec = NULL;
                        spec_error_done(&e);
                }
        }
        if (!spec)
                abort();
        MarkerEngine *m = NULL;
        char *err = NULL;
        if (marker_engine_new(&spec->jobs[0], &m, &err) < 0)
                abort();
        clock_usec = 1000000;
        LineSplitter ls = {0};
        (void)line_splitter_feed(&ls, (const char *)data, size, on_line, m);
        line_splitter_flush(&ls, on_line, m);
        line_splitter_done(&ls);
        JobResult res;
        job_result_init(&res);
        (void)marker_engine_finish(m, 1000000, clock_usec + 1000, clock_usec / 2, &res);
        job_result_done(&res);
        marker_engine_free(m);
        free(err);
        return 0;
}
