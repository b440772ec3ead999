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

/* Safety factor of the eigenvalue error estimates, err = AB_EIG_ERR_SAFETY * eps ||A||_1 /
 * rcond (LAPACK's first-order bound, rcond the reciprocal condition number of the
 * eigenvalue): the factor covers the growth p(n) that the bound leaves out and the
 * rounding in forming A (docs/theory.md, "Eigenvalue errors", has the measurements). */
#define AB_EIG_ERR_SAFETY 64.0
/* ARPACK's shift sigma, relative to ||A||_inf: small enough that the eigenvalues nearest
 * sigma are those nearest 0, nonzero so that A - sigma I is regular on an exact zero mode. */
#define AB_ARNOLDI_SHIFT 1e-10
/* Defaults of ab_eigs_params (docs/theory.md, "Eigensolvers"). */
#define AB_EIGS_K 12
#define AB_EIGS_MAX_RESTARTS 3000

typedef struct {
    ab_eigs_method method;
    int k;                      /* eigenvalues wanted (ARPACK); a complex pair is never split */
    ab_linsol_type linsol;      /* shift-invert: the solver of A - sigma I */
    ab_linsol_params linsol_params; /* shift-invert with GMRES: its settings (rtol AB_EIGS_GMRES_RTOL) */
    ab_precond precond;         /* shift-invert with GMRES: the preconditioner (apply NULL: none);
                                   its setup receives the operator A - sigma I */
    double shift;               /* shift-invert: sigma = shift * ||A||_inf when the matrix is used, else shift */
    double tol;                 /* ARPACK's relative tolerance (0: machine precision) */
    int max_restarts;
    int ncv;                    /* Krylov basis size (0: max(3k, 30), at most n) */
    /* ARPACK: 1 (default) to use the operator's matrix where it has one (copied into
     * workspace: about 3 max_n^2 doubles allocated by ab_eigs_create) for the scale of
     * sigma, the two-sided Rayleigh refinement and the conditioned error estimate; 0 to
     * treat every operator as a mat-vec only (O(max_n) workspace besides ARPACK's and the
     * linear solver's): Rayleigh quotients x^H A x / x^H x and err from the residual. */
    int use_matrix;
} ab_eigs_params;

/* k AB_EIGS_K, dense linear solver with its defaults, shift AB_ARNOLDI_SHIFT, tol 0,
 * max_restarts AB_EIGS_MAX_RESTARTS, ncv 0, use_matrix 1. */
/* GMRES's tolerance for shift-invert solves. A - sigma I is nearly singular by design
 * (sigma sits at 1e-10 ||A|| beside the eigenvalues wanted, e.g. the rotation mode), so the
 * residual of any solve stalls near eps ||A|| / sigma ~ 1e-7 relative; the Arnoldi
 * iteration needs only the dominant directions of the inverse, and each eigenvalue is
 * refined afterwards with the operator itself (measured in tests/test_eigs.c: the 10
 * rightmost agree with dense LAPACK to 1.6e-11 at this setting). */
#define AB_EIGS_GMRES_RTOL 1e-6
void ab_eigs_params_default(ab_eigs_params *params, ab_eigs_method method);

typedef struct ab_eigs ab_eigs;

/* An eigensolver for operators up to size max_n; all workspace is allocated here. */
ab_status ab_eigs_create(size_t max_n, const ab_eigs_params *params, ab_eigs **out, ab_error *err);
void ab_eigs_destroy(ab_eigs *eigs);
const ab_eigs_params *ab_eigs_get_params(const ab_eigs *eigs);
/* Shift-invert: change the shift and the preconditioner of the GMRES solves (pc NULL:
 * none) between computations, e.g. for the operator of another state. */
ab_status ab_eigs_set_shift_invert(ab_eigs *eigs, double shift, const ab_precond *pc, ab_error *err);

/* Eigenvalues of A: *found of them into re, im (sorted by re descending; conjugate pairs
 * adjacent, positive imaginary part first), errs (if not NULL) their error estimates, and
 * if vecs is not NULL the right eigenvectors (n x found, LAPACK's real storage of complex
 * pairs). Arrays hold max_n (dense) or k + 1 (ARPACK) entries; ARPACK may find fewer than
 * k (those that converged). ARPACK shift-invert also checks by the sign of
 * det(A - sigma I) (dense LU only: with GMRES the check is skipped) that no real
 * eigenvalue right of those found was missed (AB_ENOCONV if one was). Errors
 * (docs/theory.md, "Eigenvalue errors" and "Eigensolvers"): dense, from LAPACK's condition
 * numbers; ARPACK with the matrix, from the residual and the condition number after
 * two-sided Rayleigh refinement; ARPACK on a mat-vec only, AB_EIG_ERR_SAFETY times the
 * residual |A x - lambda x| / |x| (condition number assumed 1: an underestimate for
 * strongly non-normal A). Not reentrant (ARPACK keeps internal state). */
ab_status ab_eigs_compute(ab_eigs *eigs, const ab_linop *A, int *found, double *re, double *im, double *errs,
                          double *vecs, ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
