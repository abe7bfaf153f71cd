/* SPDX-License-Identifier: MIT */
/* A GPU's time slice (gpu/timeslice.h): the probe's search on a model of a time-sliced
 * GPU (slices and switches of several GPUs, timings with the launch's few µs and with
 * disturbed outliers), what it says when nothing is sliced or everything is, and the
 * per-boot file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/timeslice.h"
#include "util/fileio.h"
#include "util/macros.h"

/* A kernel of w ns that starts with its context's slice, beside a context that always has
 * work: cut floor((w + launch) / slice) times, each time for the other's slice and two
 * switches. Every `outlier_every`-th timing is 3 ms longer (something else on the GPU). */
typedef struct Model {
        int64_t slice, sw, launch;
        int64_t other; /* the neighbour's time per cut (0: its slice, as on a real GPU) */
        bool once;     /* cut at most once whatever the length (not time slices) */
        unsigned late; /* the neighbour's work reaches the GPU only after this many timings */
        bool sliced;
        unsigned outlier_every, calls;
        int64_t longest; /* the longest kernel asked for */
} Model;

static int measure(void *userdata, int64_t w, int64_t *ret) {
        Model *m = userdata;
        m->calls++;
        m->longest = MAX(m->longest, w);
        int64_t run = w + m->launch, cuts = m->sliced && m->calls > m->late ? run / m->slice : 0;
        if (m->once && cuts > 1)
                cuts = 1;
        int64_t wall = run + cuts * ((m->other ? m->other : m->slice) + 2 * m->sw);
        if (m->outlier_every && m->calls % m->outlier_every == 0)
                wall += 3000000;
        *ret = wall;
        return 0;
}

static void probe_finds(int64_t slice, int64_t sw, unsigned outlier_every, unsigned late) {
        Model m = {.slice = slice,
                   .sw = sw,
                   .launch = 4000,
                   .sliced = true,
                   .outlier_every = outlier_every,
                   .late = late};
        GpuTimeslice t = {0};
        assert_int_equal(gpu_timeslice_probe(measure, &m, &t), 0);
        /* The step is at slice − launch; the bisection ends within 1/4096 of 40 ms. */
        int64_t step = GPU_TIMESLICE_PROBE_MAX_NS / 4096 + 1;
        if (llabs(t.slice_ns - (slice - m.launch)) > step || llabs(t.switch_ns - (sw + m.launch / 2)) > step)
                fail_msg("slice %lld / switch %lld: probed %lld / %lld", (long long)slice, (long long)sw,
                         (long long)t.slice_ns, (long long)t.switch_ns);
        /* About a second of GPU time on a 2 ms slice: 16 lengths, 3 timings each, and the
         * late neighbour's. */
        assert_true(m.calls <= 3 * 16 + late);
        /* The longest kernel: the search's, or the check's, two and a half slices. */
        assert_true(m.longest <= MAX(GPU_TIMESLICE_PROBE_MAX_NS, t.slice_ns * 5 / 2));
}

static void test_probe(void **state) {
        probe_finds(2090000, 153000, 0, 0); /* an H200 (bench/gpu-timeslice.py) */
        probe_finds(2090000, 153000, 5, 0); /* one timing in five disturbed */
        probe_finds(5000000, 100000, 0, 0); /* a longer compute-policy timeslice */
        probe_finds(1000000, 0, 0, 0);      /* no switch cost (the simulated GPU's default) */
        probe_finds(500000, 20000, 4, 0);
        probe_finds(300000, 153000, 0, 0); /* short slices, an H200's switches */
        probe_finds(20000000, 250000, 0, 0);
        probe_finds(2090000, 153000, 0, 7); /* the neighbour's kernels arrive late */
}

static void test_probe_nothing_to_find(void **state) {
        GpuTimeslice t = {.slice_ns = 7};
        /* No neighbour, or MPS: nothing is cut. */
        Model none = {.slice = 2000000, .launch = 4000, .sliced = false};
        assert_int_equal(gpu_timeslice_probe(measure, &none, &t), -ENOMSG);
        /* Slices shorter than the shortest kernel tried. */
        Model tiny = {.slice = 50000, .sw = 1000, .launch = 4000, .sliced = true};
        assert_int_equal(gpu_timeslice_probe(measure, &tiny, &t), -ERANGE);
        /* Steps that are not time slices: the neighbour runs a quarter of a slice per cut
         * (it idles), or a kernel is cut once whatever its length. */
        Model idle = {.slice = 2000000, .sw = 100000, .launch = 4000, .sliced = true, .other = 500000};
        assert_int_equal(gpu_timeslice_probe(measure, &idle, &t), -EPROTO);
        Model once = {.slice = 2000000, .sw = 100000, .launch = 4000, .sliced = true, .once = true};
        assert_int_equal(gpu_timeslice_probe(measure, &once, &t), -EPROTO);
        assert_int_equal(t.slice_ns, 7);
}

static int failing(void *userdata, int64_t w, int64_t *ret) {
        unsigned *n = userdata;
        return ++*n == 4 ? -EIO
                         : measure(&(Model){.slice = 2000000, .launch = 4000, .sliced = true}, w, ret);
}

static void test_probe_error(void **state) {
        unsigned n = 0;
        GpuTimeslice t;
        assert_int_equal(gpu_timeslice_probe(failing, &n, &t), -EIO);
        assert_int_equal(n, 4);
}

static char dir[] = "/tmp/corun-test-timeslice.XXXXXX";
static char path[sizeof dir + 16];

static void write_text(const char *text) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static void test_file(void **state) {
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/sub/ts", dir);
        const char *a = "GPU-aaaaaaaa-0000-0000-0000-000000000001",
                   *b = "GPU-bbbbbbbb-0000-0000-0000-000000000002";
        GpuTimeslice t;
        assert_int_equal(gpu_timeslice_load(path, a, &t), -ENOENT);
        assert_int_equal(gpu_timeslice_store(path, a, &(GpuTimeslice){2090000, 153000}), 0);
        assert_int_equal(gpu_timeslice_store(path, b, &(GpuTimeslice){5000000, 100000}), 0);
        assert_int_equal(gpu_timeslice_store(path, a, &(GpuTimeslice){2000000, 150000}), 0);
        assert_int_equal(gpu_timeslice_load(path, a, &t), 0);
        assert_int_equal(t.slice_ns, 2000000);
        assert_int_equal(t.switch_ns, 150000);
        assert_int_equal(gpu_timeslice_load(path, b, &t), 0);
        assert_int_equal(t.slice_ns, 5000000);
        assert_int_equal(gpu_timeslice_load(path, "GPU-aaaaaaaa", &t), -ENOENT);
        /* Two lines, one per GPU: the replaced one is not kept twice. */
        _cleanup_free_ char *text = NULL;
        assert_int_equal(read_full_file(path, 4096, &text, NULL), 0);
        assert_non_null(strstr(text, "corun-gpu-timeslice 1\nboot "));
        assert_null(strstr(text, "2090000"));
        assert_int_equal(gpu_timeslice_store(path, "GPU with space", &(GpuTimeslice){1, 0}), -EINVAL);
        assert_int_equal(gpu_timeslice_store(path, b, &(GpuTimeslice){0, 0}), -EINVAL);

        /* Another boot's figures are not this one's; a line that does not parse is skipped
         * and dropped at the next store. */
        write_text("corun-gpu-timeslice 1\nboot 00000000-0000-0000-0000-000000000000\n"
                   "GPU-aaaaaaaa-0000-0000-0000-000000000001 2090000 153000\n");
        assert_int_equal(gpu_timeslice_load(path, a, &t), -ESTALE);
        assert_int_equal(gpu_timeslice_store(path, b, &(GpuTimeslice){3000000, 0}), 0);
        assert_int_equal(gpu_timeslice_load(path, a, &t), -ENOENT);
        free(text);
        text = NULL;
        assert_int_equal(read_full_file(path, 4096, &text, NULL), 0);
        char head[4096];
        snprintf(head, sizeof head, "%.*sGPU-aaaaaaaa-0000-0000-0000-000000000001 x 1\n%s",
                 (int)(strstr(text, "GPU-bbbb") - text), text, strstr(text, "GPU-bbbb"));
        write_text(head);
        assert_int_equal(gpu_timeslice_load(path, a, &t), -ENOENT);
        assert_int_equal(gpu_timeslice_load(path, b, &t), 0);
        assert_int_equal(t.slice_ns, 3000000);
        assert_int_equal(gpu_timeslice_store(path, a, &(GpuTimeslice){2000000, 1}), 0);
        free(text);
        text = NULL;
        assert_int_equal(read_full_file(path, 4096, &text, NULL), 0);
        assert_null(strstr(text, " x "));

        /* The environment names the file when the caller does not. */
        setenv("CORUN_GPU_TIMESLICE_FILE", path, 1);
        assert_string_equal(gpu_timeslice_path(NULL), path);
        assert_int_equal(gpu_timeslice_load(NULL, b, &t), 0);
        setenv("CORUN_GPU_TIMESLICE_FILE", "relative/ts", 1);
        assert_int_equal(gpu_timeslice_load(NULL, b, &t), -EINVAL);
        assert_int_equal(gpu_timeslice_store(NULL, b, &t), -EINVAL);
        unsetenv("CORUN_GPU_TIMESLICE_FILE");
        assert_string_equal(gpu_timeslice_path(NULL), "/run/corun/gpu-timeslice");

        assert_int_equal(rm_rf(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_probe),
                cmocka_unit_test(test_probe_nothing_to_find),
                cmocka_unit_test(test_probe_error),
                cmocka_unit_test(test_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
