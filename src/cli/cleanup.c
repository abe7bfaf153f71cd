/* SPDX-License-Identifier: MIT */
#include "cli/cli.h"

int cmd_cleanup(int argc, char **argv) {
        log_error("'cleanup' is being written");
        return 1;
}
