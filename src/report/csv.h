/* SPDX-License-Identifier: MIT */
#pragma once

/* results.csv: one flat row per job instance of every run, for spreadsheets and
 * pandas (docs/report.md lists the columns). */

#include <stdio.h>

#include "result/result.h"

/* RFC 4180 (fields with a comma, quote or line break are quoted); numbers in C locale
 * form; a missing value (no limit, no signal, phase not reached) is an empty field.
 * One column per phase name found in any job, "phase:NAME" (its wall time in s).
 * Returns 0 or -ENOMEM / -EIO. */
int report_csv(const Result *r, FILE *f);
