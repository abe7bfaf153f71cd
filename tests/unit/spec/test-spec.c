/* SPDX-License-Identifier: MIT */
/* The scenario file reader: good files, defaults and merging, and the exact message
 * (with line:col) for each class of bad input. */
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

static Spec *parse_ok(const char *yaml) {
        Spec *s = NULL;
        SpecError e = {0};
        int r = spec_parse_yaml("t.yaml", yaml, strlen(yaml), &s, &e);
        if (r < 0)
                fail_msg("spec_parse_yaml: %d %s", r, e.message ?: "(no message)");
        assert_null(e.message);
        assert_non_null(s);
        return s;
}

/* Parses text that must fail with exactly `msg`. */
static void check_error_len(const char *yaml, size_t len, const char *msg) {
        Spec *s = NULL;
        SpecError e = {0};
        int r = spec_parse_yaml("t.yaml", yaml, len, &s, &e);
        if (r >= 0)
                fail_msg("parsed, expected: %s", msg);
        assert_int_equal(r, -EINVAL);
        assert_null(s);
        assert_non_null(e.message);
        assert_string_equal(e.message, msg);
        spec_error_done(&e);
        assert_null(e.message);
}

static void check_error(const char *yaml, const char *msg) {
        check_error_len(yaml, strlen(yaml), msg);
}

static void test_every_key(void **state) {
        const char *yaml = "name: p2-partitions\n"
                           "defaults:\n"
                           "  memory: 8G\n"
                           "  env: {RUST_LOG: info, SHARED: d}\n"
                           "  timeout: 2h\n"
                           "jobs:\n"
                           "  sealer:\n"
                           "    command: [./benchy, force, --size=32GiB, 42]\n"
                           "    env: {SHARED: job}\n"
                           "    cwd: /srv/bench\n"
                           "    user: bench\n"
                           "    group: '1000'\n"
                           "    cpus: 46\n"
                           "    smt: separate\n"
                           "    memory: 195G\n"
                           "    memory_high: 190G\n"
                           "    memory_low: 1G\n"
                           "    memory_min: 512M\n"
                           "    swap: 1G\n"
                           "    pids: max\n"
                           "    cpu_weight: 200\n"
                           "    cpu_max: 150%\n"
                           "    cpu_timeout: 1h30m\n"
                           "    stop_signal: INT\n"
                           "    grace: 30s\n"
                           "    priority: high\n"
                           "    phases:\n"
                           "      p1: {start: 'p1: start', end: 'p1: end'}\n"
                           "      p2: 'p2 start'\n"
                           "    metrics:\n"
                           "      proofs: 'proofs/s: ([0-9.]+)'\n"
                           "      peak: {pattern: 'rss=([0-9]+)', agg: max}\n"
                           "    timestamp: {regex: '^\\[(.*?)\\]', format: '%Y-%m-%d %H:%M:%S'}\n"
                           "  helper:\n"
                           "    command: sleep 1 && echo done\n"
                           "    cpus: \"0-3,8\"\n"
                           "scenarios:\n"
                           "  solo-run: {jobs: [sealer]}\n"
                           "  crowded:\n"
                           "    jobs: [sealer, helper]\n"
                           "    replicas: [1, 2, 4]\n"
                           "    matrix: {size: [1G, 4G], mode: [a]}\n"
                           "    cpus: {shared: \"0-1\"}\n"
                           "    smt: together\n"
                           "    memory: 4G\n"
                           "    memory_high: 3G\n"
                           "    memory_low: 1M\n"
                           "    memory_min: 1M\n"
                           "    swap: 0\n"
                           "    pids: 100\n"
                           "    cpu_weight: 50\n"
                           "    cpu_max: 75\n"
                           "    memory_total: 16G\n"
                           "    allowed_cpus: 0-7\n"
                           "    solo: true\n"
                           "    setup: make\n"
                           "    prepare: sync\n"
                           "    conclude: 'true'\n"
                           "    cleanup: rm -f out\n"
                           "repeat: 3\n"
                           "order: random\n"
                           "seed: 12345\n"
                           "results: /tmp/res\n"
                           "sample_interval: 500ms\n"
                           "reserve: 1\n"
                           "numa: spread\n"
                           "backend: v1\n"
                           "slice: bench-2.slice\n"
                           "keep: yes\n"
                           "preflight: python -c 'import torch'\n"
                           "setup: s\n"
                           "prepare: p\n"
                           "conclude: c\n"
                           "cleanup: k\n";
        Spec *s = parse_ok(yaml);

        assert_string_equal(s->file, "t.yaml");
        assert_string_equal(s->name, "p2-partitions");
        assert_int_equal(s->repeat, 3);
        assert_int_equal(s->order, ORDER_RANDOM);
        assert_int_equal(s->seed, 12345);
        assert_string_equal(s->results_dir, "/tmp/res");
        assert_int_equal(s->sample_interval_usec, 500 * USEC_PER_MSEC);
        assert_int_equal(s->reserve_cores, 1);
        assert_int_equal(s->numa, NUMA_SPREAD);
        assert_int_equal(s->backend, BACKEND_V1);
        assert_string_equal(s->slice, "bench-2.slice");
        assert_true(s->keep);
        assert_string_equal(s->preflight, "python -c 'import torch'");
        assert_string_equal(s->hooks.setup, "s");
        assert_string_equal(s->hooks.prepare, "p");
        assert_string_equal(s->hooks.conclude, "c");
        assert_string_equal(s->hooks.cleanup, "k");
        assert_false(s->verbose || s->quiet || s->json);

        assert_int_equal(s->n_jobs, 2);
        const JobSpec *j = spec_find_job(s, "sealer");
        assert_ptr_equal(j, &s->jobs[0]);
        assert_string_equal(j->argv[0], "./benchy");
        assert_string_equal(j->argv[3], "42");
        assert_null(j->argv[4]);
        assert_string_equal(j->command_text, "./benchy force --size=32GiB 42");
        assert_string_equal(j->env[0], "RUST_LOG=info");
        assert_string_equal(j->env[1], "SHARED=job");
        assert_null(j->env[2]);
        assert_string_equal(j->cwd, "/srv/bench");
        assert_string_equal(j->user, "bench");
        assert_string_equal(j->group, "1000");
        assert_int_equal(j->limits.cpus.kind, CPUS_COUNT);
        assert_int_equal(j->limits.cpus.count, 46);
        assert_int_equal(j->limits.cpus.smt, SMT_SEPARATE);
        assert_int_equal(j->limits.cpus.pos.line, 13);
        assert_int_equal(j->limits.cpus.pos.col, 11);
        assert_int_equal(j->limits.memory_max, UINT64_C(195) << 30);
        assert_true(j->limits.memory_max_set);
        assert_int_equal(j->limits.memory_max_pos.line, 15);
        assert_int_equal(j->limits.memory_high, UINT64_C(190) << 30);
        assert_int_equal(j->limits.memory_low, UINT64_C(1) << 30);
        assert_int_equal(j->limits.memory_min, UINT64_C(512) << 20);
        assert_int_equal(j->limits.swap_max, UINT64_C(1) << 30);
        assert_int_equal(j->limits.pids_max, LIMIT_MAX);
        assert_true(j->limits.memory_high_set && j->limits.memory_low_set && j->limits.memory_min_set &&
                    j->limits.swap_max_set && j->limits.pids_max_set);
        assert_int_equal(j->limits.cpu_weight, 200);
        assert_int_equal(j->limits.cpu_max_pct, 150);
        assert_int_equal(j->timeout_usec, 2 * 3600 * USEC_PER_SEC);
        assert_int_equal(j->cpu_timeout_usec, 90 * 60 * USEC_PER_SEC);
        assert_int_equal(j->stop_signal, SIGINT);
        assert_int_equal(j->grace_usec, 30 * USEC_PER_SEC);
        assert_int_equal(j->limits.priority, PRIORITY_HIGH);
        assert_int_equal(j->n_phases, 2);
        assert_string_equal(j->phases[0].name, "p1");
        assert_string_equal(j->phases[0].start, "p1: start");
        assert_string_equal(j->phases[0].end, "p1: end");
        assert_int_equal(j->phases[0].pos.line, 28);
        assert_int_equal(j->phases[0].pos.col, 7);
        assert_string_equal(j->phases[1].name, "p2");
        assert_string_equal(j->phases[1].start, "p2 start");
        assert_null(j->phases[1].end);
        assert_int_equal(j->n_metrics, 2);
        assert_string_equal(j->metrics[0].name, "proofs");
        assert_string_equal(j->metrics[0].pattern, "proofs/s: ([0-9.]+)");
        assert_int_equal(j->metrics[0].agg, METRIC_LAST);
        assert_string_equal(j->metrics[1].name, "peak");
        assert_int_equal(j->metrics[1].agg, METRIC_MAX);
        assert_string_equal(j->timestamp.regex, "^\\[(.*?)\\]");
        assert_string_equal(j->timestamp.format, "%Y-%m-%d %H:%M:%S");
        assert_string_equal(j->pos.file, "t.yaml");
        assert_ptr_equal(j->pos.file, s->file);
        assert_int_equal(j->pos.line, 7);
        assert_int_equal(j->pos.col, 3);

        const JobSpec *h = spec_find_job(s, "helper");
        assert_string_equal(h->argv[0], "/bin/sh");
        assert_string_equal(h->argv[1], "-c");
        assert_string_equal(h->argv[2], "sleep 1 && echo done");
        assert_null(h->argv[3]);
        assert_string_equal(h->command_text, "sleep 1 && echo done");
        assert_int_equal(h->limits.cpus.kind, CPUS_LIST);
        char buf[64];
        cpuset_format(&h->limits.cpus.set, buf, sizeof buf);
        assert_string_equal(buf, "0-3,8");
        /* From defaults: */
        assert_int_equal(h->limits.memory_max, UINT64_C(8) << 30);
        assert_int_equal(h->timeout_usec, 2 * 3600 * USEC_PER_SEC);
        assert_string_equal(h->env[1], "SHARED=d");
        assert_null(spec_find_job(s, "nope"));

        assert_int_equal(s->n_scenarios, 2);
        const ScenarioSpec *a = &s->scenarios[0], *c = &s->scenarios[1];
        assert_string_equal(a->name, "solo-run");
        assert_int_equal(a->n_jobs, 1);
        assert_string_equal(a->jobs[0], "sealer");
        assert_null(a->jobs[1]);
        assert_null(a->replicas);
        assert_false(a->solo);
        assert_int_equal(a->limits.cpus.kind, CPUS_UNSET);
        assert_false(a->limits.memory_max_set);
        assert_int_equal(a->memory_total, LIMIT_MAX);
        assert_string_equal(c->name, "crowded");
        assert_int_equal(c->pos.line, 39);
        assert_int_equal(c->n_jobs, 2);
        assert_int_equal(c->n_replicas, 3);
        assert_int_equal(c->replicas[2], 4);
        assert_int_equal(c->n_matrix, 2);
        assert_string_equal(c->matrix[0].name, "size");
        assert_int_equal(c->matrix[0].n_values, 2);
        assert_string_equal(c->matrix[0].values[1], "4G");
        assert_null(c->matrix[0].values[2]);
        assert_string_equal(c->matrix[1].values[0], "a");
        assert_int_equal(c->limits.cpus.kind, CPUS_SHARED);
        assert_int_equal(c->limits.cpus.smt, SMT_TOGETHER);
        cpuset_format(&c->limits.cpus.set, buf, sizeof buf);
        assert_string_equal(buf, "0-1");
        assert_int_equal(c->limits.memory_max, UINT64_C(4) << 30);
        assert_true(c->limits.memory_max_set && c->limits.memory_high_set && c->limits.memory_low_set &&
                    c->limits.memory_min_set && c->limits.swap_max_set && c->limits.pids_max_set);
        assert_int_equal(c->limits.swap_max, 0);
        assert_int_equal(c->limits.pids_max, 100);
        assert_int_equal(c->limits.cpu_weight, 50);
        assert_int_equal(c->limits.cpu_max_pct, 75);
        assert_int_equal(c->memory_total, UINT64_C(16) << 30);
        cpuset_format(&c->allowed_cpus, buf, sizeof buf);
        assert_string_equal(buf, "0-7");
        assert_true(c->solo);
        assert_string_equal(c->hooks.setup, "make");
        assert_string_equal(c->hooks.prepare, "sync");
        assert_string_equal(c->hooks.conclude, "true");
        assert_string_equal(c->hooks.cleanup, "rm -f out");
        spec_free(s);
}

static void test_defaults(void **state) {
        Spec *s = parse_ok("jobs:\n  a:\n    command: [\"true\"]\n");
        assert_string_equal(s->name, "t");
        assert_int_equal(s->repeat, 1);
        assert_int_equal(s->order, ORDER_INTERLEAVED);
        assert_int_equal(s->seed, 0);
        assert_null(s->results_dir);
        assert_int_equal(s->sample_interval_usec, 200 * USEC_PER_MSEC);
        assert_int_equal(s->reserve_cores, 0);
        assert_int_equal(s->numa, NUMA_LOCAL);
        assert_int_equal(s->backend, BACKEND_AUTO);
        assert_false(s->keep);
        assert_null(s->preflight);
        assert_null(s->hooks.setup);

        const JobSpec *j = &s->jobs[0];
        assert_string_equal(j->name, "a");
        assert_string_equal(j->argv[0], "true");
        assert_null(j->env);
        assert_null(j->cwd);
        assert_null(j->user);
        assert_int_equal(j->limits.cpus.kind, CPUS_UNSET);
        assert_int_equal(j->limits.cpus.smt, SMT_TOGETHER);
        assert_int_equal(j->limits.memory_max, LIMIT_MAX);
        assert_false(j->limits.memory_max_set);
        assert_int_equal(j->limits.memory_high, LIMIT_MAX);
        assert_int_equal(j->limits.swap_max, 0);
        assert_false(j->limits.swap_max_set);
        assert_int_equal(j->limits.pids_max, 4096);
        assert_false(j->limits.pids_max_set);
        assert_int_equal(j->limits.cpu_weight, 0);
        assert_int_equal(j->limits.cpu_max_pct, 0);
        assert_int_equal(j->timeout_usec, USEC_INFINITY);
        assert_int_equal(j->cpu_timeout_usec, USEC_INFINITY);
        assert_int_equal(j->stop_signal, SIGTERM);
        assert_int_equal(j->grace_usec, 10 * USEC_PER_SEC);
        assert_int_equal(j->limits.priority, PRIORITY_NORMAL);
        assert_int_equal(j->n_phases, 0);
        assert_int_equal(j->n_metrics, 0);
        assert_null(j->timestamp.regex);

        /* No scenarios: one "default" with every job. */
        assert_int_equal(s->n_scenarios, 1);
        assert_string_equal(s->scenarios[0].name, "default");
        assert_int_equal(s->scenarios[0].n_jobs, 1);
        assert_string_equal(s->scenarios[0].jobs[0], "a");
        assert_int_equal(s->scenarios[0].pos.line, 1);
        spec_free(s);
}

static void test_name_from_file(void **state) {
        static const struct {
                const char *file, *name;
        } cases[] = {
                {"dir/p2-partitions.yaml", "p2-partitions"},
                {"/a/b/x.yml", "x"},
                {"scenario", "scenario"},
                {"my file.yaml", "my_file"},
                {".yaml", ".yaml"},
                {"dir/", "corun"},
        };
        const char *yaml = "jobs: {a: {command: x}}";
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Spec *s = NULL;
                SpecError e = {0};
                assert_int_equal(spec_parse_yaml(cases[i].file, yaml, strlen(yaml), &s, &e), 0);
                assert_string_equal(s->name, cases[i].name);
                assert_string_equal(s->file, cases[i].file);
                spec_free(s);
        }
}

static void test_defaults_merge(void **state) {
        /* defaults: may come after jobs:; env merges by key; the job's keys win; a job
         * that sets phases replaces the default phases. */
        Spec *s = parse_ok("jobs:\n"
                           "  a: {command: x, memory: 1G, env: {B: job, C: c}, phases: [start]}\n"
                           "  b: {command: y}\n"
                           "defaults:\n"
                           "  memory: 2G\n"
                           "  cpus: 2\n"
                           "  env: {A: a, B: default}\n"
                           "  phases: {warm: {start: w, end: x}}\n"
                           "  priority: low\n");
        const JobSpec *a = &s->jobs[0], *b = &s->jobs[1];
        assert_int_equal(a->limits.memory_max, UINT64_C(1) << 30);
        assert_int_equal(b->limits.memory_max, UINT64_C(2) << 30);
        assert_int_equal(a->limits.cpus.count, 2);
        assert_int_equal(a->limits.priority, PRIORITY_LOW);
        assert_string_equal(a->env[0], "A=a");
        assert_string_equal(a->env[1], "B=job");
        assert_string_equal(a->env[2], "C=c");
        assert_null(a->env[3]);
        assert_string_equal(b->env[1], "B=default");
        assert_null(b->env[2]);
        assert_int_equal(a->n_phases, 1);
        assert_string_equal(a->phases[0].name, "phase1");
        assert_string_equal(a->phases[0].start, "start");
        assert_int_equal(b->n_phases, 1);
        assert_string_equal(b->phases[0].name, "warm");
        assert_string_equal(b->phases[0].end, "x");
        /* The default's position, where the default supplied the value. */
        assert_int_equal(b->limits.memory_max_pos.line, 5);
        assert_int_equal(a->limits.memory_max_pos.line, 2);
        spec_free(s);
}

static void test_values(void **state) {
        Spec *s = parse_ok(
                "jobs:\n"
                "  a: {command: x, cpus: all, pids: 7, cpu_max: 250, stop_signal: 9, timeout: infinity,"
                " memory: max, grace: 0}\n"
                "  b: {command: x, cpus: '2', stop_signal: SIGKILL, timeout: 90, memory_high: 1.5G}\n"
                "  c: {command: x, cpus: {shared: 3}, memory: 512k}\n"
                "  d.e_f-9: {command: [a b, 'c'], phases: [{load: L}, {run: R}, third]}\n"
                "scenarios:\n"
                "  x: {replicas: 8, solo: off}\n"
                "  y: ~\n"
                "solo: true\n");
        assert_int_equal(s->jobs[0].limits.cpus.kind, CPUS_ALL);
        assert_int_equal(s->jobs[0].limits.pids_max, 7);
        assert_int_equal(s->jobs[0].limits.cpu_max_pct, 250);
        assert_int_equal(s->jobs[0].stop_signal, SIGKILL);
        assert_int_equal(s->jobs[0].timeout_usec, USEC_INFINITY);
        assert_int_equal(s->jobs[0].limits.memory_max, LIMIT_MAX);
        assert_true(s->jobs[0].limits.memory_max_set);
        assert_int_equal(s->jobs[0].grace_usec, 0);
        /* Quoted digits are a CPU list, bare ones a count. */
        assert_int_equal(s->jobs[1].limits.cpus.kind, CPUS_LIST);
        assert_true(cpuset_has(&s->jobs[1].limits.cpus.set, 2));
        assert_int_equal(cpuset_count(&s->jobs[1].limits.cpus.set), 1);
        assert_int_equal(s->jobs[1].stop_signal, SIGKILL);
        assert_int_equal(s->jobs[1].timeout_usec, 90 * USEC_PER_SEC);
        assert_int_equal(s->jobs[1].limits.memory_high, UINT64_C(3) << 29);
        assert_int_equal(s->jobs[2].limits.cpus.kind, CPUS_SHARED);
        assert_true(cpuset_has(&s->jobs[2].limits.cpus.set, 3));
        assert_int_equal(s->jobs[2].limits.memory_max, 512 * 1024);
        assert_string_equal(s->jobs[3].name, "d.e_f-9");
        assert_string_equal(s->jobs[3].argv[0], "a b");
        assert_string_equal(s->jobs[3].command_text, "'a b' c");
        assert_int_equal(s->jobs[3].n_phases, 3);
        assert_string_equal(s->jobs[3].phases[0].name, "load");
        assert_string_equal(s->jobs[3].phases[1].start, "R");
        assert_string_equal(s->jobs[3].phases[2].name, "phase3");
        /* solo: at the top turns it on everywhere; a null scenario runs every job. */
        assert_int_equal(s->n_scenarios, 2);
        assert_true(s->scenarios[0].solo && s->scenarios[1].solo);
        assert_int_equal(s->scenarios[0].n_replicas, 1);
        assert_int_equal(s->scenarios[0].replicas[0], 8);
        assert_int_equal(s->scenarios[1].n_jobs, 4);
        spec_free(s);
}

static void test_syntax_errors(void **state) {
        check_error("jobs:\n  a: {command: x\n",
                    "t.yaml:3:1: invalid YAML: did not find expected ',' or '}' "
                    "(while parsing a flow mapping at line 2, column 6)");
        check_error("jobs:\n  a:\n    command: x\n   bad: 1\n",
                    "t.yaml:4:4: invalid YAML: did not find expected key (while parsing a block mapping at "
                    "line 2, column 3)");
        /* Cut short after a key, before its value (found by the fuzzer as a leak). */
        check_error(
                "jobs: {sealer: {command: x:} ,b {command: y}}\n",
                "t.yaml:1:27: invalid YAML: found unexpected ':' (while scanning a plain scalar at line 1, "
                "column 26)");
        check_error("", "t.yaml:1:1: the file is empty; expected a mapping with a jobs: key");
        check_error("# only a comment\n",
                    "t.yaml:1:1: the file is empty; expected a mapping with a jobs: key");
        check_error("jobs: {a: {command: x}}\n---\njobs: {}\n",
                    "t.yaml:2:1: a second YAML document ('---'); a scenario file holds one");
        check_error_len("jobs: {a: {command: \"x\xff\"}}", 27,
                        "t.yaml:1:23: invalid YAML input: invalid leading UTF-8 octet");
        check_error("- a\n- b\n",
                    "t.yaml:1:1: expected a mapping with a jobs: key at the top of the file, got a "
                    "list");
}

static void test_aliases_rejected(void **state) {
        check_error(
                "defaults: &d {memory: 1G}\njobs:\n  a: {command: x, env: *d}\n",
                "t.yaml:3:24: YAML aliases (*d) are not supported; write the value out, or put shared job "
                "settings under defaults:");
        check_error(
                "x: &a [1]\ny: [*a, *a]\n",
                "t.yaml:2:5: YAML aliases (*a) are not supported; write the value out, or put shared job "
                "settings under defaults:");
}

static void test_unknown_keys(void **state) {
        /* The integration test's file: the hint for a swapped pair of letters. */
        check_error("jobs:\n  a:\n    command: [true]\n    memroy: 1G\n",
                    "t.yaml:4:5: unknown key 'memroy' in job 'a'; did you mean 'memory'?");
        check_error("jobs: {a: {command: x}}\nrepaet: 3\n",
                    "t.yaml:2:1: unknown key 'repaet' in the top level; did you mean 'repeat'?");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {replica: 2}}\n",
                    "t.yaml:2:17: unknown key 'replica' in scenario 's'; did you mean 'replicas'?");
        check_error("defaults: {timout: 1s}\njobs: {a: {command: x}}\n",
                    "t.yaml:1:12: unknown key 'timout' in defaults; did you mean 'timeout'?");
        /* Not close to anything: the list of keys instead. */
        check_error(
                "jobs: {a: {command: x}}\nscenarios: {s: {colour: red}}\n",
                "t.yaml:2:17: unknown key 'colour' in scenario 's'; expected one of: cpus, smt, memory, "
                "memory_high, memory_low, memory_min, swap, pids, cpu_weight, cpu_max, priority, gpus, jobs, solo, setup, "
                "prepare, conclude, cleanup, replicas, matrix, memory_total, allowed_cpus");
        /* A job key is not a scenario key. */
        check_error(
                "jobs: {a: {command: x}}\nscenarios: {s: {timeout: 1s}}\n",
                "t.yaml:2:17: unknown key 'timeout' in scenario 's'; expected one of: cpus, smt, memory, "
                "memory_high, memory_low, memory_min, swap, pids, cpu_weight, cpu_max, priority, gpus, jobs, solo, setup, "
                "prepare, conclude, cleanup, replicas, matrix, memory_total, allowed_cpus");
        check_error("jobs: {a: {command: x, cpus: {shard: 0-1}}}\n",
                    "t.yaml:1:31: unknown key 'shard' in cpus; did you mean 'shared'?");
        check_error("jobs: {a: {command: x, phases: {p: {begin: x}}}}\n",
                    "t.yaml:1:37: unknown key 'begin' in a phase; expected start and end");
        check_error("jobs: {a: {command: x, metrics: {m: {patern: x}}}}\n",
                    "t.yaml:1:38: unknown key 'patern' in a metric; did you mean 'pattern'?");
        check_error("jobs: {a: {command: x, timestamp: {regexp: x, format: y}}}\n",
                    "t.yaml:1:36: unknown key 'regexp' in timestamp; did you mean 'regex'?");
}

static void test_duplicate_keys(void **state) {
        check_error("jobs:\n  a:\n    command: x\n    memory: 1G\n    memory: 2G\n",
                    "t.yaml:5:5: duplicate key 'memory' (first given at line 4, column 5)");
        check_error("jobs:\n  a: {command: x}\n  b: {command: y}\n  a: {command: z}\n",
                    "t.yaml:4:3: duplicate key 'a' (first given at line 2, column 3)");
        check_error("jobs: {a: {command: x}}\njobs: {b: {command: y}}\n",
                    "t.yaml:2:1: duplicate key 'jobs' (first given at line 1, column 1)");
        /* Several: the earliest repetition. */
        check_error("jobs: {b: {command: x}, a: {command: x}, b: {command: x}, a: {command: x}}\n",
                    "t.yaml:1:42: duplicate key 'b' (first given at line 1, column 8)");
        check_error("jobs: {a: {command: x}}\n[x]: 1\n",
                    "t.yaml:2:1: a key must be a plain string, not a list");
}

static void test_type_errors(void **state) {
        check_error("jobs: {a: {command: x, memory: lots}}\n",
                    "t.yaml:1:32: memory: expected a size like 512M or 4GiB, or max, got 'lots'");
        check_error("jobs: {a: {command: x, memory: [1G]}}\n",
                    "t.yaml:1:32: memory: expected a size like 512M or 4GiB, or max, got a list");
        check_error("jobs: {a: {command: x, memory: }}\n",
                    "t.yaml:1:32: memory: expected a size like 512M or 4GiB, or max, got nothing");
        check_error("jobs: {a: {command: x, memory: 0}}\n", "t.yaml:1:32: memory: expected a size like 512M "
                                                            "or 4GiB, or max, got 0 (which would stop the "
                                                            "job at once)");
        /* Too large is said as such, with the largest size (issue 14 item 8). */
        check_error("jobs: {a: {command: x, memory: 99999999999999999999G}}\n",
                    "t.yaml:1:32: memory: '99999999999999999999G' is too large: the largest size is 16383P "
                    "(just under 2^64 bytes); max for no limit");
        check_error("jobs: {a: {command: x, memory_low: 16384P}}\n",
                    "t.yaml:1:36: memory_low: '16384P' is too large: the largest size is 16383P (just under "
                    "2^64 bytes)");
        check_error("jobs: {a: {command: x, memory_low: max}}\n",
                    "t.yaml:1:36: memory_low: expected a size like 512M or 4GiB, got 'max'");
        check_error("jobs: {a: {command: x, timeout: soon}}\n",
                    "t.yaml:1:33: timeout: expected a duration like 90s, 500ms or 1h30m, or infinity, got "
                    "'soon'");
        check_error(
                "jobs: {a: {command: x, timeout: 0}}\n",
                "t.yaml:1:33: timeout: expected a duration like 90s, 500ms or 1h30m, or infinity, got '0'");
        check_error("jobs: {a: {command: x, grace: infinity}}\n",
                    "t.yaml:1:31: grace: expected a duration like 10s or 500ms, got 'infinity'");
        check_error("jobs: {a: {command: x, cpus: 0}}\n", "t.yaml:1:30: cpus: expected a core count like 4, "
                                                          "a CPU list like \"0-3,8\", {shared: \"0-1\"} "
                                                          "or all, got '0'");
        check_error("jobs: {a: {command: x, cpus: 3-1}}\n",
                    "t.yaml:1:30: cpus: expected a core count like 4, a CPU list like \"0-3,8\", {shared: "
                    "\"0-1\"} "
                    "or all, got '3-1'");
        check_error("jobs: {a: {command: x, cpus: 0-5000}}\n",
                    "t.yaml:1:30: cpus: expected CPU numbers from 0 to 1023, got '0-5000'");
        check_error("jobs: {a: {command: x, cpus: ''}}\n", "t.yaml:1:30: cpus: expected a core count like "
                                                           "4, a CPU list like \"0-3,8\", {shared: \"0-1\"} "
                                                           "or all, got an empty CPU list");
        check_error("jobs: {a: {command: x, smt: both}}\n",
                    "t.yaml:1:29: smt: expected together or separate, got 'both'");
        check_error("jobs: {a: {command: x, pids: 0}}\n",
                    "t.yaml:1:30: pids: expected a process count from 1, or max, got '0'");
        check_error("jobs: {a: {command: x, cpu_weight: 10001}}\n",
                    "t.yaml:1:36: cpu_weight: expected a weight from 1 to 10000, got '10001'");
        check_error(
                "jobs: {a: {command: x, cpu_max: 1.5}}\n",
                "t.yaml:1:33: cpu_max: expected a percentage of one CPU like 150 or \"150%\", got '1.5'");
        check_error("jobs: {a: {command: x, stop_signal: TERMINATE}}\n",
                    "t.yaml:1:37: stop_signal: expected a signal like TERM, SIGINT or 15, got 'TERMINATE'");
        check_error("jobs: {a: {command: x, priority: High}}\n",
                    "t.yaml:1:34: priority: expected high, normal or low, got 'High'");
        check_error("jobs: {a: {command: x, cwd: ''}}\n",
                    "t.yaml:1:29: cwd: expected a directory, got an empty string");
        check_error("jobs: {a: {command: x, env: [A=1]}}\n",
                    "t.yaml:1:29: env: expected a mapping of NAME: value, got a list");
        check_error("jobs: {a: {command: x, env: {A: }}}\n", "t.yaml:1:33: env: expected a string value for "
                                                             "A, got nothing (write \"\" for an empty one)");
        check_error(
                "jobs: {a: {command: x, env: {'A=B': 1}}}\n",
                "t.yaml:1:30: env: 'A=B' is not a valid variable name (it must be non-empty, without '=')");
        check_error("jobs: {a: {command: x}}\nrepeat: 0\n",
                    "t.yaml:2:9: repeat: expected a count from 1 to 100000, got '0'");
        check_error("jobs: {a: {command: x}}\nrepeat: many\n",
                    "t.yaml:2:9: repeat: expected a count from 1 to 100000, got 'many'");
        check_error("jobs: {a: {command: x}}\norder: shuffled\n",
                    "t.yaml:2:8: order: expected interleaved, sequential or random, got 'shuffled'");
        check_error("jobs: {a: {command: x}}\nseed: -1\n",
                    "t.yaml:2:7: seed: expected a non-negative integer, got '-1'");
        check_error(
                "jobs: {a: {command: x}}\nsample_interval: 100us\n",
                "t.yaml:2:18: sample_interval: expected a duration from 1ms like 200ms or 1s, got '100us'");
        check_error("jobs: {a: {command: x}}\nnuma: far\n",
                    "t.yaml:2:7: numa: expected local, spread or interleave, got 'far'");
        check_error("jobs: {a: {command: x}}\nbackend: v3\n",
                    "t.yaml:2:10: backend: expected auto, v2, v1 or none, got 'v3'");
        check_error("jobs: {a: {command: x}}\nslice: bench\n",
                    "t.yaml:2:8: slice: expected a systemd slice name like benchmarks.slice, got 'bench'");
        check_error("jobs: {a: {command: x}}\nslice: a/b.slice\n",
                    "t.yaml:2:8: slice: expected a systemd slice name like benchmarks.slice, got 'a/b.slice'");
        check_error("jobs: {a: {command: x}}\nkeep: maybe\n",
                    "t.yaml:2:7: keep: expected true or false, got 'maybe'");
        check_error("jobs: {a: {command: x}}\nname: a/b\n",
                    "t.yaml:2:7: name: expected a name of letters, digits, '_', '.' and '-', got 'a/b'");
        check_error("jobs: {a: {command: x}}\nreserve: [1]\n",
                    "t.yaml:2:10: reserve: expected a core count from 0, got a list");
        check_error("jobs: [a, b]\n", "t.yaml:1:7: jobs: expected a mapping of job name: job, got a list");
        check_error("jobs: {}\n", "t.yaml:1:7: jobs: is empty; define at least one job");
        check_error("name: x\n",
                    "t.yaml:1:1: the file defines no jobs; add a jobs: mapping (name: {command: ...})");
        check_error("jobs: {a: 'sleep 1'}\n", "t.yaml:1:11: job 'a': expected a mapping of job keys "
                                              "(command:, cpus:, ...), got 'sleep 1'");
        check_error("jobs: {a: {command: x}}\ndefaults: [memory]\n",
                    "t.yaml:2:11: defaults: expected a mapping of job keys, got a list");
        check_error("jobs: {a: {command: x, metrics: {m: {pattern: x, agg: median}}}}\n",
                    "t.yaml:1:55: agg: expected last, max, min, sum, mean or all, got 'median'");
        check_error("jobs: {a: {command: x, metrics: {m: {agg: max}}}}\n",
                    "t.yaml:1:37: metrics: metric 'm' has no pattern:");
        check_error("jobs: {a: {command: x, phases: {p: {start: ''}}}}\n",
                    "t.yaml:1:44: phases: start: expected a regular expression, got an empty string");
        check_error("jobs: {a: {command: x, phases: {p: {}}}}\n",
                    "t.yaml:1:36: phases: expected {start: regex, end: regex} for phase 'p', got an empty "
                    "mapping");
}

static void test_commands(void **state) {
        check_error(
                "jobs: {a: {command: []}}\n",
                "t.yaml:1:21: command: expected a list like [prog, arg] or a shell command string, got an "
                "empty command");
        check_error(
                "jobs: {a: {command: '  '}}\n",
                "t.yaml:1:21: command: expected a list like [prog, arg] or a shell command string, got an "
                "empty command");
        check_error("jobs: {a: {command: ['', x]}}\n",
                    "t.yaml:1:21: command: the program name (the first word) is empty");
        check_error(
                "jobs: {a: {command: [x, ~]}}\n",
                "t.yaml:1:25: command: expected each argument to be a string, got nothing (quote it: \"\")");
        check_error(
                "jobs: {a: {command: [x, [y]]}}\n",
                "t.yaml:1:25: command: expected each argument to be a string, got a list (quote it: \"\")");
        check_error(
                "jobs: {a: {command: {x: y}}}\n",
                "t.yaml:1:21: command: expected a list like [prog, arg] or a shell command string, got a "
                "mapping");
        check_error(
                "jobs:\n  a: {cpus: 1}\n",
                "t.yaml:2:3: job 'a' has no command; add command: [program, args...] or command: 'a shell "
                "line'");
        check_error("jobs:\n  a:\n",
                    "t.yaml:2:3: job 'a' has no command; add command: [program, args...] or "
                    "command: 'a shell line'");
        check_error(
                "jobs: {a: {command: \"a\\0b\"}}\n",
                "t.yaml:1:21: a string holds a NUL character (\\0), which no command, path or pattern can "
                "contain");
        /* A command in defaults: every job runs it unless it has its own. */
        Spec *s = parse_ok("defaults: {command: [run, '${replica}']}\njobs: {a: {}, b: {command: other}}\n");
        assert_string_equal(s->jobs[0].argv[1], "${replica}");
        assert_string_equal(s->jobs[0].command_text, "run '${replica}'");
        assert_string_equal(s->jobs[1].argv[2], "other");
        spec_free(s);
}

static void test_names(void **state) {
        check_error("jobs: {'a b': {command: x}}\n", "t.yaml:1:8: job name 'a b' may only hold letters, "
                                                     "digits, '_', '.' and '-' (at most 100; it "
                                                     "names a cgroup)");
        check_error("jobs: {'a#2': {command: x}}\n", "t.yaml:1:8: job name 'a#2' may only hold letters, "
                                                     "digits, '_', '.' and '-' (at most 100; it "
                                                     "names a cgroup)");
        check_error(
                "jobs: {..: {command: x}}\n",
                "t.yaml:1:8: job name '..' may only hold letters, digits, '_', '.' and '-' (at most 100; it "
                "names a cgroup)");
        check_error(
                "jobs: {a: {command: x}}\nscenarios: {solo: {}}\n",
                "t.yaml:2:13: the scenario name 'solo' is reserved for solo baselines; choose another name");
        check_error(
                "jobs: {a: {command: x}}\nscenarios: {a/b: {}}\n",
                "t.yaml:2:13: scenario name 'a/b' may only hold letters, digits, '_', '.' and '-' (at most "
                "100; it names a cgroup)");
        check_error("jobs: {a: {command: x, metrics: {'m m': x}}}\n",
                    "t.yaml:1:34: metric name 'm m' may only hold letters, digits, '_', '.' and '-' (at "
                    "most 100)");
        check_error("jobs: {a: {command: x, phases: [a, {phase1: b}]}}\n",
                    "t.yaml:1:37: phases: duplicate phase name 'phase1'");
        char yaml[256];
        snprintf(yaml, sizeof yaml, "jobs: {%0101d: {command: x}}\n", 0);
        Spec *s = NULL;
        SpecError e = {0};
        assert_int_equal(spec_parse_yaml("t.yaml", yaml, strlen(yaml), &s, &e), -EINVAL);
        assert_non_null(strstr(e.message, "t.yaml:1:8: job name '000"));
        spec_error_done(&e);
        snprintf(yaml, sizeof yaml, "jobs: {%0100d: {command: x}}\n", 0);
        spec_free(parse_ok(yaml));
}

static void test_scenarios(void **state) {
        check_error("jobs: {sealer: {command: x}, b: {command: y}}\nscenarios: {s: {jobs: [sealr]}}\n",
                    "t.yaml:2:24: scenario 's': unknown job 'sealr'; did you mean 'sealer'?");
        check_error("jobs: {sealer: {command: x}}\nscenarios: {s: {jobs: [other]}}\n",
                    "t.yaml:2:24: scenario 's': unknown job 'other'; the jobs: section defines 1 job(s), "
                    "starting "
                    "with 'sealer'");
        check_error(
                "jobs: {a: {command: x}}\nscenarios: {s: {jobs: [a, a]}}\n",
                "t.yaml:2:27: scenario 's': job 'a' is listed twice; use replicas: to run several copies");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {jobs: []}}\n",
                    "t.yaml:2:23: jobs: the list is empty; name at least one job, or leave jobs: out to run "
                    "them "
                    "all");
        check_error(
                "jobs: {a: {command: x}}\nscenarios: {s: {replicas: 0}}\n",
                "t.yaml:2:27: replicas: expected a copy count from 1 to 1024, or a list of them, got '0'");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {replicas: [1, 1025]}}\n",
                    "t.yaml:2:31: replicas: expected copy counts from 1 to 1024, got '1025'");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {replicas: []}}\n",
                    "t.yaml:2:27: replicas: expected a copy count from 1 to 1024, or a list of them, got a "
                    "list");
        check_error(
                "jobs: {a: {command: x}}\nscenarios: {s: {matrix: {size: []}}}\n",
                "t.yaml:2:32: matrix: expected a non-empty list of values for 'size', got an empty list");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {matrix: {size: 1G}}}\n",
                    "t.yaml:2:32: matrix: expected a non-empty list of values for 'size', got '1G'");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {matrix: {1x: [a]}}}\n",
                    "t.yaml:2:26: matrix: parameter name '1x' must be letters, digits and '_', not starting "
                    "with "
                    "a digit (it is used as ${name})");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {matrix: {x: [a, {b: c}]}}}\n",
                    "t.yaml:2:33: matrix: expected a string or number value for 'x', got a mapping");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {smt: separate}}\n",
                    "t.yaml:2:17: scenario 's': smt: only applies together with cpus: in a scenario (or set "
                    "it on "
                    "the jobs)");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {allowed_cpus: x}}\n",
                    "t.yaml:2:31: allowed_cpus: expected a CPU list like \"0-3,8\", got 'x'");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {memory_total: 1Q}}\n",
                    "t.yaml:2:31: memory_total: expected a size like 512M or 4GiB, or max, got '1Q'");
        check_error("jobs: {a: {command: x}}\nscenarios: [s]\n",
                    "t.yaml:2:12: scenarios: expected a mapping of scenario name: scenario, got a list");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: 3}\n",
                    "t.yaml:2:16: scenario 's': expected a mapping (jobs:, replicas:, ...), got '3'");
        check_error("jobs: {a: {command: x}}\nsolo: sure\n",
                    "t.yaml:2:7: solo: expected true or false, got 'sure'");
}

static void test_bounds(void **state) {
        /* Nesting */
        char deep[256] = "jobs: ";
        for (int i = 0; i < 70; i++)
                strcat(deep, "[");
        check_error(deep, "t.yaml:1:70: lists and mappings nested deeper than 64 levels");

        /* Too many argv elements: 4097 */
        size_t n = 4097;
        char *big = malloc(64 + n * 3);
        strcpy(big, "jobs: {a: {command: [");
        for (size_t i = 0; i < n; i++)
                strcat(big, i ? ",x" : "x");
        strcat(big, "]}}");
        check_error(big, "t.yaml:1:21: command: 4097 entries; at most 4096 are supported");
        free(big);

        /* A string over 64 KiB */
        size_t len = 70000;
        char *s = malloc(len + 64);
        strcpy(s, "jobs: {a: {command: '");
        memset(s + strlen(s), 'x', len);
        strcpy(s + 21 + len, "'}}");
        check_error(s, "t.yaml:1:21: a string of 70000 bytes; at most 65536 are supported");
        free(s);

        /* More than 10000 jobs */
        size_t cap = 10001 * 24 + 16384;
        char *jobs = malloc(cap), *p = jobs;
        p += sprintf(p, "jobs:\n");
        for (int i = 0; i < 10001; i++)
                p += sprintf(p, " j%d: {command: x}\n", i);
        check_error(jobs, "t.yaml:2:2: jobs: 10001 entries; at most 10000 are supported");

        /* defaults: copied into every job: 1003 values x 2000 jobs. */
        p = jobs;
        p += sprintf(p, "defaults:\n  command: x\n  env:\n");
        for (int i = 0; i < 500; i++)
                p += sprintf(p, "    V%d: x\n", i);
        p += sprintf(p, "jobs:\n");
        for (int i = 0; i < 2000; i++)
                p += sprintf(p, " j%d: {}\n", i);
        check_error(jobs,
                    "t.yaml:1:1: defaults: 1005 values copied into 2000 jobs are more than 2000000; make "
                    "defaults: smaller");

        /* 10000 jobs in each of 11 scenarios. */
        p = jobs;
        p += sprintf(p, "defaults: {command: x}\njobs:\n");
        for (int i = 0; i < 10000; i++)
                p += sprintf(p, " j%d:\n", i);
        p += sprintf(p,
                     "scenarios: {s0: {}, s1: {}, s2: {}, s3: {}, s4: {}, s5: {}, s6: {}, s7: {}, s8: {}, "
                     "s9: {}, s10: {}}\n");
        check_error(jobs,
                    "t.yaml:10003:93: the scenarios list more than 100000 jobs in all; split the experiment "
                    "into several files");
        free(jobs);
}

static void test_error_done_null_safe(void **state) {
        SpecError e = {0};
        spec_error_done(NULL);
        spec_error_done(&e);
        assert_null(spec_free(NULL));
        assert_null(spec_find_job(NULL, "a"));
        /* NULL text with length 0 is an empty file, not a crash. */
        Spec *s = NULL;
        assert_int_equal(spec_parse_yaml(NULL, NULL, 0, &s, &e), -EINVAL);
        assert_string_equal(e.message,
                            "<input>:1:1: the file is empty; expected a mapping with a jobs: key");
        spec_error_done(&e);
}

static void test_enums(void **state) {
        for (int i = 0; i < _PRIORITY_MAX; i++)
                assert_int_equal(priority_from_string(priority_to_string(i)), i);
        for (int i = 0; i < _METRIC_AGG_MAX; i++)
                assert_int_equal(metric_agg_from_string(metric_agg_to_string(i)), i);
        for (int i = 0; i < _ORDER_MAX; i++)
                assert_int_equal(run_order_from_string(run_order_to_string(i)), i);
        for (int i = 0; i < _BACKEND_MAX; i++)
                assert_int_equal(backend_kind_from_string(backend_kind_to_string(i)), i);
        for (int i = 0; i < _SMT_MAX; i++)
                assert_int_equal(smt_mode_from_string(smt_mode_to_string(i)), i);
        for (int i = 0; i < _NUMA_MAX; i++)
                assert_int_equal(numa_mode_from_string(numa_mode_to_string(i)), i);
        assert_string_equal(priority_to_string(PRIORITY_HIGH), "high");
        assert_string_equal(metric_agg_to_string(METRIC_MEAN), "mean");
        assert_string_equal(run_order_to_string(ORDER_SEQUENTIAL), "sequential");
        assert_string_equal(backend_kind_to_string(BACKEND_NONE), "none");
        assert_string_equal(cpu_request_kind_to_string(CPUS_SHARED), "shared");
        assert_null(priority_to_string(_PRIORITY_MAX));
        assert_null(priority_to_string(_PRIORITY_INVALID));
        assert_int_equal(priority_from_string("urgent"), _PRIORITY_INVALID);
        assert_int_equal(priority_from_string(NULL), _PRIORITY_INVALID);
        assert_int_equal(backend_kind_from_string("V2"), _BACKEND_INVALID);
}


static void test_priority_and_protector(void **state) {
        /* A scenario's priority overrides its jobs' (like its limits); the protector's
         * knobs are top-level keys with documented defaults. */
        Spec *s = parse_ok("jobs:\n"
                           "  h: {command: x, priority: high}\n"
                           "  l: {command: y, priority: low}\n"
                           "scenarios:\n"
                           "  baseline: {jobs: [h, l], priority: normal}\n"
                           "  protected: {jobs: [h, l]}\n"
                           "protector_threshold: 5%\n"
                           "protector_quantum: 500ms\n"
                           "protector_max_throttle: 90\n"
                           "protector_interval: 50ms\n"
                           "protector: on\n");
        assert_int_equal(s->jobs[0].limits.priority, PRIORITY_HIGH);
        assert_true(s->jobs[0].limits.priority_set);
        assert_int_equal(s->scenarios[0].limits.priority, PRIORITY_NORMAL);
        assert_true(s->scenarios[0].limits.priority_set);
        assert_false(s->scenarios[1].limits.priority_set);
        assert_int_equal(s->protector.mode, PROTECTOR_ON);
        assert_float_equal(s->protector.threshold, 0.05, 1e-9);
        assert_int_equal(s->protector.quantum_usec, 500 * USEC_PER_MSEC);
        assert_float_equal(s->protector.max_share, 0.90, 1e-9);
        assert_int_equal(s->protector.interval_usec, 50 * USEC_PER_MSEC);
        spec_free(s);

        s = parse_ok("jobs: {a: {command: x}}\n");
        assert_int_equal(s->protector.mode, PROTECTOR_AUTO);
        assert_float_equal(s->protector.threshold, 0.10, 1e-9);
        assert_int_equal(s->protector.quantum_usec, 2 * USEC_PER_SEC);
        assert_float_equal(s->protector.max_share, 0.80, 1e-9);
        assert_int_equal(s->protector.interval_usec, 100 * USEC_PER_MSEC);
        spec_free(s);

        check_error("jobs: {a: {command: x}}\nprotector_max_throttle: 100%\n",
                    "t.yaml:2:25: protector_max_throttle: expected a percentage from 1 to 99 like 80%, got '100%'");
        check_error("jobs: {a: {command: x}}\nprotector_quantum: 5ms\n",
                    "t.yaml:2:20: protector_quantum: expected a duration from 10ms to 60s like 2s or 500ms, got '5ms'");
        check_error("jobs: {a: {command: x}}\nprotector: maybe\n",
                    "t.yaml:2:12: protector: expected auto, on or off, got 'maybe'");
        check_error("jobs: {a: {command: x}}\nscenarios: {s: {jobs: [a], priority: urgent}}\n",
                    "t.yaml:2:38: priority: expected high, normal or low, got 'urgent'");
        (void)state;
}

/* gpus: every form, defaults and scenario overrides, and the messages. */
static void test_gpus(void **state) {
        Spec *s = parse_ok("defaults:\n"
                           "  gpus: 1\n"
                           "jobs:\n"
                           "  a: {command: x}\n"
                           "  b: {command: x, gpus: \"0, 2\"}\n"
                           "  c: {command: x, gpus: [GPU-1a2b3c4d-0000, GPU-5e6f7a8b]}\n"
                           "  d: {command: x, gpus: {count: 2, shared: true}}\n"
                           "  e: {command: x, gpus: {devices: \"1\", shared: true}}\n"
                           "  f: {command: x, gpus: any}\n"
                           "  g: {command: x, gpus: 0}\n"
                           "scenarios:\n"
                           "  s: {jobs: [a], gpus: 2}\n");
        const JobSpec *a = spec_find_job(s, "a"), *b = spec_find_job(s, "b"), *c = spec_find_job(s, "c"),
                      *d = spec_find_job(s, "d"), *e = spec_find_job(s, "e"), *f = spec_find_job(s, "f"),
                      *g = spec_find_job(s, "g");
        assert_int_equal(a->limits.gpus.kind, GPUS_COUNT);
        assert_int_equal(a->limits.gpus.count, 1);
        assert_false(a->limits.gpus.shared);
        assert_int_equal(a->limits.gpus.pos.line, 2);
        assert_int_equal(b->limits.gpus.kind, GPUS_LIST);
        assert_string_equal(b->limits.gpus.list, "0,2");
        assert_int_equal(b->limits.gpus.count, 2);
        assert_string_equal(c->limits.gpus.list, "GPU-1a2b3c4d-0000,GPU-5e6f7a8b");
        assert_int_equal(d->limits.gpus.kind, GPUS_COUNT);
        assert_int_equal(d->limits.gpus.count, 2);
        assert_true(d->limits.gpus.shared);
        assert_int_equal(e->limits.gpus.kind, GPUS_LIST);
        assert_string_equal(e->limits.gpus.list, "1");
        assert_true(e->limits.gpus.shared);
        assert_int_equal(f->limits.gpus.kind, GPUS_ANY);
        assert_int_equal(g->limits.gpus.kind, GPUS_NONE);
        assert_int_equal(s->scenarios[0].limits.gpus.count, 2);
        spec_free(s);

        check_error("jobs:\n  a: {command: x, gpus: many}\n",
                    "t.yaml:2:25: gpus: expected a GPU count like 1, NVML indexes like \"0,2\", a list of GPU UUIDs, "
                    "{count: 1, shared: true}, 0 or any, got 'many' (an entry is an NVML index from 0 to 63 or "
                    "a UUID like GPU-1a2b3c4d-...)");
        check_error("jobs:\n  a: {command: x, gpus: 65}\n",
                    "t.yaml:2:25: gpus: expected a GPU count from 0 to 64, got '65'");
        check_error("jobs:\n  a: {command: x, gpus: \"0,0\"}\n", "t.yaml:2:25: gpus: 0 is listed twice");
        check_error("jobs:\n  a: {command: x, gpus: {count: 1, colour: red}}\n",
                    "t.yaml:2:36: unknown key 'colour' in gpus; expected {count: 1, share: 30, memory: 8G}");
        check_error("jobs:\n  a: {command: x, gpus: {shared: true}}\n",
                    "t.yaml:2:25: gpus: expected count: or devices: (one of them), like {count: 1, shared: "
                    "true}");
        check_error("jobs:\n  a: {command: x, gpus: {count: 1, shared: maybe}}\n",
                    "t.yaml:2:44: gpus: shared: expected true or false, got 'maybe'");
}

/* gpus: limits (issue 16): share, memory, mode, via. */
static void test_gpu_limits(void **state) {
        (void)state;
        Spec *s = parse_ok("jobs:\n"
                           "  a: {command: x, gpus: {count: 1, share: 30, memory: 8G}}\n"
                           "  b: {command: x, gpus: {share: \"12.5%\", mode: share}}\n"
                           "  c: {command: x, gpus: {share: 30, shared: false}}\n"
                           "  d: {command: x, gpus: {memory: 1G}}\n"
                           "  e: {command: x, gpus: {devices: \"0\", share: 100, via: mps}}\n");
        const GpuRequest *a = &spec_find_job(s, "a")->limits.gpus, *b = &spec_find_job(s, "b")->limits.gpus,
                         *c = &spec_find_job(s, "c")->limits.gpus, *d = &spec_find_job(s, "d")->limits.gpus,
                         *e = &spec_find_job(s, "e")->limits.gpus;
        assert_int_equal(a->kind, GPUS_COUNT);
        assert_int_equal(a->count, 1);
        assert_int_equal(a->share_ppm, 300000);
        assert_int_equal(a->memory_limit, UINT64_C(8) << 30);
        assert_true(a->shared); /* a share below 100 % shares the GPU */
        assert_int_equal(a->mode, GPU_MODE_CAP);
        assert_int_equal(a->via, GPU_VIA_SHIM);
        assert_int_equal(a->share_pos.line, 2);
        assert_int_equal(a->share_pos.col, 43);
        assert_int_equal(b->kind, GPUS_COUNT); /* a limit alone is one GPU */
        assert_int_equal(b->count, 1);
        assert_int_equal(b->share_ppm, 125000);
        assert_int_equal(b->mode, GPU_MODE_SHARE);
        assert_false(c->shared); /* said so: a capped job on a GPU of its own */
        assert_int_equal(c->share_ppm, 300000);
        assert_int_equal(d->share_ppm, 0);
        assert_int_equal(d->memory_limit, UINT64_C(1) << 30);
        assert_false(d->shared);
        assert_true(gpu_request_limited(d));
        assert_int_equal(e->kind, GPUS_LIST);
        assert_int_equal(e->share_ppm, GPU_SHARE_WHOLE);
        assert_true(e->shared); /* share: 100 is the uncapped tenant beside capped ones */
        assert_int_equal(e->via, GPU_VIA_MPS);
        spec_free(s);

        check_error("jobs:\n  a: {command: x, gpus: {share: 0}}\n",
                    "t.yaml:2:33: share: expected a percentage of one GPU's time above 0 and up to 100 (like 30 or "
                    "\"12.5%\"), got '0'");
        check_error("jobs:\n  a: {command: x, gpus: {share: 101}}\n",
                    "t.yaml:2:33: share: expected a percentage of one GPU's time above 0 and up to 100 (like 30 or "
                    "\"12.5%\"), got '101'");
        check_error("jobs:\n  a: {command: x, gpus: {share: 30, mode: fair}}\n",
                    "t.yaml:2:43: mode: expected cap or share, got 'fair'");
        check_error("jobs:\n  a: {command: x, gpus: {share: 30, via: hami}}\n",
                    "t.yaml:2:42: via: expected shim or mps, got 'hami'");
        check_error("jobs:\n  a: {command: x, gpus: {count: 1, mode: share}}\n",
                    "t.yaml:2:25: gpus: mode: share needs a share, like {share: 30, mode: share}");
        check_error("jobs:\n  a: {command: x, gpus: {memory: 1G, via: mps}}\n",
                    "t.yaml:2:25: gpus: via: mps needs a share, like {share: 30, via: mps}");
        check_error("jobs:\n  a: {command: x, gpus: {count: 9, memory: 1G}}\n",
                    "t.yaml:2:25: gpus: a job with a GPU share or memory limit may have at most 8 GPUs, not 9");
        check_error("jobs:\n  a: {command: x, gpus: {share: 30, mode: share, via: mps}}\n",
                    "t.yaml:2:25: gpus: via: mps cannot lend (MPS's percentage is a fixed part of the SMs): use "
                    "mode: cap with via: mps, or mode: share with the shim");
        check_error("jobs:\n  a: {command: x, gpus: {memory: 0}}\n",
                    "t.yaml:2:34: memory: expected a GPU memory size like 8G, got 0 (which would stop the job at "
                    "once)");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_name_from_file),
                cmocka_unit_test(test_defaults_merge),
                cmocka_unit_test(test_values),
                cmocka_unit_test(test_syntax_errors),
                cmocka_unit_test(test_aliases_rejected),
                cmocka_unit_test(test_unknown_keys),
                cmocka_unit_test(test_duplicate_keys),
                cmocka_unit_test(test_type_errors),
                cmocka_unit_test(test_commands),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_scenarios),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_error_done_null_safe),
                cmocka_unit_test(test_enums),
                cmocka_unit_test(test_priority_and_protector),
                cmocka_unit_test(test_gpus),
                cmocka_unit_test(test_gpu_limits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
