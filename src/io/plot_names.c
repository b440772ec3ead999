/* Branch names for legends: what a branch is, from its observables and the degree of the
 * branch point it was born at (docs/output-run.md, "Branch names"). */
#include "io/plot.h"

#include <math.h>
#include <stdio.h>

void ab_plot_branch_name(const ab_diagram *d, const ab_branch *br, char *name, size_t cap)
{
    if (cap == 0) return;
    if (br->name[0]) { /* set by whoever knows better (symmetry groups of sphere states) */
        snprintf(name, cap, "%s", br->name);
        return;
    }
    /* A switched branch's row 0 is its branch point, on the parent branch: skip it. */
    const int first = br->parent_special >= 0 && br->n_points > 1 ? 1 : 0;
    double rmax = 0.0, smax = 0.0, s_at = 0.0;
    int kmin = -1, kmax = -1;
    for (int i = first; i < br->n_points; i++) {
        const ab_branch_point *p = &br->points[i];
        if (fabs(p->r) > rmax) rmax = fabs(p->r);
        if (fabs(p->S) > smax) smax = fabs(p->S), s_at = p->S;
        if (p->n_clusters >= 0) {
            if (kmin < 0 || p->n_clusters < kmin) kmin = p->n_clusters;
            if (p->n_clusters > kmax) kmax = p->n_clusters;
        }
    }
    if (br->n_points == 0) {
        snprintf(name, cap, "branch %d", br->id);
        return;
    }
    if (d->spec && d->spec->disc.type == AB_DISC_SPHERE && kmax > 0) {
        /* the whole sphere: told apart by the number of clusters (docs/sphere.md); r = S = 0
         * does not make a state uniform there (a tetrahedron of clusters has both) */
        /* and by the symmetry verified on the first state (docs/sphere.md, "Symmetry of a state") */
        const char *sym = br->points[first].symmetry;
        const char *sep = sym[0] ? ", " : "";
        if (kmin == kmax) snprintf(name, cap, "%d-cluster%s%s", kmax, sep, sym);
        else snprintf(name, cap, "%d to %d clusters%s%s", kmin, kmax, sep, sym);
        return;
    }
    if (rmax < AB_PLOT_ZERO_TOL && smax < AB_PLOT_ZERO_TOL) {
        snprintf(name, cap, "uniform");
        return;
    }
    /* Born on the uniform branch at degree l: the branch has the symmetry of P_l there. */
    int l = -1;
    if (br->parent_special >= 0 && br->parent_special < d->n_special) l = d->special[br->parent_special].l;
    const int circle = d->spec && d->spec->model.d == 2;
    if (rmax < AB_PLOT_ZERO_TOL) { /* even states: two antipodal clusters or a belt */
        if (circle || s_at > 0.0) snprintf(name, cap, circle ? "antipodal 2-cluster" : "prolate (antipodal 2-cluster)");
        else snprintf(name, cap, "oblate (girdle)");
        return;
    }
    if (l >= 2) snprintf(name, cap, "l = %d mode (r > 0)", l);
    else if (l == 1 || s_at >= 0.0) snprintf(name, cap, "1-cluster");
    else snprintf(name, cap, "polar, oblate (r > 0, S < 0)");
}
