/* SPDX-License-Identifier: MIT */
/* The builders result.json is made of (json-writer.h). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "result/json-writer.h"
#include "util/macros.h"

/* Length of the valid UTF-8 sequence at s, 0 if it is not one (overlong, surrogate,
 * beyond U+10FFFF, truncated). */
static size_t utf8_seq_len(const unsigned char *s) {
        unsigned c = s[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                n = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
                n = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
                n = 4, cp = c & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return n;
}

/* Command lines and start errors come from users and the system and need not be UTF-8,
 * which JSON requires: such bytes are written as U+FFFD rather than losing the field. */
json_t *jw_str(const char *s) {
        if (!s)
                return json_null();
        json_t *v = json_string(s);
        if (v)
                return v;
        _cleanup_free_ char *fixed = malloc(strlen(s) * 3 + 1);
        if (!fixed)
                return NULL;
        char *o = fixed;
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                size_t n = utf8_seq_len(p);
                if (n == 0) {
                        memcpy(o, "\xEF\xBF\xBD", 3);
                        o += 3;
                        p++;
                } else {
                        memcpy(o, p, n);
                        o += n;
                        p += n;
                }
        }
        *o = '\0';
        return json_string(fixed);
}

/* Byte and count values; UINT64_MAX means "no limit" and is written as null. */
json_t *jw_u64(uint64_t v) {
        return v > INT64_MAX ? json_null() : json_integer((json_int_t)v);
}

/* NaN and infinities are not JSON. */
json_t *jw_dbl(double d) {
        return isfinite(d) ? json_real(d) : json_null();
}

/* Adds key -> v (stealing v); a NULL v is an allocation failure. Returns 0 or -1 so that
 * callers can OR a whole object's worth of calls and check once. */
int jw_put(json_t *o, const char *key, json_t *v) {
        if (!v)
                return -1;
        return json_object_set_new(o, key, v) < 0 ? -1 : 0;
}

/* The end of every builder: the finished value, or NULL (and nothing leaked) if any
 * step failed. */
json_t *jw_finish(json_t *v, int failed) {
        if (failed) {
                json_decref(v);
                return NULL;
        }
        return v;
}

int jw_append(json_t *a, json_t *v) {
        if (!v)
                return -1;
        return json_array_append_new(a, v) < 0 ? -1 : 0;
}

json_t *jw_pids(const int64_t *pids, unsigned n) {
        json_t *a = json_array();
        for (unsigned i = 0; a && i < n; i++)
                if (jw_append(a, json_integer(pids[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}
