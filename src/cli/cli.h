/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "util/macros.h"

/* Each subcommand gets argv starting at its own name (argv[0] = "run"). Returns the
 * process exit status. Only cli/ prints and exits. */
int cmd_run(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_stress(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_phases(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_slurm_step(int argc, char **argv);
/* Slurm (cli/slurm-run.c, cli/export.c): `run --slurm` is dispatched from the top of
 * cmd_run by run_slurm_dispatch (true: handled, *ret_status is the exit status). */
int cmd_run_slurm(int argc, char **argv);
bool run_slurm_dispatch(int argc, char **argv, int *ret_status);
struct SlurmExportOptions;
int slurm_cli_write_script(const char *file, const struct SlurmExportOptions *base, const char *path);
/* This corun binary's absolute path (readlink /proc/self/exe; "corun" when unknown), malloc'ed. */
char *cli_self_path(void);

/* Messages: "corun: ..." to stderr, colour only on a TTY without NO_COLOR. */
void log_error(const char *fmt, ...) _printf_(1, 2);
void log_warning(const char *fmt, ...) _printf_(1, 2);
void log_info(const char *fmt, ...) _printf_(1, 2);
extern bool arg_verbose;
extern int arg_color;      /* --style: 1 always, 0 never, -1 when the terminal says */
extern bool arg_no_live;   /* --style basic, --show-output: event lines, no live block */
bool use_color(int fd);
#include "util/fileio.h"
