/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "exec/exec.h"
#include "plan/plan.h"
#include "report/html.h"
#include "report/summary.h"
#include "result/result.h"
#include "slurm/slurm.h"
#include "spec/spec.h"
#include "util/fileio.h"
#include "util/parse.h"
#include "util/time-util.h"

#define SPEC_FILE_MAX (16u << 20)

static const char run_usage[] =
        "Usage: corun run [OPTIONS] SCENARIO.yaml\n"
        "       corun run [OPTIONS] 'cmd a' ['cmd b' ...]   (each through /bin/sh -c, all at once)\n"
        "       corun run [OPTIONS] -- CMD [ARG...]          (one job, this exact argv)\n"
        "\n"
        "Partition:  -c/--cpus N|all|LIST (default 1)  --smt together|separate  --shared LIST\n"
        "            -m/--memory SIZE (default unlimited)  --memory-high SIZE  --memory-low SIZE\n"
        "            --memory-min SIZE  --swap SIZE  --pids N|max  --cpu-weight N  --cpu-max P%\n"
        "            --reserve N  --numa local|spread|interleave  --memory-total SIZE\n"
        "            --allowed-cpus LIST  --backend auto|v2|v1|none  --slice NAME.slice\n"
        "GPU:        --gpus N|LIST|any|shared:N (NVML indexes or UUIDs; docs/gpu.md)\n"
        "            --gpu-share PCT  --gpu-memory SIZE  --gpu-mode cap|share  --gpu-via shim|mps\n"
        "Priority:   --priority high|normal|low  --protector auto|on|off  --protector-threshold P%\n"
        "            --protector-quantum DUR  --protector-max-throttle P%  --protector-interval DUR\n"
        "Limits:     -t/--timeout DUR  --cpu-timeout DUR  --stop-signal SIG  --grace DUR\n"
        "Job:        --env KEY=VAL  --cwd DIR  --user U  --group G  -N/--no-shell  --job-name NAME\n"
        "Container:  --image NAME  --engine podman|docker  --volume HOST:CTR[:ro]  --pull\n"
        "            (the command runs in the image, inside the job's partition: docs/containers.md)\n"
        "Experiment: --replicas N  --repeat N (alias --runs)  -w/--warmup N  -L/--parameter-list NAME V1,V2  --order interleaved|sequential|random\n"
        "            --seed N  --solo  --setup/--prepare/--conclude/--cleanup CMD  --preflight CMD\n"
        "Output:     -o/--results DIR  -n/--name NAME  --keep  --sample-interval DUR  -q/--quiet\n"
        "            -v/--verbose  --json (result.json on stdout instead of the table)\n"
        "            --export-json/--export-csv/--export-markdown FILE  --show-output\n"
        "            --style full|basic|nocolor|color|none  -i/--ignore-failure (exit 0 if jobs fail)\n"
        "Input:      -f/--file FILE (a scenario file whatever its name)\n"
        "Slurm:      --slurm [-p/--partition P] [-A/--account A] [--mode node|steps|array]\n"
        "            (submit, follow and collect; see docs/slurm.md)\n"
        "\n"
        "Sizes: 512M, 4GiB, bytes. Durations: 500ms, 2h, 1h30m. See corun(1) and docs/scenario.md.\n";

/* Quick mode says what it chose for what the command line left open: a newcomer expects
 * hyperfine's whole machine, and gets one core unless -c says otherwise. */
static void say_quick_defaults(const Plan *plan) {
        bool cpus_default = false, memory_default = false;
        for (size_t i = 0; i < plan->n_runs; i++)
                for (size_t k = 0; k < plan->runs[i].n_jobs; k++) {
                        const Limits *l = &plan->runs[i].jobs[k].limits;
                        cpus_default |= l->cpus.kind == CPUS_UNSET;
                        memory_default |= !l->memory_max_set;
                }
        if (cpus_default && memory_default)
                log_info("cpus 1 (default; -c N or -c all to change), memory unlimited");
        else if (cpus_default)
                log_info("cpus 1 (default; -c N or -c all to change)");
        else if (memory_default)
                log_info("memory unlimited (default; -m SIZE to change)");
}

/* Runs the preflight canary once; its output is shown only when it fails. */
static int run_preflight(const char *cmd) {
        _cleanup_free_ char *out = NULL;
        int st = 0;
        int r = exec_preflight(cmd, &st, &out);
        if (r == -ECANCELED)
                log_error("--preflight '%s' failed (%s %d); nothing was started. Its output:\n%s", cmd,
                          WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), out);
        else if (r < 0)
                log_error("--preflight '%s' could not be run: %s", cmd, strerror(-r));
        return r;
}

static char *join_args(int argc, char **argv) {
        size_t len = 0;
        for (int i = 0; i < argc; i++)
                len += strlen(argv[i]) + 3;
        char *s = calloc(len + 1, 1);
        for (int i = 0; s && i < argc; i++) {
                bool q = strpbrk(argv[i], " \t'\"$") != NULL;
                if (i)
                        strcat(s, " ");
                if (q)
                        strcat(s, "'");
                strcat(s, argv[i]);
                if (q)
                        strcat(s, "'");
        }
        return s;
}

/* The ETA starts from the most recent earlier result of the same run name next to this
 * one (./corun-results/<name>-*), when there is one. */
static void learn_from_previous(Progress *p, const char *results, const char *name) {
        _cleanup_free_ char *parent = strdup(results), *best = NULL;
        char *slash = parent ? strrchr(parent, '/') : NULL;
        if (!slash)
                return;
        *slash = '\0';
        const char *self = slash + 1;
        DIR *d = opendir(parent);
        if (!d)
                return;
        size_t nl = strlen(name);
        struct dirent *de;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, name, nl) == 0 && de->d_name[nl] == '-' && !streq(de->d_name, self) &&
                    (!best || strcmp(de->d_name, best) > 0)) {
                        free(best);
                        best = strdup(de->d_name);
                }
        closedir(d);
        if (!best)
                return;
        _cleanup_free_ char *path = NULL, *err = NULL;
        Result *old = NULL;
        if (asprintf(&path, "%s/%s", parent, best) >= 0 && result_read(path, &old, &err) >= 0) {
                progress_learn(p, old);
                result_free(old);
        }
}

/* Creates the results directory and takes an exclusive lock on it, held until corun exits
 * (flock on the directory: no lock file to leave behind, released by the kernel when the
 * run dies). -EBUSY when another run holds it. */
static int lock_results_dir(const char *dir, int *ret_fd) {
        int r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* Names the run that holds a results directory: its run id (time stamp and pid) and start,
 * from the result.json it writes as it starts (waited for a moment: the lock comes first). */
static const char *holder_note(const char *results, const char *result_json) {
        static char note[256];
        json_t *doc = NULL;
        for (int i = 0; i < 20 && !doc; i++) {
                doc = json_load_file(result_json, 0, NULL);
                if (!doc)
                        (void)usleep(10000);
        }
        const char *id = json_string_value(json_object_get(doc, "run_id"));
        const char *at = json_string_value(json_object_get(doc, "started_at"));
        const char *pid = id ? strrchr(id, '-') : NULL;
        if (id)
                snprintf(note, sizeof note, "run %s (pid %s), started %s", id, pid ? pid + 1 : "?", at ? at : "?");
        else
                snprintf(note, sizeof note, "it has not written %s/result.json yet", results);
        json_decref(doc);
        return note;
}

/* Quick mode's one command names an existing file without .yaml/.yml (or a pipe, as from
 * <(…)): it is a scenario when its text has a top-level `jobs:` key, else a command.
 * True with *ret = argv with "-f" before it (argc + 1), which is how `run` then reads it;
 * the decision is said on stderr either way when the file is a readable regular file or
 * pipe, so nobody wonders. */
static bool scenario_by_content(int argc, char **argv, char ***ret) {
        int found = -1, commands = 0;
        bool quiet = false;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        return false;
                quiet |= streq(argv[i], "-q") || streq(argv[i], "--quiet");
                if (argv[i][0] == '-') {
                        /* a flag's values are not commands (the spec parser checks them later) */
                        i += spec_cli_flag_values(argv[i]);
                        continue;
                }
                commands++;
                found = i;
        }
        if (commands != 1 || strpbrk(argv[found], " \t\n"))
                return false;
        size_t n = strlen(argv[found]);
        if ((n > 5 && streq(argv[found] + n - 5, ".yaml")) || (n > 4 && streq(argv[found] + n - 4, ".yml")))
                return false;
        struct stat st;
        if (stat(argv[found], &st) < 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)))
                return false;
        /* A pipe can be read once only: it is a scenario (who pipes a command's path?). */
        bool scenario = S_ISFIFO(st.st_mode);
        _cleanup_free_ char *text = NULL;
        if (!scenario && read_full_file(argv[found], 1u << 20, &text, NULL) >= 0)
                for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                        if (strneq(l, "jobs:", 5)) {
                                scenario = true;
                                break;
                        }
        if (!scenario) {
                if (!quiet)
                        log_info("%s is a file without a top-level jobs: key: running it as a command (a scenario "
                         "file whatever its name: -f FILE)",
                         argv[found]);
                return false;
        }
        char **v = calloc((size_t)argc + 2, sizeof(char *));
        if (!v)
                return false;
        for (int i = 0, k = 0; i < argc; i++) {
                if (i == found)
                        v[k++] = (char *)"-f";
                v[k++] = argv[i];
        }
        if (!quiet)
                log_info("%s %s: reading it as a scenario file", argv[found],
                         S_ISFIFO(st.st_mode) ? "is a pipe" : "has a top-level jobs: key");
        *ret = v;
        return true;
}

/* --export-json/--export-csv/--export-markdown FILE: hyperfine's flags, copies of
 * result.json, results.csv and summary.md where the user wants them. A copy that cannot be
 * made counts as a result file not written (exit 3). */
typedef struct Bytes {
        const char *p;
        size_t n;
} Bytes;

static int fill_bytes(int fd, void *userdata) {
        const Bytes *b = userdata;
        return write_all(fd, b->p, b->n);
}

/* path written atomically (a temporary file beside it, renamed over it). */
static int write_copy(const char *path, const char *text, size_t len) {
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        const char *name = slash ? slash + 1 : path;
        if (!*name)
                return -EISDIR;
        if (slash)
                *slash = '\0';
        Bytes b = {text, len};
        return write_file_atomic(slash ? (*dir ? dir : "/") : ".", name, fill_bytes, &b, false);
}

static void export_copies(const Spec *spec, const char *results, Result *result) {
        const char *want[][2] = {{spec->export_json, "result.json"},
                                 {spec->export_csv, "results.csv"},
                                 {spec->export_markdown, "summary.md"}};
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                if (!want[i][0])
                        continue;
                _cleanup_free_ char *src = NULL, *text = NULL;
                size_t len = 0;
                int r = asprintf(&src, "%s/%s", results, want[i][1]) < 0 ? -ENOMEM : 0;
                if (r >= 0)
                        r = read_full_file(src, SIZE_MAX, &text, &len);
                if (r >= 0)
                        r = write_copy(want[i][0], text, len);
                if (r < 0) {
                        log_error("cannot write %s (a copy of %s): %s", want[i][0], want[i][1], strerror(-r));
                        result->write_errors++;
                }
        }
}

int cmd_run(int argc, char **argv) {
        /* Every cleanup variable is declared here: a goto out must never pass a declaration. */
        _cleanup_free_ char *text = NULL, *results = NULL, *run_id = NULL, *err = NULL, *abs_file = NULL,
                            *existing = NULL, *rerr = NULL;
        _cleanup_close_ int results_lock = -1;
        size_t len = 0;
        int file_index = -1, r;
        SpecError se = {0};
        Spec *spec = NULL;
        Plan *plan = NULL;
        Result *result = NULL;
        int status = 2;
        bool made_parent = false;

        if (run_slurm_dispatch(argc, argv, &status)) /* --slurm: cli/slurm-run.c */
                return status;
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        fputs(run_usage, stdout);
                        return 0;
                }

        /* A file that is a scenario whatever its name: `corun run bench.conf`, `<(…)`. */
        _cleanup_free_ char **argv_f = NULL;
        if (scenario_by_content(argc, argv, &argv_f)) {
                argv = argv_f;
                argc++;
        }
        r = spec_cli_find_file(argc, argv, &file_index, &se);
        if (r < 0) {
                log_error("%s", se.message ? se.message : "bad arguments");
                fputs(run_usage, stderr);
                spec_error_done(&se);
                return 2;
        }
        if (file_index >= 0) {
                r = read_full_file(argv[file_index], SPEC_FILE_MAX, &text, &len);
                if (r < 0) {
                        log_error("cannot read scenario file %s: %s", argv[file_index], strerror(-r));
                        return 2;
                }
        }
        SpecCliInput in = {.argc = argc, .argv = argv, .file_text = text, .file_len = len};
        r = spec_from_cli(&in, &spec, &se);
        if (r < 0) {
                log_error("%s", se.message ? se.message : "invalid scenario");
                spec_error_done(&se);
                return 2;
        }
        r = plan_build(spec, &plan, &err);
        if (r < 0) {
                log_error("%s", err ? err : "cannot expand the scenario");
                goto out;
        }
        arg_verbose = spec->verbose;
        /* --style (hyperfine's): none is -q; basic and --show-output print event lines, no
         * live block (the jobs' own output would tear it). */
        if (spec->style == STYLE_NONE)
                spec->quiet = true;
        if (spec->style == STYLE_BASIC || spec->style == STYLE_NOCOLOR)
                arg_color = 0;
        if (spec->style == STYLE_COLOR)
                arg_color = 1;
        arg_no_live = spec->style == STYLE_BASIC || spec->show_output;

        /* On a systemd host the user manager gives a user a delegated scope. */
        if (geteuid() != 0 && spec->backend != BACKEND_NONE && cg_systemd_scope_wanted(NULL) <= 0)
                log_warning("not running as root: cgroup partitions will likely be unavailable");

        /* Leftovers of killed runs first, so they cannot skew this one. */
        CleanupReport cr = {0};
        if (journal_cleanup_dead(NULL, &cr) >= 0 &&
            (cr.groups_removed || cr.dirs_removed || cr.processes_killed || cr.containers_removed ||
             cr.scopes_stopped))
                log_info("cleaned up after %u dead run(s): %u group(s), %u dir(s), %u container(s), %u process(es) "
                         "killed, %u systemd scope(s) stopped",
                         cr.journals, cr.groups_removed, cr.dirs_removed, cr.containers_removed,
                         cr.processes_killed, cr.scopes_stopped);
        cleanup_report_done(&cr);

        if (spec->preflight && run_preflight(spec->preflight) < 0) {
                status = 1;
                goto out;
        }

        char stamp[32], iso[32];
        utc_stamp(stamp, sizeof stamp, false);
        utc_stamp(iso, sizeof iso, true);
        if (asprintf(&run_id, "%s-%d", stamp, (int)getpid()) < 0)
                goto out;
        if (spec->results_dir)
                results = strdup(spec->results_dir);
        else if (asprintf(&results, "corun-results/%s-%s", spec->name, stamp) < 0)
                goto out;
        if (results[0] != '/') {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd))
                        goto out;
                char *a = NULL;
                if (asprintf(&a, "%s/%s", cwd, results) < 0)
                        goto out;
                free(results);
                results = a;
        }
        /* The results directory is locked (flock on the directory itself: nothing to leave
         * behind) before anything starts, and only then checked for a previous result: two
         * runs started together cannot both run in it (issue 14 item 3). Two runs of one
         * name within a second would share the default directory: the later one takes
         * name-STAMP-2, -3, ... */
        bool results_existed = false;
        /* The default results live in ./corun-results/: made here, removed with a refusal. */
        made_parent = !spec->results_dir && access("corun-results", F_OK) < 0;
        for (unsigned k = 2;; k++) {
                results_existed = access(results, F_OK) == 0;
                free(existing);
                existing = NULL;
                if (asprintf(&existing, "%s/result.json", results) < 0)
                        goto out;
                r = lock_results_dir(results, &results_lock);
                if (r == 0) {
                        if (access(existing, F_OK) < 0)
                                break;
                        closep(&results_lock);
                        r = -EEXIST;
                }
                if (spec->results_dir || k >= 1000 || (r != -EEXIST && r != -EBUSY)) {
                        if (r == -EBUSY)
                                log_error("-o/--results: %s is in use by another corun run (%s); choose another "
                                          "directory",
                                          results, holder_note(results, existing));
                        else if (r == -EEXIST)
                                log_error("-o/--results: %s already holds a result.json; choose another directory",
                                          results);
                        else
                                log_error("-o/--results: cannot create %s: %s", results, strerror(-r));
                        goto out;
                }
                char *next = NULL;
                size_t base = strlen(results) - (k > 2 ? strlen(strrchr(results, '-')) : 0);
                if (asprintf(&next, "%.*s-%u", (int)base, results, k) < 0)
                        goto out;
                free(results);
                results = next;
        }

        result = result_new();
        result->corun_version = strdup(CORUN_VERSION);
        result->started_at = strdup(iso);
        result->name = strdup(spec->name);
        result->run_id = strdup(run_id);
        if (spec->file && (abs_file = realpath(spec->file, NULL)))
                result->spec_file = strdup(abs_file);
        result->command_line = join_args(argc, argv);
        exec_host_info(&result->host);
        /* Inside a Slurm step: say so in the result (which job and step, which CPUs). */
        (void)slurm_result_note(result);

        Progress prog;
        progress_init(&prog, stderr, spec->name, spec->quiet);
        /* Only the progress display uses it: reading the previous result.json (megabytes
         * after thousands of jobs) is wasted on a quiet run. */
        if (!spec->quiet)
                learn_from_previous(&prog, results, spec->name);
        ExecOptions eo = {
                .spec = spec,
                .results_dir = results,
                .run_id = run_id,
                .observer = progress_observer,
                .userdata = &prog,
                .show_output = spec->show_output,
        };
        if (!spec->quiet)
                log_info("%zu job(s) in %zu run(s); results in %s", plan->n_jobs_total, plan->n_runs, results);
        if (!spec->quiet && file_index < 0)
                say_quick_defaults(plan);
        free(err);
        err = NULL;
        bool refused = false;
        eo.ret_refused = &refused;
        r = exec_run(&eo, plan, result, &err);
        progress_finish(&prog);
        progress_done(&prog);
        if (r < 0 && refused) {
                /* A request that can never fit: nothing started, nothing kept (the results
                 * directory goes if this run made it), exit 2 as for any bad input. */
                log_error("%s", err ? err : strerror(-r));
                if (!results_existed)
                        (void)rm_rf(results);
                if (made_parent)
                        (void)rmdir("corun-results");
                status = 2;
                goto out;
        }
        if (r < 0 && r != -EINTR) {
                log_error("%s", err ? err : strerror(-r));
                status = 1;
                (void)result_write(result, results);
                goto out;
        }
        utc_stamp(iso, sizeof iso, true);
        result->finished_at = strdup(iso);
        result->partial = r == -EINTR;
        r = result_write(result, results);
        if (r < 0) {
                /* The last complete result.json stays (every write is a rename). */
                log_error("cannot write %s/result.json: %s", results, strerror(-r));
                result->write_errors++;
        }

        /* report.html, summary.md and results.csv, each written atomically. */
        if (report_write_result(result, results, &rerr) < 0) {
                log_error("cannot write the report: %s", rerr ? rerr : "unknown error");
                result->write_errors++;
        }
        export_copies(spec, results, result);
        if (spec->json) {
                /* --json: stdout is the result.json just written, for jq and scripts */
                _cleanup_free_ char *jpath = NULL, *jtext = NULL;
                size_t jlen = 0;
                if (asprintf(&jpath, "%s/result.json", results) < 0)
                        goto out;
                if (read_full_file(jpath, SIZE_MAX, &jtext, &jlen) < 0)
                        log_error("cannot read back %s", jpath);
                else
                        fwrite(jtext, 1, jlen, stdout);
        } else if (!spec->quiet) {
                fputc('\n', stdout);
                report_summary_table(result, stdout, use_color(STDOUT_FILENO));
        }
        bool all_ok = true;
        for (size_t i = 0; i < result->n_runs; i++)
                for (size_t k = 0; k < result->runs[i].n_jobs; k++) {
                        const JobResult *j = &result->runs[i].jobs[k];
                        all_ok &= j->reason == REASON_EXIT && j->exit_code == 0;
                }
        if (!spec->quiet && !spec->json)
                printf("\nresults: %s/result.json\nreport:  %s/report.html\n", results, results);
        if (result->interrupted) {
                log_warning("interrupted: the result is partial (%s/result.json)", results);
                status = 130;
        } else if (result->write_errors > 0) {
                /* Results that could not be written (a full disk) outrank the jobs' own
                 * failures: what is on disk is incomplete (issue 14 item 2). */
                log_error("%u result or log file%s could not be written (above): the results in %s are incomplete",
                          result->write_errors, result->write_errors == 1 ? "" : "s", results);
                status = 3;
        } else
                status = all_ok || spec->ignore_failure ? 0 : 1;
out:
        result_free(result);
        plan_free(plan);
        spec_free(spec);
        return status;
}
