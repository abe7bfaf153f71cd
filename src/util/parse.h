/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Checked number parsers: the whole string must be consumed (a trailing '\n' is
 * allowed, for values read from /proc and cgroup files). Return 0, -EINVAL on bad
 * syntax, -ERANGE on overflow. ret is written only on success. */
int parse_u64(const char *s, uint64_t *ret);
int parse_i64(const char *s, int64_t *ret);
int parse_unsigned(const char *s, unsigned *ret);
int parse_double(const char *s, double *ret);
/* The same for the n bytes at s (a field inside a longer line), at most 31 of them. */
int parse_u64_span(const char *s, size_t n, uint64_t *ret);
int parse_i64_span(const char *s, size_t n, int64_t *ret);

/* Sizes: "512", "512B", "4K", "4k", "4KB", "4KiB", "1.5G", "195G", "2T". Binary
 * multiples (K = 1024) as docker, systemd and the kernel read them; "max"/"infinity"
 * -> UINT64_MAX (no limit). */
int parse_size(const char *s, uint64_t *ret);
/* Durations into microseconds: "500ms", "2h", "1h30m", "1.5s", "250us", "90" (seconds),
 * "infinity". */
int parse_duration(const char *s, uint64_t *ret_usec);
/* Signal name or number: "TERM", "SIGTERM", "15", "sigint". */
int parse_signal(const char *s, int *ret);

/* A character systemd takes unescaped in a unit name: [A-Za-z0-9:_.-]. */
bool unit_name_char_ok(char c);

/* "1.50 GiB", "512 MiB", "12 KiB", "100 B"; "max" for UINT64_MAX. */
const char *format_size(char *buf, size_t n, uint64_t bytes);
/* "1h02m05s", "3.214s", "412ms", "17us"; "infinity" for USEC_INFINITY. */
const char *format_duration(char *buf, size_t n, uint64_t usec);
#define FORMAT_SIZE_MAX 32
#define FORMAT_DURATION_MAX 32
