/* SPDX-License-Identifier: MIT */
#include "util/parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/macros.h"

static bool at_end(const char *p) {
        return *p == '\0' || (p[0] == '\n' && p[1] == '\0');
}

int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        if (!s || !isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (end == s || !at_end(end))
                return -EINVAL;
        *ret = (uint64_t)v;
        return 0;
}

/* The n bytes at s as a string of their own; -EINVAL when empty or too long for a number. */
static int span_copy(const char *s, size_t n, char tmp[static 32]) {
        if (n == 0 || n >= 32)
                return -EINVAL;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        return 0;
}

int parse_u64_span(const char *s, size_t n, uint64_t *ret) {
        char tmp[32];
        int r = span_copy(s, n, tmp);
        return r < 0 ? r : parse_u64(tmp, ret);
}

int parse_i64_span(const char *s, size_t n, int64_t *ret) {
        char tmp[32];
        int r = span_copy(s, n, tmp);
        return r < 0 ? r : parse_i64(tmp, ret);
}

int parse_i64(const char *s, int64_t *ret) {
        char *end;
        if (!s || !(isdigit((unsigned char)*s) || ((*s == '-' || *s == '+') && isdigit((unsigned char)s[1]))))
                return -EINVAL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (end == s || !at_end(end))
                return -EINVAL;
        *ret = (int64_t)v;
        return 0;
}

int parse_unsigned(const char *s, unsigned *ret) {
        uint64_t v;
        int r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

int parse_double(const char *s, double *ret) {
        char *end;
        if (!s || !*s || isspace((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno == ERANGE)
                return -ERANGE;
        if (end == s || !at_end(end) || !isfinite(v))
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Reads "<decimal number><unit>", number with at most one '.', no sign, no exponent. */
static int split_number(const char *s, double *ret_value, const char **ret_unit, bool *ret_integral,
                        uint64_t *ret_int) {
        const char *p = s;
        uint64_t ip = 0;
        bool overflow = false, any = false;
        while (isdigit((unsigned char)*p)) {
                unsigned d = (unsigned)(*p - '0');
                if (ip > (UINT64_MAX - d) / 10)
                        overflow = true;
                else
                        ip = ip * 10 + d;
                any = true;
                p++;
        }
        double frac = 0, scale = 1;
        bool integral = true;
        if (*p == '.') {
                p++;
                integral = false;
                while (isdigit((unsigned char)*p)) {
                        scale /= 10;
                        frac += (*p - '0') * scale;
                        any = true;
                        p++;
                }
        }
        if (!any)
                return -EINVAL;
        if (overflow)
                return -ERANGE;
        *ret_value = (double)ip + frac;
        *ret_unit = p;
        *ret_integral = integral;
        *ret_int = ip;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                unsigned shift;
        } units[] = {
                {"", 0},    {"b", 0},    {"k", 10},   {"kb", 10}, {"kib", 10}, {"m", 20},
                {"mb", 20}, {"mib", 20}, {"g", 30},   {"gb", 30}, {"gib", 30}, {"t", 40},
                {"tb", 40}, {"tib", 40}, {"p", 50},   {"pb", 50}, {"pib", 50},
        };
        if (!s)
                return -EINVAL;
        if (strcasecmp(s, "max") == 0 || strcasecmp(s, "infinity") == 0 || strcasecmp(s, "unlimited") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        double v;
        const char *unit;
        bool integral;
        uint64_t iv;
        int r = split_number(s, &v, &unit, &integral, &iv);
        if (r < 0)
                return r;
        while (*unit == ' ')
                unit++;
        char u[8];
        size_t ul = strlen(unit);
        if (ul > 0 && unit[ul - 1] == '\n')
                ul--;
        if (ul >= sizeof u)
                return -EINVAL;
        for (size_t i = 0; i < ul; i++)
                u[i] = (char)tolower((unsigned char)unit[i]);
        u[ul] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (!streq(u, units[i].suffix))
                        continue;
                if (integral) {
                        if (units[i].shift && iv > (UINT64_MAX >> units[i].shift))
                                return -ERANGE;
                        *ret = iv << units[i].shift;
                        return 0;
                }
                double b = v * (double)(UINT64_C(1) << units[i].shift);
                /* 2^64 exactly as a double; round() and not llround(), whose long long
                 * result overflows above 2^63 ("15000.5P"). */
                if (b >= 18446744073709551616.0)
                        return -ERANGE;
                *ret = (uint64_t)round(b);
                return 0;
        }
        return -EINVAL;
}

int parse_duration(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                {"us", 1},
                {"usec", 1},
                {"ms", USEC_PER_MSEC},
                {"msec", USEC_PER_MSEC},
                {"s", USEC_PER_SEC},
                {"sec", USEC_PER_SEC},
                {"m", 60 * USEC_PER_SEC},
                {"min", 60 * USEC_PER_SEC},
                {"h", 3600 * USEC_PER_SEC},
                {"hr", 3600 * USEC_PER_SEC},
                {"d", 86400 * USEC_PER_SEC},
        };
        if (!s)
                return -EINVAL;
        if (strcasecmp(s, "infinity") == 0 || strcasecmp(s, "none") == 0) {
                *ret_usec = USEC_INFINITY;
                return 0;
        }
        const char *p = s;
        double total = 0;
        bool any = false;
        while (!at_end(p)) {
                double v;
                const char *unit;
                bool integral;
                uint64_t iv;
                int r = split_number(p, &v, &unit, &integral, &iv);
                if (r < 0)
                        return r;
                const char *e = unit;
                while (isalpha((unsigned char)*e))
                        e++;
                size_t ul = (size_t)(e - unit);
                uint64_t mult = 0;
                if (ul == 0) {
                        /* A bare number is seconds, and only alone ("90"), as in timeout(1). */
                        if (any || !at_end(e))
                                return -EINVAL;
                        mult = USEC_PER_SEC;
                } else {
                        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                                if (strlen(units[i].suffix) == ul && strncasecmp(unit, units[i].suffix, ul) == 0)
                                        mult = units[i].usec;
                        if (!mult)
                                return -EINVAL;
                }
                total += v * (double)mult;
                any = true;
                p = e;
        }
        if (!any)
                return -EINVAL;
        /* Below 2^64 - 1 (USEC_INFINITY, which only "infinity" may produce); round() and
         * not llround(), whose long long result overflows above 2^63. */
        if (total >= 18446744073709549568.0)
                return -ERANGE;
        *ret_usec = (uint64_t)round(total);
        return 0;
}

int parse_signal(const char *s, int *ret) {
        static const struct {
                const char *name;
                int sig;
        } sigs[] = {
                {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
                {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"ALRM", SIGALRM},
                {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"ABRT", SIGABRT}, {"XCPU", SIGXCPU},
        };
        if (!s)
                return -EINVAL;
        unsigned n;
        if (parse_unsigned(s, &n) == 0) {
                if (n < 1 || n > (unsigned)SIGRTMAX)
                        return -ERANGE;
                *ret = (int)n;
                return 0;
        }
        const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                if (strcasecmp(name, sigs[i].name) == 0) {
                        *ret = sigs[i].sig;
                        return 0;
                }
        return -EINVAL;
}

const char *format_size(char *buf, size_t n, uint64_t bytes) {
        static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        if (bytes == UINT64_MAX) {
                snprintf(buf, n, "max");
                return buf;
        }
        size_t i = 0;
        double v = (double)bytes;
        /* 1023.5 and up would print as "1024 KiB": move to the next unit instead. */
        while (v >= 1023.5 && i + 1 < ELEMENTSOF(u)) {
                v /= 1024;
                i++;
        }
        if (i == 0)
                snprintf(buf, n, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, n, v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, u[i]);
        return buf;
}

const char *format_duration(char *buf, size_t n, uint64_t usec) {
        if (usec == USEC_INFINITY)
                snprintf(buf, n, "infinity");
        else if (usec >= 3600 * USEC_PER_SEC)
                snprintf(buf, n, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", usec / (3600 * USEC_PER_SEC),
                         usec / (60 * USEC_PER_SEC) % 60, usec / USEC_PER_SEC % 60);
        else if (usec >= 60 * USEC_PER_SEC)
                snprintf(buf, n, "%" PRIu64 "m%02" PRIu64 "s", usec / (60 * USEC_PER_SEC), usec / USEC_PER_SEC % 60);
        else if (usec >= 59999500) /* would print as "60.000s" */
                snprintf(buf, n, "1m00s");
        else if (usec >= 999950) /* from here "%.1fms" would print "1000.0ms" */
                snprintf(buf, n, "%.3fs", (double)usec / USEC_PER_SEC);
        else if (usec >= USEC_PER_MSEC)
                snprintf(buf, n, "%.1fms", (double)usec / USEC_PER_MSEC);
        else
                snprintf(buf, n, "%" PRIu64 "us", usec);
        return buf;
}

bool unit_name_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr(":_.-", c));
}
