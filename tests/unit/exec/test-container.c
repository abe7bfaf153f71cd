/* SPDX-License-Identifier: MIT */
/* exec/container.c (pure): the engine's command line for a job in an image, the
 * container's name and journal line, the warning for a command that runs `docker run`
 * itself, and the docker check of the runner's groups. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec/container.h"
#include "exec/job-setup.h"
#include "util/fileio.h"
#include "util/macros.h"

/* The index of word w in argv, or -1. */
static int find(char **argv, const char *w) {
        for (int i = 0; argv[i]; i++)
                if (strcmp(argv[i], w) == 0)
                        return i;
        return -1;
}

static ContainerRunInput input(const ContainerSpec *c, ContainerEngineKind engine) {
        static char *cmd[] = {(char *)"sh", (char *)"-c", (char *)"echo hi", NULL};
        static char *env[] = {(char *)"TMPDIR=/tmp", (char *)"OMP_NUM_THREADS=1", NULL};
        return (ContainerRunInput){
                .engine = engine,
                .engine_path = engine == ENGINE_PODMAN ? "/usr/bin/podman" : "/usr/bin/docker",
                .name = "corun-R-000-job",
                .spec = c,
                .argv = cmd,
                .env = env,
                .scratch = "/tmp/corun-R/000-default-rep0-job",
                .cpus = "2-3",
                .mems = "0",
                .memory_max = 64u << 20,
                .swap_max = 0,
                .pids_max = 4096,
                .nofile_soft = 1024,
                .nofile_hard = 4096,
                .nproc_soft = 1u << 22,
                .nproc_hard = 1u << 22,
                .pid_max = 32768,
                .cgroup_parent = "/corun/R/000-default/job",
                .monitor_pidfile = "/tmp/conmon.pid",
        };
}

static void test_podman_argv(void **state) {
        (void)state;
        ContainerVolume vols[] = {{.host = (char *)"data", .container = (char *)"/data", .read_only = true},
                                  {.host = (char *)"/out", .container = (char *)"/out"}};
        char *resolved[] = {(char *)"/home/u/data", NULL};
        char *opts[] = {(char *)"--network=none", NULL};
        ContainerSpec c = {.image = (char *)"localhost/bench:1", .volumes = vols, .n_volumes = 2,
                           .workdir = (char *)"/w", .options = opts, .n_options = 1};
        ContainerRunInput in = input(&c, ENGINE_PODMAN);
        in.host_paths = resolved;
        char **a = NULL;
        assert_int_equal(container_run_argv(&in, &a), 0);
        assert_string_equal(a[0], "/usr/bin/podman");
        assert_string_equal(a[1], "--cgroup-manager=cgroupfs");
        assert_string_equal(a[2], "run");
        /* Inside the job's group: no group of its own, nor --cgroup-parent. */
        assert_true(find(a, "--cgroups=disabled") > 2);
        assert_int_equal(find(a, "--cgroup-parent=/corun/R/000-default/job"), -1);
        assert_true(find(a, "--rm") > 0);
        assert_true(find(a, "--pull=never") > 0);
        assert_true(find(a, "--init") > 0);
        assert_true(find(a, "--name=corun-R-000-job") > 0);
        assert_true(find(a, "--log-driver=passthrough") > 0);
        assert_true(find(a, "--conmon-pidfile=/tmp/conmon.pid") > 0);
        /* The partition, as the engine's flags too. */
        assert_true(find(a, "--cpuset-cpus=2-3") > 0);
        assert_true(find(a, "--cpuset-mems=0") > 0);
        assert_true(find(a, "--memory=67108864") > 0);
        assert_true(find(a, "--memory-swap=67108864") > 0); /* swap 0: memory + 0 */
        assert_true(find(a, "--pids-limit=4096") > 0);
        assert_true(find(a, "--ulimit=nofile=1024:4096") > 0);
        assert_true(find(a, "--ulimit=nproc=32768:32768") > 0); /* capped at pid_max */
        assert_true(find(a, "--volume=/tmp/corun-R/000-default-rep0-job:/tmp") > 0);
        assert_true(find(a, "--volume=/home/u/data:/data:ro") > 0); /* resolved host path */
        assert_true(find(a, "--volume=/out:/out") > 0);                /* as written */
        assert_true(find(a, "--workdir=/w") > 0);
        int e = find(a, "OMP_NUM_THREADS=1");
        assert_true(e > 0);
        assert_string_equal(a[e - 1], "--env");
        /* Options verbatim, then the image, then the command: nothing after the image is
         * the engine's. */
        int img = find(a, "localhost/bench:1");
        assert_true(img > 0);
        assert_int_equal(find(a, "--network=none"), img - 1);
        assert_string_equal(a[img + 1], "sh");
        assert_string_equal(a[img + 2], "-c");
        assert_string_equal(a[img + 3], "echo hi");
        assert_null(a[img + 4]);
        job_setup_strv_free(a);
}

static void test_docker_argv(void **state) {
        (void)state;
        ContainerSpec c = {.image = (char *)"bench"};
        ContainerRunInput in = input(&c, ENGINE_DOCKER);
        in.memory_max = LIMIT_MAX;
        in.pids_max = LIMIT_MAX;
        in.user = "1000";
        in.group = "100";
        char **a = NULL;
        assert_int_equal(container_run_argv(&in, &a), 0);
        assert_string_equal(a[0], "/usr/bin/docker");
        assert_string_equal(a[1], "run");
        assert_true(find(a, "--cgroup-parent=/corun/R/000-default/job") > 0);
        assert_int_equal(find(a, "--cgroups=disabled"), -1);
        assert_int_equal(find(a, "--log-driver=passthrough"), -1);
        assert_int_equal(find(a, "--conmon-pidfile=/tmp/conmon.pid"), -1);
        assert_int_equal(find(a, "--memory=67108864"), -1); /* no limit: no flag */
        assert_true(find(a, "--pids-limit=-1") > 0);
        assert_true(find(a, "--user=1000:100") > 0);
        job_setup_strv_free(a);

        /* Unlimited swap under a memory limit: the engines' -1. */
        in.memory_max = 1u << 30;
        in.swap_max = LIMIT_MAX;
        assert_int_equal(container_run_argv(&in, &a), 0);
        assert_true(find(a, "--memory-swap=-1") > 0);
        job_setup_strv_free(a);

        in.engine = ENGINE_AUTO; /* resolved before the run: never here */
        assert_int_equal(container_run_argv(&in, &a), -EINVAL);
}

static void test_name_and_journal(void **state) {
        (void)state;
        char *n = NULL, *entry = NULL, *path = NULL, *name = NULL;
        ContainerEngineKind k;
        assert_int_equal(container_name("20261204T045440Z-31051", 7, "my job+1", &n), 0);
        assert_string_equal(n, "corun-20261204T045440Z-31051-007-my_job_1");
        assert_true(container_name_of_run(n, "20261204T045440Z-31051"));
        assert_false(container_name_of_run(n, "20261204T045440Z-3105"));
        assert_false(container_name_of_run("corun-20261204T045440Z-31051-", "20261204T045440Z-31051"));
        assert_false(container_name_of_run("other-20261204T045440Z-31051-x", "20261204T045440Z-31051"));
        assert_int_equal(container_name("", 0, "j", &entry), -EINVAL);

        assert_int_equal(container_journal_entry("/usr/bin/podman", n, &entry), 0);
        assert_true(container_journal_entry_parse(entry, "20261204T045440Z-31051", &k, &path, &name));
        assert_int_equal(k, ENGINE_PODMAN);
        assert_string_equal(path, "/usr/bin/podman");
        assert_string_equal(name, n);
        free(path);
        free(name);
        /* Another run's container, a relative engine, any other program: never removed. */
        assert_false(container_journal_entry_parse(entry, "20261204T000000Z-1", &k, &path, &name));
        assert_false(container_journal_entry_parse("usr/bin/podman corun-R-000-j", "R", &k, &path, &name));
        assert_false(container_journal_entry_parse("/bin/rm corun-R-000-j", "R", &k, &path, &name));
        assert_false(container_journal_entry_parse("/x/../usr/bin/docker corun-R-000-j", "R", &k, &path, &name));
        assert_false(container_journal_entry_parse("/usr/bin/docker corun-R-000-j extra", "R", &k, &path, &name));
        assert_true(container_journal_entry_parse("/usr/bin/docker corun-R-000-j", "R", &k, &path, &name));
        assert_int_equal(k, ENGINE_DOCKER);
        free(path);
        free(name);
        assert_int_equal(container_journal_entry("podman", n, &path), -EINVAL);
        free(entry);
        free(n);

        char **rm = NULL;
        assert_int_equal(container_rm_argv(ENGINE_PODMAN, "/usr/bin/podman", "corun-R-000-j", &rm), 0);
        assert_string_equal(rm[2], "rm");
        assert_true(find(rm, "--force") > 0 && find(rm, "--time=0") > 0 && find(rm, "--ignore") > 0);
        assert_string_equal(rm[find(rm, "--ignore") + 1], "corun-R-000-j");
        job_setup_strv_free(rm);
}

static bool runs_engine(const char *const *argv, const char **engine) {
        JobSpec j = {.argv = (char **)argv};
        *engine = NULL;
        return container_command_runs_engine(&j, engine);
}

static void test_command_runs_engine(void **state) {
        (void)state;
        const char *e = NULL;
        const char *sh1[] = {"/bin/sh", "-c", "docker run --rm img python bench.py", NULL};
        assert_true(runs_engine(sh1, &e));
        assert_string_equal(e, "docker");
        const char *sh2[] = {"/bin/sh", "-c", "FOO=1 sudo /usr/bin/podman container run img", NULL};
        assert_true(runs_engine(sh2, &e));
        assert_string_equal(e, "podman");
        const char *words[] = {"env", "podman", "run", "img", NULL};
        assert_true(runs_engine(words, &e));
        assert_string_equal(e, "podman");
        const char *no1[] = {"/bin/sh", "-c", "docker ps; echo run", NULL};
        assert_false(runs_engine(no1, &e));
        const char *no2[] = {"podman", "images", NULL};
        assert_false(runs_engine(no2, &e));
        const char *no3[] = {"/bin/sh", "-c", "echo docker run", NULL};
        assert_false(runs_engine(no3, &e));
        const char *no4[] = {"./run-docker.sh", "run", NULL};
        assert_false(runs_engine(no4, &e));
}

static void test_cgroup_prefix(void **state) {
        (void)state;
        char *p = NULL, *why = NULL;
        /* The same group everywhere corun makes groups: docker's --cgroup-parent finds it. */
        assert_int_equal(container_cgroup_prefix("12:pids:/svc\n11:memory:/svc\n5:cpu,cpuacct:/svc\n"
                                                 "3:cpuset:/svc\n2:devices:/elsewhere\n0::/svc\n",
                                                 &p, &why),
                         0);
        assert_string_equal(p, "/svc");
        free(p);
        assert_int_equal(container_cgroup_prefix("4:memory:/\n0::/\n", &p, &why), 0);
        assert_string_equal(p, "");
        free(p);
        /* This host's layout: memory elsewhere. */
        assert_int_equal(container_cgroup_prefix("11:memory:/process_api/x\n3:cpuset:/\n0::/\n", &p, &why),
                         -EXDEV);
        assert_non_null(why);
        assert_non_null(strstr(why, "memory group is /process_api/x"));
        free(why);
        assert_int_equal(container_cgroup_prefix("2:devices:/x\n", &p, NULL), -ENOENT);
}

/* A v1 hybrid host whose cgroup2 mount holds controllers: crun refuses every container;
 * the message names them and the commands that give each a v1 hierarchy. A pure v2 host,
 * and a hybrid one with an empty cgroup2, need nothing. */
static void put(const char *dir, const char *rel, const char *text) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, rel);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0 && write_all(fd, text, strlen(text)) >= 0);
}

static void test_hybrid_fix(void **state) {
        char dir[] = "/tmp/corun-hybrid.XXXXXX", sub[600];
        char *fix = NULL;
        assert_non_null(mkdtemp(dir));
        snprintf(sub, sizeof sub, "%s/unified", dir);
        assert_int_equal(mkdir(sub, 0755), 0);
        /* no controllers on cgroup2: fine */
        put(dir, "unified/cgroup.controllers", "\n");
        assert_int_equal(container_hybrid_fix(dir, &fix), 0);
        assert_null(fix);
        put(dir, "unified/cgroup.controllers", "hugetlb\n");
        assert_int_equal(container_hybrid_fix(dir, &fix), 0);
        assert_non_null(fix);
        char want[2048];
        snprintf(want, sizeof want,
                 "crun (podman's runtime) refuses every container on this host: the cgroup2 mount beside the v1 "
                 "hierarchies (%s/unified) holds the hugetlb controller ('cgroups in hybrid mode not supported'); "
                 "give it a v1 hierarchy of its own, as root: mkdir -p %s/hugetlb && mount -t cgroup -o hugetlb "
                 "cgroup %s/hugetlb (where %s is read-only, as systemd leaves it, first: mount -o remount,rw %s)",
                 dir, dir, dir, dir, dir);
        assert_string_equal(fix, want);
        free(fix);
        put(dir, "unified/cgroup.controllers", "hugetlb misc\n");
        assert_int_equal(container_hybrid_fix(dir, &fix), 0);
        assert_non_null(strstr(fix, "holds the hugetlb misc controllers"));
        assert_non_null(strstr(fix, "give each a v1 hierarchy of their own"));
        assert_non_null(strstr(fix, " && mkdir -p "));
        assert_non_null(strstr(fix, "-o misc cgroup"));
        free(fix);
        /* a pure cgroup2 host: its root has cgroup.controllers */
        put(dir, "cgroup.controllers", "cpu memory\n");
        assert_int_equal(container_hybrid_fix(dir, &fix), 0);
        assert_null(fix);
        assert_int_equal(rm_rf(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_podman_argv),
                cmocka_unit_test(test_docker_argv),
                cmocka_unit_test(test_name_and_journal),
                cmocka_unit_test(test_command_runs_engine),
                cmocka_unit_test(test_cgroup_prefix),
                cmocka_unit_test(test_hybrid_fix),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
