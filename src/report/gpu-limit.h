/* SPDX-License-Identifier: MIT */
#pragma once

/* How a job's GPU limits read in the summary, results.csv and report.html (one wording
 * everywhere): "cap 30%", "share 30%+lent", "limit 8.00 GiB". */

#include <stddef.h>

#include "result/result.h"

/* The first of the job's GPUs with a share, or NULL. */
const JobGpuResult *report_gpu_share_of(const JobResult *j);
/* "cap 30%" (mode cap) or "share 30%+lent" (mode share: the guarantee, and what others
 * lent on top); NULL when g has no share. */
const char *report_gpu_share_label(const JobGpuResult *g, char *buf, size_t n);
/* The share part of the summary's GPU line: "cap 30% by shim, throttled 12.3s", with
 * "applied 25%" when the mechanism applied another share, and "not held" when the share
 * could not be held; "" without a share. */
const char *report_gpu_share_text(const JobGpuResult *g, char *buf, size_t n);
/* The memory part: "limit 8.00 GiB", ", 2 allocations refused" when any were; "" without
 * a memory limit. */
const char *report_gpu_memory_text(const JobGpuResult *g, char *buf, size_t n);
