/* SPDX-License-Identifier: MIT */
/* Typed reads from a JSON document that keep track of where they are, so that every
 * complaint names the file and the place in it ("result.json: runs[2].jobs[0].memory.
 * peak_bytes: expected a non-negative integer or null"). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result/json-reader.h"
#include "util/error.h"
#include "util/macros.h"

size_t rd_push(Reader *rd, const char *fmt, ...) {
        size_t mark = strlen(rd->path);
        va_list ap;
        if (mark > 0 && mark + 1 < sizeof rd->path && fmt[0] != '[')
                rd->path[mark] = '.', rd->path[mark + 1] = '\0';
        size_t at = strlen(rd->path);
        va_start(ap, fmt);
        if (at < sizeof rd->path)
                vsnprintf(rd->path + at, sizeof rd->path - at, fmt, ap);
        va_end(ap);
        return mark;
}

void rd_pop(Reader *rd, size_t mark) {
        rd->path[mark] = '\0';
}

/* key NULL: the error is about the value at rd->path itself. */
int rd_fail(Reader *rd, const char *key, const char *what) {
        size_t mark = key ? rd_push(rd, "%s", key) : strlen(rd->path);
        (void)error_setf(&rd->error, -EINVAL, "%s: %s: %s", rd->file, rd->path, what);
        rd_pop(rd, mark);
        return -EINVAL;
}

/* Each getter leaves *ret alone when the key is missing (the caller's default stays),
 * maps null as documented, and fails on a value of the wrong type. */
int rd_str(Reader *rd, json_t *o, const char *key, char **ret) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return rd_fail(rd, key, "expected a string");
        char *s = strdup(json_string_value(v));
        if (!s)
                return -ENOMEM;
        free(*ret);
        *ret = s;
        return 0;
}

int rd_double(Reader *rd, json_t *o, const char *key, double if_null, double *ret) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return 0;
        if (json_is_null(v))
                *ret = if_null;
        else if (json_is_number(v))
                *ret = json_number_value(v);
        else
                return rd_fail(rd, key, "expected a number");
        return 0;
}

static int rd_int64(Reader *rd, json_t *o, const char *key, int64_t lo, int64_t hi, int64_t if_null,
                    int64_t *ret) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return 0;
        if (json_is_null(v)) {
                *ret = if_null;
                return 0;
        }
        if (!json_is_integer(v))
                return rd_fail(rd, key, "expected an integer");
        json_int_t x = json_integer_value(v);
        if (x < lo || x > hi)
                return rd_fail(rd, key, "value out of range");
        *ret = x;
        return 0;
}

/* null is UINT64_MAX: "no limit" for limits, the writer's stand-in for values JSON
 * integers cannot hold otherwise. */
int rd_u64(Reader *rd, json_t *o, const char *key, uint64_t *ret) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return 0;
        if (json_is_null(v)) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return rd_fail(rd, key, "expected a non-negative integer or null");
        *ret = (uint64_t)json_integer_value(v);
        return 0;
}

int rd_unsigned(Reader *rd, json_t *o, const char *key, unsigned *ret) {
        int64_t x = *ret;
        int k = rd_int64(rd, o, key, 0, UINT_MAX, *ret, &x);
        if (k >= 0)
                *ret = (unsigned)x;
        return k;
}

int rd_int(Reader *rd, json_t *o, const char *key, int if_null, int *ret) {
        int64_t x = *ret;
        int k = rd_int64(rd, o, key, INT_MIN, INT_MAX, if_null, &x);
        if (k >= 0)
                *ret = (int)x;
        return k;
}

int rd_bool(Reader *rd, json_t *o, const char *key, bool *ret) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_boolean(v))
                return rd_fail(rd, key, "expected true or false");
        *ret = json_is_true(v);
        return 0;
}

/* Missing or null -> *ret = NULL, which callers treat as "nothing there". */
static int rd_container(Reader *rd, json_t *o, const char *key, bool array, json_t **ret) {
        json_t *v = json_object_get(o, key);
        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (array ? !json_is_array(v) : !json_is_object(v))
                return rd_fail(rd, key, array ? "expected an array" : "expected an object");
        *ret = v;
        return 0;
}

/* Reads o[key] (an object, or an array when array is set) with fn, the path extended by
 * key for error messages; missing or null is fine and reads nothing. */
int rd_section(Reader *rd, json_t *o, const char *key, bool array, ReadFn fn, void *userdata) {
        json_t *v = NULL;
        int k = rd_container(rd, o, key, array, &v);
        if (k < 0 || !v)
                return k;
        size_t mark = rd_push(rd, "%s", key);
        k = fn(rd, v, userdata);
        rd_pop(rd, mark);
        return k;
}

/* Calls fn on every element of the array a, each of which must be an object. */
int rd_each(Reader *rd, json_t *a, ReadFn fn, void *userdata) {
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
                size_t mark = rd_push(rd, "[%zu]", i);
                int k = json_is_object(v) ? fn(rd, v, userdata) : rd_fail(rd, NULL, "expected an object");
                rd_pop(rd, mark);
                if (k < 0)
                        return k;
        }
        return 0;
}
