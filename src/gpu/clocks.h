/* SPDX-License-Identifier: MIT */
#pragma once

/* The GPU's clocks while a job ran (docs/gpu.md, "Clocks"): NVML's reasons for running
 * below the highest clock (nvmlClocksEventReason*, the older nvmlClocksThrottleReason*),
 * by bit, with the names result.json and the GPU series use. Pure: a table and two
 * look-ups, shared by the runner (src/exec/gpu.c) and result.json's reader and writer. */

#include <stddef.h>
#include <stdint.h>

/* Bit i of NVML's mask is GPU_CLOCK_EVENT_NAMES[i]. */
#define GPU_CLOCK_EVENT_NAMES                                                                               \
        {                                                                                                   \
                "gpu_idle", "applications_clocks_setting", "sw_power_cap", "hw_slowdown", "sync_boost",     \
                        "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown",            \
                        "display_clock_setting"                                                             \
        }
#define GPU_CLOCK_EVENT_IDLE UINT64_C(0x1)
/* The reasons that lower the clock because of power or heat (not a setting someone made):
 * sw_power_cap, hw_slowdown, sw_thermal_slowdown, hw_thermal_slowdown, hw_power_brake_slowdown.
 * A job whose GPU ran under one of them ran slower than the same job on a cool GPU. */
#define GPU_CLOCK_EVENT_SLOWDOWNS UINT64_C(0xec)

/* The name of bit `bit` (0–63): a known one's name, else "bit<N>" written into buf (n ≥ 8). */
const char *gpu_clock_event_name(unsigned bit, char *buf, size_t n);
/* The bit a name stands for (either form above), or -1 when it names none. */
int gpu_clock_event_bit(const char *name);
/* The names of the bits set in `events`, in bit order, joined by `sep`, into buf (always
 * terminated; "" for none). Returns buf. */
char *gpu_clock_event_list(uint64_t events, char sep, char *buf, size_t n);
