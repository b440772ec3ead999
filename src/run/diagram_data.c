/* Storage of a bifurcation diagram: growable arrays of branches, points and special points. */
#include "attnbif/diagram.h"

#include <stdlib.h>
#include <string.h>

const char *ab_special_type_name(ab_special_type type)
{
    static const char *const names[] = {"", "fold", "pitchfork", "transcritical", "hopf", "end"};
    return (unsigned)type <= AB_SP_END ? names[type] : "?";
}

const char *ab_special_label(ab_special_type type)
{
    static const char *const labels[] = {"", "LP", "BP", "BP", "HB", "EP"};
    return (unsigned)type <= AB_SP_END ? labels[type] : "?";
}

const char *ab_criticality_name(ab_criticality crit)
{
    static const char *const names[] = {"", "supercritical", "subcritical", "degenerate", "unknown"};
    return (unsigned)crit <= AB_CRIT_UNKNOWN ? names[crit] : "?";
}

void ab_diagram_init(ab_diagram *d, const ab_spec *spec, ab_param_id parameter)
{
    memset(d, 0, sizeof *d);
    d->spec = spec;
    d->parameter = parameter;
}

void ab_diagram_free(ab_diagram *d)
{
    for (int i = 0; i < d->n_branches; i++) free(d->branches[i].points);
    for (int i = 0; i < d->n_special; i++) {
        ab_profile_free(&d->special[i].nodes);
        free(d->special[i].x);
        free(d->special[i].tangent);
        free(d->special[i].null_vector);
        free(d->special[i].map);
    }
    free(d->branches);
    free(d->special);
    free(d->cluster_rows);
    memset(d, 0, sizeof *d);
}

ab_branch *ab_diagram_add_branch(ab_diagram *d, int parent_special)
{
    if (d->n_branches == d->cap_branches) {
        int cap = d->cap_branches ? 2 * d->cap_branches : 8;
        ab_branch *b = realloc(d->branches, sizeof *b * (size_t)cap);
        if (!b) return NULL;
        d->branches = b;
        d->cap_branches = cap;
    }
    ab_branch *b = &d->branches[d->n_branches];
    memset(b, 0, sizeof *b);
    b->id = ++d->n_branches;
    b->parent_special = parent_special;
    return b;
}

ab_status ab_branch_add_point(ab_branch *b, const ab_branch_point *p, ab_error *err)
{
    if (b->n_points == b->cap) {
        int cap = b->cap ? 2 * b->cap : 64;
        ab_branch_point *pts = realloc(b->points, sizeof *pts * (size_t)cap);
        if (!pts) return ab_error_set(err, AB_ENOMEM, "out of memory storing branch %d", b->id);
        b->points = pts;
        b->cap = cap;
    }
    b->points[b->n_points++] = *p;
    return AB_OK;
}

int ab_diagram_add_special(ab_diagram *d, const ab_special_point *sp)
{
    if (d->n_special == d->cap_special) {
        int cap = d->cap_special ? 2 * d->cap_special : 16;
        ab_special_point *s = realloc(d->special, sizeof *s * (size_t)cap);
        if (!s) return -1;
        d->special = s;
        d->cap_special = cap;
    }
    d->special[d->n_special] = *sp;
    return d->n_special++;
}

long ab_diagram_add_clusters(ab_diagram *d, const ab_cluster *clusters, int n)
{
    if (n < 0) return -1;
    if (d->n_cluster_rows + n > d->cap_cluster_rows) {
        long cap = d->cap_cluster_rows ? 2 * d->cap_cluster_rows : 256;
        while (cap < d->n_cluster_rows + n) cap *= 2;
        ab_cluster *c = realloc(d->cluster_rows, sizeof *c * (size_t)cap);
        if (!c) return -1;
        d->cluster_rows = c;
        d->cap_cluster_rows = cap;
    }
    const long first = d->n_cluster_rows;
    if (n > 0) memcpy(d->cluster_rows + first, clusters, sizeof *clusters * (size_t)n);
    d->n_cluster_rows += n;
    return first;
}
