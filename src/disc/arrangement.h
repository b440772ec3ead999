/* Internal: the named cluster arrangements of the whole-sphere discretisation (docs/sphere.md,
 * "Clusters and maps"): their centres, their proper rotation groups and symmetry symbols. */
#ifndef AB_ARRANGEMENT_H
#define AB_ARRANGEMENT_H

#include "attnbif/error.h"

#include <stddef.h>

/* The names accepted, for messages: "polygon, tetrahedron, octahedron, cube, icosahedron". */
#define AB_ARRANGEMENT_NAMES "polygon (with k >= 2), tetrahedron, octahedron, cube, icosahedron"
/* The largest polygon: its rotation group has 2 k elements, built explicitly, and k clusters
 * on the equator closer than 360/k degrees are beyond any grid attnbif would use. */
#define AB_ARRANGEMENT_POLYGON_MAX 1000
/* The largest group (the icosahedral one, 60 rotations) outside the polygons. */
#define AB_ARRANGEMENT_GROUP_MAX 60
/* Two rotation matrices are the same element when no entry differs by more than this; the
 * distinct elements of the groups here differ by at least 1 - cos(2 pi / 5) > 0.69 in some
 * entry (polygons: 1 - cos(2 pi / k) >= 2e-5 for k <= AB_ARRANGEMENT_POLYGON_MAX), and
 * products of generators carry only rounding errors of a few 1e-16. */
#define AB_ARRANGEMENT_MATRIX_TOL 1e-9

#ifndef AB_PI
#define AB_PI 3.14159265358979323846
#endif

/* Parameter k: the number of vertices for `polygon` (2 <= k <= AB_ARRANGEMENT_POLYGON_MAX).
 * For the polyhedra k is optional: k <= 0 means "not given", and a k equal to the vertex
 * count (4, 6, 8, 12) is accepted; any other k is refused (a spec that says
 * `arrangement: cube, k: 6` is a mistake worth reporting). */

/* The centres as unit vectors, row-major count x 3. polygon: x_j = (cos phi_j, sin phi_j, 0)
 * with phi_j = 2 pi j / k (the first at phi = 0); tetrahedron: (1,1,1), (1,-1,-1),
 * (-1,1,-1), (-1,-1,1) over sqrt 3; octahedron: +-e_i; cube: (+-1,+-1,+-1) / sqrt 3;
 * icosahedron: the cyclic permutations of (0, +-1, +-g), g the golden ratio, normalised.
 * *count is set to the number of centres even when max is too small (then AB_EINVAL), so
 * that max = 0 (centres may be NULL) asks for the count. */
ab_status ab_arrangement_centres(const char *name, int k, double *centres, int max, int *count, ab_error *err);

/* The proper rotation group of the arrangement (every rotation mapping the centre set onto
 * itself; for polygon the dihedral group D_k of the polygon in the equatorial plane, which
 * for k = 2 is the part of the larger symmetry of two antipodal points that keeps the
 * equator), as 3 x 3 row-major matrices, R[9 g + 3 i + j]. The identity comes first.
 * polygon: 2 k (rotations about z by 2 pi j / k, then the half-turns about the in-plane axes
 * at angle pi j / k); tetrahedron: T, 12; octahedron and cube: O, 24; icosahedron: I, 60,
 * generated as the closure of two generators. *count and max as for the centres. */
ab_status ab_arrangement_rotations(const char *name, int k, double *R, int max, int *count, ab_error *err);

/* The Schoenflies symbol of the full symmetry group (rotations and reflections) of the
 * arrangement, for output: "D<k>h" for polygon (D2h for k = 2 as above), "Td", "Oh", "Oh",
 * "Ih". Written to buf (cap >= 16 is enough for any accepted k). */
ab_status ab_arrangement_symbol(const char *name, int k, char *buf, size_t cap, ab_error *err);

#endif
