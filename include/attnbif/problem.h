/* The problem object the solvers work on (after BifurcationKit's BifurcationProblem): a
 * residual F(u; params) with its Jacobian as an operator, parameter derivatives, an inner
 * product, the generators of the continuous symmetries with their phase conditions, and a
 * vector of named parameters of which some are free (unknowns of an extended system).
 * A discretisation offers itself as a problem (ab_disc_problem); an extended system (a fold
 * or branch-point curve, attnbif/curves.h) is a problem that wraps another. */
#ifndef ATTNBIF_PROBLEM_H
#define ATTNBIF_PROBLEM_H

#include "attnbif/error.h"
#include "attnbif/linsol.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Continuation parameters of the mean-field problem. */
typedef struct {
    double kappa;
    double beta;
} ab_params;

typedef enum { AB_PARAM_KAPPA = 0, AB_PARAM_BETA = 1 } ab_param_id;

#define AB_PROBLEM_MAX_PARAMS 8
#define AB_PROBLEM_MAX_SYMMETRIES 3

/* What a concrete problem implements. ctx is the implementer's. Every function may assume
 * set_params was called with the current parameter vector before it. */
typedef struct {
    const char *name;                  /* "zonal mean-field stationary problem", ... */
    int n_params;                      /* <= AB_PROBLEM_MAX_PARAMS */
    const char *const *param_names;    /* n_params names ("kappa", "beta") */
    ab_status (*set_params)(void *ctx, const double *params, ab_error *err);
    ab_status (*residual)(void *ctx, const double *u, double *F, ab_error *err);
    /* Fix the Jacobian at u for the operator below (and for the tolerance). */
    ab_status (*linearize)(void *ctx, const double *u, ab_error *err);
    ab_status (*jac_apply)(void *ctx, const double *v, double *Jv, ab_error *err);
    ab_status (*jac_apply_transpose)(void *ctx, const double *v, double *Jtv, ab_error *err); /* may be NULL */
    ab_status (*jac_matrix)(void *ctx, double *J, size_t ld, ab_error *err);                  /* may be NULL */
    /* dF/dparams[which] at u. */
    ab_status (*dparam)(void *ctx, const double *u, int which, double *dF, ab_error *err);
    /* The inner product <x, y> = sum_i weights[i] x_i y_i (the quadrature weights). */
    const double *(*weights)(void *ctx);
    /* Residual tolerance for a requested relative tol at the last linearisation (the
     * problem knows the size of its terms and the floor of its evaluation). */
    double (*tolerance)(void *ctx, double tol);
    /* Continuous symmetries: generator k applied to u, i.e. the tangent d/dt (e^{t X_k} u)
     * at t = 0, an exact null vector of the Jacobian at a solution. */
    int n_symmetries; /* 0 .. AB_PROBLEM_MAX_SYMMETRIES */
    ab_status (*symmetry)(void *ctx, const double *u, int k, double *g, ab_error *err);
    /* An approximate inverse of the Jacobian at the last linearisation, z = M^{-1} r, that
     * GMRES uses as a right preconditioner (may be NULL: none). */
    ab_status (*precond_apply)(void *ctx, const double *r, double *z, ab_error *err);
} ab_problem_ops;

typedef struct ab_problem ab_problem;

/* A problem of dim unknowns from its operations; params holds the initial values of all
 * n_params parameters. ops and ctx must outlive the problem. */
ab_status ab_problem_create(const ab_problem_ops *ops, void *ctx, size_t dim, const double *params, ab_problem **out,
                            ab_error *err);
void ab_problem_destroy(ab_problem *problem);

const char *ab_problem_name(const ab_problem *problem);
size_t ab_problem_dim(const ab_problem *problem);

/* ---- parameters ---------------------------------------------------------------------- */
int ab_problem_n_params(const ab_problem *problem);
const char *ab_problem_param_name(const ab_problem *problem, int i);
int ab_problem_param_index(const ab_problem *problem, const char *name); /* -1 if unknown */
double ab_problem_param(const ab_problem *problem, int i);
ab_status ab_problem_set_param(ab_problem *problem, int i, double value, ab_error *err);
/* Which parameters are unknowns (continuation: one; a fold curve: two). */
ab_status ab_problem_set_free(ab_problem *problem, int n_free, const int *which, ab_error *err);
int ab_problem_n_free(const ab_problem *problem);
int ab_problem_free_param(const ab_problem *problem, int k);

/* ---- evaluations at the current parameters ----------------------------------------- */
ab_status ab_problem_residual(ab_problem *problem, const double *u, double *F, ab_error *err);
/* Linearise at u; then ab_problem_jacobian is J = F_u(u) as an operator (with an assembled
 * matrix and a transpose where the problem offers them). Valid until the next linearise. */
ab_status ab_problem_linearize(ab_problem *problem, const double *u, ab_error *err);
const ab_linop *ab_problem_jacobian(ab_problem *problem);
int ab_problem_has_matrix(const ab_problem *problem);
/* The problem's preconditioner for its Jacobian (size dim) in *pc: 1 if it has one, else 0. */
int ab_problem_precond(ab_problem *problem, ab_precond *pc);
/* Give a GMRES solver the problem's preconditioner, extended by the identity to the
 * bordered systems of Newton and the corrector, when the problem has one and the solver's
 * settings ask for it (ab_linsol_params.precondition); otherwise leave the solver as it is.
 * storage must outlive the solver's use of it. */
void ab_problem_install_precond(ab_problem *problem, ab_linsol *ls, ab_block_precond *storage);
ab_status ab_problem_dparam(ab_problem *problem, const double *u, int which, double *dF, ab_error *err);
const double *ab_problem_weights(ab_problem *problem);
double ab_problem_dot(ab_problem *problem, const double *x, const double *y);
double ab_problem_tolerance(ab_problem *problem, double tol);

/* ---- symmetry and phase conditions ----------------------------------------------------- */
int ab_problem_n_symmetries(const ab_problem *problem);
ab_status ab_problem_symmetry(ab_problem *problem, const double *u, int k, double *g, ab_error *err);
/* The phase conditions <g_k(u_ref), u - u_ref> = 0, k < n_symmetries, pin the group orbit
 * of a solution; Newton and the corrector add one Lagrange multiplier per condition
 * (docs/theory.md, "Phase conditions"). Set the reference before solving; a problem
 * without symmetries has none. The generators at u_ref are stored (no allocation later). */
ab_status ab_problem_set_phase_reference(ab_problem *problem, const double *u_ref, ab_error *err);
/* A generator whose part independent of the others is below this fraction of the largest
 * generator's norm gives no phase condition (it vanishes at a state with that symmetry,
 * e.g. the rotation about the axis of an axisymmetric state); the others are
 * orthonormalised. */
#define AB_PHASE_DEPENDENT_TOL 1e-7
int ab_problem_n_phase(const ab_problem *problem);
/* Generator k at the reference (n vector) and the reference itself; NULL before set. */
const double *ab_problem_phase_vector(const ab_problem *problem, int k);
const double *ab_problem_phase_reference(const ab_problem *problem);

/* ---- kernel vectors ---------------------------------------------------------------- */
/* Inverse-iteration steps of ab_problem_kernel_vectors (each one bordered solve; at a
 * located branch point the smallest singular value is ~1e-12 of the next, so one step
 * already converges and the others confirm it). */
#define AB_KERNEL_ITERATIONS 3
/* The right (phi) and, if psi is not NULL, left (psi) kernel vectors of the Jacobian of the
 * last linearisation at a (nearly) singular point, unit in the Euclidean norm, by bordered
 * inverse iteration through ls (size >= dim + 1; the left vector needs transposed solves,
 * so with GMRES the problem's Jacobian transpose). work: 2 (dim + 1) doubles. For problems
 * without an assembled Jacobian; with one, an SVD gives the same vectors up to sign. */
ab_status ab_problem_kernel_vectors(ab_problem *problem, ab_linsol *ls, double *phi, double *psi, double *work,
                                    ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
