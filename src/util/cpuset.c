/* SPDX-License-Identifier: MIT */
#include "util/cpuset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macros.h"

unsigned cpuset_count(const CpuSet *s) {
        unsigned n = 0;
        for (size_t i = 0; i < CPUSET_MAX / 64; i++)
                n += (unsigned)__builtin_popcountll(s->bits[i]);
        return n;
}

bool cpuset_is_empty(const CpuSet *s) {
        for (size_t i = 0; i < CPUSET_MAX / 64; i++)
                if (s->bits[i])
                        return false;
        return true;
}

bool cpuset_equal(const CpuSet *a, const CpuSet *b) {
        for (size_t i = 0; i < CPUSET_MAX / 64; i++)
                if (a->bits[i] != b->bits[i])
                        return false;
        return true;
}

bool cpuset_is_subset(const CpuSet *sub, const CpuSet *super) {
        for (size_t i = 0; i < CPUSET_MAX / 64; i++)
                if (sub->bits[i] & ~super->bits[i])
                        return false;
        return true;
}

bool cpuset_intersects(const CpuSet *a, const CpuSet *b) {
        for (size_t i = 0; i < CPUSET_MAX / 64; i++)
                if (a->bits[i] & b->bits[i])
                        return true;
        return false;
}

void cpuset_or(CpuSet *dst, const CpuSet *src) {
        for (size_t i = 0; i < CPUSET_MAX / 64; i++)
                dst->bits[i] |= src->bits[i];
}

void cpuset_and(CpuSet *dst, const CpuSet *src) {
        for (size_t i = 0; i < CPUSET_MAX / 64; i++)
                dst->bits[i] &= src->bits[i];
}

void cpuset_andnot(CpuSet *dst, const CpuSet *src) {
        for (size_t i = 0; i < CPUSET_MAX / 64; i++)
                dst->bits[i] &= ~src->bits[i];
}

int cpuset_next(const CpuSet *s, int after) {
        unsigned start = after < 0 ? 0 : (unsigned)after + 1;
        for (unsigned w = start / 64; w < CPUSET_MAX / 64; w++) {
                uint64_t word = s->bits[w];
                if (w == start / 64)
                        word &= ~UINT64_C(0) << (start % 64);
                if (word)
                        return (int)(w * 64 + (unsigned)__builtin_ctzll(word));
        }
        return -1;
}

int cpuset_first(const CpuSet *s) {
        return cpuset_next(s, -1);
}

int cpuset_last(const CpuSet *s) {
        for (int w = CPUSET_MAX / 64 - 1; w >= 0; w--)
                if (s->bits[w])
                        return w * 64 + 63 - __builtin_clzll(s->bits[w]);
        return -1;
}

static int parse_cpu_number(const char **p, unsigned *ret) {
        const char *s = *p;
        unsigned long v = 0;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        while (*s >= '0' && *s <= '9') {
                v = v * 10 + (unsigned long)(*s - '0');
                if (v >= CPUSET_MAX)
                        return -ERANGE;
                s++;
        }
        *p = s;
        *ret = (unsigned)v;
        return 0;
}

int cpuset_parse(const char *str, CpuSet *ret, size_t *ret_error_offset) {
        CpuSet set = {0};
        const char *p = str;
        int r;

        while (*p == ' ' || *p == '\t')
                p++;
        if (*p == '\0' || *p == '\n') {
                *ret = set;
                return 0;
        }
        for (;;) {
                unsigned a, b;
                const char *item = p;
                r = parse_cpu_number(&p, &a);
                if (r < 0)
                        goto fail_at_p;
                b = a;
                if (*p == '-') {
                        p++;
                        r = parse_cpu_number(&p, &b);
                        if (r < 0)
                                goto fail_at_p;
                        if (b < a) {
                                p = item;
                                r = -EINVAL;
                                goto fail_at_p;
                        }
                }
                for (unsigned c = a; c <= b; c++)
                        cpuset_add(&set, c);
                if (*p == ',') {
                        p++;
                        continue;
                }
                while (*p == ' ' || *p == '\t' || *p == '\n')
                        p++;
                if (*p != '\0') {
                        r = -EINVAL;
                        goto fail_at_p;
                }
                break;
        }
        *ret = set;
        return 0;
fail_at_p:
        if (ret_error_offset)
                *ret_error_offset = (size_t)(p - str);
        return r;
}

int cpuset_format(const CpuSet *s, char *buf, size_t n) {
        size_t len = 0;
        int cpu = cpuset_first(s);
        if (n > 0)
                buf[0] = '\0';
        while (cpu >= 0) {
                int end = cpu;
                while (end + 1 < CPUSET_MAX && cpuset_has(s, (unsigned)end + 1))
                        end++;
                char item[32];
                int k = end == cpu ? snprintf(item, sizeof item, "%s%d", len ? "," : "", cpu)
                                   : snprintf(item, sizeof item, "%s%d-%d", len ? "," : "", cpu, end);
                if (len + (size_t)k < n)
                        memcpy(buf + len, item, (size_t)k + 1);
                else if (n > 0)
                        buf[n - 1 < len ? n - 1 : len] = '\0';
                len += (size_t)k;
                cpu = cpuset_next(s, end);
        }
        return (int)len;
}

char *cpuset_to_string(const CpuSet *s) {
        int n = cpuset_format(s, NULL, 0);
        char *b = malloc((size_t)n + 1);
        if (!b)
                return NULL;
        cpuset_format(s, b, (size_t)n + 1);
        return b;
}

int cpuset_from_proc_status(const char *key, CpuSet *ret) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        if (!f)
                return -errno;
        char line[4096];
        size_t kl = strlen(key);
        while (fgets(line, sizeof line, f))
                if (strneq(line, key, kl) && line[kl] == ':') {
                        char *v = line + kl + 1;
                        v += strspn(v, " \t");
                        v[strcspn(v, "\n")] = '\0';
                        return cpuset_parse(v, ret, NULL);
                }
        return -ENOENT;
}
