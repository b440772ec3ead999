/* The cluster decomposition (docs/sphere.md, "Clusters and maps") on synthetic densities on a
 * Gauss-Legendre x uniform-longitude grid built here: sums of von Mises-Fisher bumps with
 * known centres and masses (arrangements, unequal bumps, the date line, the poles), the
 * uniform density, noise, determinism and bad input. */
#include "disc/arrangement.h"
#include "disc/clusters.h"
#include "testutil.h"

#include <gsl/gsl_integration.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int nlat, nlon, n;
    double *x, *w;
} grid;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The convention of src/disc/sht.h: row i at the i-th Gauss-Legendre node in cos theta
 * (ascending), column j at phi = 2 pi j / nlon, point i * nlon + j; weights for sigma. */
static grid make_grid(int nlat, int nlon)
{
    grid g = {nlat, nlon, nlat * nlon, malloc(sizeof(double) * 3 * (size_t)(nlat * nlon)),
              malloc(sizeof(double) * (size_t)(nlat * nlon))};
    gsl_integration_glfixed_table *t = gsl_integration_glfixed_table_alloc((size_t)nlat);
    double (*node)[2] = malloc(sizeof(double[2]) * (size_t)nlat);
    for (int i = 0; i < nlat; i++) gsl_integration_glfixed_point(-1.0, 1.0, (size_t)i, &node[i][0], &node[i][1], t);
    qsort(node, (size_t)nlat, sizeof node[0], cmp_double);
    for (int i = 0; i < nlat; i++) {
        double ct = node[i][0], st = sqrt(1.0 - ct * ct);
        for (int j = 0; j < nlon; j++) {
            double phi = 2.0 * AB_PI * j / nlon;
            int p = i * nlon + j;
            g.x[3 * p] = st * cos(phi), g.x[3 * p + 1] = st * sin(phi), g.x[3 * p + 2] = ct;
            g.w[p] = 0.5 * node[i][1] / nlon;
        }
    }
    free(node);
    gsl_integration_glfixed_table_free(t);
    return g;
}

static void free_grid(grid *g) { free(g->x), free(g->w); }

/* rho = sum_i a_i e^{b (<x, c_i> - 1)} / M with M = sum_i a_i (1 - e^{-2b}) / (2b), the exact
 * sigma-mass: bump i carries mass a_i / sum a exactly (docs/sphere.md). */
static void vmf_density(const grid *g, int k, const double *c, const double *a, double b, double *rho)
{
    double A = 0.0;
    for (int i = 0; i < k; i++) A += a ? a[i] : 1.0;
    double M = A * -expm1(-2.0 * b) / (2.0 * b);
    for (int p = 0; p < g->n; p++) {
        double s = 0.0;
        for (int i = 0; i < k; i++) {
            const double *x = g->x + 3 * p, *ci = c + 3 * i;
            s += (a ? a[i] : 1.0) * exp(b * (x[0] * ci[0] + x[1] * ci[1] + x[2] * ci[2] - 1.0));
        }
        rho[p] = s / M;
    }
}

/* A deterministic uniform number in [-1, 1). */
static double urand(unsigned long long *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (double)(*s >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static void unit(double *x, double a, double b, double c)
{
    double n = sqrt(a * a + b * b + c * c);
    x[0] = a / n, x[1] = b / n, x[2] = c / n;
}

/* Matches each true centre to a distinct found one (nearest first); returns the largest
 * distance |found - true|, or 1e300 when the counts differ. match[i] = the found index. */
static double match_centres(const ab_cluster *cl, int n, const double *c, int k, int *match)
{
    if (n != k) return 1e300;
    int used[64] = {0};
    double worst = 0.0;
    for (int i = 0; i < k; i++) {
        double best = 1e300;
        int bj = -1;
        for (int j = 0; j < n; j++) {
            if (used[j]) continue;
            double d = sqrt(pow(cl[j].centre[0] - c[3 * i], 2) + pow(cl[j].centre[1] - c[3 * i + 1], 2) +
                            pow(cl[j].centre[2] - c[3 * i + 2], 2));
            if (d < best) best = d, bj = j;
        }
        used[bj] = 1;
        match[i] = bj;
        worst = fmax(worst, best);
    }
    return worst;
}

/* A named arrangement of equal bumps: the count, centres to tol_c, masses 1/k to tol_m. */
static void arrangement_case(ab_tally *t, const grid *g, const char *name, int k, double b, double tol_c, double tol_m,
                             double noise)
{
    ab_error err = {0};
    double c[3 * 64];
    int n;
    if (!ab_check(t, ab_arrangement_centres(name, k, c, 64, &n, &err) == AB_OK, "%s: centres %s", name, err.msg)) return;
    double *rho = malloc(sizeof(double) * (size_t)g->n);
    vmf_density(g, n, c, NULL, b, rho);
    unsigned long long s = 0x9E3779B97F4A7C15ull;
    for (int p = 0; p < g->n && noise > 0; p++) rho[p] *= 1.0 + noise * urand(&s);
    ab_cluster cl[64];
    int found = -1, match[64] = {0};
    ab_status st = ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, AB_CLUSTERS_DEFAULT_PROMINENCE, cl, 64, &found, &err);
    double dc = match_centres(cl, found, c, n, match), dm = 0.0, total = 0.0;
    for (int i = 0; i < found; i++) dm = fmax(dm, fabs(cl[i].mass - 1.0 / n)), total += cl[i].mass;
    ab_check(t, st == AB_OK && found == n, "%s%s%.0d b=%g noise %g: %d clusters found (want %d)", name, k ? " k=" : "",
             k, b, noise, found, n);
    ab_check(t, dc < tol_c, "%s b=%g noise %g: centres within %.0e (worst %.2e)", name, b, noise, tol_c, dc);
    ab_check(t, dm < tol_m, "%s b=%g noise %g: masses 1/%d within %.0e (worst %.2e)", name, b, noise, n, tol_m, dm);
    ab_check(t, fabs(total - 1.0) < (noise > 0 ? 1e-2 : 1e-12), "%s: the basins cover the mass (total %.15f)", name,
             total);
    free(rho);
}

/* Three unequal, well separated bumps (pairwise angles >= 90 degrees, so each loses less than
 * e^{-b (1 - cos 45)} of its mass across its basin's edge): masses against a_i / sum a,
 * sorted by mass, centres, peaks. */
static void unequal_case(ab_tally *t, const grid *g)
{
    double c[9], a[3] = {1.0, 3.0, 2.0}, b = 40.0;
    unit(c, 0.3, 0.8, 0.52);
    unit(c + 3, -0.9, 0.2, -0.1);
    /* orthogonal to the other two, so all angles are >= 90 degrees */
    double *u = c, *v = c + 3, w[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    double cosuv = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    unit(c + 6, -w[0], -w[1], -w[2]);
    double *rho = malloc(sizeof(double) * (size_t)g->n);
    vmf_density(g, 3, c, a, b, rho);
    ab_cluster cl[8];
    int found = -1, match[3];
    ab_error err = {0};
    ab_status st = ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, AB_CLUSTERS_DEFAULT_PROMINENCE, cl, 8, &found, &err);
    ab_check(t, st == AB_OK && found == 3 && cosuv < 0.0, "unequal bumps: 3 clusters (%d) %s", found, err.msg);
    if (found != 3) return free(rho);
    double dc = match_centres(cl, found, c, 3, match), dm = 0.0, dpk = 0.0;
    for (int i = 0; i < 3; i++) {
        dm = fmax(dm, fabs(cl[match[i]].mass - a[i] / 6.0));
        double M = 6.0 * -expm1(-2.0 * b) / (2.0 * b), peak_bound = a[i] / M * 1.0001;
        dpk = fmax(dpk, cl[match[i]].peak > peak_bound ? 1.0 : 0.0);
    }
    ab_check(t, cl[0].mass > cl[1].mass && cl[1].mass > cl[2].mass && match[1] == 0 && match[2] == 1 && match[0] == 2,
             "unequal bumps: sorted by mass (%.6f %.6f %.6f)", cl[0].mass, cl[1].mass, cl[2].mass);
    ab_check(t, dm < 1e-5, "unequal bumps b=40: masses a_i / sum a within 1e-5 (worst %.2e)", dm);
    ab_check(t, dc < 1e-5, "unequal bumps b=40: centres (first moment) within 1e-5 (worst %.2e)", dc);
    ab_check(t, dpk == 0.0 && cl[0].prominence > 0.9 * cl[0].peak,
             "unequal bumps: peaks at most the bump maxima, the highest's prominence its range (%.4f of %.4f)",
             cl[0].prominence, cl[0].peak);
    free(rho);
}

/* Clusters where the grid has its seams: straddling phi = 0 (columns nlon - 1 and 0), on
 * both poles (every point of the polar rows is a neighbour of every other). */
static void seams_case(ab_tally *t, const grid *g)
{
    double c[9], a[3] = {1.0, 2.0, 4.0}, b = 40.0;
    double phi = -AB_PI / g->nlon; /* halfway between the last column and the first */
    unit(c, cos(phi), sin(phi), 0.0);
    unit(c + 3, 0, 0, 1);
    unit(c + 6, 0, 0, -1);
    double *rho = malloc(sizeof(double) * (size_t)g->n);
    vmf_density(g, 3, c, a, b, rho);
    ab_cluster cl[8];
    int found = -1, match[3];
    ab_error err = {0};
    ab_status st = ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, AB_CLUSTERS_DEFAULT_PROMINENCE, cl, 8, &found, &err);
    double dc = match_centres(cl, found, c, 3, match), dm = 0.0;
    for (int i = 0; i < found && i < 3; i++) dm = fmax(dm, fabs(cl[match[i]].mass - a[i] / 7.0));
    ab_check(t, st == AB_OK && found == 3, "date line + both poles: 3 clusters (%d) %s", found, err.msg);
    ab_check(t, dc < 1e-5, "date line + both poles b=40: centres within 1e-5 (worst %.2e)", dc);
    ab_check(t, dm < 1e-5, "date line + both poles b=40: masses a_i / sum a within 1e-5 (worst %.2e)", dm);
    free(rho);
}

/* A cluster on the pole that is not round: rho ~ e^{b z + a sin^2 theta cos 2 phi} with
 * 2a < b has one maximum, the pole, but on the grid (which has no pole point) the polar row
 * peaks at phi = 0 and pi. Only the rule that the polar row's points are all neighbours
 * (across the pole) makes that one cluster; with the 8 surrounding points alone it was two
 * (checked by switching the rule off). */
static void elliptic_pole_case(ab_tally *t, const grid *g)
{
    double b = 40.0, a = 10.0, *rho = malloc(sizeof(double) * (size_t)g->n);
    for (int p = 0; p < g->n; p++) {
        const double *x = g->x + 3 * p;
        double s2 = x[0] * x[0] + x[1] * x[1], c2 = s2 > 0 ? (x[0] * x[0] - x[1] * x[1]) / s2 : 0.0;
        rho[p] = exp(b * (x[2] - 1.0) + a * s2 * c2) * 2.0 * b;
    }
    ab_cluster cl[8];
    int found = -1;
    ab_error err = {0};
    ab_status st = ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, AB_CLUSTERS_DEFAULT_PROMINENCE, cl, 8, &found, &err);
    ab_check(t, st == AB_OK && found == 1, "elliptic cluster on the north pole: one cluster (%d) %s", found, err.msg);
    if (found == 1)
        ab_check(t, fabs(cl[0].centre[2] - 1.0) < 1e-12, "elliptic cluster on the north pole: centre the pole (1 - z = %.1e)",
                 1.0 - cl[0].centre[2]);
    free(rho);
}

static void uniform_and_noise(ab_tally *t, const grid *g)
{
    double *rho = malloc(sizeof(double) * (size_t)g->n);
    ab_cluster cl[8];
    int found = -1;
    ab_error err = {0};
    for (int p = 0; p < g->n; p++) rho[p] = 1.0;
    ab_status st = ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, 0.0, cl, 8, &found, &err);
    ab_check(t, st == AB_OK && found == 0, "uniform: 0 clusters even at prominence 0 (%d)", found);
    unsigned long long s = 12345;
    for (int p = 0; p < g->n; p++) rho[p] = 1.0 + 0.01 * urand(&s);
    found = -1;
    st = ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, AB_CLUSTERS_DEFAULT_PROMINENCE, cl, 8, &found, &err);
    ab_check(t, st == AB_OK && found == 0, "uniform + 1%% noise: 0 clusters at the default prominence (%d)", found);
    /* the prominence rule is what keeps them out: without it the noise's maxima all count */
    ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, 0.0, cl, 8, &found, &err);
    ab_check(t, found > 100, "uniform + 1%% noise at prominence 0: %d maxima count (the rule matters)", found);
    /* a 1-cluster: the whole sphere is its basin */
    double c[3];
    unit(c, 0.1, -0.7, 0.4);
    vmf_density(g, 1, c, NULL, 10.0, rho);
    int match[1];
    st = ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, AB_CLUSTERS_DEFAULT_PROMINENCE, cl, 8, &found, &err);
    double dc = match_centres(cl, found, c, 1, match);
    ab_check(t, st == AB_OK && found == 1, "1-cluster b=10: one cluster (%d)", found);
    ab_check(t, found == 1 && fabs(cl[0].mass - 1.0) < 1e-13 && dc < 1e-13,
             "1-cluster b=10: mass 1 (%.2e) and centre (%.2e) to 1e-13 (the whole sphere's first moment)",
             found == 1 ? cl[0].mass - 1.0 : 1.0, dc);
    free(rho);
}

static void determinism_and_errors(ab_tally *t, const grid *g)
{
    ab_error err = {0};
    double c[3 * 12];
    int n;
    ab_arrangement_centres("cube", 0, c, 12, &n, &err);
    double *rho = malloc(sizeof(double) * (size_t)g->n);
    vmf_density(g, n, c, NULL, 20.0, rho);
    ab_cluster a[8], b[8];
    int na = -1, nb = -1;
    memset(a, 0, sizeof a), memset(b, 0, sizeof b);
    ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, AB_CLUSTERS_DEFAULT_PROMINENCE, a, 8, &na, &err);
    ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, AB_CLUSTERS_DEFAULT_PROMINENCE, b, 8, &nb, &err);
    ab_check(t, na == 8 && nb == 8 && memcmp(a, b, sizeof a) == 0, "cube: two runs give identical bytes");
    int sorted = 1;
    for (int i = 1; i < na; i++) sorted &= a[i - 1].mass >= a[i].mass;
    ab_check(t, sorted, "cube: sorted by mass, descending");
    int count = -1;
    ab_check(t, ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, AB_CLUSTERS_DEFAULT_PROMINENCE, a, 5, &count, &err) ==
                        AB_EINVAL &&
                    count == 8 && memcmp(a, b, 5 * sizeof a[0]) == 0,
             "cube with room for 5: refused, count 8 reported, the 5 largest written: %s", err.msg);
    ab_check(t, ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, -0.1, a, 8, &count, &err) == AB_EINVAL,
             "negative prominence refused: %s", err.msg);
    rho[777] = NAN;
    ab_check(t, ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, 0.1, a, 8, &count, &err) == AB_ENAN &&
                    strstr(err.msg, "777"),
             "NaN density refused with the point: %s", err.msg);
    rho[777] = -1.0;
    ab_check(t, ab_find_clusters(g->nlat, g->nlon, g->x, g->w, rho, 0.1, a, 8, &count, &err) == AB_EINVAL,
             "negative density refused: %s", err.msg);
    ab_check(t, ab_find_clusters(0, g->nlon, g->x, g->w, rho, 0.1, a, 8, &count, &err) == AB_EINVAL,
             "empty grid refused: %s", err.msg);
    free(rho);
}

int main(void)
{
    ab_tally t = {0};
    grid g = make_grid(96, 192);
    uniform_and_noise(&t, &g);
    arrangement_case(&t, &g, "tetrahedron", 0, 20.0, 1e-3, 1e-3, 0.0);
    arrangement_case(&t, &g, "tetrahedron", 0, 20.0, 2e-3, 2e-3, 0.01);
    arrangement_case(&t, &g, "octahedron", 0, 30.0, 1e-3, 1e-3, 0.0);
    arrangement_case(&t, &g, "cube", 0, 30.0, 1e-3, 1e-3, 0.0);
    arrangement_case(&t, &g, "icosahedron", 0, 40.0, 1e-3, 1e-3, 0.0);
    arrangement_case(&t, &g, "icosahedron", 0, 40.0, 2e-3, 2e-3, 0.01);
    arrangement_case(&t, &g, "polygon", 3, 20.0, 1e-3, 1e-3, 0.0);
    arrangement_case(&t, &g, "polygon", 7, 40.0, 1e-3, 1e-3, 0.0);
    unequal_case(&t, &g);
    seams_case(&t, &g);
    elliptic_pole_case(&t, &g);
    determinism_and_errors(&t, &g);
    free_grid(&g);
    return ab_finish(&t);
}
