/* SPDX-License-Identifier: MIT */
#pragma once

/* Fault injection for the reliability tests (docs/reliability.md): CORUN_FAULT_AT=N makes
 * corun kill itself with SIGKILL at the Nth fault point it passes (a journal write, a group
 * or scratch dir created, a job spawned, a result file written, a group or scratch dir
 * removed), as a power cut or an OOM kill of the runner would. CORUN_FAULT_COUNT=FILE writes the number
 * of points passed to FILE when corun exits. Unset (the normal case), a point costs a
 * branch: the environment is read once. */
#include <errno.h>
int fault_point(const char *site);
/* With CORUN_FAULT_ERRNO=EIO (or ENOSPC, EACCES, or a number) as well, the Nth point does
 * not kill: it returns that error (negative), as a disk that fails would, and the caller
 * handles it as it handles the real thing. Points that cannot fail ignore it. Otherwise
 * (and always when unset) fault_point returns 0. */
