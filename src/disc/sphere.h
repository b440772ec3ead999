/* Internal: the whole-sphere discretisation's constructor, for the factory (src/disc/factory.c). */
#ifndef AB_SPHERE_H
#define AB_SPHERE_H

#include "attnbif/disc.h"
#include "attnbif/spec.h"
#include "disc/clusters.h"

/* S^2 (d = 3) to harmonic degree L on the (L + 1) x (2 L + 2) grid (docs/sphere.md), the
 * kernel in Funk-Hecke or log-domain form, or chosen per state (AB_KERNEL_AUTO). */
ab_status ab_sphere_create(const ab_model *model, ab_params params, int degree, ab_kernel_form kernel, ab_disc **out,
                           ab_error *err);

/* How many clusters a `clusters` guess places (0 for other types). */
int ab_state_cluster_count(const ab_state_spec *state);
/* Is disc the sphere discretisation? The functions below need one. */
int ab_sphere_is(const ab_disc *disc);
/* The grid: nlat x nlon points (unit vectors, row-major) and quadrature weights (sum 1). */
void ab_sphere_grid(const ab_disc *disc, int *nlat, int *nlon, const double **points, const double **weights);
/* The density of the state u at n unit vectors x (n x 3), by rho = e^{Phi[rho]/kappa} / Z. */
ab_status ab_sphere_density(ab_disc *disc, const double *u, size_t n, const double *x, double *rho, ab_error *err);
/* rho of the state u at the centres of a regular nlat x nlon longitude-latitude map (cell
 * (i, j) at latitude -90 + (i + 1/2) 180 / nlat, longitude -180 + (j + 1/2) 360 / nlon
 * degrees, the layout of src/io/sphere_map.h), into rho[i * nlon + j]. */
ab_status ab_sphere_map(ab_disc *disc, const double *u, int nlat, int nlon, double *rho, ab_error *err);
/* The number of clusters of the state u on its own grid (cheap: no refinement). */
int ab_sphere_cluster_count(ab_disc *disc, const double *u);
/* The clusters of the state u (docs/sphere.md, "Clusters"): at most max, *count found. */
ab_status ab_sphere_clusters(ab_disc *disc, const double *u, ab_cluster *out, int max, int *count, ab_error *err);
/* Grid values of sum c_lm Y_lm for coefficients of degree <= degree (<= the disc's L; index
 * l*l + l + m, src/disc/sht.h). */
ab_status ab_sphere_synthesis(ab_disc *disc, const double *coeffs, int degree, double *f, ab_error *err);
/* Project a state onto the fixed space of a group (order elements, 3 x 3 row-major in R):
 * u <- the average over g of log rho(g x) at the grid points, rho from the state's own
 * potential (so exact at a solution, and free of the grid's aliasing). *asym (may be NULL)
 * is max |u_before - u_after|: how far the state was from symmetric. */
ab_status ab_sphere_symmetrize(ab_disc *disc, double *u, int order, const double *R, double *asym, ab_error *err);
/* The same linear projection for a vector of grid values (a tangent, a kernel vector): the
 * average of v(g x) over the group for its part of degree <= L (the rest is kept). */
ab_status ab_sphere_symmetrize_vector(ab_disc *disc, double *v, int order, const double *R, ab_error *err);
/* The same for the axial groups about z, exactly and in O(grid) (a state or a vector alike:
 * the grid values are averaged over longitude, and with mirror over z -> -z too). */
ab_status ab_sphere_symmetrize_axial(ab_disc *disc, double *v, int mirror, ab_error *err);

#endif
