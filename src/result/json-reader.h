/* SPDX-License-Identifier: MIT */
#pragma once

/* Typed reads from a JSON document (jansson) with the path of the value being read, for
 * messages that say where a document is wrong. For the readers in result/; the library
 * never prints: the first error is kept in Reader.error. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macros.h"

typedef struct Reader {
        const char *file;
        char path[256]; /* where in the document we are: "runs[2].jobs[0].memory" */
        char *error;    /* "FILE: PATH: what is wrong", malloc'ed */
} Reader;

/* Extends the path by a key (".key") or an index ("[3]") and returns a mark for rd_pop. */
size_t rd_push(Reader *rd, const char *fmt, ...) _printf_(2, 3);
void rd_pop(Reader *rd, size_t mark);
/* Sets rd->error about rd->path + key (key NULL: the value at rd->path itself) and
 * returns -EINVAL. */
int rd_fail(Reader *rd, const char *key, const char *what);

/* Each getter leaves *ret alone when the key is missing (the caller's default stays),
 * maps null as documented, and fails (rd_fail) on a value of the wrong type. */
int rd_str(Reader *rd, json_t *o, const char *key, char **ret);
int rd_double(Reader *rd, json_t *o, const char *key, double if_null, double *ret);
/* null is UINT64_MAX ("no limit"). */
int rd_u64(Reader *rd, json_t *o, const char *key, uint64_t *ret);
int rd_unsigned(Reader *rd, json_t *o, const char *key, unsigned *ret); /* null keeps *ret */
int rd_int(Reader *rd, json_t *o, const char *key, int if_null, int *ret);
int rd_bool(Reader *rd, json_t *o, const char *key, bool *ret);

/* Reads o[key] (an object, or an array when array is set) with fn, the path extended by
 * key; missing or null is fine and reads nothing. */
typedef int (*ReadFn)(Reader *rd, json_t *v, void *userdata);
int rd_section(Reader *rd, json_t *o, const char *key, bool array, ReadFn fn, void *userdata);
/* Calls fn on every element of the array a, each of which must be an object. */
int rd_each(Reader *rd, json_t *a, ReadFn fn, void *userdata);
