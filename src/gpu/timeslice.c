/* SPDX-License-Identifier: MIT */
/* A GPU's time slice (timeslice.h): the probe's search, pure, and the per-boot file. */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/timeslice.h"
#include "util/fileio.h"
#include "util/macros.h"
#include "util/parse.h"

/* A timing more than this over the kernel's GPU time was cut by another context's slice:
 * a step is one slice and two switches, at least GPU_TIMESLICE_PROBE_MIN_NS, while an
 * uncut kernel's timing exceeds its GPU time only by what the events and the launch take
 * (a few µs on an H200). */
#define STEP_MIN_NS (GPU_TIMESLICE_PROBE_MIN_NS / 2)
/* Timings per kernel length; their median is taken, so one timing disturbed by something
 * else on the GPU (a third context, the neighbour's start) does not move the search. */
#define REPEAT 3
#define BISECTIONS 12
#define WARMUP 4
/* Two switches take at most this more than a slice (an H200: 2 × 153 µs). */
#define SWITCHES_MAX_NS INT64_C(1000000)

static int cmp_i64(const void *a, const void *b) {
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

/* The median of REPEAT timings of a kernel of work_ns, less work_ns. */
static int excess(GpuTimesliceMeasure measure, void *userdata, int64_t work_ns, int64_t *ret) {
        int64_t e[REPEAT];
        for (size_t i = 0; i < REPEAT; i++) {
                int64_t wall = 0;
                int r = measure(userdata, work_ns, &wall);
                if (r < 0)
                        return r;
                e[i] = wall - work_ns;
        }
        qsort(e, REPEAT, sizeof e[0], cmp_i64);
        *ret = e[REPEAT / 2];
        return 0;
}

int gpu_timeslice_probe(GpuTimesliceMeasure measure, void *userdata, GpuTimeslice *ret) {
        int64_t lo = GPU_TIMESLICE_PROBE_MIN_NS, hi = GPU_TIMESLICE_PROBE_MAX_NS, e = 0;
        int r;
        /* The longest kernel first, a few times: the neighbour may have said it started a
         * moment before its first kernels reach the GPU. */
        for (int i = 0; i < WARMUP && e <= STEP_MIN_NS; i++)
                if ((r = excess(measure, userdata, hi, &e)) < 0)
                        return r;
        if (e <= STEP_MIN_NS)
                return -ENOMSG;
        if ((r = excess(measure, userdata, lo, &e)) < 0)
                return r;
        if (e > STEP_MIN_NS)
                return -ERANGE;
        /* The first step lies in (lo, hi]. */
        for (int i = 0; i < BISECTIONS; i++) {
                int64_t mid = lo + (hi - lo) / 2;
                if ((r = excess(measure, userdata, mid, &e)) < 0)
                        return r;
                if (e > STEP_MIN_NS)
                        hi = mid;
                else
                        lo = mid;
        }
        int64_t slice = lo + (hi - lo) / 2;
        /* The step's height, half-way up the first step: one other slice, two switches. */
        if ((r = excess(measure, userdata, slice + slice / 2, &e)) < 0)
                return r;
        /* The neighbour's slice is as long as ours, and a switch takes far less: a step of
         * another height is not a time slice (a neighbour that idles, a GPU that does not
         * start a context's slice when it gets work), and neither is a second step, half-way
         * up it, that is not twice the first. Figures from such timings would mislead the
         * shims: nothing is better. */
        int64_t e2, tolerance = slice / 10 + STEP_MIN_NS / 2;
        if (e < slice - tolerance || e > slice + slice / 2 + SWITCHES_MAX_NS)
                return -EPROTO;
        if ((r = excess(measure, userdata, 2 * slice + slice / 2, &e2)) < 0)
                return r;
        if (e2 < 2 * e - tolerance || e2 > 2 * e + tolerance)
                return -EPROTO;
        *ret = (GpuTimeslice){.slice_ns = slice, .switch_ns = e > slice ? (e - slice) / 2 : 0};
        return 0;
}

/* The per-boot file. */

#define MAGIC "corun-gpu-timeslice 1"
#define FILE_MAX (64u << 10)
#define DEFAULT_PATH "/run/corun/gpu-timeslice"
#define UUID_MAX 200

const char *gpu_timeslice_path(const char *path) {
        if (path)
                return path;
        const char *e = getenv("CORUN_GPU_TIMESLICE_FILE");
        return e && *e ? e : DEFAULT_PATH;
}

static int boot_id(char buf[static 64]) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file("/proc/sys/kernel/random/boot_id", 4096, &text, NULL);
        if (r < 0)
                return r;
        text[strcspn(text, "\n")] = '\0';
        if (!*text || strlen(text) >= 64)
                return -EBADMSG;
        strcpy(buf, text);
        return 0;
}

/* The file's lines after its header, when it is this boot's; NULL body when there is none
 * (no file, or another boot's: -ESTALE). */
static int read_body(const char *path, char **ret_text, const char **ret_body) {
        char boot[64], head[128];
        int r = boot_id(boot);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        if ((r = read_full_file(path, FILE_MAX, &text, NULL)) < 0)
                return r;
        snprintf(head, sizeof head, MAGIC "\nboot %s\n", boot);
        if (!strneq(text, head, strlen(head)))
                return -ESTALE;
        *ret_body = text + strlen(head);
        *ret_text = TAKE_PTR(text);
        return 0;
}

/* One line "<uuid> <slice_ns> <switch_ns>" of len bytes: the uuid's length, or -EBADMSG. */
static int parse_line(const char *line, size_t len, GpuTimeslice *ret) {
        const char *end = line + len;
        const char *a = memchr(line, ' ', len);
        const char *b = a ? memchr(a + 1, ' ', (size_t)(end - a - 1)) : NULL;
        GpuTimeslice t;
        if (!a || a == line || a - line > UUID_MAX || !b ||
            parse_i64_span(a + 1, (size_t)(b - a - 1), &t.slice_ns) < 0 ||
            parse_i64_span(b + 1, (size_t)(end - b - 1), &t.switch_ns) < 0 || t.slice_ns <= 0 ||
            t.switch_ns < 0)
                return -EBADMSG;
        *ret = t;
        return (int)(a - line);
}

int gpu_timeslice_load(const char *path, const char *uuid, GpuTimeslice *ret) {
        _cleanup_free_ char *text = NULL;
        const char *p;
        path = gpu_timeslice_path(path);
        if (!path_is_normalized_absolute(path))
                return -EINVAL;
        int r = read_body(path, &text, &p);
        if (r < 0)
                return r;
        size_t ul = strlen(uuid);
        while (*p) {
                const char *eol = strchrnul(p, '\n');
                GpuTimeslice t;
                int n = parse_line(p, (size_t)(eol - p), &t);
                if (n == (int)ul && strneq(p, uuid, ul)) {
                        *ret = t;
                        return 0;
                }
                p = *eol ? eol + 1 : eol;
        }
        return -ENOENT;
}

typedef struct Store {
        const char *body; /* this boot's lines, or NULL */
        const char *boot;
        const char *uuid;
        const GpuTimeslice *t;
} Store;

static int render(FILE *f, void *userdata) {
        const Store *s = userdata;
        fprintf(f, MAGIC "\nboot %s\n", s->boot);
        size_t ul = strlen(s->uuid);
        for (const char *p = s->body; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                GpuTimeslice t;
                int n = parse_line(p, (size_t)(eol - p), &t);
                /* Other GPUs' lines stay; a line that does not parse goes. */
                if (n > 0 && !(n == (int)ul && strneq(p, s->uuid, ul)))
                        fprintf(f, "%.*s\n", (int)(eol - p), p);
                p = *eol ? eol + 1 : eol;
        }
        fprintf(f, "%s %" PRId64 " %" PRId64 "\n", s->uuid, s->t->slice_ns, s->t->switch_ns);
        return 0;
}

int gpu_timeslice_store(const char *path, const char *uuid, const GpuTimeslice *t) {
        path = gpu_timeslice_path(path);
        char boot[64];
        int r = boot_id(boot);
        if (r < 0)
                return r;
        if (strchr(uuid, ' ') || strchr(uuid, '\n') || !*uuid || strlen(uuid) > UUID_MAX ||
            t->slice_ns <= 0 || t->switch_ns < 0 || !path_is_normalized_absolute(path))
                return -EINVAL;
        _cleanup_free_ char *text = NULL, *d = strdup(path), *b = strdup(path);
        if (!d || !b)
                return -ENOMEM;
        Store s = {.boot = boot, .uuid = uuid, .t = t};
        r = read_body(path, &text, &s.body);
        if (r < 0 && r != -ENOENT && r != -ESTALE)
                return r;
        const char *dir = dirname(d);
        if ((r = mkdir_p(dir, 0700)) < 0)
                return r;
        return write_file_atomic_stream(dir, basename(b), render, &s, 0, false);
}
