/* SPDX-License-Identifier: MIT */
/* Quick mode: argv -> Spec, flags over a scenario file, and the messages for bad flags.
 * Every test calls the parser several times in one process on purpose: it must keep no
 * state between calls (unlike getopt). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "util/macros.h"

#define ARGV(...) ((char *[]){"run", __VA_ARGS__, NULL})
#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])) - 1)

static Spec *cli_ok_text(int argc, char **argv, const char *text) {
        Spec *s = NULL;
        SpecError e = {0};
        int idx = -2;
        if (spec_cli_find_file(argc, argv, &idx, &e) < 0)
                fail_msg("spec_cli_find_file: %s", e.message ?: "(no message)");
        assert_true(text ? idx > 0 : idx == -1);
        SpecCliInput in = {
                .argc = argc, .argv = argv, .file_text = text, .file_len = text ? strlen(text) : 0};
        int r = spec_from_cli(&in, &s, &e);
        if (r < 0)
                fail_msg("spec_from_cli: %d %s", r, e.message ?: "(no message)");
        assert_null(e.message);
        return s;
}

#define CLI_OK(...)                                                                                         \
        ({                                                                                                  \
                char **_v = ARGV(__VA_ARGS__);                                                              \
                cli_ok_text(ARGC(ARGV(__VA_ARGS__)), _v, NULL);                                             \
        })

/* Fails in spec_cli_find_file (argument shape) when find is true, else in spec_from_cli. */
static void cli_err(int argc, char **argv, const char *text, bool find, const char *msg) {
        Spec *s = NULL;
        SpecError e = {0};
        int idx = -2;
        int r = spec_cli_find_file(argc, argv, &idx, &e);
        if (find) {
                assert_int_equal(r, -EINVAL);
                assert_int_equal(idx, -2);
                assert_non_null(e.message);
                assert_string_equal(e.message, msg);
                spec_error_done(&e);
        } else if (r < 0)
                fail_msg("spec_cli_find_file: %s", e.message);
        SpecCliInput in = {
                .argc = argc, .argv = argv, .file_text = text, .file_len = text ? strlen(text) : 0};
        r = spec_from_cli(&in, &s, &e);
        assert_int_equal(r, -EINVAL);
        assert_null(s);
        assert_non_null(e.message);
        assert_string_equal(e.message, msg);
        spec_error_done(&e);
}

#define FIND_ERR(msg, ...) cli_err(ARGC(ARGV(__VA_ARGS__)), ARGV(__VA_ARGS__), NULL, true, msg)
#define FLAG_ERR(msg, ...) cli_err(ARGC(ARGV(__VA_ARGS__)), ARGV(__VA_ARGS__), NULL, false, msg)

static void test_dashdash(void **state) {
        Spec *s = CLI_OK("-t", "2m", "--", "./bench", "--size", "32G", "-m", "x");
        assert_null(s->file);
        assert_string_equal(s->name, "corun");
        assert_int_equal(s->n_jobs, 1);
        const JobSpec *j = &s->jobs[0];
        assert_string_equal(j->name, "bench");
        /* After --, flags belong to the command. */
        assert_string_equal(j->argv[0], "./bench");
        assert_string_equal(j->argv[3], "-m");
        assert_string_equal(j->argv[4], "x");
        assert_null(j->argv[5]);
        assert_string_equal(j->command_text, "./bench --size 32G -m x");
        assert_int_equal(j->timeout_usec, 120 * USEC_PER_SEC);
        assert_int_equal(j->limits.memory_max, LIMIT_MAX);
        assert_int_equal(s->n_scenarios, 1);
        assert_string_equal(s->scenarios[0].name, "default");
        assert_string_equal(s->scenarios[0].jobs[0], "bench");
        assert_int_equal(s->repeat, 1);
        spec_free(s);
}

static void test_shell_strings(void **state) {
        Spec *s = CLI_OK("sleep 1", "-c", "1", "sleep 2", "FOO=1 ./tools/my-bench --x", "sleep 3", "a:b|c",
                         "/");
        assert_int_equal(s->n_jobs, 6);
        assert_string_equal(s->jobs[0].name, "sleep");
        assert_string_equal(s->jobs[1].name, "sleep-2");
        assert_string_equal(s->jobs[2].name, "my-bench");
        assert_string_equal(s->jobs[3].name, "sleep-3");
        assert_string_equal(s->jobs[4].name, "a_b_c");
        assert_string_equal(s->jobs[5].name, "_");
        assert_string_equal(s->jobs[1].argv[0], "/bin/sh");
        assert_string_equal(s->jobs[1].argv[1], "-c");
        assert_string_equal(s->jobs[1].argv[2], "sleep 2");
        assert_null(s->jobs[1].argv[3]);
        assert_string_equal(s->jobs[1].command_text, "sleep 2");
        /* The flag, wherever it stands, applies to every command. */
        for (size_t i = 0; i < s->n_jobs; i++) {
                assert_int_equal(s->jobs[i].limits.cpus.kind, CPUS_COUNT);
                assert_int_equal(s->jobs[i].limits.cpus.count, 1);
                assert_string_equal(s->jobs[i].limits.cpus.pos.flag, "--cpus");
        }
        assert_int_equal(s->scenarios[0].n_jobs, 6);
        assert_string_equal(s->scenarios[0].jobs[5], "_");
        spec_free(s);
}

static void test_no_shell(void **state) {
        Spec *s = CLI_OK("-N", "echo \"a b\" c'd e'f \\$x \"q\\\"q\" ''", "  ls   -l  ");
        const JobSpec *j = &s->jobs[0];
        assert_string_equal(j->name, "echo");
        assert_string_equal(j->argv[0], "echo");
        assert_string_equal(j->argv[1], "a b");
        assert_string_equal(j->argv[2], "cd ef");
        assert_string_equal(j->argv[3], "$x");
        assert_string_equal(j->argv[4], "q\"q");
        assert_string_equal(j->argv[5], "");
        assert_null(j->argv[6]);
        assert_string_equal(s->jobs[1].argv[0], "ls");
        assert_string_equal(s->jobs[1].argv[1], "-l");
        assert_null(s->jobs[1].argv[2]);
        assert_string_equal(s->jobs[1].name, "ls");
        spec_free(s);

        FLAG_ERR("--no-shell: unterminated quote in 'echo \"a'", "--no-shell", "echo \"a");
        FLAG_ERR("--no-shell: unterminated quote in 'it's'", "-N", "it's");
        FLAG_ERR("command 1 is empty; usage: corun run [OPTIONS] 'cmd a' ['cmd b' ...] | corun run "
                 "[OPTIONS] -- "
                 "CMD [ARG...] | corun run [OPTIONS] FILE.yaml (see corun run --help)",
                 "-N", "  ");
}

static void test_job_names(void **state) {
        Spec *s = CLI_OK("--job-name", "sleep-2", "sleep 1", "sleep 2", "--job-name=first", "sleep 3");
        /* Given names go to the commands in order; generated ones step around them. */
        assert_string_equal(s->jobs[0].name, "sleep-2");
        assert_string_equal(s->jobs[1].name, "first");
        assert_string_equal(s->jobs[2].name, "sleep");
        spec_free(s);

        s = CLI_OK("--job-name", "x", "--", "prog");
        assert_string_equal(s->jobs[0].name, "x");
        spec_free(s);

        FLAG_ERR("--job-name: 2 names for 1 command(s)", "--job-name", "a", "--job-name", "b", "cmd");
        FLAG_ERR("--job-name: 'a#1' may only hold letters, digits, '_', '.' and '-' (at most 100)",
                 "--job-name", "a#1", "cmd");
        FLAG_ERR("--job-name: the name 'a' is given twice", "--job-name", "a", "--job-name", "a", "x", "y");
}

static void test_all_flags(void **state) {
        Spec *s = CLI_OK("-c", "0-3,8", "-m", "512M", "-t", "1m", "--cpu-timeout", "30s", "-o", "out/dir",
                         "-n", "myrun", "--memory-high", "400M", "--memory-low", "1M", "--memory-min", "1M",
                         "--swap", "1G", "--pids", "max", "--cpu-weight", "300", "--cpu-max", "50%", "--smt",
                         "separate", "--env", "A=1", "--env", "B=x=y", "--env", "A=2", "--cwd", "/tmp",
                         "--user", "nobody", "--group", "nogroup", "--stop-signal", "SIGINT", "--grace",
                         "5s", "--priority", "low", "--keep", "--sample-interval", "1s", "--backend", "none",
                         "--slice", "b.slice", "--replicas", "4", "--repeat", "2", "--order", "sequential",
                         "--seed", "7", "--reserve", "1", "--numa", "interleave", "--solo", "--setup", "s",
                         "--prepare", "p", "--conclude", "c", "--cleanup", "k", "--preflight", "pf",
                         "--memory-total", "2G", "--allowed-cpus", "0-7", "-v", "--json", "cmd");
        const JobSpec *j = &s->jobs[0];
        char buf[32];
        assert_int_equal(j->limits.cpus.kind, CPUS_LIST);
        cpuset_format(&j->limits.cpus.set, buf, sizeof buf);
        assert_string_equal(buf, "0-3,8");
        assert_int_equal(j->limits.cpus.smt, SMT_SEPARATE);
        assert_int_equal(j->limits.memory_max, UINT64_C(512) << 20);
        assert_true(j->limits.memory_max_set);
        assert_string_equal(j->limits.memory_max_pos.flag, "--memory");
        assert_null(j->limits.memory_max_pos.file);
        assert_int_equal(j->limits.memory_high, UINT64_C(400) << 20);
        assert_int_equal(j->limits.memory_low, UINT64_C(1) << 20);
        assert_int_equal(j->limits.memory_min, UINT64_C(1) << 20);
        assert_int_equal(j->limits.swap_max, UINT64_C(1) << 30);
        assert_true(j->limits.swap_max_set);
        assert_int_equal(j->limits.pids_max, LIMIT_MAX);
        assert_int_equal(j->limits.cpu_weight, 300);
        assert_int_equal(j->limits.cpu_max_pct, 50);
        assert_int_equal(j->timeout_usec, 60 * USEC_PER_SEC);
        assert_int_equal(j->cpu_timeout_usec, 30 * USEC_PER_SEC);
        assert_string_equal(j->env[0], "A=2");
        assert_string_equal(j->env[1], "B=x=y");
        assert_null(j->env[2]);
        assert_string_equal(j->cwd, "/tmp");
        assert_string_equal(j->user, "nobody");
        assert_string_equal(j->group, "nogroup");
        assert_int_equal(j->stop_signal, SIGINT);
        assert_int_equal(j->grace_usec, 5 * USEC_PER_SEC);
        assert_int_equal(j->limits.priority, PRIORITY_LOW);
        assert_string_equal(s->name, "myrun");
        assert_string_equal(s->results_dir, "out/dir");
        assert_true(s->keep);
        assert_int_equal(s->sample_interval_usec, USEC_PER_SEC);
        assert_int_equal(s->backend, BACKEND_NONE);
        assert_string_equal(s->slice, "b.slice");
        assert_int_equal(s->repeat, 2);
        assert_int_equal(s->order, ORDER_SEQUENTIAL);
        assert_int_equal(s->seed, 7);
        assert_int_equal(s->reserve_cores, 1);
        assert_int_equal(s->numa, NUMA_INTERLEAVE);
        assert_string_equal(s->hooks.setup, "s");
        assert_string_equal(s->hooks.prepare, "p");
        assert_string_equal(s->hooks.conclude, "c");
        assert_string_equal(s->hooks.cleanup, "k");
        assert_string_equal(s->preflight, "pf");
        assert_true(s->verbose);
        assert_false(s->quiet);
        assert_true(s->json);
        const ScenarioSpec *sc = &s->scenarios[0];
        assert_int_equal(sc->n_replicas, 1);
        assert_int_equal(sc->replicas[0], 4);
        assert_true(sc->solo);
        assert_int_equal(sc->memory_total, UINT64_C(2) << 30);
        assert_int_equal(cpuset_count(&sc->allowed_cpus), 8);
        /* Quick mode leaves the scenario's own overrides empty: the jobs carry the flags. */
        assert_int_equal(sc->limits.cpus.kind, CPUS_UNSET);
        assert_false(sc->limits.memory_max_set);
        spec_free(s);
}

static void test_flag_forms(void **state) {
        Spec *s = CLI_OK("--memory=1G", "-c2", "-qN", "-t90", "--shared", "0-1", "echo hi");
        assert_int_equal(s->jobs[0].limits.memory_max, UINT64_C(1) << 30);
        /* --shared after -c: the last cpus flag wins. */
        assert_int_equal(s->jobs[0].limits.cpus.kind, CPUS_SHARED);
        assert_int_equal(cpuset_count(&s->jobs[0].limits.cpus.set), 2);
        assert_true(s->quiet);
        assert_string_equal(s->jobs[0].argv[0], "echo");
        assert_int_equal(s->jobs[0].timeout_usec, 90 * USEC_PER_SEC);
        spec_free(s);

        s = CLI_OK("-c", "2", "x");
        assert_int_equal(s->jobs[0].limits.cpus.kind, CPUS_COUNT);
        assert_int_equal(s->jobs[0].limits.cpus.count, 2);
        spec_free(s);
        s = CLI_OK("-c", "all", "-m", "max", "x");
        assert_int_equal(s->jobs[0].limits.cpus.kind, CPUS_ALL);
        assert_int_equal(s->jobs[0].limits.memory_max, LIMIT_MAX);
        assert_true(s->jobs[0].limits.memory_max_set);
        spec_free(s);
}

static void test_flag_errors(void **state) {
        FLAG_ERR("--memory: expected a size like 512M or 4GiB, or max, got 'lots'", "-m", "lots", "true");
        FLAG_ERR("--memory: expected a size like 512M or 4GiB, or max, got 'x'", "--memory=x", "true");
        FLAG_ERR("--cpus: expected a core count like 4, a CPU list like \"0-3,8\", {shared: \"0-1\"} or "
                 "all, got "
                 "'0'",
                 "-c", "0", "true");
        FLAG_ERR("--shared: expected a core count like 4, a CPU list like \"0-3,8\", {shared: \"0-1\"} or "
                 "all, got "
                 "'x'",
                 "--shared", "x", "true");
        FLAG_ERR("--timeout: expected a duration like 90s, 500ms or 1h30m, or infinity, got '1 hour'", "-t",
                 "1 hour", "true");
        FLAG_ERR("--pids: expected a process count from 1, or max, got '-1'", "--pids", "-1", "true");
        FLAG_ERR("--stop-signal: expected a signal like TERM, SIGINT or 15, got 'NOPE'", "--stop-signal",
                 "NOPE", "true");
        FLAG_ERR("--priority: expected high, normal or low, got 'urgent'", "--priority", "urgent", "true");
        FLAG_ERR("--replicas: expected a copy count from 1 to 1024, or a list of them, got '2000'",
                 "--replicas", "2000", "true");
        FLAG_ERR("--repeat: expected a count from 1 to 100000, got '0'", "--repeat", "0", "true");
        FLAG_ERR("--backend: expected auto, v2, v1 or none, got 'cgroup'", "--backend", "cgroup", "true");
        FLAG_ERR("--slice: expected a systemd slice name like benchmarks.slice, got '.slice'", "--slice",
                 ".slice", "true");
        FLAG_ERR("--name: expected a name of letters, digits, '_', '.' and '-', got 'a b'", "-n", "a b",
                 "true");
        FLAG_ERR("--cwd: expected a directory, got an empty string", "--cwd", "", "true");
        FLAG_ERR("--env: expected KEY=VALUE, got 'NOVALUE'", "--env", "NOVALUE", "true");
        FLAG_ERR("--env: expected KEY=VALUE, got '=x'", "--env", "=x", "true");
        FLAG_ERR("--verbose and --quiet contradict each other; give one", "-v", "-q", "true");
        FLAG_ERR("command 2 is empty; usage: corun run [OPTIONS] 'cmd a' ['cmd b' ...] | corun run "
                 "[OPTIONS] -- "
                 "CMD [ARG...] | corun run [OPTIONS] FILE.yaml (see corun run --help)",
                 "a", "");
        FLAG_ERR("--memory-min: expected a size like 512M or 4GiB, got 'max'", "--memory-min", "max", "x");
}

static void test_shape_errors(void **state) {
        static const char usage[] =
                "usage: corun run [OPTIONS] 'cmd a' ['cmd b' ...] | corun run [OPTIONS] -- "
                "CMD [ARG...] | corun run [OPTIONS] FILE.yaml (see corun run --help)";
        char msg[512];

        FIND_ERR("unknown flag '--memroy'; did you mean '--memory'?", "--memroy", "1G", "x");
        FIND_ERR("unknown flag '--timout'; did you mean '--timeout'?", "--timout=1s", "x");
        FIND_ERR("unknown flag '--frobnicate' (see corun run --help; put a command that starts with '-' "
                 "after --)",
                 "--frobnicate", "x");
        FIND_ERR("unknown flag '-z' (see corun run --help; put a command that starts with '-' after --)",
                 "-qz", "x");
        FIND_ERR("--memory: expected a size like 512M or 4GiB, or max, got nothing", "x", "-m");
        FIND_ERR("--keep: takes no value", "--keep=yes", "x");
        snprintf(msg, sizeof msg, "no command given; %s", usage);
        FIND_ERR(msg, "-m", "1G");
        {
                char *argv[] = {"run", NULL};
                cli_err(1, argv, NULL, true, msg);
        }
        snprintf(msg, sizeof msg, "nothing after '--'; %s", usage);
        FIND_ERR(msg, "-m", "1G", "--");
        FIND_ERR("command strings and '-- CMD ARG...' cannot be mixed; quote each command as a string, or "
                 "give one "
                 "command after --",
                 "a", "--", "b");
        FIND_ERR("a scenario file (s.yaml) cannot be mixed with commands ('sleep 1'); put the commands into "
                 "the "
                 "file's jobs:",
                 "s.yaml", "sleep 1");
        FIND_ERR("a scenario file (s.yml) cannot be mixed with commands ('--'); put the commands into the "
                 "file's "
                 "jobs:",
                 "s.yml", "--", "x");
        FIND_ERR("two scenario files (a.yaml and b.yaml); give one", "a.yaml", "b.yaml");
        FIND_ERR("--file: only one scenario file can be given", "-f", "a", "--file", "b");
        FIND_ERR("--file: give the file as an argument of its own: -f FILE", "--file=x.yaml");
        FIND_ERR("--file: give the file as an argument of its own: -f FILE", "-fx.yaml");
        FIND_ERR("--file: expected a scenario file, got nothing", "-f");
}

static const char scenario_text[] = "name: filerun\n"
                                    "defaults: {memory: 1G}\n"
                                    "jobs:\n"
                                    "  a: {command: x, cpus: 2}\n"
                                    "  b: {command: y, timeout: 1h}\n"
                                    "scenarios:\n"
                                    "  plain: {}\n"
                                    "  squeezed: {memory: 256M, replicas: [1, 2], cpus: {shared: '0'}}\n";

static void test_file_mode(void **state) {
        char *argv[] = {"run", "-q", "s/exp.yaml", NULL};
        SpecError e = {0};
        int idx = -2;
        assert_int_equal(spec_cli_find_file(3, argv, &idx, &e), 0);
        assert_int_equal(idx, 2);

        Spec *s = cli_ok_text(3, argv, scenario_text);
        assert_string_equal(s->file, "s/exp.yaml");
        assert_string_equal(s->name, "filerun");
        assert_true(s->quiet);
        assert_int_equal(s->jobs[0].limits.memory_max, UINT64_C(1) << 30);
        assert_string_equal(s->jobs[0].limits.memory_max_pos.file, "s/exp.yaml");
        spec_free(s);

        /* Flags override the file: every job, and scenarios that set the same limit. */
        char *argv2[] = {"run", "-f", "s/exp", "-m",     "2G", "-n", "other", "-o",  "/r", "--replicas",
                         "3",   "-t", "5s",    "--solo", "-c", "1",  "--env", "K=v", NULL};
        assert_int_equal(spec_cli_find_file(19, argv2, &idx, &e), 0);
        assert_int_equal(idx, 2);
        s = cli_ok_text(19, argv2, scenario_text);
        assert_string_equal(s->file, "s/exp");
        assert_string_equal(s->name, "other");
        assert_string_equal(s->results_dir, "/r");
        for (size_t i = 0; i < s->n_jobs; i++) {
                assert_int_equal(s->jobs[i].limits.memory_max, UINT64_C(2) << 30);
                assert_string_equal(s->jobs[i].limits.memory_max_pos.flag, "--memory");
                assert_int_equal(s->jobs[i].timeout_usec, 5 * USEC_PER_SEC);
                assert_int_equal(s->jobs[i].limits.cpus.kind, CPUS_COUNT);
                assert_int_equal(s->jobs[i].limits.cpus.count, 1);
                assert_string_equal(s->jobs[i].env[0], "K=v");
        }
        const ScenarioSpec *plain = &s->scenarios[0], *sq = &s->scenarios[1];
        assert_false(plain->limits.memory_max_set);
        assert_int_equal(plain->limits.cpus.kind, CPUS_UNSET);
        assert_int_equal(sq->limits.memory_max, UINT64_C(2) << 30);
        assert_int_equal(sq->limits.cpus.kind, CPUS_COUNT);
        assert_int_equal(sq->limits.cpus.count, 1);
        for (size_t i = 0; i < s->n_scenarios; i++) {
                assert_true(s->scenarios[i].solo);
                assert_int_equal(s->scenarios[i].n_replicas, 1);
                assert_int_equal(s->scenarios[i].replicas[0], 3);
        }
        spec_free(s);

        /* Errors in the file keep the file's name and position. */
        char *argv3[] = {"run", "bad.yaml", NULL};
        cli_err(2, argv3, "jobs:\n  a:\n    command: [true]\n    memroy: 1G\n", false,
                "bad.yaml:4:5: unknown key 'memroy' in job 'a'; did you mean 'memory'?");
        cli_err(2, argv3, NULL, false, "bad.yaml: the scenario file was not read");
        char *argv4[] = {"run", "--job-name", "x", "e.yaml", NULL};
        cli_err(4, argv4, scenario_text, false,
                "--job-name: applies to command strings, not to a scenario file (name the jobs in the "
                "file)");
        char *argv5[] = {"run", "-N", "e.yaml", NULL};
        cli_err(3, argv5, scenario_text, false,
                "--no-shell: applies to command strings, not to a scenario file (name the jobs in the "
                "file)");
        /* A flag value that is bad is reported even with a file. */
        char *argv6[] = {"run", "e.yaml", "--swap", "lots", NULL};
        cli_err(4, argv6, scenario_text, false,
                "--swap: expected a size like 512M or 4GiB, or max, got 'lots'");
}

static void test_command_with_yaml_word(void **state) {
        /* A command string that ends in .yaml is still a command when it has blanks. */
        Spec *s = CLI_OK("cat x.yaml");
        assert_string_equal(s->jobs[0].name, "cat");
        assert_string_equal(s->jobs[0].argv[2], "cat x.yaml");
        spec_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dashdash),    cmocka_unit_test(test_shell_strings),
                cmocka_unit_test(test_no_shell),    cmocka_unit_test(test_job_names),
                cmocka_unit_test(test_all_flags),   cmocka_unit_test(test_flag_forms),
                cmocka_unit_test(test_flag_errors), cmocka_unit_test(test_shape_errors),
                cmocka_unit_test(test_file_mode),   cmocka_unit_test(test_command_with_yaml_word),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
