/* SPDX-License-Identifier: MIT */
/* corun doctor: is this machine ready for corun, and what to fix. One line per check
 * (ok / warn / FAIL, with what to do), or --json. Read-only unless --write-test or
 * --gpu-timeslice. */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cli/cli.h"
#include "cli/doctor.h"
#include "exec/container.h"
#include "exec/exec.h"
#include "gpu/gpu.h"
#include "result/result.h"
#include "util/cpuset.h"
#include "util/parse.h"

static const char doctor_usage[] =
        "Usage: corun doctor [--json] [--write-test] [--gpu-timeslice]\n"
        "\n"
        "Checks whether this machine is ready for corun and says what to fix: cgroup version\n"
        "and the backend corun would use, controllers, delegation, swap, SMT, CPU frequency\n"
        "governor and turbo, isolated CPUs, the CPUs corun may use, PSI, memcg BPF struct_ops\n"
        "and the GPUs (through NVML). Changes nothing unless --write-test or --gpu-timeslice.\n"
        "\n"
        "      --json           the checks as JSON\n"
        "      --write-test     also create a partition with a memory limit, and remove it\n"
        "      --gpu-timeslice  also measure each GPU's time slice beside a busy context it\n"
        "                       starts (a few seconds per GPU; run it with the GPUs idle), and\n"
        "                       keep it for corun run's GPU caps until reboot\n"
        "  -h, --help           this text\n"
        "\n"
        "Exit status: 0 ready (warnings are advice), 1 problems that weaken measurements,\n"
        "2 corun cannot partition jobs here.\n";

void check_add(Doctor *d, const char *name, Level level, const char *fix, const char *fmt, ...) {
        if (d->n >= MAX_CHECKS)
                return;
        Check *c = &d->checks[d->n++];
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&c->message, fmt, ap) < 0)
                c->message = NULL;
        va_end(ap);
        snprintf(c->name, sizeof c->name, "%s", name);
        c->level = level;
        c->fix = fix ? strdup(fix) : NULL;
}

static const char *level_text(Level l) {
        return l == LEVEL_OK ? "ok" : l == LEVEL_WARN ? "warn" : "FAIL";
}

static const char *delegate_fix(void) {
        return geteuid() == 0 ? "systemd-run --scope -p Delegate=yes corun run …"
                              : "systemd-run --user --scope -p Delegate=yes corun run …";
}

/* systemd as PID 1 (cgroup-systemd.c): whether corun run asks it for a scope, and
 * whether it can. */
static void check_systemd(Doctor *d, const CgSystemd *s) {
        if (!s->systemd)
                return;
        if (!s->wanted)
                check_add(d, "systemd", LEVEL_OK, NULL, "PID 1%s%s", s->why ? "; " : "",
                          s->why ? s->why : "");
        else if (s->reachable)
                check_add(
                        d, "systemd", LEVEL_OK, NULL,
                        "PID 1; %s: corun run asks the %s for corun-<run-id>.scope with Delegate=yes%s and "
                        "works inside it",
                        s->why, s->user ? "user manager" : "system manager",
                        s->user ? "" : " (below system.slice unless --slice)");
        else
                check_add(d, "systemd", LEVEL_FAIL,
                          s->user ? "loginctl enable-linger, or sudo corun …" : NULL,
                          "PID 1; %s, and corun cannot ask it for a scope: %s", s->why, s->unreachable);
}

/* corun run will work in a scope systemd delegates to it: what that scope will have,
 * instead of what corun's present group has. */
static void check_systemd_scope(Doctor *d, const CgSystemd *s) {
        const char *who = s->user ? "systemd's user manager" : "systemd";
        check_add(d, "backend", LEVEL_OK, NULL, "v2: in corun-<run-id>.scope, which %s delegates to corun",
                  who);
        const char *fix = s->user ? "add " CG_SYSTEMD_USER_DROPIN : NULL;
        if (!s->memory)
                check_add(d, "controllers", LEVEL_FATAL, fix,
                          "%s delegates %s, no memory controller: memory cannot be limited", who,
                          *s->available ? s->available : "nothing");
        else if (*s->missing)
                check_add(d, "controllers", LEVEL_FAIL, fix, "%s delegates %s; missing: %s (%s)", who,
                          s->available, s->missing,
                          strstr(s->missing, "cpuset") ? "CPUs are pinned by affinity, which a job can undo"
                                                       : "their limits are not applied");
        else
                check_add(d, "controllers", LEVEL_OK, NULL, "%s delegates %s", who, s->available);
        check_add(d, "delegation", LEVEL_OK, NULL, "Delegate=yes on corun's own scope, made at each run");
}

static void check_cgroups(Doctor *d, const CgProbe *p, const CgSystemd *s) {
        if (p->mounted == BACKEND_V2)
                check_add(d, "cgroup", LEVEL_OK, NULL, "cgroup v2: the unified hierarchy at /sys/fs/cgroup");
        else if (p->mounted == BACKEND_V1)
                check_add(d, "cgroup", LEVEL_OK, NULL, "cgroup v1 hybrid: one hierarchy per controller%s",
                          p->unified ? ", plus a cgroup2 mount for clone3, cgroup.kill and PSI" : "");
        else
                check_add(d, "cgroup", LEVEL_FATAL, "mount -t cgroup2 none /sys/fs/cgroup",
                          "no cgroup file system at /sys/fs/cgroup");
        check_systemd(d, s);
        if (s->wanted && s->reachable) {
                check_systemd_scope(d, s);
                return;
        }

        if (p->backend == BACKEND_NONE)
                check_add(d, "backend", LEVEL_FATAL, p->mounted == BACKEND_V2 ? delegate_fix() : NULL,
                          "none: %s", p->why);
        else
                check_add(d, "backend", LEVEL_OK, NULL, "%s: %s", backend_kind_to_string(p->backend),
                          p->why);

        if (p->mounted == BACKEND_NONE)
                return;
        bool no_memory = strstr(p->missing, "memory") != NULL;
        if (!p->writable)
                check_add(d, "controllers", LEVEL_FATAL,
                          p->mounted == BACKEND_V2 ? delegate_fix() : "sudo corun …",
                          "cannot create groups below %s as uid %u (controllers there: %s)",
                          p->own ? p->own : "the runner's group", (unsigned)geteuid(),
                          *p->available ? p->available : "none");
        else if (no_memory)
                check_add(d, "controllers", LEVEL_FATAL, delegate_fix(),
                          "no memory controller in %s (available: %s): memory cannot be limited",
                          p->own ? p->own : "the runner's group", *p->available ? p->available : "none");
        else if (*p->missing)
                check_add(d, "controllers", LEVEL_FAIL, delegate_fix(),
                          "%s available and writable; missing: %s (%s)", p->available, p->missing,
                          strstr(p->missing, "cpuset") ? "CPUs are pinned by affinity, which a job can undo"
                                                       : "their limits are not applied");
        else
                check_add(d, "controllers", LEVEL_OK, NULL, "%s available and writable", p->available);

        const char *own = p->own ? p->own : "the runner's group";
        if (p->mounted == BACKEND_V2 && p->at_root)
                check_add(d, "delegation", LEVEL_OK, NULL,
                          "corun sits at the root of the hierarchy: no delegation needed");
        else if (p->mounted == BACKEND_V2 && p->other_procs > 0)
                check_add(d, "delegation", LEVEL_FATAL, delegate_fix(),
                          "%s holds %u other process(es); cgroup v2 allows no processes in a group that "
                          "hands controllers to its children, so corun needs a group of its own",
                          own, p->other_procs);
        else if (p->systemd && !p->delegated)
                check_add(d, "delegation", LEVEL_WARN, delegate_fix(),
                          "%s is systemd's, not delegated: systemd may move or reset groups made below it",
                          own);
        else if (p->delegated)
                check_add(d, "delegation", LEVEL_OK, NULL, "%s is delegated", own);
        else if (p->mounted == BACKEND_V2)
                check_add(d, "delegation", LEVEL_OK, NULL,
                          "corun is alone in %s: it moves into corun/<run-id>/runner and enables the "
                          "controllers there",
                          own);
        else
                check_add(d, "delegation", LEVEL_OK, NULL, "not needed: root writes the v1 hierarchies");
}

static void check_kernel_features(Doctor *d, const CgProbe *p) {
        if (p->backend != BACKEND_V2)
                return;
        if (p->memory_peak == 0)
                check_add(d, "memory.peak", LEVEL_WARN, "a kernel >= 5.19",
                          "no memory.peak (before Linux 5.19): peak memory is the highest sampled "
                          "memory.current and misses short spikes");
        else
                check_add(d, "memory.peak", LEVEL_OK, NULL, "memory.peak%s",
                          p->memory_peak < 0 ? " (by the kernel version)" : "");
        if (p->cgroup_kill == 0)
                check_add(d, "cgroup.kill", LEVEL_WARN, "a kernel >= 5.14",
                          "no cgroup.kill (before Linux 5.14): jobs are stopped by freezing and killing "
                          "every pid");
        else
                check_add(d, "cgroup.kill", LEVEL_OK, NULL, "cgroup.kill stops a job and all it started%s",
                          p->cgroup_kill < 0 ? " (by the kernel version)" : "");
}

static bool swap_is_on(void) {
        _cleanup_free_ char *s = NULL;
        if (read_full_file("/proc/swaps", 1 << 20, &s, NULL) < 0)
                return false;
        char *nl = strchr(s, '\n'); /* the header line */
        return nl && nl[1] != '\0';
}

static void check_host(Doctor *d, const CgProbe *p, const HostInfo *h) {
        bool swap = swap_is_on();
        if (!swap)
                check_add(d, "swap", LEVEL_OK, NULL, "off");
        else if (p->backend != BACKEND_NONE && p->swap_per_group != 0)
                check_add(d, "swap", LEVEL_OK, NULL, "on; corun turns it off per job (%s)",
                          p->backend == BACKEND_V2 ? "memory.swap.max 0" : "memory.memsw = memory limit");
        else
                check_add(d, "swap", LEVEL_FAIL, "swapoff -a, or boot with swapaccount=1",
                          "on, and it cannot be turned off per job: jobs near their limit swap instead "
                          "of failing, and their timings with them");

        if (streq(h->smt, "on"))
                check_add(d, "smt", LEVEL_OK, NULL, "on: corun gives a job whole cores, both threads");
        else if (streq(h->smt, "notsupported") || streq(h->smt, "notimplemented"))
                check_add(d, "smt", LEVEL_OK, NULL, "no SMT on this CPU");
        else
                check_add(d, "smt", LEVEL_OK, NULL, "%s", h->smt);

        if (strneq(h->governor, "unknown", 7))
                check_add(d, "governor", LEVEL_OK, NULL, "not exposed (no cpufreq, as in most VMs)");
        else if (streq(h->governor, "performance"))
                check_add(d, "governor", LEVEL_OK, NULL, "performance");
        else
                check_add(d, "governor", LEVEL_WARN, "cpupower frequency-set -g performance",
                          "'%s': the clock follows the load, so timings vary", h->governor);

        if (streq(h->turbo, "on"))
                check_add(d, "turbo", LEVEL_WARN,
                          "echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo (or 0 > "
                          "/sys/devices/system/cpu/cpufreq/boost)",
                          "on: the clock depends on how many cores are busy and on temperature");
        else
                check_add(d, "turbo", LEVEL_OK, NULL, "%s", streq(h->turbo, "off") ? "off" : "not exposed");
}

static void check_cpus(Doctor *d, const HostInfo *h) {
        _cleanup_free_ char *iso_text = NULL;
        CpuSet iso = {0}, allowed = {0};
        if (read_full_file("/sys/devices/system/cpu/isolated", 4096, &iso_text, NULL) >= 0)
                (void)cpuset_parse(iso_text, &iso, NULL);
        if (h->allowed_cpus)
                (void)cpuset_parse(h->allowed_cpus, &allowed, NULL);

        check_add(d, "cpus", LEVEL_OK, NULL, "corun may use CPUs %s (%u of %u online)%s",
                  h->allowed_cpus ? h->allowed_cpus : "?", h->n_cpus_allowed, h->n_cpus_online,
                  h->n_cpus_allowed < h->n_cpus_online ? "; it uses only these" : "");
        if (cpuset_is_empty(&iso)) {
                check_add(d, "isolated", LEVEL_OK, NULL,
                          "none (isolcpus= or nohz_full= would keep the kernel's own work off benchmark "
                          "cores)");
                return;
        }
        _cleanup_free_ char *t = cpuset_to_string(&iso);
        CpuSet both = iso;
        cpuset_and(&both, &allowed);
        if (cpuset_is_empty(&both))
                check_add(d, "isolated", LEVEL_OK, NULL, "CPUs %s, none of which corun may use",
                          t ? t : "?");
        else
                check_add(d, "isolated", LEVEL_WARN,
                          "give multi-threaded jobs non-isolated cores, or pin their threads",
                          "CPUs %s: the scheduler does not spread threads across isolated CPUs",
                          t ? t : "?");
}

/* BTF names are NUL-separated strings: the exact type name, not a longer one. */
static int memcg_bpf_ops_in_btf(void) {
        static const char name[] = "\0memcg_bpf_ops";
        _cleanup_free_ char *btf = NULL;
        size_t len = 0;
        if (read_full_file("/sys/kernel/btf/vmlinux", 512u << 20, &btf, &len) < 0)
                return -1;
        for (const char *p = btf; p && (size_t)(p - btf) < len;) {
                p = memmem(p, len - (size_t)(p - btf), name, sizeof name - 1);
                if (!p)
                        break;
                if ((size_t)(p - btf) + sizeof name - 1 < len && p[sizeof name - 1] == '\0')
                        return 1;
                p++;
        }
        return 0;
}

static void check_features(Doctor *d, const CgProbe *p) {
        if (p->psi)
                check_add(d, "psi", LEVEL_OK, NULL, "pressure stall information per job");
        else
                check_add(d, "psi", LEVEL_WARN, "boot with psi=1",
                          "%s: no memory/CPU/IO stall figures in results, and the priority protector "
                          "watches memory.events only",
                          p->unified ? "off" : "no cgroup2 hierarchy for it");

        int bpf = memcg_bpf_ops_in_btf();
        if (bpf > 0)
                check_add(d, "memcg-bpf", LEVEL_OK, NULL,
                          "memcg BPF struct_ops supported (memcg_bpf_ops in BTF)");
        else
                check_add(d, "memcg-bpf", LEVEL_OK, NULL,
                          "memcg BPF struct_ops: not supported by this kernel%s; priorities use the "
                          "user-space protector",
                          bpf < 0 ? " (no /sys/kernel/btf/vmlinux)" : "");
}

/* Jobs in images (docs/containers.md): which engines are here and whether each can run
 * a container inside a job's group. Information only: a machine without engines is
 * ready for every job that has no image:. */
static void check_engines(Doctor *d) {
        const char *dflt = NULL;
        for (ContainerEngineKind k = ENGINE_PODMAN; k <= ENGINE_DOCKER; k++) {
                ContainerEngine e;
                const char *name = container_engine_kind_to_string(k);
                if (container_engine_probe(k, &e) < 0)
                        return;
                if (!e.path)
                        check_add(d, name, LEVEL_OK, NULL, "not installed: no jobs in images with engine: %s",
                                  name);
                else if (e.why)
                        check_add(d, name, LEVEL_WARN, "engine: podman (scripts/install-deps.sh)",
                                  "%s%s%s cannot place a container in a job's group: %s", e.path,
                                  e.version ? " " : "", e.version ?: "", e.why);
                else
                        check_add(d, name, LEVEL_OK, NULL,
                                  "%s %s: containers of jobs in images run inside the job's group%s", e.path,
                                  e.version ?: "", dflt ? "" : " (the default engine)");
                if (e.path && !dflt)
                        dflt = name; /* the default is the first installed: podman, else docker */
                container_engine_done(&e);
        }
}

/* --write-test: the real thing, as `corun run` does it, then gone again. */
static void check_write(Doctor *d) {
        _cleanup_free_ char *run_id = NULL, *why = NULL;
        Journal *j = NULL;
        CgroupManager *m = NULL;
        Cgroup *g = NULL;
        CgApplied a;
        CgLimits l;
        const char *step = "open the journal";
        int r;

        if (asprintf(&run_id, "doctor-%d", (int)getpid()) < 0)
                return;
        cg_limits_init(&l);
        l.memory_max = 64u << 20;
        l.pids_max = 64;
        r = journal_open(NULL, run_id, &j);
        if (r >= 0) {
                step = "set up partitions";
                r = cg_manager_new(&(CgroupManagerOptions){.run_id = run_id}, j, &m, &why);
        }
        if (r >= 0) {
                step = "create a group";
                r = cg_create(m, "doctor", NULL, &g);
        }
        if (r >= 0) {
                step = "apply memory 64M and pids 64";
                r = cg_apply(g, &l, &a);
        }
        if (r >= 0 && cg_manager_backend(m) == BACKEND_NONE)
                check_add(d, "write-test", LEVEL_FATAL, NULL, "backend none: %s", why ? why : "");
        else if (r >= 0 && (a.memory_max != l.memory_max || a.pids_max != l.pids_max))
                check_add(d, "write-test", LEVEL_FAIL, NULL,
                          "%s reads back memory.max %" PRIu64 " and pids.max %" PRIu64, cg_path(g),
                          a.memory_max, a.pids_max);
        else if (r >= 0)
                check_add(d, "write-test", LEVEL_OK, NULL,
                          "created %s with memory.max 64 MiB and removed it%s%s%s", cg_path(g),
                          cg_manager_scope(m) ? " (in systemd's " : "",
                          cg_manager_scope(m) ? cg_manager_scope(m) : "", cg_manager_scope(m) ? ")" : "");
        else
                check_add(d, "write-test", LEVEL_FATAL, NULL, "cannot %s: %s%s%s", step, strerror(-r),
                          why ? ": " : "", why ? why : "");
        r = cg_destroy(g);
        cg_manager_free(m);
        /* What could not be removed stays journalled for `corun cleanup`. */
        if (r >= 0 && j)
                (void)journal_close_clean(j);
        else
                journal_free(j);
}

static int print_json(const Doctor *d, const CgProbe *p, const GpuHost *g, int status) {
        json_t *o = json_object(), *a = json_array();
        if (!o || !a)
                return -ENOMEM;
        for (size_t i = 0; i < d->n; i++) {
                const Check *c = &d->checks[i];
                json_array_append_new(a, json_pack("{s:s, s:s, s:s?, s:s?}", "name", c->name, "level",
                                                   c->level == LEVEL_OK     ? "ok"
                                                   : c->level == LEVEL_WARN ? "warn"
                                                                            : "fail",
                                                   "message", c->message, "fix", c->fix));
        }
        json_object_set_new(o, "status", json_integer(status));
        json_object_set_new(o, "ready", json_boolean(status == 0));
        json_object_set_new(o, "cgroup", json_string(backend_kind_to_string(p->mounted)));
        json_object_set_new(o, "backend", json_string(backend_kind_to_string(p->backend)));
        json_object_set_new(o, "checks", a);
        json_object_set_new(o, "gpus", gpus_json(g));
        if (g && g->n_devices == 0 && g->why_none)
                json_object_set_new(o, "gpus_why_none", json_string(g->why_none));
        if (g && *g->driver_version)
                json_object_set_new(o, "gpu_driver", json_string(g->driver_version));
        int r = json_dumpf(o, stdout, JSON_INDENT(2)) < 0 ? -EIO : 0;
        fputc('\n', stdout);
        json_decref(o);
        return r;
}

int cmd_doctor(int argc, char **argv) {
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"write-test", no_argument, NULL, 'w'},
                {"gpu-timeslice", no_argument, NULL, 't'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool json = false, write_test = false, timeslice = false;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'w':
                        write_test = true;
                        break;
                case 't':
                        timeslice = true;
                        break;
                case 'h':
                        fputs(doctor_usage, stdout);
                        return 0;
                default:
                        log_error("doctor: unknown option '%s'; see 'corun doctor --help'",
                                  argv[optind - 1]);
                        return 2;
                }
        }
        if (optind < argc) {
                log_error("doctor: unexpected argument '%s'; see 'corun doctor --help'", argv[optind]);
                return 2;
        }

        CgProbe p;
        int r = cg_probe(NULL, &p);
        if (r < 0) {
                log_error("doctor: cannot look at the cgroup hierarchies: %s", strerror(-r));
                return 2;
        }
        Result *res = result_new();
        if (!res || exec_host_info(&res->host) < 0) {
                log_error("doctor: cannot read the host's CPU and memory settings");
                result_free(res);
                cg_probe_done(&p);
                return 2;
        }

        CgSystemd sd;
        if ((r = cg_systemd_probe(&sd)) < 0) {
                log_error("doctor: cannot look at systemd: %s", strerror(-r));
                result_free(res);
                cg_probe_done(&p);
                cg_systemd_done(&sd);
                return 2;
        }

        /* corun run will work in a scope systemd delegates: the v2 backend there. */
        if (sd.wanted && sd.reachable)
                p.backend = BACKEND_V2;

        Doctor d = {0};
        if (geteuid() == 0)
                check_add(&d, "root", LEVEL_OK, NULL, "running as root");
        else if (sd.wanted && sd.reachable && sd.user)
                check_add(
                        &d, "root", LEVEL_OK, NULL,
                        "not root (uid %u): corun run works in a scope of your user manager, its journal in "
                        "$XDG_RUNTIME_DIR/corun",
                        (unsigned)geteuid());
        else
                check_add(&d, "root", LEVEL_FATAL, "sudo corun …",
                          "not root (uid %u): corun run needs root for its journal in /run/corun and "
                          "for cgroups",
                          (unsigned)geteuid());
        check_cgroups(&d, &p, &sd);
        check_kernel_features(&d, &p);
        check_host(&d, &p, &res->host);
        check_cpus(&d, &res->host);
        check_features(&d, &p);
        GpuHost *gpus = NULL;
        if (gpu_host_discover(&gpus) < 0)
                gpus = NULL;
        if (timeslice)
                check_gpu_timeslices(&d, gpus);
        check_gpus(&d, gpus);
        check_engines(&d);
        if (write_test)
                check_write(&d);

        int status = 0;
        for (size_t i = 0; i < d.n; i++)
                status = MAX(status, d.checks[i].level == LEVEL_FATAL  ? 2
                                     : d.checks[i].level == LEVEL_FAIL ? 1
                                                                       : 0);
        if (json)
                r = print_json(&d, &p, gpus, status);
        else {
                bool color = use_color(STDOUT_FILENO);
                for (size_t i = 0; i < d.n; i++) {
                        const Check *k = &d.checks[i];
                        const char *col = k->level == LEVEL_OK     ? "\033[32m"
                                          : k->level == LEVEL_WARN ? "\033[33m"
                                                                   : "\033[1;31m";
                        printf("%s%-4s%s  %-12s %s%s%s\n", color ? col : "", level_text(k->level),
                               color ? "\033[0m" : "", k->name, k->message ? k->message : "",
                               k->fix ? "; to fix: " : "", k->fix ? k->fix : "");
                }
                printf("%s\n", status == 0   ? "ready"
                               : status == 1 ? "usable, with problems that weaken measurements (FAIL above)"
                                             : "not usable: corun cannot partition jobs here (FAIL above)");
        }
        for (size_t i = 0; i < d.n; i++) {
                free(d.checks[i].message);
                free(d.checks[i].fix);
        }
        gpu_host_free(gpus);
        result_free(res);
        cg_probe_done(&p);
        cg_systemd_done(&sd);
        if (r < 0) {
                log_error("doctor: cannot write the report: %s", strerror(-r));
                return 2;
        }
        return status;
}
