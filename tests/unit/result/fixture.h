/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "result/result.h"

/* A Result with every field of every struct set (to values a double holds exactly), in
 * two runs: a solo baseline and a crowded run with two replicas and matrix params. Its
 * jobs end in every way the table distinguishes: ok, nonzero exit, wall and CPU timeout,
 * OOM kill, failed to start, GPU memory limit (gpu-oom); three have GPUs: capped with a
 * memory limit, a share on MPS, unlimited. */
Result *fixture_full(void);

/* Compares text with golden/<name> byte for byte and fails the test on a difference.
 * With CORUN_UPDATE_GOLDEN=1 in the environment it rewrites the golden file instead (as
 * hwloc's HWLOC_UPDATE_TEST_TOPOLOGY_OUTPUT does): review the diff before committing. */
void golden_check(const char *name, const char *text, size_t len);

/* Reads a whole file into a NUL-terminated buffer (test helper; aborts the test on error). */
char *read_all(const char *path, size_t *ret_len);
