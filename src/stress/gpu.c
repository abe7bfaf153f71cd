/* SPDX-License-Identifier: MIT */
/* corun stress gpu: a busy-loop kernel in PTX, loaded with cuModuleLoadData through the
 * dlopen'ed driver (the driver compiles PTX itself, so no CUDA toolkit is needed), then
 * launched back to back. Each thread spins on %globaltimer until it has run for the
 * requested time, so a kernel takes the same GPU time whatever the GPU and its tenants. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gpu/gpu-dl.h"
#include "stress/stress.h"
#include "util/error.h"
#include "util/macros.h"
#include "util/parse.h"
#include "util/time-util.h"

/* PTX ISA 6.0 for sm_50: any driver since CUDA 9 compiles it for its GPU. Each thread
 * spins until it has *run* for corun_busy_ns: it adds up the steps of %globaltimer between
 * two of its reads, leaving out steps over 20 µs, which are time slices of other contexts
 * (a time-sliced GPU stops the whole context: 2.09 ms slices and 150 µs switches on an
 * H200). So a kernel takes the same GPU time however the GPU is shared, and kernels/s
 * times the kernel's length is the GPU time the process got. */
static const char busy_ptx[] = ".version 6.0\n"
                               ".target sm_50\n"
                               ".address_size 64\n"
                               "\n"
                               ".visible .entry corun_busy(.param .u64 corun_busy_ns)\n"
                               "{\n"
                               "        .reg .pred %p, %q;\n"
                               "        .reg .b64 %rd<6>;\n"
                               "\n"
                               "        ld.param.u64 %rd0, [corun_busy_ns];\n"
                               "        mov.u64 %rd1, %globaltimer;\n"
                               "        mov.u64 %rd4, 0;\n"
                               "$Lspin:\n"
                               "        mov.u64 %rd3, %globaltimer;\n"
                               "        sub.u64 %rd5, %rd3, %rd1;\n"
                               "        mov.u64 %rd1, %rd3;\n"
                               "        setp.lt.u64 %q, %rd5, 20000;\n"
                               "        @%q add.u64 %rd4, %rd4, %rd5;\n"
                               "        setp.lt.u64 %p, %rd4, %rd0;\n"
                               "        @%p bra $Lspin;\n"
                               "        ret;\n"
                               "}\n";

/* Kernels queued at once: the next is queued while one runs, so the GPU never waits for
 * the CPU between two of them. */
#define IN_FLIGHT 2

typedef struct Run {
        const GpuCuda *cu;
        CuDevice dev;
        CuContext ctx;
        CuFunction fn;
        CuEvent done[IN_FLIGHT];
        CuDevicePtr mem;
        int sms; /* 0: not asked yet */
} Run;

static int cu_fail(const GpuCuda *cu, char **ret_error, int r, const char *what) {
        char buf[32];
        return error_setf(ret_error, -EIO, "%s: %s", what, gpu_cuda_strerror(cu, r, buf, sizeof buf));
}

static int run_setup(Run *run, const StressGpu *o, StressGpuResult *res, char **ret_error) {
        const GpuCuda *cu = run->cu;
        unsigned char uuid[16];
        int n = 0, r;

        if ((r = cu->device_get_count(&n)) != CUDA_SUCCESS)
                return cu_fail(cu, ret_error, r, "cuDeviceGetCount");
        if (o->device >= (unsigned)n)
                return error_setf(ret_error, -ENODEV,
                                  "no CUDA device %u: %d visible (CUDA_VISIBLE_DEVICES=%s)", o->device, n,
                                  getenv("CUDA_VISIBLE_DEVICES") ?: "(unset)");
        if ((r = cu->device_get(&run->dev, (int)o->device)) != CUDA_SUCCESS)
                return cu_fail(cu, ret_error, r, "cuDeviceGet");
        if (cu->device_get_uuid(uuid, run->dev) == CUDA_SUCCESS)
                gpu_uuid_format(uuid, res->uuid, sizeof res->uuid);
        if (cu->device_get_name(res->name, (int)sizeof res->name, run->dev) != CUDA_SUCCESS)
                snprintf(res->name, sizeof res->name, "?");
        if ((r = cu->primary_ctx_retain(&run->ctx, run->dev)) != CUDA_SUCCESS)
                return cu_fail(cu, ret_error, r, "cuDevicePrimaryCtxRetain");
        if ((r = cu->ctx_set_current(run->ctx)) != CUDA_SUCCESS)
                return cu_fail(cu, ret_error, r, "cuCtxSetCurrent");
        CuModule mod;
        if ((r = cu->module_load_data(&mod, busy_ptx)) != CUDA_SUCCESS)
                return cu_fail(cu, ret_error, r, "cuModuleLoadData (the busy-loop kernel's PTX)");
        if ((r = cu->module_get_function(&run->fn, mod, "corun_busy")) != CUDA_SUCCESS)
                return cu_fail(cu, ret_error, r, "cuModuleGetFunction corun_busy");
        for (int i = 0; i < IN_FLIGHT; i++)
                if ((r = cu->event_create(&run->done[i], 0)) != CUDA_SUCCESS)
                        return cu_fail(cu, ret_error, r, "cuEventCreate");
        if (o->mem_bytes > 0 && (r = cu->mem_alloc(&run->mem, o->mem_bytes)) != CUDA_SUCCESS) {
                char size[FORMAT_SIZE_MAX];
                run->mem = 0;
                return error_setf(ret_error, r == 2 ? -ENOMEM : -EIO, "cuMemAlloc of %s: %s",
                                  format_size(size, sizeof size, o->mem_bytes),
                                  gpu_cuda_strerror(cu, r, size, sizeof size));
        }
        return 0;
}

static void run_teardown(Run *run) {
        const GpuCuda *cu = run->cu;
        if (run->mem)
                (void)cu->mem_free(run->mem);
        for (int i = 0; i < IN_FLIGHT; i++)
                if (run->done[i])
                        (void)cu->event_destroy(run->done[i]);
        if (run->ctx)
                (void)cu->primary_ctx_release(run->dev);
}

/* Launches one busy kernel of ns on the current stream: one block of one warp per SM, so
 * the whole GPU is busy while it runs. */
static int launch_busy(Run *run, uint64_t ns) {
        const GpuCuda *cu = run->cu;
        unsigned long long arg = ns;
        void *params[] = {&arg};
        if (!run->sms && (cu->device_get_attribute(&run->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                                                   run->dev) != CUDA_SUCCESS ||
                          run->sms < 1))
                run->sms = 1;
        return cu->launch_kernel(run->fn, (unsigned)run->sms, 1, 1, 32, 1, 1, 0, NULL, params, NULL);
}

static int launch_all(Run *run, const StressGpu *o, FILE *out, StressGpuResult *res, char **ret_error) {
        const GpuCuda *cu = run->cu;
        int r;

        /* Kernel i starts no earlier than t0 + i·kernel/duty: the GPU time asked for is
         * `duty` of the wall time, however the kernels are delayed by other tenants. */
        double spacing_usec = (double)o->kernel_ns / 1000.0 / o->duty;
        stress_marker(out, "gpu", "kernels", true);
        uint64_t t0 = now_usec(CLOCK_MONOTONIC), end = t0 + o->duration_usec;
        uint64_t i = 0;
        for (;; i++) {
                if (o->kernels > 0 ? i >= o->kernels : now_usec(CLOCK_MONOTONIC) >= end)
                        break;
                CuEvent ev = run->done[i % IN_FLIGHT];
                if (i >= IN_FLIGHT && (r = cu->event_synchronize(ev)) != CUDA_SUCCESS)
                        return cu_fail(cu, ret_error, r, "cuEventSynchronize");
                if (o->duty < 1.0) {
                        uint64_t at = t0 + (uint64_t)((double)i * spacing_usec);
                        if (o->kernels == 0 && at >= end)
                                break;
                        (void)stress_sleep_until(at);
                }
                r = launch_busy(run, o->kernel_ns);
                if (r != CUDA_SUCCESS)
                        return cu_fail(cu, ret_error, r, "cuLaunchKernel");
                if ((r = cu->event_record(ev, NULL)) != CUDA_SUCCESS)
                        return cu_fail(cu, ret_error, r, "cuEventRecord");
        }
        if ((r = cu->ctx_synchronize()) != CUDA_SUCCESS)
                return cu_fail(cu, ret_error, r, "cuCtxSynchronize");
        res->kernels = i;
        res->wall_s = (double)(now_usec(CLOCK_MONOTONIC) - t0) / 1e6;
        res->kernels_per_s = res->wall_s > 0 ? (double)i / res->wall_s : 0;
        stress_marker(out, "gpu", "kernels", false);
        return 0;
}

int stress_gpu(const StressGpu *o, FILE *out, StressGpuResult *ret, char **ret_error) {
        _cleanup_free_ char *why = NULL;
        StressGpuResult res = {0};
        Run run = {0};

        if (o->kernel_ns == 0 || !(o->duty > 0 && o->duty <= 1) ||
            (o->kernels == 0 && o->duration_usec == 0))
                return error_setf(ret_error, -EINVAL, "invalid stress gpu options");
        run.cu = gpu_cuda(&why);
        if (!run.cu)
                return error_setf(ret_error, -ENODEV, "%s", why ? why : "no CUDA driver");
        int r = run_setup(&run, o, &res, ret_error);
        if (r >= 0)
                r = launch_all(&run, o, out, &res, ret_error);
        run_teardown(&run);
        if (r < 0)
                return r;
        *ret = res;
        return 0;
}

/* The time slice probe (timeslice.h): the busy kernel itself, timed with two events,
 * since it takes exactly the GPU time it is asked for however it is cut. */
static int measure_one(void *userdata, int64_t work_ns, int64_t *ret_wall_ns) {
        Run *run = userdata;
        const GpuCuda *cu = run->cu;
        float ms = 0;
        if (cu->event_record(run->done[0], NULL) != CUDA_SUCCESS ||
            launch_busy(run, (uint64_t)work_ns) != CUDA_SUCCESS ||
            cu->event_record(run->done[1], NULL) != CUDA_SUCCESS ||
            cu->event_synchronize(run->done[1]) != CUDA_SUCCESS ||
            cu->event_elapsed_time(&ms, run->done[0], run->done[1]) != CUDA_SUCCESS)
                return -EIO;
        *ret_wall_ns = (int64_t)((double)ms * 1e6);
        return 0;
}

int stress_gpu_timeslice(const char *uuid, GpuTimeslice *ret, char **ret_error) {
        _cleanup_free_ char *why = NULL;
        StressGpuResult res = {0};
        Run run = {0};
        run.cu = gpu_cuda(&why);
        if (!run.cu)
                return error_setf(ret_error, -ENODEV, "%s", why ? why : "no CUDA driver");
        if (!run.cu->event_elapsed_time)
                return error_setf(ret_error, -ENOSYS, "libcuda.so.1 has no cuEventElapsedTime");
        /* The CUDA ordinal of the GPU with this UUID, among those this process sees. */
        int n = 0;
        StressGpu o = {.device = UINT_MAX};
        if (run.cu->device_get_count(&n) == CUDA_SUCCESS)
                for (int i = 0; i < n && o.device == UINT_MAX; i++) {
                        CuDevice d;
                        unsigned char u[16];
                        char s[96];
                        if (run.cu->device_get(&d, i) != CUDA_SUCCESS ||
                            run.cu->device_get_uuid(u, d) != CUDA_SUCCESS)
                                continue;
                        gpu_uuid_format(u, s, sizeof s);
                        if (streq(s, uuid))
                                o.device = (unsigned)i;
                }
        if (o.device == UINT_MAX)
                return error_setf(ret_error, -ENODEV, "no CUDA device %s among the %d this process sees",
                                  uuid, n);
        int r = run_setup(&run, &o, &res, ret_error);
        if (r >= 0) {
                r = gpu_timeslice_probe(measure_one, &run, ret);
                if (r == -EIO)
                        r = error_setf(ret_error, r, "a CUDA call failed while timing the busy kernel");
                else if (r == -ENOMSG)
                        r = error_setf(
                                ret_error, r,
                                "no kernel up to %.0f ms was cut by another context's time slice "
                                "(the GPU does not time-slice them: MPS, or the other context was not busy)",
                                GPU_TIMESLICE_PROBE_MAX_NS / 1e6);
                else if (r == -EPROTO)
                        r = error_setf(ret_error, r,
                                       "the timings do not step as time slices do (something else runs on "
                                       "the GPU, or it does not time-slice contexts as corun expects)");
                else if (r == -ERANGE)
                        r = error_setf(ret_error, r,
                                       "even a %.1f ms kernel was cut by another context's time slice",
                                       GPU_TIMESLICE_PROBE_MIN_NS / 1e6);
        }
        run_teardown(&run);
        return r;
}
