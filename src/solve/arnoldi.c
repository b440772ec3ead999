/* Rightmost eigenvalues of large sector operators: ARPACK on the shift-invert transform
 * (see arnoldi.h) with one dense LU of A - sigma I, then per eigenvalue a left eigenvector by
 * inverse iteration, a two-sided Rayleigh quotient and an error estimate (docs/theory.md). */
#include "solve/arnoldi.h"

#include "attnbif/solve.h"

#include <arpack/arpack.h>
#include <complex.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Matrix norms of a column-major n x n matrix. */
static double norm_inf(const double *A, int n)
{
    double norm = 0.0;
    for (int i = 0; i < n; i++) {
        double row = 0.0;
        for (int j = 0; j < n; j++) row += fabs(A[i + (size_t)j * n]);
        norm = fmax(norm, row);
    }
    return norm;
}

static double norm_1(const double *A, int n)
{
    double norm = 0.0;
    for (int j = 0; j < n; j++) {
        double col = 0.0;
        for (int i = 0; i < n; i++) col += fabs(A[i + (size_t)j * n]);
        norm = fmax(norm, col);
    }
    return norm;
}

/* For the eigenpair (lambda, x) of A (x complex, length n; real when lambda is): refine
 * lambda by the two-sided Rayleigh quotient z^T A x / z^T x with the left eigenvector z
 * (A^T z = lambda z) from two steps of inverse iteration on (A - lambda I)^T, and estimate
 * its error as AB_EIG_ERR_SAFETY (eps ||A||_1 + |A x - lambda x| / |x|) |z| |x| / |z^T x|:
 * the residual is the backward error of the Ritz pair, |z||x|/|z^T x| the eigenvalue's
 * condition number (docs/theory.md). Real eigenvalues use a real LU (in R), complex ones a
 * complex LU (in M); z and ax are complex scratch of length n. */
static ab_status refine_pair(const double *A, int n, double anorm1, double complex *lambda, const double complex *x,
                             double *eig_err, double *R, double complex *M, lapack_int *ipiv, double complex *z,
                             double complex *ax, ab_error *err)
{
    const int real = cimag(*lambda) == 0.0;
    lapack_int info = 1;
    for (int attempt = 0; attempt < 2 && info > 0; attempt++) {
        /* an exactly singular pivot means lambda is an eigenvalue to the last bit: move it by
         * a rounding unit of ||A|| (inverse iteration only needs it close) */
        double complex lam = *lambda + attempt * DBL_EPSILON * anorm1;
        if (real) {
            for (int j = 0; j < n; j++)
                for (int i = 0; i < n; i++) R[i + (size_t)j * n] = A[i + (size_t)j * n] - (i == j ? creal(lam) : 0.0);
            info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, n, n, R, n, ipiv);
        } else {
            for (int j = 0; j < n; j++)
                for (int i = 0; i < n; i++) M[i + (size_t)j * n] = A[i + (size_t)j * n] - (i == j ? lam : 0.0);
            info = LAPACKE_zgetrf(LAPACK_COL_MAJOR, n, n, (lapack_complex_double *)M, n, ipiv);
        }
    }
    if (info != 0) return ab_error_set(err, AB_ELINALG, "ARPACK: LU for the left eigenvector failed (info %d)", (int)info);
    memcpy(z, x, sizeof(double complex) * (size_t)n); /* left and right vectors are close for near-normal A */
    for (int it = 0; it < 2; it++) {
        if (real) {
            double *zr = (double *)ax; /* real scratch */
            for (int i = 0; i < n; i++) zr[i] = creal(z[i]);
            info = LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'T', n, 1, R, n, ipiv, zr, n);
            for (int i = n - 1; i >= 0; i--) z[i] = zr[i];
        } else {
            info = LAPACKE_zgetrs(LAPACK_COL_MAJOR, 'T', n, 1, (const lapack_complex_double *)M, n, ipiv,
                                  (lapack_complex_double *)z, n);
        }
        if (info != 0) return ab_error_set(err, AB_ELINALG, "ARPACK: left eigenvector solve failed (info %d)", (int)info);
        double zn = 0.0;
        for (int i = 0; i < n; i++) zn += creal(z[i] * conj(z[i]));
        zn = sqrt(zn);
        if (!(zn > 0.0) || !isfinite(zn)) return ab_error_set(err, AB_ENAN, "ARPACK: left eigenvector is not finite");
        for (int i = 0; i < n; i++) z[i] /= zn;
    }
    double complex zax = 0.0, zx = 0.0;
    double xn = 0.0;
    for (int i = 0; i < n; i++) {
        double complex acc = 0.0;
        for (int j = 0; j < n; j++) acc += A[i + (size_t)j * n] * x[j];
        ax[i] = acc;
        zax += z[i] * acc;
        zx += z[i] * x[i];
        xn += creal(x[i] * conj(x[i]));
    }
    xn = sqrt(xn);
    if (!(cabs(zx) > 0.0)) return ab_error_set(err, AB_ELINALG, "ARPACK: left and right eigenvectors are orthogonal");
    const double complex rq = zax / zx;
    double rn = 0.0;
    for (int i = 0; i < n; i++) {
        double complex r = ax[i] - rq * x[i];
        rn += creal(r * conj(r));
    }
    const double cond = xn / cabs(zx); /* |z| = 1 */
    *lambda = real ? creal(rq) : rq;
    *eig_err = AB_EIG_ERR_SAFETY * (DBL_EPSILON * anorm1 + sqrt(rn) / xn) * cond;
    return AB_OK;
}

ab_status ab_rightmost_eigs(const double *A, int n, int k, double *re, double *im, double *errs, double *vecs,
                            int *found, ab_error *err)
{
    *found = 0;
    if (k < 1 || k > n - 3) return ab_error_set(err, AB_EINVAL, "ARPACK: need 1 <= k <= n - 3 (k = %d, n = %d)", k, n);
    /* ncv - k >= 2 is ARPACK's minimum; a roomier subspace (3k, at least 30) makes the
     * restarts converge in a few dozen iterations even with close eigenvalues */
    int ncv = 3 * k > 30 ? 3 * k : 30;
    if (ncv > n) ncv = n;
    const int lworkl = 3 * ncv * ncv + 6 * ncv;
    const double anorm = norm_inf(A, n), anorm1 = norm_1(A, n);
    /* The shift: just right of 0 (a relative AB_ARNOLDI_SHIFT of ||A||), where the stability
     * question is decided; exactly 0 would make the LU singular on an exact zero mode. */
    const double sigma = AB_ARNOLDI_SHIFT * fmax(anorm, DBL_MIN);
    const int kmax = k + 1; /* a complex pair may straddle the k-th place */
    double *LU = malloc(sizeof(double) * (size_t)n * n), *resid = malloc(sizeof(double) * n),
           *V = malloc(sizeof(double) * (size_t)n * ncv), *workd = malloc(sizeof(double) * 3 * (size_t)n),
           *workl = malloc(sizeof(double) * (size_t)lworkl), *dr = malloc(sizeof(double) * kmax),
           *di = malloc(sizeof(double) * kmax), *workev = malloc(sizeof(double) * 3 * (size_t)ncv),
           *Z = malloc(sizeof(double) * (size_t)n * kmax);
    double complex *M = malloc(sizeof(double complex) * (size_t)n * n), *x = malloc(sizeof(double complex) * n),
                   *zl = malloc(sizeof(double complex) * n), *ax = malloc(sizeof(double complex) * n);
    lapack_int *ipiv = malloc(sizeof(lapack_int) * n);
    a_int *select = calloc((size_t)ncv, sizeof(a_int));
    ab_status st = AB_OK;
    if (!LU || !resid || !V || !workd || !workl || !dr || !di || !workev || !Z || !M || !x || !zl || !ax || !ipiv ||
        !select) {
        st = ab_error_set(err, AB_ENOMEM, "out of memory for ARPACK (n = %d)", n);
        goto done;
    }
    memcpy(LU, A, sizeof(double) * (size_t)n * n);
    for (int i = 0; i < n; i++) LU[i + (size_t)i * n] -= sigma;
    if (LAPACKE_dgetrf(LAPACK_COL_MAJOR, n, n, LU, n, ipiv)) {
        st = ab_error_set(err, AB_ELINALG, "ARPACK: A - sigma I is singular (sigma = %g)", sigma);
        goto done;
    }
    /* The sign of det(A - sigma I) = prod (lambda - sigma) is (-1)^(number of real
     * eigenvalues below sigma): it gives the parity of the number of real eigenvalues above
     * sigma, to check below that none was missed (one far to the right of the others is not
     * among those nearest sigma: e.g. the spurious positive eigenvalue of an unresolved state). */
    int det_negative = 0;
    for (int i = 0; i < n; i++) det_negative ^= (LU[i + (size_t)i * n] < 0.0) ^ (ipiv[i] != i + 1);
    /* a fixed, nonzero start vector: results do not depend on ARPACK's internal generator */
    for (int i = 0; i < n; i++) resid[i] = 1.0 + 0.5 * sin(1.0 + i);
    a_int ido = 0, info = 1, iparam[11] = {0}, ipntr[14] = {0};
    iparam[0] = 1;    /* exact shifts */
    iparam[2] = 3000; /* maximum restarts */
    iparam[6] = 1;    /* regular mode: we apply (A - sigma I)^{-1} ourselves */
    for (;;) {
        dnaupd_c(&ido, "I", n, "LM", k, 0.0, resid, ncv, V, n, iparam, ipntr, workd, workl, lworkl, &info);
        if (ido != -1 && ido != 1) break;
        double *y = workd + ipntr[1] - 1;
        memcpy(y, workd + ipntr[0] - 1, sizeof(double) * n);
        LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'N', n, 1, LU, n, ipiv, y, n);
    }
    if (info != 0) {
        st = ab_error_set(err, AB_ELINALG, "ARPACK dnaupd failed (info %d%s)", (int)info,
                          info == 1 ? ": maximum number of restarts reached" : "");
        goto done;
    }
    dneupd_c(1, "A", select, dr, di, Z, n, 0.0, 0.0, workev, "I", n, "LM", k, 0.0, resid, ncv, V, n, iparam, ipntr,
             workd, workl, lworkl, &info);
    if (info != 0) {
        st = ab_error_set(err, AB_ELINALG, "ARPACK dneupd failed (info %d)", (int)info);
        goto done;
    }
    int nconv = (int)iparam[4];
    if (nconv > kmax) nconv = kmax;
    if (nconv > 0 && di[nconv - 1] > 0.0) nconv--; /* never keep half of a complex pair */
    for (int j = 0; j < nconv; j++) {
        /* back from theta = 1 / (lambda - sigma) */
        double complex theta = dr[j] + I * di[j], lambda = sigma + 1.0 / theta;
        const double *zr = Z + (size_t)j * n;
        const int pair = di[j] != 0.0;
        if (pair && j + 1 >= nconv) break;
        for (int i = 0; i < n; i++) x[i] = pair ? zr[i] + I * zr[i + n] : zr[i];
        double e = 0.0;
        if (!pair) lambda = creal(lambda);
        if ((st = refine_pair(A, n, anorm1, &lambda, x, &e, LU, M, ipiv, zl, ax, err))) goto done;
        re[j] = creal(lambda);
        im[j] = cimag(lambda);
        if (errs) errs[j] = e;
        if (pair) { /* the conjugate: same error, same storage (real part, imaginary part) */
            re[j + 1] = re[j];
            im[j + 1] = -im[j];
            if (errs) errs[j + 1] = e;
            j++;
        }
        *found = j + 1;
    }
    {
        int above = 0, undecided = 0;
        for (int j = 0; j < *found; j++) {
            if (im[j] != 0.0) continue;
            above += re[j] > sigma;
            undecided |= fabs(re[j] - sigma) <= (errs ? errs[j] : 0.0);
        }
        /* number of real eigenvalues above sigma = n + [det < 0] (mod 2), as the real ones
         * number n minus twice the complex pairs */
        if (!undecided && (above & 1) != ((n & 1) ^ det_negative)) {
            st = ab_error_set(err, AB_ENOCONV,
                              "ARPACK: the eigenvalues nearest 0 miss a real eigenvalue further right (determinant sign check)");
            *found = 0;
            goto done;
        }
    }
    if (vecs) memcpy(vecs, Z, sizeof(double) * (size_t)n * *found);
done:
    free(LU); free(resid); free(V); free(workd); free(workl); free(dr); free(di); free(workev); free(Z); free(ipiv); free(select);
    free(M); free(x); free(zl); free(ax);
    return st;
}
