/* Special functions and quadrature at the edges the solver uses (issue 7): log-form Bessel
 * functions and kappa_l against 40-digit values (mpmath 1.3, recorded here), and Gauss-Jacobi
 * weights whose relative accuracy is checked by moments that only the edge nodes carry. */
#include "attnbif/model.h"
#include "disc/jacobi.h"
#include "testutil.h"

#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>

/* (nu, x, log I_nu(x), I_{nu+1}(x)/I_nu(x)), computed with mpmath.besseli at 40 digits. */
static const double bessel_ref[][4] = {
    {0.0, 300.0, 296.2295875930022288384, 0.9983319397905335271469},
    {0.0, 10000.0, 9994.475903781432301005, 0.9999499987498749804647},
    {0.5, 10000.0, 9994.47589128080723589, 0.9999},
    {30.5, 8.0, -33.58517448410319603827, 0.1250575561625242737408},
    {2047.0, 8.0, -10726.57398368715446374, 0.001953117553112366099702},
    {2047.0, 3000.0, 2320.555957234346887298, 0.528163861537711283051},
    {5000.0, 10000.0, 8768.700875047469824778, 0.6179939887499588608},
    {119.5, 100.0, 31.35212371852329186832, 0.3611592598292614170928},
    {120.0, 100.0, 30.84370534586197484615, 0.3600071706336919824999},
    {254.5, 100.0, -153.724182182170201019, 0.1887482456580153514957},
    {1.0, 0.001, -7.600902334542084944821, 0.0002499999895833339895791},
    {62.5, 250.0, 238.5330607486245162115, 0.7788927619657356208635},
};

/* (model, d, beta, l, kappa_l), mpmath at 40 digits: the first row is where GSL's scaled
 * I_nu underflows (d = 4096), the d = 2 rows where the old code refused beta >= ~290. */
static const struct {
    ab_model_kind kind;
    int d;
    double beta;
    int l;
    double kappa;
} kappa_ref[] = {
    {AB_MODEL_SA, 4096, 8, 1, 0.0002441396941390457624627},
    {AB_MODEL_SA, 4096, 8, 3, 9.299492583923573894895e-10},
    {AB_MODEL_USA, 4096, 8, 1, 0.0002460545018274409842459},
    {AB_MODEL_USA, 512, 100, 2, 5.163985277696787613586},
    {AB_MODEL_SA, 2, 300, 1, 0.003327773132635111757156},
    {AB_MODEL_SA, 2, 1000, 1, 0.0009994998748748042801989},
    {AB_MODEL_SA, 2, 10000, 1, 0.00009999499987498749804647},
    {AB_MODEL_USA, 3, 600, 1, 5.231572130224615634763e+254},
    {AB_MODEL_SA, 200, 4, 1, 0.004998021353567471060822},
};

int main(void)
{
    ab_tally t = {0, 0};
    char what[160];
    for (size_t k = 0; k < sizeof bessel_ref / sizeof bessel_ref[0]; k++) {
        const double *r = bessel_ref[k];
        snprintf(what, sizeof what, "log I_%g(%g)", r[0], r[1]);
        /* absolute 1e-13 of the log (relative 1e-13 of I), scaled with the log's size */
        ab_check_rel(&t, ab_log_bessel_i(r[0], r[1]), r[2], 2e-15, 50.0, what);
        snprintf(what, sizeof what, "I_%g(%g) ratio", r[0] + 1, r[1]);
        ab_check_rel(&t, ab_bessel_i_ratio(r[0], r[1]), r[3], 2e-12, 0.0, what);
    }
    /* the sphere mean G_mu: d = 2 is cosh, d = 4 is sinh(z)/z, exactly */
    for (double z = 0.5; z < 2000.0; z *= 3.7) {
        snprintf(what, sizeof what, "log G_{-1/2}(%g) = log cosh", z);
        ab_check_rel(&t, ab_log_sphere_mean_exp(-0.5, z), z + log1p(exp(-2 * z)) - log(2.0), 1e-15, 1.0, what);
        snprintf(what, sizeof what, "log G_{1/2}(%g) = log(sinh z / z)", z);
        ab_check_rel(&t, ab_log_sphere_mean_exp(0.5, z), z + log1p(-exp(-2 * z)) - log(2 * z), 1e-14, 1.0, what);
        snprintf(what, sizeof what, "d/dz log G_{-1/2}(%g) = tanh", z);
        ab_check_rel(&t, ab_dlog_sphere_mean_exp(-0.5, z), tanh(z), 1e-15, 0.0, what);
    }
    for (size_t k = 0; k < sizeof kappa_ref / sizeof kappa_ref[0]; k++) {
        snprintf(what, sizeof what, "%s d=%d beta=%g kappa_%d", ab_model_kind_name(kappa_ref[k].kind), kappa_ref[k].d,
                 kappa_ref[k].beta, kappa_ref[k].l);
        ab_check_rel(&t, ab_kappa_l(kappa_ref[k].kind, kappa_ref[k].d, kappa_ref[k].beta, kappa_ref[k].l),
                     kappa_ref[k].kappa, 1e-11, 0.0, what);
    }

    /* Gauss-Jacobi at large alpha: the rule integrates t^{2k} exactly for k < n; the high
     * moments live on the edge nodes, whose weights are e^{-900} at alpha = 2046.5, so these
     * check each weight's relative accuracy (GSL's rule is only absolutely accurate there). */
    const double alphas[] = {-0.5, 0.0, 14.5, 62.5, 254.5, 2046.5};
    const int ns[] = {64, 512};
    for (size_t a = 0; a < sizeof alphas / sizeof alphas[0]; a++)
        for (size_t q = 0; q < 2; q++) {
            const int n = ns[q];
            const double al = alphas[a];
            double *tt = malloc(sizeof(double) * n), *lw = malloc(sizeof(double) * n);
            ab_error err = {0};
            if (!tt || !lw || ab_gauss_jacobi(al, n, 1.0 / ab_jacobi_mass(al), tt, NULL, lw, &err)) {
                ab_check(&t, 0, "Gauss-Jacobi rule alpha=%g n=%d: %s", al, n, err.msg);
                free(tt); free(lw);
                continue;
            }
            double worst = 0.0, wsum = 0.0;
            for (int i = 0; i < n; i++) wsum += exp(lw[i]);
            for (int k = 0; k < n; k++) {
                const double exact = gsl_sf_lnbeta(k + 0.5, al + 1.0) - ab_jacobi_log_mass(al);
                double mx = -INFINITY, s = 0.0;
                for (int i = 0; i < n; i++) mx = fmax(mx, lw[i] + 2.0 * k * log(fabs(tt[i])));
                for (int i = 0; i < n; i++) s += exp(lw[i] + 2.0 * k * log(fabs(tt[i])) - mx);
                worst = fmax(worst, fabs(expm1(log(s) + mx - exact)));
            }
            ab_check(&t, worst <= 2e-11 && fabs(wsum - 1.0) <= 1e-13,
                     "Gauss-Jacobi alpha=%g n=%d: moments t^0..t^%d exact to %.1e (tol 2e-11), weights sum to 1 (%.1e); "
                     "smallest weight e^%.0f",
                     al, n, 2 * n - 2, worst, fabs(wsum - 1.0), lw[0]);
            free(tt);
            free(lw);
        }
    return ab_finish(&t);
}
