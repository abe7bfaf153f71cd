/* SPDX-License-Identifier: MIT */
/* `corun run --slurm FILE`: export, sbatch, follow, collect (docs/slurm.md); and
 * `corun slurm-step FILE --run R [--job J] -o DIR`, what the exported scripts run inside
 * each step: one run (or one job of it) of the plan, with the step's Slurm ids. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "exec/exec.h"
#include "report/html.h"
#include "report/summary.h"
#include "slurm/slurm.h"
#include "util/parse.h"
#include "util/time-util.h"

static const char run_slurm_usage[] =
        "Usage: corun run --slurm [--partition P] [--account A] [--mode node|steps|array]\n"
        "                 [-o DIR] [-q] SCENARIO.yaml\n"
        "\n"
        "Submits the scenario to Slurm (sbatch), follows it (squeue), and when it ends merges\n"
        "what its steps wrote into DIR/result.json with the report beside it. Ctrl-C cancels\n"
        "the job (scancel) and keeps what finished. DIR must be on a filesystem the nodes share.\n"
        "Everything else about the jobs comes from the file. See docs/slurm.md.\n";

bool run_slurm_dispatch(int argc, char **argv, int *ret_status) {
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (streq(argv[i], "--slurm")) {
                        *ret_status = cmd_run_slurm(argc, argv);
                        return true;
                }
        /* A plain run inside an allocation: say where it runs and on what. */
        SlurmStepInfo s;
        if (slurm_step_detect(&s) >= 0 && s.inside) {
                _cleanup_free_ char *msg = slurm_step_describe(&s);
                if (msg)
                        log_info("%s", msg);
        }
        return false;
}

/* What the live display shows: each job as it finishes, read from the step results. */
typedef struct Follow {
        const Plan *plan;
        const char *dir;
        bool node;
        bool *seen; /* per job, in plan order */
        size_t done, failed;
        Progress prog;
} Follow;

static void follow_job_end(Follow *fw, size_t run, const JobResult *j) {
        ExecJobView v = {.name = j->name, .cpus = j->applied_cpus, .result = j};
        fw->done++;
        fw->failed += !(j->reason == REASON_EXIT && j->exit_code == 0);
        ExecEvent ev = {.kind = EXEC_EVENT_JOB_END,
                        .t_s = j->ended_s,
                        .run = &fw->plan->runs[run],
                        .run_index = run,
                        .n_runs = fw->plan->n_runs,
                        .job = &v,
                        .jobs_done = fw->done,
                        .jobs_total = fw->plan->n_jobs_total,
                        .jobs_failed = fw->failed};
        progress_observer(&ev, &fw->prog);
}

static void follow_tick(Follow *fw) {
        size_t idx = 0;
        Result *res = NULL;
        if (fw->node) {
                _cleanup_free_ char *d = NULL;
                if (asprintf(&d, "%s/node", fw->dir) < 0 || result_read(d, &res, NULL) < 0)
                        return;
        }
        for (size_t i = 0; i < fw->plan->n_runs; i++)
                for (size_t k = 0; k < fw->plan->runs[i].n_jobs; k++, idx++) {
                        if (fw->seen[idx])
                                continue;
                        if (fw->node) {
                                if (res && i < res->n_runs && k < res->runs[i].n_jobs) {
                                        fw->seen[idx] = true;
                                        follow_job_end(fw, i, &res->runs[i].jobs[k]);
                                }
                                continue;
                        }
                        _cleanup_free_ char *d = NULL;
                        Result *one = NULL;
                        if (asprintf(&d, "%s/runs/r%zu/j%zu", fw->dir, i, k) < 0)
                                return;
                        if (result_read(d, &one, NULL) >= 0 && one->n_runs && one->runs[0].n_jobs) {
                                fw->seen[idx] = true;
                                follow_job_end(fw, i, &one->runs[0].jobs[0]);
                        }
                        result_free(one);
                }
        result_free(res);
}

/* Waits for the job to leave the queue, showing what finishes. The first Ctrl-C (or
 * SIGTERM) cancels the job; a second stops waiting for Slurm to confirm it. */
static int follow(Follow *fw, const char *job_id, bool *ret_cancelled) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        _cleanup_close_ int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        if (sfd < 0 || tfd < 0)
                return -errno;
        /* squeue asks the controller: once a second is what `watch squeue` users do. */
        struct itimerspec its = {.it_value = {0, 1}, .it_interval = {1, 0}};
        if (timerfd_settime(tfd, 0, &its, NULL) < 0)
                return -errno;
        _cleanup_free_ char *last = NULL;
        unsigned interrupts = 0, failed_polls = 0;
        uint64_t cancel_deadline = 0;
        int r;
        for (;;) {
                struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = tfd, .events = POLLIN}};
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == sizeof si) {
                                if (++interrupts > 1) {
                                        log_warning("not waiting for Slurm any longer; job %s was cancelled",
                                                    job_id);
                                        break;
                                }
                                log_info("interrupt: cancelling Slurm job %s (scancel)", job_id);
                                if (slurm_cancel(job_id) < 0)
                                        log_warning("scancel %s failed; check `squeue -j %s`", job_id,
                                                    job_id);
                                *ret_cancelled = true;
                                cancel_deadline = now_usec(CLOCK_MONOTONIC) + 120 * USEC_PER_SEC;
                        }
                }
                if (!(p[1].revents & POLLIN))
                        continue;
                uint64_t ticks;
                (void)!read(tfd, &ticks, sizeof ticks);
                bool active = true;
                _cleanup_free_ char *state = NULL;
                r = slurm_poll(job_id, &active, &state);
                if (r == -EAGAIN && ++failed_polls < 30)
                        continue;
                if (r == -EAGAIN) {
                        /* 30 s without an answer: the job is gone or Slurm is; either way
                         * what the steps wrote is collected. */
                        log_warning("squeue has not answered about job %s for 30 s", job_id);
                        active = false;
                } else if (r < 0)
                        return r;
                else
                        failed_polls = 0;
                follow_tick(fw);
                if (!active)
                        break;
                if (state && (!last || !streq(last, state))) {
                        if (!fw->prog.quiet)
                                log_info("Slurm job %s: %s", job_id, state);
                        free(last);
                        last = TAKE_PTR(state);
                }
                if (cancel_deadline && now_usec(CLOCK_MONOTONIC) > cancel_deadline) {
                        log_warning("Slurm job %s is still in the queue 120 s after scancel", job_id);
                        break;
                }
        }
        (void)sigprocmask(SIG_UNBLOCK, &mask, NULL);
        return 0;
}

int cmd_run_slurm(int argc, char **argv) {
        static const struct option opts[] = {
                {"slurm", no_argument, NULL, 'S'},         {"partition", required_argument, NULL, 'p'},
                {"account", required_argument, NULL, 'A'}, {"mode", required_argument, NULL, 'm'},
                {"results", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},          {},
        };
        SlurmExportOptions eo = {.mode = SLURM_MODE_NODE};
        const char *results = NULL;
        bool quiet = false;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "hp:A:m:o:q", opts, NULL)) >= 0)
                switch (c) {
                case 'S':
                        break;
                case 'p':
                        eo.partition = optarg;
                        break;
                case 'A':
                        eo.account = optarg;
                        break;
                case 'm':
                        eo.mode = slurm_mode_from_string(optarg);
                        if (eo.mode < 0) {
                                log_error("--mode: unknown mode '%s'; expected node, steps or array",
                                          optarg);
                                return 2;
                        }
                        break;
                case 'o':
                        results = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        fputs(run_slurm_usage, stdout);
                        return 0;
                default:
                        log_error(
                                "with --slurm only --partition, --account, --mode, -o and -q are accepted; "
                                "put the rest in the scenario file");
                        fputs(run_slurm_usage, stderr);
                        return 2;
                }
        if (argc - optind != 1) {
                log_error("--slurm needs exactly one scenario file");
                fputs(run_slurm_usage, stderr);
                return 2;
        }
        const char *file = argv[optind];
        _cleanup_free_ char *dir = NULL, *script = NULL, *job_id = NULL, *err = NULL, *state = NULL,
                            *self = NULL, *abs = realpath(file, NULL);
        Spec *spec = NULL;
        Plan *plan = NULL;
        Result *res = NULL;
        int status = 1, r;
        if (!abs) {
                log_error("cannot read scenario file %s: %s", file, strerror(errno));
                return 2;
        }
        r = slurm_load_plan(abs, &spec, &plan, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                return 2;
        }
        char st[32];
        utc_stamp(st, sizeof st, false);
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        if (!cwd || (results ? asprintf(&dir, "%s%s%s", results[0] == '/' ? "" : cwd,
                                        results[0] == '/' ? "" : "/", results)
                             : asprintf(&dir, "%s/corun-results/%s-slurm-%s", cwd, spec->name, st)) < 0)
                goto out;
        r = mkdir_p(dir, 0755);
        if (r < 0) {
                log_error("-o: cannot create %s: %s", dir, strerror(-r));
                goto out;
        }
        if (asprintf(&script, "%s/job.sbatch", dir) < 0 || slurm_cli_write_script(abs, &eo, script) < 0)
                goto out;
        free(err);
        err = NULL;
        r = slurm_submit(script, eo.partition, eo.account, dir, &job_id, &err);
        if (r < 0) {
                log_error("%s", err);
                goto out;
        }
        self = cli_self_path();
        r = slurm_write_manifest(dir, eo.mode, abs, job_id, self ? self : "corun");
        if (r < 0)
                log_warning("cannot write %s/slurm.json: %s", dir, strerror(-r));
        if (!quiet)
                log_info("submitted Slurm job %s (--mode %s, %zu job(s) in %zu run(s)); results in %s",
                         job_id, slurm_mode_to_string(eo.mode), plan->n_jobs_total, plan->n_runs, dir);
        Follow fw = {.plan = plan, .dir = dir, .node = eo.mode == SLURM_MODE_NODE};
        fw.seen = calloc(plan->n_jobs_total ? plan->n_jobs_total : 1, sizeof *fw.seen);
        if (!fw.seen)
                goto out;
        progress_init(&fw.prog, stderr, spec->name, quiet);
        bool cancelled = false;
        r = follow(&fw, job_id, &cancelled);
        progress_finish(&fw.prog);
        progress_done(&fw.prog);
        free(fw.seen);
        if (r < 0)
                log_warning("lost track of Slurm job %s: %s; collecting what is there", job_id,
                            strerror(-r));
        state = slurm_final_state(job_id);
        if (cancelled && (!state || !strneq(state, "CANCELLED", 9))) {
                free(state);
                state = strdup("CANCELLED");
        }
        if (!quiet)
                log_info("Slurm job %s ended: %s", job_id, state ? state : "state unknown");
        free(err);
        err = NULL;
        r = slurm_collect(dir, state, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                goto out;
        }
        free(err);
        err = NULL;
        if (report_write_all(dir, &err) < 0)
                log_warning("cannot write the report: %s", err ? err : "unknown error");
        if (result_read(dir, &res, NULL) < 0)
                goto out;
        if (!quiet) {
                fputc('\n', stdout);
                report_summary_table(res, stdout, use_color(STDOUT_FILENO));
                printf("\nresults: %s/result.json\nreport:  %s/report.html\n", dir, dir);
        }
        bool ok = slurm_result_all_ok(res);
        status = cancelled ? 130 : ok ? 0 : 1;
out:
        result_free(res);
        plan_free(plan);
        spec_free(spec);
        return status;
}

static const char step_usage[] =
        "Usage: corun slurm-step SCENARIO.yaml --run R [--job J] -o DIR\n"
        "\n"
        "Runs run R of the scenario's plan (or only its job J; from 0, in the order `corun\n"
        "plan` lists them)\n"
        "into the results directory DIR. The scripts of `corun export slurm` run it inside\n"
        "each Slurm step; it records the step's ids and CPUs for `corun collect`.\n";

static void step_observer(const ExecEvent *ev, void *userdata) {
        if (ev->kind == EXEC_EVENT_JOB_START)
                printf("corun: start %s (cpus %s)\n", ev->job->name, ev->job->cpus ? ev->job->cpus : "?");
        else if (ev->kind == EXEC_EVENT_JOB_END && ev->job->result)
                printf("corun: end %s: %s, exit %d\n", ev->job->name,
                       job_reason_to_string(ev->job->result->reason), ev->job->result->exit_code);
        else if (ev->kind == EXEC_EVENT_WARNING)
                printf("corun: warning: %s\n", ev->message ? ev->message : "");
        fflush(stdout);
}

int cmd_slurm_step(int argc, char **argv) {
        static const struct option opts[] = {
                {"run", required_argument, NULL, 'r'},
                {"job", required_argument, NULL, 'j'},
                {"results", required_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        unsigned run = UINT_MAX, job = UINT_MAX;
        const char *dir = NULL;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) >= 0)
                switch (c) {
                case 'r':
                case 'j':
                        if (parse_unsigned(optarg, c == 'r' ? &run : &job) < 0) {
                                log_error("--%s: '%s' is not a number", c == 'r' ? "run" : "job", optarg);
                                return 2;
                        }
                        break;
                case 'o':
                        dir = optarg;
                        break;
                case 'h':
                        fputs(step_usage, stdout);
                        return 0;
                default:
                        fputs(step_usage, stderr);
                        return 2;
                }
        if (argc - optind != 1 || run == UINT_MAX || !dir || dir[0] != '/') {
                log_error("slurm-step needs a scenario file, --run and an absolute -o DIR");
                fputs(step_usage, stderr);
                return 2;
        }
        _cleanup_free_ char *err = NULL, *run_id = NULL;
        Spec *spec = NULL;
        Plan *plan = NULL, *sub = NULL;
        Result *res = NULL;
        int status = 2, r;
        SlurmStepInfo si;
        r = slurm_load_plan(argv[optind], &spec, &plan, &err);
        if (r >= 0)
                r = slurm_subplan(plan, run, job == UINT_MAX ? -1 : (long)job, &sub, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                goto out;
        }
        r = mkdir_p(dir, 0755);
        if (r < 0 || slurm_step_detect(&si) < 0) {
                log_error("cannot set up %s: %s", dir, strerror(r < 0 ? -r : EIO));
                goto out;
        }
        r = slurm_step_write_info(dir, &si, now_usec(CLOCK_REALTIME));
        if (r < 0) {
                log_error("cannot write %s/slurm-step.json: %s", dir, strerror(-r));
                goto out;
        }
        char iso[32], st[32];
        utc_stamp(iso, sizeof iso, true);
        utc_stamp(st, sizeof st, false);
        res = result_new();
        if (!res || asprintf(&run_id, "%s-%d", st, (int)getpid()) < 0)
                goto out;
        res->corun_version = strdup(CORUN_VERSION);
        res->started_at = strdup(iso);
        res->name = strdup(spec->name);
        res->run_id = strdup(run_id);
        res->spec_file = strdup(argv[optind]);
        exec_host_info(&res->host);
        ExecOptions eo = {.spec = spec, .results_dir = dir, .run_id = run_id, .observer = step_observer};
        free(err);
        err = NULL;
        r = exec_run(&eo, sub, res, &err);
        if (r < 0 && r != -EINTR) {
                log_error("%s", err ? err : strerror(-r));
                (void)result_write(res, dir);
                status = 1;
                goto out;
        }
        utc_stamp(iso, sizeof iso, true);
        res->finished_at = strdup(iso);
        res->partial = r == -EINTR;
        r = result_write(res, dir);
        if (r < 0) {
                log_error("cannot write %s/result.json: %s", dir, strerror(-r));
                status = 1;
                goto out;
        }
        status = slurm_result_all_ok(res) ? 0 : 1;
out:
        result_free(res);
        slurm_subplan_free(sub);
        plan_free(plan);
        spec_free(spec);
        return status;
}
