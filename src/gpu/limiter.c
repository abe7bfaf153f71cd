/* SPDX-License-Identifier: MIT */
/* The GPU share controller (limiter.h; shared/research/gpu-limiter.md §5.4–5.7). Pure: no
 * system calls, no clock; the gains were tuned on the time-sliced plant model of
 * tests/unit/gpu/gpu-plant.c (bench/gpu-limiter-sim.sh prints the resulting share error).
 *
 * The plant, as the controller sees it: a backlogged job spends its tokens as fast as they
 * come, so the GPU time it gets is rate / scale, where scale is how many tokens its shim
 * charges per GPU-ns it really uses (the shim's cost estimates may be off by a constant
 * factor, 0.3×–3× in practice, and are noisy). The measurement is NVML's per-process
 * share, integer percent, one sample per ~1/6 s, arriving up to a period late. So the
 * loop is mostly feed-forward (rate = share · scale, scale learnt from charged vs
 * measured) with a small PI correction for what the scale cannot explain (rounding,
 * context-switch time, the lag between charging and running). */
#include <math.h>

#include "gpu/limiter.h"
#include "gpu/region.h"

/* The gains, in fraction-of-GPU units (independent of the SM count), tuned on the plant
 * (bench/gpu-limiter-sim.sh; Kp 0–0.4 and Ki 0.5–2/s all land within 0.04 pp of each other
 * in mean error, the choice below keeps long-kernel jobs closest to their cap). The plant
 * is a unit gain behind about a period of measurement lag, so a Kp near 1 rings; 0.2 passes
 * ±0.1 pp of rate per ±0.5 pp of integer-percent noise. Ki = 1/s removes a bias of a few pp
 * in about a second. */
#define KP 0.2
#define KI 1.0
/* The integral term is bounded to ±10 pp of GPU (design §5.5): a bias larger than that is
 * not something a share controller should hide, it is flagged instead. */
#define INTEGRAL_TERM_MAX 0.10
/* The error the PI acts on is clipped to ±3 pp. A larger error is a transient the
 * feed-forward is already dealing with (a full bucket's burst, a scale still being learnt,
 * a queue draining after a rate cut, all seen through a period of measurement lag); acting
 * on it in full winds the integrator to its bound in one period and undershoots for
 * seconds after. A lasting error that large is not a bias to correct but a job to flag. */
#define ERROR_CLIP 0.03
/* Work-conserving headroom (§5.6): 2 % of the GPU is never lent, so a lender that comes
 * back finds the GPU not entirely queued up. */
#define HEADROOM 0.02
/* The GPU counts as full when its tenants' measured shares add up to this: round-robin
 * among backlogged contexts loses ~2.5 % to context switches (50 µs per 2 ms slice), and
 * NVML rounds each to a percent. */
#define GPU_FULL 0.95

/* Scale learning: the ratio of two decaying sums (charged·dt, measured·dt), not an
 * average of per-period ratios. What a job charged in a period runs later, after its queue
 * (up to the in-flight bound, which is in estimated ns: with estimates 0.3× too low that is
 * over 300 ms of GPU time, filled at once at the start from a full bucket), so a per-period
 * ratio is off by that queue's change over the period, and while a queue drains it says the
 * scale is several times too low, which cuts the rate, which drains more. Over sums the
 * queue's change counts once against everything charged in the window. τ = 1 s: longer
 * windows keep start-up transients (all jobs starting at once, the GPU oversubscribed by
 * their first bursts) in the sums for longer, shorter ones let queue drains through. */
#define SCALE_TAU_S 1.0
/* After the first estimate the scale rises by at most 5 % a period (it falls freely). A
 * charge arrives a period before its measurement: a job that steps up from below its cap,
 * or launches a long kernel, shows a spike in the ratio for a period, and a rate that
 * followed it would hand out a spike of tokens (with 300 ms kernels, enough to pay off a
 * kernel's debt at once). */
#define SCALE_STEP_MAX 0.05
#define SCALE_MIN 0.01
#define SCALE_MAX 100
/* The sums must hold 10 ms of GPU time (a 6 % share for one period) before their ratio
 * is trusted: below that integer percent does not resolve it. */
#define MEASURE_MIN_S 0.01

/* Uncontrollable (§5.5): the error, averaged over ~2 s (the design's window W, at least 10×
 * the longest kernel worth controlling), stays beyond 5 pp for 3 windows while the job is
 * backlogged. The averaging keeps a job with long kernels, whose per-period share swings
 * between 0 and 100 % but whose long-run share holds, from being flagged. */
#define ERROR_TAU_S 2.0
#define UNCONTROLLABLE_ERROR 0.05
#define UNCONTROLLABLE_S 3.0

static double clamp(double x, double lo, double hi) {
        return x < lo ? lo : x > hi ? hi : x;
}

/* share 1 (or anything not below it): not limited, measured only; in mode share a sink. */
static bool is_unlimited(const GpuLimitTenant *t) {
        return !(t->share < 1.0);
}

/* What a tenant keeps of its share this period (mode share, §5.6 steps 1–2); the rest of
 * its share can be lent. Only the share of a job that launched nothing in a whole period is
 * lent in full. A job running below its share keeps what it used plus a margin to grow
 * into; its use comes from the charge counter (no lag: it covers exactly this period) when
 * the scale is known, and from the measurement, whichever is larger. A job with nothing
 * to go by keeps its whole share. */
static double kept_share(const GpuLimitTenant *t) {
        if (!t->active)
                return 0;
        if (t->backlogged)
                return t->share;
        bool have_m = isfinite(t->measured);
        if (!have_m && !(t->scale > 0))
                return t->share;
        double used = have_m ? t->measured : 0;
        if (t->scale > 0 && isfinite(t->charged) && t->charged / t->scale > used)
                used = t->charged / t->scale;
        return fmin(t->share, used * 1.2 + 0.02);
}

static void learn_scale(GpuLimitTenant *t, bool fresh, double m, double target, double dt_s) {
        /* A job that stopped (no launch, no wait) says nothing about the scale: its last
         * work runs and is measured with nothing charged, which the sums would take for a
         * scale near 0. They stay as they are until it runs again. (A job waiting off
         * the debt of a long kernel launches nothing for seconds either, but it is
         * backlogged, and its kernel's GPU time must meet its charge in the sums.) */
        if (!t->active && !t->backlogged)
                return;
        double c = isfinite(t->charged) && t->charged > 0 ? t->charged : 0;
        double decay = exp(-dt_s / SCALE_TAU_S);
        t->charged_sum = t->charged_sum * decay + c * dt_s;
        if (fresh)
                t->measured_sum = t->measured_sum * decay + m * dt_s;
        else if (t->scale > 0)
                /* No sample: the next one covers this period too but is weighted as one
                 * period; stand in for this period with what the charge says it used, which
                 * leaves the ratio as it was. Before the first sample the charge stays
                 * unmatched on purpose: it is the first burst, which the next samples
                 * measure. */
                t->measured_sum = t->measured_sum * decay + c / t->scale * dt_s;
        else
                t->measured_sum *= decay;
        /* Meaningful once the sums hold enough GPU time for integer percent to resolve. */
        if (!(t->measured_sum >= MEASURE_MIN_S && t->charged_sum > 0))
                return;
        double ratio = clamp(t->charged_sum / t->measured_sum, SCALE_MIN, SCALE_MAX);
        if (t->scale > 0 && ratio > t->scale * exp(SCALE_STEP_MAX))
                ratio = t->scale * exp(SCALE_STEP_MAX);
        else if (!(t->scale > 0) && fresh && m > target + ERROR_CLIP && ratio > 1)
                /* The first estimate of a job that got more than its share: the sums hold
                 * its first burst (a full bucket charged at once, measured over the next
                 * periods), not a scale above 1; from the face value it may rise 5 % a
                 * period like any later estimate. */
                ratio = 1;
        t->scale = ratio;
}

static void track_controllable(GpuLimitTenant *t, double e, double dt_s) {
        t->error_avg += (1.0 - exp(-dt_s / ERROR_TAU_S)) * (e - t->error_avg);
        if (fabs(t->error_avg) > UNCONTROLLABLE_ERROR)
                t->error_since_s += dt_s;
        else
                t->error_since_s = 0;
        if (t->error_since_s >= UNCONTROLLABLE_S * ERROR_TAU_S)
                t->uncontrollable = true;
}

static void step_one(GpuLimitTenant *t, double lent, bool gpu_full, double dt_s) {
        t->started = true;
        t->lent = lent;
        if (is_unlimited(t)) {
                t->rate = INFINITY;
                return;
        }

        double share = clamp(t->share, 0, 1);
        bool fresh = isfinite(t->measured);
        double m = fresh ? clamp(t->measured, 0, 1) : NAN;
        double target = share + lent;
        if (!t->open_loop) /* else the scale is gpu_limiter_attribution's */
                learn_scale(t, fresh, m, target, dt_s);
        /* Before the first estimate the shim's costs are taken at face value. */
        double scale = t->scale > 0 ? t->scale : 1.0;
        double integral_max = INTEGRAL_TERM_MAX / KI;

        double u;
        if (fresh && t->backlogged) {
                double e_raw = target - m, e = clamp(e_raw, -ERROR_CLIP, ERROR_CLIP);
                double pi = target + KP * e + KI * t->integral;
                /* Anti-windup: integrate only (a) on a new sample, (b) while backlogged (a
                 * job below its share winds up credit and overshoots when its demand
                 * rises), (c) when the output is not at a clamp in the direction the error
                 * pushes, and (d) when nothing is lent to the job: a borrower's shortfall
                 * is contention for the lent time, not a bias of its own rate, and the
                 * integral it would build must not outlive the loan; (e) not on a shortfall
                 * while the GPU was full: the job then gets what the round-robin gives it,
                 * more rate would only queue more work (and overshoot once the others
                 * settle); (f) not on an error beyond the clip unless it unwinds the
                 * integral (a transient, see ERROR_CLIP), so that an integral left over from
                 * one can always come back. */
                bool saturated = (pi >= 1 && e > 0) || (pi <= 0 && e < 0);
                bool transient = fabs(e_raw) > ERROR_CLIP && e * t->integral >= 0;
                bool contention = gpu_full && e > 0 && t->integral >= 0;
                if (!saturated && lent == 0 && !transient && !contention)
                        t->integral = clamp(t->integral + e * dt_s, -integral_max, integral_max);
                /* The proportional term, too, only on errors within the clip: beyond it the
                 * measurement is a period behind a change (a step in demand, a burst) that
                 * the rate has already met. */
                u = target + (fabs(e_raw) <= ERROR_CLIP ? KP * e : 0) + KI * t->integral;
                if (lent == 0)
                        track_controllable(t, e_raw, dt_s);
        } else {
                /* No proportional term without a new sample or while the job uses less
                 * than its share: an error it cannot act on would only raise its rate,
                 * filling its bucket for a burst when its demand comes back. */
                u = target + KI * t->integral;
                if (!t->backlogged)
                        t->error_since_s = 0;
        }
        t->rate = clamp(u, 0, 1) * scale;
}

/* A work-conserving tenant borrows while it waited for tokens in the period, or while it
 * keeps launching on a loan: with a loan large enough its bucket may never run dry, and
 * taking the loan back for that would make the borrower flip between its share and the
 * loan every other period (seen end to end: 45 % and 96 % in turns). */
static bool borrows(const GpuLimitTenant *t) {
        return t->work_conserving && (t->backlogged || (t->active && t->lent > 0));
}

void gpu_limiter_step(GpuLimitTenant *t, size_t n, double dt_s) {
        if (!(dt_s > 0))
                return;

        /* Mode share (§5.6): spare = 1 − what every limited tenant keeps − headroom, lent
         * to the backlogged work-conserving tenants in proportion to their shares. Any
         * tenant's unused share is lent (a cap-mode job's too: the GPU time is idle
         * otherwise), but only work-conserving tenants borrow. Unlimited tenants are
         * outside this: not charged, they take what the others leave (a sink). Capping
         * each borrower at the whole GPU needs no iteration: spare ≤ 1 − share. A lender
         * is reclaimed at the first period it launches anything in: its share is kept
         * again, the borrowers' rates drop at once, and meanwhile the GPU's round-robin
         * gives it its slices. */
        double spare = 1.0 - HEADROOM, weights = 0, busy = 0;
        for (size_t i = 0; i < n; i++) {
                if (isfinite(t[i].measured))
                        busy += t[i].measured;
                if (is_unlimited(&t[i]))
                        continue;
                spare -= kept_share(&t[i]);
                if (borrows(&t[i]))
                        weights += t[i].share;
        }
        if (spare < 0)
                spare = 0;

        for (size_t i = 0; i < n; i++) {
                double lent = 0;
                if (!is_unlimited(&t[i]) && borrows(&t[i]) && weights > 0)
                        lent = spare * t[i].share / weights;
                step_one(&t[i], lent, busy >= GPU_FULL, dt_s);
        }
}

/* A share NVML rounds to a percent: below this a process got no sample. */
#define SAMPLE_MIN 0.005
#define WHOLE_PERIODS 5
#define WHOLE_OVER_SPLIT 4
/* The common scale: τ = 2 s (each tick's sample goes to one tenant, so the sum over the
 * tenants is right per tick, but its timing against the charges is not), bounded to
 * estimates 5× off either way. */
#define COMMON_TAU_S 2.0
#define COMMON_SCALE_MIN 0.2
#define COMMON_SCALE_MAX 5.0

/* others_busy: the GPU time the limited tenants leave is taken as at least this, so that
 * tenants that charge (nearly) all of it do not divide by (nearly) 0. */
#define OTHERS_FREE_MIN 0.05
#define OTHERS_TAU_S 0.2

bool gpu_limiter_attribution(GpuLimitAttribution *a, GpuLimitTenant *t, size_t n, bool others, double others_measured,
                             double dt_s) {
        /* What the limited tenants charged and what the GPU's samples add up to in the
         * period (whole or not, the sum is right), for others_busy and the common scale. */
        bool unlimited = false, fresh = isfinite(others_measured) && others_measured > 0;
        double c = 0, m = 0;
        for (size_t i = 0; i < n; i++) {
                unlimited |= is_unlimited(&t[i]);
                if (isfinite(t[i].charged) && t[i].charged > 0 && !is_unlimited(&t[i]))
                        c += t[i].charged;
                if (isfinite(t[i].measured)) {
                        m += clamp(t[i].measured, 0, 1);
                        fresh = true;
                }
        }
        /* a->others_busy (limiter.h), on any GPU. */
        if (!(others || unlimited) || !(dt_s > 0))
                a->others_busy = 0;
        else if (fresh) {
                /* The GPU was busy (m + the others' samples) of the period, the limited
                 * tenants ran about what they charged (c, their shims' estimates), the rest
                 * was the others', out of the 1 − c the tenants left. */
                double busy = m + (isfinite(others_measured) ? clamp(others_measured, 0, 1) : 0);
                double k = clamp((busy - c) / fmax(OTHERS_FREE_MIN, 1 - c), 0, 1);
                a->others_busy += (1 - exp(-dt_s / OTHERS_TAU_S)) * (k - a->others_busy);
        }

        if (!a->whole_samples) {
                unsigned running = 0, sampled = 0;
                /* A tenant in its first period is left out: its first samples come a period
                 * after its first launches on any GPU. */
                for (size_t i = 0; i < n; i++)
                        if (t[i].started && (t[i].active || t[i].backlogged) && isfinite(t[i].measured)) {
                                running++;
                                sampled += t[i].measured >= SAMPLE_MIN;
                        }
                if (running >= 2 && sampled == 1)
                        a->whole++;
                else if (running >= 2 && sampled >= 2)
                        a->split++;
                a->whole_samples = a->whole >= WHOLE_PERIODS && a->whole >= WHOLE_OVER_SPLIT * a->split;
                if (a->whole_samples)
                        /* What was learnt from those samples goes: the scale back to the
                         * shim's face value, no integral, no error history. */
                        for (size_t i = 0; i < n; i++) {
                                t[i].scale = t[i].integral = t[i].charged_sum = t[i].measured_sum = 0;
                                t[i].error_avg = t[i].error_since_s = 0;
                        }
        }
        if (!a->whole_samples)
                return false;

        /* While nothing but limited tenants uses the GPU, its samples are theirs. */
        bool common = !others && !unlimited && dt_s > 0;
        if (common) {
                double decay = exp(-dt_s / COMMON_TAU_S);
                a->charged_sum = a->charged_sum * decay + c * dt_s;
                a->measured_sum = a->measured_sum * decay + m * dt_s;
                if (a->measured_sum >= MEASURE_MIN_S && a->charged_sum > 0)
                        a->scale =
                                clamp(a->charged_sum / a->measured_sum, COMMON_SCALE_MIN, COMMON_SCALE_MAX);
        }
        for (size_t i = 0; i < n; i++) {
                t[i].open_loop = true;
                t[i].measured = NAN;
                t[i].scale = common && a->scale > 0 ? a->scale : 0;
        }
        return true;
}
