/* SPDX-License-Identifier: MIT */
#pragma once

/* report.html: one self-contained file (inline CSS and SVG, no script, nothing loaded
 * from anywhere) with the verdict overview, a timeline per run, memory over time,
 * slowdown bars and allocated-vs-used resources (docs/report.md). Every string from the
 * result (job names, commands, scenario names, host fields) is HTML-escaped. */

#include <stdio.h>

#include "report/files.h" /* report_write_all, which callers of this header use */
#include "result/result.h"

/* dir: the results directory the jobs' samples/ paths are relative to; NULL leaves the
 * memory charts out. Returns 0 or -ENOMEM / -EIO. */
int report_html(const Result *r, const char *dir, FILE *f);
