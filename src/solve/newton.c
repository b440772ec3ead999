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

ab_status ab_newton_solve(ab_newton *nw, ab_disc *disc, double *u, const ab_newton_opts *opts,
                          ab_newton_report *report, ab_error *err)
{
    const size_t n = nw->dim;
    if (ab_disc_dim(disc) != n) return ab_error_set(err, AB_EINVAL, "Newton workspace has the wrong size");
    ab_status st = ab_disc_residual(disc, u, nw->F, err);
    if (st) return st;
    double res = norm_inf(nw->F, n), step_len = 0.0;
    const double tol = opts->tol * ab_disc_residual_scale(disc);
    report->converged = 0;
    for (int it = 0;; it++) {
        report->iterations = it;
        report->residual = res;
        if (opts->progress) opts->progress(opts->progress_ctx, it, res, step_len);
        if (res <= tol) { report->converged = 1; return AB_OK; }
        if (it >= opts->max_iter) break;
        if ((st = ab_disc_jacobian(disc, u, nw->J, err))) return st;
        for (size_t i = 0; i < n; i++) nw->step[i] = -nw->F[i];
        lapack_int info = LAPACKE_dgesv(LAPACK_COL_MAJOR, (lapack_int)n, 1, nw->J, (lapack_int)n, nw->ipiv,
                                        nw->step, (lapack_int)n);
        if (info != 0)
            return ab_error_set(err, AB_ELINALG,
                                "Newton: the Jacobian is singular (LAPACK dgesv info %d) at iteration %d; "
                                "the state may sit exactly at a bifurcation point: move kappa slightly",
                                (int)info, it);
        /* Backtracking: accept the largest lambda = 2^-k with sufficient decrease of |F|_2. */
        double f0 = norm_2(nw->F, n), lambda = 1.0, f1 = INFINITY;
        for (int k = 0; k < 30; k++, lambda *= 0.5) {
            for (size_t i = 0; i < n; i++) nw->trial[i] = u[i] + lambda * nw->step[i];
            ab_error scratch = {0};
            if (ab_disc_residual(disc, nw->trial, nw->Ftrial, &scratch) != AB_OK) continue;
            f1 = norm_2(nw->Ftrial, n);
            if (f1 <= (1.0 - 1e-4 * lambda) * f0) break;
        }
        if (!isfinite(f1))
            return ab_error_set(err, AB_ENAN, "Newton: the residual became non-finite along the step at iteration %d", it);
        step_len = lambda * norm_inf(nw->step, n);
        memcpy(u, nw->trial, sizeof(double) * n);
        memcpy(nw->F, nw->Ftrial, sizeof(double) * n);
        res = norm_inf(nw->F, n);
    }
    return ab_error_set(err, AB_ENOCONV,
                        "Newton did not converge in %d iterations (max|F| = %.3g > tol %.3g); try a guess "
                        "closer to the state (state.type), more nodes (discretization.nodes), or a larger "
                        "newton.max_iter",
                        opts->max_iter, res, tol);
}
