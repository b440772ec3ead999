/* The diagram builder: the first state, following each branch with the continuation
 * object (window edges, stability at every point, resolution checks), recording points
 * and special points, and the driver ab_run_diagram (docs/continuation.md). */
#include "run/builder.h"

#include "disc/pointgroup.h"

#include "attnbif/label.h"
#include "disc/sphere.h"
#include "spec/limits.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* nodes: auto: a branch that re-discretises takes this factor more nodes than its state
 * needs at that point, so that a sharpening branch moves grids every so often, not at every
 * step (docs/theory.md, "Adaptive resolution"). */
#define AB_RUN_REGRID_HEADROOM 1.25
/* Newton iterations allowed when landing on the window edge at a fixed parameter. */
#define AB_EDGE_NEWTON_MAX_ITER 30

void ab_builder_say(ab_builder *b, const char *fmt, ...)
{
    if (!b->messages || !b->messages->line) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    b->messages->line(b->messages->ctx, line);
}

const char *ab_builder_par_name(const ab_builder *b) { return b->par ? "beta" : "kappa"; }

ab_status ab_builder_set_p(ab_builder *b, double value, ab_error *err)
{
    return ab_problem_set_param(b->problem, b->par, value, err);
}

ab_status ab_builder_residual_at(ab_builder *b, const double *x, double *F, ab_error *err)
{
    ab_status st = ab_builder_set_p(b, x[b->n], err);
    return st ? st : ab_problem_residual(b->problem, x, F, err);
}

ab_status ab_builder_stability(ab_builder *b, const double *x, const int *sectors, int n_sectors, ab_stab_info *info,
                               ab_error *err)
{
    ab_status st = ab_builder_set_p(b, x[b->n], err);
    ab_spectrum sp;
    if (!st) st = ab_spectrum_compute_in(b->eig, b->disc, x, sectors, n_sectors, &sp, err);
    if (st) return st;
    memset(info, 0, sizeof *info);
    for (int k = 0; k < AB_MAX_SECTORS; k++) info->lead_re[k] = NAN;
    for (int i = 0; i < sp.count; i++) {
        const ab_eigenvalue *e = &sp.values[i];
        int k = 0;
        while (k < n_sectors && sectors[k] != e->sector) k++;
        /* the figures' leading eigenvalue per sector (spectrum.svg) */
        if (k < n_sectors && (e->kind == AB_EIG_STABILITY || e->kind == AB_EIG_SLOW) && !(e->re <= info->lead_re[k]))
            info->lead_re[k] = e->re;
        if (e->kind != AB_EIG_STABILITY || !(e->re > e->err)) continue;
        if (e->im == 0.0) info->real_pos[k]++;
        else info->cplx_pos[k]++;
        info->n_unstable += e->multiplicity;
    }
    /* sp.values is the eigensolver's buffer: nothing to free */
    return AB_OK;
}

static int stab_changed(const ab_stab_info *a, const ab_stab_info *b)
{
    return a->n_unstable != b->n_unstable || memcmp(a->real_pos, b->real_pos, sizeof a->real_pos) ||
           memcmp(a->cplx_pos, b->cplx_pos, sizeof a->cplx_pos);
}

void ab_builder_observe(ab_builder *b, const double *x, const ab_stab_info *si, ab_branch_point *bp)
{
    ab_observables obs;
    ab_error scratch = {0};
    memset(bp, 0, sizeof *bp);
    ab_builder_set_p(b, x[b->n], &scratch);
    ab_disc_observables(b->disc, x, &obs, &scratch);
    ab_params p = ab_disc_params(b->disc);
    bp->kappa = p.kappa;
    bp->beta = p.beta;
    bp->r = obs.r;
    bp->S = obs.S;
    bp->entropy = obs.entropy;
    bp->free_energy = obs.free_energy;
    bp->n_unstable = si ? si->n_unstable : -1;
    for (int k = 0; k < AB_MAX_SECTORS; k++) bp->lead_re[k] = si ? si->lead_re[k] : NAN;
    bp->label = AB_SP_NONE;
    bp->special = -1;
    bp->nodes = b->grids[b->grid].nodes;
    bp->n_clusters = -1;
    bp->cluster_first = -1;
    if (ab_sphere_is(b->disc)) {
        /* every point's decomposition is kept for clusters.csv (docs/output-run.md); a
         * failed decomposition is a point without clusters, as a zonal one */
        ab_cluster found[AB_MAX_CLUSTERS];
        int count = 0;
        if (ab_sphere_clusters(b->disc, x, found, AB_MAX_CLUSTERS, &count, &scratch) == AB_OK) {
            if (count > AB_MAX_CLUSTERS) count = AB_MAX_CLUSTERS;
            bp->n_clusters = count;
            bp->cluster_first = ab_diagram_add_clusters(b->diag, found, count);
            /* the state's point group (from its clusters, verified on its density) */
            ab_pointgroup_state *ps = malloc(sizeof *ps);
            if (ps && ab_pointgroup_state_of(b->disc, x, found, count, NULL, ps, &scratch) == AB_OK)
                snprintf(bp->symmetry, sizeof bp->symmetry, "%s", ps->group.symbol);
            free(ps);
            if (b->cur_sym > 0) {
                /* a branch of symmetric branching: its states have (at least) the branch's group,
                 * which the clusters cannot show near the uniform state (no clusters yet):
                 * checked element by element on the density */
                const ab_branch_sym *sym = &b->syms[b->cur_sym - 1];
                double worst = 0.0, res;
                int ok = 1;
                for (int e = 0; e < sym->order && ok; e++) {
                    ok = ab_pointgroup_density_residual(b->disc, x, sym->R + 9 * (size_t)e, &res, &scratch) == AB_OK;
                    worst = fmax(worst, res);
                }
                if (ok && worst <= AB_POINTGROUP_DENSITY_TOL && strcmp(bp->symmetry, sym->name) != 0 &&
                    (bp->symmetry[0] == 0 || strcmp(bp->symmetry, "C_1") == 0 || strcmp(bp->symmetry, "K_h") == 0))
                    snprintf(bp->symmetry, sizeof bp->symmetry, "%s", sym->name);
            }
        }
    }
    int need;
    if (ab_disc_resolution(b->disc, x, &bp->tail, &need, &scratch) != AB_OK) bp->tail = NAN;
}

int ab_builder_is_uniform(const ab_builder *b, const ab_branch_point *bp)
{
    /* r and S vanish on every state with a polyhedral symmetry too (T_d, O_h, I_h: no
     * dipole, an isotropic Q); the entropy vanishes at the uniform state only */
    return fabs(bp->r) < b->prm.uniform_tol && fabs(bp->S) < b->prm.uniform_tol &&
           !(fabs(bp->entropy) >= b->prm.uniform_tol);
}

void ab_builder_warn(ab_builder *b, const char *fmt, double a, int i)
{
    if (b->diag->n_warnings >= AB_DIAGRAM_MAX_WARNINGS) return;
    snprintf(b->diag->warnings[b->diag->n_warnings], sizeof b->diag->warnings[0], fmt, a, i);
    ab_builder_say(b, "warning: %s", b->diag->warnings[b->diag->n_warnings]);
    b->diag->n_warnings++;
}

static double *copy_vec(const double *x, size_t n)
{
    double *y = x ? malloc(sizeof(double) * n) : NULL;
    if (y) memcpy(y, x, sizeof(double) * n);
    return y;
}

/* Record special point sp at state x as a new row of branch br; returns its index. The
 * point, its tangent (sp->tangent if the caller set it, else computed here) and, at a
 * branch point, the kernel vector (sp->null_vector, the caller's) are kept for restarts. */
int ab_builder_add_special(ab_builder *b, ab_branch *br, const double *x, ab_special_point *sp, const ab_stab_info *si,
                           ab_error *err)
{
    ab_branch_point bp;
    ab_builder_observe(b, x, si, &bp);
    sp->kappa = bp.kappa;
    sp->beta = bp.beta;
    sp->r = bp.r;
    sp->S = bp.S;
    sp->branch = br->id;
    sp->point = br->n_points;
    /* numbered per label (both kinds of branch point are BP) */
    static const int label_slot[] = {0, 1, 2, 2, 3, 4};
    snprintf(sp->profile, sizeof sp->profile, "%s%d.csv", ab_special_label(sp->type), ++b->label_count[label_slot[sp->type]]);
    ab_profile fine;
    ab_error scratch = {0};
    if (ab_disc_profile(b->disc, x, 2, &sp->nodes, &fine, &scratch) == AB_OK) ab_profile_free(&fine);
    else sp->profile[0] = '\0';
    if (ab_sphere_is(b->disc) && sp->profile[0]) {
        /* the whole sphere: the state's clusters and map, as solve reports them */
        sp->map_nlat = AB_SOLVE_MAP_NLAT;
        sp->map_nlon = AB_SOLVE_MAP_NLON;
        sp->map = malloc(sizeof(double) * (size_t)sp->map_nlat * (size_t)sp->map_nlon);
        int found = 0;
        if (!sp->map || ab_sphere_map(b->disc, x, sp->map_nlat, sp->map_nlon, sp->map, &scratch) != AB_OK) {
            free(sp->map);
            sp->map = NULL;
        } else if (ab_sphere_clusters(b->disc, x, sp->clusters, AB_MAX_CLUSTERS, &found, &scratch) == AB_OK ||
                   found > AB_MAX_CLUSTERS) {
            sp->n_clusters = found < AB_MAX_CLUSTERS ? found : AB_MAX_CLUSTERS;
        }
    }
    sp->dim = (size_t)b->n;
    sp->disc_nodes = b->grids[b->grid].nodes;
    sp->x = copy_vec(x, (size_t)b->np1);
    if (!sp->x) {
        ab_profile_free(&sp->nodes);
        free(sp->tangent); free(sp->null_vector); free(sp->map);
        ab_error_set(err, AB_ENOMEM, "out of memory");
        return -1;
    }
    int idx = ab_diagram_add_special(b->diag, sp);
    if (idx < 0) {
        ab_profile_free(&sp->nodes);
        free(sp->x); free(sp->tangent); free(sp->null_vector); free(sp->map);
        ab_error_set(err, AB_ENOMEM, "out of memory");
        return -1;
    }
    bp.label = sp->type;
    bp.special = idx;
    if (sp->type != AB_SP_END) /* si is the stability on one side of the located point */
        for (int k = 0; k < AB_MAX_SECTORS; k++) bp.lead_re[k] = NAN;
    if (ab_branch_add_point(br, &bp, err)) return -1;
    const ab_special_point *s = &b->diag->special[idx];
    ab_builder_say(b, "%s (%s%s%s) on branch %d at %s = %.12g, r = %.6g, S = %.6g%s%s", ab_special_label(s->type),
                   ab_special_type_name(s->type), s->criticality ? ", " : "", ab_criticality_name(s->criticality), br->id,
                   ab_builder_par_name(b), b->par ? s->beta : s->kappa, s->r, s->S, s->note[0] ? "; " : "", s->note);
    return idx;
}

ab_status ab_builder_end_branch(ab_builder *b, ab_branch *br, const double *x, const ab_stab_info *si, const char *why,
                                ab_error *err)
{
    snprintf(br->end_reason, sizeof br->end_reason, "%s", why);
    ab_special_point sp;
    memset(&sp, 0, sizeof sp);
    sp.type = AB_SP_END;
    sp.sector = sp.l = -1;
    snprintf(sp.note, sizeof sp.note, "%s", why);
    /* the tangent of an end point: the branch's own where x is its current or previous
     * point, else (a landing on the window edge) the tangent at x along the branch's */
    const size_t bytes = sizeof(double) * (size_t)b->np1;
    if (memcmp(ab_cont_point(b->cont), x, bytes) == 0) {
        sp.tangent = copy_vec(ab_cont_tangent(b->cont), (size_t)b->np1);
    } else if (memcmp(ab_cont_previous(b->cont), x, bytes) == 0) {
        sp.tangent = copy_vec(ab_cont_previous_tangent(b->cont), (size_t)b->np1);
    } else if ((sp.tangent = malloc(bytes))) {
        ab_error scratch = {0};
        if (ab_cont_tangent_at(b->cont, x, ab_cont_tangent(b->cont), sp.tangent, &scratch) != AB_OK) {
            free(sp.tangent);
            sp.tangent = NULL;
        }
    }
    /* the end point replaces an unlabelled last row, else is appended */
    if (br->n_points > 0 && br->points[br->n_points - 1].label == AB_SP_NONE) br->n_points--;
    return ab_builder_add_special(b, br, x, &sp, si, err) < 0 ? AB_ENOMEM : AB_OK;
}

static void log_step(ab_builder *b, const ab_branch *br, const ab_branch_point *bp, double ds)
{
    ab_builder_say(b, "  branch %d point %4d: %s = %.10f  r = %.6f  S = %.6f  unstable = %ld  ds = %.2e", br->id,
                   br->n_points - 1, ab_builder_par_name(b), b->par ? bp->beta : bp->kappa, bp->r, bp->S, bp->n_unstable,
                   ds);
}

static int nodes_wanted(ab_builder *b, const double *x, double *tail, int *need_out, ab_error *err);
static ab_status regrid(ab_builder *b, ab_branch *br, const double *xk, const double *xt, int nodes, double ds,
                        ab_stab_info *si, int *moved, ab_error *err, ab_error *scratch);

/* nodes: auto: the grid a branch moves to when it wants `want` nodes (with headroom, a
 * multiple of 8, at most nodes_max); 0 if it cannot move (fixed count, or at nodes_max). */
static int regrid_target(const ab_builder *b, int want)
{
    const int cur = b->grids[b->grid].nodes, max = b->spec->disc.nodes_max;
    if (want <= 0 || !b->auto_nodes || cur >= max) return 0;
    int nodes = (int)ceil(AB_RUN_REGRID_HEADROOM * want);
    nodes = (nodes + 7) / 8 * 8;
    return nodes > max ? max : nodes;
}

/* Land on the window edge pe from the current point with a natural-parameter solve, record
 * what happened between and end the branch there. *landed = 0 if Newton failed (the caller
 * shortens the step), or if the edge's state wants a finer grid: then *regridded = 1 and the
 * branch has moved to it at its current point (the caller tries again). */
static ab_status land_on_edge(ab_builder *b, ab_branch *br, double pe, ab_stab_info *si, int *landed, int *regridded,
                              ab_error *err, ab_error *scratch)
{
    const double *x = ab_cont_point(b->cont), *tau = ab_cont_tangent(b->cont);
    const double ds = ab_cont_ds(b->cont);
    double *pred = b->xs[1], *xn = b->xs[0];
    for (int i = 0; i < b->np1; i++) pred[i] = x[i] + ds * tau[i];
    const double th = (pe - x[b->n]) / (pred[b->n] - x[b->n]);
    for (int i = 0; i < b->n; i++) xn[i] = x[i] + th * (pred[i] - x[i]);
    xn[b->n] = pe;
    ab_newton_opts opts = {b->prm.newton_tol, AB_EDGE_NEWTON_MAX_ITER, NULL, NULL};
    ab_newton_report rep;
    *landed = *regridded = 0;
    if (ab_builder_set_p(b, pe, scratch) || ab_newton_solve_problem(b->newton, b->problem, xn, &opts, &rep, scratch))
        return AB_OK;
    double tail;
    int need_est;
    const int target = regrid_target(b, nodes_wanted(b, xn, &tail, &need_est, scratch));
    ab_error refused = {0};
    if (target > 0 && !ab_limits_check_nodes(b->spec, target, &refused)) { /* else: lands on this grid */
        ab_status st = regrid(b, br, x, xn, target, ds, si, regridded, err, scratch);
        if (st || *regridded) return st;
        /* Newton failed on the finer grid: the edge is recorded on this one (its tail is in
         * summary.json) */
    } else if (target > 0) {
        ab_builder_warn(b, "the window edge %g is computed on %d nodes: the limits refuse a finer grid", pe, b->grids[b->grid].nodes);
    }
    *landed = 1;
    ab_stab_info s1;
    ab_status st = ab_builder_stability(b, xn, b->spec->sectors, b->spec->n_sectors, &s1, scratch);
    if (st) {
        char why[200];
        snprintf(why, sizeof why, "stability analysis failed at the window edge: %.120s", scratch->msg);
        return ab_builder_end_branch(b, br, x, si, why, err);
    }
    if (stab_changed(&s1, si)) {
        int stop_at;
        if ((st = ab_builder_handle_events(b, br, x, tau, xn, tau, fabs(th) * ds, si, &s1, 0, &stop_at, err))) return st;
    }
    char why[160];
    snprintf(why, sizeof why, "reached the window edge %s = %g", ab_builder_par_name(b), pe);
    ab_branch_point bp;
    ab_builder_observe(b, xn, &s1, &bp);
    if ((st = ab_branch_add_point(br, &bp, err))) return st;
    return ab_builder_end_branch(b, br, xn, &s1, why, err);
}

ab_status ab_builder_follow(ab_builder *b, ab_branch *br, const double *x0, const double *tau0, ab_stab_info *si,
                            ab_error *err)
{
    const ab_continuation_spec *cs = b->cs;
    ab_status st = ab_cont_set(b->cont, x0, tau0, 0, err);
    if (st) return st;
    for (int step = 1;; step++) {
        const double *x = ab_cont_point(b->cont), *tau = ab_cont_tangent(b->cont);
        if (step > cs->max_steps) {
            char why[160];
            snprintf(why, sizeof why, "max_steps (%d) reached", cs->max_steps);
            return ab_builder_end_branch(b, br, x, si, why, err);
        }
        const double ds = ab_cont_ds(b->cont), p_pred = x[b->n] + ds * tau[b->n];
        const int edge = p_pred > cs->max ? 1 : (p_pred < cs->min ? -1 : 0);
        ab_error scratch = {0};
        if (edge) {
            int landed, regridded;
            if ((st = land_on_edge(b, br, edge > 0 ? cs->max : cs->min, si, &landed, &regridded, err, &scratch)) || landed)
                return st;
            if (regridded) continue;
            ab_cont_set_ds(b->cont, ds * b->prm.step_fail_shrink);
            if (ab_cont_ds(b->cont) < b->prm.ds_min) {
                char why[200];
                snprintf(why, sizeof why, "could not reach the window edge (%.150s)", scratch.msg);
                return ab_builder_end_branch(b, br, x, si, why, err);
            }
            continue;
        }
        ab_cont_step_info info;
        ab_cont_set_projection(b->cont, b->cur_sym ? ab_builder_project : NULL, b);
        st = ab_cont_step(b->cont, &info, &scratch);
        if (st == AB_ENOMEM) return ab_error_set(err, st, "%s", scratch.msg);
        if (st) {
            if (ab_cont_ds(b->cont) < b->prm.ds_min) {
                char why[200];
                snprintf(why, sizeof why, "step size fell below ds_min = %g at %s = %.10g: %.100s", b->prm.ds_min,
                         ab_builder_par_name(b), x[b->n], scratch.msg[0] ? scratch.msg : "the branch turns too sharply");
                return ab_builder_end_branch(b, br, x, si, why, err);
            }
            continue;
        }
        const double *xk = ab_cont_previous(b->cont), *tauk = ab_cont_previous_tangent(b->cont);
        const double *xn = ab_cont_point(b->cont), *taun = ab_cont_tangent(b->cont);
        /* A point the grid does not resolve: with nodes: auto the branch moves to a finer grid
         * at the point before it and takes the step again there (docs/theory.md, "Adaptive
         * resolution"); at nodes_max, or with a fixed count, see below. */
        double tail;
        int need_est;
        const int nodes = regrid_target(b, nodes_wanted(b, xn, &tail, &need_est, &scratch));
        if (nodes > 0) {
            int moved;
            if (ab_limits_check_nodes(b->spec, nodes, &scratch)) {
                /* the spec's limits refuse the grid (as `solve` refuses a refinement): the
                 * branch ends, the rest of the diagram stands */
                char why[200];
                snprintf(why, sizeof why, "not re-discretised at %s = %.6g: %.150s", ab_builder_par_name(b), xk[b->n],
                         scratch.msg);
                ab_builder_warn(b, "a branch needs %.0f nodes, which the limits refuse (branch %d ended)", nodes, br->id);
                return ab_builder_end_branch(b, br, xk, si, why, err);
            }
            if ((st = regrid(b, br, xk, xn, nodes, info.ds, si, &moved, err, &scratch))) return st;
            if (moved) continue;
            char why[256];
            snprintf(why, sizeof why, "re-discretisation from %d to %d nodes failed at %s = %.6g: %.150s", b->grids[b->grid].nodes, nodes,
                     ab_builder_par_name(b), xk[b->n], scratch.msg);
            return ab_builder_end_branch(b, br, xk, si, why, err);
        }
        ab_stab_info s1;
        int fold = (tauk[b->n] > 0) != (taun[b->n] > 0), stop_at = -1;
        st = ab_builder_stability(b, xn, b->spec->sectors, b->spec->n_sectors, &s1, &scratch);
        if (!st && (fold || stab_changed(&s1, si)))
            st = ab_builder_handle_events(b, br, xk, tauk, xn, taun, info.ds, si, &s1, fold, &stop_at, &scratch);
        if (st == AB_ENOMEM) return ab_error_set(err, st, "%s", scratch.msg);
        if (st) {
            char why[200];
            snprintf(why, sizeof why, "stability analysis failed at %s = %.10g: %.120s", ab_builder_par_name(b), xn[b->n],
                     scratch.msg);
            return ab_builder_end_branch(b, br, xk, si, why, err);
        }
        if (stop_at >= 0) {
            /* The branch has run into a branch point that is already in the diagram (a loop
             * closing, or a branch met from its other end): what lies beyond is known. */
            const ab_special_point *sp = &b->diag->special[stop_at];
            if (sp->type == AB_SP_PITCHFORK && sp->sector < 0)
                snprintf(br->end_reason, sizeof br->end_reason,
                         "passed through a more symmetric state at %s = %.10g: beyond it the branch is a symmetric copy "
                         "of itself",
                         ab_builder_par_name(b), b->par ? sp->beta : sp->kappa);
            else
                snprintf(br->end_reason, sizeof br->end_reason,
                         "reached a known branch point at %s = %.10g: the continuation beyond it is already in the diagram",
                         ab_builder_par_name(b), b->par ? sp->beta : sp->kappa);
            return AB_OK;
        }
        ab_branch_point bp;
        ab_builder_observe(b, xn, &s1, &bp);
        if ((st = ab_branch_add_point(br, &bp, err))) return st;
        log_step(b, br, &bp, info.ds);
        /* A point beyond the looser resolution limit ends the branch: its numbers would not be
         * trustworthy. */
        if (isfinite(tail) && tail > AB_RESOLUTION_TAIL_MAX) {
            char why[256];
            if (ab_sphere_is(b->disc))
                snprintf(why, sizeof why,
                         "not resolved with degree %d at %s = %.6g (density modes at the top degrees %.1e of the largest, "
                         "limit %.0e): about degree %d is needed (discretization.degree)",
                         ab_disc_size(b->disc), ab_builder_par_name(b), xn[b->n], tail, AB_RESOLUTION_TAIL_MAX, need_est);
            else
                snprintf(why, sizeof why,
                         "not resolved with %d nodes at %s = %.6g (density modes at the top degree %.1e of the largest, "
                         "limit %.0e): about %d nodes are needed (discretization.nodes)",
                         b->n, ab_builder_par_name(b), xn[b->n], tail, AB_RESOLUTION_TAIL_MAX, need_est);
            if (need_est > b->diag->nodes_needed) b->diag->nodes_needed = need_est;
            return ab_builder_end_branch(b, br, xk, si, why, err); /* at the last resolved point */
        }
        *si = s1;
    }
}

/* ---- grids -------------------------------------------------------------------- */

static void grid_free(ab_grid *g)
{
    for (int i = 0; i < 6; i++) free(g->xs[i]);
    free(g->work); free(g->work2); free(g->work3);
    ab_cont_free(g->cont);
    ab_linsol_destroy(g->ls);
    ab_newton_destroy(g->newton);
    ab_eigensolver_destroy(g->eig);
    ab_disc_destroy(g->disc);
    memset(g, 0, sizeof *g);
}

static ab_status grid_create(const ab_builder *b, int nodes, ab_grid *g, ab_error *err)
{
    const ab_spec *spec = b->spec;
    memset(g, 0, sizeof *g);
    g->nodes = nodes;
    ab_status st = ab_disc_create_with_nodes(spec, nodes, &g->disc, err);
    if (st) return st;
    g->problem = ab_disc_problem(g->disc);
    const int n = (int)ab_disc_dim(g->disc), m = n + 1;
    g->n = n;
    g->np1 = m;
    const int which = b->par;
    if ((st = ab_problem_set_free(g->problem, 1, &which, err))) return st;
    const ab_linsol_type type = ab_spec_linsol_type(spec, (size_t)n);
    int ok = 1;
    for (int i = 0; i < 6; i++) ok = ok && (g->xs[i] = malloc(sizeof(double) * m));
    ok = ok && (g->work = malloc(sizeof(double) * m)) && (g->work2 = malloc(sizeof(double) * 2 * m)) &&
         (g->work3 = malloc(sizeof(double) * m));
    if (!ok) return ab_error_set(err, AB_ENOMEM, "out of memory for continuation (n = %d)", n);
    if ((st = ab_linsol_create(type, (size_t)m + AB_PROBLEM_MAX_SYMMETRIES, &spec->linear_solver.params, &g->ls, err))) return st;
    if ((st = ab_cont_alloc(g->problem, g->ls, &b->prm, &g->cont, err))) return st;
    if ((st = ab_newton_create_with((size_t)n, type, &spec->linear_solver.params, &g->newton, err))) return st;
    return ab_eigensolver_create(n, &g->eig, err);
}

/* The index of the grid with this node count, created if absent; -1 on failure. */
static int grid_find(ab_builder *b, int nodes, ab_error *err)
{
    for (int i = 0; i < b->n_grids; i++)
        if (b->grids[i].nodes == nodes) return i;
    if (b->n_grids == b->cap_grids) {
        int cap = b->cap_grids ? 2 * b->cap_grids : 4;
        ab_grid *g = realloc(b->grids, sizeof *g * (size_t)cap);
        if (!g) { ab_error_set(err, AB_ENOMEM, "out of memory"); return -1; }
        b->grids = g;
        b->cap_grids = cap;
    }
    ab_grid *g = &b->grids[b->n_grids];
    if (grid_create(b, nodes, g, err)) { grid_free(g); return -1; }
    return b->n_grids++;
}

ab_status ab_builder_use_grid(ab_builder *b, int nodes, ab_error *err)
{
    int k = grid_find(b, nodes, err);
    if (k < 0) return err->code ? err->code : AB_ENOMEM;
    /* free the grids nobody needs any more: not the current one, nor a queued branch point's */
    for (int i = 0; i < b->n_grids;) {
        int used = i == k;
        for (int q = b->queue_next; q < b->n_queue && !used; q++) used = b->queue[q].nodes == b->grids[i].nodes;
        if (used) { i++; continue; }
        grid_free(&b->grids[i]);
        b->grids[i] = b->grids[--b->n_grids];
        if (k == b->n_grids) k = i;
    }
    const ab_grid *g = &b->grids[k];
    b->grid = k;
    b->disc = g->disc;
    b->problem = g->problem;
    b->n = g->n;
    b->np1 = g->np1;
    b->ls = g->ls;
    b->cont = g->cont;
    b->newton = g->newton;
    b->eig = g->eig;
    for (int i = 0; i < 6; i++) b->xs[i] = g->xs[i];
    b->work = g->work;
    b->work2 = g->work2;
    b->work3 = g->work3;
    if (g->nodes > b->diag->nodes) b->diag->nodes = g->nodes;
    return AB_OK;
}

/* ---- re-discretisation along a branch ------------------------------------------------ */

/* The node count the state at x needs beyond the current grid (0 if it is resolved):
 * its spectral tail above AB_RESOLUTION_TAIL (or the kernel's error floor, which the tail
 * cannot be measured below), or at the uniform state an unstable degree the grid cannot
 * hold with AB_RESOLUTION_DEGREE_MARGIN to spare (the criteria of `solve`, docs/theory.md,
 * "Adaptive resolution", less the rotation residual). *tail is the measured tail. */
static int nodes_wanted(ab_builder *b, const double *x, double *tail, int *need_out, ab_error *err)
{
    ab_disc_accuracy acc;
    *tail = NAN;
    *need_out = 0;
    if (ab_builder_set_p(b, x[b->n], err) || ab_disc_accuracy_at(b->disc, x, &acc, err)) return 0;
    *tail = acc.tail;
    *need_out = acc.nodes_needed;
    const int size = ab_disc_size(b->disc); /* nodes (zonal) or degree (sphere), not the unknowns */
    int need = 0;
    if (acc.tail > fmax(AB_RESOLUTION_TAIL, AB_NEWTON_FLOOR_FACTOR * acc.kernel_error)) need = acc.nodes_needed;
    ab_observables obs;
    if (ab_disc_observables(b->disc, x, &obs, err) == AB_OK && fabs(obs.r) < b->prm.uniform_tol &&
        fabs(obs.S) < b->prm.uniform_tol && !(fabs(obs.entropy) >= b->prm.uniform_tol)) {
        const ab_model *m = ab_disc_model(b->disc);
        const double kappa = ab_disc_params(b->disc).kappa, beta = ab_disc_params(b->disc).beta;
        int lmax = 0;
        for (int l = 1; l <= AB_NODES_MAX_SCAN && ab_kappa_l(m->kind, m->d, beta, l) > kappa; l++) lmax = l;
        if (lmax + AB_RESOLUTION_DEGREE_MARGIN > size && lmax + 2 * AB_RESOLUTION_DEGREE_MARGIN > need) {
            need = lmax + 2 * AB_RESOLUTION_DEGREE_MARGIN;
            if (need > *need_out) *need_out = need;
        }
    }
    if (need > 0 && need <= size) need = size + 1; /* the estimate lags the tail: at least a little more */
    return need;
}

/* Move the branch to a grid of `nodes` nodes at its point xk (tangent tauk, stability *si),
 * the step's trial point xt telling the way: the state interpolated onto the new grid and
 * converged there by Newton at the same parameter, its tangent computed there (oriented
 * along the chord to xt), its stability, a row of the branch, and the continuation started
 * there with step ds. *moved = 0 (and the builder unchanged) if Newton failed. */
static ab_status regrid(ab_builder *b, ab_branch *br, const double *xk, const double *xt, int nodes, double ds,
                        ab_stab_info *si, int *moved, ab_error *err, ab_error *scratch)
{
    *moved = 0;
    const int old = b->grid, n_old = b->n, from = b->grids[old].nodes;
    const double p = xk[n_old];
    const int k = grid_find(b, nodes, err);
    if (k < 0) return err->code ? err->code : AB_ENOMEM;
    ab_grid *g = &b->grids[k], *o = &b->grids[old];
    double *x = g->xs[0], *chord = g->xs[1];
    ab_newton_opts opts = {b->prm.newton_tol, b->spec->newton.max_iter, NULL, NULL};
    ab_newton_report rep;
    ab_status st = ab_problem_set_param(g->problem, b->par, p, scratch);
    if (!st) st = ab_problem_set_param(o->problem, b->par, p, scratch);
    if (!st) st = ab_disc_transfer(g->disc, o->disc, xk, x, scratch);
    if (!st) st = ab_newton_solve_problem(g->newton, g->problem, x, &opts, &rep, scratch);
    if (st == AB_ENOMEM) return ab_error_set(err, st, "%s", scratch->msg);
    if (st) return AB_OK;
    x[g->n] = p;
    /* the chord to the trial point, on the new grid: which way the branch goes */
    if ((st = ab_problem_set_param(o->problem, b->par, xt[n_old], scratch)) ||
        (st = ab_disc_transfer(g->disc, o->disc, xt, chord, scratch)))
        return AB_OK;
    for (int i = 0; i < g->n; i++) chord[i] -= x[i];
    chord[g->n] = xt[n_old] - p;
    /* from here on the new grid is current (the old one may be freed: xk, xt die) */
    if ((st = ab_builder_use_grid(b, nodes, err))) return st;
    x = b->xs[0];
    chord = b->xs[1];
    double *tau = b->xs[2];
    if ((st = ab_cont_tangent_at(b->cont, x, chord, tau, scratch))) return ab_error_set(err, st, "%s", scratch->msg);
    *moved = 1;
    ab_stab_info s1;
    if ((st = ab_builder_stability(b, x, b->spec->sectors, b->spec->n_sectors, &s1, scratch)))
        return ab_error_set(err, st, "stability on the %d-node grid at %s = %.10g: %s", nodes, ab_builder_par_name(b), p,
                            scratch->msg);
    if (stab_changed(&s1, si))
        ab_builder_warn(b, "the unstable count changed on re-discretisation at %s = %.10g (now %d)", p, (int)s1.n_unstable);
    *si = s1;
    ab_branch_point bp;
    ab_builder_observe(b, x, si, &bp);
    if ((st = ab_branch_add_point(br, &bp, err))) return st;
    ab_builder_say(b, "  branch %d re-discretised at %s = %.10g: %d -> %d nodes (r = %.12f)", br->id,
                   ab_builder_par_name(b), p, from, nodes, bp.r);
    if ((st = ab_cont_set(b->cont, x, tau, 0, scratch))) return ab_error_set(err, st, "%s", scratch->msg);
    ab_cont_set_ds(b->cont, ds);
    return AB_OK;
}

/* A branch just switched to at x0 (the branch point) whose first point x1 its grid does not
 * resolve (a branch born at a high degree sharpens at once) moves to the finer grid before
 * x1 is recorded: x1 interpolated and converged by Newton at its parameter, x0 interpolated
 * (Newton is singular at a branch point); *pair = (x0, x1) on the new grid, now current
 * (owned by the caller). *moved = 0 and the builder unchanged if no move was needed or
 * possible (the branch's first step moves it then). */
ab_status ab_builder_regrid_switched(ab_builder *b, const double *x0, const double *x1, double **pair, int *moved,
                                     ab_error *err)
{
    *pair = NULL;
    *moved = 0;
    ab_error scratch = {0};
    double tail;
    int need_est;
    const int nodes = regrid_target(b, nodes_wanted(b, x1, &tail, &need_est, &scratch));
    if (nodes <= 0 || ab_limits_check_nodes(b->spec, nodes, &scratch)) return AB_OK;
    const int old = b->grid, n_old = b->n, from = b->grids[old].nodes;
    const int k = grid_find(b, nodes, err);
    if (k < 0) return err->code ? err->code : AB_ENOMEM;
    ab_grid *g = &b->grids[k], *o = &b->grids[old];
    double *y = malloc(sizeof(double) * 2 * (size_t)g->np1);
    if (!y) return ab_error_set(err, AB_ENOMEM, "out of memory");
    double *y0 = y, *y1 = y + g->np1;
    ab_newton_opts opts = {b->prm.newton_tol, b->spec->newton.max_iter, NULL, NULL};
    ab_newton_report rep;
    ab_status st = ab_problem_set_param(o->problem, b->par, x0[n_old], &scratch);
    if (!st) st = ab_problem_set_param(g->problem, b->par, x0[n_old], &scratch);
    if (!st) st = ab_disc_transfer(g->disc, o->disc, x0, y0, &scratch);
    if (!st) st = ab_problem_set_param(o->problem, b->par, x1[n_old], &scratch);
    if (!st) st = ab_problem_set_param(g->problem, b->par, x1[n_old], &scratch);
    if (!st) st = ab_disc_transfer(g->disc, o->disc, x1, y1, &scratch);
    if (!st) st = ab_newton_solve_problem(g->newton, g->problem, y1, &opts, &rep, &scratch);
    if (st) {
        free(y);
        return st == AB_ENOMEM ? ab_error_set(err, st, "%s", scratch.msg) : AB_OK;
    }
    y0[g->n] = x0[n_old];
    y1[g->n] = x1[n_old];
    if ((st = ab_builder_use_grid(b, nodes, err))) { free(y); return st; }
    ab_builder_say(b, "  the switched point at %s = %.10g re-discretised: %d -> %d nodes", ab_builder_par_name(b), y1[b->n],
                   from, nodes);
    *pair = y;
    *moved = 1;
    return AB_OK;
}

/* ---- driver -------------------------------------------------------------------- */

static void builder_free(ab_builder *b)
{
    ab_builder_free_queue(b);
    ab_builder_free_syms(b);
    for (int i = 0; i < b->n_grids; i++) grid_free(&b->grids[i]);
    free(b->grids);
    b->grids = NULL;
    b->n_grids = 0;
}

static ab_status builder_init(ab_builder *b, const ab_spec *spec, int nodes, ab_diagram *diag, const ab_messages *messages,
                              ab_error *err)
{
    memset(b, 0, sizeof *b);
    b->spec = spec;
    b->cs = &spec->continuation;
    b->diag = diag;
    b->messages = messages;
    b->par = spec->continuation.parameter;
    b->prm = spec->continuation.tolerances;
    b->prm.ds = b->cs->ds;
    b->prm.ds_min = b->cs->ds_min;
    b->prm.ds_max = b->cs->ds_max;
    b->prm.newton_tol = spec->newton.tol;
    b->auto_nodes = nodes == AB_NODES_AUTO;
    if (b->auto_nodes) {
        /* the grid the starting state needs; branches move to finer ones as they sharpen */
        ab_disc *disc = NULL;
        double *u = NULL;
        ab_newton_report rep;
        ab_resolution rs;
        ab_status st = ab_resolve_state(spec, NULL, NULL, &disc, &u, &rep, &rs, err);
        ab_disc_destroy(disc);
        free(u);
        if (st) return st;
        nodes = rs.nodes;
    }
    return ab_builder_use_grid(b, nodes, err);
}

/* Restart from the spec's label (state type label, docs/spec.md; ab_spec_apply_label has
 * given the spec the label's parameters and node count): its point, polished by the
 * corrector on the hyperplane through it normal to its tangent (regular at folds, unlike
 * Newton in u alone), and its tangent; without a stored tangent, the tangent there in the
 * spec's direction. *type is the label's kind. */
static ab_status label_start(ab_builder *b, double *x, double *tau, ab_special_type *type, ab_error *err)
{
    const ab_spec *spec = b->spec;
    ab_label lab;
    ab_status st = ab_label_read(spec->state.path, spec->state.label, &lab, err);
    if (st) return st;
    const double p = b->par == AB_PARAM_KAPPA ? spec->kappa : spec->model.beta;
    if (lab.dim != (size_t)b->n || (int)lab.parameter != b->par || lab.x[lab.dim] != p || lab.kappa != spec->kappa ||
        lab.model.beta != spec->model.beta)
        st = ab_error_set(err, AB_EINVAL,
                          "label %s (%zu unknowns, kappa = %.17g, beta = %.17g) does not match the spec (%d unknowns, "
                          "kappa = %.17g, beta = %.17g): apply it to the spec first (ab_spec_apply_label)",
                          lab.name, lab.dim, lab.kappa, lab.model.beta, b->n, spec->kappa, spec->model.beta);
    *type = lab.type;
    if (!st) {
        memcpy(x, lab.x, sizeof(double) * b->np1);
        if (lab.tangent) {
            memcpy(tau, lab.tangent, sizeof(double) * b->np1);
            const double nrm = sqrt(ab_cont_dot(b->cont, tau, tau));
            for (int i = 0; i < b->np1; i++) tau[i] /= nrm;
        } else {
            double *dir = b->xs[3];
            memset(dir, 0, sizeof(double) * b->np1);
            dir[b->n] = spec->continuation.direction;
            st = ab_cont_tangent_at(b->cont, x, dir, tau, err);
        }
    }
    ab_label_free(&lab);
    if (!st) {
        memcpy(b->xs[4], x, sizeof(double) * b->np1);
        st = ab_cont_correct(b->cont, b->xs[4], tau, x, NULL, err);
    }
    return st;
}

/* A restart from a branch point that follows the branches born there (state.switch, as
 * AUTO's ISW = -1): branch 1 is the branch point alone, classified again here (without the
 * crossing's slope, so a pitchfork's criticality is unknown), and the branches leaving it
 * are switched to and followed as in a run. */
static ab_status switch_at_label(ab_builder *b, ab_branch *br, const double *x, const double *tau, const ab_stab_info *si,
                                 ab_error *err)
{
    ab_special_point sp;
    memset(&sp, 0, sizeof sp);
    if ((sp.tangent = malloc(sizeof(double) * b->np1))) memcpy(sp.tangent, tau, sizeof(double) * b->np1);
    sp.sector = 0;
    sp.l = -1;
    ab_pending pd;
    memset(&pd, 0, sizeof pd);
    pd.phi = malloc(sizeof(double) * b->n);
    if (!pd.phi) return ab_error_set(err, AB_ENOMEM, "out of memory");
    ab_status st = ab_builder_reduce(b, x, 0.0, &sp, &pd, err);
    if (st) {
        free(pd.phi);
        free(sp.tangent);
        ab_error_prefix(err, "the branch point %s cannot be classified: ", b->spec->state.label);
        return st;
    }
    if ((sp.null_vector = malloc(sizeof(double) * b->n))) memcpy(sp.null_vector, pd.phi, sizeof(double) * b->n);
    snprintf(sp.note, sizeof sp.note, "restart from %s: the branches born here", b->spec->state.label);
    const int idx = ab_builder_add_special(b, br, x, &sp, si, err);
    if (idx < 0) { free(pd.phi); return AB_ENOMEM; }
    snprintf(br->end_reason, sizeof br->end_reason, "the restart point %s (state.switch: its branches follow)",
             b->spec->state.label);
    pd.special = idx;
    if ((st = ab_builder_push_pending(b, x, &pd, err))) { free(pd.phi); return st; }
    return ab_builder_run_queue(b, err);
}

static ab_status run_once(const ab_spec *spec, int nodes, const ab_messages *messages, ab_diagram *diag, ab_error *err)
{
    ab_diagram_init(diag, spec, (ab_param_id)spec->continuation.parameter);
    if (!spec->continuation.present)
        return ab_error_set(err, AB_ESPEC, "%s: the spec has no `continuation` section (see docs/spec.md)", spec->path);
    ab_builder b;
    ab_status st = builder_init(&b, spec, nodes, diag, messages, err);
    if (st) { builder_free(&b); return st; }
    /* The first state, by Newton at the spec's parameters, or a label's point and tangent. */
    double *x = b.xs[0], *tau = b.xs[2];
    ab_newton_opts nopts = {spec->newton.tol, spec->newton.max_iter, NULL, NULL};
    ab_newton_report rep;
    const int from_label = spec->state.type == AB_STATE_LABEL;
    ab_special_type start_type = AB_SP_NONE;
    if (from_label) st = label_start(&b, x, tau, &start_type, err);
    else if (!(st = ab_initial_state(b.disc, &spec->state, x, err)))
        st = ab_newton_solve_problem(b.newton, b.problem, x, &nopts, &rep, err);
    if (st) {
        ab_error_prefix(err, "the starting state: ");
        builder_free(&b);
        return st;
    }
    if (!from_label) x[b.n] = ab_problem_param(b.problem, b.par);
    ab_stab_info si;
    if ((st = ab_builder_stability(&b, x, spec->sectors, spec->n_sectors, &si, err))) { builder_free(&b); return st; }
    ab_branch *br = ab_diagram_add_branch(diag, -1);
    if (from_label && spec->state.switch_branch) {
        st = br ? switch_at_label(&b, br, x, tau, &si, err) : ab_error_set(err, AB_ENOMEM, "out of memory");
        builder_free(&b);
        return st;
    }
    ab_branch_point bp;
    ab_builder_observe(&b, x, &si, &bp);
    /* a label's own event, met again in the first step, merges with this row (events.c) */
    if (start_type != AB_SP_END) bp.label = start_type;
    if (!br) st = ab_error_set(err, AB_ENOMEM, "out of memory for the diagram");
    else st = ab_branch_add_point(br, &bp, err);
    if (st) { builder_free(&b); return st; }
    ab_builder_say(&b, "branch 1 from the %s state at %s = %g", ab_state_type_name(spec->state.type),
                   ab_builder_par_name(&b), x[b.n]);
    /* the first tangent: the label's, or along the parameter in the spec's direction */
    double *dir = b.xs[1];
    memset(dir, 0, sizeof(double) * b.np1);
    dir[b.n] = spec->continuation.direction;
    if ((!from_label && (st = ab_cont_tangent_at(b.cont, x, dir, tau, err))) ||
        (st = ab_builder_follow(&b, br, x, tau, &si, err)) || (st = ab_builder_run_queue(&b, err))) {
        builder_free(&b);
        return st;
    }
    builder_free(&b);
    return AB_OK;
}

/* ab_run_opts's stream as a message sink. */
static void to_stream(void *ctx, const char *line) { fprintf(ctx, "%s\n", line); }

ab_status ab_run_diagram(const ab_spec *spec, const ab_run_opts *opts, ab_diagram *diag, ab_error *err)
{
    const ab_messages stream = {to_stream, opts ? opts->progress : NULL};
    return ab_run_diagram_with(spec, opts && opts->progress ? &stream : NULL, diag, err);
}

ab_status ab_run_diagram_with(const ab_spec *spec, const ab_messages *messages, ab_diagram *diag, ab_error *err)
{
    /* nodes: auto: each branch moves to the grid its states need as it goes (ab_builder_follow);
     * the diagram is computed once */
    return run_once(spec, spec->disc.nodes, messages, diag, err);
}
