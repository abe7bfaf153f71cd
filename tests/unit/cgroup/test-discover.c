/* SPDX-License-Identifier: MIT */
/* Discovery of hierarchies from captured /proc/self/{cgroup,mountinfo} trees, backend
 * choice on those trees, and the pure v1 rules (memsw write order, weight <-> shares). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"

static char fixtures[PATH_MAX - 64];

static const char *fixture(const char *name) {
        static char buf[PATH_MAX];
        snprintf(buf, sizeof buf, "%s/%s", fixtures, name);
        return buf;
}

static const CgHierarchy *hier(const CgDiscovery *d, CgController c) {
        int i = d->by_ctrl[c];
        return i >= 0 ? &d->h[i] : NULL;
}

static void test_v1_hybrid_captured(void **state) {
        CgDiscovery d;
        _cleanup_free_ char *why = NULL;
        assert_int_equal(cg_discover(fixture("v1-hybrid"), &d, &why), 0);
        assert_int_equal(d.kind, BACKEND_V1);
        /* cpuset cpu cpuacct memory pids freezer + unified; devices, blkio, name=systemd not. */
        assert_int_equal(d.n, 7);
        const CgHierarchy *m = hier(&d, CG_MEMORY);
        assert_non_null(m);
        assert_string_equal(m->mount, "/sys/fs/cgroup/memory");
        assert_string_equal(m->own, "/process_api/c069e0c50cf43b17a57e75e8f567ae58");
        assert_false(m->cgroup2);
        assert_string_equal(hier(&d, CG_CPUSET)->own, "");
        assert_string_equal(hier(&d, CG_CPU)->mount, "/sys/fs/cgroup/cpu");
        assert_string_equal(hier(&d, CG_CPUACCT)->mount, "/sys/fs/cgroup/cpuacct");
        assert_ptr_not_equal(hier(&d, CG_CPU), hier(&d, CG_CPUACCT));
        assert_string_equal(hier(&d, CG_PIDS)->mount, "/sys/fs/cgroup/pids");
        assert_string_equal(hier(&d, CG_FREEZER)->mount, "/sys/fs/cgroup/freezer");
        const CgHierarchy *u = hier(&d, CG_UNIFIED);
        assert_non_null(u);
        assert_true(u->cgroup2);
        assert_string_equal(u->mount, "/sys/fs/cgroup/unified");
        assert_string_equal(u->own, "");
        cg_discovery_done(&d);
}

static void test_v2_only(void **state) {
        CgDiscovery d;
        assert_int_equal(cg_discover(fixture("v2"), &d, NULL), 0);
        assert_int_equal(d.kind, BACKEND_V2);
        assert_int_equal(d.n, 1);
        assert_int_equal(d.by_ctrl[CG_MEMORY], -1);
        const CgHierarchy *u = hier(&d, CG_UNIFIED);
        assert_string_equal(u->mount, "/sys/fs/cgroup");
        assert_string_equal(u->own, "/user.slice/user-1000.slice/session-3.scope");
        cg_discovery_done(&d);
}

static void test_v1_comounted_container(void **state) {
        CgDiscovery d;
        assert_int_equal(cg_discover(fixture("v1-comount"), &d, NULL), 0);
        assert_int_equal(d.kind, BACKEND_V1);
        /* cpu,cpuacct are one hierarchy: one directory serves both. */
        assert_int_equal(d.by_ctrl[CG_CPU], d.by_ctrl[CG_CPUACCT]);
        const CgHierarchy *c = hier(&d, CG_CPU);
        assert_string_equal(c->mount, "/sys/fs/cgroup/cpu,cpuacct");
        assert_int_equal(c->controllers, (1u << CG_CPU) | (1u << CG_CPUACCT));
        assert_string_equal(c->own, "/system.slice/bench.service");
        /* A bind mount of /docker/abc123 with an escaped space in its mount point: the
         * runner's group is relative to the mount's root. */
        const CgHierarchy *m = hier(&d, CG_MEMORY);
        assert_string_equal(m->mount, "/sys/fs/cgroup/mem ory");
        assert_string_equal(m->own, "/bench");
        assert_string_equal(hier(&d, CG_CPUSET)->own, "");
        assert_string_equal(hier(&d, CG_UNIFIED)->own, "/system.slice/bench.service");
        assert_int_equal(d.n, 6); /* cpuset, cpu+cpuacct, memory, freezer, pids, unified */
        cg_discovery_done(&d);
}

static void test_parse_rejects_garbage(void **state) {
        CgDiscovery d;
        assert_int_equal(cg_discovery_parse("no colons here\n", "", &d), -EBADMSG);
        assert_int_equal(cg_discovery_parse("4:memory:relative\n", "", &d), -EBADMSG);
        /* A controller that is not mounted (or not visible) is simply absent. */
        assert_int_equal(cg_discovery_parse("4:memory:/a\n", "", &d), 0);
        assert_int_equal(d.n, 0);
        assert_int_equal(d.by_ctrl[CG_MEMORY], -1);
        /* A group outside the bind-mounted subtree cannot be reached through it. */
        assert_int_equal(cg_discovery_parse(
                                 "4:memory:/other\n",
                                 "1 0 0:1 /docker /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", &d),
                         0);
        assert_int_equal(d.n, 0);
        /* "/dockerx" is not below "/docker". */
        assert_int_equal(cg_discovery_parse(
                                 "4:memory:/dockerx/a\n",
                                 "1 0 0:1 /docker /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", &d),
                         0);
        assert_int_equal(d.n, 0);
}

static void test_unescape(void **state) {
        char s[] = "/a\\040b\\011c\\\\d\\9";
        cg_unescape_mount(s);
        assert_string_equal(s, "/a b\tc\\\\d\\9");
}

static void test_manager_on_fixtures(void **state) {
        CgroupManager *m = NULL;
        char *why = NULL;
        CgroupManagerOptions o = {.backend = BACKEND_AUTO, .fs_root = fixture("v2"), .run_id = "t1"};

        /* v2-only host whose group is not there under the fixture root: auto falls
         * back to none and says what to run; asking for v1 there is refused. */
        assert_int_equal(cg_manager_new(&o, NULL, &m, &why), 0);
        assert_int_equal(cg_manager_backend(m), BACKEND_NONE);
        assert_non_null(strstr(why, "Delegate=yes"));
        assert_non_null(strstr(why, "NOT ENFORCED"));
        free(why);
        why = NULL;
        m = cg_manager_free(m);
        o.backend = BACKEND_V1;
        assert_int_equal(cg_manager_new(&o, NULL, &m, &why), -EOPNOTSUPP);
        assert_null(m);
        assert_non_null(strstr(why, "--backend v2 or auto"));
        free(why);
        why = NULL;
        o.backend = BACKEND_AUTO;

        /* Hierarchies listed but not usable under the fixture root: auto falls back to
         * none and says loudly that memory is not enforced; asking for v1 fails. */
        o.fs_root = fixture("v1-comount");
        assert_int_equal(cg_manager_new(&o, NULL, &m, &why), 0);
        assert_int_equal(cg_manager_backend(m), BACKEND_NONE);
        assert_non_null(strstr(why, "NOT ENFORCED"));
        free(why);
        why = NULL;
        CpuSet cpus, mems;
        assert_int_equal(cg_manager_allowed(m, &cpus, &mems), 0);
        assert_false(cpuset_is_empty(&cpus));
        /* Nothing readable under the fixture: no limit known. */
        assert_true(cg_manager_memory_limit(m) == LIMIT_MAX);
        m = cg_manager_free(m);

        o.backend = BACKEND_V1;
        assert_true(cg_manager_new(&o, NULL, &m, &why) < 0);
        assert_null(m);
        assert_non_null(why);
        free(why);
        why = NULL;

        o.backend = BACKEND_NONE;
        o.fs_root = fixture("v1-hybrid");
        assert_int_equal(cg_manager_new(&o, NULL, &m, &why), 0);
        assert_int_equal(cg_manager_backend(m), BACKEND_NONE);
        assert_non_null(strstr(why, "asked for"));
        assert_false(cg_manager_has_psi(m));
        free(why);
        m = cg_manager_free(m);

        o.run_id = "../escape";
        assert_int_equal(cg_manager_new(&o, NULL, &m, NULL), -EINVAL);
}

static void test_none_backend_group(void **state) {
        CgroupManager *m = NULL;
        CgroupManagerOptions o = {.backend = BACKEND_NONE, .fs_root = fixture("v1-hybrid"), .run_id = "t2"};
        assert_int_equal(cg_manager_new(&o, NULL, &m, NULL), 0);

        CgLimits l;
        cg_limits_init(&l);
        CpuSet allowed, mems;
        assert_int_equal(cg_manager_allowed(m, &allowed, &mems), 0);
        cpuset_add(&l.cpus, (unsigned)cpuset_first(&allowed));
        l.memory_max = 64u << 20;
        l.pids_max = 100;
        Cgroup *g = NULL;
        assert_int_equal(cg_create(m, "scen/../x", &l, &g), -EINVAL);
        assert_int_equal(cg_create(m, "/abs", &l, &g), -EINVAL);
        assert_int_equal(cg_create(m, "scen/job", &l, &g), 0);
        assert_string_equal(cg_path(g), "corun/t2/scen/job");
        assert_int_equal(cg_clone_fd(g), -EOPNOTSUPP);

        CgApplied a;
        assert_int_equal(cg_apply(g, &l, &a), 0);
        assert_false(a.memory_enforced);
        assert_true(cpuset_equal(&a.cpus, &l.cpus));

        CgAttach at;
        assert_int_equal(cg_prepare_attach(g, false, &at), 0);
        assert_int_equal(at.n_fds, 0);
        assert_true(at.set_affinity);
        assert_true(cpuset_equal(&at.cpus, &l.cpus));
        assert_true(at.rlimit_as == 64u << 20);
        assert_true(at.rlimit_nproc == 100);
        cg_attach_done(&at);
        /* No process attached yet: nothing to list, nothing populated. */
        assert_int_equal(cg_is_populated(g), 0);
        assert_int_equal(cg_destroy(g), 0);
        cg_manager_free(m);
}

/* The none backend finds a job by its session: a grandchild is killed with it. */
static void test_none_backend_tracks_session(void **state) {
        CgroupManager *m = NULL;
        CgroupManagerOptions o = {.backend = BACKEND_NONE, .fs_root = fixture("v1-hybrid"), .run_id = "t3"};
        assert_int_equal(cg_manager_new(&o, NULL, &m, NULL), 0);
        CgLimits l;
        cg_limits_init(&l);
        CpuSet allowed, mems;
        assert_int_equal(cg_manager_allowed(m, &allowed, &mems), 0);
        int cpu = cpuset_last(&allowed);
        cpuset_add(&l.cpus, (unsigned)cpu);
        Cgroup *g = NULL;
        assert_int_equal(cg_create(m, "s/j", &l, &g), 0);
        CgAttach at;
        assert_int_equal(cg_prepare_attach(g, false, &at), 0);

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (cg_attach_self(&at) < 0 || setsid() < 0)
                        _exit(1);
                if (fork() == 0)
                        for (;;)
                                pause();
                for (;;)
                        pause();
        }
        cg_attach_done(&at);
        assert_int_equal(cg_attach_pid(g, pid), 0);
        pid_t *pids = NULL;
        size_t n = 0;
        for (int i = 0; i < 2000 && n < 2; i++) {
                free(pids);
                assert_int_equal(cg_pids(g, &pids, &n), 0);
                if (n < 2)
                        usleep(1000);
        }
        free(pids);
        assert_int_equal(n, 2);
        cpu_set_t cs;
        assert_int_equal(sched_getaffinity(pid, sizeof cs, &cs), 0);
        assert_int_equal(CPU_COUNT(&cs), 1);
        assert_true(CPU_ISSET(cpu, &cs));
        assert_int_equal(cg_is_populated(g), 1);
        CgStats st;
        assert_int_equal(cg_read_stats(g, &st), 0);
        assert_int_equal(st.pids_current, 2);
        assert_int_equal(cg_kill(g), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        assert_int_equal(cg_is_populated(g), 0);
        assert_int_equal(cg_destroy(g), 0);
        cg_manager_free(m);
}

static void test_memsw_order(void **state) {
        const uint64_t M = 1u << 20;
        /* Raising both (64M -> 128M): memsw first, or the limit would pass memsw. */
        assert_true(cg_v1_memsw_first(64 * M, 128 * M));
        /* Lowering both (128M -> 64M): limit first, or memsw would drop below it. */
        assert_false(cg_v1_memsw_first(128 * M, 64 * M));
        /* From unlimited to a limit: the limit comes down first. */
        assert_false(cg_v1_memsw_first(LIMIT_MAX, 64 * M));
        /* To unlimited: memsw first. */
        assert_true(cg_v1_memsw_first(64 * M, LIMIT_MAX));
        assert_true(cg_v1_memsw_first(64 * M, 64 * M));
}

static void test_weight_shares(void **state) {
        assert_int_equal(cg_weight_to_shares(100), 1024);
        assert_int_equal(cg_shares_to_weight(1024), 100);
        assert_int_equal(cg_weight_to_shares(1), 10);
        assert_int_equal(cg_weight_to_shares(10000), 102400);
        assert_int_equal(cg_shares_to_weight(2), 1);
        assert_int_equal(cg_shares_to_weight(262144), 10000);
        for (uint64_t w = 1; w <= 10000; w += 37)
                assert_int_equal(cg_shares_to_weight(cg_weight_to_shares(w)), w);
}

static void test_limits_init(void **state) {
        CgLimits l;
        memset(&l, 0x5a, sizeof l);
        cg_limits_init(&l);
        assert_true(cpuset_is_empty(&l.cpus));
        assert_true(cpuset_is_empty(&l.mems));
        assert_true(l.memory_max == LIMIT_MAX);
        assert_true(l.memory_high == LIMIT_MAX);
        assert_true(l.pids_max == LIMIT_MAX);
        assert_int_equal(l.swap_max, 0);
        assert_int_equal(l.memory_low, 0);
        assert_int_equal(l.cpu_weight, 0);
        assert_int_equal(l.cpu_max_pct, 0);
}

int main(void) {
        /* The fixtures live next to this file. meson compiles with __FILE__ relative to
         * the build root and runs tests from there; run by hand from elsewhere, the
         * build root is two levels above this executable. */
        const char *env = getenv("CGROUP_FIXTURES");
        if (env)
                snprintf(fixtures, sizeof fixtures, "%s", env);
        else {
                char src[PATH_MAX], exe[PATH_MAX] = "", cand[PATH_MAX];
                snprintf(src, sizeof src, "%s", __FILE__);
                const char *sdir = dirname(src);
                ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
                exe[k > 0 ? k : 0] = '\0';
                const char *bases[] = {".", dirname(dirname(exe))};
                for (size_t i = 0; i < ELEMENTSOF(bases); i++) {
                        snprintf(cand, sizeof cand, "%s/%s/fixtures", sdir[0] == '/' ? "" : bases[i], sdir);
                        char *abs = realpath(cand, NULL);
                        if (abs) {
                                snprintf(fixtures, sizeof fixtures, "%s", abs);
                                free(abs);
                                break;
                        }
                }
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_v1_hybrid_captured),
                cmocka_unit_test(test_v2_only),
                cmocka_unit_test(test_v1_comounted_container),
                cmocka_unit_test(test_parse_rejects_garbage),
                cmocka_unit_test(test_unescape),
                cmocka_unit_test(test_manager_on_fixtures),
                cmocka_unit_test(test_none_backend_group),
                cmocka_unit_test(test_none_backend_tracks_session),
                cmocka_unit_test(test_memsw_order),
                cmocka_unit_test(test_weight_shares),
                cmocka_unit_test(test_limits_init),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
