/* SPDX-License-Identifier: MIT */
/* A driver that does nothing (libcuda.so.1 for bench/shim-launch only): every entry point
 * the shim calls returns at once, so the difference with and without the shim is the
 * shim's own cost. Events "measure" 1 ns, so a charged launch costs 1 ns of tokens. */
#define EXPORT __attribute__((visibility("default")))

static int dummy_ctx;

EXPORT int cuInit(unsigned flags) {
        return 0;
}
EXPORT int cuCtxGetCurrent(void **c) {
        *c = &dummy_ctx;
        return 0;
}
EXPORT int cuCtxGetDevice(int *d) {
        *d = 0;
        return 0;
}
EXPORT int cuStreamIsCapturing(void *s, int *status) {
        *status = 0;
        return 0;
}
EXPORT int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                          unsigned shmem, void *s, void **params, void **extra) {
        return 0;
}
EXPORT int cuEventCreate(void **e, unsigned flags) {
        *e = &dummy_ctx;
        return 0;
}
EXPORT int cuEventRecord(void *e, void *s) {
        return 0;
}
EXPORT int cuEventQuery(void *e) {
        return 0;
}
EXPORT int cuEventSynchronize(void *e) {
        return 0;
}
EXPORT int cuEventElapsedTime(float *ms, void *a, void *b) {
        *ms = 1e-6f;
        return 0;
}
