/* SPDX-License-Identifier: MIT */
/* The per-job GPU share accumulator (gpu_share_accum_*) on hand-made NVML samples: each
 * expected figure is worked out in the comment next to it. P is the sample period. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "gpu/gpu.h"
#include "util/macros.h"

#define P UINT64_C(166667)
#define T0 UINT64_C(1700000000000000) /* a CPU timestamp in µs, like NVML's */

static void assert_close(double got, double want) {
        if (!(fabs(got - want) <= 1e-9))
                fail_msg("%.12g != %.12g", got, want);
}

#define ADD(a, samples, pids)                                                                               \
        gpu_share_accum_add((a), (samples), ELEMENTSOF(samples), (pids), ELEMENTSOF(pids), P)

static void test_time_weighted_mean(void **state) {
        GpuShareAccum a = {0};
        const pid_t job[] = {100};
        const GpuProcSample s[] = {
                {100, T0, 30},
                {100, T0 + P, 50},
                {100, T0 + 2 * P, 10},
        };
        ADD(&a, s, job);
        /* Three periods: (30 + 50 + 10) / 3 = 30 %. */
        assert_close(gpu_share_accum_mean(&a), 0.30);
        assert_close(a.peak, 0.50);
        assert_close(a.last_share, 0.10);
        assert_int_equal(a.samples, 3);
        assert_int_equal(a.last_ts_usec, T0 + 2 * P);
        assert_int_equal(a.first_ts_usec, T0 - P);
        assert_close(a.covered_usec, 3.0 * P);
        assert_int_equal(a.n_pids_seen, 1);
        assert_int_equal(a.pids_seen[0], 100);
}

static void test_repeated_timestamps_counted_once(void **state) {
        GpuShareAccum a = {0};
        const pid_t job[] = {100};
        /* The same sample twice in one answer, and the whole answer again next time (NVML
         * called with an old lastSeenTimeStamp): each period counts once. */
        const GpuProcSample s[] = {
                {100, T0, 40},
                {100, T0, 40},
                {100, T0 + P, 20},
        };
        ADD(&a, s, job);
        ADD(&a, s, job);
        assert_int_equal(a.samples, 2);
        assert_close(a.covered_usec, 2.0 * P);
        assert_close(gpu_share_accum_mean(&a), 0.30);
}

static void test_not_found_is_no_sample(void **state) {
        GpuShareAccum a = {0};
        const pid_t job[] = {100};
        const GpuProcSample s1[] = {{100, T0, 60}};
        const GpuProcSample s2[] = {{100, T0 + 3 * P, 60}};
        ADD(&a, s1, job);
        /* NVML_ERROR_NOT_FOUND: no new sample. Nothing changes (it is not a zero). */
        gpu_share_accum_add(&a, NULL, 0, job, ELEMENTSOF(job), P);
        assert_int_equal(a.samples, 1);
        assert_close(gpu_share_accum_mean(&a), 0.60);
        /* Two periods without any sample (nobody busy on the GPU), then 60 % again: the
         * job was busy 60 % in 2 of the 4 periods from T0 − P to T0 + 3P: 30 %. */
        ADD(&a, s2, job);
        assert_int_equal(a.samples, 2);
        assert_close(a.covered_usec, 4.0 * P);
        assert_close(gpu_share_accum_mean(&a), 0.30);
}

static void test_other_pids_ignored_but_keep_time(void **state) {
        GpuShareAccum a = {0};
        const pid_t job[] = {100};
        /* Pid 200 is another tenant: never counted, but its samples say the periods
         * passed while the job was idle. Job: 40 % in period 1, idle in 2 and 3. */
        const GpuProcSample s[] = {
                {200, T0, 50},
                {100, T0, 40},
                {200, T0 + P, 90},
                {200, T0 + 2 * P, 90},
        };
        ADD(&a, s, job);
        assert_int_equal(a.samples, 3);
        assert_close(gpu_share_accum_mean(&a), 0.40 / 3);
        assert_close(a.peak, 0.40);
        assert_close(a.last_share, 0);
        assert_int_equal(a.n_pids_seen, 1);
        assert_int_equal(a.pids_seen[0], 100);
}

static void test_fork_sums_its_own_pids(void **state) {
        GpuShareAccum a = {0};
        const pid_t job[] = {100, 101};
        /* Parent 20 % and child 25 % in the same period: the job had 45 %; the third
         * tenant's 30 % is not the job's. */
        const GpuProcSample s[] = {{100, T0, 20}, {101, T0, 25}, {300, T0, 30}};
        ADD(&a, s, job);
        assert_close(gpu_share_accum_mean(&a), 0.45);
        assert_int_equal(a.n_pids_seen, 2);
}

static void test_pid_exits_mid_window(void **state) {
        GpuShareAccum a = {0};
        const pid_t job[] = {100, 101};
        const pid_t job_after[] = {100};
        /* 101 runs in the first two periods and exits; the sampler still passes it for
         * the samples of its last period. Then only 100 is left. */
        const GpuProcSample s1[] = {{100, T0, 10}, {101, T0, 30}, {100, T0 + P, 10}, {101, T0 + P, 30}};
        const GpuProcSample s2[] = {{100, T0 + 2 * P, 10}, {100, T0 + 3 * P, 10}};
        ADD(&a, s1, job);
        ADD(&a, s2, job_after);
        /* (40 + 40 + 10 + 10) / 4 = 25 %. */
        assert_close(gpu_share_accum_mean(&a), 0.25);
        assert_close(a.peak, 0.40);
        assert_close(a.last_share, 0.10);
        assert_int_equal(a.samples, 4);
}

static void test_capped_at_whole_gpu(void **state) {
        GpuShareAccum a = {0};
        const pid_t job[] = {100, 101};
        /* NVML's per-process figures can add up to more than 100 % (overlap within a
         * period); the job cannot have had more than the whole GPU. */
        const GpuProcSample s[] = {{100, T0, 70}, {101, T0, 60}, {100, T0 + P, 130}};
        ADD(&a, s, job);
        assert_close(a.peak, 1.0);
        assert_close(gpu_share_accum_mean(&a), 1.0);
}

static void test_jittered_stamps_one_period(void **state) {
        GpuShareAccum a = {0};
        const pid_t job[] = {100, 101};
        /* Stamps of one period a few µs apart (and out of order) are one period. */
        const GpuProcSample s[] = {
                {101, T0 + P + 3, 20}, {100, T0 + 7, 30}, {101, T0, 10}, {100, T0 + P, 20}};
        ADD(&a, s, job);
        assert_int_equal(a.samples, 2);
        /* 40 % and 40 %. */
        assert_close(gpu_share_accum_mean(&a), 0.40);
        assert_int_equal(a.last_ts_usec, T0 + P + 3);
}

static void test_memory(void **state) {
        GpuShareAccum a = {0};
        const pid_t job[] = {100, 101};
        const pid_t procs1[] = {100, 101, 200};
        const uint64_t bytes1[] = {1u << 30, 2u << 30, 4u << 30};
        const pid_t procs2[] = {100, 200};
        const uint64_t bytes2[] = {1u << 30, 4u << 30};
        assert_true(gpu_share_accum_memory(&a, procs1, bytes1, 3, job, 2));
        assert_int_equal(a.memory_last_bytes, UINT64_C(3) << 30);
        assert_int_equal(a.memory_peak_bytes, UINT64_C(3) << 30);
        assert_true(gpu_share_accum_memory(&a, procs2, bytes2, 2, job, 2));
        assert_int_equal(a.memory_last_bytes, UINT64_C(1) << 30);
        assert_int_equal(a.memory_peak_bytes, UINT64_C(3) << 30);
        assert_int_equal(a.n_pids_seen, 2);
        assert_false(gpu_share_accum_memory(&a, NULL, NULL, 0, job, 2));
        assert_int_equal(a.memory_last_bytes, 0);
        /* Only others on the GPU: the job is not on it. */
        assert_false(gpu_share_accum_memory(&a, procs2 + 1, bytes2 + 1, 1, job, 2));
}

static void test_empty(void **state) {
        GpuShareAccum a = {0};
        assert_close(gpu_share_accum_mean(&a), 0);
        gpu_share_accum_add(&a, NULL, 0, NULL, 0, 0);
        assert_int_equal(a.samples, 0);
}

/* Clocks: only polls with the job on the GPU and the GPU busy count (an idle GPU's clock
 * is not the job's); reasons are collected then, gpu_idle never; an unknown clock or
 * unknown reasons leave out only what is unknown. */
static void test_clocks(void **state) {
        GpuShareAccum a = {0};
        gpu_share_accum_clock(&a, 1980, 0, true, true);
        gpu_share_accum_clock(&a, 345, GPU_CLOCK_EVENT_IDLE, true, true);      /* idle: not counted */
        gpu_share_accum_clock(&a, 1410, 0x4, true, true);                      /* sw_power_cap */
        gpu_share_accum_clock(&a, 1500, 0, false, true);                       /* reasons unknown: counted */
        gpu_share_accum_clock(&a, 0, 0x40 | GPU_CLOCK_EVENT_IDLE, true, true); /* idle: nothing */
        gpu_share_accum_clock(&a, 1000, 0x20, true, false); /* the job not on the GPU: nothing */
        assert_int_equal(a.clock_polls, 3);
        assert_int_equal(a.clock_min_mhz, 1410);
        assert_int_equal(a.clock_max_mhz, 1980);
        /* (1980 + 1410 + 1500) / 3 = 1630 */
        assert_close(gpu_share_accum_clock_mean(&a), 1630);
        assert_int_equal(a.clock_events, 0x4);
        assert_true(a.clock_events_known);
        /* The newest poll as it was, for the series. */
        assert_int_equal(a.clock_last_mhz, 1000);
        assert_int_equal(a.clock_last_events, 0x20);

        GpuShareAccum b = {0};
        gpu_share_accum_clock(&b, 0, 0, false, true); /* NVML said nothing */
        assert_int_equal(b.clock_polls, 0);
        assert_false(b.clock_events_known);
        assert_close(gpu_share_accum_clock_mean(&b), 0);
        gpu_share_accum_clock(&b, 1755, 0x8, true, true); /* hw_slowdown, busy */
        assert_int_equal(b.clock_min_mhz, 1755);
        assert_int_equal(b.clock_events & GPU_CLOCK_EVENT_SLOWDOWNS, 0x8);
}

/* Reason names both ways, and lists that do not fit. */
static void test_clock_event_names(void **state) {
        char buf[128], tmp[16];
        assert_string_equal(gpu_clock_event_list(0, ',', buf, sizeof buf), "");
        assert_string_equal(gpu_clock_event_list(GPU_CLOCK_EVENT_SLOWDOWNS, ',', buf, sizeof buf),
                            "sw_power_cap,hw_slowdown,sw_thermal_slowdown,hw_thermal_slowdown,"
                            "hw_power_brake_slowdown");
        /* Whole names only: the third does not fit in 30 bytes. */
        assert_string_equal(gpu_clock_event_list(GPU_CLOCK_EVENT_SLOWDOWNS, ',', buf, 30),
                            "sw_power_cap,hw_slowdown");
        assert_string_equal(gpu_clock_event_list(0x1 | 0x10 | (UINT64_C(1) << 40), '|', buf, sizeof buf),
                            "gpu_idle|sync_boost|bit40");
        assert_string_equal(gpu_clock_event_list(0x4, ',', buf, 5), "");
        assert_string_equal(gpu_clock_event_name(8, tmp, sizeof tmp), "display_clock_setting");
        assert_string_equal(gpu_clock_event_name(63, tmp, sizeof tmp), "bit63");
        for (unsigned bit = 0; bit < 64; bit++)
                assert_int_equal(gpu_clock_event_bit(gpu_clock_event_name(bit, tmp, sizeof tmp)), (int)bit);
        assert_int_equal(gpu_clock_event_bit("sw_power_cap"), 2);
        assert_int_equal(gpu_clock_event_bit("bit64"), -1);
        assert_int_equal(gpu_clock_event_bit("bit"), -1);
        assert_int_equal(gpu_clock_event_bit("bit3x"), -1);
        assert_int_equal(gpu_clock_event_bit("power"), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_time_weighted_mean),
                cmocka_unit_test(test_repeated_timestamps_counted_once),
                cmocka_unit_test(test_not_found_is_no_sample),
                cmocka_unit_test(test_other_pids_ignored_but_keep_time),
                cmocka_unit_test(test_fork_sums_its_own_pids),
                cmocka_unit_test(test_pid_exits_mid_window),
                cmocka_unit_test(test_capped_at_whole_gpu),
                cmocka_unit_test(test_jittered_stamps_one_period),
                cmocka_unit_test(test_memory),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_clocks),
                cmocka_unit_test(test_clock_event_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
