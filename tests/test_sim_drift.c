/* The vectorised attention drift (src/sim/particles.c: blocked loops, libmvec exp, lane
 * sums) against the plain double loop of the definition (docs/theory.md, The model) with
 * libm exp, for SA and USA, sizes that are and are not multiples of the block and lane
 * widths, and several d (up to 300: no fixed-size arrays in d). */
#include "attnbif/sim.h"
#include "sim/particles.h"
#include "testutil.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* V = P_X(v) by the definition, in long double so that it is the more accurate side. */
static void plain_drift(ab_model_kind kind, int n, int d, double beta, const double *X, double *V)
{
    for (int i = 0; i < n; i++) {
        long double *a = calloc((size_t)d, sizeof(long double)), wsum = 0.0L, dot = 0.0L;
        for (int j = 0; j < n; j++) {
            long double g = 0.0L;
            for (int k = 0; k < d; k++) g += (long double)X[i * d + k] * X[j * d + k];
            long double w = expl(beta * g);
            wsum += w;
            for (int k = 0; k < d; k++) a[k] += w * X[j * d + k];
        }
        for (int k = 0; k < d; k++) a[k] = kind == AB_MODEL_SA ? a[k] / wsum : a[k] / n;
        for (int k = 0; k < d; k++) dot += a[k] * X[i * d + k];
        for (int k = 0; k < d; k++) V[i * d + k] = (double)(a[k] - dot * X[i * d + k]);
        free(a);
    }
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    const int sizes[4] = {1, 7, 300, 613}, dims[5] = {2, 3, 7, 64, 300};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 5; b++)
            for (int kind = 0; kind < 2; kind++) {
                const int n = sizes[a], d = dims[b];
                const ab_model_kind mk = kind ? AB_MODEL_USA : AB_MODEL_SA;
                const double beta = kind ? 3.0 : 9.0;
                double *X = malloc(sizeof(double) * n * d), *XT = malloc(sizeof(double) * n * d);
                double *V = malloc(sizeof(double) * n * d), *W = malloc(sizeof(double) * n * d);
                /* clustered positions: weights spread over many orders of magnitude */
                for (int i = 0; i < n; i++) {
                    double nrm = 0.0;
                    for (int k = 0; k < d; k++) {
                        X[i * d + k] = gsl_ran_gaussian(rng, 0.5) + (k == 0);
                        nrm += X[i * d + k] * X[i * d + k];
                    }
                    for (int k = 0; k < d; k++) X[i * d + k] /= sqrt(nrm);
                }
                ab_attention_drift(mk, n, d, beta, X, XT, V);
                plain_drift(mk, n, d, beta, X, W);
                /* scale: |v| <= 1 for SA, <= e^beta for USA */
                double diff = 0.0, scale = kind ? exp(beta) : 1.0;
                for (int k = 0; k < n * d; k++) diff = fmax(diff, fabs(V[k] - W[k]) / scale);
                ab_check(&t, diff <= 2e-15, "%s n=%d d=%d beta=%g: max |V - V_exact| / |v|_max = %.2e <= 2e-15 (~10 ulp)",
                         ab_model_kind_name(mk), n, d, beta, diff);
                free(X); free(XT); free(V); free(W);
            }
    gsl_rng_free(rng);
    return ab_finish(&t);
}
