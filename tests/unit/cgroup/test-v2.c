/* SPDX-License-Identifier: MIT */
/* The v2 backend's choice on synthetic cgroup2 trees in a temp dir (fs_root): a group
 * of its own, a group shared with another process, no memory controller, the root;
 * the controller list parser; cg_probe creates nothing; a job group's statistics (the
 * peak with and without memory.peak, memory.events.local). The real thing (moving into
 * the leaf, limits, events, the old-kernel paths) runs in the VM: tests/vm/v2.sh,
 * tests/vm/old-kernel.sh. No root needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"

typedef struct T {
        char root[64];   /* fs_root */
        char group[256]; /* the runner's group below it */
} T;

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p) < 0 ? -1 : 0;
}

static void put(const char *dir, const char *name, const char *text) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void mkdirs(const char *path) {
        char p[512];
        snprintf(p, sizeof p, "%s", path);
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        (void)mkdir(p, 0755);
                        *s = '/';
                }
        assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

/* A cgroup2 host with the runner in `own` ("" for the root), whose group lists
 * `controllers` and holds the runner plus `others` (pid lines). */
static void make_tree(T *t, const char *own, const char *controllers, const char *others) {
        char p[512], procs[256];
        snprintf(p, sizeof p, "%s/proc/self", t->root);
        mkdirs(p);
        snprintf(procs, sizeof procs, "0::%s\n", *own ? own : "/");
        put(p, "cgroup", procs);
        put(p, "mountinfo",
            "30 24 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n");
        snprintf(t->group, sizeof t->group, "%s/sys/fs/cgroup%s", t->root, own);
        mkdirs(t->group);
        put(t->group, "cgroup.controllers", controllers);
        put(t->group, "cgroup.subtree_control", "");
        snprintf(procs, sizeof procs, "%d\n%s", (int)getpid(), others);
        put(t->group, "cgroup.procs", procs);
        if (*own)
                put(t->group, "cgroup.type", "domain\n");
}

static int setup(void **state) {
        T *t = calloc(1, sizeof *t);
        snprintf(t->root, sizeof t->root, "/tmp/corun-test-v2-XXXXXX");
        assert_non_null(mkdtemp(t->root));
        *state = t;
        return 0;
}

static int teardown(void **state) {
        T *t = *state;
        nftw(t->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(t);
        return 0;
}

static CgroupManager *choose(T *t, BackendKind b, int want_r, char **why) {
        CgroupManagerOptions o = {.backend = b, .fs_root = t->root, .run_id = "r1"};
        CgroupManager *m = NULL;
        *why = NULL;
        assert_int_equal(cg_manager_choose(&o, &m, why), want_r);
        /* A reason whenever cgroups are not used; none needed when v2 is. */
        if (!m || cg_manager_backend(m) != BACKEND_V2)
                assert_non_null(*why);
        return m;
}

static void test_controller_lists(void **state) {
        T *t = *state;
        make_tree(t, "/a", "cpuset cpu io memory hugetlb pids rdma misc\n", "");
        assert_int_equal(cg_v2_controllers_in(t->group, "cgroup.controllers"), CG_V2_WANTED);
        assert_int_equal(cg_v2_controllers_in(t->group, "cgroup.subtree_control"), 0);
        assert_int_equal(cg_v2_controllers_in(t->group, "no-such-file"), 0);
        put(t->group, "cgroup.controllers", "pids memory\n");
        unsigned m = cg_v2_controllers_in(t->group, "cgroup.controllers");
        assert_int_equal(m, CG_V2_MEMORY_BIT | (1u << 4));
        char *s = cg_v2_mask_to_string(m);
        assert_string_equal(s, "memory pids");
        free(s);
        s = cg_v2_mask_to_string(0);
        assert_string_equal(s, "");
        free(s);
        assert_string_equal(cg_v2_controller_name(0), "cpuset");
        assert_null(cg_v2_controller_name(CG_V2_N));
}

static void test_own_group(void **state) {
        T *t = *state;
        char *why;
        make_tree(t, "/system.slice/run-r1.scope", "cpuset cpu io memory pids\n", "");
        assert_false(cg_v2_is_root(t->group));
        assert_int_equal(cg_v2_other_procs(t->group, NULL), 0);
        CgroupManager *m = choose(t, BACKEND_AUTO, 0, &why);
        assert_int_equal(cg_manager_backend(m), BACKEND_V2);
        free(why);
        cg_manager_free(m);

        CgProbe p;
        assert_int_equal(cg_probe(t->root, &p), 0);
        assert_int_equal(p.mounted, BACKEND_V2);
        assert_int_equal(p.backend, BACKEND_V2);
        assert_string_equal(p.available, "cpuset cpu io memory pids");
        assert_string_equal(p.missing, "");
        assert_true(p.writable);
        assert_false(p.at_root);
        assert_int_equal(p.other_procs, 0);
        assert_true(p.unified);
        /* No group to look at and no .peak file in the fake one: absent. */
        assert_int_equal(p.memory_peak, 0);
        assert_non_null(strstr(p.own, "/sys/fs/cgroup/system.slice/run-r1.scope"));
        cg_probe_done(&p);
        /* Read-only: choosing and probing made no corun/ group. */
        char corun[512];
        snprintf(corun, sizeof corun, "%s/corun", t->group);
        assert_int_equal(access(corun, F_OK), -1);
}

static void test_shared_group(void **state) {
        T *t = *state;
        char *why;
        pid_t first = 0;
        make_tree(t, "/user.slice/session-3.scope", "cpuset cpu io memory pids\n", "1\n4242\n");
        assert_int_equal(cg_v2_other_procs(t->group, &first), 2);
        assert_int_equal(first, 1);

        /* auto: none, with the reason and what to run instead. */
        CgroupManager *m = choose(t, BACKEND_AUTO, 0, &why);
        assert_int_equal(cg_manager_backend(m), BACKEND_NONE);
        assert_non_null(strstr(why, "2 other process(es)"));
        assert_non_null(strstr(why, "--scope -p Delegate=yes")); /* systemd-run [--user] */
        assert_non_null(strstr(why, "NOT ENFORCED"));
        free(why);
        cg_manager_free(m);
        /* Asked for v2: refused, with the same reason. */
        assert_null(choose(t, BACKEND_V2, -EBUSY, &why));
        assert_non_null(strstr(why, "no processes"));
        free(why);

        CgProbe p;
        assert_int_equal(cg_probe(t->root, &p), 0);
        assert_int_equal(p.backend, BACKEND_NONE);
        assert_int_equal(p.other_procs, 2);
        assert_non_null(strstr(p.why, "other process"));
        cg_probe_done(&p);
}

static void test_no_memory_controller(void **state) {
        T *t = *state;
        char *why;
        make_tree(t, "/a", "cpu pids\n", "");
        CgroupManager *m = choose(t, BACKEND_AUTO, 0, &why);
        assert_int_equal(cg_manager_backend(m), BACKEND_NONE);
        assert_non_null(strstr(why, "memory controller is not available"));
        assert_non_null(strstr(why, "it has: cpu pids"));
        free(why);
        cg_manager_free(m);
        assert_null(choose(t, BACKEND_V2, -EOPNOTSUPP, &why));
        free(why);

        CgProbe p;
        assert_int_equal(cg_probe(t->root, &p), 0);
        assert_string_equal(p.available, "cpu pids");
        assert_string_equal(p.missing, "cpuset io memory");
        cg_probe_done(&p);
}

static void test_root(void **state) {
        T *t = *state;
        char *why;
        /* At the root other processes do not matter: no-internal-processes does not
         * apply there. */
        make_tree(t, "", "cpuset cpu io memory pids\n", "1\n2\n");
        assert_true(cg_v2_is_root(t->group));
        CgroupManager *m = choose(t, BACKEND_AUTO, 0, &why);
        assert_int_equal(cg_manager_backend(m), BACKEND_V2);
        free(why);
        cg_manager_free(m);
        CgProbe p;
        assert_int_equal(cg_probe(t->root, &p), 0);
        assert_true(p.at_root);
        assert_int_equal(p.other_procs, 0);
        cg_probe_done(&p);
}

/* A v2 job group as the backend sees it after setup: the manager and group are built by
 * hand (setup_run needs a kernel), the group is a plain directory in the temp tree. */
typedef struct FakeJob {
        CgroupManager m;
        Cgroup g;
        char dir[512];
} FakeJob;

static void fake_job(T *t, FakeJob *f, bool has_peak) {
        *f = (FakeJob){0};
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                f->m.d.by_ctrl[c] = -1;
        f->m.ops = &cg_v2_ops;
        f->m.d.n = 1;
        f->m.d.by_ctrl[CG_UNIFIED] = 0;
        f->m.d.h[0] = (CgHierarchy){.controllers = 1u << CG_UNIFIED, .cgroup2 = true};
        f->m.v2_has_peak = has_peak;
        snprintf(f->dir, sizeof f->dir, "%s/sys/fs/cgroup/corun/r1/s/j", t->root);
        mkdirs(f->dir);
        f->m.run_path[0] = f->dir; /* only tested for NULL by cg_hier */
        f->g = (Cgroup){.m = &f->m, .rel = "s/j", .unified_fd = -1};
        f->g.path[0] = f->dir;
}

static uint64_t read_peak(FakeJob *f, const char *current) {
        CgStats st = {0};
        put(f->dir, "memory.current", current);
        assert_int_equal(cg_v2_ops.read_stats(&f->g, &st), 0);
        return st.memory_peak;
}

/* Before 5.19 (no memory.peak) the peak is the highest memory.current read, never less
 * than an earlier read, and a memory.peak file is not consulted. */
static void test_peak_sampled(void **state) {
        T *t = *state;
        FakeJob f;
        fake_job(t, &f, false);
        put(f.dir, "memory.peak", "999999\n"); /* ignored: the backend found none */
        assert_int_equal(read_peak(&f, "1000\n"), 1000);
        assert_int_equal(read_peak(&f, "5000\n"), 5000);
        assert_int_equal(read_peak(&f, "2000\n"), 5000);
        assert_int_equal(f.g.peak_sampled, 5000);
        /* An unreadable memory.current keeps what was seen. */
        char p[600];
        snprintf(p, sizeof p, "%s/memory.current", f.dir);
        assert_int_equal(unlink(p), 0);
        CgStats st = {0};
        assert_int_equal(cg_v2_ops.read_stats(&f.g, &st), 0);
        assert_int_equal(st.memory_peak, 5000);
}

/* With memory.peak the kernel's figure is the peak; a group where it cannot be read
 * (vanished, empty) falls back to the samples rather than reporting 0. */
static void test_peak_kernel(void **state) {
        T *t = *state;
        FakeJob f;
        fake_job(t, &f, true);
        put(f.dir, "memory.peak", "9000\n");
        assert_int_equal(read_peak(&f, "3000\n"), 9000);
        put(f.dir, "memory.peak", "");
        assert_int_equal(read_peak(&f, "4000\n"), 4000);
}

/* The job's own events (memory.events.local, 5.2+) when the kernel has them, else the
 * subtree's memory.events. */
static void test_events_local(void **state) {
        T *t = *state;
        FakeJob f;
        CgStats st = {0};
        fake_job(t, &f, true);
        put(f.dir, "memory.events", "low 0\nhigh 7\nmax 2\noom 1\noom_kill 1\n");
        put(f.dir, "memory.events.local", "low 0\nhigh 3\nmax 0\noom 0\noom_kill 0\n");
        assert_int_equal(cg_v2_ops.read_stats(&f.g, &st), 0);
        assert_int_equal(st.events_high, 3);
        assert_int_equal(st.events_oom_kill, 0);
        char p[600];
        snprintf(p, sizeof p, "%s/memory.events.local", f.dir);
        assert_int_equal(unlink(p), 0);
        st = (CgStats){0};
        assert_int_equal(cg_v2_ops.read_stats(&f.g, &st), 0);
        assert_int_equal(st.events_high, 7);
        assert_int_equal(st.events_max, 2);
        assert_int_equal(st.events_oom_kill, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_controller_lists, setup, teardown),
                cmocka_unit_test_setup_teardown(test_own_group, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shared_group, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_memory_controller, setup, teardown),
                cmocka_unit_test_setup_teardown(test_root, setup, teardown),
                cmocka_unit_test_setup_teardown(test_peak_sampled, setup, teardown),
                cmocka_unit_test_setup_teardown(test_peak_kernel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_events_local, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
