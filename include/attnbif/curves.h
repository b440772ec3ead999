/* Curves of folds and branch points in the plane of two parameters (kappa, beta), their
 * codimension-two points, and the extended problems behind them (docs/curves.md). */
#ifndef ATTNBIF_CURVES_H
#define ATTNBIF_CURVES_H

#include "attnbif/cont.h"
#include "attnbif/diagram.h"
#include "attnbif/disc.h"
#include "attnbif/error.h"
#include "attnbif/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the extended problem ------------------------------------------------------------ */

/* Which subspace the states of a curve are restricted to (docs/curves.md, "Symmetric
 * branch points"): all of the discretisation's space (fold curves), the states even under
 * the reflection x -> -x (a pitchfork that breaks the mirror symmetry of an even branch),
 * or the uniform state (a branch point on the uniform branch, whatever it breaks). */
typedef enum { AB_CURVE_SPACE_ALL = 0, AB_CURVE_SPACE_MIRROR, AB_CURVE_SPACE_UNIFORM } ab_curve_space;

typedef struct ab_curve_problem ab_curve_problem;

/* The minimally augmented system of a fold (space ALL) or of a symmetric branch point
 * (MIRROR, UNIFORM) of disc's problem: unknowns y = (u, p_unknown), continuation parameter
 * p_cont, residual (F(P u) + (I - P) u, g(P u)) with P the projection onto the space and g
 * the last component of the bordered solve [J b; c^T 0] [v; g] = [0; 1] (b, c approximate
 * left and right kernel vectors; the bordering makes g vanish exactly where J is singular).
 * The discretisation must assemble its Jacobian (zonal). disc must outlive the object. */
ab_status ab_curve_problem_create(ab_disc *disc, ab_curve_space space, int unknown_param, int cont_param,
                                  ab_curve_problem **out, ab_error *err);
/* The curve where a state and the uniform state have equal free energy (a first-order
 * transition; gradient models only): the same system with g the free energy of u relative
 * to the uniform state (docs/curves.md, "Maxwell curves"). */
ab_status ab_curve_problem_create_maxwell(ab_disc *disc, int unknown_param, int cont_param, ab_curve_problem **out,
                                          ab_error *err);
/* The curve of a branch point where an eigenvalue of symmetry sector `sector` >= 1 crosses
 * on a branch of zonal states (the axial symmetry breaks): g tests the sector's operator,
 * with its rotation (Goldstone) mode bordered off in sector 1 (docs/curves.md). */
ab_status ab_curve_problem_create_sector(ab_disc *disc, int sector, int unknown_param, int cont_param,
                                         ab_curve_problem **out, ab_error *err);
/* The sector a curve problem tests (0: J itself). */
int ab_curve_problem_sector(const ab_curve_problem *cp);
void ab_curve_problem_destroy(ab_curve_problem *cp);
/* The extended problem (dim + 1 unknowns; its continuation parameter is free). Owned. */
ab_problem *ab_curve_problem_get(ab_curve_problem *cp);
size_t ab_curve_problem_state_dim(const ab_curve_problem *cp);
/* Borders from the smallest singular pair of J at y (the start of a curve), or from the
 * last bordered solves at y (refreshed at every point of a curve, so that the bordered
 * matrix stays well conditioned). */
ab_status ab_curve_problem_borders_svd(ab_curve_problem *cp, const double *y, ab_error *err);
ab_status ab_curve_problem_refresh(ab_curve_problem *cp, const double *y, ab_error *err);
/* The state P u of y (the projection onto the curve's space) in u (n). */
void ab_curve_problem_project(ab_curve_problem *cp, const double *y, double *u);
/* The test function g at y (at the current value of the continuation parameter). */
ab_status ab_curve_problem_test(ab_curve_problem *cp, const double *y, double *g, ab_error *err);
/* The right and left kernel vectors v, w (Euclidean unit) of the tested operator at y (J, or
 * the sector's operator: then of its size, ab_disc_sector_operator), from the bordered
 * solves; *wv = <w, v> (zero at a Bogdanov-Takens point: the kernel is a Jordan block). */
ab_status ab_curve_problem_kernel(ab_curve_problem *cp, const double *y, double *v, double *w, double *wv,
                                  ab_error *err);
/* Normal-form coefficients at a point y of the curve (docs/curves.md, "Normal forms"):
 * c2 = <w, F_uu[v, v]>, c3 = <w, F_uuu[v, v, v] + 3 F_uu[v, h2]> with J h2 = -F_uu[v, v]
 * (h2 orthogonal to the border), by Richardson-extrapolated central differences of F. */
ab_status ab_curve_problem_normal_form(ab_curve_problem *cp, const double *y, double *c2, double *c3, ab_error *err);

/* ---- curves ---------------------------------------------------------------------------- */

typedef enum {
    AB_CURVE_FOLD = 0,      /* a curve of folds (limit points) */
    AB_CURVE_PITCHFORK,     /* a curve of symmetry-breaking pitchforks */
    AB_CURVE_TRANSCRITICAL, /* a curve of transcritical branch points (on the uniform branch) */
    AB_CURVE_MAXWELL        /* equal free energy of the stable clustered and the uniform state (USA) */
} ab_curve_type;
const char *ab_curve_type_name(ab_curve_type type);

typedef enum {
    AB_CP_DEGENERATE_PITCHFORK = 0, /* cubic coefficient zero on a pitchfork curve: a fold curve is born */
    AB_CP_CUSP,                     /* quadratic coefficient zero on a fold curve: two fold curves meet */
    AB_CP_BOGDANOV_TAKENS,          /* <w, v> = 0 on a fold curve: a Hopf curve would end there */
    AB_CP_END                       /* a curve ends (window edge, steps, failure, reaches a branch point) */
} ab_curve_point_type;
const char *ab_curve_point_type_name(ab_curve_point_type type);

typedef struct {
    double kappa, beta;
    double r, S, free_energy; /* observables of the state (free_energy NaN for SA) */
    double test;              /* along pitchfork curves c3, along fold curves c2 (docs/curves.md) */
    double tail;              /* the density's spectral tail there (ab_disc_resolution): how well it is resolved */
    int label;                /* index into ab_curve_set.points, or -1 */
} ab_curve_row;

typedef struct {
    int id;                 /* 1-based, as curves.csv writes it */
    ab_curve_type type;
    int from_special;       /* index of the one-parameter special point it started from, or -1 */
    int from_point;         /* index of the codimension-two point it started from, or -1 */
    int l;                  /* degree on the uniform branch, else -1 */
    int nodes;              /* node count of the discretisation */
    int n_rows, cap;
    ab_curve_row *rows;     /* ordered along the curve */
    char end_reason[2][200]; /* why each end ended (first row's side, last row's side) */
    int bounds_stable;      /* fold curves: the fold it started from ends a stretch of stable states
                               (it bounds a region where they exist: phase_diagram.svg) */
} ab_curve;

typedef struct {
    ab_curve_point_type type;
    double kappa, beta;
    double r;
    double error;           /* estimated error of the location in the curve's parameter (absolute) */
    int curve;              /* curve id it was found on */
    char label[16];         /* DP1, CP1, BT1, ... */
    char note[200];
    /* A degenerate pitchfork found by two routes (docs/curves.md): on the pitchfork curve
     * (kappa, beta above) and as the extrapolated end of the fold curve born there (here);
     * NaN if only one route reached it. */
    double alt_kappa, alt_beta, alt_error;
    int born_curve;         /* id of the fold curve born here (degenerate pitchforks), or 0 */
    /* the located point x = (u, p_unknown, p_cont) on a grid of `nodes` (owned; NULL if none) */
    int nodes;
    size_t dim;
    double *x;
} ab_curve_point;

typedef struct ab_curve_set {
    int unknown_param, cont_param; /* e.g. kappa (an unknown on the curves) and beta */
    int n_curves, cap_curves;
    ab_curve *curves;
    int n_points, cap_points;
    ab_curve_point *points;
} ab_curve_set;

void ab_curve_set_free(ab_curve_set *set);

/* Follow the curves the spec's two_parameter section asks for, from the special points of
 * the one-parameter diagram (computed from the same spec), in both directions, with the
 * codimension-two points located on them. Progress lines go to messages (may be NULL). */
ab_status ab_curves_follow(const ab_spec *spec, const ab_diagram *diagram, const ab_messages *messages,
                           ab_curve_set *set, ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
