/* SPDX-License-Identifier: MIT */
#pragma once

/* corun doctor's checks (doctor.c) and its GPU part (doctor-gpu.c). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "gpu/gpu.h"
#include "util/macros.h"

/* FATAL prints as FAIL; it is what makes the machine "not usable" (exit 2). */
typedef enum Level { LEVEL_OK, LEVEL_WARN, LEVEL_FAIL, LEVEL_FATAL } Level;

typedef struct Check {
        char name[24];
        Level level;
        char *message, *fix;
} Check;

#define MAX_CHECKS 96 /* about 20, and two per GPU with --gpu-timeslice */
typedef struct Doctor {
        Check checks[MAX_CHECKS];
        size_t n;
} Doctor;

void check_add(Doctor *d, const char *name, Level level, const char *fix, const char *fmt, ...)
        _printf_(5, 6);

/* One line for the GPUs, one per GPU (with its time slice, measured or not). */
void check_gpus(Doctor *d, const GpuHost *g);
/* --gpu-timeslice: measures each GPU's time slice beside a `corun stress gpu` it starts on
 * that GPU, keeps it for corun run (gpu/timeslice.h) and in g's devices, one check each. */
void check_gpu_timeslices(Doctor *d, GpuHost *g);
json_t *gpus_json(const GpuHost *g);
