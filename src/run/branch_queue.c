/* Branches still to follow: the queue of branch points with their predictors, the tests
 * that a special point or a switched branch is already in the diagram, and branch
 * switching itself (docs/continuation.md, "Branch switching"). */
#include "run/builder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ab_status ab_builder_push_pending(ab_builder *c, const double *x, ab_pending *pd, ab_error *err)
{
    if (c->n_queue == c->cap_queue) {
        int cap = c->cap_queue ? 2 * c->cap_queue : 8;
        ab_pending *q = realloc(c->queue, sizeof *q * (size_t)cap);
        if (!q) return ab_error_set(err, AB_ENOMEM, "out of memory");
        c->queue = q;
        c->cap_queue = cap;
    }
    pd->x = malloc(sizeof(double) * c->np1);
    if (!pd->x) return ab_error_set(err, AB_ENOMEM, "out of memory");
    memcpy(pd->x, x, sizeof(double) * c->np1);
    pd->nodes = c->grids[c->grid].nodes; /* x and phi live on the grid the branch point was found on */
    c->queue[c->n_queue++] = *pd;
    return AB_OK;
}

/* Was this special point already found (on another branch through the same point)? */
int ab_builder_known_special(const ab_builder *c, const ab_special_point *sp)
{
    for (int i = 0; i < c->diag->n_special; i++) {
        const ab_special_point *o = &c->diag->special[i];
        if (o->type == AB_SP_END) continue;
        double dp = c->par ? fabs(o->beta - sp->beta) : fabs(o->kappa - sp->kappa);
        if (dp <= c->prm.known_point_tol * fmax(1.0, c->par ? fabs(sp->beta) : fabs(sp->kappa)) &&
            fabs(o->r - sp->r) < c->prm.known_point_obs_tol && fabs(o->S - sp->S) < c->prm.known_point_obs_tol)
            return 1;
    }
    return 0;
}

/* Is sp close to a branch point already in the diagram? Looser than known_special: a branch
 * that runs through a known branch point transversally is located there less precisely
 * (the extended system is singular at the point itself). */
int ab_builder_near_known_branch_point(const ab_builder *c, const ab_special_point *sp)
{
    for (int i = 0; i < c->diag->n_special; i++) {
        const ab_special_point *o = &c->diag->special[i];
        /* only points of other branches: one branch's own branch points (e.g. the uniform
         * branch's kappa_l) can lie close together */
        if (o == sp || o->branch == sp->branch || (o->type != AB_SP_PITCHFORK && o->type != AB_SP_TRANSCRITICAL)) continue;
        double po = c->par ? o->beta : o->kappa, ps = c->par ? sp->beta : sp->kappa;
        if (fabs(po - ps) <= c->prm.near_point_tol * fmax(1.0, fabs(ps)) &&
            fabs(o->r - sp->r) + fabs(o->S - sp->S) <= c->prm.near_point_obs_tol)
            return 1;
    }
    return 0;
}

/* Does the state with observables bp lie on an existing branch (up to symmetry: r and S
 * are invariant under rotations and reflections)? */
static int on_known_branch(const ab_builder *c, const ab_branch_point *bp)
{
    for (int k = 0; k < c->diag->n_branches; k++) {
        const ab_branch *b = &c->diag->branches[k];
        for (int i = 0; i + 1 < b->n_points; i++) {
            const ab_branch_point *p0 = &b->points[i], *p1 = &b->points[i + 1];
            double v0 = c->par ? p0->beta : p0->kappa, v1 = c->par ? p1->beta : p1->kappa, v = c->par ? bp->beta : bp->kappa;
            if (v < fmin(v0, v1) || v > fmax(v0, v1) || v0 == v1) continue;
            double th = (v - v0) / (v1 - v0);
            double r = p0->r + th * (p1->r - p0->r), S = p0->S + th * (p1->S - p0->S);
            double tol = c->prm.known_branch_tol * (fabs(p1->r - p0->r) + fabs(p1->S - p0->S)) + c->prm.known_branch_abs;
            if (fabs(r - bp->r) <= tol && fabs(S - bp->S) <= tol) return 1;
        }
    }
    return 0;
}


static ab_status switch_branch(ab_builder *c, ab_pending *pd, int dir, ab_error *err)
{
    ab_diagram *d = c->diag;
    /* the new branch starts on its parent's grid at the branch point */
    ab_status st0 = ab_builder_use_grid(c, pd->nodes, err);
    if (st0) return st0;
    int n = c->n;
    double *x = c->xs[0], *tau = c->xs[1], *pred = malloc(sizeof(double) * c->np1),
           *normal = malloc(sizeof(double) * c->np1), *x1 = malloc(sizeof(double) * c->np1);
    if (!pred || !normal || !x1) { free(pred); free(normal); free(x1); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    memset(normal, 0, sizeof(double) * c->np1);
    memcpy(normal, pd->phi, sizeof(double) * n);
    ab_status st = AB_ENOCONV;
    ab_error scratch = {0};
    /* Predictor from the reduced equation, corrector on the hyperplane <phi, u - u*> = xi. */
    for (double xi = c->prm.ds; xi >= c->prm.switch_min_factor * c->prm.ds_min && st; xi *= c->prm.step_fail_shrink) {
        double s = dir * xi;
        for (int i = 0; i < n; i++) pred[i] = pd->x[i] + s * pd->phi[i];
        pred[n] = pd->x[n] + pd->q1 * s + pd->q2 * s * s;
        int iters;
        st = ab_cont_correct(c->cont, pred, normal, x1, &iters, &scratch);
        if (!st && pd->sym) {
            /* a branch of symmetric states starts in its group's fixed space */
            c->cur_sym = pd->sym;
            st = ab_builder_project(c, x1, NULL, &scratch);
            c->cur_sym = 0;
        }
        if (!st) {
            double du = 0.0;
            for (int i = 0; i < n; i++) du = fmax(du, fabs(x1[i] - pd->x[i]));
            if (du < c->prm.switch_fallback * xi) st = AB_ENOCONV; /* fell back onto the old branch */
        }
    }
    ab_special_point *sp = &d->special[pd->special];
    if (st) {
        char note[200];
        snprintf(note, sizeof note, "branch switching failed in direction %+d", dir);
        if (!sp->note[0]) snprintf(sp->note, sizeof sp->note, "%s", note);
        free(pred); free(normal); free(x1);
        return AB_OK;
    }
    /* Row 0, the branch point, on its own grid; then x1 on the grid it needs (x0 the branch
     * point there) */
    ab_branch_point bp0;
    ab_builder_observe(c, pd->x, NULL, &bp0);
    const double p_bp = pd->x[n];
    const double *x0 = pd->x;
    double *pair = NULL;
    int moved;
    if ((st = ab_builder_regrid_switched(c, pd->x, x1, &pair, &moved, err))) { free(pred); free(normal); free(x1); return st; }
    if (moved) {
        n = c->n;
        x = c->xs[0];
        tau = c->xs[1];
        free(x1);
        free(pred);
        x1 = pair + c->np1;
        x0 = pair;
        if (!(pred = malloc(sizeof(double) * c->np1))) { free(normal); free(pair); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    }
#define FREE_ALL() do { free(pred); free(normal); if (moved) free(pair); else free(x1); } while (0)
    ab_stab_info si;
    if ((st = ab_builder_stability(c, x1, c->spec->sectors, c->spec->n_sectors, &si, err))) { FREE_ALL(); return st; }
    ab_branch_point bp1;
    c->cur_sym = pd->sym; /* the branch's group is checked on its first state too */
    ab_builder_observe(c, x1, &si, &bp1);
    c->cur_sym = 0;
    /* branches of different isotropy are different by construction (r and S alone do not
     * tell them apart: every branch of degree 3 starts with r = 0) */
    if (!pd->sym && on_known_branch(c, &bp1)) {
        ab_builder_say(c, "the branch from %s in direction %+d is already known: not followed again", sp->profile, dir);
        FREE_ALL();
        return AB_OK;
    }
    if (d->n_branches >= c->cs->max_branches) {
        ab_builder_warn(c, "max_branches reached: a branch from the special point at %.10g (index %d) was not followed", p_bp, pd->special);
        FREE_ALL();
        return AB_OK;
    }
    /* Which side the branch left to, against the normal form's prediction. */
    if (pd->predicted_side != 0) {
        int side = x1[n] > p_bp ? 1 : -1;
        int check = side == pd->predicted_side ? 1 : -1;
        if (sp->criticality_checked >= 0) sp->criticality_checked = check;
        if (check < 0) ab_builder_warn(c, "criticality check failed at the branch point at %.10g (special %d)", p_bp, pd->special);
    }
    ab_branch *b = ab_diagram_add_branch(d, pd->special);
    if (!b) { FREE_ALL(); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    /* Row 0: the branch point itself, labelled as on the parent branch. */
    bp0.n_unstable = -1;
    bp0.label = sp->type;
    bp0.special = pd->special;
    if ((st = ab_branch_add_point(b, &bp0, err)) || (st = ab_branch_add_point(b, &bp1, err))) {
        FREE_ALL();
        return st;
    }
    b->points[0].n_unstable = si.n_unstable;
    ab_builder_say(c, "branch %d leaves %s in direction %+d", b->id, sp->profile, dir);
    for (int i = 0; i < c->np1; i++) tau[i] = x1[i] - x0[i];
    double nrm = sqrt(ab_cont_dot(c->cont, tau, tau));
    for (int i = 0; i < c->np1; i++) tau[i] /= nrm;
    memcpy(x, x1, sizeof(double) * c->np1);
    /* start the tangent properly at x1 */
    memcpy(pred, tau, sizeof(double) * c->np1);
    /* the tangent at x1 with x1's own phase conditions: the branch point's (a uniform state
     * has none) would leave the rotations of x1 in the bordered system's kernel */
    if (ab_problem_n_symmetries(c->problem) > 0 && (st = ab_problem_set_phase_reference(c->problem, x, err))) {
        FREE_ALL();
        return st;
    }
    c->cur_sym = pd->sym;
    ab_cont_set_projection(c->cont, pd->sym ? ab_builder_project : NULL, c);
    st = ab_cont_tangent_at(c->cont, x, pred, tau, err);
    c->cur_sym = 0;
    ab_cont_set_projection(c->cont, NULL, NULL);
    if (st) { FREE_ALL(); return st; }
    FREE_ALL();
#undef FREE_ALL
    if (pd->sym) {
        snprintf(b->symmetry, sizeof b->symmetry, "%s", c->syms[pd->sym - 1].name);
        snprintf(b->description, sizeof b->description, "%s", c->syms[pd->sym - 1].description);
        /* the name holds both (16 + 2 + 64 > 64: the description is cut to fit) */
        snprintf(b->name, sizeof b->name, "%.15s, %.45s", b->symmetry, b->description);
    }
    c->cur_sym = pd->sym;
    st = ab_builder_follow(c, b, x, tau, &si, err);
    c->cur_sym = 0;
    return st;
}


ab_status ab_builder_run_queue(ab_builder *c, ab_error *err)
{
    ab_status st = AB_OK;
    for (int q = 0; q < c->n_queue && !st; q++) {
        /* a copy: switch_branch can push onto (and so reallocate) c->queue */
        ab_pending pd = c->queue[q];
        c->queue_next = q; /* this entry's grid is still needed, earlier ones' are not */
        for (int k = 0; k < pd.n_dirs && !st; k++) st = switch_branch(c, &pd, pd.dirs[k], err);
    }
    c->queue_next = c->n_queue;
    return st;
}

void ab_builder_free_queue(ab_builder *c)
{
    for (int i = 0; i < c->n_queue; i++) {
        free(c->queue[i].x);
        free(c->queue[i].phi);
    }
    free(c->queue);
    c->queue = NULL;
    c->n_queue = c->cap_queue = 0;
}
