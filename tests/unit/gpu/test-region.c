/* SPDX-License-Identifier: MIT */
/* The GPU limit region (gpu/region.h): the file the runner creates and the shim maps,
 * the slots of dead processes reaped exactly once, and the bucket arithmetic on
 * hand-picked times. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "gpu/region.h"
#include "util/macros.h"

static char dir[] = "/tmp/corun-test-region.XXXXXX";
static char path[sizeof dir + 16];

static int setup(void **state) {
        if (!mkdtemp(dir))
                return -1;
        snprintf(path, sizeof path, "%s/r.gpu", dir);
        return 0;
}

static int teardown(void **state) {
        unlink(path);
        rmdir(dir);
        return 0;
}

static const GpuRegionGpuSpec spec = {
        .uuid = "GPU-00000000-0000-0000-0000-000000000001",
        .memory_limit = 1000,
        .share_ppm = 300000,
        .rate_ppm = 300000,
        .depth_ns = 50000000,
};

static void test_create_map(void **state) {
        GpuRegion *r, *m;
        umask(022);
        assert_int_equal(gpu_region_create(path, (uid_t)-1, (gid_t)-1, &spec, 1, &r), 0);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_size, sizeof(GpuRegion));
        assert_int_equal(r->n_gpus, 1);
        assert_string_equal(r->gpu[0].uuid, spec.uuid);
        /* The bucket starts full; the in-flight bound defaults to 2 × depth. */
        assert_int_equal(atomic_load(&r->gpu[0].tokens_ns), 50000000);
        assert_int_equal(r->gpu[0].inflight_max_ns, 100000000);
        assert_int_equal(atomic_load(&r->gpu[0].rate_ppm), 300000);
        /* Never over an existing region. */
        assert_int_equal(gpu_region_create(path, (uid_t)-1, (gid_t)-1, &spec, 1, &m), -EEXIST);

        assert_int_equal(gpu_region_map(path, &m), 0);
        atomic_store(&m->gpu[0].rate_ppm, 123);
        assert_int_equal(atomic_load(&r->gpu[0].rate_ppm), 123); /* one shared mapping */
        gpu_region_unmap(m);
        gpu_region_unmap(r);

        /* Not a region: the wrong size, then no magic. */
        assert_int_equal(truncate(path, 100), 0);
        assert_int_equal(gpu_region_map(path, &m), -EPROTO);
        assert_int_equal(truncate(path, 0), 0);
        assert_int_equal(truncate(path, sizeof(GpuRegion)), 0);
        assert_int_equal(gpu_region_map(path, &m), -EPROTO);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(gpu_region_map(path, &m), -ENOENT);

        GpuRegionGpuSpec bad = spec;
        bad.uuid = NULL;
        assert_int_equal(gpu_region_create(path, (uid_t)-1, (gid_t)-1, &bad, 1, &r), -EINVAL);
}

static void test_reap(void **state) {
        GpuRegion *r;
        assert_int_equal(gpu_region_create(path, (uid_t)-1, (gid_t)-1, &spec, 1, &r), 0);
        pid_t dead = fork();
        assert_true(dead >= 0);
        if (dead == 0)
                _exit(0);
        assert_int_equal(waitpid(dead, NULL, 0), dead);
        /* A dead process holding 300 bytes and a live one (us) holding 200. */
        atomic_store(&r->proc[3].pid, dead);
        atomic_store(&r->proc[3].memory_bytes[0], 300);
        atomic_store(&r->proc[5].pid, getpid());
        atomic_store(&r->proc[5].memory_bytes[0], 200);
        atomic_store(&r->gpu[0].memory_used, 500);
        assert_int_equal(gpu_region_reap(r), 1);
        assert_int_equal(atomic_load(&r->gpu[0].memory_used), 200);
        assert_int_equal(atomic_load(&r->proc[3].pid), 0);
        assert_int_equal(atomic_load(&r->proc[5].pid), getpid());
        /* Twice reaped is once: the bytes were exchanged out. */
        gpu_region_release_proc(r, &r->proc[3], dead);
        assert_int_equal(atomic_load(&r->gpu[0].memory_used), 200);
        assert_int_equal(gpu_region_reap(r), 0);
        gpu_region_unmap(r);
        unlink(path);
}

/* Two reapers see the same dead pid: A releases the slot, a new process Q claims it and
 * allocates, then B (late) releases "the dead pid" again. B must find the slot no longer
 * the dead pid's and leave Q's bytes alone. */
static void test_reap_race(void **state) {
        GpuRegion *r;
        assert_int_equal(gpu_region_create(path, (uid_t)-1, (gid_t)-1, &spec, 1, &r), 0);
        const int32_t dead = 999999, q = 4242;
        GpuRegionProc *p = &r->proc[0];
        atomic_store(&p->pid, dead);
        atomic_store(&p->memory_bytes[0], 300);
        atomic_store(&r->gpu[0].memory_used, 300);
        /* A and B both read pid == dead; A wins. */
        assert_true(gpu_region_release_proc(r, p, dead));
        assert_int_equal(atomic_load(&p->pid), 0);
        assert_int_equal(atomic_load(&r->gpu[0].memory_used), 0);
        /* Q claims the free slot (the shim's CAS 0 → pid) and allocates 100 bytes. */
        int32_t zero = 0;
        assert_true(atomic_compare_exchange_strong(&p->pid, &zero, q));
        atomic_store(&p->memory_bytes[0], 100);
        atomic_store(&r->gpu[0].memory_used, 100);
        /* B, late, with the pid it saw dead. */
        assert_false(gpu_region_release_proc(r, p, dead));
        assert_int_equal(atomic_load(&p->pid), q);
        assert_int_equal(atomic_load(&p->memory_bytes[0]), 100);
        assert_int_equal(atomic_load(&r->gpu[0].memory_used), 100);
        /* A slot being reaped is neither claimed nor reaped again. */
        atomic_store(&p->pid, GPU_REGION_REAPING);
        zero = 0;
        assert_false(atomic_compare_exchange_strong(&p->pid, &zero, q));
        assert_int_equal(gpu_region_reap(r), 0);
        assert_int_equal(atomic_load(&r->gpu[0].memory_used), 100);
        gpu_region_unmap(r);
        unlink(path);
}

static void test_bucket(void **state) {
        GpuRegionGpu g = {.depth_ns = 50000000};
        atomic_store(&g.rate_ppm, 300000);
        atomic_store(&g.tokens_ns, 0);
        atomic_store(&g.refill_ns, 1000000000);
        /* 10 ms at 30 % adds 3 ms of GPU time. */
        gpu_bucket_refill(&g, 1010000000);
        assert_int_equal(atomic_load(&g.tokens_ns), 3000000);
        /* The same interval again adds nothing. */
        gpu_bucket_refill(&g, 1010000000);
        assert_int_equal(atomic_load(&g.tokens_ns), 3000000);
        /* Capped at depth after a long idle time. */
        gpu_bucket_refill(&g, 11010000000);
        assert_int_equal(atomic_load(&g.tokens_ns), 50000000);
        /* A 53 ms launch leaves a 3 ms debt: 10 ms of wall time at 30 %. */
        assert_int_equal(gpu_bucket_charge(&g, 53000000), -3000000);
        assert_int_equal(atomic_load(&g.charged_ns), 53000000);
        assert_int_equal(gpu_bucket_wait_ns(&g, -3000000), 10000000);
        assert_int_equal(gpu_bucket_wait_ns(&g, 5), 0);
        atomic_store(&g.rate_ppm, 0);
        assert_int_equal(gpu_bucket_wait_ns(&g, -1), 10000000);
        atomic_store(&g.rate_ppm, GPU_RATE_UNLIMITED);
        assert_int_equal(gpu_bucket_wait_ns(&g, -1), 0);
}

/* A rate of 100 GPUs (the controller's scale can ask that much) and a 184 s gap: dt · rate
 * is just over 2^64, which wrapped to a 90 ns refill. The bucket must come back full. */
static void test_bucket_high_rate(void **state) {
        GpuRegionGpu g = {.depth_ns = 50000000};
        atomic_store(&g.rate_ppm, 100 * GPU_RATE_ONE);
        atomic_store(&g.tokens_ns, 0);
        atomic_store(&g.refill_ns, 1000000000);
        gpu_bucket_refill(&g, 1000000000 + UINT64_C(184467440738));
        assert_int_equal(atomic_load(&g.tokens_ns), 50000000);
        /* And from a debt: full, never past depth. */
        atomic_store(&g.tokens_ns, -20000000);
        gpu_bucket_refill(&g, 1000000000 + 2 * UINT64_C(184467440738));
        assert_int_equal(atomic_load(&g.tokens_ns), 50000000);
        /* A short gap at that rate is exact: 100 µs at 100 GPUs is 10 ms. */
        atomic_store(&g.tokens_ns, 0);
        uint64_t t = atomic_load(&g.refill_ns);
        gpu_bucket_refill(&g, t + 100000);
        assert_int_equal(atomic_load(&g.tokens_ns), 10000000);
}

/* A refunded launch gives its tokens back; charged_ns never decreases (the runner takes
 * differences of it). */
static void test_bucket_refund(void **state) {
        GpuRegionGpu g = {.depth_ns = 50000000};
        atomic_store(&g.rate_ppm, 300000);
        atomic_store(&g.tokens_ns, 10000000);
        assert_int_equal(gpu_bucket_charge(&g, 4000000), 6000000);
        gpu_bucket_refund(&g, 4000000);
        assert_int_equal(atomic_load(&g.tokens_ns), 10000000);
        assert_int_equal(atomic_load(&g.charged_ns), 4000000);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create_map),
                cmocka_unit_test(test_reap),
                cmocka_unit_test(test_bucket),
                cmocka_unit_test(test_bucket_high_rate),
                cmocka_unit_test(test_bucket_refund),
                cmocka_unit_test(test_reap_race),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
