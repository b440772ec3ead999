/* Pseudo-arclength continuation as a solver object in the manner of GSL's (alloc / set /
 * step / free): tangent predictor, bordered Newton corrector on the problem interface,
 * adaptive steps. Every tolerance of the continuation and of the diagram built on it lives
 * in ab_cont_params (docs/continuation.md, "Tolerances"; settable under
 * continuation.tolerances in a spec). */
#ifndef ATTNBIF_CONT_H
#define ATTNBIF_CONT_H

#include "attnbif/linsol.h"
#include "attnbif/problem.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    /* steps (in the arclength norm below) */
    double ds, ds_min, ds_max;
    double step_grow;          /* factor after an easy step (<= fast_iterations corrector iterations) */
    double step_shrink;        /* factor after a hard step (>= slow_iterations) */
    double step_fail_shrink;   /* factor after a rejected step */
    int fast_iterations, slow_iterations;
    /* arclength norm: |x|^2 = state_weight <u, u> + p^2 (u = log rho grows like 1/kappa:
     * unweighted, the arclength would all go to u at small noise) */
    double state_weight;
    /* 1: the state's weight is state_weight / max(1, <u, u>) at the start of each step, so
     * that the arclength measures the relative change of u: at small noise, where u grows
     * like 1/kappa, steps then stay of a fixed relative size in kappa instead of shrinking
     * like kappa^2 (docs/small-noise.md). 0 (the default): the fixed weight. */
    int relative_state_norm;
    /* corrector */
    double newton_tol;         /* relative residual tolerance (ab_problem_tolerance) */
    int corrector_max_iter;
    double corrector_divergence; /* give up when max|F| exceeds this times its best value, plus 1 (a
                                    corrector that starts near |F| ~ 1 may grow a little first) */
    /* step acceptance */
    double min_turn_cos;       /* successive tangents must have <tau0, tau1> >= this */
    double check_min_factor;   /* the turn and jump checks apply to steps longer than this times ds_min
                                  (shorter ones are what is left near a singular point) */
    double max_correction;     /* the corrector may move u at most this fraction of the predictor step ... */
    double max_correction_abs; /* ... plus this times (1 + |u|): else it jumped to another branch */
    /* event location (diagram builder) */
    double locate_tol;         /* relative width in the parameter of a located special point */
    int locate_max_iter;
    /* normal forms by finite differences (diagram builder) */
    double fd_step_second;     /* step of the second differences F_uu, F_up */
    double fd_step_third;      /* step of the third difference F_uuu */
    double fd_param_floor;     /* the parameter step of F_up is fd_step_second * max(this, |p|) */
    double zero_vector_tol;    /* max|v| below this: the solution v of J v = -F_p is zero (no F_uu[phi, v] term) */
    double pitchfork_tol;      /* |a| <= this |F_uu[phi,phi]|: quadratic coefficient zero, a pitchfork */
    double degenerate_tol;     /* |c3| <= this * its scale: criticality degenerate */
    double mirror_tol;         /* relative tolerance of the odd-kernel-vector test (max|R phi + phi| / max|phi|) */
    double symmetric_state_tol; /* ... and of the even-state test (max|R u - u| / (1 + max|u|)) */
    double switch_min_factor;  /* branch switching tries steps xi = ds, ds/2, ... down to this times ds_min */
    double switch_fallback;    /* a switched point within this fraction of xi of the branch point fell back onto the old branch */
    /* de-duplication of special points and branches (diagram builder) */
    double same_event_tol;     /* events this close (relative, in the parameter) are one */
    double merge_tol;          /* an event this close (relative) to a special row of the branch is that row */
    double known_point_tol;    /* a special point this close (relative) to a known one is a repeat */
    double known_point_obs_tol;/* ... when r and S also agree to this */
    double near_point_tol;     /* a branch point this close (relative) to one of another branch is that one */
    double near_point_obs_tol; /* ... when |dr| + |dS| is below this */
    double known_branch_tol;   /* a switched point within this fraction of the change of r, S over a step of an existing branch ... */
    double known_branch_abs;   /* ... plus this (absolute) lies on that branch */
    double uniform_tol;        /* |r|, |S| and the entropy below this: the uniform state */
} ab_cont_params;

/* The defaults (the values documented in docs/continuation.md). */
void ab_cont_params_default(ab_cont_params *params);
/* Check ranges (ds_min <= ds <= ds_max, positive tolerances, ...); AB_EINVAL names the field. */
ab_status ab_cont_params_check(const ab_cont_params *params, ab_error *err);

typedef struct ab_cont ab_cont;

/* A continuation of problem in its single free parameter (ab_problem_set_free), solving
 * linear systems with ls (sized for dim + 1 + phase conditions). Allocates everything. */
ab_status ab_cont_alloc(ab_problem *problem, ab_linsol *ls, const ab_cont_params *params, ab_cont **out, ab_error *err);
void ab_cont_free(ab_cont *cont);
const ab_cont_params *ab_cont_get_params(const ab_cont *cont);
/* Size of a point x = (u, p): dim + 1. */
size_t ab_cont_size(const ab_cont *cont);

/* Start at the solution x = (u, p). The tangent is tau if not NULL (oriented as given),
 * else computed with its parameter component of sign direction (+1 / -1). The step
 * length starts at params->ds. */
ab_status ab_cont_set(ab_cont *cont, const double *x, const double *tau, int direction, ab_error *err);

typedef struct {
    int corrector_iterations;
    double ds;       /* the step taken */
    int rejected;    /* steps rejected (halved) before this one */
} ab_cont_step_info;

/* Try one step: predictor x + ds tau, corrector on <tau, x - pred> = 0, new tangent. On
 * success the new point is current, the previous one is kept (ab_cont_previous) and the
 * next ds adapts to the corrector's iterations. A rejected step (corrector failure, a turn
 * sharper than min_turn_cos, a jump to another branch) returns AB_ENOCONV with the reason,
 * leaves the point where it was and multiplies ds by step_fail_shrink; the caller retries,
 * and gives up when ab_cont_ds falls below ds_min. */
ab_status ab_cont_step(ab_cont *cont, ab_cont_step_info *info, ab_error *err);
/* Take the step to the corrected point x_new (tangent tau_new) found by the caller, e.g. a
 * landing on the window edge: it becomes current, the old one previous. */
ab_status ab_cont_accept(ab_cont *cont, const double *x_new, ab_error *err);

/* A projection applied to every new corrected point x and to every new tangent tau (in
 * place; each call gives one of them, the other NULL; the tangent is renormalised after):
 * the builder restricts a branch of symmetric states to the symmetry's fixed space with it,
 * so that neither rounding nor the group's own null directions (rotations that break the
 * symmetry) drift into the tangent and the corrector (docs/continuation.md, "Symmetric
 * branching"). NULL removes it. */
typedef ab_status (*ab_cont_project_fn)(void *ctx, double *x, double *tau, ab_error *err);
void ab_cont_set_projection(ab_cont *cont, ab_cont_project_fn fn, void *ctx);

const double *ab_cont_point(const ab_cont *cont);    /* (u, p) */
const double *ab_cont_tangent(const ab_cont *cont);  /* unit in the arclength norm */
const double *ab_cont_previous(const ab_cont *cont); /* before the last step */
const double *ab_cont_previous_tangent(const ab_cont *cont);
double ab_cont_ds(const ab_cont *cont);              /* the next step's length */
void ab_cont_set_ds(ab_cont *cont, double ds);

/* ---- building blocks (for event location and branch switching) ------------------------ */

/* The arclength inner product and norm on points (u, p). */
double ab_cont_dot(ab_cont *cont, const double *x, const double *y);
/* Corrector from pred onto {x : <normal, x - pred> = 0}; *iterations if not NULL. */
ab_status ab_cont_correct(ab_cont *cont, const double *pred, const double *normal, double *x, int *iterations,
                          ab_error *err);
/* The unit tangent at the solution x, oriented along tau_prev. */
ab_status ab_cont_tangent_at(ab_cont *cont, const double *x, const double *tau_prev, double *tau, ab_error *err);
/* The problem with its parameter set to x's (and linearised if linearize). */
ab_status ab_cont_set_point_params(ab_cont *cont, const double *x, ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
