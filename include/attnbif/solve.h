/* Solvers on the discretisation interface: damped Newton for stationary states and the
 * stability spectrum of the linearised Fokker-Planck operator per symmetry sector. */
#ifndef ATTNBIF_SOLVE_H
#define ATTNBIF_SOLVE_H

#include "attnbif/disc.h"
#include "attnbif/eigs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Newton ---------------------------------------------------------------------- */

typedef struct {
    double tol;   /* stop when max|F| <= tol * ab_disc_residual_scale(disc) */
    int max_iter;
    /* Optional per-iteration report (iteration, max|F|, step length); NULL for none. */
    void (*progress)(void *ctx, int iter, double residual, double step);
    void *progress_ctx;
} ab_newton_opts;

typedef struct {
    int iterations;
    int linear_iterations; /* GMRES iterations summed over the Newton steps (0 with dense LU) */
    double residual;  /* max|F| at the returned u */
    double tolerance; /* the tolerance it was held to (ab_newton_tolerance) */
    int converged;
} ab_newton_report;

/* Backtracking halvings before the line search gives up (an error, never a silent step),
 * and the sufficient decrease a trial lambda must bring: |F_trial| <= (1 - AB_NEWTON_ARMIJO
 * lambda) |F| (Armijo's rule with the usual small constant). */
#define AB_NEWTON_LINE_SEARCH_STEPS 30
#define AB_NEWTON_ARMIJO 1e-4
/* Newton stops once max|F| <= this many times the kernel's error estimate, the floor below
 * which F cannot be computed (docs/theory.md, "Newton"). */
#define AB_NEWTON_FLOOR_FACTOR AB_DISC_FLOOR_FACTOR

/* The tolerance Newton holds max|F| to at the disc's current state:
 * max(tol * ab_disc_residual_scale, AB_NEWTON_FLOOR_FACTOR * ab_disc_residual_floor). */
double ab_newton_tolerance(const ab_disc *disc, double tol);

/* Workspace for Newton on a problem of dimension dim (no allocation per solve), with its
 * own linear solver of the given type (ab_newton_create: dense LU). */
typedef struct ab_newton ab_newton;
ab_status ab_newton_create(size_t dim, ab_newton **out, ab_error *err);
ab_status ab_newton_create_with(size_t dim, ab_linsol_type type, const ab_linsol_params *params, ab_newton **out,
                                ab_error *err);
void ab_newton_destroy(ab_newton *newton);
/* The Newton workspace's linear solver (e.g. to install a preconditioner). */
ab_linsol *ab_newton_linsol(ab_newton *newton);

/* Solve F(u) = 0 at the problem's current parameters from the guess in u (overwritten
 * with the last accepted iterate). Each step linearises the problem and solves
 * J du = -F through the linear-solver interface (bordered by the phase conditions when
 * the problem has a phase reference), then backtracks on |F|_2. Returns AB_ENOCONV (with
 * advice in the message) when max_iter is reached, AB_ENAN on non-finite values. */
ab_status ab_newton_solve_problem(ab_newton *newton, ab_problem *problem, double *u, const ab_newton_opts *opts,
                                  ab_newton_report *report, ab_error *err);
/* The same on a discretisation's problem view (ab_disc_problem). */
ab_status ab_newton_solve(ab_newton *newton, ab_disc *disc, double *u, const ab_newton_opts *opts,
                          ab_newton_report *report, ab_error *err);

/* ---- Spectrum -------------------------------------------------------------------- */

typedef enum {
    AB_EIG_STABILITY = 0, /* decides stability */
    AB_EIG_SYMMETRY,      /* rotation (Goldstone) mode: 0 by symmetry, not a bifurcation */
    AB_EIG_MASS,          /* conserved mass: left out of stability */
    AB_EIG_SLOW           /* real, |re| <= err: sign not determined (e.g. mass exchange between
                             clusters); left out of stability counts */
} ab_eig_kind;

const char *ab_eig_kind_name(ab_eig_kind kind);

typedef struct {
    int sector;
    double re, im;
    long multiplicity;
    ab_eig_kind kind;
    double err; /* estimated absolute error of (re, im) from the eigensolver (0 for mass) */
} ab_eigenvalue;

typedef struct {
    int count;
    ab_eigenvalue *values; /* sorted by re descending */
    long n_unstable;       /* stability eigenvalues with re > err, counted with multiplicity (long: at
                              d = 256 the count passes 2^31) */
    long n_slow;           /* slow eigenvalues (|re| <= err), counted with multiplicity */
    int stable;            /* n_unstable == 0 */
    int partial;           /* sectors computed by ARPACK: only their rightmost eigenvalues are listed */
} ab_spectrum;

/* Workspace for dense eigen-decompositions of sector operators up to dim max_dim. */
typedef struct ab_eigensolver ab_eigensolver;
ab_status ab_eigensolver_create(int max_dim, ab_eigensolver **out, ab_error *err);
void ab_eigensolver_destroy(ab_eigensolver *solver);
/* Ask the following computations for at least this many eigenvalues per sector (besides the
 * symmetry and mass ones): a sector whose ARPACK result lists fewer is decomposed densely
 * (up to AB_SPECTRUM_VERIFY_DENSE_MAX unknowns; beyond, the computation fails with a
 * message). The branch-point test functions need the eigenvalue of a given rank, which a
 * multiple crossing can put beyond ARPACK's AB_ARNOLDI_EIGS. 0: no minimum (the default). */
void ab_eigensolver_set_min_count(ab_eigensolver *solver, int count);
/* Sectors larger than dense_max (default AB_DENSE_MAX) are not fully decomposed: ARPACK
 * returns their AB_ARNOLDI_EIGS eigenvalues nearest 0 (shift-invert), which is all the
 * stability analysis needs as long as fewer eigenvalues than that are unstable and none lies
 * far to their right; when either check fails the sector is decomposed densely after all
 * (docs/theory.md, "Large sectors"). */
#define AB_DENSE_MAX 400
#define AB_ARNOLDI_EIGS 12
/* On the mat-vec path, when the rightmost eigenvalues (ARPACK "LR") show more unstable ones
 * than the eigenvalues nearest 0, the sector's dense decomposition (assembled from
 * mat-vecs) decides up to this many unknowns; beyond, the spectrum fails with a message. */
#define AB_SPECTRUM_VERIFY_DENSE_MAX 2500
/* GMRES's tolerance in the shift-invert solves of operators offered as mat-vecs only (the
 * sphere): they have no zero modes left (mass and rotations are removed by construction),
 * so the solves converge, and ARPACK's Ritz values are as accurate as the solves
 * (docs/sphere.md, "Spectrum"). */
#define AB_EIGS_MATFREE_GMRES_RTOL 1e-11
/* AB_ARNOLDI_SHIFT and AB_EIG_ERR_SAFETY: attnbif/eigs.h. */
void ab_eigensolver_set_dense_max(ab_eigensolver *solver, int dense_max);

/* Full spectrum of the requested sectors at the stationary state u (LAPACK dgeevx). The mass
 * eigenvalue is reported as exactly 0 with kind mass; in sectors with a known symmetry
 * vector the eigenvalue whose eigenvector is most aligned with it is tagged symmetry. Every
 * eigenvalue carries an error estimate err; a real stability eigenvalue with |re| <= err is
 * tagged slow (its sign is not determined) and is not counted as stable or unstable.
 * spectrum->values is allocated; free with ab_spectrum_free. */
ab_status ab_spectrum_compute(ab_eigensolver *solver, ab_disc *disc, const double *u, const int *sectors,
                              int n_sectors, ab_spectrum *spectrum, ab_error *err);
void ab_spectrum_free(ab_spectrum *spectrum);
/* The same into the eigensolver's own buffer (no allocation once it has grown to the
 * largest request): spectrum->values is valid until the next call on this eigensolver and
 * must not be freed. For callers that only read the spectrum, e.g. at every continuation
 * step. */
ab_status ab_spectrum_compute_in(ab_eigensolver *solver, ab_disc *disc, const double *u, const int *sectors,
                                 int n_sectors, ab_spectrum *spectrum, ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
