/* Funk-Hecke coefficients kappa_l against an independent quadrature of the Funk-Hecke
 * integral, their beta -> 0 limits and beta-derivatives, and harmonic dimensions. */
#include "attnbif/model.h"
#include "testutil.h"

#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_gegenbauer.h>
#include <math.h>

typedef struct {
    int d, l;
    double beta;
} fh_args;

/* Integrand of lambda_l = c_d int e^{beta t} P_l(t) (1-t^2)^{(d-3)/2} dt with P_l(1) = 1,
 * scaled by e^{-beta} (the (1-t^2) power goes into the QAWS weight). */
static double fh_integrand(double t, void *vp)
{
    const fh_args *a = vp;
    double P;
    if (a->d == 2) P = cos(a->l * acos(t)); /* Chebyshev */
    else {
        double lam = 0.5 * a->d - 1.0;
        P = gsl_sf_gegenpoly_n(a->l, lam, t) / gsl_sf_gegenpoly_n(a->l, lam, 1.0);
    }
    return exp(a->beta * (t - 1.0)) * P;
}

/* e^{-beta} lambda_l by adaptive quadrature with the algebraic endpoint weight. */
static double lambda_scaled_by_quadrature(int d, double beta, int l)
{
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(2000);
    double alpha = 0.5 * (d - 3);
    gsl_integration_qaws_table *tab = gsl_integration_qaws_table_alloc(alpha, alpha, 0, 0);
    fh_args a = {d, l, beta};
    gsl_function f = {fh_integrand, &a};
    double val, abserr;
    int status = gsl_integration_qaws(&f, -1.0, 1.0, tab, 1e-15, 1e-13, 2000, ws, &val, &abserr);
    if (status && !(abserr <= 1e-12 * fabs(val))) val = NAN; /* round-off limit reached is fine */
    gsl_integration_qaws_table_free(tab);
    gsl_integration_workspace_free(ws);
    double mass = exp(gsl_sf_lnbeta(0.5, alpha + 1.0));
    return val / mass;
}

/* I_mu(x) (x/2)^{-mu} by its power series in long double: all terms are positive, so the
 * sum is accurate to ~1e-18 relative for the x <= 20 used here. */
static long double bessel_series_ld(double mu, double x)
{
    long double y = 0.25L * x * x, term = 1.0L / tgammal(mu + 1.0L), sum = term;
    for (int k = 1; k < 400; k++) {
        term *= y / ((long double)k * (mu + k));
        sum += term;
        if (term < 1e-22L * sum) break;
    }
    return sum;
}

/* kappa_l from the series: SA I_{l+nu}/(beta I_nu), USA Gamma(d/2)(2/beta)^nu I_{l+nu}/beta. */
static double kappa_series(ab_model_kind kind, int d, double beta, int l)
{
    double nu = 0.5 * d - 1.0;
    long double ratio = bessel_series_ld(nu + l, beta) * powl(0.5L * beta, l);
    if (kind == AB_MODEL_SA) return (double)(ratio / bessel_series_ld(nu, beta) / beta);
    return (double)(tgammal(0.5L * d) * ratio / beta);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    const int dims[] = {2, 3, 4, 7};
    const double betas[] = {0.5, 1.0, 4.0, 20.0};
    /* 1a. kappa_l against the long-double power series of the Bessel functions (no GSL, no
     *     ratio tricks): 1e-13 relative, for every l used in practice. */
    for (int di = 0; di < 4; di++)
        for (int bi = 0; bi < 4; bi++)
            for (int l = 1; l <= 40; l += (l < 6 ? 1 : 7))
                for (int kind = 0; kind < 2; kind++) {
                    int d = dims[di];
                    double beta = betas[bi];
                    char what[128];
                    snprintf(what, sizeof what, "%s kappa_%d d=%d beta=%g vs long-double Bessel series",
                             kind ? "USA" : "SA", l, d, beta);
                    ab_check_rel(&t, ab_kappa_l((ab_model_kind)kind, d, beta, l), kappa_series((ab_model_kind)kind, d, beta, l),
                                 1e-13, 0.0, what);
                }
    /* 1b. The Funk-Hecke formula itself against direct quadrature of the Funk-Hecke integral
     *     (no Bessel functions involved). The integrand of degree l cancels to the size of
     *     lambda_l, so this is done for l <= 2, where 1e-10 relative is reachable. */
    for (int di = 0; di < 4; di++)
        for (int bi = 0; bi < 4; bi++)
            for (int l = 1; l <= 2; l++) {
                int d = dims[di];
                double beta = betas[bi];
                double l0 = lambda_scaled_by_quadrature(d, beta, 0), ll = lambda_scaled_by_quadrature(d, beta, l);
                char what[128];
                snprintf(what, sizeof what, "SA  kappa_%d d=%d beta=%g vs Funk-Hecke quadrature", l, d, beta);
                ab_check_rel(&t, ab_kappa_l(AB_MODEL_SA, d, beta, l), ll / (beta * l0), 1e-10, 0.0, what);
                snprintf(what, sizeof what, "USA kappa_%d d=%d beta=%g vs Funk-Hecke quadrature", l, d, beta);
                ab_check_rel(&t, ab_kappa_l(AB_MODEL_USA, d, beta, l), ll * exp(beta) / beta, 1e-10, 0.0, what);
            }
    /* 2. Exact limits at beta = 0 and continuity as beta -> 0. */
    for (int di = 0; di < 4; di++) {
        int d = dims[di];
        char what[128];
        for (int kind = 0; kind < 2; kind++) {
            snprintf(what, sizeof what, "%s kappa_1 at beta=0 equals 1/d (d=%d)", kind ? "USA" : "SA", d);
            ab_check_rel(&t, ab_kappa_l((ab_model_kind)kind, d, 0.0, 1), 1.0 / d, 1e-15, 0.0, what);
            ab_check(&t, ab_kappa_l((ab_model_kind)kind, d, 0.0, 2) == 0.0, "%s kappa_2 at beta=0 is 0 (d=%d)",
                     kind ? "USA" : "SA", d);
            snprintf(what, sizeof what, "%s kappa_1 at beta=1e-8 is 1/d to O(beta^2) (d=%d)", kind ? "USA" : "SA", d);
            ab_check_rel(&t, ab_kappa_l((ab_model_kind)kind, d, 1e-8, 1), 1.0 / d, 1e-15, 0.0, what);
            /* Continuity where the implementation switches from series to scaled Bessel. */
            snprintf(what, sizeof what, "%s kappa_3 continuous across beta = 1 (d=%d)", kind ? "USA" : "SA", d);
            double below = ab_kappa_l((ab_model_kind)kind, d, 1.0 - 1e-9, 3), above = ab_kappa_l((ab_model_kind)kind, d, 1.0 + 1e-9, 3);
            ab_check_rel(&t, below, above, 1e-8, 0.0, what);
        }
        ab_check_rel(&t, ab_lambda_l(d, 0.0, 0), 1.0, 1e-15, 0.0, "lambda_0 at beta=0 is 1");
    }
    /* 3. d kappa_l / d beta against central differences (h = 1e-4: truncation ~1e-9). */
    for (int kind = 0; kind < 2; kind++)
        for (int di = 0; di < 4; di++)
            for (int l = 1; l <= 4; l++)
                for (int bi = 0; bi < 3; bi++) {
                    int d = dims[di];
                    double beta = betas[bi], h = 1e-4;
                    double fd = (ab_kappa_l((ab_model_kind)kind, d, beta + h, l) - ab_kappa_l((ab_model_kind)kind, d, beta - h, l)) / (2 * h);
                    char what[128];
                    snprintf(what, sizeof what, "%s d kappa_%d/d beta at d=%d beta=%g vs central difference",
                             kind ? "USA" : "SA", l, d, beta);
                    ab_check_rel(&t, ab_kappa_l_dbeta((ab_model_kind)kind, d, beta, l), fd, 1e-7, 1e-3, what);
                }
    /* 4. Harmonic dimensions: N(3,l) = 2l+1, N(2,l) = 2, N(1,l) = 1,1,0; and the sector sum. */
    for (int l = 0; l <= 6; l++) {
        ab_check(&t, ab_harmonic_dim(3, l) == 2 * l + 1, "N(3,%d) = %d", l, 2 * l + 1);
        ab_check(&t, ab_harmonic_dim(2, l) == (l == 0 ? 1 : 2), "N(2,%d)", l);
        ab_check(&t, ab_harmonic_dim(1, l) == (l <= 1 ? 1 : 0), "N(1,%d)", l);
        for (int d = 2; d <= 8; d++) {
            long sum = 0;
            for (int m = 0; m <= l; m++) sum += ab_harmonic_dim(d - 1, m);
            ab_check(&t, sum == ab_harmonic_dim(d, l), "sum_m<=%d N(%d,m) = N(%d,%d) = %ld", l, d - 1, d, l,
                     ab_harmonic_dim(d, l));
        }
    }
    /* 5. Invalid arguments give NaN, not garbage. */
    ab_check(&t, isnan(ab_kappa_l(AB_MODEL_SA, 1, 1.0, 1)), "d = 1 gives NaN");
    ab_check(&t, isnan(ab_kappa_l(AB_MODEL_SA, 3, -1.0, 1)), "beta < 0 gives NaN");
    return ab_finish(&t);
}
