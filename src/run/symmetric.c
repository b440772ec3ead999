/* Symmetric branching at the multiple branch points of the uniform state on the whole
 * sphere (docs/continuation.md, "Symmetric branching"): the equivariant branching lemma's
 * subgroups (src/disc/symmetry.h) give the directions, the normal form along each gives the
 * predictor, and the branch is followed in the subgroup's fixed space. */
#include "run/builder.h"

#include "disc/sphere.h"
#include "disc/symmetry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the states of a branch with this isotropy look like near the uniform state at
 * degree l (the density's maxima follow the fixed harmonic): a hint, not a measurement. */
static void describe(const char *group, int l, char *out, size_t cap)
{
    if (!strcmp(group, "C_inf_v")) snprintf(out, cap, "axisymmetric, polar (degree %d)", l);
    else if (!strcmp(group, "D_inf_h")) snprintf(out, cap, "axisymmetric, even (degree %d)", l);
    else if (!strcmp(group, "T_d")) snprintf(out, cap, "tetrahedral (degree %d)", l);
    else if (!strcmp(group, "O_h")) snprintf(out, cap, "octahedral (degree %d)", l);
    else if (!strcmp(group, "I_h")) snprintf(out, cap, "icosahedral (degree %d)", l);
    else snprintf(out, cap, "%s (degree %d)", group, l);
}

static int add_sym(ab_builder *c, const ab_group *g, int l, ab_error *err)
{
    if (c->n_syms == c->cap_syms) {
        int cap = c->cap_syms ? 2 * c->cap_syms : 8;
        ab_branch_sym *s = realloc(c->syms, sizeof *s * (size_t)cap);
        if (!s) { ab_error_set(err, AB_ENOMEM, "out of memory"); return 0; }
        c->syms = s;
        c->cap_syms = cap;
    }
    ab_branch_sym *s = &c->syms[c->n_syms];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", g->name);
    describe(g->name, l, s->description, sizeof s->description);
    s->order = g->order;
    s->axial = g->continuous;
    for (int e = 0; e < g->order; e++) s->mirror |= g->R[9 * e + 8] < -0.5;
    if (!(s->R = malloc(sizeof(double) * 9 * (size_t)g->order))) { ab_error_set(err, AB_ENOMEM, "out of memory"); return 0; }
    memcpy(s->R, g->R, sizeof(double) * 9 * (size_t)g->order);
    return ++c->n_syms;
}

void ab_builder_free_syms(ab_builder *c)
{
    for (int i = 0; i < c->n_syms; i++) free(c->syms[i].R);
    free(c->syms);
    c->syms = NULL;
    c->n_syms = c->cap_syms = 0;
}

ab_status ab_builder_project(void *ctx, double *x, double *tau, ab_error *err)
{
    ab_builder *c = ctx;
    if (c->cur_sym <= 0) return AB_OK;
    const ab_branch_sym *s = &c->syms[c->cur_sym - 1];
    if (s->axial) return ab_sphere_symmetrize_axial(c->disc, tau ? tau : x, s->mirror, err);
    if (tau) return ab_sphere_symmetrize_vector(c->disc, tau, s->order, s->R, err);
    ab_status st = ab_builder_set_p(c, x[c->n], err);
    return st ? st : ab_sphere_symmetrize(c->disc, x, s->order, s->R, NULL, err);
}

/* The degree-l kernel at the uniform state: its harmonics on the grid (orthonormal in the
 * quadrature inner product) and the followed direction phi among them. */
typedef struct {
    int n, dim;
    const double *w;
    double *chi; /* dim x n */
    const double *phi;
} kernel_ctx;

/* v <- v minus its components along the kernel directions orthogonal to phi. */
static ab_status kernel_clean(void *ctx, double *v, ab_error *err)
{
    (void)err;
    kernel_ctx *k = ctx;
    double pv = 0.0, pp = 0.0;
    for (int i = 0; i < k->n; i++) pv += k->w[i] * k->phi[i] * v[i], pp += k->w[i] * k->phi[i] * k->phi[i];
    const double along = pv / pp;
    for (int j = 0; j < k->dim; j++) {
        const double *chi = k->chi + (size_t)j * k->n;
        double cv = 0.0;
        for (int i = 0; i < k->n; i++) cv += k->w[i] * chi[i] * v[i];
        for (int i = 0; i < k->n; i++) v[i] -= cv * chi[i];
    }
    for (int i = 0; i < k->n; i++) v[i] += along * k->phi[i];
    return AB_OK;
}

/* r <- r minus its components along W chi for the kernel directions chi orthogonal to phi
 * (J is self-adjoint in the quadrature inner product at the uniform state, so W chi span
 * the left kernel there). */
static ab_status kernel_clean_rhs(void *ctx, double *r, ab_error *err)
{
    (void)err;
    kernel_ctx *k = ctx;
    double pr = 0.0, pp = 0.0;
    for (int i = 0; i < k->n; i++) pr += k->phi[i] * r[i], pp += k->w[i] * k->phi[i] * k->phi[i];
    const double along = pr / pp;
    for (int j = 0; j < k->dim; j++) {
        const double *chi = k->chi + (size_t)j * k->n;
        double cr = 0.0;
        for (int i = 0; i < k->n; i++) cr += chi[i] * r[i];
        for (int i = 0; i < k->n; i++) r[i] -= cr * k->w[i] * chi[i];
    }
    for (int i = 0; i < k->n; i++) r[i] += along * k->w[i] * k->phi[i];
    return AB_OK;
}

ab_status ab_builder_symmetric_branches(ab_builder *c, ab_branch *br, const double *x, int l, double dmu_dp,
                                        ab_special_point *sp, const ab_stab_info *si, int *idx, ab_error *err)
{
    const int n = c->n;
    *idx = -1;
    ab_sym_rep *rep = NULL;
    ab_group_set *set = NULL;
    ab_sym_search_result *res = NULL;
    ab_pending *pds = NULL;
    double *psi = malloc(sizeof(double) * n);
    /* the continuous (axial) groups average exactly on the state's degree, so that the
     * projection along a branch is exact (docs/symmetry.md) */
    ab_status st = psi ? AB_OK : ab_error_set(err, AB_ENOMEM, "out of memory");
    if (!st) st = ab_sym_rep_create_degree(l, &rep, err);
    if (!st) st = ab_group_set_create(l < 2 ? 2 : l, ab_disc_max_degree(c->disc), &set, err);
    if (!st) st = ab_sym_search(rep, set->g, set->count, &res, err);
    if (!st && !(pds = calloc((size_t)res->nbranch, sizeof *pds))) st = ab_error_set(err, AB_ENOMEM, "out of memory");
    kernel_ctx kc = {n, 2 * l + 1, ab_disc_weights(c->disc), NULL, NULL};
    double *unit = calloc((size_t)(l + 1) * (size_t)(l + 1), sizeof(double));
    if (!st && (!unit || !(kc.chi = malloc(sizeof(double) * (size_t)n * (size_t)kc.dim))))
        st = ab_error_set(err, AB_ENOMEM, "out of memory");
    for (int m = -l; !st && m <= l; m++) {
        unit[l * l + l + m] = 1.0;
        st = ab_sphere_synthesis(c->disc, unit, l, kc.chi + (size_t)(m + l) * n, err);
        unit[l * l + l + m] = 0.0;
    }
    int transcritical = 0, crit_any = 0;
    char names[120] = "";
    int queued = 0;
    for (int i = 0; !st && i < res->nbranch; i++) {
        const ab_sym_branch *sb = &res->branch[i];
        ab_pending *pd = &pds[i];
        if (!(pd->phi = malloc(sizeof(double) * n))) { st = ab_error_set(err, AB_ENOMEM, "out of memory"); break; }
        /* the kernel direction: the fixed harmonic on the grid; at the uniform state J is
         * self-adjoint in the quadrature inner product, so the left kernel vector is W phi */
        if ((st = ab_sphere_synthesis(c->disc, sb->coeffs, l, pd->phi, err))) break;
        const double *w = ab_disc_weights(c->disc);
        double nrm = 0.0;
        for (int k = 0; k < n; k++) {
            psi[k] = w[k] * pd->phi[k];
            nrm += psi[k] * psi[k];
        }
        for (int k = 0; k < n; k++) psi[k] /= sqrt(nrm);
        ab_special_point spi = *sp;
        ab_error scratch = {0};
        kc.phi = pd->phi;
        const ab_kernel_clean clean = {kernel_clean, kernel_clean_rhs, &kc};
        if (ab_builder_reduce_along(c, x, dmu_dp, psi, sb->flip, &clean, &spi, pd, &scratch) != AB_OK) {
            ab_builder_say(c, "the %s branch at %s = %.10g could not be classified: %s", sb->name, ab_builder_par_name(c),
                           x[n], scratch.msg);
            free(pd->phi);
            pd->phi = NULL;
            continue;
        }
        transcritical |= spi.type == AB_SP_TRANSCRITICAL;
        if (spi.type == AB_SP_PITCHFORK && !crit_any) {
            sp->criticality = spi.criticality;
            crit_any = 1;
        }
        const ab_group *g = res->cand[sb->candidate].group;
        int k = add_sym(c, g, l, err);
        if (!k) { st = AB_ENOMEM; break; }
        pd->sym = k;
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s", queued ? ", " : "", sb->name);
        queued++;
    }
    if (!st) {
        sp->type = transcritical ? AB_SP_TRANSCRITICAL : AB_SP_PITCHFORK;
        if (transcritical) sp->criticality = AB_CRIT_NONE;
        else if (!crit_any) sp->criticality = AB_CRIT_UNKNOWN;
        snprintf(sp->note, sizeof sp->note, "%d-fold (degree %d), O(3) broken: %d branch%s by symmetry: %s", 2 * l + 1, l, queued,
                 queued == 1 ? "" : "es", names);
        int k = ab_builder_add_special(c, br, x, sp, si, err);
        if (k < 0) st = AB_ENOMEM;
        *idx = k;
        for (int i = 0; !st && res && i < res->nbranch; i++) {
            if (!pds[i].phi) continue;
            if (!c->cs->switch_branches) { free(pds[i].phi); pds[i].phi = NULL; continue; }
            pds[i].special = k;
            if ((st = ab_builder_push_pending(c, x, &pds[i], err))) break;
            pds[i].phi = NULL; /* the queue owns it */
        }
    }
    for (int i = 0; pds && res && i < res->nbranch; i++) free(pds[i].phi);
    free(pds);
    free(psi);
    free(unit);
    free(kc.chi);
    ab_sym_search_result_destroy(res);
    ab_group_set_destroy(set);
    ab_sym_rep_destroy(rep);
    return st;
}
