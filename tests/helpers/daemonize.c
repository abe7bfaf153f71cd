/* SPDX-License-Identifier: MIT */
/* daemonize SECONDS [--keep-stdio]: double-forks a child in a new session that sleeps
 * SECONDS (a duration: 1000, 1.5, 500ms), prints its pid as the first line and exits 0 at
 * once, as a daemon's starter does. The daemon's stdio goes to /dev/null unless
 * --keep-stdio, so that by default nothing but the cgroup ties it to the job. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/parse.h"

static void sleep_usec(uint64_t usec) {
        struct timespec ts = {.tv_sec = (time_t)(usec / 1000000), .tv_nsec = (long)(usec % 1000000) * 1000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int main(int argc, char **argv) {
        uint64_t usec;
        bool keep_stdio = argc == 3 && strcmp(argv[2], "--keep-stdio") == 0;
        int pipefd[2];

        if (argc < 2 || argc > 3 || (argc == 3 && !keep_stdio)) {
                fprintf(stderr, "usage: daemonize SECONDS [--keep-stdio]\n");
                return 2;
        }
        if (parse_duration(argv[1], &usec) < 0) {
                fprintf(stderr, "daemonize: invalid SECONDS '%s'\n", argv[1]);
                return 2;
        }
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                perror("daemonize: pipe");
                return 1;
        }
        pid_t mid = fork();
        if (mid < 0) {
                perror("daemonize: fork");
                return 1;
        }
        if (mid == 0) {
                close(pipefd[0]);
                if (setsid() < 0)
                        _exit(1);
                pid_t daemon = fork();
                if (daemon < 0)
                        _exit(1);
                if (daemon > 0) {
                        /* The middle process tells the starter the pid and leaves: the daemon is
                         * reparented to init (or the nearest subreaper). */
                        ssize_t k = write(pipefd[1], &daemon, sizeof daemon);
                        _exit(k == (ssize_t)sizeof daemon ? 0 : 1);
                }
                close(pipefd[1]);
                if (!keep_stdio) {
                        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                        if (null >= 0) {
                                dup2(null, 0);
                                dup2(null, 1);
                                dup2(null, 2);
                        }
                }
                if (chdir("/") < 0)
                        _exit(1);
                sleep_usec(usec);
                _exit(0);
        }
        close(pipefd[1]);
        pid_t daemon;
        ssize_t k;
        while ((k = read(pipefd[0], &daemon, sizeof daemon)) < 0 && errno == EINTR)
                ;
        int status;
        while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
                ;
        if (k != (ssize_t)sizeof daemon) {
                fprintf(stderr, "daemonize: the daemon did not start\n");
                return 1;
        }
        printf("%d\n", (int)daemon);
        return 0;
}
