/* Kernel vectors of a linearised problem at a singular point (a branch point) without an
 * assembled matrix: bordered inverse iteration through the linear-solver interface
 * (docs/continuation.md, "Classifying branch points"). */
#include "attnbif/problem.h"

#include <math.h>
#include <string.h>

/* One vector of the (near) kernel of J (transpose = 0) or J^T (1), from the start v (unit,
 * overwritten with the result): v <- z / |z| where [J v; v^T 0] (z; s) = (0; 1), i.e.
 * J z = -s v with <v, z> = 1: inverse iteration with a bordering that stays regular where
 * J is singular. work holds 2 (n + 1) doubles. */
static ab_status iterate(ab_problem *p, ab_linsol *ls, int transpose, double *v, double *work, ab_error *err)
{
    const size_t n = ab_problem_dim(p);
    double *rhs = work, *sol = work + n + 1;
    const double zero = 0.0;
    for (int it = 0; it < AB_KERNEL_ITERATIONS; it++) {
        ab_bordered bo = {ab_problem_jacobian(p), 1, v, v, &zero};
        ab_linop op;
        ab_bordered_linop(&bo, &op);
        memset(rhs, 0, sizeof(double) * n);
        rhs[n] = 1.0;
        ab_status st = ab_linsol_setup(ls, &op, err);
        if (!st) st = transpose ? ab_linsol_solve_transpose(ls, rhs, sol, err) : ab_linsol_solve(ls, rhs, sol, err);
        if (st) return st;
        double nrm = 0.0;
        for (size_t i = 0; i < n; i++) nrm += sol[i] * sol[i];
        nrm = sqrt(nrm);
        if (!(nrm > 0.0) || !isfinite(nrm)) return ab_error_set(err, AB_ENAN, "kernel vector iteration broke down");
        /* the sign follows the start, so that repeated calls agree */
        double dot = 0.0;
        for (size_t i = 0; i < n; i++) dot += sol[i] * v[i];
        const double sgn = dot < 0.0 ? -1.0 : 1.0;
        for (size_t i = 0; i < n; i++) v[i] = sgn * sol[i] / nrm;
    }
    return AB_OK;
}

ab_status ab_problem_kernel_vectors(ab_problem *p, ab_linsol *ls, double *phi, double *psi, double *work, ab_error *err)
{
    const size_t n = ab_problem_dim(p);
    /* a fixed start with a component along any vector of a smooth discretisation */
    double nrm = 0.0;
    for (size_t i = 0; i < n; i++) {
        phi[i] = 1.0 + 0.5 * sin(1.0 + (double)i);
        nrm += phi[i] * phi[i];
    }
    for (size_t i = 0; i < n; i++) phi[i] /= sqrt(nrm);
    ab_status st = iterate(p, ls, 0, phi, work, err);
    if (st || !psi) return st;
    memcpy(psi, phi, sizeof(double) * n);
    return iterate(p, ls, 1, psi, work, err);
}
