/* Rightmost eigenvalues of large sector operators: ARPACK on a Cayley transform (see
 * arnoldi.h), with one dense LU of A - s I. */
#include "solve/arnoldi.h"

#include <arpack/arpack.h>
#include <complex.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

ab_status ab_rightmost_eigs(const double *A, int n, int k, double *re, double *im, double *vecs, int *found,
                            ab_error *err)
{
    *found = 0;
    if (k < 1 || k > n - 2) return ab_error_set(err, AB_EINVAL, "ARPACK: need 1 <= k <= n - 2 (k = %d, n = %d)", k, n);
    const int ncv = (2 * k + 1 < n) ? (2 * k + 1 > 20 ? 2 * k + 1 : (n < 20 ? n : 20)) : n;
    const int lworkl = 3 * ncv * ncv + 6 * ncv;
    double norm = 0.0;
    for (int i = 0; i < n; i++) {
        double row = 0.0;
        for (int j = 0; j < n; j++) row += fabs(A[i + (size_t)j * n]);
        norm = fmax(norm, row);
    }
    /* s >= the spectral radius makes |theta| decrease monotonically with the distance of
     * lambda to the left of the imaginary axis, so the largest |theta| are the rightmost */
    const double s = fmax(norm, 1e-12);
    double *LU = malloc(sizeof(double) * (size_t)n * n), *resid = malloc(sizeof(double) * n),
           *V = malloc(sizeof(double) * (size_t)n * ncv), *workd = malloc(sizeof(double) * 3 * (size_t)n),
           *workl = malloc(sizeof(double) * (size_t)lworkl), *dr = malloc(sizeof(double) * (k + 1)),
           *di = malloc(sizeof(double) * (k + 1)), *workev = malloc(sizeof(double) * 3 * (size_t)ncv),
           *Z = malloc(sizeof(double) * (size_t)n * (k + 1));
    lapack_int *ipiv = malloc(sizeof(lapack_int) * n);
    a_int *select = calloc((size_t)ncv, sizeof(a_int));
    ab_status st = AB_OK;
    if (!LU || !resid || !V || !workd || !workl || !dr || !di || !workev || !Z || !ipiv || !select) {
        st = ab_error_set(err, AB_ENOMEM, "out of memory for ARPACK (n = %d)", n);
        goto done;
    }
    memcpy(LU, A, sizeof(double) * (size_t)n * n);
    for (int i = 0; i < n; i++) LU[i + (size_t)i * n] -= s;
    if (LAPACKE_dgetrf(LAPACK_COL_MAJOR, n, n, LU, n, ipiv)) {
        st = ab_error_set(err, AB_ELINALG, "ARPACK: A - s I is singular (s = %g)", s);
        goto done;
    }
    a_int ido = 0, info = 0, iparam[11] = {0}, ipntr[14] = {0};
    iparam[0] = 1;    /* exact shifts */
    iparam[2] = 3000; /* maximum restarts */
    iparam[6] = 1;    /* regular mode: we apply T ourselves */
    for (;;) {
        dnaupd_c(&ido, "I", n, "LM", k, 0.0, resid, ncv, V, n, iparam, ipntr, workd, workl, lworkl, &info);
        if (ido != -1 && ido != 1) break;
        const double *x = workd + ipntr[0] - 1;
        double *y = workd + ipntr[1] - 1;
        /* y = (A - s I)^{-1} (A + s I) x */
        for (int i = 0; i < n; i++) {
            double acc = s * x[i];
            for (int j = 0; j < n; j++) acc += A[i + (size_t)j * n] * x[j];
            y[i] = acc;
        }
        LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'N', n, 1, LU, n, ipiv, y, n);
    }
    if (info < 0 || (info != 0 && info != 1)) {
        st = ab_error_set(err, AB_ELINALG, "ARPACK dnaupd failed (info %d)", (int)info);
        goto done;
    }
    dneupd_c(vecs != NULL, "A", select, dr, di, Z, n, 0.0, 0.0, workev, "I", n, "LM", k, 0.0, resid, ncv, V, n, iparam,
             ipntr, workd, workl, lworkl, &info);
    if (info != 0) {
        st = ab_error_set(err, AB_ELINALG, "ARPACK dneupd failed (info %d)", (int)info);
        goto done;
    }
    int nconv = (int)iparam[4];
    if (nconv > k) nconv = k;
    for (int j = 0; j < nconv; j++) {
        /* back from theta = (lambda + s) / (lambda - s):  lambda = s (theta + 1) / (theta - 1) */
        double complex theta = dr[j] + I * di[j], lambda = s * (theta + 1.0) / (theta - 1.0);
        re[j] = creal(lambda);
        im[j] = cimag(lambda);
    }
    if (vecs) memcpy(vecs, Z, sizeof(double) * (size_t)n * nconv);
    *found = nconv;
done:
    free(LU); free(resid); free(V); free(workd); free(workl); free(dr); free(di); free(workev); free(Z); free(ipiv); free(select);
    return st;
}
