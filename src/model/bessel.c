/* Modified Bessel functions in log form, accurate in relative terms for every order and
 * argument attnbif meets (orders up to ~1e4, arguments up to ~1e5), where the plain and
 * scaled library functions underflow or lose accuracy (docs/theory.md, "Special functions"). */
#include "attnbif/model.h"
#include "model/bessel_series.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>

/* Orders at or above this use the uniform (Debye) expansion with terms u_0..u_5: its
 * truncation error is below |u_6| / nu^6 < 1e-15 here. Below it, GSL's scaled functions
 * (checked to ~1e-12 relative up to x = 1e4) or the power series are used. */
#define AB_DEBYE_NU_MIN 120.0

/* The power series sum_k y^k / (k! (nu+1)_k) has positive terms (relative accuracy is
 * rounding) and converges in a few dozen terms while y <= AB_SERIES_Y_FACTOR (nu + 1). */
#define AB_SERIES_Y_FACTOR 4.0

double ab_sphere_mean_series(double nu, double y)
{
    double term = 1.0, sum = 1.0;
    for (int k = 1; k < 100000; k++) {
        term *= y / ((double)k * (nu + k));
        sum += term;
        if (term < 1e-17 * sum) break;
    }
    return sum;
}

/* log I_nu(x) for nu >= 120 by the uniform asymptotic expansion (Abramowitz & Stegun 9.7.7). */
static double log_i_debye(double nu, double x)
{
    const double z = x / nu, t = sqrt(1.0 + z * z), p = 1.0 / t;
    const double eta = t + log(z / (1.0 + t));
    const double p2 = p * p;
    const double u1 = p * (3.0 - 5.0 * p2) / 24.0;
    const double u2 = p2 * (81.0 + p2 * (-462.0 + p2 * 385.0)) / 1152.0;
    const double u3 = p * p2 * (30375.0 + p2 * (-369603.0 + p2 * (765765.0 - p2 * 425425.0))) / 414720.0;
    const double u4 = p2 * p2 *
                      (4465125.0 + p2 * (-94121676.0 + p2 * (349922430.0 + p2 * (-446185740.0 + p2 * 185910725.0)))) /
                      39813120.0;
    const double u5 = p * p2 * p2 *
                      (1519035525.0 +
                       p2 * (-49286948607.0 +
                             p2 * (284499769554.0 + p2 * (-614135872350.0 + p2 * (566098157625.0 - p2 * 188699385875.0))))) /
                      6688604160.0;
    const double inv = 1.0 / nu;
    const double sum = 1.0 + inv * (u1 + inv * (u2 + inv * (u3 + inv * (u4 + inv * u5))));
    return nu * eta - 0.5 * log(2.0 * 3.14159265358979323846 * nu) - 0.5 * log(t) + log(sum);
}

double ab_log_bessel_i(double nu, double x)
{
    if (!(nu >= 0.0) || !(x >= 0.0) || !isfinite(nu) || !isfinite(x)) return NAN;
    if (x == 0.0) return nu == 0.0 ? 0.0 : -INFINITY;
    const double y = 0.25 * x * x;
    if (y <= AB_SERIES_Y_FACTOR * (nu + 1.0))
        return log(ab_sphere_mean_series(nu, y)) + nu * log(0.5 * x) - gsl_sf_lngamma(nu + 1.0);
    if (nu >= AB_DEBYE_NU_MIN) return log_i_debye(nu, x);
    gsl_sf_result r;
    int status;
    if (nu == 0.0) status = gsl_sf_bessel_I0_scaled_e(x, &r);
    else if (nu == 1.0) status = gsl_sf_bessel_I1_scaled_e(x, &r);
    else status = gsl_sf_bessel_Inu_scaled_e(nu, x, &r);
    if (status == GSL_SUCCESS && r.val > 0.0 && isfinite(r.val)) return x + log(r.val);
    /* Not expected in this region (x > 2 sqrt(nu + 1), nu < 120); the Debye expansion is
     * still a fair approximation rather than a NaN. */
    return log_i_debye(nu, x);
}

double ab_bessel_i_ratio(double nu, double x)
{
    if (!(nu >= 0.0) || !(x >= 0.0) || !isfinite(nu) || !isfinite(x)) return NAN;
    if (x == 0.0) return 0.0;
    const double y = 0.25 * x * x;
    if (y <= AB_SERIES_Y_FACTOR * (nu + 1.0))
        return 0.5 * x / (nu + 1.0) * ab_sphere_mean_series(nu + 1.0, y) / ab_sphere_mean_series(nu, y);
    if (nu == 0.0) return gsl_sf_bessel_I1_scaled(x) / gsl_sf_bessel_I0_scaled(x);
    return exp(ab_log_bessel_i(nu + 1.0, x) - ab_log_bessel_i(nu, x));
}

/* G_mu(z) = Gamma(mu+1) (2/z)^mu I_mu(z), the mean of e^{z c} over S^{d-2} (mu = (d-3)/2):
 * d = 2 (mu = -1/2) gives cosh z. */
double ab_log_sphere_mean_exp(double mu, double z)
{
    if (!(mu >= -0.5) || !(z >= 0.0) || !isfinite(z)) return NAN;
    if (z == 0.0) return 0.0;
    if (mu == -0.5) return z + log1p(exp(-2.0 * z)) - 0.69314718055994530942;
    const double y = 0.25 * z * z;
    if (y <= AB_SERIES_Y_FACTOR * (mu + 1.0)) return log(ab_sphere_mean_series(mu, y));
    return gsl_sf_lngamma(mu + 1.0) + mu * log(2.0 / z) + ab_log_bessel_i(mu, z);
}

double ab_dlog_sphere_mean_exp(double mu, double z)
{
    if (!(mu >= -0.5) || !(z >= 0.0) || !isfinite(z)) return NAN;
    if (mu == -0.5) return tanh(z);
    return ab_bessel_i_ratio(mu, z);
}

double ab_log_sphere_harmonic_exp(double mu, int m, double z)
{
    if (m == 0) return ab_log_sphere_mean_exp(mu, z);
    if (!(mu >= -0.5) || m < 0 || !(z >= 0.0) || !isfinite(z)) return NAN;
    if (z == 0.0) return -INFINITY;
    if (mu == -0.5 && m == 1) return z + log1p(-exp(-2.0 * z)) - 0.69314718055994530942; /* sinh z */
    return gsl_sf_lngamma(mu + 1.0) + mu * log(2.0 / z) + ab_log_bessel_i(mu + m, z);
}
