/* SPDX-License-Identifier: MIT */
/* corun export slurm FILE [--mode node|steps|array] [-o job.sbatch]: the plan as an sbatch
 * script a person can read and edit (docs/slurm.md). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "slurm/slurm.h"
#include "util/fileio.h"
#include "util/parse.h"

static const char export_usage[] =
        "Usage: corun export slurm SCENARIO.yaml [--mode node|steps|array] [-o job.sbatch]\n"
        "\n"
        "Writes an sbatch script that runs the scenario's plan on a Slurm cluster:\n"
        "  node   (default) one exclusive node; corun runs the whole plan inside it\n"
        "  steps  one `srun --exact` step per job; the jobs of a run start together\n"
        "  array  one array task per run; only for plans whose runs have one job each\n"
        "\n"
        "  -m, --mode MODE      as above\n"
        "  -o, --output FILE    write the script there (default: standard output)\n"
        "  -p, --partition P    #SBATCH --partition\n"
        "  -A, --account A      #SBATCH --account\n"
        "      --parallel N     array: at most N tasks at once (the %N cap; default 4)\n"
        "\n"
        "After the job: `corun collect DIR` writes DIR/result.json. See docs/slurm.md.\n";

/* The binary the script should run: this one, wherever it is installed. */
char *cli_self_path(void) {
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0)
                return strdup("corun");
        buf[n] = '\0';
        return strdup(buf);
}

typedef struct ExportFill {
        const Spec *spec;
        const Plan *plan;
        const SlurmExportOptions *o;
        char ***warnings;
        char **err;
} ExportFill;

static int export_fill_stream(ExportFill *x, FILE *f) {
        return slurm_export(x->spec, x->plan, x->o, f, x->warnings, x->err);
}

/* The script is written like every other output file (util's atomic write), executable. */
static int export_fill_fd(int fd, void *userdata) {
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        FILE *f = fdopen(dfd, "we");
        if (!f) {
                int r = -errno;
                close(dfd);
                return r;
        }
        int r = export_fill_stream(userdata, f);
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r >= 0 && fchmod(fd, 0755) < 0)
                r = -errno;
        return r;
}

/* Writes the script for file/mode to path ("-" or NULL: stdout); warnings go to the log. */
int slurm_cli_write_script(const char *file, const SlurmExportOptions *base, const char *path) {
        _cleanup_free_ char *err = NULL, *abs = realpath(file, NULL), *self = cli_self_path(),
                            *cwd = NULL;
        Spec *spec = NULL;
        Plan *plan = NULL;
        char **warnings = NULL;
        int r;

        if (!abs) {
                log_error("cannot read scenario file %s: %s", file, strerror(errno));
                return -errno;
        }
        r = slurm_load_plan(abs, &spec, &plan, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                return r;
        }
        cwd = getcwd(NULL, 0);
        SlurmExportOptions o = *base;
        o.spec_file = abs;
        o.corun_path = self;
        o.workdir = cwd;
        ExportFill fill = {.spec = spec, .plan = plan, .o = &o, .warnings = &warnings, .err = &err};
        if (!path || streq(path, "-")) {
                r = export_fill_stream(&fill, stdout);
                if (r >= 0 && fflush(stdout) != 0)
                        r = -EIO;
        } else {
                _cleanup_free_ char *d = strdup(path), *b = strdup(path);
                if (!d || !b) {
                        r = -ENOMEM;
                        goto out;
                }
                r = write_file_atomic(dirname(d), basename(b), export_fill_fd, &fill, false);
                if (r < 0 && !err) {
                        log_error("-o: cannot write %s: %s", path, strerror(-r));
                        goto out;
                }
        }
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                goto out;
        }
        for (char **w = warnings; w && *w; w++)
                log_warning("not kept in Slurm: %s", *w);
out:
        for (char **w = warnings; w && *w; w++)
                free(*w);
        free(warnings);
        plan_free(plan);
        spec_free(spec);
        return r;
}

int cmd_export(int argc, char **argv) {
        static const struct option opts[] = {
                {"mode", required_argument, NULL, 'm'},
                {"output", required_argument, NULL, 'o'},
                {"partition", required_argument, NULL, 'p'},
                {"account", required_argument, NULL, 'A'},
                {"parallel", required_argument, NULL, 'P'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        SlurmExportOptions o = {.mode = SLURM_MODE_NODE};
        const char *out = NULL;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "hm:o:p:A:", opts, NULL)) >= 0)
                switch (c) {
                case 'm':
                        o.mode = slurm_mode_from_string(optarg);
                        if (o.mode < 0) {
                                log_error("--mode: unknown mode '%s'; expected node, steps or array",
                                          optarg);
                                return 2;
                        }
                        break;
                case 'o':
                        out = optarg;
                        break;
                case 'p':
                        o.partition = optarg;
                        break;
                case 'A':
                        o.account = optarg;
                        break;
                case 'P':
                        if (parse_unsigned(optarg, &o.array_parallel) < 0 || o.array_parallel == 0) {
                                log_error("--parallel: '%s' is not a positive number", optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        fputs(export_usage, stdout);
                        return 0;
                default:
                        fputs(export_usage, stderr);
                        return 2;
                }
        if (argc - optind != 2 || !streq(argv[optind], "slurm")) {
                log_error(argc - optind >= 1 && !streq(argv[optind], "slurm")
                                  ? "export: unknown target; only 'slurm' exists (Kubernetes: see "
                                    "docs/slurm.md)"
                                  : "export slurm needs exactly one scenario file");
                fputs(export_usage, stderr);
                return 2;
        }
        return slurm_cli_write_script(argv[optind + 1], &o, out) < 0 ? 1 : 0;
}
