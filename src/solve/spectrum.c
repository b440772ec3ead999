/* Stability spectrum: the eigenvalues of each sector operator (all of them by the dense
 * eigensolver, or the rightmost by ARPACK shift-invert for large sectors, attnbif/eigs.h),
 * the mass and symmetry modes identified by construction, not by size, and every
 * eigenvalue with an error estimate (docs/theory.md, "Eigenvalue errors"). */
#include "attnbif/solve.h"

#include "solve/dense_op.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ab_eigensolver {
    int max_dim, dense_max;
    int min_count; /* at least this many eigenvalues per sector (ab_eigensolver_set_min_count) */
    ab_eigs *dense, *arpack; /* arpack: created on the first sector that needs it */
    ab_eigs *arpack_mf;      /* ARPACK with GMRES solves, for operators offered as mat-vecs only */
    ab_eigs *arpack_lr;      /* ARPACK "LR" on the mat-vec: the check of arpack_mf's unstable count */
    double *wr, *wi, *VR, *eerr;
    double *symq;  /* the sector's symmetry vectors, orthonormalised (max_dim x AB_PROBLEM_MAX_SYMMETRIES) */
    double *align; /* per eigenvalue: how much of its eigenvector lies in their span */
    int *tags;  /* per eigenvalue: 1 if a symmetry mode */
    ab_eigenvalue *values; /* ab_spectrum_compute_in's results */
    size_t dense_n, cap_VR; /* sizes of the dense eigensolver and of VR, made on demand */
    size_t cap_values;
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

void ab_eigensolver_set_min_count(ab_eigensolver *s, int count) { s->min_count = count > 0 ? count : 0; }

ab_status ab_eigensolver_create(int max_dim, ab_eigensolver **out, ab_error *err)
{
    *out = NULL;
    if (max_dim < 1) return ab_error_set(err, AB_EINVAL, "eigensolver of dimension %d", max_dim);
    ab_eigensolver *s = calloc(1, sizeof *s);
    if (!s) return ab_error_set(err, AB_ENOMEM, "out of memory");
    s->max_dim = max_dim;
    s->dense_max = AB_DENSE_MAX;
    s->wr = malloc(sizeof(double) * max_dim);
    s->wi = malloc(sizeof(double) * max_dim);
    s->eerr = malloc(sizeof(double) * max_dim);
    s->symq = malloc(sizeof(double) * max_dim * AB_PROBLEM_MAX_SYMMETRIES);
    s->align = malloc(sizeof(double) * max_dim);
    s->tags = malloc(sizeof(int) * max_dim);
    if (!s->wr || !s->wi || !s->eerr || !s->symq || !s->align || !s->tags) {
        ab_eigensolver_destroy(s);
        return ab_error_set(err, AB_ENOMEM, "out of memory for the eigensolver (dim %d)", max_dim);
    }
    /* The n x n workspace of the dense eigensolver and of the eigenvectors is made when a
     * sector first needs it, at that sector's size: a problem whose sectors all go to ARPACK
     * never holds it. */
    *out = s;
    return AB_OK;
}

void ab_eigensolver_destroy(ab_eigensolver *s)
{
    if (!s) return;
    ab_eigs_destroy(s->dense);
    ab_eigs_destroy(s->arpack);
    ab_eigs_destroy(s->arpack_mf);
    ab_eigs_destroy(s->arpack_lr);
    free(s->VR); free(s->wr); free(s->wi); free(s->eerr); free(s->symq); free(s->align); free(s->tags); free(s->values);
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

/* Which of the first count eigenvalues are the symmetry (Goldstone) modes: the n_sym real
 * ones whose eigenvectors (length n) lie most in the span of the n_sym symmetry vectors
 * (orthonormalised first; with one vector the measure is |<v, g>| / (|v| |g|)). Marks them
 * in tag[]. */
static void tag_symmetry(ab_eigensolver *s, int count, int n, int n_sym, const double *sym, int *tag)
{
    int q = 0;
    for (int k = 0; k < n_sym && k < AB_PROBLEM_MAX_SYMMETRIES; k++) {
        double *g = s->symq + (size_t)q * n;
        memcpy(g, sym + (size_t)k * n, sizeof(double) * n);
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < q; j++) {
                const double *h = s->symq + (size_t)j * n;
                double d = 0.0;
                for (int i = 0; i < n; i++) d += g[i] * h[i];
                for (int i = 0; i < n; i++) g[i] -= d * h[i];
            }
        double gn = 0.0;
        for (int i = 0; i < n; i++) gn += g[i] * g[i];
        gn = sqrt(gn);
        if (!(gn > 0.0)) continue; /* a dependent vector adds no direction */
        for (int i = 0; i < n; i++) g[i] /= gn;
        q++;
    }
    for (int i = 0; i < count; i++) {
        tag[i] = 0;
        s->align[i] = -1.0;
        if (s->wi[i] != 0.0) continue;
        const double *v = s->VR + (size_t)i * n;
        double vn = 0.0, proj = 0.0;
        for (int k = 0; k < n; k++) vn += v[k] * v[k];
        for (int j = 0; j < q; j++) {
            const double *h = s->symq + (size_t)j * n;
            double d = 0.0;
            for (int k = 0; k < n; k++) d += v[k] * h[k];
            proj += d * d;
        }
        s->align[i] = sqrt(proj / vn);
    }
    for (int j = 0; j < q; j++) {
        int best = -1;
        for (int i = 0; i < count; i++)
            if (!tag[i] && s->align[i] >= 0.0 && (best < 0 || s->align[i] > s->align[best])) best = i;
        if (best >= 0) tag[best] = 1;
    }
}

/* The dense eigensolver for sectors up to size n (made, or made again larger, on demand). */
static ab_status ensure_dense(ab_eigensolver *s, size_t n, ab_error *err)
{
    if (s->dense && s->dense_n >= n) return AB_OK;
    ab_eigs_destroy(s->dense);
    s->dense = NULL;
    s->dense_n = 0;
    ab_eigs_params p;
    ab_eigs_params_default(&p, AB_EIGS_DENSE);
    ab_status st = ab_eigs_create(n, &p, &s->dense, err);
    if (!st) s->dense_n = n;
    return st;
}

/* Room for `count` doubles of eigenvectors. */
static ab_status ensure_vectors(ab_eigensolver *s, size_t count, ab_error *err)
{
    if (count <= s->cap_VR) return AB_OK;
    double *v = realloc(s->VR, sizeof(double) * count);
    if (!v) return ab_error_set(err, AB_ENOMEM, "out of memory for eigenvectors (%zu values)", count);
    s->VR = v;
    s->cap_VR = count;
    return AB_OK;
}

/* A spectrum whose values live in the eigensolver's buffer is dropped, not freed. */
static void drop(ab_spectrum *spectrum) { memset(spectrum, 0, sizeof *spectrum); }

/* On the mat-vec path there is no determinant to check the unstable count of the
 * eigenvalues nearest 0 against: the k rightmost (ARPACK "LR") must contain a stable one
 * and no more unstable ones than they do (docs/sphere.md, "Spectrum"). 0 if not verified. */
static int verify_rightmost(ab_eigensolver *s, const ab_linop *A, int listed, int n)
{
    ab_error scratch = {0};
    if (!s->arpack_lr) {
        ab_eigs_params p;
        ab_eigs_params_default(&p, AB_EIGS_ARPACK_MATVEC);
        p.k = AB_ARNOLDI_EIGS;
        p.use_matrix = 0;
        if (ab_eigs_create((size_t)s->max_dim, &p, &s->arpack_lr, &scratch)) return 0;
    }
    double lwr[AB_ARNOLDI_EIGS + 8], lwi[AB_ARNOLDI_EIGS + 8], lerr[AB_ARNOLDI_EIGS + 8];
    int nl = n;
    if (ab_eigs_compute(s->arpack_lr, A, &nl, lwr, lwi, lerr, NULL, &scratch)) return 0;
    int pos_lr = 0, pos_si = 0;
    for (int i = 0; i < nl; i++) pos_lr += lwr[i] > lerr[i];
    for (int i = 0; i < listed; i++) pos_si += s->wr[i] > s->eerr[i];
    return nl > 0 && pos_lr < nl && pos_lr <= pos_si;
}

ab_status ab_spectrum_compute_in(ab_eigensolver *s, ab_disc *disc, const double *u, const int *sectors,
                                 int n_sectors, ab_spectrum *spectrum, ab_error *err)
{
    memset(spectrum, 0, sizeof *spectrum);
    size_t cap = 0;
    for (int q = 0; q < n_sectors; q++) cap += ab_disc_dim(disc) + 1;
    if (cap > s->cap_values) {
        /* grows to the largest request once; later calls reuse it */
        ab_eigenvalue *v = realloc(s->values, sizeof(ab_eigenvalue) * cap);
        if (!v) return ab_error_set(err, AB_ENOMEM, "out of memory for the spectrum");
        s->values = v;
        s->cap_values = cap;
    }
    spectrum->values = s->values;
    for (int q = 0; q < n_sectors; q++) {
        ab_sector_op op;
        ab_status st = ab_disc_sector_operator(disc, u, sectors[q], &op, err);
        if (st) { drop(spectrum); return st; }
        if (op.dim > s->max_dim) {
            drop(spectrum);
            return ab_error_set(err, AB_EINVAL, "sector %d has dimension %d > eigensolver size %d", op.sector, op.dim, s->max_dim);
        }
        const int n = op.dim;
        ab_dense_op dense_op = {op.matrix, (size_t)n, (size_t)n};
        ab_linop A;
        if (op.matrix) ab_dense_op_linop(&dense_op, &A);
        else A = *op.linop; /* mat-vecs only: assembled by the dense solver when small */
        int listed = n;
        int dense = 1;
        if (n > s->dense_max && n > AB_ARNOLDI_EIGS + 3) {
            /* large sector: the rightmost eigenvalues only (eigenvectors land in VR in the
             * same real storage as the dense ones, so the symmetry tagging below is unchanged).
             * When ARPACK fails, or cannot vouch for the unstable count (its eigenvalues
             * nearest 0 are all unstable, or the determinant check says one lies further
             * right), the dense decomposition below decides: slower, never wrong. */
            ab_error scratch = {0};
            ab_eigs **which = op.matrix ? &s->arpack : &s->arpack_mf;
            if (!*which) {
                ab_eigs_params p;
                ab_eigs_params_default(&p, AB_EIGS_ARPACK_SHIFT_INVERT);
                p.k = AB_ARNOLDI_EIGS;
                if (!op.matrix) {
                    /* mat-vecs only: GMRES solves, Rayleigh quotients and residual errors */
                    p.linsol = AB_LINSOL_GMRES;
                    p.linsol_params.rtol = AB_EIGS_MATFREE_GMRES_RTOL;
                    p.use_matrix = 0;
                }
                st = ab_eigs_create((size_t)s->max_dim, &p, which, &scratch);
            }
            if (!st && !op.matrix)
                st = ab_eigs_set_shift_invert(*which, AB_ARNOLDI_SHIFT * fmax(op.norm_estimate, 1.0), op.precond, &scratch);
            if (!st && op.n_symmetry > 0) st = ensure_vectors(s, (size_t)n * (AB_ARNOLDI_EIGS + 1), &scratch);
            if (!st)
                st = ab_eigs_compute(*which, &A, &listed, s->wr, s->wi, s->eerr, op.n_symmetry > 0 ? s->VR : NULL,
                                     &scratch);
            double lowest = INFINITY;
            for (int i = 0; i < listed && !st; i++) lowest = fmin(lowest, s->wr[i] + s->eerr[i]);
            if (st == AB_OK && lowest < 0.0 && listed < s->min_count) {
                /* fewer eigenvalues than the caller needs (a test function's rank) */
                if (n > AB_SPECTRUM_VERIFY_DENSE_MAX) {
                    drop(spectrum);
                    return ab_error_set(err, AB_ENOCONV,
                                        "sector %d: %d eigenvalues are needed and ARPACK gives %d; the dense "
                                        "decomposition is limited to %d unknowns (this sector has %d): use a smaller "
                                        "degree",
                                        op.sector, s->min_count, listed, AB_SPECTRUM_VERIFY_DENSE_MAX, n);
                }
                listed = n;
            } else if (st == AB_OK && lowest < 0.0 && !op.matrix && !verify_rightmost(s, &A, listed, n)) {
                /* the eigenvalues nearest 0 hide unstable ones further right (observed: the
                 * uniform state at degree 20 between kappa_3 and kappa_2, 5 unstable of 8) */
                if (n > AB_SPECTRUM_VERIFY_DENSE_MAX) {
                    drop(spectrum);
                    return ab_error_set(err, AB_ENOCONV,
                                        "sector %d: the unstable count could not be verified (the %d eigenvalues "
                                        "nearest 0 and the rightmost ones disagree, and %d unknowns are beyond the "
                                        "dense check's %d); use a smaller degree",
                                        op.sector, listed, n, AB_SPECTRUM_VERIFY_DENSE_MAX);
                }
                listed = n;
            } else if (st == AB_OK && lowest < 0.0) {
                spectrum->partial++;
                dense = 0;
            } else {
                if (st == AB_ENOMEM) { drop(spectrum); return ab_error_set(err, st, "%s", scratch.msg); }
                listed = n;
            }
        }
        if (dense) {
            ab_error scratch = {0};
            if ((st = ensure_dense(s, (size_t)n, err)) || (st = ensure_vectors(s, (size_t)n * n, err))) {
                drop(spectrum);
                return st;
            }
            st = ab_eigs_compute(s->dense, &A, &listed, s->wr, s->wi, s->eerr, s->VR, &scratch);
            if (st) {
                drop(spectrum);
                return ab_error_set(err, st, "sector %d: %s", op.sector, scratch.msg);
            }
        }
        /* A complex pair whose imaginary part is within its error is a double real
         * eigenvalue split by rounding (multiple eigenvalues of symmetric states, e.g. the
         * triplets of a tetrahedral state on the sphere): real, so that stability counts and
         * branch-point test functions rank it with the real ones. */
        for (int i = 0; i < listed; i++)
            if (s->wi[i] != 0.0 && fabs(s->wi[i]) <= s->eerr[i]) s->wi[i] = 0.0;
        int *sym_tag = s->tags;
        if (op.n_symmetry > 0) tag_symmetry(s, listed, n, op.n_symmetry, op.symmetry, sym_tag);
        else memset(sym_tag, 0, sizeof(int) * (size_t)listed);
        for (int i = 0; i < listed; i++) {
            ab_eigenvalue *e = &spectrum->values[spectrum->count++];
            e->sector = op.sector;
            e->re = s->wr[i];
            e->im = s->wi[i];
            e->multiplicity = op.multiplicity;
            e->err = s->eerr[i];
            if (sym_tag[i]) e->kind = AB_EIG_SYMMETRY;
            else if (e->im == 0.0 && fabs(e->re) <= e->err) e->kind = AB_EIG_SLOW;
            else e->kind = AB_EIG_STABILITY;
            if (!isfinite(e->re) || !isfinite(e->im) || !isfinite(e->err)) {
                drop(spectrum);
                return ab_error_set(err, AB_ENAN, "sector %d has a non-finite eigenvalue", op.sector);
            }
        }
        for (int k = 0; k < op.symmetry_removed; k++) {
            ab_eigenvalue *e = &spectrum->values[spectrum->count++];
            *e = (ab_eigenvalue){.sector = op.sector, .re = 0.0, .im = 0.0, .multiplicity = 1, .kind = AB_EIG_SYMMETRY, .err = 0.0};
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

ab_status ab_spectrum_compute(ab_eigensolver *s, ab_disc *disc, const double *u, const int *sectors, int n_sectors,
                              ab_spectrum *spectrum, ab_error *err)
{
    ab_status st = ab_spectrum_compute_in(s, disc, u, sectors, n_sectors, spectrum, err);
    if (st) return st;
    ab_eigenvalue *own = malloc(sizeof(ab_eigenvalue) * (spectrum->count ? (size_t)spectrum->count : 1));
    if (!own) {
        drop(spectrum);
        return ab_error_set(err, AB_ENOMEM, "out of memory for the spectrum");
    }
    memcpy(own, spectrum->values, sizeof(ab_eigenvalue) * (size_t)spectrum->count);
    spectrum->values = own;
    return AB_OK;
}
