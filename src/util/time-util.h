/* SPDX-License-Identifier: MIT */
#pragma once

/* The one time helper: microseconds on a given clock (CLOCK_MONOTONIC for durations and
 * deadlines, CLOCK_REALTIME for timestamps people read). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

uint64_t now_usec(clockid_t clock);
/* The current UTC time as a results-directory stamp (20261123T130223Z) or, with rfc3339,
 * as 2026-11-23T13:02:23Z. */
void utc_stamp(char *buf, size_t n, bool rfc3339);
