/* The linear solvers behind ab_linsol: dense LU (LAPACK dgetrf/dgetrs) and restarted,
 * right-preconditioned GMRES(m) with modified Gram-Schmidt and Givens rotations
 * (docs/theory.md, "Linear solvers"); and bordered operators [A B; C^T D]. */
#include "attnbif/linsol.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* GMRES accepts a true residual of this many rounding units of |b| + |A| |x| (the floor
 * below which b - A x cannot be computed), but never one above AB_GMRES_FLOOR_MAX |b|: a
 * floor that high means |A| |x| / |b| > 1e6, an operator numerically singular for this b,
 * reported rather than passed on (docs/theory.md, "Linear solvers"). */
#define AB_GMRES_ROUNDING_FLOOR 64.0
#define AB_GMRES_FLOOR_MAX 1.5e-8 /* ~ sqrt(DBL_EPSILON) */

struct ab_linsol {
    ab_linsol_type type;
    size_t max_n, n;
    ab_linsol_params params;
    ab_linop A;
    ab_precond pc;
    int have_pc, ready;
    double anorm_probe; /* GMRES: |A| estimated from two probe vectors at setup */
    int last_iterations;
    double last_residual;
    /* dense */
    double *LU;
    lapack_int *ipiv;
    /* GMRES: Krylov basis V (n x (m+1)), preconditioned directions Z (n x m) when a
     * preconditioner is set, Hessenberg H ((m+1) x m), rotations, rhs g, work */
    double *V, *Z, *H, *cs, *sn, *g, *y, *w, *r, *b;
};

const char *ab_linsol_type_name(ab_linsol_type type)
{
    switch (type) {
    case AB_LINSOL_DENSE: return "dense";
    case AB_LINSOL_GMRES: return "gmres";
    }
    return "?";
}

void ab_linsol_params_default(ab_linsol_params *p)
{
    p->rtol = AB_GMRES_RTOL;
    p->restart = AB_GMRES_RESTART;
    p->max_iter = AB_GMRES_MAX_ITER;
    p->precondition = 1;
}

void ab_linsol_destroy(ab_linsol *ls)
{
    if (!ls) return;
    free(ls->LU); free(ls->ipiv);
    free(ls->V); free(ls->Z); free(ls->H); free(ls->cs); free(ls->sn); free(ls->g); free(ls->y); free(ls->w); free(ls->r); free(ls->b);
    free(ls);
}

ab_status ab_linsol_create(ab_linsol_type type, size_t max_n, const ab_linsol_params *params, ab_linsol **out,
                           ab_error *err)
{
    *out = NULL;
    if (max_n == 0) return ab_error_set(err, AB_EINVAL, "linear solver of size 0");
    ab_linsol *ls = calloc(1, sizeof *ls);
    if (!ls) return ab_error_set(err, AB_ENOMEM, "out of memory");
    ls->type = type;
    ls->max_n = max_n;
    if (params) ls->params = *params;
    else ab_linsol_params_default(&ls->params);
    /* the dense solver ignores the GMRES settings (linsol.h) */
    if (type == AB_LINSOL_GMRES && (!(ls->params.rtol > 0.0) || ls->params.restart < 1 || ls->params.max_iter < 1)) {
        ab_linsol_destroy(ls);
        return ab_error_set(err, AB_EINVAL, "GMRES needs rtol > 0, restart >= 1 and max_iter >= 1");
    }
    int ok = 1;
    if (type == AB_LINSOL_DENSE) {
        ls->LU = malloc(sizeof(double) * max_n * max_n);
        ls->ipiv = malloc(sizeof(lapack_int) * max_n);
        ls->w = malloc(sizeof(double) * max_n);
        ok = ls->LU && ls->ipiv && ls->w;
    } else if (type == AB_LINSOL_GMRES) {
        size_t m = (size_t)ls->params.restart;
        if (m > max_n) m = ls->params.restart = (int)max_n;
        ls->V = malloc(sizeof(double) * max_n * (m + 1));
        ls->Z = malloc(sizeof(double) * max_n * m);
        ls->H = malloc(sizeof(double) * (m + 1) * m);
        ls->cs = malloc(sizeof(double) * m);
        ls->sn = malloc(sizeof(double) * m);
        ls->g = malloc(sizeof(double) * (m + 1));
        ls->y = malloc(sizeof(double) * (m + 1));
        ls->w = malloc(sizeof(double) * max_n);
        ls->r = malloc(sizeof(double) * max_n);
        ls->b = malloc(sizeof(double) * max_n);
        ok = ls->b && ls->V && ls->Z && ls->H && ls->cs && ls->sn && ls->g && ls->y && ls->w && ls->r;
    } else {
        ab_linsol_destroy(ls);
        return ab_error_set(err, AB_EINVAL, "unknown linear solver type %d", (int)type);
    }
    if (!ok) {
        ab_linsol_destroy(ls);
        return ab_error_set(err, AB_ENOMEM, "out of memory for the %s linear solver (n = %zu)", ab_linsol_type_name(type),
                            max_n);
    }
    *out = ls;
    return AB_OK;
}

ab_linsol_type ab_linsol_type_of(const ab_linsol *ls) { return ls->type; }

void ab_linsol_set_precond(ab_linsol *ls, const ab_precond *pc)
{
    ls->have_pc = pc != NULL && pc->apply != NULL;
    if (pc) ls->pc = *pc;
    else memset(&ls->pc, 0, sizeof ls->pc);
}

const ab_linsol_params *ab_linsol_params_of(const ab_linsol *ls) { return &ls->params; }

static ab_status block_setup(void *ctx, const ab_linop *A, ab_error *err)
{
    ab_block_precond *b = ctx;
    if (A->n < b->n_inner)
        return ab_error_set(err, AB_EINVAL, "bordered preconditioner of size %zu for an operator of size %zu", b->n_inner,
                            A->n);
    b->n = A->n;
    if (!b->inner.setup) return AB_OK;
    /* the inner preconditioner follows the problem's own linearisation, not the bordered operator */
    return b->inner.setup(b->inner.ctx, A, err);
}

static ab_status block_apply(void *ctx, const double *r, double *z, ab_error *err)
{
    ab_block_precond *b = ctx;
    ab_status st = b->inner.apply(b->inner.ctx, r, z, err);
    if (st) return st;
    if (b->n > b->n_inner) memmove(z + b->n_inner, r + b->n_inner, sizeof(double) * (b->n - b->n_inner));
    return AB_OK;
}

void ab_block_precond_init(ab_block_precond *b, const ab_precond *inner, size_t n_inner, ab_precond *out)
{
    b->inner = *inner;
    b->n_inner = n_inner;
    b->n = n_inner;
    *out = (ab_precond){block_setup, block_apply, b};
}

int ab_linsol_last_iterations(const ab_linsol *ls) { return ls->last_iterations; }
double ab_linsol_last_residual(const ab_linsol *ls) { return ls->last_residual; }

ab_status ab_linsol_setup(ab_linsol *ls, const ab_linop *A, ab_error *err)
{
    ls->ready = 0;
    if (A->n == 0 || A->n > ls->max_n)
        return ab_error_set(err, AB_EINVAL, "operator of size %zu for a linear solver of size %zu", A->n, ls->max_n);
    if (!A->apply) return ab_error_set(err, AB_EINVAL, "operator without a mat-vec (apply)");
    ls->A = *A;
    ls->n = A->n;
    const size_t n = A->n;
    ab_status st;
    if (ls->type == AB_LINSOL_DENSE) {
        if (A->matrix) {
            if ((st = A->matrix(A->ctx, ls->LU, n, err))) return st;
        } else {
            /* assemble column by column from mat-vecs on the unit vectors */
            memset(ls->w, 0, sizeof(double) * n);
            for (size_t j = 0; j < n; j++) {
                ls->w[j] = 1.0;
                st = ls->A.apply(ls->A.ctx, ls->w, ls->LU + j * n, err);
                ls->w[j] = 0.0;
                if (st) return st;
            }
        }
        for (size_t k = 0; k < n * n; k++)
            if (!isfinite(ls->LU[k])) return ab_error_set(err, AB_ENAN, "the matrix has a non-finite entry");
        /* the _work variants: the entries were just checked, LAPACKE need not scan them again */
        lapack_int info =
            LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, ls->LU, (lapack_int)n, ls->ipiv);
        if (info > 0)
            return ab_error_set(err, AB_ELINALG, "the matrix is singular (LAPACK dgetrf: pivot %d is zero)", (int)info);
        if (info < 0) return ab_error_set(err, AB_ELINALG, "LAPACK dgetrf failed (info %d)", (int)info);
    } else {
        /* |A| from two probes (all ones, alternating signs): the products GMRES forms itself
         * see only the Krylov space, and on a nearly singular A (a shift-invert near an
         * eigenvalue) they miss the large part of |A| that sets the rounding of b - A x */
        ls->anorm_probe = 0.0;
        for (int p = 0; p < 2; p++) {
            for (size_t i = 0; i < n; i++) ls->r[i] = (p && (i & 1)) ? -1.0 : 1.0;
            if ((st = ls->A.apply(ls->A.ctx, ls->r, ls->w, err))) return st;
            ls->anorm_probe = fmax(ls->anorm_probe, cblas_dnrm2((int)n, ls->w, 1) / sqrt((double)n));
        }
        if (!isfinite(ls->anorm_probe)) return ab_error_set(err, AB_ENAN, "GMRES: the operator returned a non-finite vector");
        if (ls->have_pc && ls->pc.setup && (st = ls->pc.setup(ls->pc.ctx, A, err))) return st;
    }
    ls->ready = 1;
    return AB_OK;
}

ab_status ab_linsol_det_sign(const ab_linsol *ls, int *sign, ab_error *err)
{
    if (ls->type != AB_LINSOL_DENSE || !ls->ready)
        return ab_error_set(err, AB_EINVAL, "the determinant's sign needs a set-up dense LU");
    int neg = 0;
    for (size_t i = 0; i < ls->n; i++) neg ^= (ls->LU[i + i * ls->n] < 0.0) ^ (ls->ipiv[i] != (lapack_int)i + 1);
    *sign = neg ? -1 : 1;
    return AB_OK;
}

static double nrm2(const double *x, size_t n) { return cblas_dnrm2((int)n, x, 1); }

/* GMRES(m) on op (A or A^T) from x = 0, right-preconditioned: A M^{-1} y = b, x = M^{-1} y.
 * Stops on the true residual |b - A x| <= max(rtol |b|, min(f, 1.5e-8 |b|)), f =
 * 64 eps (|b| + max(|A x|, |A|_est |x|)) (docs/theory.md, "Linear solvers"). */
static ab_status gmres(ab_linsol *ls, int transpose, const double *b, double *x, ab_error *err)
{
    const size_t n = ls->n;
    /* the Krylov space of an n x n operator has dimension <= n: a longer cycle would
     * orthogonalise rounding noise into its basis */
    const int ldh = ls->params.restart + 1;
    const int m = (size_t)ls->params.restart < n ? ls->params.restart : (int)n;
    ab_status (*apply)(void *, const double *, double *, ab_error *) = transpose ? ls->A.apply_transpose : ls->A.apply;
    /* a preconditioner approximates A^{-1}, not A^{-T}: transposed solves go without */
    const int pc = ls->have_pc && !transpose;
    const double bnorm = nrm2(b, n);
    memset(x, 0, sizeof(double) * n);
    ls->last_iterations = 0;
    ls->last_residual = 0.0;
    if (bnorm == 0.0) return AB_OK;
    if (!isfinite(bnorm)) return ab_error_set(err, AB_ENAN, "GMRES: the right-hand side is not finite");
    const double target = ls->params.rtol * bnorm;
    /* a lower bound on |A|_2 from the probes at setup and every product GMRES forms
     * (|A d| / |d|), for the floor */
    double anorm = ls->anorm_probe;
    int total = 0;
    ab_status st;
    memcpy(ls->r, b, sizeof(double) * n);
    double beta = bnorm;
    for (;;) {
        /* restart cycle from the residual r = b - A x */
        for (size_t i = 0; i < n; i++) ls->V[i] = ls->r[i] / beta;
        memset(ls->g, 0, sizeof(double) * (size_t)(m + 1));
        ls->g[0] = beta;
        int j = 0;
        for (; j < m && total < ls->params.max_iter; j++, total++) {
            double *vj = ls->V + (size_t)j * n, *vn = ls->V + (size_t)(j + 1) * n;
            const double *dir = vj;
            if (pc) {
                double *zj = ls->Z + (size_t)j * n;
                if ((st = ls->pc.apply(ls->pc.ctx, vj, zj, err))) return st;
                dir = zj;
            }
            if ((st = apply(ls->A.ctx, dir, ls->w, err))) return st;
            const double wnorm = nrm2(ls->w, n), dnorm = pc ? nrm2(dir, n) : 1.0;
            if (!isfinite(wnorm) || !isfinite(dnorm))
                return ab_error_set(err, AB_ENAN, "GMRES: the %s returned a non-finite vector",
                                    isfinite(dnorm) ? "operator" : "preconditioner");
            if (dnorm > 0.0) anorm = fmax(anorm, wnorm / dnorm);
            /* modified Gram-Schmidt, twice (one re-orthogonalisation keeps the basis
             * orthogonal to rounding at rtol 1e-13) */
            double *h = ls->H + (size_t)j * ldh;
            memset(h, 0, sizeof(double) * (size_t)(m + 1));
            for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i <= j; i++) {
                    const double *vi = ls->V + (size_t)i * n;
                    double hij = cblas_ddot((int)n, vi, 1, ls->w, 1);
                    cblas_daxpy((int)n, -hij, vi, 1, ls->w, 1);
                    h[i] += hij;
                }
            h[j + 1] = nrm2(ls->w, n);
            if (h[j + 1] > 0.0)
                for (size_t i = 0; i < n; i++) vn[i] = ls->w[i] / h[j + 1];
            /* apply the previous rotations, then one that zeroes h[j+1] */
            for (int i = 0; i < j; i++) {
                double t = ls->cs[i] * h[i] + ls->sn[i] * h[i + 1];
                h[i + 1] = -ls->sn[i] * h[i] + ls->cs[i] * h[i + 1];
                h[i] = t;
            }
            double rr = hypot(h[j], h[j + 1]);
            ls->cs[j] = rr > 0.0 ? h[j] / rr : 1.0;
            ls->sn[j] = rr > 0.0 ? h[j + 1] / rr : 0.0;
            h[j] = rr;
            h[j + 1] = 0.0;
            ls->g[j + 1] = -ls->sn[j] * ls->g[j];
            ls->g[j] = ls->cs[j] * ls->g[j];
            if (fabs(ls->g[j + 1]) <= target || rr == 0.0) { j++; total++; break; }
        }
        /* y = H^{-1} g (upper triangular j x j), x += (M^{-1}) V y */
        for (int i = j - 1; i >= 0; i--) {
            double s = ls->g[i];
            for (int k = i + 1; k < j; k++) s -= ls->H[i + (size_t)k * ldh] * ls->y[k];
            double d = ls->H[i + (size_t)i * ldh];
            ls->y[i] = d != 0.0 ? s / d : 0.0;
        }
        const double *basis = pc ? ls->Z : ls->V;
        for (int i = 0; i < j; i++) cblas_daxpy((int)n, ls->y[i], basis + (size_t)i * n, 1, x, 1);
        /* the true residual, not the recurrence's, decides (rounding can separate them) */
        if ((st = apply(ls->A.ctx, x, ls->w, err))) return st;
        for (size_t i = 0; i < n; i++) ls->r[i] = b[i] - ls->w[i];
        const double beta_prev = beta, axnorm = nrm2(ls->w, n), xnorm = nrm2(x, n);
        beta = nrm2(ls->r, n);
        ls->last_iterations = total;
        ls->last_residual = beta / bnorm;
        if (!isfinite(beta) || !isfinite(xnorm))
            return ab_error_set(err, AB_ENAN, "GMRES: the %s is not finite", isfinite(xnorm) ? "residual" : "solution");
        if (xnorm > 0.0) anorm = fmax(anorm, axnorm / xnorm);
        /* b - A x cannot be computed more accurately than the rounding of A x, which is
         * eps |A| |x| (not eps |A x|: with an ill-conditioned A, |x| >> |A x| / |A|). Below
         * this floor x solves a system within 64 rounding units of A x = b: as good as the
         * arithmetic allows, and what dense LU gives */
        const double rounding = fmin(AB_GMRES_ROUNDING_FLOOR * DBL_EPSILON * (bnorm + fmax(axnorm, anorm * xnorm)),
                                     AB_GMRES_FLOOR_MAX * bnorm);
        if (beta <= fmax(target, rounding)) return AB_OK;
        if (total >= ls->params.max_iter || j == 0)
            return ab_error_set(err, AB_ENOCONV,
                                "GMRES did not converge: relative residual %.3g > rtol %.3g after %d iterations "
                                "(linear_solver.max_iter; or use linear_solver.type: dense)",
                                beta / bnorm, ls->params.rtol, total);
        /* GMRES never increases the residual in exact arithmetic, and a cycle that did not
         * reduce it starts the next one from the same x: every further cycle would repeat it
         * (a singular operator, or rounding at the floor's scale) */
        if (beta >= beta_prev)
            return ab_error_set(err, AB_ENOCONV,
                                "GMRES did not converge: it stagnated at relative residual %.3g > rtol %.3g after %d "
                                "iterations (the operator is singular or too ill-conditioned; linear_solver.type: dense)",
                                beta / bnorm, ls->params.rtol, total);
    }
}

static ab_status solve(ab_linsol *ls, int transpose, const double *b, double *x, ab_error *err)
{
    if (!ls->ready) return ab_error_set(err, AB_EINVAL, "linear solver used before ab_linsol_setup");
    const size_t n = ls->n;
    if (ls->type == AB_LINSOL_DENSE) {
        /* LAPACKE_dgetrs would call a NaN in b an illegal argument; it is the caller's
         * non-finite value */
        for (size_t i = 0; i < n; i++)
            if (!isfinite(b[i])) return ab_error_set(err, AB_ENAN, "the right-hand side is not finite");
        if (x != b) memcpy(x, b, sizeof(double) * n);
        lapack_int info = LAPACKE_dgetrs_work(LAPACK_COL_MAJOR, transpose ? 'T' : 'N', (lapack_int)n, 1, ls->LU,
                                              (lapack_int)n, ls->ipiv, x, (lapack_int)n);
        ls->last_iterations = 0;
        ls->last_residual = 0.0;
        if (info) return ab_error_set(err, AB_ELINALG, "LAPACK dgetrs failed (info %d)", (int)info);
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[i])) return ab_error_set(err, AB_ENAN, "the solution of the linear system is not finite");
        return AB_OK;
    }
    if (transpose && !ls->A.apply_transpose)
        return ab_error_set(err, AB_EINVAL, "GMRES: transposed solve needs the operator's transpose");
    /* b is read again for the true residual after x was updated: keep a copy */
    memcpy(ls->b, b, sizeof(double) * n);
    return gmres(ls, transpose, ls->b, x, err);
}

ab_status ab_linsol_solve(ab_linsol *ls, const double *b, double *x, ab_error *err) { return solve(ls, 0, b, x, err); }

ab_status ab_linsol_solve_transpose(ab_linsol *ls, const double *b, double *x, ab_error *err)
{
    return solve(ls, 1, b, x, err);
}

/* ---- bordered operators ---------------------------------------------------------------- */

static ab_status bordered_apply_dir(const ab_bordered *bo, int transpose, const double *x, double *y, ab_error *err)
{
    const size_t n = bo->A->n;
    const int k = bo->k;
    ab_status (*apply)(void *, const double *, double *, ab_error *) = transpose ? bo->A->apply_transpose : bo->A->apply;
    if (!apply) return ab_error_set(err, AB_EINVAL, "bordered operator: the transpose is not available");
    ab_status st = apply(bo->A->ctx, x, y, err);
    if (st) return st;
    /* [A B; C^T D] (x; s) = (A x + B s; C^T x + D s); transposed: (A^T x + C s; B^T x + D^T s) */
    const double *right = transpose ? bo->C : bo->B, *below = transpose ? bo->B : bo->C;
    for (int q = 0; q < k; q++) {
        cblas_daxpy((int)n, x[n + q], right + (size_t)q * n, 1, y, 1);
        double s = cblas_ddot((int)n, below + (size_t)q * n, 1, x, 1);
        for (int r = 0; r < k; r++) s += (transpose ? bo->D[r + (size_t)q * k] : bo->D[q + (size_t)r * k]) * x[n + r];
        y[n + q] = s;
    }
    return AB_OK;
}

static ab_status bordered_apply(void *ctx, const double *x, double *y, ab_error *err)
{
    return bordered_apply_dir(ctx, 0, x, y, err);
}

static ab_status bordered_apply_t(void *ctx, const double *x, double *y, ab_error *err)
{
    return bordered_apply_dir(ctx, 1, x, y, err);
}

static ab_status bordered_matrix(void *ctx, double *M, size_t ld, ab_error *err)
{
    const ab_bordered *bo = ctx;
    const size_t n = bo->A->n;
    const int k = bo->k;
    ab_status st = bo->A->matrix(bo->A->ctx, M, ld, err);
    if (st) return st;
    for (int q = 0; q < k; q++) {
        for (size_t i = 0; i < n; i++) {
            M[i + (n + q) * ld] = bo->B[i + (size_t)q * n];
            M[(n + q) + i * ld] = bo->C[i + (size_t)q * n];
        }
        for (int r = 0; r < k; r++) M[(n + q) + (n + r) * ld] = bo->D[q + (size_t)r * k];
    }
    return AB_OK;
}

void ab_bordered_linop(const ab_bordered *bordered, ab_linop *op)
{
    op->n = bordered->A->n + (size_t)bordered->k;
    op->apply = bordered_apply;
    op->apply_transpose = bordered->A->apply_transpose ? bordered_apply_t : NULL;
    op->matrix = bordered->A->matrix ? bordered_matrix : NULL;
    op->ctx = (void *)bordered;
}
