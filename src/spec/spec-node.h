/* SPDX-License-Identifier: MIT */
#pragma once

/* A small YAML tree built from libyaml's events, with a position on every node, bounded
 * in size and depth, without aliases, with unique string keys in every mapping. The
 * spec reader walks it; libyaml's own document API would expand aliases (a "billion
 * laughs" file) and keeps no quoting style we can rely on. */

#include "spec/spec-internal.h"

#define SPEC_MAX_NODES 500000
#define SPEC_MAX_DEPTH 64

typedef enum NodeType {
        NODE_SCALAR,
        NODE_SEQ,
        NODE_MAP,
} NodeType;

typedef struct Node {
        NodeType type;
        bool plain;          /* an unquoted, untagged scalar: may be a number, a bool or null */
        char *value;         /* scalars: NUL-terminated, holds no NUL */
        struct Node **items; /* a list: n items; a mapping: n pairs as key, value, key, value */
        size_t n;
        size_t used, cap;   /* pointers in items while loading */
        unsigned line, col; /* 1-based */
} Node;

/* Parses one YAML document. Errors carry file:line:col. */
int node_load(const char *file, const char *text, size_t len, Node **ret, SpecError *e);
Node *node_free(Node *n);

static inline const Node *node_key(const Node *map, size_t i) {
        return map->items[2 * i];
}
static inline const Node *node_value(const Node *map, size_t i) {
        return map->items[2 * i + 1];
}
/* The value under `key` in a mapping, or NULL. */
const Node *node_get(const Node *map, const char *key);

/* The number of nodes in the subtree, n included. */
size_t node_count(const Node *n);
/* `key:` with nothing after it, `~` or `null`. */
bool node_is_null(const Node *n);
/* "a mapping", "a list", "nothing", "'text'": for "expected X, got Y". */
const char *node_describe(const Node *n, char *buf, size_t size);
