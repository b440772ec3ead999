/* Initial-guess pieces the discretisations share: von Mises-Fisher concentrations, profiles
 * interpolated onto nodes, the SA beta-derivative factor (docs/theory.md, "Stationary states"). */
#include "disc/guess.h"

#include "attnbif/model.h"

#include <math.h>

double ab_vmf_concentration(int d, double kappa)
{
    double b = 1.0 / kappa, nu = 0.5 * d - 1.0;
    for (int it = 0; it < 200; it++) {
        double next = ab_bessel_i_ratio(nu, b) / kappa;
        if (!isfinite(next)) break;
        if (!(next > 1e-3)) return 1.0 / kappa; /* no cluster at beta = 0: keep the strong guess */
        if (fabs(next - b) < 1e-12 * b) return next;
        b = next;
    }
    return b;
}

double ab_vmf_for_r(int d, double r)
{
    const double nu = 0.5 * d - 1.0;
    double lo = 0.0, hi = 1.0;
    while (ab_bessel_i_ratio(nu, hi) < r && hi < 1e12) hi *= 2.0;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        if (ab_bessel_i_ratio(nu, mid) < r) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

ab_status ab_log_profile_at(int n, const double *t, const double *rho, size_t m, const double *tq, size_t stride,
                            double *u, ab_error *err)
{
    if (n < 2) return ab_error_set(err, AB_EINVAL, "a density profile needs at least 2 samples (got %d)", n);
    for (int k = 0; k < n; k++)
        if (!(rho[k] > 0.0) || !(t[k] >= -1.0 && t[k] <= 1.0))
            return ab_error_set(err, AB_EINVAL, "profile sample %d is invalid (t = %g, rho = %g): need -1 <= t <= 1, rho > 0",
                                k, t[k], rho[k]);
    for (size_t i = 0; i < m; i++) {
        const double ti = tq[i * stride];
        int lo = -1, hi = -1;
        for (int k = 0; k < n; k++) {
            if (t[k] <= ti && (lo < 0 || t[k] > t[lo])) lo = k;
            if (t[k] >= ti && (hi < 0 || t[k] < t[hi])) hi = k;
        }
        if (lo < 0) lo = hi;
        if (hi < 0) hi = lo;
        const double a = log(rho[lo]), b = log(rho[hi]);
        u[i] = t[hi] > t[lo] ? a + (b - a) * (ti - t[lo]) / (t[hi] - t[lo]) : a;
    }
    return AB_OK;
}

double ab_sa_dbeta_factor(double x)
{
    if (fabs(x) < 1e-3) return -0.5 + x * (2.0 / 3.0 + x * (-0.75 + x * 0.8));
    return (x / (1.0 + x) - log1p(x)) / (x * x);
}
