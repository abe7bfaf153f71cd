/* SPDX-License-Identifier: MIT */
#pragma once

/* ${name} substitution in job arguments and environment values (docs/experiments.md).
 * Pure. */

#include <stddef.h>

/* Returns the value of the parameter `name` (len bytes, not NUL-terminated), or NULL
 * when it is not defined. */
typedef const char *(*SubstLookup)(const char *name, size_t len, void *userdata);

/* Replaces every ${name} in `in` by its value; "$${" is a literal "${" (so that a shell
 * command can still say $${HOME}); a '$' not followed by '{' is kept as it is. Returns 0,
 * -ENOENT for an undefined name, -EINVAL for an unterminated "${" or an empty "${}",
 * -ENOMEM. On -ENOENT/-EINVAL *ret_bad_offset (if given) is the offset of the offending
 * "${" in `in`. *ret (malloc'ed) is written only on success. */
int plan_substitute(const char *in, SubstLookup lookup, void *userdata, char **ret, size_t *ret_bad_offset);
