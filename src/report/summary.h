/* SPDX-License-Identifier: MIT */
#pragma once

/* The end-of-run summary: one row per job of every run, then a tally line
 * ("N jobs: X ok, Y failed (oom: 1, ...)"). Plain text for the terminal and Markdown
 * for the results directory's summary.md. */

#include <stdbool.h>
#include <stdio.h>

#include "result/result.h"

/* An aligned table; color: the reason of every job that did not exit 0 is red (ANSI),
 * for a TTY without NO_COLOR (the caller decides). Returns 0 or -ENOMEM / -EIO. */
int report_summary_table(const Result *r, FILE *f, bool color);
/* The same as a Markdown document: title, host metadata lines, the table, the tally,
 * failures to start and warnings. Returns 0 or -ENOMEM / -EIO. */
int report_summary_markdown(const Result *r, FILE *f);
