/* Linear operators and the linear solvers behind one interface (dense LU from LAPACK,
 * restarted GMRES with a preconditioner hook), in the manner of SUNDIALS's SUNLinearSolver:
 * Newton, the continuation corrector and the shift-invert eigensolver see only this. */
#ifndef ATTNBIF_LINSOL_H
#define ATTNBIF_LINSOL_H

#include "attnbif/error.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y = A x for an n x n real operator. apply is required; apply_transpose (y = A^T x) and
 * matrix (the assembled column-major matrix, leading dimension lda >= n) only where the
 * owner can offer them. ctx is the owner's; the operator does not own it. */
typedef struct {
    size_t n;
    ab_status (*apply)(void *ctx, const double *x, double *y, ab_error *err);
    ab_status (*apply_transpose)(void *ctx, const double *x, double *y, ab_error *err);
    ab_status (*matrix)(void *ctx, double *A, size_t lda, ab_error *err);
    void *ctx;
} ab_linop;

/* A preconditioner z = M^{-1} r (right preconditioning in GMRES). setup is called by
 * ab_linsol_setup with the operator, so the preconditioner can follow it; either may be NULL. */
typedef struct {
    ab_status (*setup)(void *ctx, const ab_linop *A, ab_error *err);
    ab_status (*apply)(void *ctx, const double *r, double *z, ab_error *err);
    void *ctx;
} ab_precond;

typedef enum {
    AB_LINSOL_DENSE = 0, /* assemble (A->matrix, or A applied to the unit vectors) and LU-factor (dgetrf) */
    AB_LINSOL_GMRES      /* restarted GMRES(m) on A->apply, right-preconditioned, modified Gram-Schmidt */
} ab_linsol_type;

const char *ab_linsol_type_name(ab_linsol_type type);

/* GMRES settings (docs/theory.md, "Linear solvers"); the dense solver ignores them. */
typedef struct {
    double rtol;  /* stop when |b - A x|_2 <= rtol |b|_2 (or at the rounding floor) */
    int restart;  /* Krylov dimension before a restart */
    int max_iter; /* total iterations (mat-vecs) before AB_ENOCONV */
    int precondition; /* 1 (default): Newton and the corrector give GMRES the problem's own
                       * preconditioner where it offers one (ab_problem_precond); 0: none */
} ab_linsol_params;

/* Defaults: rtol AB_GMRES_RTOL, restart AB_GMRES_RESTART, max_iter AB_GMRES_MAX_ITER. Newton
 * and the corrector need solves accurate far below their own tolerance so that the dense
 * and GMRES paths give the same iterates to 1e-10. */
#define AB_GMRES_RTOL 1e-14
#define AB_GMRES_RESTART 60
#define AB_GMRES_MAX_ITER 3000
void ab_linsol_params_default(ab_linsol_params *params);

typedef struct ab_linsol ab_linsol;

/* A solver for operators of size up to max_n (all workspace allocated here: no allocation
 * per setup or solve). params may be NULL for the defaults. */
ab_status ab_linsol_create(ab_linsol_type type, size_t max_n, const ab_linsol_params *params, ab_linsol **out,
                           ab_error *err);
void ab_linsol_destroy(ab_linsol *ls);
ab_linsol_type ab_linsol_type_of(const ab_linsol *ls);
/* Install a preconditioner (GMRES only; NULL removes it). The struct is copied. */
void ab_linsol_set_precond(ab_linsol *ls, const ab_precond *pc);
/* The settings the solver was created with. */
const ab_linsol_params *ab_linsol_params_of(const ab_linsol *ls);

/* A preconditioner of an n x n operator extended to a bordered one of size >= n (the
 * phase conditions and arclength rows of Newton and the corrector): inner on the first
 * n entries, the identity on the borders. The bordered size is taken from the operator
 * at setup. Fill it with ab_block_precond_init and install *out; b must outlive its use. */
typedef struct {
    ab_precond inner;
    size_t n_inner, n;
} ab_block_precond;
void ab_block_precond_init(ab_block_precond *b, const ab_precond *inner, size_t n_inner, ab_precond *out);

/* Prepare to solve with A (dense: assemble and factor; GMRES: remember A, set up the
 * preconditioner). A is copied, A->ctx must stay valid until the next setup. A singular
 * matrix is AB_ELINALG. */
ab_status ab_linsol_setup(ab_linsol *ls, const ab_linop *A, ab_error *err);
/* x = A^{-1} b (b and x may alias). GMRES starts from x = 0. AB_ENOCONV if GMRES misses
 * rtol within max_iter. */
ab_status ab_linsol_solve(ab_linsol *ls, const double *b, double *x, ab_error *err);
/* x = A^{-T} b; GMRES needs A->apply_transpose (else AB_EINVAL). */
ab_status ab_linsol_solve_transpose(ab_linsol *ls, const double *b, double *x, ab_error *err);

/* What the last solve did: iterations (GMRES mat-vecs; 0 for dense) and the relative
 * residual |b - A x| / |b| GMRES reached (the true residual its stopping rule judged, not
 * the recurrence's estimate; 0 for dense). */
int ab_linsol_last_iterations(const ab_linsol *ls);
double ab_linsol_last_residual(const ab_linsol *ls);

/* Sign of det(A) from the LU factors (+1 or -1): dense only (AB_EINVAL for GMRES). */
ab_status ab_linsol_det_sign(const ab_linsol *ls, int *sign, ab_error *err);

/* ---- Bordered operators --------------------------------------------------------------- */

/* The (n + k) x (n + k) operator [A B; C^T D] for k <= AB_BORDER_MAX borders: B and C are
 * n x k (column-major), D is k x k. The continuation corrector ([F_u F_p; tau_u^T tau_p]),
 * the null-vector systems at branch points and the phase conditions of symmetric problems
 * are all of this form. The struct holds pointers only: A, B, C, D must outlive it. */
#define AB_BORDER_MAX 4
typedef struct {
    const ab_linop *A;
    int k;
    const double *B, *C, *D;
} ab_bordered;

/* The bordered operator as an ab_linop of size n + k (its matrix and transpose exist where
 * A's do). op->ctx points to *bordered. */
void ab_bordered_linop(const ab_bordered *bordered, ab_linop *op);

#ifdef __cplusplus
}
#endif
#endif
