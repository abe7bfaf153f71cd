/* SPDX-License-Identifier: MIT */
/* corun cleanup: replays the journals of dead runners (see docs/partitions.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cli/cli.h"

static const char cleanup_usage[] =
        "Usage: corun cleanup [--dry-run] [--journal-dir DIR] [-q]\n"
        "\n"
        "Removes what runs killed without a chance to clean up left behind: removes their\n"
        "containers (jobs in images), kills the processes still in their groups, removes the\n"
        "groups and the scratch dirs and stops their systemd scopes, as listed in their\n"
        "journals. Journals of runs that are still alive are left alone.\n"
        "\n"
        "  -n, --dry-run          only list what would be removed\n"
        "      --journal-dir DIR  where the journals are (default /run/corun; for users other\n"
        "                         than root $XDG_RUNTIME_DIR/corun)\n"
        "  -q, --quiet            print only errors\n"
        "  -h, --help             this text\n";

int cmd_cleanup(int argc, char **argv) {
        static const struct option options[] = {
                {"dry-run", no_argument, NULL, 'n'},
                {"journal-dir", required_argument, NULL, 'J'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *dir = NULL;
        bool dry_run = false, quiet = false;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, ":nqh", options, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        dry_run = true;
                        break;
                case 'J':
                        dir = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        fputs(cleanup_usage, stdout);
                        return 0;
                case ':':
                        log_error("cleanup: option '%s' needs a value; see 'corun cleanup --help'",
                                  argv[optind - 1]);
                        return 2;
                default:
                        log_error("cleanup: unknown option '%s'; see 'corun cleanup --help'",
                                  argv[optind - 1]);
                        return 2;
                }
        }
        if (optind < argc) {
                log_error("cleanup: unexpected argument '%s'; see 'corun cleanup --help'", argv[optind]);
                return 2;
        }
        /* On a systemd host a user's runs are in their user manager's scopes and their
         * journals in $XDG_RUNTIME_DIR/corun: theirs to clean up. */
        if (!dry_run && geteuid() != 0 && cg_systemd_scope_wanted(NULL) <= 0)
                log_warning("cleanup: not running as root; removing groups and other users' dirs will "
                            "likely fail");

        CleanupReport rep;
        int r = journal_cleanup(dir, dry_run, &rep);
        if (r < 0) {
                log_error("cleanup: cannot read the journals in %s: %s", dir ? dir : journal_dir_default(),
                          strerror(-r));
                return 1;
        }
        const char *verb = dry_run ? "would remove" : "removed";
        if (!quiet)
                for (char **s = rep.removed; s && *s; s++)
                        printf("%s %s\n", verb, *s);
        bool failed = rep.errors && rep.errors[0];
        for (char **s = rep.errors; s && *s; s++)
                log_error("cleanup: %s", *s);
        if (!quiet) {
                if (rep.journals == 0 && !failed)
                        printf("nothing to clean");
                else
                        printf("%s %u dead run(s): %u group(s), %u dir(s), %s %u process(es)",
                               dry_run ? "would clean" : "cleaned", rep.journals, rep.groups_removed,
                               rep.dirs_removed, dry_run ? "would kill" : "killed", rep.processes_killed);
                if (rep.containers_removed)
                        printf(", %s %u container(s)", dry_run ? "would remove" : "removed",
                               rep.containers_removed);
                if (rep.scopes_stopped)
                        printf(", %s %u systemd scope(s)", dry_run ? "would stop" : "stopped",
                               rep.scopes_stopped);
                if (rep.journals_live)
                        printf("; %u live run(s) left alone", rep.journals_live);
                putchar('\n');
        }
        cleanup_report_done(&rep);
        return failed ? 1 : 0;
}
