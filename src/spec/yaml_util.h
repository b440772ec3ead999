/* Internal helpers for reading a libyaml document: typed, range-checked lookups whose
 * errors name file:line:column and the dotted field. Used by every spec section parser. */
#ifndef AB_SPEC_YAML_UTIL_H
#define AB_SPEC_YAML_UTIL_H

#include "attnbif/error.h"

#include <yaml.h>

typedef struct {
    const char *path;
    yaml_document_t *doc;
    ab_error *err;
} ab_yctx;

/* Allowed interval for a number; lo_open/hi_open make the bound strict. Use
 * -INFINITY/INFINITY for none. */
typedef struct {
    double lo, hi;
    int lo_open, hi_open;
} ab_range;

/* Record "path:line:col: field: message" (line and column 1-based) and return AB_ESPEC. */
ab_status ab_y_fail(ab_yctx *ctx, const yaml_node_t *node, const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The value node of key in a mapping, or NULL. */
yaml_node_t *ab_y_get(ab_yctx *ctx, const yaml_node_t *map, const char *key);

/* Fail unless node is a mapping whose keys are all in allowed (NULL-terminated) and
 * unique. prefix is the dotted path of the mapping ("" at top level). */
ab_status ab_y_check_map(ab_yctx *ctx, const yaml_node_t *node, const char *prefix,
                         const char *const *allowed);

/* Typed getters: if key is absent, *out = def and *present = 0 (present may be NULL).
 * Errors on wrong type or out-of-range values. field is the dotted name for messages. */
ab_status ab_y_double(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field,
                      double def, ab_range range, double *out, int *present);
ab_status ab_y_int(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field,
                   long def, long lo, long hi, long *out, int *present);
ab_status ab_y_bool(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field,
                    int def, int *out, int *present);
/* Copies a scalar string into out (size cap); errors if it does not fit. */
ab_status ab_y_string(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field,
                      const char *def, char *out, size_t cap, int *present);
/* A string that must be one of choices (NULL-terminated); *out is its index. */
ab_status ab_y_enum(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field,
                    int def, const char *const *choices, int *out, int *present);
/* Parse a scalar node as a number / integer (for list items). */
ab_status ab_y_node_double(ab_yctx *ctx, const yaml_node_t *node, const char *field, double *out);
ab_status ab_y_node_int(ab_yctx *ctx, const yaml_node_t *node, const char *field, long *out);

/* Items of a sequence node (NULL and count 0 if node is not a sequence). */
int ab_y_seq_len(const yaml_node_t *node);
yaml_node_t *ab_y_seq_item(ab_yctx *ctx, const yaml_node_t *node, int i);

#endif
