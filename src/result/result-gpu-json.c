/* SPDX-License-Identifier: MIT */
/* A job's GPUs in result.json: what NVML measured for the job's own pids and, for a job
 * with a GPU share or a GPU memory limit, its "limit" object (requested vs applied share,
 * the mechanism, throttled time, launches per entry point, the memory limit). Writer and
 * reader side by side so that the two cannot drift; docs/result-schema.md is the layout. */
#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/clocks.h"
#include "gpu/region.h"
#include "result/json-writer.h"
#include "result/result-gpu-json.h"
#include "util/macros.h"

static const char *const entry_names[] = GPU_ENTRY_NAMES;
static_assert(ELEMENTSOF(entry_names) == ELEMENTSOF(((JobGpuResult *)0)->launches),
              "launches[] and GPU_ENTRY_NAMES out of step");

/* A share of 0 is "no share asked": null, as the other absent limits. */
static json_t *share_json(double v) {
        return v > 0 ? jw_dbl(v) : json_null();
}

static json_t *launches_to_json(const JobGpuResult *g) {
        if (!g->launches_seen)
                return json_null();
        json_t *o = json_object();
        int e = !o;
        for (size_t i = 0; !e && i < ELEMENTSOF(entry_names); i++)
                e |= jw_put(o, entry_names[i], jw_u64(g->launches[i]));
        return jw_finish(o, e);
}

static json_t *limit_to_json(const JobGpuResult *g) {
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        e |= jw_put(o, "share_requested", share_json(g->share_requested));
        e |= jw_put(o, "share_applied", g->share_mode ? jw_dbl(g->share_applied) : json_null());
        e |= jw_put(o, "mode", jw_str(g->share_mode));
        e |= jw_put(o, "mechanism", jw_str(g->mechanism));
        e |= jw_put(o, "semantics", jw_str(g->semantics));
        e |= jw_put(o, "throttled_s", jw_dbl(g->throttled_s));
        e |= jw_put(o, "uncontrollable", json_boolean(g->uncontrollable));
        bool shim = g->mechanism && strcmp(g->mechanism, "shim") == 0;
        e |= jw_put(o, "feedback", shim ? jw_str(g->open_loop ? "estimates" : "nvml") : json_null());
        e |= jw_put(o, "sliced_estimates", shim ? jw_u64(g->sliced_estimates) : json_null());
        e |= jw_put(o, "launches", launches_to_json(g));
        e |= jw_put(o, "memory_limit_bytes",
                    g->memory_limit_bytes ? jw_u64(g->memory_limit_bytes) : json_null());
        e |= jw_put(o, "memory_refused", jw_u64(g->memory_refused));
        return jw_finish(o, e);
}

/* The GPU's clocks while the job ran: null when NVML told nothing. */
static json_t *clocks_to_json(const JobGpuResult *g) {
        if (!g->clock_polls && !g->clock_events_known)
                return json_null();
        json_t *o = json_object();
        int e = !o;
        if (e)
                return NULL;
        bool c = g->clock_polls > 0;
        e |= jw_put(o, "sm_mhz_min", c ? json_integer(g->sm_clock_min_mhz) : json_null());
        e |= jw_put(o, "sm_mhz_mean", c ? jw_dbl(g->sm_clock_mean_mhz) : json_null());
        e |= jw_put(o, "sm_mhz_max", c ? json_integer(g->sm_clock_max_mhz) : json_null());
        e |= jw_put(o, "polls", json_integer(g->clock_polls));
        json_t *ev = g->clock_events_known ? json_array() : json_null();
        e |= !ev;
        for (unsigned bit = 0; !e && g->clock_events_known && bit < 64; bit++) {
                char buf[16];
                if (g->clock_events & (UINT64_C(1) << bit))
                        e |= jw_append(ev, jw_str(gpu_clock_event_name(bit, buf, sizeof buf)));
        }
        e |= jw_put(o, "events", ev);
        return jw_finish(o, e);
}

json_t *result_job_gpus_to_json(const JobResult *j) {
        json_t *a = json_array();
        int e = !a;
        for (size_t i = 0; !e && i < j->n_gpus; i++) {
                const JobGpuResult *g = &j->gpus[i];
                json_t *o = json_object();
                e |= !o;
                if (e)
                        break;
                e |= jw_put(o, "uuid", jw_str(g->uuid));
                e |= jw_put(o, "index", json_integer(g->index));
                e |= jw_put(o, "name", jw_str(g->name));
                e |= jw_put(o, "shared", json_boolean(g->shared));
                e |= jw_put(o, "sm_share_mean", jw_dbl(g->sm_share_mean));
                e |= jw_put(o, "sm_share_peak", jw_dbl(g->sm_share_peak));
                e |= jw_put(o, "memory_peak_bytes", jw_u64(g->memory_peak_bytes));
                e |= jw_put(o, "memory_total_bytes", jw_u64(g->memory_total_bytes));
                e |= jw_put(o, "samples", json_integer(g->samples));
                e |= jw_put(o, "pids", jw_pids(g->pids, g->n_pids));
                e |= jw_put(o, "clocks", clocks_to_json(g));
                /* Only a limited job has the object: an unlimited one reads as before. */
                if (g->limited)
                        e |= jw_put(o, "limit", limit_to_json(g));
                e |= jw_append(a, o);
        }
        return jw_finish(a, e);
}

static int gpu_pids_from_json(Reader *rd, json_t *a, void *userdata) {
        JobGpuResult *g = userdata;
        size_t i;
        json_t *v;
        g->n_pids = 0;
        json_array_foreach(a, i, v) {
                if (!json_is_integer(v))
                        return rd_fail(rd, NULL, "expected an array of pids");
                if (g->n_pids < ELEMENTSOF(g->pids))
                        g->pids[g->n_pids++] = json_integer_value(v);
        }
        return 0;
}

/* A fraction of the GPU's time: 0–1, null (none) reads as 0. */
static int rd_share(Reader *rd, json_t *o, const char *key, double *ret) {
        double v = *ret;
        int k = rd_double(rd, o, key, 0, &v);
        if (k < 0)
                return k;
        if (!(v >= 0 && v <= 1))
                return rd_fail(rd, key, "expected a fraction from 0 to 1, or null");
        *ret = v;
        return 0;
}

static int launches_from_json(Reader *rd, json_t *o, void *userdata) {
        JobGpuResult *g = userdata;
        for (size_t i = 0; i < ELEMENTSOF(entry_names); i++) {
                uint64_t v = 0;
                int k = rd_u64(rd, o, entry_names[i], &v);
                if (k < 0)
                        return k;
                g->launches[i] = v == UINT64_MAX ? 0 : v;
        }
        g->launches_seen = true;
        return 0;
}

static int limit_from_json(Reader *rd, json_t *o, void *userdata) {
        JobGpuResult *g = userdata;
        uint64_t mem = 0;
        int k = 0;
        g->limited = true;
        k = k ?: rd_share(rd, o, "share_requested", &g->share_requested);
        k = k ?: rd_share(rd, o, "share_applied", &g->share_applied);
        k = k ?: rd_str(rd, o, "mode", &g->share_mode);
        k = k ?: rd_str(rd, o, "mechanism", &g->mechanism);
        k = k ?: rd_str(rd, o, "semantics", &g->semantics);
        k = k ?: rd_double(rd, o, "throttled_s", 0, &g->throttled_s);
        if (k == 0 && !(g->throttled_s >= 0))
                k = rd_fail(rd, "throttled_s", "expected seconds (0 or more)");
        k = k ?: rd_bool(rd, o, "uncontrollable", &g->uncontrollable);
        char *feedback = NULL;
        k = k ?: rd_str(rd, o, "feedback", &feedback);
        if (k == 0 && feedback && strcmp(feedback, "nvml") != 0 && strcmp(feedback, "estimates") != 0)
                k = rd_fail(rd, "feedback", "expected \"nvml\" or \"estimates\"");
        g->open_loop = feedback && strcmp(feedback, "estimates") == 0;
        free(feedback);
        k = k ?: rd_u64(rd, o, "sliced_estimates", &g->sliced_estimates);
        if (g->sliced_estimates == UINT64_MAX) /* null: no shim */
                g->sliced_estimates = 0;
        k = k ?: rd_section(rd, o, "launches", false, launches_from_json, g);
        k = k ?: rd_u64(rd, o, "memory_limit_bytes", &mem);
        k = k ?: rd_u64(rd, o, "memory_refused", &g->memory_refused);
        if (k < 0)
                return k;
        g->memory_limit_bytes = mem == UINT64_MAX ? 0 : mem; /* null: none, which the model says with 0 */
        if (g->memory_refused == UINT64_MAX)
                g->memory_refused = 0;
        return 0;
}

/* Names of reasons this corun does not know (a newer one's) are left out. */
static int clock_events_from_json(Reader *rd, json_t *a, void *userdata) {
        JobGpuResult *g = userdata;
        size_t i;
        json_t *v;
        g->clock_events_known = true;
        json_array_foreach(a, i, v) {
                if (!json_is_string(v))
                        return rd_fail(rd, NULL, "expected an array of clock event names");
                int bit = gpu_clock_event_bit(json_string_value(v));
                if (bit >= 0)
                        g->clock_events |= UINT64_C(1) << bit;
        }
        return 0;
}

static int clocks_from_json(Reader *rd, json_t *o, void *userdata) {
        JobGpuResult *g = userdata;
        int k = 0;
        k = k ?: rd_unsigned(rd, o, "sm_mhz_min", &g->sm_clock_min_mhz);
        k = k ?: rd_double(rd, o, "sm_mhz_mean", 0, &g->sm_clock_mean_mhz);
        k = k ?: rd_unsigned(rd, o, "sm_mhz_max", &g->sm_clock_max_mhz);
        k = k ?: rd_unsigned(rd, o, "polls", &g->clock_polls);
        k = k ?: rd_section(rd, o, "events", true, clock_events_from_json, g);
        return k;
}

static int job_gpu_from_json(Reader *rd, json_t *o, void *userdata) {
        JobGpuResult *g = job_result_add_gpu(userdata);
        if (!g)
                return -ENOMEM;
        int k = 0;
        k = k ?: rd_str(rd, o, "uuid", &g->uuid);
        k = k ?: rd_unsigned(rd, o, "index", &g->index);
        k = k ?: rd_str(rd, o, "name", &g->name);
        k = k ?: rd_bool(rd, o, "shared", &g->shared);
        k = k ?: rd_double(rd, o, "sm_share_mean", 0, &g->sm_share_mean);
        k = k ?: rd_double(rd, o, "sm_share_peak", 0, &g->sm_share_peak);
        k = k ?: rd_u64(rd, o, "memory_peak_bytes", &g->memory_peak_bytes);
        k = k ?: rd_u64(rd, o, "memory_total_bytes", &g->memory_total_bytes);
        k = k ?: rd_unsigned(rd, o, "samples", &g->samples);
        k = k ?: rd_section(rd, o, "pids", true, gpu_pids_from_json, g);
        k = k ?: rd_section(rd, o, "clocks", false, clocks_from_json, g);
        k = k ?: rd_section(rd, o, "limit", false, limit_from_json, g);
        return k;
}

int result_job_gpus_from_json(Reader *rd, json_t *a, void *userdata) {
        return rd_each(rd, a, job_gpu_from_json, userdata);
}
