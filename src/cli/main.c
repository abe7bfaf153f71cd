/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

bool arg_verbose = false;
int arg_color = -1;
bool arg_no_live = false;

bool use_color(int fd) {
        const char *t = getenv("TERM");
        if (arg_color >= 0)
                return arg_color;
        return isatty(fd) && !getenv("NO_COLOR") && !(t && streq(t, "dumb"));
}

static void vlog(const char *prefix, const char *color, const char *fmt, va_list ap) {
        bool c = use_color(STDERR_FILENO);
        fprintf(stderr, "corun: %s%s%s", c ? color : "", prefix, c ? "\033[0m" : "");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

void log_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vlog("error: ", "\033[1;31m", fmt, ap);
        va_end(ap);
}

void log_warning(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vlog("warning: ", "\033[1;33m", fmt, ap);
        va_end(ap);
}

void log_info(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vlog("", "", fmt, ap);
        va_end(ap);
}

typedef struct Command {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *help;
} Command;

static const Command commands[] = {
        {"run", cmd_run, "run a scenario file or commands side by side in partitions"},
        {"cleanup", cmd_cleanup, "remove what killed runs left behind (groups, processes, scratch dirs)"},
        {"doctor", cmd_doctor, "is this machine ready? backend, controllers, delegation, SMT, governor"},
        {"plan", cmd_plan, "where every job would be placed (dry run); --topology for another machine"},
        {"report", cmd_report, "write report.html, summary.md and results.csv for a results directory"},
        {"compare", cmd_compare, "compare results: 1.42x slower / not significant, per job"},
        {"phases", cmd_phases, "phase durations and metrics from existing logs (same patterns as a run)"},
        {"export", cmd_export, "write the plan as an sbatch script: export slurm FILE --mode node|steps|array"},
        {"collect", cmd_collect, "merge the step results of a Slurm job into one result.json"},
        {"slurm-step", cmd_slurm_step, "(used by exported Slurm scripts) one run or job of a plan in a step"},
        {"stress", cmd_stress, "built-in workloads: stress cpu|mem|sleep|output"},
};

/* Levenshtein distance, for "did you mean" (command names are short). */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        if (la > 32 || lb > 32)
                return SIZE_MAX;
        size_t row[33];
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t best = MIN(row[j] + 1, row[j - 1] + 1);
                        row[j] = MIN(best, diag + (a[i - 1] != b[j - 1]));
                        diag = up;
                }
        }
        return row[lb];
}

static void usage(FILE *f) {
        fprintf(f, "Usage: corun COMMAND [OPTIONS]\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
        fprintf(f, "\n'corun COMMAND --help' shows a command's options; 'man corun' has the rest.\n");
}

int main(int argc, char **argv) {
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        if (streq(argv[1], "--version") || streq(argv[1], "version")) {
                printf("corun %s\n", CORUN_VERSION);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[1], commands[i].name))
                        return commands[i].fn(argc - 1, argv + 1);
        const char *best = NULL;
        size_t best_d = 3; /* at most two edits away: "runn", "doctr", "clenaup" */
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                size_t d = edit_distance(argv[1], commands[i].name);
                if (d < best_d) {
                        best_d = d;
                        best = commands[i].name;
                }
        }
        if (best)
                log_error("unknown command '%s'; did you mean '%s'? ('corun --help' lists them)", argv[1], best);
        else
                log_error("unknown command '%s'; run 'corun --help' for the list", argv[1]);
        return 2;
}
