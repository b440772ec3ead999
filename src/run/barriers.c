/* Free-energy barriers along a bifurcation diagram of a gradient model: saddles against the
 * stable states they separate, and the Eyring-Kramers lifetime (docs/metastability.md). */
#include "attnbif/barriers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ab_barrier_set_free(ab_barrier_set *set)
{
    free(set->rows);
    memset(set, 0, sizeof *set);
}

double ab_barrier_lifetime(const ab_barrier *row, double n)
{
    return row->prefactor * exp(n * row->barrier / row->kappa);
}

/* The largest real part over the monitored sectors (NaN if none). */
static double lead(const ab_branch_point *p)
{
    double m = NAN;
    for (int k = 0; k < AB_MAX_SECTORS; k++)
        if (isfinite(p->lead_re[k]) && !(p->lead_re[k] <= m)) m = p->lead_re[k];
    return m;
}

/* Are branches a and b connected in the diagram (the same, or one born on the other)? */
static int connected(const ab_diagram *d, const ab_branch *a, const ab_branch *b)
{
    if (a == b) return 1;
    const int pa = a->parent_special, pb = b->parent_special;
    if (pa >= 0 && pa < d->n_special && d->special[pa].branch == b->id) return 1;
    if (pb >= 0 && pb < d->n_special && d->special[pb].branch == a->id) return 1;
    return 0;
}

/* The free energy of branch b's stable states at kappa, by cubic Hermite interpolation
 * between two consecutive stable rows that bracket kappa (slopes dE/dkappa = -entropy, the
 * envelope theorem: E is stationary in rho at a stationary state). *mu gets the
 * interpolated largest eigenvalue. 0 if no stable stretch of b covers kappa. */
static int stable_energy_at(const ab_branch *b, double kappa, double *e, double *mu)
{
    for (int k = 1; k < b->n_points; k++) {
        const ab_branch_point *p0 = &b->points[k - 1], *p1 = &b->points[k];
        if (p0->n_unstable != 0 || p1->n_unstable != 0) continue;
        if (!isfinite(p0->free_energy) || !isfinite(p1->free_energy)) continue;
        const double h = p1->kappa - p0->kappa;
        if (h == 0.0 || (kappa - p0->kappa) * (kappa - p1->kappa) > 0.0) continue;
        const double s = (kappa - p0->kappa) / h, s2 = s * s, s3 = s2 * s;
        *e = (2 * s3 - 3 * s2 + 1) * p0->free_energy + (s3 - 2 * s2 + s) * (-p0->entropy * h) +
             (-2 * s3 + 3 * s2) * p1->free_energy + (s3 - s2) * (-p1->entropy * h);
        const double m0 = lead(p0), m1 = lead(p1);
        *mu = (s == 0.0 || !isfinite(m1)) ? m0 : (s == 1.0 || !isfinite(m0)) ? m1 : m0 + s * (m1 - m0);
        return 1;
    }
    return 0;
}

static ab_status add(ab_barrier_set *set, const ab_barrier *row, ab_error *err)
{
    if (set->n == set->cap) {
        const int cap = set->cap ? 2 * set->cap : 64;
        ab_barrier *r = realloc(set->rows, sizeof *r * (size_t)cap);
        if (!r) return ab_error_set(err, AB_ENOMEM, "out of memory");
        set->rows = r;
        set->cap = cap;
    }
    set->rows[set->n++] = *row;
    return AB_OK;
}

ab_status ab_diagram_barriers(const ab_diagram *d, ab_barrier_set *set, ab_error *err)
{
    memset(set, 0, sizeof *set);
    if (d->parameter != AB_PARAM_KAPPA) return AB_OK; /* barriers are compared at one kappa */
    for (int s = 0; s < d->n_branches; s++) {
        const ab_branch *sb = &d->branches[s];
        for (int k = 0; k < sb->n_points; k++) {
            const ab_branch_point *p = &sb->points[k];
            /* an unstable state away from special rows (where an eigenvalue is zero by
             * definition and the count is one side's) */
            if (p->n_unstable < 1 || p->label != AB_SP_NONE || !isfinite(p->free_energy)) continue;
            for (int b = 0; b < d->n_branches; b++) {
                const ab_branch *tb = &d->branches[b];
                if (!connected(d, sb, tb)) continue;
                double e = NAN, mu = NAN;
                if (!stable_energy_at(tb, p->kappa, &e, &mu)) continue;
                ab_barrier row = {.kappa = p->kappa,
                                  .beta = p->beta,
                                  .saddle_branch = sb->id,
                                  .saddle_point = k,
                                  .morse_index = p->n_unstable,
                                  .stable_branch = tb->id,
                                  .e_saddle = p->free_energy,
                                  .e_stable = e,
                                  .barrier = p->free_energy - e,
                                  .mu_unstable = lead(p),
                                  .mu_stable = mu,
                                  .prefactor = NAN};
                if (row.barrier < 0.0) continue; /* not a barrier out of that state */
                if (row.morse_index == 1 && row.mu_unstable > 0.0 && row.mu_stable < 0.0)
                    row.prefactor = 2.0 * 3.14159265358979323846 / sqrt(row.mu_unstable * -row.mu_stable);
                ab_status st = add(set, &row, err);
                if (st) return st;
            }
        }
    }
    return AB_OK;
}
