/* SPDX-License-Identifier: MIT */
#pragma once

/* The one time helper: microseconds on a given clock (CLOCK_MONOTONIC for durations and
 * deadlines, CLOCK_REALTIME for timestamps people read). */

#include <stdint.h>
#include <time.h>

uint64_t now_usec(clockid_t clock);
