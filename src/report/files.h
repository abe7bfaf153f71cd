/* SPDX-License-Identifier: MIT */
#pragma once

/* The report files of a results directory: report.html, summary.md and results.csv,
 * each written once and atomically (util's write_file_atomic: a reader never sees half
 * of one). */

#include "result/result.h"

/* Writes dir/report.html, dir/summary.md and dir/results.csv from r. On error
 * *ret_error (if not NULL) gets "cannot write FILE: reason"; returns a negative errno. */
int report_write_result(const Result *r, const char *dir, char **ret_error);
/* Reads dir/result.json and writes the three files from it. On error *ret_error (if not
 * NULL) gets a message naming the file; returns a negative errno. */
int report_write_all(const char *dir, char **ret_error);
