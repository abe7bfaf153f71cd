/* SPDX-License-Identifier: MIT */
#include "util/fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int state; /* 0 unread, 1 off, 2 on */
static unsigned long at, passed;
static const char *count_file;
static int fail_errno;

static void write_count(void) {
        FILE *f = fopen(count_file, "we");
        if (f) {
                fprintf(f, "%lu\n", passed);
                fclose(f);
        }
}

static int errno_from_name(const char *s) {
        static const struct {
                const char *name;
                int e;
        } names[] = {{"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EACCES", EACCES}, {"EROFS", EROFS}, {"EDQUOT", EDQUOT}};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (strcmp(s, names[i].name) == 0)
                        return names[i].e;
        return (int)strtol(s, NULL, 10);
}

int fault_point(const char *site) {
        if (state == 0) {
                const char *a = getenv("CORUN_FAULT_AT");
                count_file = getenv("CORUN_FAULT_COUNT");
                if (count_file && !*count_file)
                        count_file = NULL;
                at = a ? strtoul(a, NULL, 10) : 0;
                const char *e = getenv("CORUN_FAULT_ERRNO");
                fail_errno = e && *e ? errno_from_name(e) : 0;
                state = at > 0 || count_file ? 2 : 1;
                if (count_file)
                        atexit(write_count);
        }
        if (state == 1)
                return 0;
        passed++;
        if (count_file)
                write_count(); /* also right for a run killed later by the test itself */
        if (at > 0 && passed == at && fail_errno > 0) {
                fprintf(stderr, "corun: fault injection: %s at point %lu (%s)\n", strerror(fail_errno), passed, site);
                return -fail_errno;
        }
        if (at > 0 && passed == at) {
                fprintf(stderr, "corun: fault injection: killed at point %lu (%s)\n", passed, site);
                (void)kill(getpid(), SIGKILL);
        }
        return 0;
}
