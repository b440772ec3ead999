/* Stationary states for a spec: the guess, Newton with adaptive resolution (nodes: auto),
 * the checks a state must pass, and everything `attnbif solve` reports about it. */
#ifndef ATTNBIF_STATE_H
#define ATTNBIF_STATE_H

#include "attnbif/disc.h"
#include "attnbif/solve.h"
#include "attnbif/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* When a state counts as resolved (docs/theory.md, "Adaptive resolution"): the modal
 * coefficients of rho beyond 7/8 of the degree fall below AB_RESOLUTION_TAIL of the largest,
 * the kernel's error estimate is below AB_RESOLUTION_KERNEL (units of log rho), and the
 * rotation eigenvalue, exactly 0 for the continuous problem, is below AB_RESOLUTION_ROTATION
 * times kappa (d - 1), the scale of the first diffusive eigenvalue. nodes: auto refines
 * until these hold. A state at a node count fixed by the user is refused (not reported)
 * beyond the looser *_MAX limits, and reported with its achieved values otherwise. */
#define AB_RESOLUTION_TAIL 1e-12
#define AB_RESOLUTION_TAIL_MAX 1e-8
#define AB_RESOLUTION_KERNEL 1e-9
#define AB_RESOLUTION_ROTATION 1e-9
#define AB_RESOLUTION_ROTATION_MAX 1e-6
/* ... but never below AB_RESOLUTION_ROTATION_ROUNDING (attnbif/disc.h) times the rounding
 * of M g. */
/* At the uniform state the grid must hold every unstable degree l (kappa_l > kappa) plus
 * this many (degrees up to AB_NODES_MAX_SCAN are scanned). */
#define AB_RESOLUTION_DEGREE_MARGIN 8
#define AB_NODES_MAX_SCAN 4096

/* A solved state is the uniform one when |r| and |S| are below this (looser than the
 * continuation's uniform_tol: a state from a cluster guess is judged after Newton at its
 * tolerance, a branch point on the uniform branch to rounding). */
#define AB_UNIFORM_ORDER_TOL 1e-6

/* An antipodal guess that converges to a state with larger polar order is a 1-cluster. */
#define AB_ANTIPODAL_MAX_R 1e-6

/* How well a computed state is resolved. */
typedef struct {
    int nodes;                  /* node count of the state */
    int refinements;            /* discretisations tried (1 with a fixed node count) */
    int nodes_needed;           /* estimated from the spectral decay */
    double tail;                /* spectral tail of rho, relative to its largest coefficient */
    double rotation_eigenvalue; /* |M g|/|g| of the rotation vector g; NaN for a state without one (uniform) */
    double rotation_tol;
    const char *kernel;         /* "funk-hecke" or "log-domain" */
    double kernel_error;        /* estimated error of Phi/kappa (units of log rho) */
    double r_change;            /* |r - r at the previous resolution|, NaN without one */
    int unstable_degree;        /* uniform state on too coarse a grid: its highest unstable degree, else 0 */
} ab_resolution;

/* The density map of a solve on the sphere: 2-degree cells. */
#define AB_SOLVE_MAP_NLAT 90
#define AB_SOLVE_MAP_NLON 180

/* Everything `attnbif solve` produces. */
typedef struct {
    const ab_spec *spec;
    char disc_name[96]; /* ab_disc_name of the discretisation the state was solved on */
    ab_params params;
    ab_newton_report newton;
    ab_resolution resolution;
    ab_observables obs;
    ab_spectrum spectrum;
    ab_profile nodes; /* density at the discretisation nodes */
    ab_profile fine;  /* density on a uniform theta grid, for plotting */
    /* sphere only (docs/sphere.md): the clusters found and the density on a regular
     * longitude-latitude map (map_nlat x map_nlon cells, rows from the south; NULL for zonal) */
    int n_clusters;
    ab_cluster clusters[AB_MAX_CLUSTERS];
    int map_nlat, map_nlon;
    double *map;
} ab_solve_result;

/* Progress of a solve: Newton's iterations (progress) and lines on the resolution of the
 * state (message: no newline, no program name); either may be NULL. */
typedef struct {
    void (*progress)(void *ctx, int iter, double residual, double step);
    void (*message)(void *ctx, const char *line);
    void *ctx;
} ab_solve_opts;

/* The whole `solve` computation for a spec: discretisation, initial guess, Newton, a check
 * that a non-uniform guess did not fall back to the uniform state, observables, spectrum
 * of the spec's sectors and the density profiles. On success res owns its arrays (free
 * with ab_solve_result_free); on failure nothing is left allocated. progress may be NULL. */
ab_status ab_solve_problem(const ab_spec *spec, void (*progress)(void *, int, double, double),
                           void *progress_ctx, ab_solve_result *res, ab_error *err);
void ab_solve_result_free(ab_solve_result *res);
/* The same with progress lines (ab_solve_problem reports Newton's iterations only). */
ab_status ab_solve_problem_with(const ab_spec *spec, const ab_solve_opts *opts, ab_solve_result *res, ab_error *err);

/* Guess, Newton and the resolution check for the spec's state; with nodes: auto the node
 * count grows (the state carried over by interpolation) until the state is resolved or
 * nodes_max is reached. Returns the discretisation and the state (owned by the caller), or
 * AB_ENOCONV naming the node count it would need. */
ab_status ab_resolve_state(const ab_spec *spec, void (*progress)(void *, int, double, double), void *progress_ctx,
                           ab_disc **disc, double **u, ab_newton_report *report, ab_resolution *resolution,
                           ab_error *err);
ab_status ab_resolve_state_with(const ab_spec *spec, const ab_solve_opts *opts, ab_disc **disc, double **u,
                                ab_newton_report *report, ab_resolution *resolution, ab_error *err);

/* Initial guess for the spec's state section, including saved profiles (type: file). */
ab_status ab_initial_state(ab_disc *disc, const ab_state_spec *state, double *u, ab_error *err);

/* One node count for a whole continuation window: the largest that ab_resolve_state needs
 * for the starting state and for the cluster and antipodal states at the sharp end of the
 * window (small kappa, or large beta). `run` no longer uses it (with nodes: auto its
 * branches re-discretise as they sharpen, docs/theory.md "Adaptive resolution"); it serves
 * callers that want every point on one grid. */
ab_status ab_choose_run_nodes(const ab_spec *spec, int *nodes, ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
