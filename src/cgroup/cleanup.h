/* SPDX-License-Identifier: MIT */
#pragma once

/* The cleanup of dead runs (`corun cleanup`, and every `corun run` at its start):
 * replays the journals (cgroup/journal.h) whose runner is dead. */

#include <stdbool.h>

typedef struct CleanupReport {
        unsigned journals, groups_removed, dirs_removed, processes_killed;
        unsigned journals_live;      /* journals of runners still alive, left alone */
        unsigned containers_removed; /* containers of jobs in images (`ENGINE rm -f`) */
        unsigned scopes_stopped;     /* systemd scopes stopped (StopUnit; dry run: to stop) */
        char **removed;              /* NULL-terminated list of "cgroup PATH" / "dir PATH" / "container NAME" lines removed */
        char **errors;               /* NULL-terminated messages */
} CleanupReport;
/* Finds journals of dead runners in dir (NULL = /run/corun), kills what is left in
 * their groups, removes groups bottom-up and scratch dirs, deletes the journals.
 * Runners are told apart by pid + start time + boot id; journals of live ones are
 * counted in journals_live and left alone. Paths are validated (see
 * docs/partitions.md); a journal with refused paths or failures is kept and its
 * problems are in errors. Returns < 0 only when dir cannot be read at all. */
int journal_cleanup_dead(const char *dir, CleanupReport *ret);
/* The same; with dry_run nothing is killed or removed and the report lists what
 * would be (processes_killed counts the processes found). */
int journal_cleanup(const char *dir, bool dry_run, CleanupReport *ret);
void cleanup_report_done(CleanupReport *r);

/* Whether a journal of run `run_id` may name this path (so a tampered journal cannot
 * make cleanup kill or delete anything else). Both kinds: absolute, no "." or ".."
 * or empty component, no newline. "cgroup": holds the components "corun/<run-id>"
 * (or ends in "corun", the shared parent) and, when it exists, lies in a cgroup file
 * system. "dir": holds a component "corun-<run-id>" (or "corun-<run-id>-*", or
 * "corun/<run-id>"), lies in no cgroup file system and no existing component of it
 * is a symlink. */
bool journal_path_is_valid(const char *kind, const char *path, const char *run_id);
