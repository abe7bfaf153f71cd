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

/* Messages: "corun: ..." to stderr, colour only on a TTY without NO_COLOR. */
void log_error(const char *fmt, ...) _printf_(1, 2);
void log_warning(const char *fmt, ...) _printf_(1, 2);
void log_info(const char *fmt, ...) _printf_(1, 2);
extern bool arg_verbose;
bool use_color(int fd);
#include "util/fileio.h"
