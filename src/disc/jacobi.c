/* Gauss-Jacobi quadrature for the symmetric weights (1 - t^2)^alpha, with weights in log form,
 * and the orthonormal Jacobi recurrence, accurate in relative terms for every alpha up to
 * the largest d (docs/theory.md, "Quadrature at large d"). */
#include "disc/jacobi.h"

#include <gsl/gsl_sf_gamma.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

/* The recurrence runs on values scaled by e^{-s}; once they pass 2^AB_RESCALE_BITS they are
 * brought back by that factor, so neither p_k nor its square overflows at large alpha. */
#define AB_RESCALE_BITS 300
/* Newton sweeps polishing the eigenvalue nodes (quadratic convergence: two reach rounding). */
#define AB_NODE_NEWTON_STEPS 3

double ab_jacobi_log_mass(double alpha)
{
    return gsl_sf_lnbeta(0.5, alpha + 1.0);
}

double ab_jacobi_mass(double alpha)
{
    return exp(ab_jacobi_log_mass(alpha));
}

/* Squared recurrence coefficient b_k of the monic symmetric Jacobi polynomials:
 * t P_k = P_{k+1} + b_k P_{k-1}. */
static double rec_b(double alpha, int k)
{
    if (k == 1) return 1.0 / (2.0 * alpha + 3.0);
    return (double)k * (k + 2.0 * alpha) / ((2.0 * k + 2.0 * alpha + 1.0) * (2.0 * k + 2.0 * alpha - 1.0));
}

/* The orthonormal recurrence at t up to degree kmax. Writes p_k e^{log_factor} (and the
 * derivatives likewise) where p/dp are given, and returns log sum_{k<=kmax} p_k^2. */
static double recurrence(double alpha, double scale, int kmax, double t, double log_factor, double *p, double *dp,
                         double *last, double *dlast)
{
    const double big = ldexp(1.0, AB_RESCALE_BITS), small = ldexp(1.0, -AB_RESCALE_BITS);
    const double step = AB_RESCALE_BITS * 0.69314718055994530942;
    double s = -0.5 * (log(scale) + ab_jacobi_log_mass(alpha)); /* p_k = v_k e^{s} */
    double vprev = 0.0, v = 1.0, dvprev = 0.0, dv = 0.0, sumsq = 1.0, sbk = 0.0;
    double factor = exp(s + log_factor);
    if (p) p[0] = factor;
    if (dp) dp[0] = 0.0;
    for (int k = 0; k < kmax; k++) {
        const double sbn = sqrt(rec_b(alpha, k + 1));
        const double vn = (t * v - sbk * vprev) / sbn;
        const double dvn = (v + t * dv - sbk * dvprev) / sbn;
        vprev = v; v = vn; dvprev = dv; dv = dvn; sbk = sbn;
        if (fabs(v) > big || fabs(dv) > big) {
            v *= small; vprev *= small; dv *= small; dvprev *= small; sumsq *= small * small;
            s += step;
            factor = exp(s + log_factor);
        }
        sumsq += v * v;
        if (p) p[k + 1] = v * factor;
        if (dp) dp[k + 1] = dv * factor;
    }
    if (last) *last = v;
    if (dlast) *dlast = dv;
    return log(sumsq) + 2.0 * s;
}

void ab_jacobi_eval_scaled(double alpha, double scale, int kmax, double t, double log_factor, double *p, double *dp)
{
    recurrence(alpha, scale, kmax, t, log_factor, p, dp, NULL, NULL);
}

void ab_jacobi_eval(double alpha, double scale, int kmax, double t, double *p, double *dp)
{
    recurrence(alpha, scale, kmax, t, 0.0, p, dp, NULL, NULL);
}

ab_status ab_gauss_jacobi(double alpha, int n, double scale, double *t, double *w, double *logw, ab_error *err)
{
    if (n < 1 || !(alpha > -1.0)) return ab_error_set(err, AB_EINVAL, "Gauss-Jacobi rule: need n >= 1, alpha > -1");
    double *diag = calloc((size_t)n, sizeof *diag), *off = calloc((size_t)n, sizeof *off);
    if (!diag || !off) {
        free(diag); free(off);
        return ab_error_set(err, AB_ENOMEM, "out of memory for a Gauss-Jacobi rule (n = %d)", n);
    }
    /* Golub-Welsch: the nodes are the eigenvalues of the symmetric Jacobi matrix. */
    for (int k = 0; k + 1 < n; k++) off[k] = sqrt(rec_b(alpha, k + 1));
    lapack_int info = n > 1 ? LAPACKE_dstev(LAPACK_COL_MAJOR, 'N', n, diag, off, NULL, 1) : 0;
    free(off);
    if (info != 0) {
        free(diag);
        return ab_error_set(err, AB_ELINALG, "Gauss-Jacobi rule (n = %d, alpha = %g): LAPACK dstev info %d", n, alpha,
                            (int)info);
    }
    /* Polish each node by Newton on p_n (the eigenvalues are only absolutely accurate), then
     * the weight from the Christoffel function 1 / sum_{k<n} p_k(t)^2, a sum of positive
     * terms, hence accurate in relative terms even where the weight is e^{-1000}. */
    for (int i = 0; i < n; i++) {
        double x = diag[i];
        for (int it = 0; it < AB_NODE_NEWTON_STEPS; it++) {
            double pn, dpn;
            recurrence(alpha, scale, n, x, 0.0, NULL, NULL, &pn, &dpn);
            if (dpn != 0.0 && isfinite(pn / dpn)) x -= pn / dpn;
        }
        diag[i] = x;
    }
    for (int i = 0; i < n; i++) {
        /* exact symmetry about 0 keeps parity exact downstream */
        const int j = n - 1 - i;
        const double x = 0.5 * (diag[i] - diag[j]);
        const double lw = -recurrence(alpha, scale, n - 1, x, 0.0, NULL, NULL, NULL, NULL);
        t[i] = x;
        if (logw) logw[i] = lw;
        if (w) w[i] = exp(lw);
    }
    free(diag);
    return AB_OK;
}
