/* Gauss-Jacobi quadrature (GSL's fixed-point rules) and the orthonormal symmetric Jacobi
 * recurrence used by the zonal discretisation and its symmetry sectors. */
#include "disc/jacobi.h"

#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>

double ab_jacobi_mass(double alpha)
{
    return exp(gsl_sf_lnbeta(0.5, alpha + 1.0));
}

ab_status ab_gauss_jacobi(double alpha, int n, double scale, double *t, double *w, ab_error *err)
{
    gsl_integration_fixed_workspace *ws =
        gsl_integration_fixed_alloc(gsl_integration_fixed_jacobi, (size_t)n, -1.0, 1.0, alpha, alpha);
    if (!ws) return ab_error_set(err, AB_ENOMEM, "Gauss-Jacobi rule (n=%d, alpha=%g) failed", n, alpha);
    const double *x = gsl_integration_fixed_nodes(ws);
    const double *wt = gsl_integration_fixed_weights(ws);
    /* GSL returns the nodes of the symmetric Jacobi matrix ascending; enforce exact
     * symmetry about 0 (the rule is symmetric), which keeps parity exact downstream. */
    for (int i = 0; i < n; i++) {
        int j = n - 1 - i;
        t[i] = 0.5 * (x[i] - x[j]);
        w[i] = 0.5 * (wt[i] + wt[j]) * scale;
    }
    gsl_integration_fixed_free(ws);
    return AB_OK;
}

/* Squared recurrence coefficient b_k of the monic symmetric Jacobi polynomials:
 * t P_k = P_{k+1} + b_k P_{k-1}. */
static double rec_b(double alpha, int k)
{
    if (k == 1) return 1.0 / (2.0 * alpha + 3.0);
    return (double)k * (k + 2.0 * alpha) / ((2.0 * k + 2.0 * alpha + 1.0) * (2.0 * k + 2.0 * alpha - 1.0));
}

void ab_jacobi_eval(double alpha, double scale, int kmax, double t, double *p, double *dp)
{
    p[0] = 1.0 / sqrt(scale * ab_jacobi_mass(alpha));
    if (dp) dp[0] = 0.0;
    if (kmax < 1) return;
    double sb1 = sqrt(rec_b(alpha, 1));
    p[1] = t * p[0] / sb1;
    if (dp) dp[1] = p[0] / sb1;
    double sbk = sb1;
    for (int k = 1; k < kmax; k++) {
        double sbn = sqrt(rec_b(alpha, k + 1));
        p[k + 1] = (t * p[k] - sbk * p[k - 1]) / sbn;
        if (dp) dp[k + 1] = (p[k] + t * dp[k] - sbk * dp[k - 1]) / sbn;
        sbk = sbn;
    }
}
