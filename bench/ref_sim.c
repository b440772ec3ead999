/* Reference drift for bench_sim: Gram matrix by dgemm, kernel weights elementwise, the
 * weighted sum by dgemm, then normalisation and projection (see ref_sim.h). */
#include "ref_sim.h"

#include <cblas.h>
#include <math.h>

void ref_sim_drift(int sa, int n, int d, double beta, const double *X, double *V, double *G)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, 1.0, X, d, X, d, 0.0, G, n);
    for (long k = 0; k < (long)n * n; k++) G[k] = sa ? exp(beta * (G[k] - 1.0)) : exp(beta * G[k]) / n;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, n, 1.0, G, n, X, d, 0.0, V, d);
    for (int i = 0; i < n; i++) {
        double s = 0.0, dot = 0.0;
        if (sa)
            for (int j = 0; j < n; j++) s += G[(long)i * n + j];
        double *v = V + (long)i * d;
        const double *x = X + (long)i * d;
        for (int k = 0; k < d; k++) { if (sa) v[k] /= s; dot += v[k] * x[k]; }
        for (int k = 0; k < d; k++) v[k] -= dot * x[k];
    }
}
