/* Internal: maps of a density on S^2 (docs/sphere.md, "Clusters and maps"): a CSV table on a
 * regular longitude-latitude grid and an SVG picture (Mollweide projection, viridis). */
#ifndef AB_IO_SPHERE_MAP_H
#define AB_IO_SPHERE_MAP_H

#include "attnbif/error.h"
#include "disc/clusters.h"

#include <stdio.h>

/* The map grid: nlat rows of cells from the south, nlon columns from longitude -180; cell
 * (i, j) has its centre at lat_i = -90 + (i + 1/2) 180 / nlat, lon_j = -180 + (j + 1/2)
 * 360 / nlon (degrees), value rho[i * nlon + j] there. Longitude is phi of src/disc/sht.h
 * (x = (cos lat cos lon, cos lat sin lon, sin lat)), latitude 90 degrees minus theta. The
 * default is 2-degree cells: about 0.7 MB of SVG for a clustered state. */
#define AB_SPHERE_MAP_DEFAULT_NLAT 90
#define AB_SPHERE_MAP_DEFAULT_NLON 180
/* At most this many cells (a 0.1-degree map), so that a picture stays a picture. */
#define AB_SPHERE_MAP_MAX_CELLS 6480000
/* Auto scale: logarithmic when min rho > 0 and max / min exceeds this (two decades), where a
 * linear scale would paint everything but the peaks the same dark colour. */
#define AB_SPHERE_MAP_LOG_RATIO 100.0
/* Log scale: the bar spans at most this factor below max rho (six decades), lower values
 * get the bottom colour and the bar says so: a cluster state's density falls to e^{-2 b}
 * of its peak between clusters, and a dozen decades of colour would leave the clusters
 * themselves one broad yellow blob. */
#define AB_SPHERE_MAP_LOG_FLOOR 1e-6

typedef enum { AB_SPHERE_MAP_SCALE_AUTO = 0, AB_SPHERE_MAP_SCALE_LINEAR, AB_SPHERE_MAP_SCALE_LOG } ab_sphere_map_scale;

/* The centre of cell (i, j) in degrees and as a unit vector (x may be NULL). */
void ab_sphere_map_cell(int nlat, int nlon, int i, int j, double *lon_deg, double *lat_deg, double *x);

/* rho[i * nlon + j] = density(ctx, x) at every cell centre: how a caller evaluates a state
 * (band-limited, so exact anywhere; docs/sphere.md) on the map grid. AB_ENAN if a value is
 * not finite (the message names the cell). */
ab_status ab_sphere_map_fill(int nlat, int nlon, double (*density)(void *ctx, const double x[3]), void *ctx, double *rho,
                             ab_error *err);

/* The table "lon_deg,lat_deg,rho", one line per cell, rows from the south, longitude
 * ascending within a row; rho to 17 digits. Written through out; the caller handles atomic
 * output (src/io/atomic.c). AB_ENAN before writing anything if a value is not finite, AB_EIO
 * if the stream reports an error. */
ab_status ab_sphere_map_csv(FILE *out, int nlat, int nlon, const double *rho, ab_error *err);

typedef struct {
    const char *model;          /* "SA" or "USA" in the title; NULL: left out */
    double beta, kappa, r;      /* in the title; NaN: left out */
    const char *note;           /* a second title line ("branch 2, point 14"); NULL: none */
    ab_sphere_map_scale scale;  /* colour scale (AUTO: see AB_SPHERE_MAP_LOG_RATIO) */
    double lon0_deg;            /* the central meridian */
    const ab_cluster *clusters; /* marked and numbered 1.. in the given order; may be NULL */
    int n_clusters;
} ab_sphere_map_opts;

/* Defaults: nothing in the title, auto scale, centred on longitude 0, no clusters. */
void ab_sphere_map_opts_default(ab_sphere_map_opts *opts);

/* The picture of rho (on the map grid above): a Mollweide (equal-area) projection, cells as
 * trapezoids (runs of equal colour merged) coloured by viridis, a colour bar with rho values
 * (linear or log), a 30-degree graticule, the clusters marked with their numbers and listed
 * (longitude, latitude, mass, peak) below, and the title. Checks everything before writing. */
ab_status ab_sphere_map_svg(FILE *out, int nlat, int nlon, const double *rho, const ab_sphere_map_opts *opts,
                            ab_error *err);

/* The table and the picture as the files csv_name and svg_name in dir, each written
 * atomically (attnbif/io.h): what `solve` and `run` write for a state on the sphere. */
ab_status ab_sphere_map_write(const char *dir, const char *csv_name, const char *svg_name, int nlat, int nlon,
                              const double *rho, const ab_sphere_map_opts *opts, ab_error *err);

#endif
