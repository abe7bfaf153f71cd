/* SPDX-License-Identifier: MIT */
#pragma once

/* Building result.json with jansson (the writer's side of json-reader.h), for the writers
 * in result/: every builder returns NULL on an allocation failure, and jw_put/jw_append
 * take a NULL value as that failure, so that a whole object's worth of calls is OR'ed
 * and checked once (jw_finish). */

#include <jansson.h>
#include <stdint.h>

/* A string, null for NULL; bytes that are not UTF-8 (which JSON requires) become U+FFFD. */
json_t *jw_str(const char *s);
/* Byte and count values; UINT64_MAX means "no limit" and is written as null. */
json_t *jw_u64(uint64_t v);
/* NaN and infinities are not JSON: null. */
json_t *jw_dbl(double d);
/* An array of pids. */
json_t *jw_pids(const int64_t *pids, unsigned n);
/* Adds key -> v (stealing v); a NULL v is an allocation failure. Returns 0 or -1. */
int jw_put(json_t *o, const char *key, json_t *v);
/* Appends v (stealing it); NULL is a failure. Returns 0 or -1. */
int jw_append(json_t *a, json_t *v);
/* The end of every builder: v, or NULL (v freed) when any step failed. */
json_t *jw_finish(json_t *v, int failed);
