/* SPDX-License-Identifier: MIT */
/* gpus: against a machine's GPUs (gpu_request_resolve): NVML indexes and UUIDs (and
 * unique UUID prefixes) become positions in PCI order, and every error says where it was
 * written and what the machine has. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"

/* PCI order; NVML numbers them the other way round (as the simulated GPU does). */
static GpuDevice devs[] = {
        {.nvml_index = 1, .uuid = "GPU-aaaa1111-0000-4000-8000-000000000001", .name = "A"},
        {.nvml_index = 0, .uuid = "GPU-bbbb2222-0000-4000-8000-000000000002", .name = "B"},
};
static GpuHost host = {.devices = devs, .n_devices = 2};
static GpuHost none = {.why_none = (char *)"libnvidia-ml.so.1 not found (no NVIDIA driver on this machine)"};

static GpuRequest list(const char *l) {
        return (GpuRequest){.kind = GPUS_LIST, .count = 1, .list = (char *)l,
                            .pos = {.file = "s.yaml", .line = 3, .col = 11}};
}

static void ok(GpuRequest g, uint64_t want) {
        uint64_t mask = 99;
        char *err = NULL;
        int r = gpu_request_resolve(&g, &host, "j", &mask, &err);
        if (r < 0)
                fail_msg("%d %s", r, err ?: "");
        assert_int_equal(mask, want);
        assert_null(err);
}

static void bad(GpuRequest g, const GpuHost *h, int code, const char *msg) {
        uint64_t mask = 99;
        char *err = NULL;
        assert_int_equal(gpu_request_resolve(&g, h, "j", &mask, &err), code);
        assert_non_null(err);
        assert_string_equal(err, msg);
        free(err);
}

static void test_lists(void **state) {
        ok(list("0"), 2);            /* NVML 0 is the second in PCI order */
        ok(list("1,0"), 3);
        ok(list("GPU-aaaa1111-0000-4000-8000-000000000001"), 1);
        ok(list("gpu-BBBB2222"), 2); /* a unique prefix, any case */
        ok((GpuRequest){.kind = GPUS_COUNT, .count = 2}, 0);
        ok((GpuRequest){.kind = GPUS_ANY}, 0);
        ok((GpuRequest){.kind = GPUS_UNSET}, 0);
}

static void test_errors(void **state) {
        bad(list("2"), &host, -EINVAL,
            "s.yaml:3:11: job 'j' asks for GPU 2 but this machine has no such GPU; the GPUs are 1 "
            "(GPU-aaaa1111-0000-4000-8000-000000000001), 0 (GPU-bbbb2222-0000-4000-8000-000000000002)");
        bad(list("GPU-"), &host, -EINVAL,
            "s.yaml:3:11: job 'j' asks for GPU GPU- but that UUID prefix names more than one; the GPUs are 1 "
            "(GPU-aaaa1111-0000-4000-8000-000000000001), 0 (GPU-bbbb2222-0000-4000-8000-000000000002)");
        bad(list("0,GPU-bbbb2222"), &host, -EINVAL,
            "s.yaml:3:11: job 'j' names GPU 0 (GPU-bbbb2222-0000-4000-8000-000000000002) twice");
        bad((GpuRequest){.kind = GPUS_COUNT, .count = 3, .pos = {.flag = "--gpus"}}, &host, -ENOSPC,
            "--gpus: job 'j' asks for 3 GPUs but this machine has 2: 1 "
            "(GPU-aaaa1111-0000-4000-8000-000000000001), 0 (GPU-bbbb2222-0000-4000-8000-000000000002); at "
            "most 2 would fit");
        bad((GpuRequest){.kind = GPUS_COUNT, .count = 1, .pos = {.flag = "--gpus"}}, &none, -ENOSPC,
            "--gpus: job 'j' asks for 1 GPU but this machine has none: libnvidia-ml.so.1 not found (no NVIDIA "
            "driver on this machine)");
}

static void test_visible(void **state) {
        char *s = NULL;
        assert_int_equal(gpu_visible_devices(&host, 3, &s), 0);
        assert_string_equal(s, "GPU-aaaa1111-0000-4000-8000-000000000001,GPU-bbbb2222-0000-4000-8000-000000000002");
        free(s);
        assert_int_equal(gpu_visible_devices(&host, 0, &s), 0);
        assert_string_equal(s, "");
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lists),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_visible),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
