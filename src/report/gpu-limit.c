/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/gpu-limit.h"
#include "util/macros.h"
#include "util/parse.h"

static bool has_share(const JobGpuResult *g) {
        return g->limited && g->share_requested > 0 && g->share_mode;
}

const JobGpuResult *report_gpu_share_of(const JobResult *j) {
        for (size_t i = 0; i < j->n_gpus; i++)
                if (has_share(&j->gpus[i]))
                        return &j->gpus[i];
        return NULL;
}

/* 30, 12.5, 33.3: three digits are what a share is asked with. */
static int pct(char *buf, size_t n, double v) {
        return snprintf(buf, n, "%.3g%%", 100 * v);
}

const char *report_gpu_share_label(const JobGpuResult *g, char *buf, size_t n) {
        char p[16];
        if (!has_share(g))
                return NULL;
        pct(p, sizeof p, g->share_requested);
        snprintf(buf, n, streq(g->share_mode, "share") ? "share %s+lent" : "cap %s", p);
        return buf;
}

const char *report_gpu_share_text(const JobGpuResult *g, char *buf, size_t n) {
        char label[32], applied[16];
        buf[0] = '\0';
        if (!report_gpu_share_label(g, label, sizeof label))
                return buf;
        size_t at = (size_t)MAX(snprintf(buf, n, "%s", label), 0);
        /* In mode share the applied share is the guarantee plus what was lent: always
         * worth showing; a cap applied as asked is not. */
        if (at < n && isfinite(g->share_applied) && g->share_applied > 0 &&
            (streq(g->share_mode, "share") || fabs(g->share_applied - g->share_requested) >= 0.0005)) {
                pct(applied, sizeof applied, g->share_applied);
                at += (size_t)MAX(snprintf(buf + at, n - at, ", applied %s", applied), 0);
        }
        if (at < n && g->mechanism)
                at += (size_t)MAX(snprintf(buf + at, n - at, " by %s", g->mechanism), 0);
        if (at < n && isfinite(g->throttled_s) && g->throttled_s > 0)
                at += (size_t)MAX(snprintf(buf + at, n - at, ", throttled %.1fs", g->throttled_s), 0);
        if (at < n && g->uncontrollable)
                snprintf(buf + at, n - at, ", not held: kernels longer than the window");
        return buf;
}

const char *report_gpu_memory_text(const JobGpuResult *g, char *buf, size_t n) {
        char size[FORMAT_SIZE_MAX];
        buf[0] = '\0';
        if (!g->limited || !g->memory_limit_bytes)
                return buf;
        int k = snprintf(buf, n, "limit %s", format_size(size, sizeof size, g->memory_limit_bytes));
        if (k >= 0 && (size_t)k < n && g->memory_refused)
                snprintf(buf + k, n - (size_t)k, ", %" PRIu64 " allocation%s refused", g->memory_refused,
                         g->memory_refused == 1 ? "" : "s");
        return buf;
}
