/* SPDX-License-Identifier: MIT */
#pragma once

/* The journal: the write-ahead log of what a run creates (cgroups, scratch dirs),
 * written down before each is created, and read back by the cleanup of dead runs
 * (cgroup/cleanup.h). Depends on util/ only: it knows paths, not what they are. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JOURNAL_DIR_DEFAULT "/run/corun"
/* /run/corun for root; $XDG_RUNTIME_DIR/corun for other users where it is set. */
const char *journal_dir_default(void);

typedef struct Journal Journal;

/* /run/corun/<run-id>.journal: one line per resource, written *before* the resource is
 * created, so a kill -9 at any point leaves a complete list (a completed write(2) is in the
 * page cache; nothing is synced: see journal.c). */
int journal_open(const char *dir, const char *run_id, Journal **ret); /* dir NULL = /run/corun */
/* kind: "cgroup" | "dir" | "scope" | "results" (the results directory, for the temporary
 * files a killed writer may leave) | "container" (path: "<engine's absolute path> <name>") */
int journal_add(Journal *j, const char *kind, const char *path);
/* The same for n paths of one kind with one write(2) (a group's
 * directories in every hierarchy). Every path is checked before anything is written;
 * create none of them unless it returns >= 0. */
int journal_add_many(Journal *j, const char *kind, const char *const *paths, size_t n);
/* Queues a line without writing it: it is written with the next journal_add,
 * journal_add_many or journal_flush, in the same write(2). Create
 * the resource only after one of those returned >= 0 (journal_flush when in doubt: it
 * does nothing when nothing is queued). Lines still queued at journal_free are
 * dropped: they name nothing that was created. */
int journal_stage(Journal *j, const char *kind, const char *path);
int journal_flush(Journal *j);
const char *journal_path(const Journal *j);
/* Marks a clean finish: removes the journal file and frees j. */
int journal_close_clean(Journal *j);
/* Frees j and leaves the file: a later cleanup replays it once this runner is dead. */
Journal *journal_free(Journal *j);

/* Run ids, and the group names cgroup/ builds with the same alphabet: letters, digits
 * and ._-+@#=, no leading dot. They become file names in several file systems and
 * words of the journal's header line. */
bool journal_name_is_valid(const char *s, size_t n);
/* Field 22 of /proc/<pid>/stat (start time in clock ticks since boot). */
int proc_start_time(pid_t pid, uint64_t *ret);

/* ---- reading a journal back ---- */

typedef struct JournalEntry {
        char *kind, *path; /* point into JournalContents.text */
} JournalEntry;

typedef struct JournalContents {
        /* The header: who wrote it (pid + start time + boot id make the runner unique). */
        pid_t pid;
        uint64_t start;
        char boot[64];
        char run[256];
        /* Every line after it, in order; a line torn by a crash is handed over as it is
         * (a torn path does not exist, or fails validation). */
        JournalEntry *entries;
        size_t n_entries;
        char *text;
} JournalContents;

/* Reads the journal at path. -ENOENT when it is gone, -EINVAL when it is not a regular
 * file, -EFBIG when it is far larger than any run writes, -EBADMSG without a valid
 * header line; other negative errnos from open/read. */
int journal_read(const char *path, JournalContents *ret);
void journal_contents_done(JournalContents *c);
/* Whether the runner that wrote the journal still lives (same boot, same pid with the
 * same start time, not a zombie). When that cannot be told: true (leave it alone). */
bool journal_runner_alive(const JournalContents *c);

/* Names in a journal directory: "<run-id>.journal" is a journal; ".<run-id>.journal.<pid>"
 * is one journal_open was writing when it was killed (before linking it into place):
 * journal_tmp_name_pid gives that pid, or -EINVAL for any other name. */
bool journal_is_journal_name(const char *name);
int journal_tmp_name_pid(const char *name, pid_t *ret);
