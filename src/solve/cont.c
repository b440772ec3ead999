/* The pseudo-arclength continuation object: tangent predictor, bordered Newton corrector
 * through the linear-solver interface, step-size control (docs/continuation.md). */
#include "attnbif/cont.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ab_cont {
    ab_problem *problem;
    ab_linsol *ls;
    ab_block_precond bpc; /* the problem's preconditioner on the bordered operator */
    ab_cont_project_fn project; /* NULL, or the projection of each new point (ab_cont_set_projection) */
    void *project_ctx;
    ab_cont_params params;
    int par;          /* the free parameter's index in the problem */
    size_t n, np1;    /* state unknowns; point size n + 1 */
    int k;            /* borders: phase conditions + the arclength row */
    double *x, *tau, *xprev, *tauprev, *xnew, *taunew;
    double ds;
    double w_state; /* the state's weight in the arclength norm for the current step */
    /* work */
    double *F, *Fp, *pred, *trial, *rhs, *sol, *diff;
    double *B, *C, D[(AB_PROBLEM_MAX_SYMMETRIES + 1) * (AB_PROBLEM_MAX_SYMMETRIES + 1)];
};

void ab_cont_params_default(ab_cont_params *p)
{
    memset(p, 0, sizeof *p);
    p->ds = 0.01;
    p->ds_min = 1e-8;
    p->ds_max = 0.05;
    p->step_grow = 1.5;
    p->step_shrink = 0.6;
    p->step_fail_shrink = 0.5;
    p->fast_iterations = 2;
    p->slow_iterations = 6;
    p->state_weight = 1e-3;
    p->relative_state_norm = 0;
    p->newton_tol = 1e-12;
    p->corrector_max_iter = 10;
    p->corrector_divergence = 1e3;
    p->min_turn_cos = 0.8;
    p->check_min_factor = 4.0;
    p->max_correction = 0.5;
    p->max_correction_abs = 1e-3;
    p->locate_tol = 1e-12;
    p->locate_max_iter = 100;
    p->fd_step_second = 1e-4;
    p->fd_step_third = 1e-3;
    p->fd_param_floor = 1e-2;
    p->zero_vector_tol = 1e-12;
    p->pitchfork_tol = 1e-6;
    p->degenerate_tol = 1e-6;
    p->mirror_tol = 1e-6;
    p->symmetric_state_tol = 1e-9;
    p->switch_min_factor = 64.0;
    p->switch_fallback = 0.1;
    p->same_event_tol = 1e-8;
    p->merge_tol = 1e-9;
    p->known_point_tol = 1e-8;
    p->known_point_obs_tol = 1e-6;
    p->near_point_tol = 5e-3;
    p->near_point_obs_tol = 0.05;
    p->known_branch_tol = 1e-3;
    p->known_branch_abs = 1e-7;
    p->uniform_tol = 1e-8;
}

ab_status ab_cont_params_check(const ab_cont_params *p, ab_error *err)
{
#define POS(field) \
    if (!(p->field > 0.0) || !isfinite((double)p->field)) return ab_error_set(err, AB_EINVAL, #field " must be > 0 (got %g)", (double)p->field)
#define FRAC(field) \
    if (!(p->field > 0.0 && p->field < 1.0)) return ab_error_set(err, AB_EINVAL, #field " must lie in (0, 1) (got %g)", (double)p->field)
    POS(ds); POS(ds_min); POS(ds_max);
    if (!(p->ds_min <= p->ds && p->ds <= p->ds_max))
        return ab_error_set(err, AB_EINVAL, "need ds_min <= ds <= ds_max (got %g, %g, %g)", p->ds_min, p->ds, p->ds_max);
    if (!(p->step_grow >= 1.0) || !isfinite(p->step_grow)) return ab_error_set(err, AB_EINVAL, "step_grow must be >= 1 (got %g)", p->step_grow);
    FRAC(step_shrink); FRAC(step_fail_shrink);
    if (p->fast_iterations < 0 || p->slow_iterations <= p->fast_iterations)
        return ab_error_set(err, AB_EINVAL, "fast_iterations must be >= 0 and below slow_iterations (got %d, %d)", p->fast_iterations,
                            p->slow_iterations);
    POS(state_weight); POS(newton_tol); POS(corrector_divergence);
    if (p->relative_state_norm != 0 && p->relative_state_norm != 1)
        return ab_error_set(err, AB_EINVAL, "relative_state_norm must be 0 or 1 (got %d)", p->relative_state_norm);
    if (p->corrector_max_iter < 1) return ab_error_set(err, AB_EINVAL, "corrector_max_iter must be >= 1");
    if (!(p->min_turn_cos > -1.0 && p->min_turn_cos < 1.0)) return ab_error_set(err, AB_EINVAL, "min_turn_cos must lie in (-1, 1) (got %g)", p->min_turn_cos);
    if (!(p->check_min_factor >= 1.0)) return ab_error_set(err, AB_EINVAL, "check_min_factor must be >= 1 (got %g)", p->check_min_factor);
    POS(max_correction); POS(max_correction_abs);
    POS(locate_tol);
    if (p->locate_max_iter < 1) return ab_error_set(err, AB_EINVAL, "locate_max_iter must be >= 1");
    POS(fd_step_second); POS(fd_step_third); POS(fd_param_floor); POS(zero_vector_tol);
    POS(pitchfork_tol); POS(degenerate_tol); POS(mirror_tol); POS(symmetric_state_tol);
    if (!(p->switch_min_factor >= 1.0)) return ab_error_set(err, AB_EINVAL, "switch_min_factor must be >= 1");
    FRAC(switch_fallback);
    POS(same_event_tol); POS(merge_tol); POS(known_point_tol); POS(known_point_obs_tol); POS(near_point_tol);
    POS(near_point_obs_tol); POS(known_branch_tol); POS(known_branch_abs); POS(uniform_tol);
#undef POS
#undef FRAC
    return AB_OK;
}

void ab_cont_free(ab_cont *c)
{
    if (!c) return;
    double *arrs[] = {c->x, c->tau, c->xprev, c->tauprev, c->xnew, c->taunew, c->F, c->Fp, c->pred, c->trial, c->rhs, c->sol, c->diff, c->B, c->C};
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) free(arrs[i]);
    free(c);
}

ab_status ab_cont_alloc(ab_problem *problem, ab_linsol *ls, const ab_cont_params *params, ab_cont **out, ab_error *err)
{
    *out = NULL;
    ab_status st = ab_cont_params_check(params, err);
    if (st) return st;
    if (ab_problem_n_free(problem) != 1)
        return ab_error_set(err, AB_EINVAL, "continuation needs exactly one free parameter (the problem has %d)",
                            ab_problem_n_free(problem));
    ab_cont *c = calloc(1, sizeof *c);
    if (!c) return ab_error_set(err, AB_ENOMEM, "out of memory");
    c->problem = problem;
    c->ls = ls;
    c->params = *params;
    c->par = ab_problem_free_param(problem, 0);
    c->n = ab_problem_dim(problem);
    c->np1 = c->n + 1;
    c->ds = params->ds;
    c->w_state = params->state_weight;
    const size_t m = c->n + 1 + AB_PROBLEM_MAX_SYMMETRIES, kmax = AB_PROBLEM_MAX_SYMMETRIES + 1;
    c->x = malloc(sizeof(double) * c->np1); c->tau = malloc(sizeof(double) * c->np1);
    c->xprev = malloc(sizeof(double) * c->np1); c->tauprev = malloc(sizeof(double) * c->np1);
    c->xnew = malloc(sizeof(double) * c->np1); c->taunew = malloc(sizeof(double) * c->np1);
    c->F = malloc(sizeof(double) * m); c->Fp = malloc(sizeof(double) * c->n);
    c->pred = malloc(sizeof(double) * c->np1); c->trial = malloc(sizeof(double) * c->np1);
    c->rhs = malloc(sizeof(double) * m); c->sol = malloc(sizeof(double) * m); c->diff = malloc(sizeof(double) * c->np1);
    c->B = malloc(sizeof(double) * c->n * kmax); c->C = malloc(sizeof(double) * c->n * kmax);
    if (!c->x || !c->tau || !c->xprev || !c->tauprev || !c->xnew || !c->taunew || !c->F || !c->Fp || !c->pred || !c->trial || !c->rhs || !c->sol ||
        !c->diff || !c->B || !c->C) {
        ab_cont_free(c);
        return ab_error_set(err, AB_ENOMEM, "out of memory for continuation (n = %zu)", c->n);
    }
    *out = c;
    return AB_OK;
}

const ab_cont_params *ab_cont_get_params(const ab_cont *c) { return &c->params; }
size_t ab_cont_size(const ab_cont *c) { return c->np1; }
const double *ab_cont_point(const ab_cont *c) { return c->x; }
const double *ab_cont_tangent(const ab_cont *c) { return c->tau; }
const double *ab_cont_previous(const ab_cont *c) { return c->xprev; }
const double *ab_cont_previous_tangent(const ab_cont *c) { return c->tauprev; }
double ab_cont_ds(const ab_cont *c) { return c->ds; }
void ab_cont_set_ds(ab_cont *c, double ds) { c->ds = ds; }

static double max_abs(const double *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

/* Arclength inner product: the problem's on u (weighted, see ab_cont_params), plain on p. */
double ab_cont_dot(ab_cont *c, const double *x, const double *y)
{
    return c->w_state * ab_problem_dot(c->problem, x, y) + x[c->n] * y[c->n];
}

static double xnorm(ab_cont *c, const double *x) { return sqrt(ab_cont_dot(c, x, x)); }

/* v scaled to unit length in the arclength norm. */
static void normalize(ab_cont *c, double *v)
{
    const double nrm = xnorm(c, v);
    for (size_t i = 0; i < c->np1; i++) v[i] /= nrm;
}

ab_status ab_cont_set_point_params(ab_cont *c, const double *x, ab_error *err)
{
    return ab_problem_set_param(c->problem, c->par, x[c->n], err);
}

/* F_u (linearised) and c->Fp = F_p at x. */
static ab_status linearize_at(ab_cont *c, const double *x, ab_error *err)
{
    ab_status st = ab_cont_set_point_params(c, x, err);
    if (!st) st = ab_problem_linearize(c->problem, x, err);
    if (!st) st = ab_problem_dparam(c->problem, x, c->par, c->Fp, err);
    return st;
}

/* The state's weight for steps from the point x (ab_cont_params.relative_state_norm). */
static void set_weight(ab_cont *c, const double *x)
{
    c->w_state = c->params.state_weight;
    if (c->params.relative_state_norm) c->w_state /= fmax(1.0, ab_problem_dot(c->problem, x, x));
}

/* A new current point: the weight for the steps from it, and the tangent kept a unit
 * vector in that norm (with a fixed weight both are unchanged). */
static ab_status update_phase(ab_cont *c, ab_error *err)
{
    /* the phase conditions pin each new point to the orbit member nearest the current one */
    return ab_problem_n_symmetries(c->problem) > 0 ? ab_problem_set_phase_reference(c->problem, c->x, err) : AB_OK;
}

static void reweigh(ab_cont *c)
{
    if (!c->params.relative_state_norm) return;
    set_weight(c, c->x);
    normalize(c, c->tau);
}

/* Set up the linear solver on [J G Fp; (W G)^T 0 0; r^T 0 rp], r = w_state W tau_u,
 * rp = tau_p (the arclength row along tau), G the phase-condition generators. */
static ab_status setup_bordered(ab_cont *c, const double *tau, ab_bordered *bo, ab_linop *op, ab_error *err)
{
    const size_t n = c->n;
    const int kp = ab_problem_n_phase(c->problem);
    const double *w = ab_problem_weights(c->problem);
    c->k = kp + 1;
    for (int q = 0; q < kp; q++) {
        const double *g = ab_problem_phase_vector(c->problem, q);
        memcpy(c->B + (size_t)q * n, g, sizeof(double) * n);
        for (size_t i = 0; i < n; i++) c->C[i + (size_t)q * n] = w[i] * g[i];
    }
    memcpy(c->B + (size_t)kp * n, c->Fp, sizeof(double) * n);
    for (size_t i = 0; i < n; i++) c->C[i + (size_t)kp * n] = c->w_state * (w[i] * tau[i]);
    memset(c->D, 0, sizeof c->D);
    c->D[kp + (size_t)kp * c->k] = tau[n];
    *bo = (ab_bordered){ab_problem_jacobian(c->problem), c->k, c->B, c->C, c->D};
    ab_bordered_linop(bo, op);
    ab_problem_install_precond(c->problem, c->ls, &c->bpc);
    return ab_linsol_setup(c->ls, op, err);
}

/* A singular bordered system says so in the continuation's words. */
static ab_status singular(ab_status st, ab_error *err)
{
    if (st != AB_ELINALG || !err) return st;
    char why[256];
    snprintf(why, sizeof why, "%.200s", err->msg);
    return ab_error_set(err, st, "the bordered continuation system is singular (%s)", why);
}

/* Solve the set-up bordered system for the right-hand side (F part rhs_u, arclength part
 * rhs_p; phase rows 0) into (du, dp) = sol[0..n]. */
static ab_status solve_bordered(ab_cont *c, const double *rhs_u, double rhs_p, double *dx, ab_error *err)
{
    const size_t n = c->n;
    const int kp = c->k - 1;
    memcpy(c->rhs, rhs_u, sizeof(double) * n);
    for (int q = 0; q < kp; q++) c->rhs[n + q] = 0.0;
    c->rhs[n + kp] = rhs_p;
    ab_status st = ab_linsol_solve(c->ls, c->rhs, c->sol, err);
    if (st) return st;
    memcpy(dx, c->sol, sizeof(double) * n);
    dx[n] = c->sol[n + kp]; /* the phase multipliers are dropped: they vanish at a solution */
    return AB_OK;
}

ab_status ab_cont_tangent_at(ab_cont *c, const double *x, const double *tau_prev, double *tau, ab_error *err)
{
    ab_status st = linearize_at(c, x, err);
    ab_bordered bo;
    ab_linop op;
    if (!st) st = setup_bordered(c, tau_prev, &bo, &op, err);
    if (st) return singular(st, err);
    memset(c->F, 0, sizeof(double) * c->n);
    if ((st = solve_bordered(c, c->F, 1.0, tau, err))) return st;
    if (c->project && (st = c->project(c->project_ctx, NULL, tau, err))) return st;
    normalize(c, tau);
    if (ab_cont_dot(c, tau, tau_prev) < 0.0)
        for (size_t i = 0; i < c->np1; i++) tau[i] = -tau[i];
    return AB_OK;
}

ab_status ab_cont_correct(ab_cont *c, const double *xpred, const double *normal, double *x, int *iterations,
                          ab_error *err)
{
    const size_t n = c->n;
    memcpy(x, xpred, sizeof(double) * c->np1);
    double res0 = INFINITY;
    for (int it = 0; it <= c->params.corrector_max_iter; it++) {
        /* a parameter outside the problem's domain (kappa <= 0) means the corrector left it */
        ab_error scratch = {0};
        if (ab_cont_set_point_params(c, x, &scratch)) break;
        ab_status st = ab_problem_residual(c->problem, x, c->F, err);
        if (st) return st;
        double res = max_abs(c->F, n);
        double tol = ab_problem_tolerance(c->problem, c->params.newton_tol);
        /* (at it = 0 the constraint holds exactly: the predictor may already be a solution,
         * and iterating on a nearly singular system would only amplify rounding) */
        if (res <= tol) {
            if (iterations) *iterations = it;
            return AB_OK;
        }
        if (it == c->params.corrector_max_iter || !(res < c->params.corrector_divergence * res0 + 1.0)) break;
        res0 = fmin(res0, res);
        if ((st = linearize_at(c, x, err))) return st;
        ab_bordered bo;
        ab_linop op;
        if ((st = setup_bordered(c, normal, &bo, &op, err)))
            return singular(st, err);
        for (size_t i = 0; i < c->np1; i++) c->diff[i] = x[i] - xpred[i];
        for (size_t i = 0; i < n; i++) c->F[i] = -c->F[i];
        if ((st = solve_bordered(c, c->F, -ab_cont_dot(c, normal, c->diff), c->trial, err))) return st;
        for (size_t i = 0; i < c->np1; i++) x[i] += c->trial[i];
        if (!isfinite(x[n])) break;
    }
    return ab_error_set(err, AB_ENOCONV, "corrector did not converge");
}

ab_status ab_cont_set(ab_cont *c, const double *x, const double *tau, int direction, ab_error *err)
{
    memcpy(c->x, x, sizeof(double) * c->np1);
    c->ds = c->params.ds;
    set_weight(c, x);
    ab_status sp = update_phase(c, err);
    if (sp) return sp;
    if (tau) {
        memcpy(c->tau, tau, sizeof(double) * c->np1);
        reweigh(c);
    } else {
        memset(c->pred, 0, sizeof(double) * c->np1);
        c->pred[c->n] = direction < 0 ? -1.0 : 1.0;
        ab_status st = ab_cont_tangent_at(c, x, c->pred, c->tau, err);
        if (st) return st;
    }
    memcpy(c->xprev, c->x, sizeof(double) * c->np1);
    memcpy(c->tauprev, c->tau, sizeof(double) * c->np1);
    return AB_OK;
}

ab_status ab_cont_step(ab_cont *c, ab_cont_step_info *info, ab_error *err)
{
    const ab_cont_params *cp = &c->params;
    const size_t n = c->n;
    memset(info, 0, sizeof *info);
    double *pred = c->pred, *x1 = c->xnew, *tau1 = c->taunew;
    for (size_t i = 0; i < c->np1; i++) pred[i] = c->x[i] + c->ds * c->tau[i];
    int iters = 0;
    ab_status st = ab_cont_correct(c, pred, c->tau, x1, &iters, err);
    /* a branch restricted to a symmetry's fixed space: rounding drift out of it removed */
    if (st == AB_OK && c->project) st = c->project(c->project_ctx, x1, NULL, err);
    if (st == AB_OK) st = ab_cont_tangent_at(c, x1, c->tau, tau1, err);
    const int large = c->ds > cp->check_min_factor * cp->ds_min;
    if (st == AB_OK && large && ab_cont_dot(c, c->tau, tau1) < cp->min_turn_cos)
        st = ab_error_set(err, AB_ENOCONV, "the branch turns too sharply");
    if (st == AB_OK && large) {
        /* The corrector must not move the state much further than the predictor did: a
         * large correction means it jumped to a neighbouring branch. */
        double dpred = 0.0, dcorr = 0.0, unorm = 0.0;
        const double *w = ab_problem_weights(c->problem);
        for (size_t i = 0; i < n; i++) {
            const double d1 = pred[i] - c->x[i], d2 = x1[i] - pred[i];
            dpred += w[i] * d1 * d1;
            dcorr += w[i] * d2 * d2;
            unorm += w[i] * c->x[i] * c->x[i];
        }
        if (sqrt(dcorr) > cp->max_correction * sqrt(dpred) + cp->max_correction_abs * (1.0 + sqrt(unorm)))
            st = ab_error_set(err, AB_ENOCONV, "the corrector jumped away from the branch");
    }
    if (st != AB_OK) {
        /* rejected: the old point stays current, the next attempt is shorter */
        if (st == AB_ENOMEM) return st;
        c->ds *= cp->step_fail_shrink;
        info->rejected = 1;
        info->ds = c->ds;
        return AB_ENOCONV;
    }
    memcpy(c->xprev, c->x, sizeof(double) * c->np1);
    memcpy(c->tauprev, c->tau, sizeof(double) * c->np1);
    memcpy(c->x, x1, sizeof(double) * c->np1);
    memcpy(c->tau, tau1, sizeof(double) * c->np1);
    reweigh(c);
    if ((st = update_phase(c, err))) return st;
    info->corrector_iterations = iters;
    info->ds = c->ds;
    if (iters <= cp->fast_iterations) c->ds = fmin(cp->ds_max, cp->step_grow * c->ds);
    else if (iters >= cp->slow_iterations) c->ds = fmax(cp->ds_min, cp->step_shrink * c->ds);
    return AB_OK;
}

void ab_cont_set_projection(ab_cont *c, ab_cont_project_fn fn, void *ctx)
{
    c->project = fn;
    c->project_ctx = ctx;
}

ab_status ab_cont_accept(ab_cont *c, const double *x_new, ab_error *err)
{
    ab_status st = ab_cont_tangent_at(c, x_new, c->tau, c->taunew, err);
    if (st) return st;
    memcpy(c->xprev, c->x, sizeof(double) * c->np1);
    memcpy(c->tauprev, c->tau, sizeof(double) * c->np1);
    memcpy(c->x, x_new, sizeof(double) * c->np1);
    memcpy(c->tau, c->taunew, sizeof(double) * c->np1);
    reweigh(c);
    return update_phase(c, err);
}
