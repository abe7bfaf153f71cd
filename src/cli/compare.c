/* SPDX-License-Identifier: MIT */
/* corun compare A B [C...]: B's (and C's...) wall times against A's, job by job, with
 * Welch's t-test (docs/report.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "report/compare.h"
#include "result/result.h"

static const char compare_usage[] =
        "Usage: corun compare [--json] A B [C...]\n"
        "\n"
        "Compares the wall times of every job (per run configuration) of B, C... with\n"
        "those of the reference A: \"1.42x slower\", \"1.10x faster\" or \"not significant\"\n"
        "(Welch's t-test, alpha 0.05), and their geometric mean. A, B... are results\n"
        "directories or result.json files.\n"
        "\n"
        "      --json  one JSON object instead of the table\n"
        "\n"
        "Exit status: 0, 2 for bad arguments or a result that cannot be read.\n"
        "See docs/report.md.\n";

#define MAX_RESULTS 64

int cmd_compare(int argc, char **argv) {
        static const struct option opts[] = {
                {"json", no_argument, NULL, 'J'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool json = false;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 'J':
                        json = true;
                        break;
                case 'h':
                        fputs(compare_usage, stdout);
                        return 0;
                default:
                        fputs(compare_usage, stderr);
                        return 2;
                }
        size_t n = (size_t)(argc - optind);
        if (n < 2 || n > MAX_RESULTS) {
                log_error(
                        "compare needs between 2 and %d results (directories or result.json files), got %zu",
                        MAX_RESULTS, n);
                fputs(compare_usage, stderr);
                return 2;
        }

        Result *results[MAX_RESULTS] = {};
        const char *labels[MAX_RESULTS];
        int status = 2;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *error = NULL;
                labels[i] = argv[optind + i];
                int k = result_read(labels[i], &results[i], &error);
                if (k < 0) {
                        log_error("cannot read results '%s': %s", labels[i], error ?: strerror(-k));
                        goto out;
                }
                if (results[i]->partial)
                        log_warning("'%s' is partial (the run did not finish): only its finished jobs are "
                                    "compared",
                                    labels[i]);
        }

        Comparison *cmp = NULL;
        int k = report_compare((const Result *const *)results, labels, n, &cmp);
        if (k < 0) {
                log_error("cannot compare: %s", strerror(-k));
                goto out;
        }
        /* Rows that only one result has compare nothing: a reference and a result without
         * a job in common (another scenario, renamed jobs) is a mistake, not a comparison. */
        for (size_t i = 1; i < n; i++) {
                bool common = false;
                for (size_t row = 0; row < cmp->n_rows && !common; row++)
                        common = cmp->rows[row].cells[0].present && cmp->rows[row].cells[i].present;
                if (!common) {
                        log_error("'%s' and '%s' have no job in common (same run configuration and job "
                                  "name, with a good time in both): nothing to compare",
                                  labels[0], labels[i]);
                        comparison_free(cmp);
                        status = 1;
                        goto out;
                }
        }
        for (char **w = cmp->warnings; w && *w; w++)
                log_warning("%s; the comparison may reflect the machine, not the code", *w);
        k = json ? report_compare_json(cmp, labels, stdout) : report_compare_table(cmp, labels, stdout);
        comparison_free(cmp);
        if (k >= 0 && fflush(stdout) == EOF)
                k = -EIO;
        if (k < 0) {
                log_error("cannot write the comparison: %s", strerror(-k));
                status = 1;
                goto out;
        }
        status = 0;
out:
        for (size_t i = 0; i < n; i++)
                result_free(results[i]);
        return status;
}
