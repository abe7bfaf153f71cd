/* SPDX-License-Identifier: MIT */
/* Cost of parsing and expanding a scenario file (no system touched): prints
 * "parse_s expand_s jobs" for FILE, the best of `reps` rounds. bench/run.py runs it on
 * generated files of 200 to 10,000 jobs to check that the cost per job stays flat. */
#include <stdio.h>
#include <stdlib.h>

#include "plan/plan.h"
#include "spec/spec.h"
#include "util/fileio.h"
#include "util/time-util.h"

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: bench-plan FILE.yaml [REPS]\n");
                return 2;
        }
        int reps = argc > 2 ? atoi(argv[2]) : 3;
        char *text = NULL;
        size_t len = 0;
        if (read_full_file(argv[1], 64u << 20, &text, &len) < 0) {
                fprintf(stderr, "cannot read %s\n", argv[1]);
                return 1;
        }
        double best_parse = 1e9, best_plan = 1e9;
        size_t jobs = 0;
        for (int i = 0; i < (reps > 0 ? reps : 1); i++) {
                char *args[] = {"run", argv[1], NULL};
                SpecCliInput in = {.argc = 2, .argv = args, .file_text = text, .file_len = len};
                Spec *spec = NULL;
                Plan *plan = NULL;
                SpecError se = {0};
                char *err = NULL;
                uint64_t a = now_usec(CLOCK_MONOTONIC);
                if (spec_from_cli(&in, &spec, &se) < 0) {
                        fprintf(stderr, "%s\n", se.message ? se.message : "invalid scenario");
                        return 1;
                }
                uint64_t b = now_usec(CLOCK_MONOTONIC);
                if (plan_build(spec, &plan, &err) < 0) {
                        fprintf(stderr, "%s\n", err ? err : "cannot expand");
                        return 1;
                }
                uint64_t c = now_usec(CLOCK_MONOTONIC);
                jobs = plan->n_jobs_total;
                if ((b - a) / 1e6 < best_parse)
                        best_parse = (b - a) / 1e6;
                if ((c - b) / 1e6 < best_plan)
                        best_plan = (c - b) / 1e6;
                plan_free(plan);
                spec_free(spec);
                spec_error_done(&se);
                free(err);
        }
        free(text);
        printf("%.6f %.6f %zu\n", best_parse, best_plan, jobs);
        return 0;
}
