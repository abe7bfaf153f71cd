/* SPDX-License-Identifier: MIT */
/* corun collect DIR: one result.json out of what a Slurm job's steps wrote (docs/slurm.md),
 * then the same report files as after a local run. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "report/html.h"
#include "report/summary.h"
#include "result/result.h"
#include "slurm/slurm.h"

static const char collect_usage[] =
        "Usage: corun collect [--state STATE] [-q] DIR\n"
        "\n"
        "Merges the per-step results of a Slurm job (the directory its script printed, with\n"
        "slurm.json inside) into DIR/result.json with \"executor\": \"slurm\", then writes\n"
        "report.html, summary.md and results.csv. A job whose step Slurm did not run is\n"
        "reported as failed-to-start with the reason Slurm gave.\n"
        "\n"
        "      --state STATE  the Slurm job's final state (e.g. CANCELLED), when known\n"
        "  -q, --quiet        no summary table\n"
        "\n"
        "Exit status: 0 when every job exited 0, 1 when one did not, 2 when DIR cannot be merged.\n";

int cmd_collect(int argc, char **argv) {
        static const struct option opts[] = {
                {"state", required_argument, NULL, 's'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *state = NULL;
        bool quiet = false;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "hq", opts, NULL)) >= 0)
                switch (c) {
                case 's':
                        state = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        fputs(collect_usage, stdout);
                        return 0;
                default:
                        fputs(collect_usage, stderr);
                        return 2;
                }
        if (argc - optind != 1) {
                log_error("collect needs exactly one results directory");
                fputs(collect_usage, stderr);
                return 2;
        }
        const char *dir = argv[optind];
        _cleanup_free_ char *err = NULL, *rerr = NULL;
        int r = slurm_collect(dir, state, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                return 2;
        }
        if (report_write_all(dir, &rerr) < 0)
                log_warning("cannot write the report: %s", rerr ? rerr : "unknown error");
        Result *res = NULL;
        free(err);
        err = NULL;
        r = result_read(dir, &res, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                return 2;
        }
        bool ok = slurm_result_all_ok(res);
        if (!quiet) {
                report_summary_table(res, stdout, use_color(STDOUT_FILENO));
                printf("\nresults: %s/result.json\nreport:  %s/report.html\n", dir, dir);
        }
        result_free(res);
        return ok ? 0 : 1;
}
