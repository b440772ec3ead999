/* Stability spectrum: dense eigen-decomposition (LAPACK dgeevx, with condition numbers) of
 * each sector operator, the mass and symmetry modes identified by construction, not by size,
 * and every eigenvalue with an error estimate (docs/theory.md, "Eigenvalue errors"). */
#include "attnbif/solve.h"

#include "solve/arnoldi.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ab_eigensolver {
    int max_dim, dense_max;
    double *A, *wr, *wi, *VR, *VL, *scale, *rconde, *rcondv, *eerr, *work;
    lapack_int lwork, *iwork;
};

const char *ab_eig_kind_name(ab_eig_kind kind)
{
    switch (kind) {
    case AB_EIG_STABILITY: return "stability";
    case AB_EIG_SYMMETRY: return "symmetry";
    case AB_EIG_MASS: return "mass";
    case AB_EIG_SLOW: return "slow";
    }
    return "?";
}

ab_status ab_eigensolver_create(int max_dim, ab_eigensolver **out, ab_error *err)
{
    ab_eigensolver *s = calloc(1, sizeof *s);
    if (!s) return ab_error_set(err, AB_ENOMEM, "out of memory");
    size_t nn = (size_t)max_dim * max_dim;
    s->max_dim = max_dim;
    s->dense_max = AB_DENSE_MAX;
    s->A = malloc(sizeof(double) * nn);
    s->VR = malloc(sizeof(double) * nn);
    s->wr = malloc(sizeof(double) * max_dim);
    s->VL = malloc(sizeof(double) * nn);
    s->wi = malloc(sizeof(double) * max_dim);
    s->scale = malloc(sizeof(double) * max_dim);
    s->rconde = malloc(sizeof(double) * max_dim);
    s->rcondv = malloc(sizeof(double) * max_dim);
    s->eerr = malloc(sizeof(double) * max_dim);
    s->iwork = malloc(sizeof(lapack_int) * (2 * (size_t)max_dim + 2));
    if (!s->A || !s->VR || !s->VL || !s->wr || !s->wi || !s->scale || !s->rconde || !s->rcondv || !s->eerr || !s->iwork) {
        ab_eigensolver_destroy(s);
        return ab_error_set(err, AB_ENOMEM, "out of memory for the eigensolver (dim %d)", max_dim);
    }
    /* Workspace query once, for the largest size, both eigenvector sets and RCONDE. */
    double query, abnrm;
    lapack_int ilo, ihi;
    lapack_int info = LAPACKE_dgeevx_work(LAPACK_COL_MAJOR, 'B', 'V', 'V', 'E', max_dim, s->A, max_dim, s->wr, s->wi,
                                          s->VL, max_dim, s->VR, max_dim, &ilo, &ihi, s->scale, &abnrm, s->rconde,
                                          s->rcondv, &query, -1, s->iwork);
    const lapack_int min_lwork = (lapack_int)max_dim * (max_dim + 6);
    s->lwork = info == 0 ? (lapack_int)query : min_lwork;
    if (s->lwork < min_lwork) s->lwork = min_lwork;
    s->work = malloc(sizeof(double) * (size_t)s->lwork);
    if (!s->work) {
        ab_eigensolver_destroy(s);
        return ab_error_set(err, AB_ENOMEM, "out of memory for the eigensolver workspace");
    }
    *out = s;
    return AB_OK;
}

void ab_eigensolver_destroy(ab_eigensolver *s)
{
    if (!s) return;
    free(s->A); free(s->VR); free(s->VL); free(s->wr); free(s->wi); free(s->work);
    free(s->scale); free(s->rconde); free(s->rcondv); free(s->eerr); free(s->iwork);
    free(s);
}

void ab_eigensolver_set_dense_max(ab_eigensolver *solver, int dense_max) { solver->dense_max = dense_max; }

void ab_spectrum_free(ab_spectrum *spectrum)
{
    if (!spectrum) return;
    free(spectrum->values);
    memset(spectrum, 0, sizeof *spectrum);
}

static int by_re_desc(const void *pa, const void *pb)
{
    const ab_eigenvalue *a = pa, *b = pb;
    if (a->re != b->re) return a->re < b->re ? 1 : -1;
    if (a->sector != b->sector) return a->sector - b->sector;
    return a->im < b->im ? 1 : (a->im > b->im ? -1 : 0);
}

/* Index (among the first count) of the real eigenvalue whose eigenvector (length n) is most
 * parallel to sym. */
static int most_aligned(const ab_eigensolver *s, int count, int n, const double *sym)
{
    double snorm = 0.0, best = -1.0;
    int best_i = -1;
    for (int k = 0; k < n; k++) snorm += sym[k] * sym[k];
    snorm = sqrt(snorm);
    for (int i = 0; i < count; i++) {
        if (s->wi[i] != 0.0) continue;
        const double *v = s->VR + (size_t)i * n;
        double dot = 0.0, vn = 0.0;
        for (int k = 0; k < n; k++) { dot += v[k] * sym[k]; vn += v[k] * v[k]; }
        double c = fabs(dot) / (sqrt(vn) * snorm);
        if (c > best) { best = c; best_i = i; }
    }
    return best_i;
}

ab_status ab_spectrum_compute(ab_eigensolver *s, ab_disc *disc, const double *u, const int *sectors,
                              int n_sectors, ab_spectrum *spectrum, ab_error *err)
{
    memset(spectrum, 0, sizeof *spectrum);
    size_t cap = 0;
    for (int q = 0; q < n_sectors; q++) cap += ab_disc_dim(disc) + 1;
    spectrum->values = malloc(sizeof(ab_eigenvalue) * (cap ? cap : 1));
    if (!spectrum->values) return ab_error_set(err, AB_ENOMEM, "out of memory for the spectrum");
    for (int q = 0; q < n_sectors; q++) {
        ab_sector_op op;
        ab_status st = ab_disc_sector_operator(disc, u, sectors[q], &op, err);
        if (st) { ab_spectrum_free(spectrum); return st; }
        if (op.dim > s->max_dim) {
            ab_spectrum_free(spectrum);
            return ab_error_set(err, AB_EINVAL, "sector %d has dimension %d > eigensolver size %d", op.sector, op.dim, s->max_dim);
        }
        const int n = op.dim;
        int listed = n;
        int dense = 1;
        if (n > s->dense_max && n > AB_ARNOLDI_EIGS + 3) {
            /* large sector: the rightmost eigenvalues only (eigenvectors land in VR in the
             * same real storage as dgeevx's, so the symmetry tagging below is unchanged).
             * When ARPACK fails, or cannot vouch for the unstable count (its eigenvalues
             * nearest 0 are all unstable, or the determinant check says one lies further
             * right), the dense decomposition below decides: slower, never wrong. */
            ab_error scratch = {0};
            st = ab_rightmost_eigs(op.matrix, n, AB_ARNOLDI_EIGS, s->wr, s->wi, s->eerr, op.n_symmetry > 0 ? s->VR : NULL,
                                   &listed, &scratch);
            double lowest = INFINITY;
            for (int i = 0; i < listed && !st; i++) lowest = fmin(lowest, s->wr[i] + s->eerr[i]);
            if (st == AB_OK && lowest < 0.0) {
                spectrum->partial++;
                dense = 0;
            } else {
                if (st == AB_ENOMEM) { ab_spectrum_free(spectrum); return ab_error_set(err, st, "%s", scratch.msg); }
                listed = n;
            }
        }
        if (dense) {
            /* dgeevx with balancing (as dgeev does) and the reciprocal condition numbers of
             * the eigenvalues, which need both eigenvector sets */
            memcpy(s->A, op.matrix, sizeof(double) * (size_t)n * n);
            lapack_int ilo, ihi;
            double abnrm;
            lapack_int info = LAPACKE_dgeevx_work(LAPACK_COL_MAJOR, 'B', 'V', 'V', 'E', n, s->A, n, s->wr, s->wi, s->VL, n,
                                                  s->VR, n, &ilo, &ihi, s->scale, &abnrm, s->rconde, s->rcondv,
                                                  s->work, s->lwork, s->iwork);
            if (info != 0) {
                ab_spectrum_free(spectrum);
                return ab_error_set(err, AB_ELINALG, "eigenvalues of sector %d did not converge (LAPACK dgeevx info %d)",
                                    op.sector, (int)info);
            }
            /* LAPACK's error bound eps ||A_balanced||_1 / RCONDE (docs/theory.md) */
            for (int i = 0; i < n; i++) s->eerr[i] = AB_EIG_ERR_SAFETY * DBL_EPSILON * abnrm / fmax(s->rconde[i], DBL_MIN);
        }
        int sym_index = op.n_symmetry > 0 ? most_aligned(s, listed, n, op.symmetry) : -1;
        for (int i = 0; i < listed; i++) {
            ab_eigenvalue *e = &spectrum->values[spectrum->count++];
            e->sector = op.sector;
            e->re = s->wr[i];
            e->im = s->wi[i];
            e->multiplicity = op.multiplicity;
            e->err = s->eerr[i];
            if (i == sym_index) e->kind = AB_EIG_SYMMETRY;
            else if (e->im == 0.0 && fabs(e->re) <= e->err) e->kind = AB_EIG_SLOW;
            else e->kind = AB_EIG_STABILITY;
            if (!isfinite(e->re) || !isfinite(e->im) || !isfinite(e->err)) {
                ab_spectrum_free(spectrum);
                return ab_error_set(err, AB_ENAN, "sector %d has a non-finite eigenvalue", op.sector);
            }
        }
        if (op.mass_removed) {
            ab_eigenvalue *e = &spectrum->values[spectrum->count++];
            *e = (ab_eigenvalue){.sector = op.sector, .re = 0.0, .im = 0.0, .multiplicity = 1, .kind = AB_EIG_MASS, .err = 0.0};
        }
    }
    qsort(spectrum->values, (size_t)spectrum->count, sizeof *spectrum->values, by_re_desc);
    for (int i = 0; i < spectrum->count; i++) {
        const ab_eigenvalue *e = &spectrum->values[i];
        /* a stability eigenvalue has |re| > err or is complex; only re > err counts as unstable */
        if (e->kind == AB_EIG_STABILITY && e->re > e->err) spectrum->n_unstable += e->multiplicity;
        if (e->kind == AB_EIG_SLOW) spectrum->n_slow += e->multiplicity;
    }
    spectrum->stable = spectrum->n_unstable == 0;
    return AB_OK;
}
