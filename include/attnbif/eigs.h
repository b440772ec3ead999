/* Eigensolvers behind one interface: all eigenvalues of an assembled operator (LAPACK
 * dgeevx), or the k rightmost by ARPACK, either on the operator's mat-vec or on
 * shift-invert solves (A - sigma I)^{-1} through the linear-solver interface. Every
 * eigenvalue comes with an error estimate (docs/theory.md, "Eigenvalue errors"). */
#ifndef ATTNBIF_EIGS_H
#define ATTNBIF_EIGS_H

#include "attnbif/error.h"
#include "attnbif/linsol.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    AB_EIGS_DENSE = 0,         /* all n eigenvalues (needs the matrix, or assembles it from mat-vecs) */
    AB_EIGS_ARPACK_MATVEC,     /* k rightmost: ARPACK "LR" on y = A x */
    AB_EIGS_ARPACK_SHIFT_INVERT /* k nearest sigma (just right of 0): ARPACK "LM" on (A - sigma I)^{-1} */
} ab_eigs_method;

const char *ab_eigs_method_name(ab_eigs_method method);

typedef struct {
    ab_eigs_method method;
    int k;                      /* eigenvalues wanted (ARPACK); a complex pair is never split */
    ab_linsol_type linsol;      /* shift-invert: the solver of A - sigma I */
    double shift;               /* shift-invert: sigma = shift * ||A||_inf when A has a matrix, else shift */
    double tol;                 /* ARPACK's relative tolerance (0: machine precision) */
    int max_restarts;
    int ncv;                    /* Krylov basis size (0: max(3k, 30), at most n) */
} ab_eigs_params;

void ab_eigs_params_default(ab_eigs_params *params, ab_eigs_method method);

typedef struct ab_eigs ab_eigs;

/* An eigensolver for operators up to size max_n; all workspace is allocated here. */
ab_status ab_eigs_create(size_t max_n, const ab_eigs_params *params, ab_eigs **out, ab_error *err);
void ab_eigs_destroy(ab_eigs *eigs);
const ab_eigs_params *ab_eigs_get_params(const ab_eigs *eigs);

/* Eigenvalues of A: *found of them into re, im (sorted by re descending; conjugate pairs
 * adjacent, positive imaginary part first), errs their error estimates, and if vecs is not
 * NULL the right eigenvectors (n x found, LAPACK's real storage of complex pairs). Arrays
 * hold max_n (dense) or k + 1 (ARPACK) entries. ARPACK shift-invert also checks by the sign
 * of det(A - sigma I) (dense LU only) that no real eigenvalue right of those found was
 * missed (AB_ENOCONV if one was). */
ab_status ab_eigs_compute(ab_eigs *eigs, const ab_linop *A, int *found, double *re, double *im, double *errs,
                          double *vecs, ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
