/* SPDX-License-Identifier: MIT */
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>

int error_setv(char **ret_error, int r, const char *fmt, va_list ap) {
        if (!ret_error)
                return r;
        char *m = NULL;
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        free(*ret_error);
        *ret_error = m;
        return r;
}

int error_setf(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        r = error_setv(ret_error, r, fmt, ap);
        va_end(ap);
        return r;
}
