/* Typed, range-checked lookups in a libyaml document; every error names
 * file:line:column and the dotted field. */
#include "spec/yaml_util.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ab_status ab_y_fail(ab_yctx *ctx, const yaml_node_t *node, const char *field, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (node)
        return ab_error_set(ctx->err, AB_ESPEC, "%s:%lu:%lu: %s: %s", ctx->path,
                            (unsigned long)node->start_mark.line + 1,
                            (unsigned long)node->start_mark.column + 1, field, what);
    return ab_error_set(ctx->err, AB_ESPEC, "%s: %s: %s", ctx->path, field, what);
}

static const char *scalar(const yaml_node_t *node)
{
    return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

yaml_node_t *ab_y_get(ab_yctx *ctx, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *k = scalar(yaml_document_get_node(ctx->doc, p->key));
        if (k && strcmp(k, key) == 0) return yaml_document_get_node(ctx->doc, p->value);
    }
    return NULL;
}

static void join_field(char *out, size_t cap, const char *prefix, const char *key)
{
    if (prefix && prefix[0]) snprintf(out, cap, "%s.%s", prefix, key);
    else snprintf(out, cap, "%s", key);
}

/* Edit distance (insertions, deletions, substitutions) between two short keys, capped. */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63 || lb > 63) return 99;
    int prev[64], cur[64];
    for (int j = 0; j <= lb; j++) prev[j] = j;
    for (int i = 1; i <= la; i++) {
        cur[0] = i;
        for (int j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]), del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
    }
    return prev[lb];
}

ab_status ab_y_check_map(ab_yctx *ctx, const yaml_node_t *node, const char *prefix,
                         const char *const *allowed)
{
    if (!node || node->type != YAML_MAPPING_NODE)
        return ab_y_fail(ctx, node, prefix && prefix[0] ? prefix : "(top level)",
                         "expected a mapping of keys to values");
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *knode = yaml_document_get_node(ctx->doc, p->key);
        const char *k = scalar(knode);
        char field[256];
        if (!k) return ab_y_fail(ctx, knode, prefix && prefix[0] ? prefix : "(top level)",
                                 "keys must be plain strings");
        join_field(field, sizeof field, prefix, k);
        int known = 0;
        for (const char *const *a = allowed; *a; a++) known |= strcmp(*a, k) == 0;
        if (!known) {
            char list[512] = "";
            for (const char *const *a = allowed; *a; a++) {
                strncat(list, *a, sizeof list - strlen(list) - 1);
                if (a[1]) strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            /* a likely typo gets a suggestion */
            const char *best = NULL;
            int best_d = 3;
            for (const char *const *c = allowed; *c; c++) {
                int dist = edit_distance(k, *c);
                if (dist < best_d) { best_d = dist; best = *c; }
            }
            if (best) return ab_y_fail(ctx, knode, field, "unknown key; did you mean '%s'? (allowed here: %s)", best, list);
            return ab_y_fail(ctx, knode, field, "unknown key (allowed here: %s)", list);
        }
        for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < p; q++) {
            const char *k2 = scalar(yaml_document_get_node(ctx->doc, q->key));
            if (k2 && strcmp(k2, k) == 0) return ab_y_fail(ctx, knode, field, "duplicate key");
        }
    }
    return AB_OK;
}

ab_status ab_y_node_double(ab_yctx *ctx, const yaml_node_t *node, const char *field, double *out)
{
    const char *s = scalar(node);
    if (!s || !s[0]) return ab_y_fail(ctx, node, field, "expected a number");
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    const int range_err = errno == ERANGE;
    /* strtod also reads inf, nan and hex floats; a spec number is decimal (digits, sign,
     * point, exponent), so YAML 1.1 spellings such as .inf are refused too. */
    if (*end != '\0' || s[strspn(s, "0123456789+-.eE")] != '\0')
        return ab_y_fail(ctx, node, field, "expected a finite number, got '%s'", s);
    if (range_err && fabs(v) > 1.0)
        return ab_y_fail(ctx, node, field, "'%s' overflows double precision (largest %g)", s, DBL_MAX);
    /* An underflow (|x| below the smallest normal double) is read as the nearest double
     * (0 or subnormal) and the range check of the field decides; its message says so. */
    *out = v;
    return AB_OK;
}

ab_status ab_y_node_int(ab_yctx *ctx, const yaml_node_t *node, const char *field, long *out)
{
    const char *s = scalar(node);
    if (!s || !s[0]) return ab_y_fail(ctx, node, field, "expected an integer");
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return ab_y_fail(ctx, node, field, "expected an integer, got '%s'", s);
    *out = v;
    return AB_OK;
}

static void describe_range(char *out, size_t cap, ab_range r)
{
    if (isinf(r.lo) && isinf(r.hi)) snprintf(out, cap, "any finite number");
    else if (isinf(r.hi)) snprintf(out, cap, "%s %g", r.lo_open ? ">" : ">=", r.lo);
    else if (isinf(r.lo)) snprintf(out, cap, "%s %g", r.hi_open ? "<" : "<=", r.hi);
    else snprintf(out, cap, "in %s%g, %g%s", r.lo_open ? "(" : "[", r.lo, r.hi, r.hi_open ? ")" : "]");
}

ab_status ab_y_double(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field,
                      double def, ab_range range, double *out, int *present)
{
    yaml_node_t *node = ab_y_get(ctx, map, key);
    if (present) *present = node != NULL;
    if (!node) { *out = def; return AB_OK; }
    /* set on every path ab_y_node_double returns AB_OK; initialised because gcc -O3 cannot
     * see that ab_y_fail's status is never AB_OK (-Wmaybe-uninitialized) */
    double v = 0.0;
    ab_status st = ab_y_node_double(ctx, node, field, &v);
    if (st) return st;
    int bad = (range.lo_open ? v <= range.lo : v < range.lo) || (range.hi_open ? v >= range.hi : v > range.hi);
    if (bad) {
        char want[128];
        describe_range(want, sizeof want, range);
        errno = 0;
        (void)strtod(scalar(node), NULL);
        if (v == 0.0 && errno == ERANGE)
            return ab_y_fail(ctx, node, field, "must be %s (got %s, which underflows to 0 in double precision)", want,
                             scalar(node));
        return ab_y_fail(ctx, node, field, "must be %s (got %s)", want, scalar(node));
    }
    *out = v;
    return AB_OK;
}

ab_status ab_y_int(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field,
                   long def, long lo, long hi, long *out, int *present)
{
    yaml_node_t *node = ab_y_get(ctx, map, key);
    if (present) *present = node != NULL;
    if (!node) { *out = def; return AB_OK; }
    long v = 0; /* initialised for gcc -O3, as in ab_y_double */
    ab_status st = ab_y_node_int(ctx, node, field, &v);
    if (st) return st;
    if (v < lo || v > hi) return ab_y_fail(ctx, node, field, "must be an integer in [%ld, %ld] (got %ld)", lo, hi, v);
    *out = v;
    return AB_OK;
}

ab_status ab_y_bool(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field,
                    int def, int *out, int *present)
{
    yaml_node_t *node = ab_y_get(ctx, map, key);
    if (present) *present = node != NULL;
    if (!node) { *out = def; return AB_OK; }
    const char *s = scalar(node);
    if (s && strcmp(s, "true") == 0) { *out = 1; return AB_OK; }
    if (s && strcmp(s, "false") == 0) { *out = 0; return AB_OK; }
    return ab_y_fail(ctx, node, field, "expected true or false, got '%s'", s ? s : "(not a scalar)");
}

ab_status ab_y_string(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field,
                      const char *def, char *out, size_t cap, int *present)
{
    yaml_node_t *node = ab_y_get(ctx, map, key);
    if (present) *present = node != NULL;
    const char *s = node ? scalar(node) : def;
    if (node && (!s || !s[0])) return ab_y_fail(ctx, node, field, "expected a non-empty string");
    if (strlen(s) >= cap) return ab_y_fail(ctx, node, field, "longer than %zu characters", cap - 1);
    memcpy(out, s, strlen(s) + 1);
    return AB_OK;
}

ab_status ab_y_enum(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field,
                    int def, const char *const *choices, int *out, int *present)
{
    yaml_node_t *node = ab_y_get(ctx, map, key);
    if (present) *present = node != NULL;
    if (!node) { *out = def; return AB_OK; }
    const char *s = scalar(node);
    char list[256] = "";
    for (int i = 0; choices[i]; i++) {
        if (s && strcmp(s, choices[i]) == 0) { *out = i; return AB_OK; }
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
        if (choices[i + 1]) strncat(list, " | ", sizeof list - strlen(list) - 1);
    }
    return ab_y_fail(ctx, node, field, "must be one of %s (got '%s')", list, s ? s : "(not a scalar)");
}

int ab_y_seq_len(const yaml_node_t *node)
{
    if (!node || node->type != YAML_SEQUENCE_NODE) return 0;
    return (int)(node->data.sequence.items.top - node->data.sequence.items.start);
}

yaml_node_t *ab_y_seq_item(ab_yctx *ctx, const yaml_node_t *node, int i)
{
    if (i < 0 || i >= ab_y_seq_len(node)) return NULL;
    return yaml_document_get_node(ctx->doc, node->data.sequence.items.start[i]);
}
