/* SPDX-License-Identifier: MIT */
#pragma once

/* The one way the library hands a message back (CONVENTIONS 6, 19): functions return a
 * negative errno and, when the caller passed a ret_error, a malloc'ed message saying what
 * happened and where. The library never prints; the CLI shows the message once. */

#include <stdarg.h>

#include "util/macros.h"

/* Replaces *ret_error (when ret_error is not NULL; a previous message is freed) with the
 * formatted message and returns r, so callers write `return error_setf(ret, -errno, ...)`.
 * Out of memory leaves *ret_error NULL; r is still returned. */
int error_setf(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
int error_setv(char **ret_error, int r, const char *fmt, va_list ap) _printf_(3, 0);
