/* SPDX-License-Identifier: MIT */
#include "cli/cli.h"

int cmd_run(int argc, char **argv) {
        log_error("'run' is being written");
        return 1;
}
