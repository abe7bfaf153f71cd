/* SPDX-License-Identifier: MIT */
#include "plan/subst.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/macros.h"

typedef struct Buf {
        char *p;
        size_t len, cap;
} Buf;

static int buf_put(Buf *b, const char *s, size_t n) {
        if (b->len + n + 1 > b->cap) {
                size_t cap = MAX(b->cap * 2, b->len + n + 1);
                char *p = realloc(b->p, MAX(cap, (size_t)32));
                if (!p)
                        return -ENOMEM;
                b->p = p;
                b->cap = MAX(cap, (size_t)32);
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
        return 0;
}

int plan_substitute(const char *in, SubstLookup lookup, void *userdata, char **ret, size_t *ret_bad_offset) {
        _cleanup_free_ char *out = NULL;
        Buf b = {0};
        const char *p = in;
        int r;

        /* Always produce a string, even for "" */
        r = buf_put(&b, "", 0);
        if (r < 0)
                return r;

        while (*p) {
                const char *dollar = strchr(p, '$');
                if (!dollar) {
                        r = buf_put(&b, p, strlen(p));
                        break;
                }
                r = buf_put(&b, p, (size_t)(dollar - p));
                if (r < 0)
                        break;

                if (dollar[1] == '$' && dollar[2] == '{') {
                        r = buf_put(&b, "${", 2);
                        p = dollar + 3;
                } else if (dollar[1] == '{') {
                        const char *name = dollar + 2, *close = strchr(name, '}');
                        if (!close || close == name) {
                                if (ret_bad_offset)
                                        *ret_bad_offset = (size_t)(dollar - in);
                                r = -EINVAL;
                                break;
                        }
                        const char *v = lookup(name, (size_t)(close - name), userdata);
                        if (!v) {
                                if (ret_bad_offset)
                                        *ret_bad_offset = (size_t)(dollar - in);
                                r = -ENOENT;
                                break;
                        }
                        r = buf_put(&b, v, strlen(v));
                        p = close + 1;
                } else {
                        r = buf_put(&b, "$", 1);
                        p = dollar + 1;
                }
                if (r < 0)
                        break;
        }
        out = b.p;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}
