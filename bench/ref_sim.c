/* Reference drift for bench_sim: the "vectorised" formulation a numpy user would write:
 * Gram matrix by dgemm, kernel weights elementwise (vector exp, OpenMP threads), the
 * weighted sum by a second dgemm, then normalisation and projection (see ref_sim.h). */
#include "ref_sim.h"

#include <cblas.h>
#include <math.h>

/* The same vector exp as the simulator (glibc's libmvec; see src/sim/particles.c). */
#if defined(__GLIBC__) && defined(__x86_64__) && defined(_OPENMP)
#pragma omp declare simd notinbranch
extern double exp(double);
#define REF_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define REF_CLONES
#endif

/* G <- kernel weights of the overlaps in G, elementwise. */
REF_CLONES
static void weights(int sa, long nn, double beta, double inv_n, double *G)
{
    if (sa) {
#pragma omp parallel for simd schedule(static)
        for (long k = 0; k < nn; k++) G[k] = exp(beta * (G[k] - 1.0));
    } else {
#pragma omp parallel for simd schedule(static)
        for (long k = 0; k < nn; k++) G[k] = exp(beta * G[k]) * inv_n;
    }
}

void ref_sim_drift(int sa, int n, int d, double beta, const double *X, double *V, double *G)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, 1.0, X, d, X, d, 0.0, G, n);
    weights(sa, (long)n * n, beta, 1.0 / n, G);
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
