/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "stress/stress.h"
#include "util/parse.h"

typedef enum ArgKind {
        ARG_SIZE,
        ARG_RATE,
        ARG_DURATION,
        ARG_COUNT,
} ArgKind;

static const char *const arg_hint[] = {
        [ARG_SIZE] = "a size such as 4096, 512M or 2G",
        [ARG_RATE] = "a size per second such as 100M/s",
        [ARG_DURATION] = "a duration such as 1.5, 500ms or 2m",
        [ARG_COUNT] = "a whole number",
};

/* Parses the value of `what` (a flag or an argument name) and says which one was wrong. */
static int parse_arg(const char *sub, const char *what, const char *s, ArgKind kind, uint64_t *ret) {
        char buf[64];
        const char *v = s;
        int r;

        if (kind == ARG_RATE) {
                size_t n = strlen(s);
                if (n >= 2 && n < sizeof buf && streq(s + n - 2, "/s")) {
                        memcpy(buf, s, n - 2);
                        buf[n - 2] = '\0';
                        v = buf;
                }
        }
        if (kind == ARG_SIZE || kind == ARG_RATE)
                r = parse_size(v, ret);
        else if (kind == ARG_DURATION)
                r = parse_duration(v, ret);
        else
                r = parse_u64(v, ret);
        if (r < 0)
                log_error("stress %s: invalid %s '%s': %s (expected %s)", sub, what, s,
                          r == -ERANGE ? "too large" : "not understood", arg_hint[kind]);
        return r;
}

/* What every workload's getopt loop shares (':' first in optstring: ':' is a missing
 * value, '?' an unknown option). Returns the exit status. */
static int other_option(const char *sub, int c, char **argv, const char *usage) {
        if (c == 'h') {
                fputs(usage, stdout);
                return 0;
        }
        if (c == ':')
                log_error("stress %s: option '%s' needs a value; see 'corun stress %s --help'", sub,
                          argv[optind - 1], sub);
        else
                log_error("stress %s: unknown option '%s'; see 'corun stress %s --help'", sub,
                          argv[optind - 1], sub);
        return 2;
}

/* After the options, the workloads without positional arguments refuse any. */
static bool no_arguments_left(const char *sub, int argc, char **argv) {
        if (optind >= argc)
                return true;
        log_error("stress %s: unexpected argument '%s'", sub, argv[optind]);
        return false;
}

/* After the options of a workload with --work and --seconds: no argument left, and not
 * both. Without either, *work becomes `dflt`. */
static bool work_or_seconds(const char *sub, int argc, char **argv, bool have_work, bool have_seconds,
                            uint64_t *work, uint64_t dflt) {
        if (!no_arguments_left(sub, argc, argv))
                return false;
        if (have_work && have_seconds) {
                log_error("stress %s: --work and --seconds exclude each other; give one", sub);
                return false;
        }
        if (!have_work && !have_seconds)
                *work = dflt;
        return true;
}

static const char usage_cpu[] =
        "Usage: corun stress cpu [--work N | --seconds DURATION] [--threads T]\n"
        "Burns CPU. --work N does N units (a million iterations each, split over the\n"
        "threads) and shows slowdowns as a longer wall time; --seconds burns for that long.\n"
        "Default: --work 1000. Prints 'stress cpu: phase burn start|end' and at the end\n"
        "'stress cpu: work=N threads=T wall_s=... cpu_s=...'.\n";

static int stress_cpu_main(int argc, char **argv) {
        static const struct option options[] = {
                {"work", required_argument, NULL, 'w'},
                {"seconds", required_argument, NULL, 's'},
                {"threads", required_argument, NULL, 't'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        StressCpu o = {.threads = 1};
        bool have_work = false, have_seconds = false;
        uint64_t v;
        int c;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case 'w':
                        if (parse_arg("cpu", "--work", optarg, ARG_COUNT, &v) < 0)
                                return 2;
                        if (v == 0 || v > UINT64_MAX / STRESS_WORK_UNIT) {
                                log_error("stress cpu: --work must be between 1 and %" PRIu64,
                                          UINT64_MAX / STRESS_WORK_UNIT);
                                return 2;
                        }
                        o.work = v;
                        have_work = true;
                        break;
                case 's':
                        if (parse_arg("cpu", "--seconds", optarg, ARG_DURATION, &v) < 0)
                                return 2;
                        if (v == 0) {
                                log_error("stress cpu: --seconds must be more than 0");
                                return 2;
                        }
                        o.duration_usec = v;
                        have_seconds = true;
                        break;
                case 't':
                        if (parse_arg("cpu", "--threads", optarg, ARG_COUNT, &v) < 0)
                                return 2;
                        if (v == 0 || v > STRESS_THREADS_MAX) {
                                log_error("stress cpu: --threads must be between 1 and %d",
                                          STRESS_THREADS_MAX);
                                return 2;
                        }
                        o.threads = (unsigned)v;
                        break;
                default:
                        return other_option("cpu", c, argv, usage_cpu);
                }
        }
        if (!work_or_seconds("cpu", argc, argv, have_work, have_seconds, &o.work, 1000))
                return 2;

        StressCpuResult res;
        int r = stress_cpu(&o, stdout, &res);
        if (r < 0) {
                log_error("stress cpu: cannot start %u threads: %s", o.threads, strerror(-r));
                return 1;
        }
        printf("stress cpu: work=%" PRIu64 " threads=%u wall_s=%.3f cpu_s=%.3f\n", res.work, o.threads,
               res.wall_s, res.cpu_s);
        return 0;
}

static const char usage_mem[] =
        "Usage: corun stress mem SIZE [--rate SIZE/s] [--hold DURATION] [--chunk SIZE] [--passes N]\n"
        "Allocates SIZE of anonymous memory and writes every page (at --rate, default as fast\n"
        "as possible, --chunk bytes between rate checks, default 1M), holds it for --hold\n"
        "(default 0), then writes every page again --passes times (default 0). Markers:\n"
        "'stress mem: phase alloc|hold|retouch start|end'; at the end\n"
        "'stress mem: size=BYTES touched=BYTES passes=N wall_s=...'.\n";

static int stress_mem_main(int argc, char **argv) {
        static const struct option options[] = {
                {"rate", required_argument, NULL, 'r'},  {"hold", required_argument, NULL, 'H'},
                {"chunk", required_argument, NULL, 'c'}, {"passes", required_argument, NULL, 'p'},
                {"help", no_argument, NULL, 'h'},        {},
        };
        StressMem o = {};
        int c;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        if (parse_arg("mem", "--rate", optarg, ARG_RATE, &o.rate) < 0)
                                return 2;
                        if (o.rate == 0) {
                                log_error("stress mem: --rate must be above 0 (leave it out: full speed)");
                                return 2;
                        }
                        /* "max" and "unlimited" read as no limit. */
                        if (o.rate == UINT64_MAX)
                                o.rate = 0;
                        break;
                case 'H':
                        if (parse_arg("mem", "--hold", optarg, ARG_DURATION, &o.hold_usec) < 0)
                                return 2;
                        break;
                case 'c':
                        if (parse_arg("mem", "--chunk", optarg, ARG_SIZE, &o.chunk) < 0)
                                return 2;
                        if (o.chunk == 0 || o.chunk == UINT64_MAX) {
                                log_error("stress mem: --chunk must be a size above 0");
                                return 2;
                        }
                        break;
                case 'p':
                        if (parse_arg("mem", "--passes", optarg, ARG_COUNT, &o.passes) < 0)
                                return 2;
                        break;
                default:
                        return other_option("mem", c, argv, usage_mem);
                }
        }
        if (argc - optind != 1) {
                log_error("stress mem: expected one SIZE argument (e.g. 'corun stress mem 512M'), got %d",
                          argc - optind);
                return 2;
        }
        if (parse_arg("mem", "SIZE", argv[optind], ARG_SIZE, &o.size) < 0)
                return 2;
        if (o.size == 0 || o.size == UINT64_MAX) {
                log_error("stress mem: SIZE must be a size above 0, got '%s'", argv[optind]);
                return 2;
        }

        StressMemResult res;
        int r = stress_mem(&o, stdout, &res);
        if (r < 0) {
                char size[FORMAT_SIZE_MAX];
                log_error("stress mem: cannot allocate %s: %s%s", format_size(size, sizeof size, o.size),
                          strerror(-r), r == -ENOMEM ? " (check 'ulimit -v' and vm.overcommit_memory)" : "");
                return 1;
        }
        printf("stress mem: size=%" PRIu64 " touched=%" PRIu64 " passes=%" PRIu64 " wall_s=%.3f\n", res.size,
               res.touched, res.passes, res.wall_s);
        return 0;
}

static const char usage_sleep[] =
        "Usage: corun stress sleep DURATION\n"
        "Sleeps (1.5, 500ms, 2m, infinity), printing 'stress sleep: phase sleep start|end'.\n";

static int stress_sleep_main(int argc, char **argv) {
        uint64_t usec;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                fputs(usage_sleep, stdout);
                return 0;
        }
        if (argc != 2) {
                log_error("stress sleep: expected one DURATION argument (e.g. 'corun stress sleep 2s')");
                return 2;
        }
        if (parse_arg("sleep", "DURATION", argv[1], ARG_DURATION, &usec) < 0)
                return 2;
        int r = stress_sleep(usec, stdout);
        if (r < 0) {
                log_error("stress sleep: %s", strerror(-r));
                return 1;
        }
        return 0;
}

static const char usage_output[] =
        "Usage: corun stress output [--bytes SIZE] [--marker-every K]\n"
        "Writes exactly SIZE bytes (default 1M) of 64-byte numbered lines to stdout as fast as\n"
        "it can, with a line 'marker N' (N = 1, 2, ...) after every K lines (default 1000,\n"
        "0 for none). At the end prints 'stress output: bytes=.. lines=.. markers=..' to stderr.\n";

static int stress_output_main(int argc, char **argv) {
        static const struct option options[] = {
                {"bytes", required_argument, NULL, 'b'},
                {"marker-every", required_argument, NULL, 'm'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        static char buf[1 << 16];
        uint64_t bytes = 1 << 20, every = 1000;
        int c;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        if (parse_arg("output", "--bytes", optarg, ARG_SIZE, &bytes) < 0)
                                return 2;
                        if (bytes == UINT64_MAX) {
                                log_error("stress output: --bytes needs a finite size");
                                return 2;
                        }
                        break;
                case 'm':
                        if (parse_arg("output", "--marker-every", optarg, ARG_COUNT, &every) < 0)
                                return 2;
                        break;
                default:
                        return other_option("output", c, argv, usage_output);
                }
        }
        if (!no_arguments_left("output", argc, argv))
                return 2;

        /* Full buffering: this is the one subcommand that must not flush per line. Nothing
         * has been written to stdout yet, so setvbuf is still allowed here. */
        setvbuf(stdout, buf, _IOFBF, sizeof buf);
        StressOutputResult res;
        int r = stress_output(bytes, every, stdout, &res);
        if (r < 0) {
                log_error("stress output: cannot write to stdout: %s", strerror(-r));
                return 1;
        }
        fprintf(stderr, "stress output: bytes=%" PRIu64 " lines=%" PRIu64 " markers=%" PRIu64 "\n",
                res.bytes, res.lines, res.markers);
        return 0;
}

static const char usage_gpu[] =
        "Usage: corun stress gpu [--kernel-ms MS] [--work N | --seconds DURATION] [--duty F]\n"
        "                        [--mem SIZE] [--device N]\n"
        "Runs a busy-loop kernel of MS milliseconds of GPU time (default 1; time slices of\n"
        "other processes on a shared GPU are not counted) on the GPU, back to back:\n"
        "N kernels (--work, default 1000) or for DURATION (--seconds). --duty F (0 < F <= 1)\n"
        "paces the kernels to take F of the GPU's time; --mem holds SIZE of device memory;\n"
        "--device picks the Nth CUDA device the job sees (default 0). Needs an NVIDIA driver\n"
        "(libcuda.so.1), no CUDA toolkit. Markers: 'stress gpu: phase kernels start|end'; at\n"
        "the end 'stress gpu: kernels=N kernel_ms=MS duty=F wall_s=... kernels_per_s=...\n"
        "gpu=UUID'.\n";

static int stress_gpu_main(int argc, char **argv) {
        static const struct option options[] = {
                {"kernel-ms", required_argument, NULL, 'k'},
                {"work", required_argument, NULL, 'w'},
                {"seconds", required_argument, NULL, 's'},
                {"duty", required_argument, NULL, 'd'},
                {"mem", required_argument, NULL, 'm'},
                {"device", required_argument, NULL, 'D'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        StressGpu o = {.kernel_ns = 1000000, .duty = 1.0};
        bool have_work = false, have_seconds = false;
        double ms;
        uint64_t v;
        int c;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case 'k':
                        if (parse_double(optarg, &ms) < 0 || !(ms >= 0.001 && ms <= 60000)) {
                                log_error("stress gpu: invalid --kernel-ms '%s' (expected milliseconds from "
                                          "0.001 to 60000, such as 1 or 0.5)",
                                          optarg);
                                return 2;
                        }
                        o.kernel_ns = (uint64_t)(ms * 1e6 + 0.5);
                        break;
                case 'w':
                        if (parse_arg("gpu", "--work", optarg, ARG_COUNT, &o.kernels) < 0)
                                return 2;
                        if (o.kernels == 0) {
                                log_error("stress gpu: --work must be at least 1 kernel");
                                return 2;
                        }
                        have_work = true;
                        break;
                case 's':
                        if (parse_arg("gpu", "--seconds", optarg, ARG_DURATION, &o.duration_usec) < 0)
                                return 2;
                        if (o.duration_usec == 0 || o.duration_usec == USEC_INFINITY) {
                                log_error("stress gpu: --seconds must be a finite duration above 0");
                                return 2;
                        }
                        have_seconds = true;
                        break;
                case 'd':
                        if (parse_double(optarg, &o.duty) < 0 || !(o.duty > 0 && o.duty <= 1)) {
                                log_error("stress gpu: invalid --duty '%s' (expected a fraction above 0 and "
                                          "at "
                                          "most 1, such as 0.3)",
                                          optarg);
                                return 2;
                        }
                        break;
                case 'm':
                        if (parse_arg("gpu", "--mem", optarg, ARG_SIZE, &o.mem_bytes) < 0)
                                return 2;
                        if (o.mem_bytes == UINT64_MAX) {
                                log_error("stress gpu: --mem needs a finite size");
                                return 2;
                        }
                        break;
                case 'D':
                        if (parse_arg("gpu", "--device", optarg, ARG_COUNT, &v) < 0)
                                return 2;
                        if (v > 1024) {
                                log_error("stress gpu: --device must be a CUDA device number (0, 1, ...)");
                                return 2;
                        }
                        o.device = (unsigned)v;
                        break;
                default:
                        return other_option("gpu", c, argv, usage_gpu);
                }
        }
        if (!work_or_seconds("gpu", argc, argv, have_work, have_seconds, &o.kernels, 1000))
                return 2;

        StressGpuResult res;
        _cleanup_free_ char *err = NULL;
        int r = stress_gpu(&o, stdout, &res, &err);
        if (r < 0) {
                log_error("stress gpu: %s", err ? err : strerror(-r));
                return 1;
        }
        printf("stress gpu: kernels=%" PRIu64
               " kernel_ms=%.3f duty=%.2f wall_s=%.3f kernels_per_s=%.1f gpu=%s\n",
               res.kernels, (double)o.kernel_ns / 1e6, o.duty, res.wall_s, res.kernels_per_s,
               *res.uuid ? res.uuid : "?");
        return 0;
}

static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *help;
} stress_commands[] = {
        {"cpu", stress_cpu_main, "burn CPU for a fixed amount of work or time"},
        {"mem", stress_mem_main, "allocate and touch memory at a rate, hold it, touch it again"},
        {"sleep", stress_sleep_main, "sleep with millisecond precision"},
        {"output", stress_output_main, "write a lot of output quickly, with markers"},
        {"gpu", stress_gpu_main, "run a busy-loop kernel on the GPU back to back, or at a duty cycle"},
};

static void usage(FILE *f) {
        fprintf(f, "Usage: corun stress WORKLOAD [OPTIONS]\n\nWorkloads:\n");
        for (size_t i = 0; i < ELEMENTSOF(stress_commands); i++)
                fprintf(f, "  %-8s %s\n", stress_commands[i].name, stress_commands[i].help);
        fprintf(f, "\n'corun stress WORKLOAD --help' shows its options.\n");
}

int cmd_stress(int argc, char **argv) {
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(stress_commands); i++) {
                if (!streq(argv[1], stress_commands[i].name))
                        continue;
                /* Markers must reach a pipe when they happen, not when a 4 KiB buffer fills:
                 * the runner times phases by them. */
                if (!streq(argv[1], "output"))
                        setvbuf(stdout, NULL, _IOLBF, 0);
                /* Start getopt afresh (0 resets glibc's internal state too). */
                optind = 0;
                return stress_commands[i].fn(argc - 1, argv + 1);
        }
        log_error("stress: unknown workload '%s'; choose one of cpu, mem, sleep, output, gpu", argv[1]);
        return 2;
}
