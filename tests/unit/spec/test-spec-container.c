/* SPDX-License-Identifier: MIT */
/* Jobs in images in the spec: image:, pull:, container: {engine, volumes, workdir,
 * options} per job and in defaults:, the quick-mode flags, and the messages for bad
 * input (file:line:col or the flag). Whether the engine, image and volume paths exist
 * is checked before the run (exec/container-engine.c, tests/integration/container). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"

/* Parses yaml; want_error NULL: it must parse (the spec is returned), else it must fail
 * with exactly that message (NULL is returned). */
static Spec *yaml_parse(const char *yaml, const char *want_error) {
        Spec *s = NULL;
        SpecError e = {0};
        int r = spec_parse_yaml("t.yaml", yaml, strlen(yaml), &s, &e);
        if (!want_error && r < 0)
                fail_msg("spec_parse_yaml: %d %s", r, e.message ?: "(no message)");
        if (want_error && r >= 0)
                fail_msg("parsed, expected: %s", want_error);
        if (want_error) {
                assert_int_equal(r, -EINVAL);
                assert_string_equal(e.message ?: "(no message)", want_error);
        }
        spec_error_done(&e);
        return s;
}
#define yaml_ok(y) yaml_parse((y), NULL)
#define yaml_err(y, msg) assert_null(yaml_parse((y), (msg)))

static Spec *cli(int argc, char **argv, SpecError *e) {
        Spec *s = NULL;
        SpecCliInput in = {.argc = argc, .argv = argv};
        (void)spec_from_cli(&in, &s, e);
        return s;
}

static const JobSpec *job(const Spec *s, const char *name) {
        for (size_t i = 0; i < s->n_jobs; i++)
                if (strcmp(s->jobs[i].name, name) == 0)
                        return &s->jobs[i];
        fail_msg("no job %s", name);
        return NULL;
}

static void test_yaml(void **state) {
        (void)state;
        Spec *s = yaml_ok("defaults:\n"
                          "  image: localhost/bench:1\n"
                          "  container: {engine: podman, volumes: [/data:/data:ro], workdir: /w}\n"
                          "jobs:\n"
                          "  a:\n"
                          "    command: [python3, bench.py]\n"
                          "  b:\n"
                          "    command: [true]\n"
                          "    image: other:2\n"
                          "    pull: true\n"
                          "    container:\n"
                          "      engine: docker\n"
                          "      volumes: [/in:/in, '/out:/out:rw']\n"
                          "      options: [--network=none]\n");
        const JobSpec *a = job(s, "a"), *b = job(s, "b");
        assert_string_equal(a->container.image, "localhost/bench:1");
        assert_int_equal(a->container.engine, ENGINE_PODMAN);
        assert_false(a->container.pull);
        assert_int_equal(a->container.n_volumes, 1);
        assert_string_equal(a->container.volumes[0].host, "/data");
        assert_string_equal(a->container.volumes[0].container, "/data");
        assert_true(a->container.volumes[0].read_only);
        assert_string_equal(a->container.workdir, "/w");
        assert_string_equal(b->container.image, "other:2");
        assert_true(b->container.pull);
        assert_int_equal(b->container.engine, ENGINE_DOCKER);
        /* A job's volumes replace those of defaults:. */
        assert_int_equal(b->container.n_volumes, 2);
        assert_string_equal(b->container.volumes[1].container, "/out");
        assert_false(b->container.volumes[1].read_only);
        assert_int_equal(b->container.n_options, 1);
        assert_string_equal(b->container.options[0], "--network=none");
        assert_int_equal(b->container.image_pos.line, 9);
        spec_free(s);

        s = yaml_ok("jobs:\n  plain:\n    command: [true]\n");
        assert_null(s->jobs[0].container.image);
        assert_int_equal(s->jobs[0].container.engine, ENGINE_AUTO);
        spec_free(s);
}

static void test_yaml_errors(void **state) {
        (void)state;
        yaml_err("jobs:\n  a:\n    command: [true]\n    image: x\n    container: {engine: podmn}\n",
                 "t.yaml:5:25: engine: unknown engine 'podmn'; expected podman or docker (did you mean "
                 "'podman'?)");
        yaml_err("jobs:\n  a:\n    command: [true]\n    image: '-x'\n",
                 "t.yaml:4:12: image: expected a container image name like localhost/bench:1, got '-x'");
        yaml_err("jobs:\n  a:\n    command: [true]\n    container: {workdir: /w}\n",
                 "t.yaml:4:16: job 'a': container: applies to a job in an image; add image: NAME");
        yaml_err("jobs:\n  a:\n    command: [true]\n    image: x\n    container: {volumes: [data]}\n",
                 "t.yaml:5:27: volumes: 'data' has no ':'; expected HOST:CONTAINER or HOST:CONTAINER:ro "
                 "with an absolute CONTAINER path");
        yaml_err("jobs:\n  a:\n    command: [true]\n    image: x\n    container: {volumes: ['/d:rel']}\n",
                 "t.yaml:5:27: volumes: '/d:rel' has no absolute container path; expected HOST:CONTAINER or "
                 "HOST:CONTAINER:ro with an absolute CONTAINER path");
        yaml_err("jobs:\n  a:\n    command: [true]\n    image: x\n    container: {workdir: w}\n",
                 "t.yaml:5:26: workdir: expected an absolute path inside the container, got 'w'");
        yaml_err("jobs:\n  a:\n    command: [true]\n    image: x\n    container: {engni: podman}\n",
                 "t.yaml:5:17: unknown key 'engni' in container; did you mean 'engine'?");
        yaml_err("jobs:\n  a:\n    command: [true]\n    image: x\n    pull: maybe\n",
                 "t.yaml:5:11: pull: expected true or false, got 'maybe'");
}

static void test_cli(void **state) {
        (void)state;
        SpecError e = {0};
        char *ok[] = {"run", "--image", "localhost/t:1", "--engine", "podman", "--volume", "/d:/d:ro", "--pull",
                      "echo hi", NULL};
        Spec *s = cli(9, ok, &e);
        assert_null(e.message);
        assert_non_null(s);
        const ContainerSpec *c = &s->jobs[0].container;
        assert_string_equal(c->image, "localhost/t:1");
        assert_int_equal(c->engine, ENGINE_PODMAN);
        assert_true(c->pull);
        assert_int_equal(c->n_volumes, 1);
        assert_true(c->volumes[0].read_only);
        spec_free(s);

        char *bad_engine[] = {"run", "--image", "x", "--engine", "foo", "true", NULL};
        assert_null(cli(6, bad_engine, &e));
        assert_string_equal(e.message, "--engine: unknown engine 'foo'; expected podman or docker");
        spec_error_done(&e);
        char *no_image[] = {"run", "--engine", "podman", "true", NULL};
        assert_null(cli(4, no_image, &e));
        assert_string_equal(e.message,
                            "--engine: job 'true': this flag applies to a job in an image; add --image NAME");
        spec_error_done(&e);
        char *bad_volume[] = {"run", "--image", "x", "--volume", "/tmp", "true", NULL};
        assert_null(cli(6, bad_volume, &e));
        assert_string_equal(e.message, "--volume: '/tmp' has no ':'; expected HOST:CONTAINER or "
                                       "HOST:CONTAINER:ro with an absolute CONTAINER path");
        spec_error_done(&e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_yaml),
                cmocka_unit_test(test_yaml_errors),
                cmocka_unit_test(test_cli),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
