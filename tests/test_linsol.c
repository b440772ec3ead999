/* The linear solvers behind ab_linsol (dense LU, restarted GMRES) and the bordered
 * operators [A B; C^T D], against LAPACK on explicitly assembled matrices and against
 * residuals computed in long double (docs/theory.md, "Linear solvers"). */
#include "attnbif/linsol.h"
#include "attnbif/solve.h"
#include "attnbif/spec.h"
#include "testutil.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPS DBL_EPSILON

/* ---- a deterministic random source and small dense helpers ---------------------------- */

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}
static double *vec(size_t n)
{
    double *v = calloc(n ? n : 1, sizeof(double));
    if (!v) abort();
    return v;
}
static double *rand_vec(size_t n)
{
    double *v = vec(n);
    for (size_t i = 0; i < n; i++) v[i] = urand();
    return v;
}
static double norm(const double *x, size_t n)
{
    long double s = 0.0L;
    for (size_t i = 0; i < n; i++) s += (long double)x[i] * x[i];
    return (double)sqrtl(s);
}
static double diff_norm(const double *x, const double *y, size_t n)
{
    long double s = 0.0L;
    for (size_t i = 0; i < n; i++) s += ((long double)x[i] - y[i]) * ((long double)x[i] - y[i]);
    return (double)sqrtl(s);
}
/* |b - op(A) x|_2 in long double (11 more bits than the solvers' arithmetic) */
static double resid(const double *A, size_t n, int transpose, const double *x, const double *b)
{
    long double s = 0.0L;
    for (size_t i = 0; i < n; i++) {
        long double r = b[i];
        for (size_t j = 0; j < n; j++) r -= (long double)(transpose ? A[j + i * n] : A[i + j * n]) * x[j];
        s += r * r;
    }
    return (double)sqrtl(s);
}
/* singular values (descending) of the n x n matrix A */
static void svals(const double *A, size_t n, double *s)
{
    double *c = vec(n * n), *superb = vec(n);
    memcpy(c, A, sizeof(double) * n * n);
    LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)n, (lapack_int)n, c, (lapack_int)n, s, NULL, 1, NULL, 1,
                   superb);
    free(c);
    free(superb);
}
static double cond2(const double *A, size_t n)
{
    double *s = vec(n);
    svals(A, n, s);
    double c = s[0] / s[n - 1];
    free(s);
    return c;
}
static double norm2_mat(const double *A, size_t n)
{
    double *s = vec(n);
    svals(A, n, s);
    double a = s[0];
    free(s);
    return a;
}
/* x = op(A)^{-1} b by LAPACK dgesv on a copy: the reference "direct solve" */
static int direct_solve(const double *A, size_t n, int transpose, const double *b, double *x)
{
    double *c = vec(n * n);
    lapack_int *ipiv = malloc(sizeof(lapack_int) * n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) c[i + j * n] = transpose ? A[j + i * n] : A[i + j * n];
    memcpy(x, b, sizeof(double) * n);
    lapack_int info = LAPACKE_dgesv(LAPACK_COL_MAJOR, (lapack_int)n, 1, c, (lapack_int)n, ipiv, x, (lapack_int)n);
    free(c);
    free(ipiv);
    return info == 0;
}
/* a random orthogonal matrix (Q of a random matrix's QR) */
static double *rand_orth(size_t n)
{
    double *Q = rand_vec(n * n), *tau = vec(n);
    LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, Q, (lapack_int)n, tau);
    LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, (lapack_int)n, Q, (lapack_int)n, tau);
    free(tau);
    return Q;
}
/* U diag(s) V^T */
static double *usv(size_t n, const double *s, const double *U, const double *V)
{
    double *A = vec(n * n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double a = 0.0;
            for (size_t q = 0; q < n; q++) a += U[i + q * n] * s[q] * V[j + q * n];
            A[i + j * n] = a;
        }
    return A;
}
/* A well-conditioned nonsymmetric matrix: 3 I + G / sqrt(n), G with entries uniform in
 * [-1, 1): the eigenvalues lie near the disc of radius 3^{-1/2} around 3, the condition
 * number is below 2 for every n (checked where it matters). */
static double *rand_wellcond(size_t n)
{
    double *A = vec(n * n);
    for (size_t i = 0; i < n * n; i++) A[i] = urand() / sqrt((double)n);
    for (size_t i = 0; i < n; i++) A[i + i * n] += 3.0;
    return A;
}

/* ---- a dense matrix as an ab_linop (with switches for the failure cases) -------------- */

typedef struct {
    size_t n;
    const double *A;
    int calls;     /* apply + apply_transpose calls */
    int nan_after; /* > 0: calls beyond this many return a NaN entry */
    int inf_in_matrix;
} dmat;

static ab_status dm_apply_dir(dmat *m, int transpose, const double *x, double *y)
{
    const size_t n = m->n;
    m->calls++;
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < n; j++) s += (transpose ? m->A[j + i * n] : m->A[i + j * n]) * x[j];
        y[i] = s;
    }
    if (m->nan_after > 0 && m->calls > m->nan_after) y[n / 2] = NAN;
    return AB_OK;
}
static ab_status dm_apply(void *ctx, const double *x, double *y, ab_error *err)
{
    (void)err;
    return dm_apply_dir(ctx, 0, x, y);
}
static ab_status dm_apply_t(void *ctx, const double *x, double *y, ab_error *err)
{
    (void)err;
    return dm_apply_dir(ctx, 1, x, y);
}
static ab_status dm_matrix(void *ctx, double *M, size_t ld, ab_error *err)
{
    (void)err;
    dmat *m = ctx;
    for (size_t j = 0; j < m->n; j++)
        for (size_t i = 0; i < m->n; i++) M[i + j * ld] = m->A[i + j * m->n];
    if (m->inf_in_matrix) M[0] = INFINITY;
    return AB_OK;
}
/* flags: which optional operations the operator offers */
enum { OP_T = 1, OP_MAT = 2 };
static ab_linop dm_op(dmat *m, int flags)
{
    ab_linop op = {m->n, dm_apply, (flags & OP_T) ? dm_apply_t : NULL, (flags & OP_MAT) ? dm_matrix : NULL, m};
    return op;
}

static ab_linsol *make(ab_tally *t, ab_linsol_type type, size_t n, const ab_linsol_params *p, const char *what)
{
    ab_linsol *ls = NULL;
    ab_error err = {0};
    if (!ab_check(t, ab_linsol_create(type, n, p, &ls, &err) == AB_OK, "%s: create %s solver %s", what,
                  ab_linsol_type_name(type), err.msg))
        return NULL;
    return ls;
}

/* The true residual GMRES promises on AB_OK (docs/theory.md, "Linear solvers"):
 * |b - A x| <= max(rtol |b|, min(64 eps (|b| + |A| |x|), 1.5e-8 |b|)). The test measures
 * |b - A x| in long double and uses the exact |A|_2, which is at least the solver's
 * estimate of it; the solver's own residual carries the rounding of its A x (about
 * sqrt(n) eps |A| |x| for these random matrices), so twice that is added. */
static double promised(double rtol, double anorm, const double *x, const double *b, size_t n)
{
    const double own = 2.0 * sqrt((double)n) * EPS * anorm * norm(x, n);
    return fmax(rtol * norm(b, n), fmin(64.0 * EPS * (norm(b, n) + anorm * norm(x, n)), 1.5e-8 * norm(b, n)) + own);
}

/* ---- dense against GMRES on well-conditioned random matrices -------------------------- */

static void dense_vs_gmres(ab_tally *t, size_t n, int restart)
{
    char what[96];
    snprintf(what, sizeof what, "random n=%zu restart=%d", n, restart);
    double *A = rand_wellcond(n), *b = rand_vec(n), *xd = vec(n), *xg = vec(n), *xr = vec(n);
    dmat m = {n, A, 0, 0, 0};
    ab_linop op = dm_op(&m, OP_T | OP_MAT);
    ab_linsol_params p;
    ab_linsol_params_default(&p);
    p.restart = restart;
    ab_linsol *d = make(t, AB_LINSOL_DENSE, n, NULL, what), *g = make(t, AB_LINSOL_GMRES, n, &p, what);
    ab_error err = {0};
    double kappa = cond2(A, n), anorm = norm2_mat(A, n);
    ab_check(t, kappa < 3.0, "%s: test matrix is well conditioned (cond %.3g < 3)", what, kappa);
    if (d && g && ab_check(t, ab_linsol_setup(d, &op, &err) == AB_OK && ab_linsol_setup(g, &op, &err) == AB_OK,
                           "%s: setup %s", what, err.msg)) {
        direct_solve(A, n, 0, b, xr);
        ab_status sd = ab_linsol_solve(d, b, xd, &err);
        ab_check(t, sd == AB_OK && ab_linsol_last_iterations(d) == 0, "%s: dense solve %s", what, err.msg);
        /* dense LU is the same factorisation as dgesv: identical bits */
        ab_check(t, diff_norm(xd, xr, n) == 0.0, "%s: dense = LAPACK dgesv exactly", what);
        ab_status sg = ab_linsol_solve(g, b, xg, &err);
        int it = ab_linsol_last_iterations(g);
        double rg = resid(A, n, 0, xg, b);
        ab_check(t, sg == AB_OK, "%s: GMRES converges (%d iterations) %s", what, it, err.msg);
        ab_check(t, rg <= promised(p.rtol, anorm, xg, b, n), "%s: GMRES true residual %.3e <= rtol |b| = %.3e", what, rg,
                 p.rtol * norm(b, n));
        /* the reported residual is the true one (to the rounding of its evaluation) */
        ab_check(t, fabs(ab_linsol_last_residual(g) - rg / norm(b, n)) <= 64.0 * EPS * kappa,
                 "%s: last_residual %.3e = |b - A x| / |b| %.3e", what, ab_linsol_last_residual(g), rg / norm(b, n));
        /* forward error <= cond x backward error: cond < 3 and rtol 1e-13 give < 1e-12 */
        double e = diff_norm(xg, xd, n) / norm(xd, n);
        ab_check(t, e <= 1e-12, "%s: GMRES = dense to %.2e (tol 1e-12: cond %.2f x rtol 1e-13)", what, e, kappa);
        if (restart < (int)n && restart < 10)
            ab_check(t, it > restart, "%s: the solve needed restarts (%d iterations > restart %d)", what, it, restart);
        if (n >= 50 && restart >= (int)n)
            /* eigenvalues in a disc of radius ~0.58 around 3: the residual falls by about
             * 0.58/3 = 0.19 per step, 1e-13 in ~19 steps; 30 leaves room for nonnormality */
            ab_check(t, it <= 30, "%s: %d GMRES iterations <= 30", what, it);
    }
    ab_linsol_destroy(d);
    ab_linsol_destroy(g);
    free(A); free(b); free(xd); free(xg); free(xr);
}

/* ---- ill-conditioned: cond 1e8 -------------------------------------------------------- */

/* cond 10^e; max_n: the solver's size (>= n; larger than n + 1 makes the restart length 60
 * exceed n) */
static void ill_conditioned(ab_tally *t, int e, int rhs_kind, size_t max_n)
{
    const size_t n = 50;
    char what[96];
    snprintf(what, sizeof what, "cond 1e%d, %s, max_n %zu", e, rhs_kind ? "b = A x_true" : "random b", max_n);
    double *U = rand_orth(n), *V = rand_orth(n), *s = vec(n);
    for (size_t i = 0; i < n; i++) s[i] = pow(10.0, -(double)e * (double)i / (double)(n - 1));
    double *A = usv(n, s, U, V), *b = vec(n), *xd = vec(n), *xg = vec(n), *xt = rand_vec(n);
    if (rhs_kind)
        for (size_t i = 0; i < n; i++) {
            long double acc = 0.0L;
            for (size_t j = 0; j < n; j++) acc += (long double)A[i + j * n] * xt[j];
            b[i] = (double)acc;
        }
    else
        for (size_t i = 0; i < n; i++) b[i] = urand();
    dmat m = {n, A, 0, 0, 0};
    ab_linop op = dm_op(&m, OP_T | OP_MAT);
    ab_linsol *d = make(t, AB_LINSOL_DENSE, max_n, NULL, what), *g = make(t, AB_LINSOL_GMRES, max_n, NULL, what);
    ab_error err = {0};
    double kappa = cond2(A, n), anorm = norm2_mat(A, n);
    ab_check(t, kappa > 0.5 * pow(10.0, e) && kappa < 2.0 * pow(10.0, e), "%s: cond %.3g ~ 1e%d", what, kappa, e);
    if (d && g && ab_linsol_setup(d, &op, &err) == AB_OK && ab_linsol_setup(g, &op, &err) == AB_OK) {
        ab_check(t, ab_linsol_solve(d, b, xd, &err) == AB_OK, "%s: dense solves %s", what, err.msg);
        /* LU with partial pivoting is backward stable: |r| <= c n eps |A| |x|, c n = 64 here */
        double rd = resid(A, n, 0, xd, b), etad = rd / (norm(b, n) + anorm * norm(xd, n));
        ab_check(t, etad <= 64.0 * EPS, "%s: dense backward error %.2e <= 64 eps", what, etad);
        ab_status sg = ab_linsol_solve(g, b, xg, &err);
        int it = ab_linsol_last_iterations(g);
        if (sg == AB_OK) {
            double rg = resid(A, n, 0, xg, b), etag = rg / (norm(b, n) + anorm * norm(xg, n));
            ab_check(t, rg <= promised(AB_GMRES_RTOL, anorm, xg, b, n),
                     "%s: GMRES AB_OK after %d iterations with residual %.3e at the promised bound %.3e (backward "
                     "error %.2e)",
                     what, it, rg, promised(AB_GMRES_RTOL, anorm, xg, b, n), etag);
            /* both are exact solutions of systems within their backward errors of A x = b:
             * they differ by at most cond (eta_d + eta_g) to first order (x2 for the rest) */
            double e = diff_norm(xg, xd, n) / norm(xd, n), bound = 2.0 * kappa * (etad + etag);
            ab_check(t, e <= bound, "%s: GMRES - dense = %.2e <= 2 cond (eta_d + eta_g) = %.2e", what, e, bound);
        } else {
            ab_check(t, sg == AB_ENOCONV && strstr(err.msg, "did not converge") != NULL,
                     "%s: GMRES reports AB_ENOCONV (%d iterations): %s", what, it, err.msg);
        }
        /* either answer must not cost the whole iteration budget: at the floor GMRES stops,
         * and stagnating cycles end it */
        ab_check(t, it <= 4 * (int)n, "%s: %d iterations <= 4n", what, it);
        if (!rhs_kind && e == 8)
            /* dense reaches backward error 64 eps here, and so must GMRES: the floor counts
             * the rounding of A x as eps |A| |x| (|x| ~ 1e7 |b|), not eps |A x| */
            ab_check(t, sg == AB_OK, "%s: GMRES reaches the rounding floor as dense does (AB_OK)", what);
        if (rhs_kind) {
            /* with |x_true| ~ 1 the dense error is cond x backward error */
            double e = diff_norm(xd, xt, n) / norm(xt, n);
            ab_check(t, e <= 2.0 * kappa * 64.0 * EPS, "%s: dense error %.2e <= 2 cond 64 eps", what, e);
        }
    }
    ab_linsol_destroy(d);
    ab_linsol_destroy(g);
    free(U); free(V); free(s); free(A); free(b); free(xd); free(xg); free(xt);
}

/* ---- singular, zero rhs, aliasing, transposes, matrix-free ---------------------------- */

static void singular(ab_tally *t)
{
    /* rank 1 with exactly representable elimination: 4 - 2 x 2 = 0 exactly */
    const double A2[4] = {1, 2, 2, 4};
    /* n = 5 with a zero row (row 3) */
    double A5[25];
    for (int i = 0; i < 25; i++) A5[i] = urand() + (i % 6 == 0 ? 3.0 : 0.0);
    for (int j = 0; j < 5; j++) A5[3 + 5 * j] = 0.0;
    const double *mats[2] = {A2, A5};
    const size_t ns[2] = {2, 5};
    for (int c = 0; c < 2; c++) {
        dmat m = {ns[c], mats[c], 0, 0, 0};
        ab_linsol *d = make(t, AB_LINSOL_DENSE, ns[c], NULL, "singular");
        ab_error err = {0};
        for (int flags = 0; flags <= OP_MAT; flags += OP_MAT) {
            ab_linop op = dm_op(&m, flags);
            ab_status st = ab_linsol_setup(d, &op, &err);
            ab_check(t, st == AB_ELINALG && strstr(err.msg, "singular") != NULL,
                     "singular n=%zu (%s): dense setup is AB_ELINALG: %s", ns[c], flags ? "matrix" : "mat-vec", err.msg);
            double b[5] = {1, 1, 1, 1, 1}, x[5];
            err.msg[0] = 0;
            ab_check(t, ab_linsol_solve(d, b, x, &err) == AB_EINVAL, "singular n=%zu: solve after a failed setup is AB_EINVAL: %s",
                     ns[c], err.msg);
        }
        ab_linsol_destroy(d);
    }
    /* GMRES on a singular, inconsistent system: never AB_OK (there is no solution), and it
     * must not spend the whole budget once it stagnates */
    {
        const size_t n = 20;
        double *A = rand_wellcond(n);
        for (size_t j = 0; j < n; j++) A[(n - 1) + j * n] = 0.0; /* last row zero: range misses e_n */
        double *b = rand_vec(n), *x = vec(n);
        dmat m = {n, A, 0, 0, 0};
        ab_linop op = dm_op(&m, OP_T | OP_MAT);
        ab_linsol *g = make(t, AB_LINSOL_GMRES, n, NULL, "singular GMRES");
        ab_error err = {0};
        if (g && ab_linsol_setup(g, &op, &err) == AB_OK) {
            ab_status st = ab_linsol_solve(g, b, x, &err);
            ab_check(t, st == AB_ENOCONV, "singular inconsistent system: GMRES AB_ENOCONV (status %d, |x| %.3g) after %d iterations: %s",
                     (int)st, norm(x, n), ab_linsol_last_iterations(g), err.msg);
            ab_check(t, ab_linsol_last_iterations(g) <= 10 * (int)n, "singular: GMRES stops once stagnant (%d iterations <= 10n)",
                     ab_linsol_last_iterations(g));
        }
        ab_linsol_destroy(g);
        free(A); free(b); free(x);
    }
}

static void zero_rhs_and_alias(ab_tally *t)
{
    const size_t n = 40;
    double *A = rand_wellcond(n), *b = rand_vec(n), *x = vec(n), *y = vec(n);
    dmat m = {n, A, 0, 0, 0};
    ab_linop op = dm_op(&m, OP_T | OP_MAT);
    for (int type = 0; type < 2; type++) {
        const char *nm = type ? "gmres" : "dense";
        ab_linsol *ls = make(t, type ? AB_LINSOL_GMRES : AB_LINSOL_DENSE, n, NULL, nm);
        ab_error err = {0};
        if (!ls || ab_linsol_setup(ls, &op, &err)) {
            ab_check(t, 0, "%s: setup %s", nm, err.msg);
            ab_linsol_destroy(ls);
            continue;
        }
        /* zero rhs: x = 0 exactly (x prefilled with garbage), no iterations */
        double *z = vec(n);
        for (size_t i = 0; i < n; i++) x[i] = 1e300;
        m.calls = 0;
        ab_check(t, ab_linsol_solve(ls, z, x, &err) == AB_OK && norm(x, n) == 0.0 && ab_linsol_last_iterations(ls) == 0,
                 "%s: b = 0 gives x = 0 exactly, 0 iterations (%d mat-vecs)", nm, m.calls);
        for (size_t i = 0; i < n; i++) x[i] = 1e300;
        ab_check(t, ab_linsol_solve_transpose(ls, z, x, &err) == AB_OK && norm(x, n) == 0.0, "%s: A^T x = 0 gives x = 0", nm);
        free(z);
        /* in place: the same bits as out of place (both paths are deterministic) */
        for (int tr = 0; tr < 2; tr++) {
            ab_status s1 = tr ? ab_linsol_solve_transpose(ls, b, x, &err) : ab_linsol_solve(ls, b, x, &err);
            memcpy(y, b, sizeof(double) * n);
            ab_status s2 = tr ? ab_linsol_solve_transpose(ls, y, y, &err) : ab_linsol_solve(ls, y, y, &err);
            ab_check(t, s1 == AB_OK && s2 == AB_OK && memcmp(x, y, sizeof(double) * n) == 0,
                     "%s%s: solve in place (b = x) = out of place, bit for bit", nm, tr ? " transposed" : "");
        }
        ab_linsol_destroy(ls);
    }
    free(A); free(b); free(x); free(y);
}

static void transposed(ab_tally *t)
{
    const size_t n = 60;
    double *A = rand_wellcond(n), *b = rand_vec(n), *x = vec(n), *xr = vec(n);
    dmat m = {n, A, 0, 0, 0};
    ab_linop op = dm_op(&m, OP_T | OP_MAT);
    direct_solve(A, n, 1, b, xr);
    double kappa = cond2(A, n);
    for (int type = 0; type < 2; type++) {
        const char *nm = type ? "gmres" : "dense";
        ab_linsol *ls = make(t, type ? AB_LINSOL_GMRES : AB_LINSOL_DENSE, n, NULL, nm);
        ab_error err = {0};
        if (ls && ab_linsol_setup(ls, &op, &err) == AB_OK) {
            ab_status st = ab_linsol_solve_transpose(ls, b, x, &err);
            double e = diff_norm(x, xr, n) / norm(xr, n);
            /* the reference solves the explicit transpose by dgesv (a different
             * factorisation): cond (< 3) x (rtol 1e-13 + rounding) */
            ab_check(t, st == AB_OK && e <= 1e-12, "%s: A^T x = b agrees with dgesv on A^T to %.2e (tol 1e-12, cond %.2f)",
                     nm, e, kappa);
            double r = resid(A, n, 1, x, b);
            ab_check(t, r <= promised(AB_GMRES_RTOL, norm2_mat(A, n), x, b, n), "%s: |b - A^T x| = %.2e", nm, r);
        }
        ab_linsol_destroy(ls);
    }
    /* GMRES without the operator's transpose cannot solve with A^T */
    ab_linop nt = dm_op(&m, OP_MAT);
    ab_linsol *g = make(t, AB_LINSOL_GMRES, n, NULL, "no transpose");
    ab_error err = {0};
    if (g && ab_linsol_setup(g, &nt, &err) == AB_OK)
        ab_check(t, ab_linsol_solve_transpose(g, b, x, &err) == AB_EINVAL && strstr(err.msg, "transpose"),
                 "gmres: transposed solve without apply_transpose is AB_EINVAL: %s", err.msg);
    ab_linsol_destroy(g);
    /* dense does not need it: the LU factors give A^T too */
    ab_linsol *d = make(t, AB_LINSOL_DENSE, n, NULL, "no transpose");
    if (d && ab_linsol_setup(d, &nt, &err) == AB_OK)
        ab_check(t, ab_linsol_solve_transpose(d, b, x, &err) == AB_OK && diff_norm(x, xr, n) <= 1e-12 * norm(xr, n),
                 "dense: transposed solve from the factors without apply_transpose");
    ab_linsol_destroy(d);
    free(A); free(b); free(x); free(xr);
}

static void matrix_free(ab_tally *t)
{
    const size_t n = 37;
    double *A = rand_wellcond(n), *b = rand_vec(n), *x1 = vec(n), *x2 = vec(n);
    dmat m = {n, A, 0, 0, 0};
    ab_linop with = dm_op(&m, OP_T | OP_MAT), without = dm_op(&m, OP_T);
    ab_linsol *d = make(t, AB_LINSOL_DENSE, n, NULL, "matrix-free");
    ab_error err = {0};
    int sign1 = 0, sign2 = 0;
    if (d && ab_linsol_setup(d, &with, &err) == AB_OK && ab_linsol_solve(d, b, x1, &err) == AB_OK &&
        ab_linsol_det_sign(d, &sign1, &err) == AB_OK) {
        m.calls = 0;
        ab_status st = ab_linsol_setup(d, &without, &err);
        ab_check(t, st == AB_OK && m.calls == (int)n, "matrix-free: dense assembles from %d mat-vecs (n = %zu)", m.calls, n);
        /* A e_j is computed exactly (sums of exact zeros and one product by 1): the same
         * matrix, the same LU, the same bits */
        ab_check(t, ab_linsol_solve(d, b, x2, &err) == AB_OK && memcmp(x1, x2, sizeof(double) * n) == 0,
                 "matrix-free: dense solution bit-identical to the assembled operator's");
        ab_check(t, ab_linsol_det_sign(d, &sign2, &err) == AB_OK && sign1 == sign2, "matrix-free: same det sign");
    }
    ab_linsol_destroy(d);
    /* a smaller operator on a larger solver (max_n 37, n 5): workspace strides follow n */
    double *A5 = rand_wellcond(5), *b5 = rand_vec(5), *xr = vec(5);
    dmat m5 = {5, A5, 0, 0, 0};
    ab_linop op5 = dm_op(&m5, OP_T);
    direct_solve(A5, 5, 0, b5, xr);
    for (int type = 0; type < 2; type++) {
        ab_linsol *ls = make(t, type ? AB_LINSOL_GMRES : AB_LINSOL_DENSE, n, NULL, "smaller operator");
        if (ls && ab_linsol_setup(ls, &op5, &err) == AB_OK && ab_linsol_solve(ls, b5, x1, &err) == AB_OK)
            ab_check(t, diff_norm(x1, xr, 5) <= 1e-12 * norm(xr, 5), "%s: n = 5 operator on a max_n = 37 solver (%d iterations)",
                     ab_linsol_type_name(type ? AB_LINSOL_GMRES : AB_LINSOL_DENSE), ab_linsol_last_iterations(ls));
        else
            ab_check(t, 0, "smaller operator: %s", err.msg);
        /* an operator larger than the solver is refused */
        dmat big = {n + 1, A, 0, 0, 0};
        ab_linop bop = dm_op(&big, 0);
        if (ls) ab_check(t, ab_linsol_setup(ls, &bop, &err) == AB_EINVAL, "operator larger than max_n refused: %s", err.msg);
        ab_linsol_destroy(ls);
    }
    free(A5); free(b5); free(xr);
    free(A); free(b); free(x1); free(x2);
}

/* ---- preconditioners ------------------------------------------------------------------ */

typedef struct {
    ab_linsol *lu; /* exact: a dense LU of the operator */
    const double *diag; /* or Jacobi: 1 / diag */
    size_t n;
    int setups;
} pcctx;
static ab_status pc_setup(void *ctx, const ab_linop *A, ab_error *err)
{
    pcctx *p = ctx;
    p->setups++;
    return p->lu ? ab_linsol_setup(p->lu, A, err) : AB_OK;
}
static ab_status pc_setup_fail(void *ctx, const ab_linop *A, ab_error *err)
{
    (void)ctx;
    (void)A;
    return ab_error_set(err, AB_ELINALG, "test preconditioner cannot follow this operator");
}
static ab_status pc_apply(void *ctx, const double *r, double *z, ab_error *err)
{
    pcctx *p = ctx;
    if (p->lu) return ab_linsol_solve(p->lu, r, z, err);
    for (size_t i = 0; i < p->n; i++) z[i] = r[i] * p->diag[i];
    return AB_OK;
}

static void preconditioners(ab_tally *t)
{
    ab_error err = {0};
    /* the exact inverse: A M^{-1} = I, so the first Krylov step solves the system */
    {
        const size_t n = 80;
        double *A = rand_wellcond(n), *b = rand_vec(n), *x = vec(n), *xr = vec(n);
        dmat m = {n, A, 0, 0, 0};
        ab_linop op = dm_op(&m, OP_T | OP_MAT);
        direct_solve(A, n, 0, b, xr);
        pcctx pc = {NULL, NULL, n, 0};
        ab_linsol *g = make(t, AB_LINSOL_GMRES, n, NULL, "exact pc");
        pc.lu = make(t, AB_LINSOL_DENSE, n, NULL, "exact pc");
        ab_precond P = {pc_setup, pc_apply, &pc};
        ab_linsol_set_precond(g, &P);
        if (g && pc.lu && ab_linsol_setup(g, &op, &err) == AB_OK) {
            ab_check(t, pc.setups == 1, "exact pc: setup hook called once by ab_linsol_setup");
            ab_status st = ab_linsol_solve(g, b, x, &err);
            int it = ab_linsol_last_iterations(g);
            ab_check(t, st == AB_OK && it <= 2, "exact pc: GMRES converges in %d <= 2 iterations %s", it, err.msg);
            ab_check(t, diff_norm(x, xr, n) <= 1e-12 * norm(xr, n), "exact pc: x = dgesv's to 1e-12 (cond < 3)");
            /* transposed solves go without the preconditioner (it approximates A^{-1}, not
             * A^{-T}) and are still right */
            direct_solve(A, n, 1, b, xr);
            st = ab_linsol_solve_transpose(g, b, x, &err);
            ab_check(t, st == AB_OK && diff_norm(x, xr, n) <= 1e-12 * norm(xr, n) && ab_linsol_last_iterations(g) > 2,
                     "exact pc: transposed solve unpreconditioned (%d iterations) and right", ab_linsol_last_iterations(g));
            /* removing it */
            ab_linsol_set_precond(g, NULL);
            direct_solve(A, n, 0, b, xr);
            st = ab_linsol_setup(g, &op, &err) || ab_linsol_solve(g, b, x, &err);
            ab_check(t, st == AB_OK && ab_linsol_last_iterations(g) > 2 && pc.setups == 1 &&
                            diff_norm(x, xr, n) <= 1e-12 * norm(xr, n),
                     "pc removed: %d iterations, hook not called", ab_linsol_last_iterations(g));
        }
        ab_linsol_destroy(g);
        ab_linsol_destroy(pc.lu);
        free(A); free(b); free(x); free(xr);
    }
    /* Jacobi on a diagonally dominant matrix with diagonal from 1 to 1e4: off-diagonal row
     * sums are 0.4 of the diagonal, so |I - A D^{-1}| <= 0.4 column-wise after scaling and
     * the preconditioned residual falls by about 0.4 per step or better (1e-13 in <= 33);
     * unpreconditioned, GMRES must resolve eigenvalues spread over four decades */
    {
        const size_t n = 200;
        double *A = vec(n * n), *dinv = vec(n), *b = rand_vec(n), *x = vec(n), *xr = vec(n);
        for (size_t i = 0; i < n; i++) {
            double di = pow(10.0, 4.0 * (double)i / (double)(n - 1)), rs = 0.0;
            for (size_t j = 0; j < n; j++)
                if (j != i) rs += fabs(A[i + j * n] = urand());
            for (size_t j = 0; j < n; j++)
                if (j != i) A[i + j * n] *= 0.4 * di / rs;
            A[i + i * n] = di;
            dinv[i] = 1.0 / di;
        }
        dmat m = {n, A, 0, 0, 0};
        ab_linop op = dm_op(&m, OP_T | OP_MAT);
        direct_solve(A, n, 0, b, xr);
        double kappa = cond2(A, n);
        pcctx pc = {NULL, dinv, n, 0};
        ab_precond P = {NULL, pc_apply, &pc};
        ab_linsol *g0 = make(t, AB_LINSOL_GMRES, n, NULL, "jacobi"), *g1 = make(t, AB_LINSOL_GMRES, n, NULL, "jacobi");
        ab_linsol_set_precond(g1, &P);
        if (g0 && g1 && ab_linsol_setup(g0, &op, &err) == AB_OK && ab_linsol_setup(g1, &op, &err) == AB_OK) {
            ab_status s0 = ab_linsol_solve(g0, b, x, &err);
            int it0 = ab_linsol_last_iterations(g0);
            ab_status s1 = ab_linsol_solve(g1, b, x, &err);
            int it1 = ab_linsol_last_iterations(g1);
            ab_check(t, s1 == AB_OK && it1 <= 35, "jacobi: preconditioned GMRES converges in %d <= 35 iterations", it1);
            ab_check(t, s0 != AB_OK || it0 >= 3 * it1,
                     "jacobi: unpreconditioned needs %d iterations (%s) >= 3x the preconditioned %d", it0,
                     s0 == AB_OK ? "converged" : "did not converge", it1);
            double e = diff_norm(x, xr, n) / norm(xr, n);
            ab_check(t, e <= 4.0 * kappa * 1e-13, "jacobi: x = dgesv's to %.2e (tol 4 cond rtol, cond %.3g)", e, kappa);
            ab_check(t, resid(A, n, 0, x, b) <= promised(AB_GMRES_RTOL, norm2_mat(A, n), x, b, n),
                     "jacobi: true residual within rtol |b|");
            /* a preconditioner that returns a NaN */
            dinv[7] = NAN;
            ab_check(t, ab_linsol_solve(g1, b, x, &err) == AB_ENAN && strstr(err.msg, "preconditioner"),
                     "jacobi: a NaN from the preconditioner is AB_ENAN: %s", err.msg);
            dinv[7] = 1.0 / A[7 + 7 * n];
        }
        /* a failing preconditioner setup fails the solver's setup, and the solver refuses
         * to solve until a setup succeeds */
        ab_precond Pbad = {pc_setup_fail, pc_apply, &pc};
        ab_linsol_set_precond(g1, &Pbad);
        if (g1) {
            ab_check(t, ab_linsol_setup(g1, &op, &err) == AB_ELINALG && strstr(err.msg, "test preconditioner"),
                     "pc setup failure propagates: %s", err.msg);
            ab_check(t, ab_linsol_solve(g1, b, x, &err) == AB_EINVAL, "no solve after a failed setup: %s", err.msg);
        }
        ab_linsol_destroy(g0);
        ab_linsol_destroy(g1);
        free(A); free(dinv); free(b); free(x); free(xr);
    }
}

/* ---- failures: budget, non-finite values, bad parameters ------------------------------ */

static void failures(ab_tally *t)
{
    const size_t n = 50;
    double *A = rand_wellcond(n), *b = rand_vec(n), *x = vec(n);
    ab_error err = {0};
    dmat m = {n, A, 0, 0, 0};
    ab_linop op = dm_op(&m, OP_T | OP_MAT);
    ab_linsol_params p;
    ab_linsol_params_default(&p);
    p.max_iter = 3;
    ab_linsol *g = make(t, AB_LINSOL_GMRES, n, &p, "budget");
    if (g && ab_linsol_setup(g, &op, &err) == AB_OK) {
        ab_status st = ab_linsol_solve(g, b, x, &err);
        ab_check(t, st == AB_ENOCONV && strstr(err.msg, "did not converge") && strstr(err.msg, "3 iterations") &&
                        ab_linsol_last_iterations(g) == 3,
                 "max_iter 3: AB_ENOCONV after 3 iterations: %s", err.msg);
        ab_check(t, ab_linsol_last_residual(g) > p.rtol && ab_linsol_last_residual(g) < 1.0,
                 "max_iter 3: last_residual %.3e between rtol and 1", ab_linsol_last_residual(g));
    }
    ab_linsol_destroy(g);

    /* rtol below the rounding floor: GMRES stops at the floor with AB_OK, promptly */
    p.max_iter = AB_GMRES_MAX_ITER;
    p.rtol = 1e-20;
    g = make(t, AB_LINSOL_GMRES, n, &p, "rtol 1e-20");
    if (g && ab_linsol_setup(g, &op, &err) == AB_OK) {
        ab_status st = ab_linsol_solve(g, b, x, &err);
        double r = resid(A, n, 0, x, b);
        ab_check(t, st == AB_OK && r <= promised(0.0, norm2_mat(A, n), x, b, n) && ab_linsol_last_iterations(g) <= 3 * (int)n,
                 "rtol 1e-20: AB_OK at the rounding floor (|r| = %.2e, %d iterations) %s", r, ab_linsol_last_iterations(g),
                 err.msg);
    }
    ab_linsol_destroy(g);
    /* the same with a 5 x 5 operator on a solver of size 60: a cycle is at most n = 5 long
     * (the Krylov space has no more dimensions), so the floor is reached in one or two */
    {
        double *A5 = rand_wellcond(5), *b5 = rand_vec(5), *x5 = vec(5);
        dmat m5 = {5, A5, 0, 0, 0};
        ab_linop op5 = dm_op(&m5, 0);
        g = make(t, AB_LINSOL_GMRES, 60, &p, "rtol 1e-20 n=5");
        if (g && ab_linsol_setup(g, &op5, &err) == AB_OK) {
            ab_status st = ab_linsol_solve(g, b5, x5, &err);
            double r = resid(A5, 5, 0, x5, b5);
            ab_check(t, st == AB_OK && r <= promised(0.0, norm2_mat(A5, 5), x5, b5, 5) && ab_linsol_last_iterations(g) <= 10,
                     "rtol 1e-20, n = 5, max_n = 60: AB_OK at the floor (|r| = %.2e) in %d <= 2n iterations %s", r,
                     ab_linsol_last_iterations(g), err.msg);
        }
        ab_linsol_destroy(g);
        free(A5); free(b5); free(x5);
    }

    /* an operator that turns non-finite: on the 5th mat-vec (GMRES), at assembly (dense) */
    for (int type = 0; type < 2; type++) {
        const char *nm = type ? "gmres" : "dense";
        dmat bad = {n, A, 0, 5, 0};
        ab_linop bop = dm_op(&bad, OP_T);
        ab_linsol *ls = make(t, type ? AB_LINSOL_GMRES : AB_LINSOL_DENSE, n, NULL, nm);
        ab_status st = ab_linsol_setup(ls, &bop, &err);
        if (st == AB_OK) st = ab_linsol_solve(ls, b, x, &err);
        ab_check(t, st == AB_ENAN, "%s: NaN from the operator is AB_ENAN: %s", nm, err.msg);
        if (type == 0) {
            dmat inf = {n, A, 0, 0, 1};
            ab_linop iop = dm_op(&inf, OP_MAT);
            ab_check(t, ab_linsol_setup(ls, &iop, &err) == AB_ENAN, "dense: an infinite matrix entry is AB_ENAN: %s", err.msg);
        }
        /* a non-finite right-hand side */
        ab_linop gop = dm_op(&m, OP_T | OP_MAT);
        b[3] = NAN;
        if (ab_linsol_setup(ls, &gop, &err) == AB_OK)
            ab_check(t, ab_linsol_solve(ls, b, x, &err) == AB_ENAN, "%s: a NaN in b is AB_ENAN: %s", nm, err.msg);
        b[3] = 0.5;
        ab_linsol_destroy(ls);
    }

    /* bad parameters and types */
    ab_linsol *ls = NULL;
    ab_linsol_params bad = {0.0, 10, 10, 1};
    ab_check(t, ab_linsol_create(AB_LINSOL_GMRES, n, &bad, &ls, &err) == AB_EINVAL && ls == NULL,
             "GMRES rtol 0 refused: %s", err.msg);
    bad.rtol = 1e-10;
    bad.restart = 0;
    ab_check(t, ab_linsol_create(AB_LINSOL_GMRES, n, &bad, &ls, &err) == AB_EINVAL, "GMRES restart 0 refused");
    /* the dense solver ignores the GMRES settings */
    ab_check(t, ab_linsol_create(AB_LINSOL_DENSE, n, &bad, &ls, &err) == AB_OK, "dense ignores GMRES settings %s", err.msg);
    ab_linsol_destroy(ls);
    ls = NULL;
    ab_check(t, ab_linsol_create((ab_linsol_type)7, n, NULL, &ls, &err) == AB_EINVAL && ls == NULL, "unknown type refused: %s",
             err.msg);
    ab_check(t, ab_linsol_create(AB_LINSOL_DENSE, 0, NULL, &ls, &err) == AB_EINVAL, "size 0 refused");
    /* an operator without apply */
    ab_linop noapply = {n, NULL, NULL, NULL, NULL};
    ab_linsol_create(AB_LINSOL_GMRES, n, NULL, &ls, &err);
    ab_check(t, ab_linsol_setup(ls, &noapply, &err) == AB_EINVAL, "operator without apply refused: %s", err.msg);
    ab_linsol_destroy(ls);
    free(A); free(b); free(x);
}

/* ---- determinant sign ----------------------------------------------------------------- */

static void det_sign(ab_tally *t)
{
    ab_error err = {0};
    int agree = 0, total = 0, negatives = 0;
    /* random matrices n = 1..6: sign of the product of the eigenvalues (dgeev; complex
     * pairs contribute |lambda|^2 > 0) */
    for (int trial = 0; trial < 60; trial++) {
        size_t n = 1 + (size_t)trial % 6;
        double *A = rand_vec(n * n), *c = vec(n * n), *wr = vec(n), *wi = vec(n);
        memcpy(c, A, sizeof(double) * n * n);
        LAPACKE_dgeev(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)n, c, (lapack_int)n, wr, wi, NULL, 1, NULL, 1);
        int want = 1;
        for (size_t i = 0; i < n; i++)
            if (wi[i] == 0.0 && wr[i] < 0.0) want = -want;
        dmat m = {n, A, 0, 0, 0};
        ab_linop op = dm_op(&m, OP_MAT);
        ab_linsol *d = make(t, AB_LINSOL_DENSE, n, NULL, "det");
        int got = 0;
        if (d && ab_linsol_setup(d, &op, &err) == AB_OK && ab_linsol_det_sign(d, &got, &err) == AB_OK) {
            agree += got == want;
            negatives += want < 0;
        }
        total++;
        ab_linsol_destroy(d);
        free(A); free(c); free(wr); free(wi);
    }
    ab_check(t, agree == total && negatives > 10 && negatives < total - 10,
             "det sign = sign of the eigenvalue product for %d/%d random matrices (%d negative)", agree, total, negatives);
    /* by construction: A = P D (permutation times diagonal), sign = sgn(P) prod sgn(d_i) */
    agree = 0;
    total = 0;
    for (int trial = 0; trial < 40; trial++) {
        const size_t n = 1 + (size_t)trial % 9;
        int perm[9];
        for (size_t i = 0; i < n; i++) perm[i] = (int)i;
        for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)((urand() + 1.0) * 0.5 * (double)i);
            if (j >= i) j = i - 1;
            int tmp = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = tmp;
        }
        int want = 1;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (perm[i] > perm[j]) want = -want;
        double A[81] = {0};
        for (size_t j = 0; j < n; j++) {
            double dj = urand();
            if (dj == 0.0) dj = 0.5;
            if (dj < 0.0) want = -want;
            A[(size_t)perm[j] + j * n] = dj; /* column j is d_j e_{perm(j)} */
        }
        dmat m = {n, A, 0, 0, 0};
        ab_linop op = dm_op(&m, 0);
        ab_linsol *d = make(t, AB_LINSOL_DENSE, n, NULL, "det");
        int got = 0;
        if (d && ab_linsol_setup(d, &op, &err) == AB_OK && ab_linsol_det_sign(d, &got, &err) == AB_OK) agree += got == want;
        total++;
        ab_linsol_destroy(d);
    }
    ab_check(t, agree == total, "det sign of permutation x diagonal matrices: %d/%d", agree, total);
    /* GMRES has no factors; nor has a dense solver before setup */
    ab_linsol *g = make(t, AB_LINSOL_GMRES, 4, NULL, "det"), *d = make(t, AB_LINSOL_DENSE, 4, NULL, "det");
    int s = 0;
    ab_check(t, ab_linsol_det_sign(g, &s, &err) == AB_EINVAL, "det sign with GMRES is AB_EINVAL: %s", err.msg);
    ab_check(t, ab_linsol_det_sign(d, &s, &err) == AB_EINVAL, "det sign before setup is AB_EINVAL");
    ab_linsol_destroy(g);
    ab_linsol_destroy(d);
}

/* ---- bordered operators --------------------------------------------------------------- */

/* [A B; C^T D] assembled by hand */
static double *assemble_bordered(const double *A, size_t n, int k, const double *B, const double *C, const double *D)
{
    const size_t N = n + (size_t)k;
    double *M = vec(N * N);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) M[i + j * N] = A[i + j * n];
    for (int q = 0; q < k; q++) {
        for (size_t i = 0; i < n; i++) {
            M[i + (n + (size_t)q) * N] = B[i + (size_t)q * n];
            M[(n + (size_t)q) + i * N] = C[i + (size_t)q * n];
        }
        for (int r = 0; r < k; r++) M[(n + (size_t)q) + (n + (size_t)r) * N] = D[q + (size_t)r * k];
    }
    return M;
}

/* apply, transpose and matrix of ab_bordered_linop against M; dense and GMRES solves of
 * M z = f (and M^T z = f) against dgesv on M */
static void bordered_case(ab_tally *t, const char *what, const double *A, size_t n, int k, const double *B, const double *C,
                          const double *D, int a_flags)
{
    const size_t N = n + (size_t)k;
    double *M = assemble_bordered(A, n, k, B, C, D);
    dmat m = {n, A, 0, 0, 0};
    ab_linop aop = dm_op(&m, a_flags);
    ab_bordered bo = {&aop, k, B, C, D};
    ab_linop op;
    ab_bordered_linop(&bo, &op);
    ab_error err = {0};
    ab_check(t, op.n == N && op.ctx == &bo && (op.matrix != NULL) == ((a_flags & OP_MAT) != 0) &&
                    (op.apply_transpose != NULL) == ((a_flags & OP_T) != 0),
             "%s: bordered linop of size n + k with matrix/transpose where A has them", what);
    double *x = rand_vec(N), *y = vec(N), *xr = vec(N), *z = vec(N);
    /* apply and transpose: the same products summed in another order, so within n eps of
     * |M| |x| (1e-13 relative to |M|_F |x| covers n <= 400) */
    const double mx = norm(M, N * N) * norm(x, N);
    for (int tr = 0; tr < 2; tr++) {
        if (tr && !op.apply_transpose) continue;
        ab_status st = tr ? op.apply_transpose(op.ctx, x, y, &err) : op.apply(op.ctx, x, y, &err);
        for (size_t i = 0; i < N; i++) {
            long double s = 0.0L;
            for (size_t j = 0; j < N; j++) s += (long double)(tr ? M[j + i * N] : M[i + j * N]) * x[j];
            z[i] = (double)s;
        }
        double e = diff_norm(y, z, N);
        ab_check(t, st == AB_OK && e <= 1e-13 * mx, "%s: %s agrees with the assembled matrix (%.2e <= 1e-13 |M| |x|)", what,
                 tr ? "apply_transpose" : "apply", e / mx);
    }
    if (op.matrix) {
        /* into a larger leading dimension: the copy is exact, padding untouched */
        const size_t ld = N + 3;
        double *W = vec(ld * N);
        for (size_t i = 0; i < ld * N; i++) W[i] = -7.0;
        ab_status st = op.matrix(op.ctx, W, ld, &err);
        int same = st == AB_OK;
        for (size_t j = 0; j < N; j++) {
            for (size_t i = 0; i < N; i++) same &= W[i + j * ld] == M[i + j * N];
            for (size_t i = N; i < ld; i++) same &= W[i + j * ld] == -7.0;
        }
        ab_check(t, same, "%s: matrix = [A B; C^T D] exactly (lda = n + k + 3)", what);
        free(W);
    }
    /* solves: cond(M) is checked small so that rtol 1e-14 bounds the forward error well
     * below 1e-12 */
    double kappa = cond2(M, N), mnorm = norm2_mat(M, N);
    ab_check(t, kappa < 50.0, "%s: cond [A B; C^T D] = %.3g < 50", what, kappa);
    ab_linsol_params p;
    ab_linsol_params_default(&p);
    p.rtol = 1e-14;
    double *f = rand_vec(N);
    for (int type = 0; type < 2; type++) {
        const char *nm = type ? "gmres" : "dense";
        ab_linsol *ls = make(t, type ? AB_LINSOL_GMRES : AB_LINSOL_DENSE, N, &p, what);
        if (!ls || ab_linsol_setup(ls, &op, &err)) {
            ab_check(t, 0, "%s %s: setup %s", what, nm, err.msg);
            ab_linsol_destroy(ls);
            continue;
        }
        for (int tr = 0; tr < 2; tr++) {
            if (tr && type == 1 && !op.apply_transpose) continue;
            direct_solve(M, N, tr, f, xr);
            ab_status st = tr ? ab_linsol_solve_transpose(ls, f, z, &err) : ab_linsol_solve(ls, f, z, &err);
            double e = diff_norm(z, xr, N) / norm(xr, N);
            ab_check(t, st == AB_OK && e <= 1e-12,
                     "%s %s%s: = dgesv on the assembled matrix to %.2e (tol 1e-12; cond %.3g x rtol 1e-14) %s", what, nm,
                     tr ? " transposed" : "", e, kappa, st ? err.msg : "");
            ab_check(t, resid(M, N, tr, z, f) <= promised(p.rtol, mnorm, z, f, N), "%s %s%s: residual within the promise",
                     what, nm, tr ? " transposed" : "");
        }
        ab_linsol_destroy(ls);
    }
    free(M); free(x); free(y); free(xr); free(z); free(f);
}

static void bordered(ab_tally *t)
{
    const size_t n = 40;
    char what[96];
    for (int k = 1; k <= 3; k++) {
        double *A = rand_wellcond(n), *B = rand_vec(n * (size_t)k), *C = rand_vec(n * (size_t)k),
               *D = rand_vec((size_t)(k * k));
        for (size_t i = 0; i < n * (size_t)k; i++) {
            B[i] *= 0.3;
            C[i] *= 0.3;
        }
        for (int q = 0; q < k; q++) D[q + q * k] += 3.0;
        for (int flags = 0; flags <= 3; flags++) {
            snprintf(what, sizeof what, "bordered k=%d (A:%s%s)", k, flags & OP_T ? " transpose" : "",
                     flags & OP_MAT ? " matrix" : " mat-vec only");
            bordered_case(t, what, A, n, k, B, C, D, flags);
        }
        free(A); free(B); free(C); free(D);
    }
    /* singular A, nonsingular border: A = U diag(s) V^T with k zero singular values, B
     * spanning the left null space (U's last k columns), C the right one (V's last k),
     * D = 0; [A B; C^T 0] is nonsingular (docs/theory.md, "Linear solvers") */
    for (int k = 1; k <= 3; k++) {
        double *U = rand_orth(n), *V = rand_orth(n), *s = vec(n);
        for (size_t i = 0; i < n; i++) s[i] = i < n - (size_t)k ? 1.0 + (double)i / (double)n : 0.0;
        double *A = usv(n, s, U, V), *B = vec(n * (size_t)k), *C = vec(n * (size_t)k), *D = vec((size_t)(k * k));
        for (int q = 0; q < k; q++)
            for (size_t i = 0; i < n; i++) {
                /* null vectors plus a range component: the border need only not be
                 * orthogonal to the null spaces */
                B[i + (size_t)q * n] = U[i + (n - (size_t)k + (size_t)q) * n] + 0.2 * U[i + (size_t)q * n];
                C[i + (size_t)q * n] = V[i + (n - (size_t)k + (size_t)q) * n] - 0.2 * V[i + (size_t)(q + 1) * n];
            }
        double ka = cond2(A, n);
        ab_check(t, ka > 1e14, "singular A k=%d: A numerically singular (cond %.2g)", k, ka);
        snprintf(what, sizeof what, "bordered singular A k=%d", k);
        bordered_case(t, what, A, n, k, B, C, D, OP_T | OP_MAT);
        free(U); free(V); free(s); free(A); free(B); free(C); free(D);
    }
    /* exactly singular A (last row and column zero: dense refuses it), bordered by e_n */
    {
        double *A = rand_wellcond(n), B[40] = {0}, C[40] = {0}, D[1] = {0};
        for (size_t i = 0; i < n; i++) A[(n - 1) + i * n] = A[i + (n - 1) * n] = 0.0;
        B[n - 1] = C[n - 1] = 1.0;
        dmat m = {n, A, 0, 0, 0};
        ab_linop aop = dm_op(&m, OP_MAT | OP_T);
        ab_linsol *d = make(t, AB_LINSOL_DENSE, n, NULL, "exactly singular");
        ab_error err = {0};
        ab_check(t, ab_linsol_setup(d, &aop, &err) == AB_ELINALG, "exactly singular A alone: AB_ELINALG");
        ab_linsol_destroy(d);
        bordered_case(t, "bordered exactly singular A by e_n", A, n, 1, B, C, D, OP_T | OP_MAT);
        free(A);
    }
}

/* ---- the zonal Jacobian --------------------------------------------------------------- */

typedef struct {
    size_t n;
    const double *J;
} jctx;

static void zonal_jacobian(ab_tally *t, const char *yaml, const char *what)
{
    ab_spec spec;
    ab_error err = {0};
    if (!ab_check(t, ab_spec_parse_string(yaml, "linsol.yaml", &spec, &err) == AB_OK, "%s: spec %s", what, err.msg)) return;
    ab_disc *disc = NULL;
    ab_newton *nw = NULL;
    if (!ab_check(t, ab_disc_create_from_spec(&spec, &disc, &err) == AB_OK, "%s: disc %s", what, err.msg)) return;
    size_t n = ab_disc_dim(disc);
    double *u = vec(n), *J = vec(n * n), *b = vec(n), *xd = vec(n), *xg = vec(n), *xr = vec(n);
    ab_newton_opts opts = {1e-12, 50, NULL, NULL};
    ab_newton_report rep;
    if (ab_newton_create(n, &nw, &err) == AB_OK && ab_disc_initial_guess(disc, &spec.state, u, &err) == AB_OK &&
        ab_check(t, ab_newton_solve(nw, disc, u, &opts, &rep, &err) == AB_OK, "%s: Newton %s", what, err.msg) &&
        ab_check(t, ab_disc_jacobian(disc, u, J, &err) == AB_OK, "%s: Jacobian %s", what, err.msg)) {
        /* the right-hand side Newton sees: the residual at a perturbed state */
        for (size_t i = 0; i < n; i++) xr[i] = u[i] + 1e-3 * urand();
        ab_disc_residual(disc, xr, b, &err);
        dmat m = {n, J, 0, 0, 0};
        ab_linop op = dm_op(&m, OP_T | OP_MAT);
        ab_linsol_params p;
        ab_linsol_params_default(&p);
        double kappa = cond2(J, n);
        /* forward error <= cond x backward error: with cond(J) ~ 1e2 the default rtol 1e-13
         * is too loose for 1e-12, so ask for the rounding floor (rtol 1e-16) */
        p.rtol = 1e-16;
        ab_linsol *d = make(t, AB_LINSOL_DENSE, n, NULL, what), *g = make(t, AB_LINSOL_GMRES, n, &p, what);
        if (d && g && ab_linsol_setup(d, &op, &err) == AB_OK && ab_linsol_setup(g, &op, &err) == AB_OK) {
            ab_status sd = ab_linsol_solve(d, b, xd, &err);
            ab_status sg = ab_linsol_solve(g, b, xg, &err);
            double e = diff_norm(xg, xd, n) / norm(xd, n);
            ab_check(t, sd == AB_OK && sg == AB_OK && e <= 1e-12,
                     "%s: GMRES (%d iterations) = dense on the Jacobian (n = %zu, cond %.3g) to %.2e (tol 1e-12) %s", what,
                     ab_linsol_last_iterations(g), n, kappa, e, err.msg);
            for (int tr = 0; tr < 2; tr++) {
                sd = tr ? ab_linsol_solve_transpose(d, b, xd, &err) : ab_linsol_solve(d, b, xd, &err);
                direct_solve(J, n, tr, b, xr);
                e = diff_norm(xd, xr, n) / norm(xr, n);
                ab_check(t, sd == AB_OK && e <= 1e-12, "%s: dense%s = dgesv to %.2e", what, tr ? " transposed" : "", e);
            }
            sg = ab_linsol_solve_transpose(g, b, xg, &err);
            e = diff_norm(xg, xr, n) / norm(xr, n);
            ab_check(t, sg == AB_OK && e <= 1e-12, "%s: GMRES transposed = dgesv to %.2e", what, e);
        }
        ab_linsol_destroy(d);
        ab_linsol_destroy(g);
    }
    ab_newton_destroy(nw);
    ab_disc_destroy(disc);
    free(u); free(J); free(b); free(xd); free(xg); free(xr);
}

/* linear_solver: {type: auto} resolves to dense up to AB_LINSOL_AUTO_DENSE_MAX unknowns and
 * to GMRES above (the crossover of docs/benchmarks.md, "Linear solvers"); an explicit type
 * holds at any size. */
static void auto_type(ab_tally *t)
{
    static const char *const yaml[3] = {"model: SA\nd: 3\nbeta: 4\nkappa: 0.1\n",
                                        "model: SA\nd: 3\nbeta: 4\nkappa: 0.1\nlinear_solver: {type: dense}\n",
                                        "model: SA\nd: 3\nbeta: 4\nkappa: 0.1\nlinear_solver: {type: gmres}\n"};
    ab_spec spec[3];
    for (int i = 0; i < 3; i++) {
        ab_error err = {0};
        if (!ab_check(t, ab_spec_parse_string(yaml[i], "auto.yaml", &spec[i], &err) == AB_OK, "auto: spec %d parses %s", i, err.msg))
            return;
    }
    const size_t at = AB_LINSOL_AUTO_DENSE_MAX;
    ab_check(t, spec[0].linear_solver.type == AB_LINSOL_AUTO && ab_spec_linsol_type(&spec[0], 8) == AB_LINSOL_DENSE &&
                    ab_spec_linsol_type(&spec[0], at) == AB_LINSOL_DENSE &&
                    ab_spec_linsol_type(&spec[0], at + 1) == AB_LINSOL_GMRES &&
                    ab_spec_linsol_type(&spec[0], 4096) == AB_LINSOL_GMRES,
             "linear_solver auto (the default): dense for n <= %zu, GMRES above", at);
    /* docs/spec.md: the smallest grid nodes: auto uses is already past the crossover */
    ab_check(t, ab_spec_linsol_type(&spec[0], AB_NODES_AUTO_START) == AB_LINSOL_GMRES,
             "linear_solver auto: GMRES from the first nodes: auto grid (%d nodes) up", AB_NODES_AUTO_START);
    ab_check(t, ab_spec_linsol_type(&spec[1], 4096) == AB_LINSOL_DENSE && ab_spec_linsol_type(&spec[2], 8) == AB_LINSOL_GMRES,
             "an explicit linear_solver type holds at any size");
}

int main(void)
{
    ab_tally t = {0};
    auto_type(&t);
    const size_t ns[] = {1, 2, 5, 50, 300};
    for (int i = 0; i < 5; i++) dense_vs_gmres(&t, ns[i], AB_GMRES_RESTART);
    dense_vs_gmres(&t, 50, 5);
    dense_vs_gmres(&t, 300, 5);
    for (int e = 8; e <= 16; e += 3) {
        ill_conditioned(&t, e, 0, 50);
        ill_conditioned(&t, e, 1, 50);
    }
    ill_conditioned(&t, 8, 0, 200);
    ill_conditioned(&t, 8, 1, 200);
    singular(&t);
    zero_rhs_and_alias(&t);
    transposed(&t);
    matrix_free(&t);
    preconditioners(&t);
    failures(&t);
    det_sign(&t);
    bordered(&t);
    zonal_jacobian(&t, "model: SA\nd: 3\nbeta: 4\nkappa: 0.1\ndiscretization: {nodes: 48}\nstate: {type: cluster}\n",
                   "SA d=3 beta=4 kappa=0.1 cluster");
    zonal_jacobian(&t, "model: USA\nd: 5\nbeta: 2\nkappa: 0.05\ndiscretization: {nodes: 64}\nstate: {type: cluster}\n",
                   "USA d=5 beta=2 kappa=0.05 cluster");
    return ab_finish(&t);
}
