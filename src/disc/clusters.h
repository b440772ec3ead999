/* Internal: the cluster decomposition of a density on the whole-sphere grid (docs/sphere.md,
 * "Clusters and maps"): prominent local maxima, their steepest-ascent basins, masses, centres. */
#ifndef AB_CLUSTERS_H
#define AB_CLUSTERS_H

#include "attnbif/disc.h"
#include "attnbif/error.h"

/* The prominence a maximum needs by default to count as a cluster, in units of the uniform
 * density (rho = 1 for sigma): a tenth of the uniform level. Noise or grid ripples of
 * relative size 1e-2 on a state stay far below it; a k-cluster state of any interest has
 * peaks of several times the uniform level (docs/sphere.md, "Clusters and maps"). */
#define AB_CLUSTERS_DEFAULT_PROMINENCE 0.1

/* ab_cluster is public (attnbif/disc.h): solve results carry the clusters found. */

/* The clusters of rho on the lat-lon grid of src/disc/sht.h: point i * nlon + j at latitude
 * row i (cos theta ascending, south to north) and longitude column j; points (nlat*nlon x 3,
 * row-major unit vectors), weights (the quadrature for sigma, positive, sum 1) and rho
 * (finite) at the points. Neighbours: the 8 surrounding points (longitude wraps around), and
 * in the first and last rows every point of the same row (they surround the pole).
 * A local maximum is a cluster when its topographic prominence exceeds min_prominence
 * (>= 0; AB_CLUSTERS_DEFAULT_PROMINENCE is the documented default). Each point belongs to
 * the maximum its steepest ascent reaches; the basins of maxima that are not clusters go to
 * the cluster they join at their key saddle. The clusters come sorted by mass, descending
 * (equal masses: by peak height, then point index); deterministic (ties in rho broken by point index).
 * *count is the number of clusters found, also when it exceeds max (then AB_EINVAL and out
 * holds the first max). Uniform rho gives 0 clusters. AB_ENAN for a non-finite rho. */
ab_status ab_find_clusters(int nlat, int nlon, const double *points, const double *weights, const double *rho,
                           double min_prominence, ab_cluster *out, int max, int *count, ab_error *err);

#endif
