/* SPDX-License-Identifier: MIT */
/* On a systemd host with cgroup v2 only, a `corun run` typed in a login shell sits in
 * session-N.scope beside the shell: the kernel's no-internal-processes rule and
 * systemd's single-writer rule both forbid it to split that group. So, as BenchExec and
 * crun do, corun asks systemd (D-Bus, StartTransientUnit) for a transient scope of its
 * own, corun-<run-id>.scope with Delegate=yes, holding its pid; the v2 backend then
 * builds its tree inside (cgroup-v2.c). Root asks the system manager (below
 * system.slice), other users their user manager, which delegates what user@.service
 * was given (cpu memory pids by default).
 *
 * libsystemd is dlopen'ed, never linked: corun builds and runs where it is absent, and
 * only the few sd-bus calls used here are declared (their ABI is stable since 221). */
#include <dlfcn.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/error.h"
#include "util/parse.h"

typedef struct sd_bus sd_bus;
typedef struct sd_bus_message sd_bus_message;
typedef struct sd_bus_slot sd_bus_slot;
typedef struct sd_bus_error {
        const char *name;
        const char *message;
        int _need_free;
} sd_bus_error;
typedef int (*sd_bus_message_handler_t)(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

static struct {
        void *handle;
        int (*open_system)(sd_bus **);
        int (*open_user)(sd_bus **);
        sd_bus *(*flush_close_unref)(sd_bus *);
        int (*new_method_call)(sd_bus *, sd_bus_message **, const char *, const char *, const char *,
                               const char *);
        int (*append)(sd_bus_message *, const char *, ...);
        int (*open_container)(sd_bus_message *, char, const char *);
        int (*close_container)(sd_bus_message *);
        int (*call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
        int (*read)(sd_bus_message *, const char *, ...);
        sd_bus_message *(*message_unref)(sd_bus_message *);
        void (*error_free)(sd_bus_error *);
        int (*match_signal)(sd_bus *, sd_bus_slot **, const char *, const char *, const char *, const char *,
                            sd_bus_message_handler_t, void *);
        sd_bus_slot *(*slot_unref)(sd_bus_slot *);
        int (*process)(sd_bus *, sd_bus_message **);
        int (*wait)(sd_bus *, uint64_t);
} sd;

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
/* A job of a scope is quick, but TCG VMs and loaded hosts are slow. */
#define SD_JOB_TIMEOUT_USEC (30 * USEC_PER_SEC)

static int sd_load(char **ret_why) {
        if (sd.handle)
                return 0;
        void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return error_setf(ret_why, -EOPNOTSUPP, "libsystemd.so.0 cannot be loaded (%s)", dlerror());
        struct {
                const char *name;
                void **fn;
        } syms[] = {
                {"sd_bus_open_system", (void **)&sd.open_system},
                {"sd_bus_open_user", (void **)&sd.open_user},
                {"sd_bus_flush_close_unref", (void **)&sd.flush_close_unref},
                {"sd_bus_message_new_method_call", (void **)&sd.new_method_call},
                {"sd_bus_message_append", (void **)&sd.append},
                {"sd_bus_message_open_container", (void **)&sd.open_container},
                {"sd_bus_message_close_container", (void **)&sd.close_container},
                {"sd_bus_call", (void **)&sd.call},
                {"sd_bus_message_read", (void **)&sd.read},
                {"sd_bus_message_unref", (void **)&sd.message_unref},
                {"sd_bus_error_free", (void **)&sd.error_free},
                {"sd_bus_match_signal", (void **)&sd.match_signal},
                {"sd_bus_slot_unref", (void **)&sd.slot_unref},
                {"sd_bus_process", (void **)&sd.process},
                {"sd_bus_wait", (void **)&sd.wait},
        };
        for (size_t i = 0; i < ELEMENTSOF(syms); i++)
                if (!(*syms[i].fn = dlsym(h, syms[i].name))) {
                        dlclose(h);
                        return error_setf(ret_why, -EOPNOTSUPP, "libsystemd.so.0 lacks %s", syms[i].name);
                }
        sd.handle = h;
        return 0;
}

/* ---- when a scope is wanted ---- */

/* The runner's cgroup2 path from /proc/self/cgroup ("0::/user.slice/..."), malloc'ed. */
static int own_cgroup2_path(char **ret) {
        _cleanup_free_ char *pc = NULL;
        int r = cg_read("", "proc/self/cgroup", &pc);
        if (r < 0)
                return r;
        for (char *line = pc, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strneq(line, "0::/", 4))
                        return (*ret = strdup(line + 3)) ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

bool cg_has_delegate_mark(const char *dir) {
        return getxattr(dir, "trusted.delegate", NULL, 0) >= 0 ||
               getxattr(dir, "user.delegate", NULL, 0) >= 0;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t l = strlen(s), n = strlen(suffix);
        return l >= n && streq(s + l - n, suffix);
}

int cg_systemd_scope_wanted(char **ret_why) {
        struct statfs sf;
        if (statfs("/sys/fs/cgroup", &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
                return 0; /* cgroup v1 hosts: the v1 backend stands */
        if (access("/run/systemd/system", F_OK) < 0)
                return 0; /* systemd is not PID 1 (or not visible: a container) */
        _cleanup_free_ char *own = NULL;
        if (own_cgroup2_path(&own) < 0 || streq(own, "/"))
                return error_setf(ret_why, 0, "corun sits at the root of a cgroup hierarchy (a container?)");
        /* The unit the runner is in is the nearest group named like one. A delegated unit
         * (systemd-run -p Delegate=yes, a Slurm step's slurmstepd.scope, our own scope) is
         * already ours to split; user@.service is delegated to the user manager, not to
         * its units. */
        for (char *slash; (slash = strrchr(own, '/')) && slash != own; *slash = '\0') {
                const char *name = slash + 1;
                if (!ends_with(name, ".scope") && !ends_with(name, ".service"))
                        continue;
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "/sys/fs/cgroup%s", own) < 0)
                        return -ENOMEM;
                if (cg_has_delegate_mark(dir) && !strneq(name, "user@", 5))
                        return error_setf(ret_why, 0, "%s is delegated: corun works in it as it is", own);
                (void)error_setf(ret_why, 0, "%s is systemd's, not delegated", own);
                return 1;
        }
        return error_setf(ret_why, 0, "%s is not below a systemd unit: corun works in it as it is", own);
}

/* ---- StartTransientUnit / StopUnit ---- */

typedef struct JobWait {
        const char *job;
        bool done;
        char result[32];
} JobWait;

static int on_job_removed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        (void)ret_error;
        JobWait *w = userdata;
        uint32_t id;
        const char *path, *unit, *result;
        if (sd.read(msg, "uoss", &id, &path, &unit, &result) < 0 || !w->job || !streq(path, w->job))
                return 0;
        w->done = true;
        snprintf(w->result, sizeof w->result, "%s", result);
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* Waits for JobRemoved of job (the reply of the call that queued it); -ETIMEDOUT. */
static int wait_job(sd_bus *bus, JobWait *w) {
        uint64_t deadline = now_usec() + SD_JOB_TIMEOUT_USEC;
        while (!w->done) {
                int r = sd.process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                uint64_t now = now_usec();
                if (now >= deadline)
                        return -ETIMEDOUT;
                if ((r = sd.wait(bus, deadline - now)) < 0 && r != -EINTR)
                        return r;
        }
        return 0;
}

static sd_bus *bus_close(sd_bus *bus) {
        return bus ? sd.flush_close_unref(bus) : NULL;
}

/* The manager that owns the scopes of this user: the system one for root. */
static int bus_open(bool user, sd_bus **ret, char **ret_why) {
        int r = sd_load(ret_why);
        if (r < 0)
                return r;
        r = user ? sd.open_user(ret) : sd.open_system(ret);
        if (r < 0)
                return error_setf(
                        ret_why, r, "cannot reach the %s (%s)%s", user ? "user manager's bus" : "system bus",
                        strerror(-r),
                        user ? ": corun needs a login session with a user manager (systemd --user, "
                               "XDG_RUNTIME_DIR set), or root"
                             : "");
        return 0;
}

static char *bus_error_text(const sd_bus_error *e, int r) {
        char *s = NULL;
        if (asprintf(&s, "%s", e->message ? e->message : strerror(-r)) < 0)
                return NULL;
        return s;
}

/* Calls a Manager method that queues one job (first argument the unit) and waits for
 * the job to finish. fill appends the rest of the arguments. */
typedef int (*FillFn)(sd_bus_message *m, const void *userdata);
static int manager_job(sd_bus *bus, const char *method, const char *unit, FillFn fill, const void *userdata,
                       char **ret_why) {
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_slot *slot = NULL;
        sd_bus_error e = {0};
        JobWait w = {0};
        int r;

        /* Subscribed before the call: the signal may come before its reply is read. */
        r = sd.match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
        if (r >= 0)
                r = sd.new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, method);
        if (r >= 0)
                r = sd.append(m, "s", unit);
        if (r >= 0 && fill)
                r = fill(m, userdata);
        if (r < 0) {
                (void)error_setf(ret_why, r, "cannot build the %s call: %s", method, strerror(-r));
                goto out;
        }
        r = sd.call(bus, m, SD_JOB_TIMEOUT_USEC, &e, &reply);
        if (r < 0) {
                _cleanup_free_ char *t = bus_error_text(&e, r);
                (void)error_setf(ret_why, r, "systemd refused %s of %s: %s", method, unit, t ? t : "?");
                if (e.name && streq(e.name, "org.freedesktop.systemd1.NoSuchUnit"))
                        r = -ENOENT;
                goto out;
        }
        const char *job = NULL;
        if ((r = sd.read(reply, "o", &job)) < 0) {
                (void)error_setf(ret_why, r, "cannot read systemd's reply to %s", method);
                goto out;
        }
        w.job = job;
        r = wait_job(bus, &w);
        if (r < 0)
                (void)error_setf(ret_why, r, "systemd's job for %s did not finish within %u s: %s", unit,
                                 (unsigned)(SD_JOB_TIMEOUT_USEC / USEC_PER_SEC), strerror(-r));
        else if (!streq(w.result, "done")) {
                r = -EIO;
                (void)error_setf(ret_why, r,
                                 "systemd's job for %s ended with '%s' (journalctl -u %s says why)", unit,
                                 w.result, unit);
        }
out:
        if (reply)
                sd.message_unref(reply);
        if (m)
                sd.message_unref(m);
        if (slot)
                sd.slot_unref(slot);
        sd.error_free(&e);
        return r;
}

typedef struct ScopeArgs {
        const char *slice, *description;
        uint32_t pid;
} ScopeArgs;

static int fill_start(sd_bus_message *m, const void *userdata) {
        const ScopeArgs *a = userdata;
        int r;
        if ((r = sd.append(m, "s", "fail")) < 0 || (r = sd.open_container(m, 'a', "(sv)")) < 0 ||
            (r = sd.append(m, "(sv)", "Description", "s", a->description)) < 0 ||
            (r = sd.append(m, "(sv)", "Delegate", "b", 1)) < 0 ||
            (r = sd.append(m, "(sv)", "PIDs", "au", 1, a->pid)) < 0 ||
            /* Gone once empty, failed or not: a killed run leaves no failed unit behind. */
            (r = sd.append(m, "(sv)", "CollectMode", "s", "inactive-or-failed")) < 0)
                return r;
        if (a->slice && (r = sd.append(m, "(sv)", "Slice", "s", a->slice)) < 0)
                return r;
        if ((r = sd.close_container(m)) < 0)
                return r;
        return sd.append(m, "a(sa(sv))", 0);
}

static int fill_stop(sd_bus_message *m, const void *userdata) {
        (void)userdata;
        return sd.append(m, "s", "replace");
}

char *cg_systemd_scope_name(const char *run_id) {
        /* Unit names allow [A-Za-z0-9:_.-] and '\' escapes; '@' would make an instance. */
        _cleanup_free_ char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        if (!f)
                return NULL;
        fputs("corun-", f);
        for (const char *p = run_id; *p; p++)
                if (unit_name_char_ok(*p))
                        fputc(*p, f);
                else
                        fprintf(f, "\\x%02x", (unsigned char)*p);
        fputs(".scope", f);
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(s);
}

int cg_systemd_journal_entry(bool user, const char *unit, char **ret) {
        /* Journal paths are absolute: the manager as a first component. */
        int n = user ? asprintf(ret, "/user-%u/%s", (unsigned)geteuid(), unit)
                     : asprintf(ret, "/system/%s", unit);
        return n < 0 ? -ENOMEM : 0;
}

int cg_systemd_start_scope(const char *run_id, const char *slice, Journal *j, char **ret_unit,
                           bool *ret_user, char **ret_why) {
        bool user = geteuid() != 0;
        _cleanup_free_ char *unit = cg_systemd_scope_name(run_id), *entry = NULL, *desc = NULL;
        if (!unit || asprintf(&desc, "corun run %s", run_id) < 0)
                return -ENOMEM;
        sd_bus *bus = NULL;
        int r = bus_open(user, &bus, ret_why);
        if (r < 0)
                return r;
        /* Journalled before it exists, as every group is: a kill -9 between the two
         * leaves a scope that cleanup stops. */
        if (j && ((r = cg_systemd_journal_entry(user, unit, &entry)) < 0 ||
                  (r = journal_add(j, "scope", entry)) < 0)) {
                (void)error_setf(ret_why, r, "cannot journal %s: %s", unit, strerror(-r));
                bus_close(bus);
                return r;
        }
        ScopeArgs a = {.slice = slice  ? slice
                                : user ? NULL
                                       : "system.slice",
                       .description = desc,
                       .pid = (uint32_t)getpid()};
        r = manager_job(bus, "StartTransientUnit", unit, fill_start, &a, ret_why);
        bus_close(bus);
        if (r < 0)
                return r;
        *ret_unit = TAKE_PTR(unit);
        *ret_user = user;
        return 0;
}

int cg_systemd_stop_scope(const char *journal_entry, char **ret_why) {
        /* "/system/corun-X.scope" or "/user-<uid>/corun-X.scope" (cg_systemd_journal_entry). */
        const char *unit = strrchr(journal_entry, '/') + 1;
        bool user = !strneq(journal_entry, "/system/", 8);
        if (user) {
                char want[32];
                snprintf(want, sizeof want, "/user-%u/", (unsigned)geteuid());
                if (!strneq(journal_entry, want, strlen(want)))
                        return error_setf(
                                ret_why, -EPERM,
                                "%s belongs to another user's manager: run corun cleanup as that user",
                                unit);
        }
        sd_bus *bus = NULL;
        int r = bus_open(user, &bus, ret_why);
        if (r < 0)
                return r;
        r = manager_job(bus, "StopUnit", unit, fill_stop, NULL, ret_why);
        bus_close(bus);
        return r;
}

/* ---- what the user manager delegates (doctor, the missing-controller warning) ---- */

unsigned cg_systemd_user_delegated(char **ret_dir) {
        _cleanup_free_ char *dir = NULL;
        uid_t uid = geteuid();
        if (asprintf(&dir, "/sys/fs/cgroup/user.slice/user-%u.slice/user@%u.service", (unsigned)uid,
                     (unsigned)uid) < 0)
                return 0;
        unsigned mask = cg_v2_controllers_in(dir, "cgroup.controllers");
        if (ret_dir)
                *ret_dir = TAKE_PTR(dir);
        return mask;
}

int cg_systemd_probe(CgSystemd *ret) {
        *ret = (CgSystemd){.systemd = access("/run/systemd/system", F_OK) == 0};
        int r = cg_systemd_scope_wanted(&ret->why);
        if (r <= 0)
                return r;
        ret->wanted = true;
        ret->user = geteuid() != 0;
        sd_bus *bus = NULL;
        ret->reachable = bus_open(ret->user, &bus, &ret->unreachable) >= 0;
        bus_close(bus);
        /* A scope with Delegate=yes gets every controller its manager has. */
        unsigned have = ret->user ? cg_systemd_user_delegated(NULL)
                                  : cg_v2_controllers_in("/sys/fs/cgroup", "cgroup.controllers");
        ret->available = cg_v2_mask_to_string(have & CG_V2_WANTED);
        ret->missing = cg_v2_mask_to_string(CG_V2_WANTED & ~have);
        ret->memory = have & CG_V2_MEMORY_BIT;
        return ret->available && ret->missing ? 1 : -ENOMEM;
}

void cg_systemd_done(CgSystemd *s) {
        free(s->why);
        free(s->unreachable);
        free(s->available);
        free(s->missing);
        *s = (CgSystemd){0};
}
