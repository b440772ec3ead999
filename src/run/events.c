/* Special points along a step: which eigenvalues crossed (continuous test functions), their
 * location by Illinois regula falsi on the branch, and their recording, with a branch
 * switch queued at each branch point the discretisation can follow (docs/continuation.md). */
#include "run/builder.h"

#include "disc/sphere.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The branch's unit tangent at a point located inside the step (xk, tauk) -> (x1, tau1):
 * interpolated by arclength (the tangent is continuous along the branch, and the bordered
 * system that would compute it is singular at a branch point). NULL without memory. */
static double *interpolated_tangent(ab_builder *c, const double *xk, const double *tauk, const double *x1,
                                    const double *tau1, const double *x)
{
    double *tau = malloc(sizeof(double) * c->np1), *d = c->work;
    if (!tau) return NULL;
    for (int i = 0; i < c->np1; i++) d[i] = x[i] - xk[i];
    double s = sqrt(ab_cont_dot(c->cont, d, d));
    for (int i = 0; i < c->np1; i++) d[i] = x1[i] - xk[i];
    double h = sqrt(ab_cont_dot(c->cont, d, d)), th = h > 0.0 ? fmin(1.0, s / h) : 0.0;
    for (int i = 0; i < c->np1; i++) tau[i] = tauk[i] + th * (tau1[i] - tauk[i]);
    double nrm = sqrt(ab_cont_dot(c->cont, tau, tau));
    for (int i = 0; i < c->np1; i++) tau[i] /= nrm;
    return tau;
}

/* The tangent kept for a restart from a special point: at a branch point of the
 * discretisation's own space the bordered system is singular there and its solution is off
 * along the kernel vector (2e-3 at the default problem's BP3), so the interpolated one;
 * elsewhere (folds, Hopf points, crossings in other sectors) the tangent at the point. */
static double *event_tangent(ab_builder *c, const double *xk, const double *tauk, const double *x1, const double *tau1,
                             const double *x, int branch_point)
{
    if (!branch_point) {
        double *tau = malloc(sizeof(double) * c->np1);
        ab_error scratch = {0};
        if (tau && ab_cont_tangent_at(c->cont, x, tauk, tau, &scratch) == AB_OK) return tau;
        free(tau);
    }
    return interpolated_tangent(c, xk, tauk, x1, tau1, x);
}

static int uniform_end(ab_builder *c, const double *x)
{
    ab_branch_point bp;
    ab_builder_observe(c, x, NULL, &bp);
    return ab_builder_is_uniform(c, &bp);
}

typedef enum { EV_FOLD, EV_REAL, EV_HOPF } ev_kind;

/* Continuous test function of an event at x: the tangent's p-component (fold), or the
 * rank-th largest real eigenvalue of the sector (branch point) or real part of a complex
 * one (Hopf), where rank is the larger of the two unstable counts across the step: that
 * eigenvalue changes sign exactly where the count changes. Slow eigenvalues (|re| <= err)
 * are ranked with the stability ones, so the rank-th is the same eigenvalue on both sides
 * when one enters or leaves the band of undetermined sign. *psi_err (if not NULL) is the
 * eigenvalue's error estimate (0 for folds). */
static ab_status test_function(ab_builder *c, const double *x, const double *tau_prev, ev_kind kind, int sector, int rank,
                               double *psi, double *psi_err, ab_error *err)
{
    if (psi_err) *psi_err = 0.0;
    if (kind == EV_FOLD) {
        double *tau = c->xs[5];
        (void)rank;
        ab_status st = ab_cont_tangent_at(c->cont, x, tau_prev, tau, err);
        *psi = tau[c->n];
        return st;
    }
    ab_status st = ab_builder_set_p(c, x[c->n], err);
    ab_spectrum sp;
    /* the rank-th eigenvalue must be among those computed (a multiple crossing can need
     * more than ARPACK's default count) */
    ab_eigensolver_set_min_count(c->eig, rank + 1 + AB_PROBLEM_MAX_SYMMETRIES);
    if (!st) st = ab_spectrum_compute_in(c->eig, c->disc, x, &sector, 1, &sp, err);
    ab_eigensolver_set_min_count(c->eig, 0);
    if (st) return st;
    double best = NAN, best_err = 0.0;
    int seen = 0;
    for (int i = 0; i < sp.count && seen < rank; i++) { /* values are sorted by re, descending */
        const ab_eigenvalue *e = &sp.values[i];
        if ((e->kind != AB_EIG_STABILITY && e->kind != AB_EIG_SLOW) || (kind == EV_REAL) != (e->im == 0.0)) continue;
        if (++seen == rank) { best = e->re; best_err = e->err; }
    }
    /* sp.values is the eigensolver's buffer: nothing to free */
    *psi = best;
    if (psi_err) *psi_err = best_err;
    return isfinite(best) ? AB_OK : ab_error_set(err, AB_ENAN, "no eigenvalue of rank %d for the test function in sector %d", rank, sector);
}

/* Point at arclength s from xk along tauk (corrected onto the branch) into x. */
static ab_status point_at(ab_builder *c, const double *xk, const double *tauk, double s, double *x, ab_error *err)
{
    double *pred = c->xs[4];
    for (int i = 0; i < c->np1; i++) pred[i] = xk[i] + s * tauk[i];
    int it;
    return ab_cont_correct(c->cont, pred, tauk, x, &it, err);
}

/* Locate the zero of the test function between s = 0 (xk) and s = s_hi (x1) by the
 * Illinois variant of regula falsi, to locate_tol relative in the parameter. The located
 * point goes to xout. Returns psi at both ends for the caller (slope). */
static ab_status locate(ab_builder *c, const double *xk, const double *tauk, const double *x1, double s_hi, ev_kind kind,
                        int sector, int rank, double f0, double f1, double *xout, ab_error *err)
{
    (void)err; /* failures inside only stop the iteration early */
    double a = 0.0, b = s_hi, fa = f0, fb = f1, pa = xk[c->n], pb = x1[c->n];
    memcpy(xout, x1, sizeof(double) * c->np1);
    double *x = c->xs[3];
    for (int it = 0; it < c->prm.locate_max_iter; it++) {
        if (fb == 0.0 || fabs(pb - pa) <= c->prm.locate_tol * fmax(1.0, fabs(pb))) break;
        double s = (fb != fa) ? b - fb * (b - a) / (fb - fa) : 0.5 * (a + b);
        if (!(s > fmin(a, b) && s < fmax(a, b))) s = 0.5 * (a + b);
        ab_error scratch = {0};
        ab_status st = point_at(c, xk, tauk, s, x, &scratch);
        double fs;
        if (!st) st = test_function(c, x, tauk, kind, sector, rank, &fs, NULL, &scratch);
        if (st) break; /* keep the best point so far: the bracket is already small */
        if ((fs > 0) != (fb > 0)) { a = b; fa = fb; pa = pb; }
        else fa *= 0.5;
        b = s; fb = fs; pb = x[c->n];
        memcpy(xout, x, sizeof(double) * c->np1);
    }
    return AB_OK;
}


typedef struct {
    ev_kind kind;
    int sector, rank;
    double f0, f1, s_loc, p_loc;
    double *x;
    double e0, e1; /* error estimates of f0, f1 (eigenvalue test functions) */
    int mult;      /* eigenvalues of the sector crossing at this point (merged events) */
} event;

/* Locate and record the special points between xk and x1. *stop_at is set to the index of
 * a branch point that was already in the diagram (the branch has reached a known part of
 * the diagram, e.g. closed a loop), or -1. */
ab_status ab_builder_handle_events(ab_builder *c, ab_branch *b, const double *xk, const double *tauk, const double *x1,
                               const double *tau1, double ds, const ab_stab_info *s0, const ab_stab_info *s1, int fold,
                               int *stop_at, ab_error *err)
{
    *stop_at = -1;
    const int *sectors = c->spec->sectors, ns = c->spec->n_sectors;
    event ev[AB_MAX_EVENTS];
    int ne = 0;
    if (fold) ev[ne++] = (event){EV_FOLD, 0, 0, tauk[c->n], tau1[c->n], 0, 0, NULL, 0, 0, 1};
    /* A turning point at which no monitored eigenvalue changes sign, with sector 0 (the
     * branch's own) monitored: at a fold one eigenvalue of sector 0 crosses. */
    int through = 0;
    if (fold) {
        int has0 = 0, same = 1;
        for (int k = 0; k < ns; k++) {
            has0 |= sectors[k] == 0;
            same &= s0->real_pos[k] == s1->real_pos[k] && s0->cplx_pos[k] == s1->cplx_pos[k];
        }
        through = has0 && same;
    }
    /* One event per eigenvalue that crossed: if a sector's count goes from c0 to c1, the
     * eigenvalues of rank min(c0,c1)+1 .. max(c0,c1) each changed sign once. */
    for (int k = 0; k < ns; k++) {
        int lo = s0->real_pos[k] < s1->real_pos[k] ? s0->real_pos[k] : s1->real_pos[k];
        int hi = s0->real_pos[k] + s1->real_pos[k] - lo;
        if (fold && sectors[k] == 0 && hi > lo) hi--; /* the fold accounts for one */
        for (int r = lo + 1; r <= hi && ne < AB_MAX_EVENTS; r++) ev[ne++] = (event){EV_REAL, sectors[k], r, 0, 0, 0, 0, NULL, 0, 0, 1};
        lo = s0->cplx_pos[k] < s1->cplx_pos[k] ? s0->cplx_pos[k] : s1->cplx_pos[k];
        hi = s0->cplx_pos[k] + s1->cplx_pos[k] - lo;
        for (int r = lo + 2; r <= hi && ne < AB_MAX_EVENTS; r += 2) ev[ne++] = (event){EV_HOPF, sectors[k], r, 0, 0, 0, 0, NULL, 0, 0, 1};
    }
    if (ne == 0) return AB_OK;
    /* Locate each event (sector 0 first, so that a degenerate crossing on the uniform
     * branch is represented by its zonal member). */
    ab_status st = AB_OK;
    for (int e = 0; e < ne && !st; e++) {
        ev[e].x = malloc(sizeof(double) * c->np1);
        if (!ev[e].x) { st = ab_error_set(err, AB_ENOMEM, "out of memory"); break; }
        if (ev[e].kind != EV_FOLD) {
            st = test_function(c, xk, tauk, ev[e].kind, ev[e].sector, ev[e].rank, &ev[e].f0, &ev[e].e0, err);
            if (!st) st = test_function(c, x1, tauk, ev[e].kind, ev[e].sector, ev[e].rank, &ev[e].f1, &ev[e].e1, err);
        }
        if (st) break;
        if (ev[e].kind != EV_FOLD && ((ev[e].f0 > 0) == (ev[e].f1 > 0) || !(fabs(ev[e].f0) > ev[e].e0) ||
                                      !(fabs(ev[e].f1) > ev[e].e1))) {
            /* The eigenvalue does not change sign beyond its error at both ends: not a
             * crossing (typically the mass exchange between clusters, exponentially small
             * at small noise, entering or leaving the band of undetermined sign). */
            ab_builder_say(c, "sector %d eigenvalue %d goes from %.3e (+-%.1e) to %.3e (+-%.1e) between "
                              "%s = %.10g and %.10g: not a crossing",
                        ev[e].sector, ev[e].rank, ev[e].f0, ev[e].e0, ev[e].f1, ev[e].e1, ab_builder_par_name(c),
                        xk[c->n], x1[c->n]);
            free(ev[e].x);
            ev[e].x = NULL;
            continue;
        }
        if ((ev[e].f0 > 0) == (ev[e].f1 > 0)) {
            /* no sign change of the nearest eigenvalue: fall back to the end of the step */
            memcpy(ev[e].x, x1, sizeof(double) * c->np1);
        } else {
            st = locate(c, xk, tauk, x1, ds, ev[e].kind, ev[e].sector, ev[e].rank, ev[e].f0, ev[e].f1, ev[e].x, err);
        }
        ev[e].p_loc = ev[e].x[c->n];
        ev[e].s_loc = fabs(ev[e].p_loc - xk[c->n]);
    }
    /* Crossings located at the same parameter are one event (on the uniform branch a degree-l
     * crossing happens in every sector m <= l at once): keep the fold, else the lowest sector. */
    for (int e = 0; e < ne; e++)
        for (int k = 0; k < ne; k++) {
            if (k == e || !ev[e].x || !ev[k].x) continue;
            if (fabs(ev[e].p_loc - ev[k].p_loc) > c->prm.same_event_tol * fmax(1.0, fabs(ev[e].p_loc))) continue;
            int e_wins = ev[e].kind == EV_FOLD || (ev[k].kind != EV_FOLD && ev[e].sector < ev[k].sector) ||
                         (ev[k].kind != EV_FOLD && ev[e].sector == ev[k].sector && e < k);
            if (e_wins) {
                if (ev[k].kind == ev[e].kind && ev[k].sector == ev[e].sector) ev[e].mult += ev[k].mult;
                free(ev[k].x);
                ev[k].x = NULL;
            }
        }
    /* Record in order along the step. */
    for (int done = 0; done < ne && !st; done++) {
        int e = -1;
        for (int k = 0; k < ne; k++)
            if (ev[k].x && (e < 0 || ev[k].s_loc < ev[e].s_loc)) e = k;
        if (e < 0) break;
        int merged = 0;
        for (int k = 0; k < b->n_points; k++) {
            const ab_branch_point *q = &b->points[k];
            if (q->label == AB_SP_NONE || q->label == AB_SP_END) continue;
            double pq = c->par ? q->beta : q->kappa;
            if (fabs(pq - ev[e].p_loc) <= c->prm.merge_tol * fmax(1.0, fabs(pq))) merged = 1;
        }
        ab_special_point sp;
        memset(&sp, 0, sizeof sp);
        sp.sector = ev[e].sector;
        sp.l = -1;
        ab_stab_info si;
        if (!merged) {
            ab_branch_point bp;
            ab_builder_observe(c, ev[e].x, NULL, &bp);
            sp.tangent = event_tangent(c, xk, tauk, x1, tau1, ev[e].x,
                                       ev[e].kind == EV_REAL && ab_disc_sector_followable(c->disc, ev[e].sector));
            /* stability at the special point itself: that of the side we came from */
            si = *s0;
            if (ev[e].kind == EV_FOLD && through) {
                /* the parameter turns back but no eigenvalue changed sign: not a fold but the
                 * branch passing through a state of higher symmetry (a pitchfork of that
                 * state's branch, seen from the bifurcating one) and coming back as a symmetric
                 * copy of itself (docs/continuation.md, "Turning points without a change of
                 * stability") */
                sp.type = AB_SP_PITCHFORK;
                sp.criticality = AB_CRIT_UNKNOWN;
                sp.sector = -1;
                snprintf(sp.note, sizeof sp.note,
                         "the branch turns back in %s with no change of stability: it passes through a more "
                         "symmetric state and returns as a symmetric copy of itself (not a fold); not continued",
                         ab_builder_par_name(c));
            } else if (ev[e].kind == EV_FOLD) {
                sp.type = AB_SP_FOLD;
            } else if (ev[e].kind == EV_HOPF) {
                sp.type = AB_SP_HOPF;
            } else if (ab_builder_is_uniform(c, &bp) || (uniform_end(c, xk) && uniform_end(c, x1))) {
                /* the O(d)-degenerate crossing of degree l, in every sector m <= l */
                const ab_model *m = ab_disc_model(c->disc);
                double best = INFINITY;
                for (int l = 1; l <= ab_disc_max_degree(c->disc); l++) {
                    double kl = ab_kappa_l(m->kind, m->d, bp.beta, l);
                    if (fabs(kl - bp.kappa) < best) { best = fabs(kl - bp.kappa); sp.l = l; }
                }
            }
            int unwanted = ev[e].kind == EV_REAL && sp.l >= 1 && c->cs->n_degrees > 0;
            for (int k = 0; unwanted && k < c->cs->n_degrees; k++) unwanted = c->cs->degrees[k] != sp.l;
            if (unwanted) {
                /* a degree the user did not ask for: the point is reported, its branches are not
                 * followed (continuation.degrees) */
                sp.type = sp.l % 2 ? AB_SP_PITCHFORK : AB_SP_TRANSCRITICAL;
                sp.criticality = sp.l % 2 ? AB_CRIT_UNKNOWN : AB_CRIT_NONE;
                snprintf(sp.note, sizeof sp.note, "degree %d is not in continuation.degrees: its branches are not followed",
                         sp.l);
                int idx = ab_builder_add_special(c, b, ev[e].x, &sp, &si, err);
                if (idx < 0) { st = AB_ENOMEM; break; }
                if (ab_builder_near_known_branch_point(c, &c->diag->special[idx]) && *stop_at < 0) *stop_at = idx;
            } else if (ev[e].kind == EV_REAL && sp.l >= 1 && ab_sphere_is(c->disc)) {
                /* the whole sphere at the uniform state: a (2l+1)-fold crossing, one branch per
                 * isotropy class (symmetric.c) */
                double dmu_dp = (ev[e].f1 - ev[e].f0) / (x1[c->n] - xk[c->n]);
                int idx;
                if ((st = ab_builder_symmetric_branches(c, b, ev[e].x, sp.l, dmu_dp, &sp, &si, &idx, err))) break;
                if (ab_builder_near_known_branch_point(c, &c->diag->special[idx]) && *stop_at < 0) *stop_at = idx;
            } else if (ev[e].kind == EV_REAL && ev[e].mult > 1) {
                /* several eigenvalues of one sector cross at once (a symmetric state on the
                 * whole sphere): the kernel is multiple, a simple branch point's reduction
                 * does not apply, and symmetric branching is done at the uniform state only */
                sp.type = AB_SP_PITCHFORK;
                sp.criticality = AB_CRIT_UNKNOWN;
                snprintf(sp.note, sizeof sp.note,
                         "%d-fold branch point (kernel of dimension %d): its branches are not followed (symmetric "
                         "branching is done at the uniform state only)",
                         ev[e].mult, ev[e].mult);
                int idx = ab_builder_add_special(c, b, ev[e].x, &sp, &si, err);
                if (idx < 0) { st = AB_ENOMEM; break; }
                if (ab_builder_near_known_branch_point(c, &c->diag->special[idx]) && *stop_at < 0) *stop_at = idx;
            } else if (ev[e].kind == EV_REAL) {
                if (ab_disc_sector_followable(c->disc, ev[e].sector)) {
                    ab_pending pd;
                    memset(&pd, 0, sizeof pd);
                    pd.phi = malloc(sizeof(double) * c->n);
                    if (!pd.phi) {
                        free(sp.tangent);
                        st = ab_error_set(err, AB_ENOMEM, "out of memory");
                        break;
                    }
                    double dmu_dp = (ev[e].f1 - ev[e].f0) / (x1[c->n] - xk[c->n]);
                    ab_error scratch = {0};
                    if (ab_builder_reduce(c, ev[e].x, dmu_dp, &sp, &pd, &scratch) != AB_OK) {
                        /* reported as a branch point of unknown kind, not followed, and the
                         * run says so (a warning in summary.json) */
                        sp.type = AB_SP_PITCHFORK;
                        sp.criticality = AB_CRIT_UNKNOWN;
                        snprintf(sp.note, sizeof sp.note, "classification failed, not followed: %.150s", scratch.msg);
                        ab_builder_warn(c, "the branch point at %.10g could not be classified (special point %d): its "
                                           "branches are not followed (see its note)",
                                        ev[e].x[c->n], c->diag->n_special);
                        free(pd.phi);
                        pd.phi = NULL;
                    }
                    if (pd.phi && (sp.null_vector = malloc(sizeof(double) * c->n)))
                        memcpy(sp.null_vector, pd.phi, sizeof(double) * c->n);
                    int idx = ab_builder_add_special(c, b, ev[e].x, &sp, &si, err);
                    if (idx < 0) { free(pd.phi); st = AB_ENOMEM; break; }
                    c->diag->n_special--; /* look for a repeat among the others */
                    int repeat = ab_builder_known_special(c, &c->diag->special[idx]);
                    c->diag->n_special++;
                    if ((repeat || ab_builder_near_known_branch_point(c, &c->diag->special[idx])) && *stop_at < 0) *stop_at = idx;
                    if (pd.phi && c->cs->switch_branches && !repeat) {
                        pd.special = idx;
                        if ((st = ab_builder_push_pending(c, ev[e].x, &pd, err))) { free(pd.phi); break; }
                    } else {
                        free(pd.phi);
                    }
                } else {
                    /* A crossing in a sector whose branch leaves the discretisation's space (zonal:
                     * m >= 1, not axisymmetric; Y_m -> -Y_m makes it a pitchfork). */
                    sp.type = AB_SP_PITCHFORK;
                    sp.criticality = AB_CRIT_UNKNOWN;
                    /* what the branch that leaves breaks: the zonal states' isotropy O(d-1) (rotations
                     * and reflections fixing the pole) to the isotropy of a degree-m harmonic of the
                     * equator S^{d-2}, the axial subgroup of the equivariant branching lemma
                     * (docs/symmetry.md, "Branches that leave the zonal space") */
                    const int dd = ab_disc_model(c->disc)->d, m = ev[e].sector;
                    if (dd == 3)
                        snprintf(sp.note, sizeof sp.note,
                                 "bifurcating branch is not %s (sector %d): breaks O(2) to D_%d; not followed here (the "
                                 "sphere discretisation follows it)",
                                 ab_disc_kind(c->disc), m, m);
                    else
                        snprintf(sp.note, sizeof sp.note,
                                 "bifurcating branch is not %s (sector %d): breaks O(%d) to O(%d)%s; not followed",
                                 ab_disc_kind(c->disc), m, dd - 1, dd - 2, m % 2 ? "" : " x Z_2");
                    int idx = ab_builder_add_special(c, b, ev[e].x, &sp, &si, err);
                    if (idx < 0) { st = AB_ENOMEM; break; }
                    if (ab_builder_near_known_branch_point(c, &c->diag->special[idx]) && *stop_at < 0) *stop_at = idx;
                }
            } else {
                int idx = ab_builder_add_special(c, b, ev[e].x, &sp, &si, err);
                if (idx < 0) { st = AB_ENOMEM; break; }
                if (ev[e].kind == EV_FOLD && through && *stop_at < 0) *stop_at = idx;
            }
        }
        free(ev[e].x);
        ev[e].x = NULL;
    }
    for (int e = 0; e < ne; e++) free(ev[e].x);
    (void)s1;
    return st;
}

