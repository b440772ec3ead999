/* Damped Newton's method on the discretisation interface (dense LU from LAPACK). */
#include "attnbif/solve.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ab_newton {
    size_t dim;
    double *F, *J, *step, *trial, *Ftrial;
    lapack_int *ipiv;
};

ab_status ab_newton_create(size_t dim, ab_newton **out, ab_error *err)
{
    ab_newton *n = calloc(1, sizeof *n);
    if (!n) return ab_error_set(err, AB_ENOMEM, "out of memory");
    n->dim = dim;
    n->F = malloc(sizeof(double) * dim);
    n->J = malloc(sizeof(double) * dim * dim);
    n->step = malloc(sizeof(double) * dim);
    n->trial = malloc(sizeof(double) * dim);
    n->Ftrial = malloc(sizeof(double) * dim);
    n->ipiv = malloc(sizeof(lapack_int) * dim);
    if (!n->F || !n->J || !n->step || !n->trial || !n->Ftrial || !n->ipiv) {
        ab_newton_destroy(n);
        return ab_error_set(err, AB_ENOMEM, "out of memory for Newton (dim %zu)", dim);
    }
    *out = n;
    return AB_OK;
}

void ab_newton_destroy(ab_newton *n)
{
    if (!n) return;
    free(n->F); free(n->J); free(n->step); free(n->trial); free(n->Ftrial); free(n->ipiv);
    free(n);
}

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

/* Newton's stopping tolerance at the current state: the requested tolerance relative to
 * the size of the terms in F, but never below what the kernel evaluation can achieve there
 * (docs/theory.md, "Newton"). */
double ab_newton_tolerance(const ab_disc *disc, double tol)
{
    return fmax(tol * ab_disc_residual_scale(disc), AB_NEWTON_FLOOR_FACTOR * ab_disc_residual_floor(disc));
}

ab_status ab_newton_solve(ab_newton *nw, ab_disc *disc, double *u, const ab_newton_opts *opts,
                          ab_newton_report *report, ab_error *err)
{
    const size_t n = nw->dim;
    if (ab_disc_dim(disc) != n) return ab_error_set(err, AB_EINVAL, "Newton workspace has the wrong size");
    ab_status st = ab_disc_residual(disc, u, nw->F, err);
    if (st) return st;
    double res = norm_inf(nw->F, n), step_len = 0.0;
    double tol = ab_newton_tolerance(disc, opts->tol);
    report->converged = 0;
    for (int it = 0;; it++) {
        report->iterations = it;
        report->residual = res;
        report->tolerance = tol;
        if (opts->progress) opts->progress(opts->progress_ctx, it, res, step_len);
        if (res <= tol) { report->converged = 1; return AB_OK; }
        if (it >= opts->max_iter) break;
        if ((st = ab_disc_jacobian(disc, u, nw->J, err))) return st;
        /* the Jacobian may have changed the kernel form: F and the tolerance follow it */
        if ((st = ab_disc_residual(disc, u, nw->F, err))) return st;
        res = norm_inf(nw->F, n);
        tol = ab_newton_tolerance(disc, opts->tol);
        if (res <= tol) continue;
        for (size_t i = 0; i < n; i++) nw->step[i] = -nw->F[i];
        lapack_int info = LAPACKE_dgesv(LAPACK_COL_MAJOR, (lapack_int)n, 1, nw->J, (lapack_int)n, nw->ipiv,
                                        nw->step, (lapack_int)n);
        if (info != 0)
            return ab_error_set(err, AB_ELINALG,
                                "Newton: the Jacobian is singular (LAPACK dgesv info %d) at iteration %d; "
                                "the state may sit exactly at a bifurcation point: move kappa slightly",
                                (int)info, it);
        /* Backtracking: accept the largest lambda = 2^-k with sufficient decrease of |F|_2.
         * Only a trial whose own residual was computed is ever accepted. */
        double f0 = norm_2(nw->F, n), lambda = 1.0;
        int accepted = 0;
        for (int k = 0; k < AB_NEWTON_LINE_SEARCH_STEPS; k++, lambda *= 0.5) {
            for (size_t i = 0; i < n; i++) nw->trial[i] = u[i] + lambda * nw->step[i];
            ab_error scratch = {0};
            if (ab_disc_residual(disc, nw->trial, nw->Ftrial, &scratch) != AB_OK) continue;
            double f1 = norm_2(nw->Ftrial, n);
            if (isfinite(f1) && f1 <= (1.0 - 1e-4 * lambda) * f0) { accepted = 1; break; }
        }
        if (!accepted) {
            /* leave the disc's state evaluation at u, not at the last trial */
            ab_error scratch = {0};
            (void)ab_disc_residual(disc, u, nw->F, &scratch);
            return ab_error_set(err, AB_ENOCONV,
                                "Newton: the line search found no decrease of |F| at iteration %d (max|F| = %.3g, "
                                "tolerance %.3g): the residual cannot be reduced further here; try more nodes "
                                "(discretization.nodes) or a guess closer to the state",
                                it, res, tol);
        }
        step_len = lambda * norm_inf(nw->step, n);
        memcpy(u, nw->trial, sizeof(double) * n);
        memcpy(nw->F, nw->Ftrial, sizeof(double) * n);
        res = norm_inf(nw->F, n);
        tol = ab_newton_tolerance(disc, opts->tol);
    }
    return ab_error_set(err, AB_ENOCONV,
                        "Newton did not converge in %d iterations (max|F| = %.3g > tol %.3g); try a guess "
                        "closer to the state (state.type), more nodes (discretization.nodes), or a larger "
                        "newton.max_iter",
                        opts->max_iter, res, tol);
}
