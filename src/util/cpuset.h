/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A plain CPU bitmap, the same size as glibc's cpu_set_t (1024 CPUs). Plain data so
 * that pure stages (spec, alloc) can pass it around and compare it. */
#define CPUSET_MAX 1024
typedef struct CpuSet {
        uint64_t bits[CPUSET_MAX / 64];
} CpuSet;

static inline void cpuset_zero(CpuSet *s) {
        *s = (CpuSet){0};
}
static inline void cpuset_add(CpuSet *s, unsigned cpu) {
        if (cpu < CPUSET_MAX)
                s->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}
static inline void cpuset_del(CpuSet *s, unsigned cpu) {
        if (cpu < CPUSET_MAX)
                s->bits[cpu / 64] &= ~(UINT64_C(1) << (cpu % 64));
}
static inline bool cpuset_has(const CpuSet *s, unsigned cpu) {
        return cpu < CPUSET_MAX && (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}
unsigned cpuset_count(const CpuSet *s);
bool cpuset_is_empty(const CpuSet *s);
bool cpuset_equal(const CpuSet *a, const CpuSet *b);
bool cpuset_is_subset(const CpuSet *sub, const CpuSet *super);
bool cpuset_intersects(const CpuSet *a, const CpuSet *b);
void cpuset_or(CpuSet *dst, const CpuSet *src);
void cpuset_and(CpuSet *dst, const CpuSet *src);
void cpuset_andnot(CpuSet *dst, const CpuSet *src);
/* Lowest / highest member, or -1 when empty. next: the lowest member > after (-1 starts). */
int cpuset_first(const CpuSet *s);
int cpuset_last(const CpuSet *s);
int cpuset_next(const CpuSet *s, int after);
#define CPUSET_FOREACH(cpu, set) for (int cpu = cpuset_first(set); cpu >= 0; cpu = cpuset_next(set, cpu))

/* Parses the kernel's list format ("0-3,8,10-11", also "" and "\n" as empty).
 * Returns 0, -EINVAL on bad syntax or a reversed range, -ERANGE above CPUSET_MAX-1.
 * On error *ret_error_offset (if given) is the byte offset of the offending text. */
int cpuset_parse(const char *s, CpuSet *ret, size_t *ret_error_offset);
/* Formats in the kernel's list format; writes at most n bytes including NUL.
 * Returns the length that would be needed (like snprintf). Empty set -> "". */
int cpuset_format(const CpuSet *s, char *buf, size_t n);
/* Same, into a malloc'ed string (NULL on OOM). */
char *cpuset_to_string(const CpuSet *s);

/* "Cpus_allowed_list" or "Mems_allowed_list" of this process, from /proc/self/status.
 * -ENOENT when the key is missing, negative errno when the file cannot be read. */
int cpuset_from_proc_status(const char *key, CpuSet *ret);
