/* Internal: the point-symmetry group of a state on S^2 (docs/sphere.md, "Symmetry of a state"):
 * the orthogonal maps that permute its cluster centres and keep their masses, checked on the density. */
#ifndef AB_POINTGROUP_H
#define AB_POINTGROUP_H

#include "attnbif/disc.h"
#include "attnbif/error.h"
#include "attnbif/spec.h"

#include <stddef.h>

/* Tolerances (docs/sphere.md, "Symmetry of a state"; all in one place):
 * ANGLE: a map is a symmetry of the point set when, after the best fit of the orthogonal
 *   matrix to the matched points (orthogonal Procrustes), every point lands within this
 *   angle (radians) of its image. The cluster centres of a solved state are accurate to
 *   ~1e-9 rad (docs/sphere.md, "Clusters"), so 1e-6 is a thousandfold margin, and no real
 *   loss of symmetry is that small.
 * MASS: two masses are equal when they differ by at most this much of the larger; the
 *   masses of the symmetric states are 1/k to 1e-14 and their mass_error is ~1e-12.
 * DENSITY: the density is invariant under g when max over the grid of
 *   |rho(g^-1 x) - rho(x)| is at most this much of max rho; the arrangements' converged
 *   states pass at 1e-8 (test_sphere), an element 1e-6 rad off the true one moves a
 *   cluster of concentration b ~ 20 by ~1e-5 of its peak. */
#define AB_POINTGROUP_ANGLE_TOL 1e-6
#define AB_POINTGROUP_MASS_TOL 1e-6
#define AB_POINTGROUP_DENSITY_TOL 1e-6
/* A first guess of a map (from one pair of points) is off by up to a few times the
 * position error over the sine of the pair's angle; points are matched to their images
 * within this multiple of ANGLE / sin(angle of the pair) before the fit and the final check. */
#define AB_POINTGROUP_MATCH_FACTOR 10.0
/* Two points closer than this multiple of ANGLE are one point given twice: refused. */
#define AB_POINTGROUP_MIN_SEPARATION_FACTOR 100.0
/* Classification: an axis, a trace or a matrix entry within this of another is the same
 * (the elements are accurate to ~ANGLE; distinct axes and traces of groups of at most
 * AB_POINTGROUP_MAX_ORDER elements differ by more than 1e-4). */
#define AB_POINTGROUP_CLASSIFY_TOL 1e-5
/* The largest n of a cyclic group C_n searched about the axis of a 1- or 2-cluster state
 * whose density is not axisymmetric (its true group is then only bounded from below). */
#define AB_POINTGROUP_AXIAL_KMAX 12

/* At most this many points (the cluster limit), and so at most 4 x that many elements (a
 * finite group of a set of k points not all on one line has at most max(120, 4 k)
 * elements: D_kh for a k-gon on a great circle, I_h otherwise). */
#define AB_POINTGROUP_MAX_POINTS AB_MAX_CLUSTERS
#define AB_POINTGROUP_MAX_ORDER (4 * AB_POINTGROUP_MAX_POINTS)

/* Options of the functions below; zero-initialised means the defaults. */
typedef struct {
    double angle;   /* AB_POINTGROUP_ANGLE_TOL when <= 0 */
    double mass;    /* AB_POINTGROUP_MASS_TOL when <= 0 */
    double density; /* AB_POINTGROUP_DENSITY_TOL when <= 0 */
    int every_element; /* the density check: 0 checks a generating set of a finite group (two
                          or three elements; invariance under them is invariance under the
                          group) and every element only when one fails; 1 every element.
                          One element costs an evaluation of rho at every grid point,
                          O(L^4): 5 ms at L = 24, ~0.25 s at L = 64. */
} ab_pointgroup_opts;

/* A point group. Finite groups list every element; the infinite ones (C_inf_v, D_inf_h,
 * K_h = O(3) of the uniform state) list a sample that generates a dense subgroup of them:
 * rotations by angles that are no rational multiple of pi about the axis (about three
 * axes for K_h), two mirrors containing the axis, and for D_inf_h and K_h the inversion. */
typedef struct {
    char symbol[16];  /* Schoenflies: "C_1", "C_s", "C_i", "C_4", "C_3v", "C_2h", "S_4", "D_2",
                         "D_3h", "D_4d", "T", "T_d", "T_h", "O", "O_h", "I", "I_h", "C_inf_v",
                         "D_inf_h", "K_h" (the whole O(3)) */
    int order;        /* number of elements; 0 for an infinite group */
    int n_rotations;  /* proper elements (0 for an infinite group) */
    int inversion;    /* -I is an element */
    int n_mirrors;    /* reflections (0 for an infinite group) */
    double axis[3];   /* the principal axis: of the highest order (of the most mirror planes
                         among equal orders; the first found among equals), the mirror's
                         normal for C_s, the axis of C_inf_v / D_inf_h; 0 for C_1, C_i, K_h */
    int axis_order;   /* its order: 0 for an infinite group or no axis */
    int n_elements;   /* elements stored */
    double R[AB_POINTGROUP_MAX_ORDER][9]; /* row-major 3 x 3, the identity first */
    double residual;  /* the largest angle (rad) by which a fitted element misses a point's image */
} ab_pointgroup;

/* The group of n unit vectors x (n x 3, row-major; each of length 1 within 1e-8) with
 * positive masses (NULL: all equal) within the tolerances of opts (NULL: the defaults).
 * n = 0 is the uniform state (K_h). AB_EINVAL for bad input (n > AB_POINTGROUP_MAX_POINTS,
 * non-unit or coincident points, non-positive or non-finite masses). */
ab_status ab_pointgroup_points(const double *x, const double *mass, int n, const ab_pointgroup_opts *opts,
                               ab_pointgroup *out, ab_error *err);

/* Classify a finite group given by its elements (n row-major orthogonal 3 x 3 matrices, a
 * group: closed under products within AB_POINTGROUP_CLASSIFY_TOL): fills out's symbol,
 * counts, axis and a copy of the elements (the identity moved first). AB_EINVAL when the
 * list is no group of one of the Schoenflies types or n > AB_POINTGROUP_MAX_ORDER. */
ab_status ab_pointgroup_classify(const double *R, int n, ab_pointgroup *out, ab_error *err);

/* "uniform", "1 cluster", "2 clusters, antipodal", "3 clusters, triangle (great circle)",
 * "4 clusters, tetrahedron", "6 clusters, octahedron", "8 clusters, cube", "12 clusters,
 * icosahedron", "20 clusters, dodecahedron", "k clusters, polygon" (k >= 4 on a great
 * circle, D_kh) and otherwise "k clusters, <symbol>" (e.g. "5 clusters, D_3h"); a state with
 * no cluster that is not uniform: "no clusters, <symbol>". g is the group of the state
 * (normally the verified one), x and n its cluster centres. Truncated to cap. */
void ab_pointgroup_describe(const ab_pointgroup *g, const double *x, int n, char *buf, size_t cap);

/* The symmetry of a state on the sphere. */
typedef struct {
    ab_pointgroup clusters; /* the group of the cluster centres and masses */
    ab_pointgroup group;    /* the group verified on the density: the reported one */
    int verified;           /* 1 when every (sampled) element of `clusters` leaves rho invariant;
                               0: `group` is the largest subgroup found that does (a lower
                               bound on the state's symmetry) */
    double density_residual; /* max of the relative residual over the elements of `group` checked */
    double worst_residual;   /* the same over the elements of `clusters` checked (> the density
                                tolerance when not verified) */
    int n_checked;           /* elements of `clusters` whose residual was computed */
    char description[96];
} ab_pointgroup_state;

/* The relative residual of one element: max over the grid points x of disc of
 * |rho(R^-1 x) - rho(x)| / max rho, rho the density of the state u. */
ab_status ab_pointgroup_density_residual(ab_disc *disc, const double *u, const double *R, double *residual, ab_error *err);

/* The symmetry of the state u of the sphere discretisation disc whose clusters are cl[0..n)
 * (as ab_sphere_clusters gives them): the cluster group, checked on the density (its
 * generators or every element, opts->every_element; docs/sphere.md, "Symmetry of a state"),
 * the description. opts may be NULL. */
ab_status ab_pointgroup_state_of(ab_disc *disc, const double *u, const ab_cluster *cl, int n, const ab_pointgroup_opts *opts,
                                 ab_pointgroup_state *out, ab_error *err);

#endif
