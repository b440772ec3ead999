/* The eigensolver interface (attnbif/eigs.h): ARPACK on the mat-vec and on shift-invert
 * solves (dense LU and GMRES) against dense LAPACK, on a matrix with a known spectrum, on a
 * mat-vec-only operator and on the sector operators of smooth and sharp states at
 * N = 64..512 (docs/testing.md). */
#include "attnbif/eigs.h"
#include "attnbif/results.h"
#include "solve/dense_op.h"
#include "testutil.h"

#include <complex.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Agreement of the rightmost eigenvalues: |lambda_arpack - lambda_dense| <= TOL max(1, |lambda|). */
#define AGREE_TOL 1e-10
#define COMPARED 10
/* The matrix with a known spectrum (|A| ~ 12): eigenvalues to KNOWN_TOL max(1, |lambda|)
 * (measured <= 1.9e-15), eigenvector residuals |A v - lambda v| / (|v| max(1, |lambda|)) to
 * KNOWN_VEC_TOL (measured <= 4.5e-15), ARPACK's error estimates at most KNOWN_ERR_MAX
 * (measured <= 5.1e-13: they must bound the error without being vacuous). */
#define KNOWN_TOL 1e-14
#define KNOWN_VEC_TOL 5e-14
#define KNOWN_ERR_MAX 5e-12

typedef struct {
    ab_eigs_method method;
    ab_linsol_type linsol;
    const char *name;
} variant;

static const variant ARPACK_VARIANTS[] = {
    {AB_EIGS_ARPACK_MATVEC, AB_LINSOL_DENSE, "arpack-matvec"},
    {AB_EIGS_ARPACK_SHIFT_INVERT, AB_LINSOL_DENSE, "shift-invert/dense"},
    {AB_EIGS_ARPACK_SHIFT_INVERT, AB_LINSOL_GMRES, "shift-invert/gmres"},
};
#define N_VARIANTS 3

static ab_status create_variant(const variant *v, size_t n, int k, const ab_precond *pc, double rtol, ab_eigs **out,
                                ab_error *err)
{
    ab_eigs_params p;
    ab_eigs_params_default(&p, v->method);
    p.k = k;
    p.linsol = v->linsol;
    if (pc) p.precond = *pc;
    if (rtol > 0.0) p.linsol_params.rtol = rtol;
    return ab_eigs_create(n, &p, out, err);
}

/* GMRES's tolerance on the sector operators: the eigensolver's default for shift-invert,
 * AB_EIGS_GMRES_RTOL (A - sigma I is nearly singular there: sigma = 1e-10 ||A||, and the
 * rotation mode of sector 1 is exactly 0; docs/theory.md, "Eigensolvers"). The solve
 * errors lie along the near-null eigenvectors, which leaves the other eigenvalues of the
 * inverse in place, and the two-sided Rayleigh refinement restores full accuracy. */
#define SECTOR_GMRES_RTOL 0.0 /* 0: the default */
/* ... and on the known-spectrum matrix, which is well conditioned: GMRES's own default. */
#define KNOWN_GMRES_RTOL AB_GMRES_RTOL

/* A GMRES preconditioner for A - sigma I: its LU in single precision (as in mixed-precision
 * iterative refinement). Unpreconditioned GMRES(60) stagnates on the sector operators
 * (condition numbers ~1e10, with sigma = 1e-10 ||A||): this one leaves A M^{-1} within
 * ~1e-7 ||A|| ||M^{-1}|| of I apart from the few eigenvalues near sigma, which GMRES
 * resolves in a few extra iterations. */
typedef struct {
    size_t n;
    double *A;
    float *LU, *r;
    lapack_int *ipiv;
} float_lu;

static ab_status float_lu_setup(void *ctx, const ab_linop *op, ab_error *err)
{
    float_lu *f = ctx;
    const size_t n = f->n = op->n;
    ab_status st = op->matrix(op->ctx, f->A, n, err);
    if (st) return st;
    for (size_t i = 0; i < n * n; i++) f->LU[i] = (float)f->A[i];
    if (LAPACKE_sgetrf(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, f->LU, (lapack_int)n, f->ipiv))
        return ab_error_set(err, AB_ELINALG, "single-precision LU failed");
    return AB_OK;
}

static ab_status float_lu_apply(void *ctx, const double *r, double *z, ab_error *err)
{
    (void)err;
    float_lu *f = ctx;
    for (size_t i = 0; i < f->n; i++) f->r[i] = (float)r[i];
    LAPACKE_sgetrs(LAPACK_COL_MAJOR, 'N', (lapack_int)f->n, 1, f->LU, (lapack_int)f->n, f->ipiv, f->r, (lapack_int)f->n);
    for (size_t i = 0; i < f->n; i++) z[i] = f->r[i];
    return AB_OK;
}

/* A mat-vec-only view of a dense operator (no transpose, no matrix). */
static ab_status matvec_only_apply(void *ctx, const double *x, double *y, ab_error *err)
{
    const ab_linop *A = ctx;
    return A->apply(A->ctx, x, y, err);
}

/* ---- a matrix with a known spectrum ------------------------------------------------------ */

/* A = Q D Q^T with D block diagonal: real eigenvalues on the diagonal, 2 x 2 blocks
 * [a b; -b a] for the pairs a +- ib; Q orthogonal from the QR of a fixed matrix. */
static void known_matrix(int n, const double *reals, int n_real, const double (*pairs)[2], int n_pairs, double *A)
{
    double *D = calloc((size_t)n * n, sizeof(double)), *Q = malloc(sizeof(double) * (size_t)n * n),
           *T = malloc(sizeof(double) * (size_t)n * n), tau[64];
    int i = 0;
    for (int r = 0; r < n_real; r++, i++) D[i + (size_t)i * n] = reals[r];
    for (int q = 0; q < n_pairs; q++, i += 2) {
        D[i + (size_t)i * n] = D[i + 1 + (size_t)(i + 1) * n] = pairs[q][0];
        D[i + (size_t)(i + 1) * n] = pairs[q][1];
        D[i + 1 + (size_t)i * n] = -pairs[q][1];
    }
    for (int c = 0; c < n; c++)
        for (int r = 0; r < n; r++) Q[r + (size_t)c * n] = sin(1.0 + r + 3.7 * c) + (r == c ? 2.0 : 0.0);
    LAPACKE_dgeqrf(LAPACK_COL_MAJOR, n, n, Q, n, tau);
    LAPACKE_dorgqr(LAPACK_COL_MAJOR, n, n, n, Q, n, tau);
    for (int c = 0; c < n; c++) /* T = D Q^T, A = Q T */
        for (int r = 0; r < n; r++) {
            double s = 0.0;
            for (int m = 0; m < n; m++) s += D[r + (size_t)m * n] * Q[c + (size_t)m * n];
            T[r + (size_t)c * n] = s;
        }
    for (int c = 0; c < n; c++)
        for (int r = 0; r < n; r++) {
            double s = 0.0;
            for (int m = 0; m < n; m++) s += Q[r + (size_t)m * n] * T[m + (size_t)c * n];
            A[r + (size_t)c * n] = s;
        }
    free(D); free(Q); free(T);
}

/* Each computed eigenvalue equals the expected one at its place (both sorted by re
 * descending, pairs positive imaginary part first), and lies within its error estimate. */
static void check_list(ab_tally *t, const char *what, int found, const double *re, const double *im, const double *errs,
                       int n_expect, const double *ere, const double *eim, double tol)
{
    if (!ab_check(t, found == n_expect, "%s: %d eigenvalues found (want %d)", what, found, n_expect)) return;
    double worst = 0.0;
    int sorted = 1, honest = 1;
    for (int i = 0; i < found; i++) {
        double d = hypot(re[i] - ere[i], im[i] - eim[i]);
        worst = fmax(worst, d / fmax(1.0, hypot(ere[i], eim[i])));
        honest &= d <= errs[i];
        if (i > 0) sorted &= re[i] <= re[i - 1];
    }
    ab_check(t, worst <= tol, "%s: eigenvalues agree, max diff %.2e (relative to max(1,|lambda|)) <= %.0e", what, worst, tol);
    ab_check(t, sorted, "%s: sorted by re descending", what);
    ab_check(t, honest, "%s: each difference within its error estimate", what);
}

/* Residual |A v - lambda v| / |v| of the eigenvectors returned (LAPACK storage). */
static double vector_residual(const double *A, int n, int found, const double *re, const double *im, const double *V)
{
    double worst = 0.0;
    for (int j = 0; j < found; j++) {
        const int pair = im[j] != 0.0;
        const double *vr = V + (size_t)j * n, *vi = pair ? V + (size_t)(j + 1) * n : NULL;
        double complex lam = re[j] + I * im[j];
        double rn = 0.0, vn = 0.0;
        for (int r = 0; r < n; r++) {
            double complex av = 0.0, vr_ = vr[r] + (pair ? I * vi[r] : 0.0);
            for (int c = 0; c < n; c++) av += A[r + (size_t)c * n] * (vr[c] + (pair ? I * vi[c] : 0.0));
            double complex res = av - lam * vr_;
            rn += creal(res * conj(res));
            vn += creal(vr_ * conj(vr_));
        }
        worst = fmax(worst, sqrt(rn / vn) / fmax(1.0, cabs(lam)));
        if (pair) j++;
    }
    return worst;
}

static void known_spectrum(ab_tally *t)
{
    /* n = 14: rightmost 1.0, then the pair 0.5 +- 2i, 0.2, ...; nearest 0: -0.1, 0.2, -0.7, 1.0 */
    const int n = 14;
    const double reals[] = {1.0, 0.2, -0.1, -0.7, -1.5, -3.0, -4.5, -6.0, -8.0, -10.0}, pairs[][2] = {{0.5, 2.0}, {-2.0, 5.0}};
    double A[14 * 14], re[14], im[14], er[14], V[14 * 14];
    known_matrix(n, reals, 10, pairs, 2, A);
    ab_dense_op dop = {A, (size_t)n, (size_t)n};
    ab_linop full, mv;
    ab_dense_op_linop(&dop, &full);
    mv = (ab_linop){.n = (size_t)n, .apply = matvec_only_apply, .ctx = &full};
    const double all_re[] = {1.0, 0.5, 0.5, 0.2, -0.1, -0.7, -1.5, -2.0, -2.0, -3.0, -4.5, -6.0, -8.0, -10.0};
    const double all_im[] = {0.0, 2.0, -2.0, 0.0, 0.0, 0.0, 0.0, 5.0, -5.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    const double near_re[] = {1.0, 0.2, -0.1, -0.7}, near_im[] = {0, 0, 0, 0};
    for (int with_matrix = 1; with_matrix >= 0; with_matrix--) {
        const ab_linop *op = with_matrix ? &full : &mv;
        const char *opname = with_matrix ? "matrix" : "mat-vec only";
        ab_eigs *e;
        ab_error err = {0};
        int found = 0;
        char what[160];
        /* dense: all 14 */
        ab_eigs_params p;
        ab_eigs_params_default(&p, AB_EIGS_DENSE);
        if (ab_check(t, ab_eigs_create((size_t)n, &p, &e, &err) == AB_OK, "dense create %s", err.msg)) {
            snprintf(what, sizeof what, "known spectrum, dense, %s", opname);
            if (ab_check(t, ab_eigs_compute(e, op, &found, re, im, er, V, &err) == AB_OK, "%s: %s", what, err.msg)) {
                check_list(t, what, found, re, im, er, n, all_re, all_im, KNOWN_TOL);
                double vres = vector_residual(A, n, found, re, im, V);
                ab_check(t, vres <= KNOWN_VEC_TOL, "%s: eigenvectors |Av - lambda v|/|v| = %.2e <= %.0e", what, vres, KNOWN_VEC_TOL);
            }
            ab_eigs_destroy(e);
        }
        for (int v = 0; v < N_VARIANTS; v++) {
            const variant *var = &ARPACK_VARIANTS[v];
            const int matvec = var->method == AB_EIGS_ARPACK_MATVEC;
            snprintf(what, sizeof what, "known spectrum, %s, %s", var->name, opname);
            /* this operator is well conditioned away from sigma: GMRES can solve to rounding
             * here, and the eigenvectors and error bounds are held to that */
            const double rtol = var->linsol == AB_LINSOL_GMRES ? KNOWN_GMRES_RTOL : 0.0;
            if (!ab_check(t, create_variant(var, (size_t)n, 4, NULL, rtol, &e, &err) == AB_OK, "%s: create %s", what, err.msg))
                continue;
            ab_status st = ab_eigs_compute(e, op, &found, re, im, er, V, &err);
            if (ab_check(t, st == AB_OK, "%s: %s", what, err.msg)) {
                /* LR: the rightmost four (1, the pair, 0.2); shift-invert: the four nearest 0 */
                check_list(t, what, found, re, im, er, 4, matvec ? all_re : near_re, matvec ? all_im : near_im, KNOWN_TOL);
                double vres = vector_residual(A, n, found, re, im, V);
                ab_check(t, vres <= KNOWN_VEC_TOL, "%s: eigenvectors |Av - lambda v|/|v| = %.2e <= %.0e", what, vres, KNOWN_VEC_TOL);
                double emax = 0.0;
                for (int i = 0; i < found; i++) emax = fmax(emax, er[i]);
                ab_check(t, emax <= KNOWN_ERR_MAX, "%s: error estimates not vacuous (max %.2e <= %.0e)", what, emax, KNOWN_ERR_MAX);
            }
            ab_eigs_destroy(e);
        }
    }
    /* the determinant-sign check: a real eigenvalue +50 far right of the four nearest 0 */
    {
        const double far[] = {50.0, 0.2, -0.1, -0.7, -1.5, -3.0, -4.5, -6.0, -8.0, -10.0};
        known_matrix(n, far, 10, pairs, 2, A);
        ab_eigs *e;
        ab_error err = {0};
        int found = 5;
        create_variant(&ARPACK_VARIANTS[1], (size_t)n, 4, NULL, 0.0, &e, &err);
        ab_status st = ab_eigs_compute(e, &full, &found, re, im, er, NULL, &err);
        ab_check(t, st == AB_ENOCONV && found == 0 && strstr(err.msg, "determinant"),
                 "shift-invert/dense refuses when a real eigenvalue lies right of those nearest 0 (%s)", err.msg);
        ab_eigs_destroy(e);
        /* LR on the mat-vec finds it */
        create_variant(&ARPACK_VARIANTS[0], (size_t)n, 4, NULL, 0.0, &e, &err);
        st = ab_eigs_compute(e, &full, &found, re, im, er, NULL, &err);
        ab_check(t, st == AB_OK && found >= 1 && fabs(re[0] - 50.0) <= 1e-12 * 50.0,
                 "arpack-matvec finds the outlier +50 first (%.15g)", found ? re[0] : NAN);
        ab_eigs_destroy(e);
    }
    /* bad input: k too large for n, operator larger than the solver */
    {
        ab_eigs *e;
        ab_error err = {0};
        int found;
        create_variant(&ARPACK_VARIANTS[0], (size_t)n, 12, NULL, 0.0, &e, &err);
        ab_check(t, ab_eigs_compute(e, &full, &found, re, im, er, NULL, &err) == AB_EINVAL && strstr(err.msg, "k <= n - 3"),
                 "k > n - 3 refused (%s)", err.msg);
        ab_eigs_destroy(e);
        create_variant(&ARPACK_VARIANTS[0], 8, 2, NULL, 0.0, &e, &err);
        ab_check(t, ab_eigs_compute(e, &full, &found, re, im, er, NULL, &err) == AB_EINVAL && strstr(err.msg, "size"),
                 "operator larger than the solver refused (%s)", err.msg);
        ab_eigs_destroy(e);
    }
}

/* ---- sector operators of solved states ---------------------------------------------------- */

/* The state of a spec solved at a forced node count (Newton from the spec's guess). */
static int solved_state(ab_tally *t, const char *yaml, int nodes, ab_disc **disc, double **u, const char *what)
{
    ab_spec spec;
    ab_error err = {0};
    char full[600];
    snprintf(full, sizeof full, "%sdiscretization: {nodes: %d}\n", yaml, nodes);
    if (!ab_check(t, ab_spec_parse_string(full, "eigs.yaml", &spec, &err) == AB_OK, "%s: spec %s", what, err.msg)) return 0;
    if (!ab_check(t, ab_disc_create_from_spec(&spec, disc, &err) == AB_OK, "%s: discretisation %s", what, err.msg)) return 0;
    size_t n = ab_disc_dim(*disc);
    ab_newton *nw;
    *u = malloc(sizeof(double) * n);
    ab_newton_create(n, &nw, &err);
    ab_newton_opts opts = {1e-11, 50, NULL, NULL};
    ab_newton_report rep;
    int ok = ab_initial_state(*disc, &spec.state, *u, &err) == AB_OK && ab_newton_solve(nw, *disc, *u, &opts, &rep, &err) == AB_OK;
    ab_newton_destroy(nw);
    if (!ab_check(t, ok, "%s: state %s", what, err.msg)) {
        ab_disc_destroy(*disc);
        free(*u);
        return 0;
    }
    return 1;
}

static double worst_seen[N_VARIANTS];

static void compare_sectors(ab_tally *t, const char *yaml, int nodes, int max_sector, int stride, const char *name)
{
    char w0[200];
    snprintf(w0, sizeof w0, "%s N=%d", name, nodes);
    ab_disc *disc;
    double *u;
    if (!solved_state(t, yaml, nodes, &disc, &u, w0)) return;
    const size_t dim = ab_disc_dim(disc);
    ab_eigs *dense, *arp[N_VARIANTS];
    ab_eigs_params p;
    ab_error err = {0};
    ab_eigs_params_default(&p, AB_EIGS_DENSE);
    ab_eigs_create(dim, &p, &dense, &err);
    float_lu flu = {0, malloc(sizeof(double) * dim * dim), malloc(sizeof(float) * dim * dim), malloc(sizeof(float) * dim),
                    malloc(sizeof(lapack_int) * dim)};
    const ab_precond pc = {float_lu_setup, float_lu_apply, &flu};
    for (int v = 0; v < N_VARIANTS; v++) {
        const int gmres = ARPACK_VARIANTS[v].linsol == AB_LINSOL_GMRES;
        create_variant(&ARPACK_VARIANTS[v], dim, AB_EIGS_K, gmres ? &pc : NULL, gmres ? SECTOR_GMRES_RTOL : 0.0, &arp[v], &err);
    }
    double *dre = malloc(sizeof(double) * dim), *dim_ = malloc(sizeof(double) * dim), *derr = malloc(sizeof(double) * dim);
    double re[AB_EIGS_K + 1], im[AB_EIGS_K + 1], er[AB_EIGS_K + 1];
    for (int m = 0; m <= max_sector; m += (m < 2 ? 1 : stride)) {
        ab_sector_op op;
        if (!ab_check(t, ab_disc_sector_operator(disc, u, m, &op, &err) == AB_OK, "%s: sector %d %s", w0, m, err.msg)) continue;
        ab_dense_op dop = {op.matrix, (size_t)op.dim, (size_t)op.dim};
        ab_linop A;
        ab_dense_op_linop(&dop, &A);
        int nd = 0;
        if (!ab_check(t, ab_eigs_compute(dense, &A, &nd, dre, dim_, derr, NULL, &err) == AB_OK, "%s sector %d: dense %s", w0,
                      m, err.msg))
            continue;
        for (int v = 0; v < N_VARIANTS; v++) {
            int found = 0;
            ab_status st = ab_eigs_compute(arp[v], &A, &found, re, im, er, NULL, &err);
            if (!ab_check(t, st == AB_OK && found >= COMPARED, "%s sector %d (dim %d) %s: %d found %s", w0, m, op.dim,
                          ARPACK_VARIANTS[v].name, found, st ? err.msg : ""))
                continue;
            double worst = 0.0, worst_abs = 0.0;
            int honest = 1;
            for (int i = 0; i < COMPARED; i++) {
                double d = hypot(re[i] - dre[i], im[i] - dim_[i]);
                worst = fmax(worst, d / fmax(1.0, hypot(dre[i], dim_[i])));
                worst_abs = fmax(worst_abs, d);
                honest &= d <= er[i] + derr[i];
            }
            worst_seen[v] = fmax(worst_seen[v], worst);
            ab_check(t, worst <= AGREE_TOL,
                     "%s sector %d (dim %d, rightmost %.4g) %s: %d rightmost agree with dense, max diff %.2e "
                     "(relative to max(1,|lambda|); absolute %.2e) <= %.0e",
                     w0, m, op.dim, dre[0], ARPACK_VARIANTS[v].name, COMPARED, worst, worst_abs, AGREE_TOL);
            ab_check(t, honest, "%s sector %d %s: each difference within the two error estimates", w0, m,
                     ARPACK_VARIANTS[v].name);
        }
    }
    free(dre); free(dim_); free(derr);
    free(flu.A); free(flu.LU); free(flu.r); free(flu.ipiv);
    ab_eigs_destroy(dense);
    for (int v = 0; v < N_VARIANTS; v++) ab_eigs_destroy(arp[v]);
    ab_disc_destroy(disc);
    free(u);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    known_spectrum(&t);
    /* Every sector ARPACK can take (dim >= k + 3 = 15: m <= N - 15) at N = 64, every 8th at
     * N = 128, sectors 0..2 at 256 and 512 (the cost grows like N^3 per sector). */
    const int grid[] = {64, 128, 256, 512}, tops[] = {64 - 15, 128 - 15, 2, 2}, strides[] = {1, 8, 1, 1};
    for (int g = 0; g < 4; g++) {
        const int N = grid[g], top = tops[g], stride = strides[g];
        compare_sectors(&t, "model: SA\nd: 3\nbeta: 4\nkappa: 0.05\nstate: {type: cluster}\n", N, top, stride,
                        "SA d=3 beta=4 kappa=0.05 cluster");
        compare_sectors(&t, "model: SA\nd: 3\nbeta: 4\nkappa: 0.01\nstate: {type: cluster}\n", N, top, stride,
                        "SA d=3 beta=4 kappa=0.01 cluster (sharp)");
        compare_sectors(&t, "model: USA\nd: 3\nbeta: 4\nkappa: 0.05\nstate: {type: cluster}\n", N, top, stride,
                        "USA d=3 beta=4 kappa=0.05 cluster");
        compare_sectors(&t, "model: USA\nd: 3\nbeta: 4\nkappa: 0.3\nstate: {type: uniform}\n", N, top, stride,
                        "USA d=3 beta=4 kappa=0.3 uniform (unstable)");
    }
    for (int v = 0; v < N_VARIANTS; v++)
        printf("# worst relative difference to dense, %s: %.2e\n", ARPACK_VARIANTS[v].name, worst_seen[v]);
    return ab_finish(&t);
}
