/* SPDX-License-Identifier: MIT */
#include "cli/cli.h"

int cmd_stress(int argc, char **argv) {
        log_error("'stress' is being written");
        return 1;
}
