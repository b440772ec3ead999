/* Funk-Hecke coefficients of the attention kernel and the analytic uniform-state spectrum
 * (docs/theory.md, "The model"), overflow-free for large beta and exact at beta = 0. */
#include "attnbif/model.h"
#include "model/bessel_series.h"

#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>

/* Below this beta the ratio I_{l+nu}/I_nu comes from its power series, which is exact to
 * rounding there and has the beta -> 0 limit built in; above it from GSL's scaled Bessel
 * functions, whose relative accuracy is uniform in beta. */
#define AB_SERIES_BETA_MAX 1.0

const char *ab_model_kind_name(ab_model_kind kind)
{
    return kind == AB_MODEL_SA ? "SA" : "USA";
}

ab_status ab_model_validate(const ab_model *model, ab_error *err)
{
    if (model->kind != AB_MODEL_SA && model->kind != AB_MODEL_USA)
        return ab_error_set(err, AB_EINVAL, "model must be SA or USA");
    if (model->d < 2)
        return ab_error_set(err, AB_EINVAL, "d must be an integer >= 2 (got %d)", model->d);
    if (!isfinite(model->beta) || model->beta < 0.0)
        return ab_error_set(err, AB_EINVAL, "beta must be finite and >= 0 (got %g)", model->beta);
    return AB_OK;
}

/* (beta/2)^(l-1) / (2 (nu+1)_l), computed as a running product so that neither the power
 * nor the Pochhammer symbol overflows. Equals 1/d at l = 1. */
static double series_prefactor(double nu, double beta, int l)
{
    double p = 0.5 / (nu + 1.0);
    for (int j = 2; j <= l; j++) p *= (0.5 * beta) / (nu + j);
    return p;
}

static int args_ok(ab_model_kind kind, int d, double beta, int l)
{
    return (kind == AB_MODEL_SA || kind == AB_MODEL_USA) && d >= 2 && l >= 0 &&
           isfinite(beta) && beta >= 0.0;
}

double ab_kappa_l(ab_model_kind kind, int d, double beta, int l)
{
    if (!args_ok(kind, d, beta, l)) return NAN;
    if (l == 0) return 0.0;
    const double nu = 0.5 * d - 1.0;
    if (beta <= AB_SERIES_BETA_MAX) {
        const double y = 0.25 * beta * beta;
        double val = series_prefactor(nu, beta, l) * ab_sphere_mean_series(nu + l, y);
        if (kind == AB_MODEL_SA) val /= ab_sphere_mean_series(nu, y);
        return val;
    }
    /* Logs throughout: at large d or l the Bessel values themselves underflow. */
    const double log_ratio = ab_log_bessel_i(l + nu, beta) - ab_log_bessel_i(nu, beta);
    if (kind == AB_MODEL_SA) return exp(log_ratio) / beta;
    return exp(ab_log_lambda_l(d, beta, 0) + log_ratio - log(beta));
}

ab_status ab_kappa_l_table(ab_model_kind kind, int d, double beta, int lmax, double *out,
                           ab_error *err)
{
    if (!args_ok(kind, d, beta, lmax))
        return ab_error_set(err, AB_EINVAL, "kappa_l table: invalid model (d=%d, beta=%g, lmax=%d)",
                            d, beta, lmax);
    for (int l = 0; l <= lmax; l++) {
        out[l] = ab_kappa_l(kind, d, beta, l);
        if (!isfinite(out[l]))
            return ab_error_set(err, AB_ENAN, "kappa_%d is not finite at d=%d, beta=%g", l, d, beta);
    }
    return AB_OK;
}

double ab_kappa_l_dbeta(ab_model_kind kind, int d, double beta, int l)
{
    if (!args_ok(kind, d, beta, l)) return NAN;
    if (l == 0) return 0.0;
    if (beta == 0.0) {
        /* kappa_1 is even in beta; kappa_2 = beta / (d (d + 2)) + O(beta^3); higher l vanish
         * to second order. */
        return l == 2 ? 1.0 / (d * (d + 2.0)) : 0.0;
    }
    /* From I'_mu = I_{mu+1} + (mu/x) I_mu:
     *   USA: d kappa_l/d beta = kappa_{l+1} + (l - 1) kappa_l / beta
     *   SA:  the same minus beta kappa_l kappa_1 (the derivative of the normalisation). */
    const double kl = ab_kappa_l(kind, d, beta, l);
    double val = ab_kappa_l(kind, d, beta, l + 1) + (l - 1) * kl / beta;
    if (kind == AB_MODEL_SA) val -= beta * kl * ab_kappa_l(kind, d, beta, 1);
    return val;
}

double ab_lambda_l(int d, double beta, int l)
{
    if (!args_ok(AB_MODEL_USA, d, beta, l)) return NAN;
    if (l > 0) return beta * ab_kappa_l(AB_MODEL_USA, d, beta, l);
    return exp(ab_log_lambda_l(d, beta, 0));
}

double ab_log_lambda_l(int d, double beta, int l)
{
    if (!args_ok(AB_MODEL_USA, d, beta, l)) return NAN;
    const double nu = 0.5 * d - 1.0;
    if (beta == 0.0) return l == 0 ? 0.0 : -INFINITY;
    /* lambda_l = G_nu-type normalisation: Gamma(d/2) (2/beta)^nu I_{l+nu}(beta) */
    return gsl_sf_lngamma(0.5 * d) + nu * log(2.0 / beta) + ab_log_bessel_i(l + nu, beta);
}

double ab_uniform_eigenvalue(ab_model_kind kind, int d, double beta, double kappa, int l)
{
    return -(double)l * (l + d - 2) * (kappa - ab_kappa_l(kind, d, beta, l));
}

/* Binomial coefficient C(n, k) as a double; 0 outside 0 <= k <= n. */
static double binom(int n, int k)
{
    if (k < 0 || n < 0 || k > n) return 0.0;
    return floor(gsl_sf_choose((unsigned)n, (unsigned)k) + 0.5);
}

long ab_harmonic_dim(int dim, int l)
{
    if (dim < 1 || l < 0) return 0;
    /* dim H_l(R^dim) = C(l + dim - 1, l) - C(l + dim - 3, l - 2). */
    return (long)(binom(l + dim - 1, l) - binom(l + dim - 3, l - 2));
}
