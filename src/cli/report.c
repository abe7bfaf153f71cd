/* SPDX-License-Identifier: MIT */
/* corun report DIR: report.html, summary.md and results.csv of a results directory
 * (docs/report.md). `corun run` writes them at its end too; this rebuilds them, e.g.
 * after an interrupted run or with a newer corun. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "report/files.h"

static const char report_usage[] =
        "Usage: corun report DIR [DIR...]\n"
        "\n"
        "For each results directory DIR, writes DIR/report.html (one self-contained page: overview, timelines, memory,\n"
        "slowdowns, allocated vs used), DIR/summary.md and DIR/results.csv from\n"
        "DIR/result.json.\n"
        "\n"
        "Exit status: 0, 2 for bad arguments or a result that cannot be read, 1 when a\n"
        "file cannot be written. See docs/report.md.\n";

int cmd_report(int argc, char **argv) {
        static const struct option opts[] = {
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(report_usage, stdout);
                        return 0;
                default:
                        fputs(report_usage, stderr);
                        return 2;
                }
        if (argc - optind < 1) {
                log_error("report needs a results directory (one or more), like the newest one: "
                          "corun report \"$(ls -td corun-results/*/ | head -1)\"");
                fputs(report_usage, stderr);
                return 2;
        }
        int status = 0;
        for (int i = optind; i < argc; i++) {
                const char *dir = argv[i];
                _cleanup_free_ char *error = NULL;
                int k = report_write_all(dir, &error);
                if (k < 0) {
                        /* Reading fails before anything is written; a write error names its file. */
                        bool write_error = error && strneq(error, "cannot write", 12);
                        log_error("%s: %s", dir, error ?: strerror(-k));
                        status = MAX(status, write_error ? 1 : 2);
                        continue;
                }
                printf("%s/report.html\n%s/summary.md\n%s/results.csv\n", dir, dir, dir);
        }
        return status;
}
