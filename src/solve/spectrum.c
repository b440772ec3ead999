/* Stability spectrum: dense eigen-decomposition (LAPACK dgeev) of each sector operator,
 * with the mass and symmetry modes identified by construction, not by size. */
#include "attnbif/solve.h"

#include "solve/arnoldi.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ab_eigensolver {
    int max_dim, dense_max;
    double *A, *wr, *wi, *VR, *work;
    lapack_int lwork;
};

const char *ab_eig_kind_name(ab_eig_kind kind)
{
    switch (kind) {
    case AB_EIG_STABILITY: return "stability";
    case AB_EIG_SYMMETRY: return "symmetry";
    case AB_EIG_MASS: return "mass";
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
    s->wi = malloc(sizeof(double) * max_dim);
    if (!s->A || !s->VR || !s->wr || !s->wi) {
        ab_eigensolver_destroy(s);
        return ab_error_set(err, AB_ENOMEM, "out of memory for the eigensolver (dim %d)", max_dim);
    }
    /* Workspace query once, for the largest size and with eigenvectors. */
    double query;
    lapack_int info = LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', 'V', max_dim, s->A, max_dim, s->wr, s->wi,
                                         NULL, 1, s->VR, max_dim, &query, -1);
    s->lwork = info == 0 ? (lapack_int)query : 4 * max_dim;
    if (s->lwork < 4 * max_dim) s->lwork = 4 * max_dim;
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
    free(s->A); free(s->VR); free(s->wr); free(s->wi); free(s->work);
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
        if (n > s->dense_max && n > AB_ARNOLDI_EIGS + 2) {
            /* large sector: the rightmost eigenvalues only (eigenvectors land in VR in the
             * same real storage as dgeev's, so the symmetry tagging below is unchanged) */
            st = ab_rightmost_eigs(op.matrix, n, AB_ARNOLDI_EIGS, s->wr, s->wi, op.n_symmetry > 0 ? s->VR : NULL, &listed, err);
            if (st) { ab_spectrum_free(spectrum); return st; }
            double lowest = INFINITY;
            for (int i = 0; i < listed; i++) lowest = fmin(lowest, s->wr[i]);
            if (!(lowest < 0.0)) {
                ab_spectrum_free(spectrum);
                return ab_error_set(err, AB_ENOCONV,
                                    "sector %d has at least %d unstable eigenvalues: more than ARPACK was asked for "
                                    "(AB_ARNOLDI_EIGS); the stability count would be incomplete",
                                    op.sector, listed);
            }
            spectrum->partial++;
        } else {
            memcpy(s->A, op.matrix, sizeof(double) * (size_t)n * n);
            char jobvr = op.n_symmetry > 0 ? 'V' : 'N';
            lapack_int info = LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, s->A, n, s->wr, s->wi, NULL, 1,
                                                 s->VR, n, s->work, s->lwork);
            if (info != 0) {
                ab_spectrum_free(spectrum);
                return ab_error_set(err, AB_ELINALG, "eigenvalues of sector %d did not converge (LAPACK dgeev info %d)",
                                    op.sector, (int)info);
            }
        }
        int sym_index = op.n_symmetry > 0 ? most_aligned(s, listed, n, op.symmetry) : -1;
        for (int i = 0; i < listed; i++) {
            ab_eigenvalue *e = &spectrum->values[spectrum->count++];
            e->sector = op.sector;
            e->re = s->wr[i];
            e->im = s->wi[i];
            e->multiplicity = op.multiplicity;
            e->kind = i == sym_index ? AB_EIG_SYMMETRY : AB_EIG_STABILITY;
            if (!isfinite(e->re) || !isfinite(e->im)) {
                ab_spectrum_free(spectrum);
                return ab_error_set(err, AB_ENAN, "sector %d has a non-finite eigenvalue", op.sector);
            }
        }
        if (op.mass_removed) {
            ab_eigenvalue *e = &spectrum->values[spectrum->count++];
            *e = (ab_eigenvalue){op.sector, 0.0, 0.0, 1, AB_EIG_MASS};
        }
    }
    qsort(spectrum->values, (size_t)spectrum->count, sizeof *spectrum->values, by_re_desc);
    for (int i = 0; i < spectrum->count; i++) {
        const ab_eigenvalue *e = &spectrum->values[i];
        if (e->kind == AB_EIG_STABILITY && e->re > 0.0) spectrum->n_unstable += (int)e->multiplicity;
    }
    spectrum->stable = spectrum->n_unstable == 0;
    return AB_OK;
}
