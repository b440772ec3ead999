/* The eigensolvers behind ab_eigs: LAPACK dgeevx (all eigenvalues, with condition numbers)
 * and ARPACK on a mat-vec ("LR") or on shift-invert solves through ab_linsol, with
 * two-sided Rayleigh refinement and error estimates (docs/theory.md, "Eigensolvers"). */
#include "attnbif/eigs.h"

#include <arpack/arpack.h>
#include <complex.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One eigenvalue or conjugate pair in the sort of the output (by re descending). */
typedef struct {
    double re, im;
    int first;
} unit;

struct ab_eigs {
    ab_eigs_params p;
    size_t max_n;
    int ncv_max;
    unit *units;
    /* dense: the assembled matrix (also ARPACK's copy when use_matrix), dgeevx's output */
    double *A, *unit_vec, *wr, *wi, *VL, *VR, *scale, *rconde, *rcondv, *eerr, *work;
    lapack_int lwork, *iwork;
    /* ARPACK */
    double *resid, *V, *workd, *workl, *dr, *di, *workev, *Z, *ritz_re, *ritz_im, *ritz_err;
    a_int *select;
    ab_linsol *ls;
    /* per-pair refinement: M holds a complex LU (or a real one in its first n^2 doubles) */
    double complex *M, *x, *zl, *ax;
    lapack_int *ipiv;
};

const char *ab_eigs_method_name(ab_eigs_method method)
{
    switch (method) {
    case AB_EIGS_DENSE: return "dense";
    case AB_EIGS_ARPACK_MATVEC: return "arpack-matvec";
    case AB_EIGS_ARPACK_SHIFT_INVERT: return "arpack-shift-invert";
    }
    return "?";
}

void ab_eigs_params_default(ab_eigs_params *p, ab_eigs_method method)
{
    memset(p, 0, sizeof *p);
    p->method = method;
    p->k = AB_EIGS_K;
    p->linsol = AB_LINSOL_DENSE;
    ab_linsol_params_default(&p->linsol_params);
    p->linsol_params.rtol = AB_EIGS_GMRES_RTOL;
    p->shift = AB_ARNOLDI_SHIFT;
    p->tol = 0.0;
    p->max_restarts = AB_EIGS_MAX_RESTARTS;
    p->ncv = 0;
    p->use_matrix = 1;
}

const ab_eigs_params *ab_eigs_get_params(const ab_eigs *e) { return &e->p; }

ab_status ab_eigs_set_shift_invert(ab_eigs *e, double shift, const ab_precond *pc, ab_error *err)
{
    if (e->p.method != AB_EIGS_ARPACK_SHIFT_INVERT || !(shift > 0.0) || !isfinite(shift))
        return ab_error_set(err, AB_EINVAL, "a shift-invert eigensolver needs a positive finite shift (got %g)", shift);
    e->p.shift = shift;
    if (pc) e->p.precond = *pc;
    else memset(&e->p.precond, 0, sizeof e->p.precond);
    if (e->p.linsol == AB_LINSOL_GMRES) ab_linsol_set_precond(e->ls, pc);
    return AB_OK;
}

void ab_eigs_destroy(ab_eigs *e)
{
    if (!e) return;
    free(e->units);
    free(e->A); free(e->unit_vec); free(e->wr); free(e->wi); free(e->VL); free(e->VR); free(e->scale);
    free(e->rconde); free(e->rcondv); free(e->eerr); free(e->work); free(e->iwork);
    free(e->resid); free(e->V); free(e->workd); free(e->workl); free(e->dr); free(e->di); free(e->workev); free(e->Z);
    free(e->ritz_re); free(e->ritz_im); free(e->ritz_err); free(e->select);
    ab_linsol_destroy(e->ls);
    free(e->M); free(e->x); free(e->zl); free(e->ax); free(e->ipiv);
    free(e);
}

/* ARPACK's Krylov dimension for an operator of size n. */
static int krylov_dim(const ab_eigs_params *p, size_t n)
{
    /* ncv - k >= 2 is ARPACK's minimum; a roomier subspace (3k, at least 30) makes the
     * restarts converge in a few dozen iterations even with close eigenvalues */
    long ncv = p->ncv > 0 ? p->ncv : (3 * p->k > 30 ? 3 * p->k : 30);
    return (int)(ncv > (long)n ? (long)n : ncv);
}

ab_status ab_eigs_create(size_t max_n, const ab_eigs_params *params, ab_eigs **out, ab_error *err)
{
    *out = NULL;
    if (max_n == 0 || max_n > (size_t)INT32_MAX)
        return ab_error_set(err, AB_EINVAL, "eigensolver of size %zu", max_n);
    ab_eigs *e = calloc(1, sizeof *e);
    if (!e) return ab_error_set(err, AB_ENOMEM, "out of memory");
    if (params) e->p = *params;
    else ab_eigs_params_default(&e->p, AB_EIGS_DENSE);
    e->max_n = max_n;
    const ab_eigs_params *p = &e->p;
    const size_t n = max_n, nn = n * n;
    e->units = malloc(sizeof(unit) * n);
    int ok = e->units != NULL;
    if (p->method == AB_EIGS_DENSE) {
        e->A = malloc(sizeof(double) * nn);
        e->unit_vec = malloc(sizeof(double) * n);
        e->VR = malloc(sizeof(double) * nn);
        e->VL = malloc(sizeof(double) * nn);
        e->wr = malloc(sizeof(double) * n);
        e->wi = malloc(sizeof(double) * n);
        e->scale = malloc(sizeof(double) * n);
        e->rconde = malloc(sizeof(double) * n);
        e->rcondv = malloc(sizeof(double) * n);
        e->eerr = malloc(sizeof(double) * n);
        e->iwork = malloc(sizeof(lapack_int) * (2 * n + 2));
        ok = ok && e->A && e->unit_vec && e->VR && e->VL && e->wr && e->wi && e->scale && e->rconde && e->rcondv &&
             e->eerr && e->iwork;
        if (ok) {
            /* workspace query once, for the largest size, both eigenvector sets and RCONDE */
            double query, abnrm;
            lapack_int ilo, ihi;
            lapack_int info = LAPACKE_dgeevx_work(LAPACK_COL_MAJOR, 'B', 'V', 'V', 'E', (lapack_int)n, e->A, (lapack_int)n,
                                                  e->wr, e->wi, e->VL, (lapack_int)n, e->VR, (lapack_int)n, &ilo, &ihi,
                                                  e->scale, &abnrm, e->rconde, e->rcondv, &query, -1, e->iwork);
            const lapack_int min_lwork = (lapack_int)n * ((lapack_int)n + 6);
            e->lwork = info == 0 ? (lapack_int)query : min_lwork;
            if (e->lwork < min_lwork) e->lwork = min_lwork;
            e->work = malloc(sizeof(double) * (size_t)e->lwork);
            ok = e->work != NULL;
        }
    } else if (p->method == AB_EIGS_ARPACK_MATVEC || p->method == AB_EIGS_ARPACK_SHIFT_INVERT) {
        if (p->k < 1 || p->max_restarts < 1 || p->ncv < 0 || !(p->tol >= 0.0) ||
            (p->method == AB_EIGS_ARPACK_SHIFT_INVERT && !(p->shift > 0.0))) {
            ab_eigs_destroy(e);
            return ab_error_set(err, AB_EINVAL, "ARPACK needs k >= 1, max_restarts >= 1, ncv >= 0, tol >= 0 and shift > 0");
        }
        const int ncv = e->ncv_max = krylov_dim(p, n);
        const size_t kmax = (size_t)p->k + 1, lworkl = 3 * (size_t)ncv * ncv + 6 * (size_t)ncv;
        e->resid = malloc(sizeof(double) * n);
        e->V = malloc(sizeof(double) * n * (size_t)ncv);
        e->workd = malloc(sizeof(double) * 3 * n);
        e->workl = malloc(sizeof(double) * lworkl);
        e->dr = malloc(sizeof(double) * kmax);
        e->di = malloc(sizeof(double) * kmax);
        e->workev = malloc(sizeof(double) * 3 * (size_t)ncv);
        e->Z = malloc(sizeof(double) * n * kmax);
        e->ritz_re = malloc(sizeof(double) * kmax);
        e->ritz_im = malloc(sizeof(double) * kmax);
        e->ritz_err = malloc(sizeof(double) * kmax);
        e->select = calloc((size_t)ncv, sizeof(a_int));
        e->x = malloc(sizeof(double complex) * n);
        e->zl = malloc(sizeof(double complex) * n);
        e->ax = malloc(sizeof(double complex) * n);
        ok = ok && e->resid && e->V && e->workd && e->workl && e->dr && e->di && e->workev && e->Z && e->ritz_re &&
             e->ritz_im && e->ritz_err && e->select && e->x && e->zl && e->ax;
        if (ok && p->use_matrix) {
            e->A = malloc(sizeof(double) * nn);
            e->M = malloc(sizeof(double complex) * nn);
            e->ipiv = malloc(sizeof(lapack_int) * n);
            ok = e->A && e->M && e->ipiv;
        }
        if (ok && p->method == AB_EIGS_ARPACK_SHIFT_INVERT) {
            ab_status st = ab_linsol_create(p->linsol, n, &p->linsol_params, &e->ls, err);
            if (st) {
                ab_eigs_destroy(e);
                return st;
            }
            if (p->linsol == AB_LINSOL_GMRES && p->precond.apply) ab_linsol_set_precond(e->ls, &p->precond);
        }
    } else {
        ab_eigs_destroy(e);
        return ab_error_set(err, AB_EINVAL, "unknown eigensolver method %d", (int)p->method);
    }
    if (!ok) {
        ab_eigs_destroy(e);
        return ab_error_set(err, AB_ENOMEM, "out of memory for the %s eigensolver (n = %zu)", ab_eigs_method_name(p->method),
                            max_n);
    }
    *out = e;
    return AB_OK;
}

/* Write the count eigenvalues (wr, wi, werr; vectors V in LAPACK's real storage, pairs with
 * the positive imaginary part first) to the outputs sorted by re descending, a pair as one
 * unit; ties by im descending, then by the input order (a stable, reproducible order). */
static int by_re_desc(const void *pa, const void *pb)
{
    const unit *a = pa, *b = pb;
    if (a->re != b->re) return a->re < b->re ? 1 : -1;
    if (a->im != b->im) return a->im < b->im ? 1 : -1;
    return (a->first > b->first) - (a->first < b->first);
}

static void sorted_output(ab_eigs *e, size_t n, int count, const double *wr, const double *wi, const double *werr,
                          const double *V, double *re, double *im, double *errs, double *vecs)
{
    int units = 0;
    for (int i = 0; i < count; i++) {
        e->units[units++] = (unit){.re = wr[i], .im = wi[i], .first = i};
        if (wi[i] != 0.0 && i + 1 < count) i++;
    }
    qsort(e->units, (size_t)units, sizeof(unit), by_re_desc);
    int o = 0;
    for (int u = 0; u < units; u++) {
        const int j0 = e->units[u].first, size = wi[j0] != 0.0 && j0 + 1 < count ? 2 : 1;
        for (int j = j0; j < j0 + size; j++, o++) {
            re[o] = wr[j];
            im[o] = wi[j];
            if (errs) errs[o] = werr[j];
            if (vecs) memcpy(vecs + (size_t)o * n, V + (size_t)j * n, sizeof(double) * n);
        }
    }
}

/* The operator's matrix into M (leading dimension n): its own, or A applied to the unit
 * vectors (e_unit: scratch of length n). */
static ab_status assemble(const ab_linop *A, double *M, double *e_unit, ab_error *err)
{
    const size_t n = A->n;
    if (A->matrix) return A->matrix(A->ctx, M, n, err);
    memset(e_unit, 0, sizeof(double) * n);
    for (size_t j = 0; j < n; j++) {
        e_unit[j] = 1.0;
        ab_status st = A->apply(A->ctx, e_unit, M + j * n, err);
        e_unit[j] = 0.0;
        if (st) return st;
    }
    return AB_OK;
}

static ab_status dense(ab_eigs *e, const ab_linop *Aop, int *found, double *re, double *im, double *errs, double *vecs,
                       ab_error *err)
{
    const size_t n = Aop->n;
    ab_status st = assemble(Aop, e->A, e->unit_vec, err);
    if (st) return st;
    /* dgeevx with balancing (as dgeev does) and the reciprocal condition numbers of the
     * eigenvalues, which need both eigenvector sets */
    lapack_int ilo, ihi;
    double abnrm;
    lapack_int info = LAPACKE_dgeevx_work(LAPACK_COL_MAJOR, 'B', 'V', 'V', 'E', (lapack_int)n, e->A, (lapack_int)n, e->wr,
                                          e->wi, e->VL, (lapack_int)n, e->VR, (lapack_int)n, &ilo, &ihi, e->scale, &abnrm,
                                          e->rconde, e->rcondv, e->work, e->lwork, e->iwork);
    if (info != 0) return ab_error_set(err, AB_ELINALG, "eigenvalues did not converge (LAPACK dgeevx info %d)", (int)info);
    /* LAPACK's error bound eps ||A_balanced||_1 / RCONDE (docs/theory.md) */
    for (size_t i = 0; i < n; i++) e->eerr[i] = AB_EIG_ERR_SAFETY * DBL_EPSILON * abnrm / fmax(e->rconde[i], DBL_MIN);
    sorted_output(e, n, (int)n, e->wr, e->wi, e->eerr, e->VR, re, im, errs, vecs);
    *found = (int)n;
    return AB_OK;
}

/* Matrix norms of a column-major n x n matrix. */
static double norm_inf(const double *A, size_t n)
{
    double norm = 0.0;
    for (size_t i = 0; i < n; i++) {
        double row = 0.0;
        for (size_t j = 0; j < n; j++) row += fabs(A[i + j * n]);
        norm = fmax(norm, row);
    }
    return norm;
}

static double norm_1(const double *A, size_t n)
{
    double norm = 0.0;
    for (size_t j = 0; j < n; j++) {
        double col = 0.0;
        for (size_t i = 0; i < n; i++) col += fabs(A[i + j * n]);
        norm = fmax(norm, col);
    }
    return norm;
}

/* For the eigenpair (lambda, x) of A (x complex, length n; real when lambda is): refine
 * lambda by the two-sided Rayleigh quotient z^T A x / z^T x with the left eigenvector z
 * (A^T z = lambda z) from two steps of inverse iteration on (A - lambda I)^T, and estimate
 * its error as AB_EIG_ERR_SAFETY (eps ||A||_1 + |A x - lambda x| / |x|) |z| |x| / |z^T x|:
 * the residual is the backward error of the Ritz pair, |z||x|/|z^T x| the eigenvalue's
 * condition number (docs/theory.md). Real eigenvalues use a real LU, complex ones a
 * complex LU (both in M); z and ax are complex scratch of length n. */
static ab_status refine_pair(const double *A, int n, double anorm1, double complex *lambda, const double complex *x,
                             double *eig_err, double complex *M, lapack_int *ipiv, double complex *z,
                             double complex *ax, ab_error *err)
{
    const int real = cimag(*lambda) == 0.0;
    double *R = (double *)M;
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

/* Without the matrix: lambda = x^H A x / x^H x (the residual-minimising value for x) and
 * err = AB_EIG_ERR_SAFETY |A x - lambda x| / |x|, the backward error with the condition
 * number taken as 1 (docs/theory.md). scratch: 2n doubles. */
static ab_status residual_estimate(const ab_linop *A, double complex *lambda, const double complex *x, double *eig_err,
                                   double *scratch, double complex *ax, ab_error *err)
{
    const size_t n = A->n;
    const int real = cimag(*lambda) == 0.0;
    double *xr = scratch, *y = scratch + n;
    for (size_t i = 0; i < n; i++) xr[i] = creal(x[i]);
    ab_status st = A->apply(A->ctx, xr, y, err);
    if (st) return st;
    for (size_t i = 0; i < n; i++) ax[i] = y[i];
    if (!real) {
        for (size_t i = 0; i < n; i++) xr[i] = cimag(x[i]);
        if ((st = A->apply(A->ctx, xr, y, err))) return st;
        for (size_t i = 0; i < n; i++) ax[i] += I * y[i];
    }
    double complex xax = 0.0;
    double xn = 0.0;
    for (size_t i = 0; i < n; i++) {
        xax += conj(x[i]) * ax[i];
        xn += creal(x[i] * conj(x[i]));
    }
    if (!(xn > 0.0)) return ab_error_set(err, AB_ENAN, "ARPACK: a Ritz vector is zero");
    const double complex rq = xax / xn;
    double rn = 0.0;
    for (size_t i = 0; i < n; i++) {
        double complex r = ax[i] - rq * x[i];
        rn += creal(r * conj(r));
    }
    *lambda = real ? creal(rq) : rq;
    *eig_err = AB_EIG_ERR_SAFETY * sqrt(rn / xn);
    if (!isfinite(*eig_err) || !isfinite(creal(*lambda)) || !isfinite(cimag(*lambda)))
        return ab_error_set(err, AB_ENAN, "ARPACK: a Ritz value is not finite");
    return AB_OK;
}

/* A - sigma I as an ab_linop on top of A. */
typedef struct {
    const ab_linop *A;
    double sigma;
} shifted_op;

static ab_status shifted_apply(void *ctx, const double *x, double *y, ab_error *err)
{
    const shifted_op *s = ctx;
    ab_status st = s->A->apply(s->A->ctx, x, y, err);
    if (st) return st;
    for (size_t i = 0; i < s->A->n; i++) y[i] -= s->sigma * x[i];
    return AB_OK;
}

static ab_status shifted_apply_t(void *ctx, const double *x, double *y, ab_error *err)
{
    const shifted_op *s = ctx;
    ab_status st = s->A->apply_transpose(s->A->ctx, x, y, err);
    if (st) return st;
    for (size_t i = 0; i < s->A->n; i++) y[i] -= s->sigma * x[i];
    return AB_OK;
}

static ab_status shifted_matrix(void *ctx, double *M, size_t lda, ab_error *err)
{
    const shifted_op *s = ctx;
    ab_status st = s->A->matrix(s->A->ctx, M, lda, err);
    if (st) return st;
    for (size_t i = 0; i < s->A->n; i++) M[i + i * lda] -= s->sigma;
    return AB_OK;
}

static ab_status arpack(ab_eigs *e, const ab_linop *Aop, int *found, double *re, double *im, double *errs, double *vecs,
                        ab_error *err)
{
    const ab_eigs_params *p = &e->p;
    const size_t n = Aop->n;
    const int ni = (int)n, k = p->k, shift_invert = p->method == AB_EIGS_ARPACK_SHIFT_INVERT;
    if (k > ni - 3) return ab_error_set(err, AB_EINVAL, "ARPACK: need 1 <= k <= n - 3 (k = %d, n = %d)", k, ni);
    const int ncv = krylov_dim(p, n);
    if (ncv < k + 2) return ab_error_set(err, AB_EINVAL, "ARPACK: need ncv >= k + 2 (ncv = %d, k = %d)", ncv, k);
    const int lworkl = 3 * ncv * ncv + 6 * ncv;
    const int kmax = k + 1; /* a complex pair may straddle the k-th place */
    const int use_matrix = p->use_matrix && Aop->matrix != NULL;
    ab_status st;
    double anorm1 = 0.0, sigma = 0.0;
    if (use_matrix) {
        if ((st = Aop->matrix(Aop->ctx, e->A, n, err))) return st;
        anorm1 = norm_1(e->A, n);
    }
    int det_known = 0, det_negative = 0;
    shifted_op shifted = {Aop, 0.0};
    if (shift_invert) {
        /* The shift: just right of 0 (a relative p->shift of ||A||), where the stability
         * question is decided; exactly 0 would make A - sigma I singular on an exact zero mode. */
        sigma = use_matrix ? p->shift * fmax(norm_inf(e->A, n), DBL_MIN) : p->shift;
        shifted.sigma = sigma;
        ab_linop op = {.n = n,
                       .apply = shifted_apply,
                       .apply_transpose = Aop->apply_transpose ? shifted_apply_t : NULL,
                       .matrix = Aop->matrix ? shifted_matrix : NULL,
                       .ctx = &shifted};
        if ((st = ab_linsol_setup(e->ls, &op, err))) {
            if (st == AB_ELINALG) return ab_error_set(err, st, "ARPACK: A - sigma I is singular (sigma = %g)", sigma);
            return st;
        }
        /* The sign of det(A - sigma I) = prod (lambda - sigma) is (-1)^(number of real
         * eigenvalues below sigma): it gives the parity of the number of real eigenvalues
         * above sigma, to check below that none was missed (one far to the right of the
         * others is not among those nearest sigma: e.g. the spurious positive eigenvalue of an
         * unresolved state). Only an LU has it; GMRES goes without the check. */
        if (ab_linsol_type_of(e->ls) == AB_LINSOL_DENSE) {
            int sign;
            if ((st = ab_linsol_det_sign(e->ls, &sign, err))) return st;
            det_known = 1;
            det_negative = sign < 0;
        }
    }
    /* a fixed, nonzero start vector: results do not depend on ARPACK's internal generator */
    for (size_t i = 0; i < n; i++) e->resid[i] = 1.0 + 0.5 * sin(1.0 + (double)i);
    memset(e->select, 0, sizeof(a_int) * (size_t)ncv);
    a_int ido = 0, info = 1, iparam[11] = {0}, ipntr[14] = {0};
    iparam[0] = 1;              /* exact shifts */
    iparam[2] = p->max_restarts;
    iparam[6] = 1;              /* regular mode: shift-invert applies (A - sigma I)^{-1} itself */
    const char *which = shift_invert ? "LM" : "LR";
    for (;;) {
        dnaupd_c(&ido, "I", ni, which, k, p->tol, e->resid, ncv, e->V, ni, iparam, ipntr, e->workd, e->workl, lworkl,
                 &info);
        if (ido != -1 && ido != 1) break;
        const double *x = e->workd + ipntr[0] - 1;
        double *y = e->workd + ipntr[1] - 1;
        st = shift_invert ? ab_linsol_solve(e->ls, x, y, err) : Aop->apply(Aop->ctx, x, y, err);
        if (st) return st;
    }
    if (info != 0)
        return ab_error_set(err, info == 1 ? AB_ENOCONV : AB_ELINALG, "ARPACK dnaupd failed (info %d%s)", (int)info,
                            info == 1 ? ": maximum number of restarts reached" : "");
    dneupd_c(1, "A", e->select, e->dr, e->di, e->Z, ni, 0.0, 0.0, e->workev, "I", ni, which, k, p->tol, e->resid, ncv, e->V,
             ni, iparam, ipntr, e->workd, e->workl, lworkl, &info);
    if (info != 0) return ab_error_set(err, AB_ELINALG, "ARPACK dneupd failed (info %d)", (int)info);
    int nconv = (int)iparam[4];
    if (nconv > kmax) nconv = kmax;
    if (nconv > 0 && e->di[nconv - 1] > 0.0) nconv--; /* never keep half of a complex pair */
    int count = 0;
    for (int j = 0; j < nconv; j++) {
        double *zr = e->Z + (size_t)j * n;
        const int pair = e->di[j] != 0.0;
        if (pair && j + 1 >= nconv) break;
        /* shift-invert: back from theta = 1 / (lambda - sigma) */
        double complex theta = e->dr[j] + I * e->di[j], lambda = shift_invert ? sigma + 1.0 / theta : theta;
        for (size_t i = 0; i < n; i++) e->x[i] = pair ? zr[i] + I * zr[i + n] : zr[i];
        double eig_err = 0.0;
        if (!pair) lambda = creal(lambda);
        st = use_matrix ? refine_pair(e->A, ni, anorm1, &lambda, e->x, &eig_err, e->M, e->ipiv, e->zl, e->ax, err)
                        : residual_estimate(Aop, &lambda, e->x, &eig_err, e->workd, e->ax, err);
        if (st) return st;
        if (pair && cimag(lambda) < 0.0) { /* LAPACK's storage: the positive imaginary part first */
            lambda = conj(lambda);
            for (size_t i = 0; i < n; i++) zr[i + n] = -zr[i + n];
        }
        e->ritz_re[j] = creal(lambda);
        e->ritz_im[j] = cimag(lambda);
        e->ritz_err[j] = eig_err;
        if (pair) { /* the conjugate: same error */
            e->ritz_re[j + 1] = e->ritz_re[j];
            e->ritz_im[j + 1] = -e->ritz_im[j];
            e->ritz_err[j + 1] = eig_err;
            j++;
        }
        count = j + 1;
    }
    if (det_known) {
        int above = 0, undecided = 0;
        for (int j = 0; j < count; j++) {
            if (e->ritz_im[j] != 0.0) continue;
            above += e->ritz_re[j] > sigma;
            undecided |= fabs(e->ritz_re[j] - sigma) <= e->ritz_err[j];
        }
        /* number of real eigenvalues above sigma = n + [det < 0] (mod 2), as the real ones
         * number n minus twice the complex pairs */
        if (!undecided && (above & 1) != ((ni & 1) ^ det_negative))
            return ab_error_set(err, AB_ENOCONV,
                                "ARPACK: the eigenvalues nearest 0 miss a real eigenvalue further right (determinant sign check)");
    }
    sorted_output(e, n, count, e->ritz_re, e->ritz_im, e->ritz_err, e->Z, re, im, errs, vecs);
    *found = count;
    return AB_OK;
}

ab_status ab_eigs_compute(ab_eigs *e, const ab_linop *A, int *found, double *re, double *im, double *errs, double *vecs,
                          ab_error *err)
{
    *found = 0;
    if (A->n == 0 || A->n > e->max_n)
        return ab_error_set(err, AB_EINVAL, "operator of size %zu for an eigensolver of size %zu", A->n, e->max_n);
    if (!A->apply && !(e->p.method == AB_EIGS_DENSE && A->matrix))
        return ab_error_set(err, AB_EINVAL, "the operator has no mat-vec");
    if (e->p.method == AB_EIGS_DENSE) return dense(e, A, found, re, im, errs, vecs, err);
    return arpack(e, A, found, re, im, errs, vecs, err);
}
