/* SPDX-License-Identifier: MIT */
/* corun phases LOG... --config FILE [--job NAME] [--json]: the same phase and metric
 * patterns as a live run, applied to existing logs, so old runs can be analysed without
 * running them again. Times come from the lines themselves (`timestamp:`); lines before
 * the first timestamp take its time. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "measure/markers.h"
#include "result/result.h"
#include "spec/spec.h"
#include "util/parse.h"

#define LOG_MAX (UINT64_C(16) << 30)

static const char phases_usage[] =
        "Usage: corun phases LOG... --config SCENARIO.yaml [--job NAME] [--json]\n"
        "Applies the job's phases: and metrics: patterns to existing log files. Phase times\n"
        "come from the log lines, so the job needs timestamp: {regex, format}; lines before\n"
        "the first timestamp take its time.\n";

typedef struct Ctx {
        MarkerEngine *e;
} Ctx;

static void on_line(const char *line, size_t len, void *userdata) {
        Ctx *c = userdata;
        (void)marker_engine_feed(c->e, line, len, 0, NULL, NULL, NULL, 0);
}

static int replay(const JobSpec *job, const char *config, const char *path, JobResult *res,
                  char **ret_error) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f) {
                if (asprintf(ret_error, "cannot read %s: %m", path) < 0)
                        *ret_error = NULL;
                return -errno;
        }
        MarkerEngine *e = NULL;
        int r = marker_engine_new(job, &e, ret_error);
        if (r < 0)
                return r;
        LineSplitter ls = {0};
        Ctx c = {.e = e};
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                line_splitter_feed(&ls, buf, n, on_line, &c);
        line_splitter_flush(&ls, on_line, &c);
        line_splitter_done(&ls);
        /* No arrival clock in a file: start and arrival times are 0, so times count
         * from the first timestamp and lines before it take its time. */
        r = marker_engine_finish(e, 0, 0, 0, res);
        if (job->timestamp.regex) {
                uint64_t read, bad;
                const char *sample;
                marker_engine_timestamps(e, &read, &bad, &sample);
                if (read == 0 && job->n_phases > 0)
                        log_warning("%s: no line has a time that timestamp regex '%s' and format '%s' "
                                    "can read, so every phase is at time 0%s%s%s; fix the job's timestamp: "
                                    "in %s",
                                    path, job->timestamp.regex, job->timestamp.format,
                                    bad ? " (the regex matched, e.g. '" : "", bad ? sample : "",
                                    bad ? "')" : "", config);
                else if (bad > 0)
                        log_warning(
                                "%s: %" PRIu64 " line%s matched timestamp regex '%s' but do not "
                                "fit format '%s' (the first: '%s'); they take the time of the line before",
                                path, bad, bad == 1 ? "" : "s", job->timestamp.regex, job->timestamp.format,
                                sample);
        }
        marker_engine_free(e);
        return r;
}

static void print_text(const char *path, const JobResult *res) {
        char when[FORMAT_DURATION_MAX], wall[FORMAT_DURATION_MAX];
        printf("%s\n", path);
        if (res->n_phases == 0 && res->n_metrics == 0) {
                printf("  no phase or metric matched\n");
                return;
        }
        if (res->n_phases > 0) {
                double t0 = res->phases[0].start_s;
                printf("  %-24s %12s %12s\n", "phase", "start", "wall");
                for (size_t i = 0; i < res->n_phases; i++) {
                        const PhaseResult *p = &res->phases[i];
                        printf("  %-24s %12s %12s%s\n", p->name,
                               format_duration(when, sizeof when,
                                               (uint64_t)((p->start_s - t0) * USEC_PER_SEC)),
                               format_duration(wall, sizeof wall, (uint64_t)(p->wall_s * USEC_PER_SEC)),
                               p->unfinished ? "  (unfinished)" : "");
                }
        }
        for (size_t i = 0; i < res->n_metrics; i++)
                printf("  metric %-17s %g%s%s\n", res->metrics[i].name, res->metrics[i].value,
                       res->metrics[i].unit ? " " : "", res->metrics[i].unit ? res->metrics[i].unit : "");
}

static json_t *to_json(const char *path, const JobResult *res) {
        json_t *o = json_object(), *ph = json_array(), *m = json_object();
        double t0 = res->n_phases ? res->phases[0].start_s : 0;
        for (size_t i = 0; i < res->n_phases; i++) {
                const PhaseResult *p = &res->phases[i];
                json_array_append_new(ph, json_pack("{s:s, s:f, s:f, s:b}", "name", p->name, "start_s",
                                                    p->start_s - t0, "wall_s", p->wall_s, "unfinished",
                                                    p->unfinished));
        }
        for (size_t i = 0; i < res->n_metrics; i++)
                json_object_set_new(m, res->metrics[i].name,
                                    isfinite(res->metrics[i].value) ? json_real(res->metrics[i].value)
                                                                    : json_null());
        json_object_set_new(o, "log", json_string(path));
        json_object_set_new(o, "phases", ph);
        json_object_set_new(o, "metrics", m);
        return o;
}

int cmd_phases(int argc, char **argv) {
        const char *config = NULL, *jobname = NULL;
        bool json = false;
        char **logs = calloc((size_t)argc, sizeof(char *));
        size_t n_logs = 0;
        int status = 2;
        Spec *spec = NULL;
        _cleanup_free_ char *text = NULL;

        for (int i = 1; logs && i < argc; i++) {
                if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        fputs(phases_usage, stdout);
                        free(logs);
                        return 0;
                } else if (streq(argv[i], "--config") || streq(argv[i], "-f")) {
                        if (++i >= argc) {
                                log_error("--config: expected a scenario file");
                                goto out;
                        }
                        config = argv[i];
                } else if (streq(argv[i], "--job")) {
                        if (++i >= argc) {
                                log_error("--job: expected a job name");
                                goto out;
                        }
                        jobname = argv[i];
                } else if (streq(argv[i], "--json"))
                        json = true;
                else if (argv[i][0] == '-' && argv[i][1]) {
                        log_error("unknown option '%s'\n%s", argv[i], phases_usage);
                        goto out;
                } else
                        logs[n_logs++] = argv[i];
        }
        if (!config || n_logs == 0) {
                log_error("%s", !config ? "--config: the scenario file with the job's patterns is required"
                                        : "no log file given");
                fputs(phases_usage, stderr);
                goto out;
        }
        size_t len;
        int r = read_full_file(config, 16u << 20, &text, &len);
        if (r < 0) {
                log_error("cannot read %s: %s", config, strerror(-r));
                goto out;
        }
        SpecError se = {0};
        r = spec_parse_yaml(config, text, len, &spec, &se);
        if (r < 0) {
                log_error("%s", se.message ? se.message : "invalid scenario file");
                spec_error_done(&se);
                goto out;
        }
        const JobSpec *job = NULL;
        if (jobname) {
                job = spec_find_job(spec, jobname);
                if (!job) {
                        log_error("--job: %s has no job '%s'", config, jobname);
                        goto out;
                }
        } else {
                for (size_t i = 0; i < spec->n_jobs; i++)
                        if (spec->jobs[i].n_phases || spec->jobs[i].n_metrics) {
                                if (job) {
                                        log_error("%s has several jobs with patterns ('%s', '%s'); choose "
                                                  "one with "
                                                  "--job",
                                                  config, job->name, spec->jobs[i].name);
                                        goto out;
                                }
                                job = &spec->jobs[i];
                        }
                if (!job) {
                        log_error("%s: no job has phases: or metrics:", config);
                        goto out;
                }
        }
        if (job->n_phases && !job->timestamp.regex) {
                log_error("job '%s' has phases but no timestamp: the log's lines carry the only clock there "
                          "is. Add "
                          "timestamp: {regex: '^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d)', format: "
                          "'%%Y-%%m-%%d "
                          "%%H:%%M:%%S'} (adapted to the log) to the job",
                          job->name);
                goto out;
        }
        json_t *all = json ? json_array() : NULL;
        status = 0;
        for (size_t i = 0; i < n_logs; i++) {
                JobResult res;
                _cleanup_free_ char *err = NULL;
                job_result_init(&res);
                r = replay(job, config, logs[i], &res, &err);
                if (r < 0) {
                        log_error("%s", err ? err : strerror(-r));
                        status = 2;
                } else if (json)
                        json_array_append_new(all, to_json(logs[i], &res));
                else
                        print_text(logs[i], &res);
                job_result_done(&res);
        }
        if (json) {
                char *s = json_dumps(all, JSON_INDENT(2));
                if (s)
                        puts(s);
                free(s);
                json_decref(all);
        }
out:
        spec_free(spec);
        free(logs);
        return status;
}
