/* Damped Newton's method on the problem interface: each step solves J du = -F through the
 * linear-solver interface (dense LU or GMRES), with Lagrange multipliers for the phase
 * conditions of a problem with continuous symmetries (docs/theory.md, "Newton"). */
#include "attnbif/solve.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ab_newton {
    size_t dim;    /* unknowns of the problem */
    size_t cap;    /* dim + the most phase conditions: the linear solver's size */
    ab_linsol *ls; /* owned */
    ab_block_precond bpc; /* the problem's preconditioner on the phase-bordered operator */
    double *F, *step, *trial, *Ftrial, *rhs, *C;
};

ab_status ab_newton_create_with(size_t dim, ab_linsol_type type, const ab_linsol_params *params, ab_newton **out,
                                ab_error *err)
{
    *out = NULL;
    ab_newton *n = calloc(1, sizeof *n);
    if (!n) return ab_error_set(err, AB_ENOMEM, "out of memory");
    n->dim = dim;
    n->cap = dim + AB_PROBLEM_MAX_SYMMETRIES;
    n->F = malloc(sizeof(double) * n->cap);
    n->step = malloc(sizeof(double) * n->cap);
    n->trial = malloc(sizeof(double) * n->cap);
    n->Ftrial = malloc(sizeof(double) * n->cap);
    n->rhs = malloc(sizeof(double) * n->cap);
    n->C = malloc(sizeof(double) * dim * AB_PROBLEM_MAX_SYMMETRIES);
    if (!n->F || !n->step || !n->trial || !n->Ftrial || !n->rhs || !n->C) {
        ab_newton_destroy(n);
        return ab_error_set(err, AB_ENOMEM, "out of memory for Newton (dim %zu)", dim);
    }
    ab_status st = ab_linsol_create(type, n->cap, params, &n->ls, err);
    if (st) { ab_newton_destroy(n); return st; }
    *out = n;
    return AB_OK;
}

ab_status ab_newton_create(size_t dim, ab_newton **out, ab_error *err)
{
    return ab_newton_create_with(dim, AB_LINSOL_DENSE, NULL, out, err);
}

void ab_newton_destroy(ab_newton *n)
{
    if (!n) return;
    ab_linsol_destroy(n->ls);
    free(n->F); free(n->step); free(n->trial); free(n->Ftrial); free(n->rhs); free(n->C);
    free(n);
}

ab_linsol *ab_newton_linsol(ab_newton *newton) { return newton->ls; }

static double norm_inf(const double *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static double norm_2(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i] * x[i];
    return sqrt(s);
}

double ab_newton_tolerance(const ab_disc *disc, double tol)
{
    return ab_problem_tolerance(ab_disc_problem((ab_disc *)disc), tol);
}

/* The extended residual at x = (u, mu): F(u) + sum_k mu_k g_k, and the phase conditions
 * <g_k, u - u_ref> (g_k the generators at the reference). Without symmetries it is F. */
static ab_status extended_residual(ab_newton *nw, ab_problem *p, const double *x, double *G, ab_error *err)
{
    const size_t n = nw->dim;
    const int k = ab_problem_n_phase(p);
    ab_status st = ab_problem_residual(p, x, G, err);
    if (st || k == 0) return st;
    const double *ref = ab_problem_phase_reference(p), *w = ab_problem_weights(p);
    for (int q = 0; q < k; q++) {
        const double *g = ab_problem_phase_vector(p, q);
        double s = 0.0;
        for (size_t i = 0; i < n; i++) {
            G[i] += x[n + q] * g[i];
            s += w[i] * g[i] * (x[i] - ref[i]);
        }
        G[n + q] = s;
    }
    return AB_OK;
}

ab_status ab_newton_solve_problem(ab_newton *nw, ab_problem *p, double *u, const ab_newton_opts *opts,
                                  ab_newton_report *report, ab_error *err)
{
    const size_t n = nw->dim;
    if (ab_problem_dim(p) != n) return ab_error_set(err, AB_EINVAL, "Newton workspace has the wrong size");
    const int k = ab_problem_n_phase(p);
    const size_t m = n + (size_t)k;
    /* the unknowns x = (u, mu), mu the multipliers of the phase conditions (they vanish at
     * a solution, by equivariance), held in nw->rhs; u follows every accepted step */
    double *xc = nw->rhs;
    memcpy(xc, u, sizeof(double) * n);
    for (int q = 0; q < k; q++) xc[n + q] = 0.0;
    ab_status st = extended_residual(nw, p, xc, nw->F, err);
    if (st) return st;
    double res = norm_inf(nw->F, m), step_len = 0.0;
    double tol = ab_problem_tolerance(p, opts->tol);
    report->converged = 0;
    report->linear_iterations = 0;
    /* the bordered operator [J G; (W G)^T 0] of the phase conditions */
    for (int q = 0; q < k; q++) {
        const double *g = ab_problem_phase_vector(p, q), *w = ab_problem_weights(p);
        for (size_t i = 0; i < n; i++) nw->C[i + (size_t)q * n] = w[i] * g[i];
    }
    const double D[AB_PROBLEM_MAX_SYMMETRIES * AB_PROBLEM_MAX_SYMMETRIES] = {0};
    ab_problem_install_precond(p, nw->ls, &nw->bpc);
    for (int it = 0;; it++) {
        report->iterations = it;
        report->residual = res;
        report->tolerance = tol;
        if (opts->progress) opts->progress(opts->progress_ctx, it, res, step_len);
        if (res <= tol) { report->converged = 1; break; }
        if (it >= opts->max_iter) {
            return ab_error_set(err, AB_ENOCONV,
                                "Newton did not converge in %d iterations (max|F| = %.3g > tol %.3g); try a guess "
                                "closer to the state (state.type), more nodes (discretization.nodes), or a larger "
                                "newton.max_iter",
                                opts->max_iter, res, tol);
        }
        if ((st = ab_problem_linearize(p, xc, err))) return st;
        /* linearising may have changed the kernel form: F and the tolerance follow it */
        if ((st = extended_residual(nw, p, xc, nw->F, err))) return st;
        res = norm_inf(nw->F, m);
        tol = ab_problem_tolerance(p, opts->tol);
        if (res <= tol) continue;
        ab_bordered bo = {ab_problem_jacobian(p), k, k ? ab_problem_phase_vector(p, 0) : NULL, nw->C, D};
        ab_linop op;
        if (k) ab_bordered_linop(&bo, &op);
        else op = *ab_problem_jacobian(p);
        for (size_t i = 0; i < m; i++) nw->Ftrial[i] = -nw->F[i];
        st = ab_linsol_setup(nw->ls, &op, err);
        if (!st) st = ab_linsol_solve(nw->ls, nw->Ftrial, nw->step, err);
        report->linear_iterations += ab_linsol_last_iterations(nw->ls);
        if (st == AB_ELINALG) {
            char why[256];
            snprintf(why, sizeof why, "%.200s", err ? err->msg : "");
            return ab_error_set(err, AB_ELINALG,
                                "Newton: the Jacobian is singular at iteration %d (%s); the state may sit exactly at a "
                                "bifurcation point: move kappa slightly",
                                it, why);
        }
        if (st) return st;
        /* Backtracking: accept the largest lambda = 2^-j with sufficient decrease of |F|_2.
         * Only a trial whose own residual was computed is ever accepted. */
        double f0 = norm_2(nw->F, m), lambda = 1.0;
        int accepted = 0;
        for (int j = 0; j < AB_NEWTON_LINE_SEARCH_STEPS; j++, lambda *= 0.5) {
            for (size_t i = 0; i < m; i++) nw->trial[i] = xc[i] + lambda * nw->step[i];
            ab_error scratch = {0};
            if (extended_residual(nw, p, nw->trial, nw->Ftrial, &scratch) != AB_OK) continue;
            double f1 = norm_2(nw->Ftrial, m);
            if (isfinite(f1) && f1 <= (1.0 - AB_NEWTON_ARMIJO * lambda) * f0) { accepted = 1; break; }
        }
        if (!accepted) {
            /* leave the problem's state evaluation at u, not at the last trial */
            ab_error scratch = {0};
            (void)extended_residual(nw, p, xc, nw->F, &scratch);
            return ab_error_set(err, AB_ENOCONV,
                                "Newton: the line search found no decrease of |F| at iteration %d (max|F| = %.3g, "
                                "tolerance %.3g): the residual cannot be reduced further here; try more nodes "
                                "(discretization.nodes) or a guess closer to the state",
                                it, res, tol);
        }
        step_len = lambda * norm_inf(nw->step, n);
        memcpy(xc, nw->trial, sizeof(double) * m);
        memcpy(u, xc, sizeof(double) * n);
        memcpy(nw->F, nw->Ftrial, sizeof(double) * m);
        res = norm_inf(nw->F, m);
        tol = ab_problem_tolerance(p, opts->tol);
    }
    return AB_OK;
}

ab_status ab_newton_solve(ab_newton *nw, ab_disc *disc, double *u, const ab_newton_opts *opts,
                          ab_newton_report *report, ab_error *err)
{
    /* a state with continuous symmetries is pinned to the member of its orbit nearest the
     * guess (docs/theory.md, "Phase conditions") */
    ab_problem *p = ab_disc_problem(disc);
    if (ab_problem_n_symmetries(p) > 0) {
        ab_status st = ab_problem_set_phase_reference(p, u, err);
        if (st) return st;
    }
    return ab_newton_solve_problem(nw, p, u, opts, report, err);
}
