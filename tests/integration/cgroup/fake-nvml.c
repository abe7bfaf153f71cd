/* SPDX-License-Identifier: MIT */
/* A stand-in libnvidia-ml.so.1 for `corun doctor`'s NVML check, which only dlopens it. */
int nvmlInit_v2(void);
int nvmlInit_v2(void) {
        return 0;
}
