/* SPDX-License-Identifier: MIT */
#pragma once

/* The one way topo/ and alloc/ hand a message back: the library never prints, the caller
 * (the CLI) shows *ret_error. */

#include <stdarg.h>
#include <stdio.h>

#include "util/macros.h"

/* Fills *ret_error (when the caller asked for one) and returns r. */
static inline int errmsg_set(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static inline int errmsg_set(char **ret_error, int r, const char *fmt, ...) {
        if (ret_error) {
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}
