/* SPDX-License-Identifier: MIT */
#pragma once

/* A job's "gpus" in result.json, both ways (docs/result-schema.md "gpus" and its "limit"),
 * for result-write.c and result-read.c. */

#include <jansson.h>

#include "result/json-reader.h"
#include "result/result.h"

/* The array, or NULL on an allocation failure. */
json_t *result_job_gpus_to_json(const JobResult *j);
/* Reads the array a into the JobResult userdata (a ReadFn for rd_section). */
int result_job_gpus_from_json(Reader *rd, json_t *a, void *userdata);
