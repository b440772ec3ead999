/* Maps of a density on S^2 (docs/sphere.md, "Clusters and maps"): the lon-lat CSV table and
 * the SVG picture (Mollweide projection, viridis colours, colour bar, graticule, clusters). */
#include "io/sphere_map.h"

#include "attnbif/spec.h"

#include "attnbif/io.h"
#include "io/svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
#define DEG (PI / 180.0)

/* Picture layout in pixels: the Mollweide ellipse is 4 sqrt2 R wide and 2 sqrt2 R high. */
#define MAP_WIDTH 720.0
#define MAP_LEFT 40.0
#define MAP_TOP 70.0
#define CANVAS_WIDTH 900.0
#define BAR_LEFT 800.0
#define BAR_WIDTH 18.0
#define BAR_STRIPS 96     /* colour bar strips */
#define COLOUR_LEVELS 256 /* cells are painted in this many colours (steps of 1/255) */
#define GRATICULE_DEG 30
#define LEGEND_ROWS 4     /* clusters listed in columns of this many */
#define LEGEND_COLUMNS 4  /* beyond 16 clusters: "and N more" */

/* viridis (matplotlib, CC0: van der Walt, Smith and Firing), every 8th of its 256 entries
 * and the last, linearly interpolated: perceptually uniform and readable in grey. */
static const double VIRIDIS[33][3] = {
    {0.267004, 0.004874, 0.329415}, {0.277018, 0.050344, 0.375715}, {0.282327, 0.094955, 0.417331},
    {0.282884, 0.135920, 0.453427}, {0.278826, 0.175490, 0.483397}, {0.270595, 0.214069, 0.507052},
    {0.258965, 0.251537, 0.524736}, {0.244972, 0.287675, 0.537260}, {0.229739, 0.322361, 0.545706},
    {0.214298, 0.355619, 0.551184}, {0.199430, 0.387607, 0.554642}, {0.185556, 0.418570, 0.556753},
    {0.172719, 0.448791, 0.557885}, {0.160665, 0.478540, 0.558115}, {0.149039, 0.508051, 0.557250},
    {0.137770, 0.537492, 0.554906}, {0.127568, 0.566949, 0.550556}, {0.120565, 0.596422, 0.543611},
    {0.120638, 0.625828, 0.533488}, {0.132268, 0.655014, 0.519661}, {0.157851, 0.683765, 0.501686},
    {0.196571, 0.711827, 0.479221}, {0.246070, 0.738910, 0.452024}, {0.304148, 0.764704, 0.419943},
    {0.369214, 0.788888, 0.382914}, {0.440137, 0.811138, 0.340967}, {0.515992, 0.831158, 0.294279},
    {0.595839, 0.848717, 0.243329}, {0.678489, 0.863742, 0.189503}, {0.762373, 0.876424, 0.137064},
    {0.845561, 0.887322, 0.099702}, {0.926106, 0.897330, 0.104071}, {0.993248, 0.906157, 0.143936},
};

/* The colour at t in [0, 1] as "#rrggbb". */
static void viridis(double t, char hex[8])
{
    if (!(t > 0.0)) t = 0.0;
    if (t > 1.0) t = 1.0;
    double s = t * 32.0;
    int k = (int)s;
    if (k > 31) k = 31;
    double f = s - k;
    int rgb[3];
    for (int c = 0; c < 3; c++) rgb[c] = (int)lround(255.0 * ((1.0 - f) * VIRIDIS[k][c] + f * VIRIDIS[k + 1][c]));
    snprintf(hex, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

void ab_sphere_map_cell(int nlat, int nlon, int i, int j, double *lon_deg, double *lat_deg, double *x)
{
    double lat = -90.0 + (i + 0.5) * 180.0 / nlat, lon = -180.0 + (j + 0.5) * 360.0 / nlon;
    if (lon_deg) *lon_deg = lon;
    if (lat_deg) *lat_deg = lat;
    if (x) {
        double cl = cos(lat * DEG);
        x[0] = cl * cos(lon * DEG), x[1] = cl * sin(lon * DEG), x[2] = sin(lat * DEG);
    }
}

static ab_status check_grid(int nlat, int nlon, const void *rho, ab_error *err)
{
    if (nlat < 1 || nlon < 1 || (long long)nlat * nlon > AB_SPHERE_MAP_MAX_CELLS)
        return ab_error_set(err, AB_EINVAL, "sphere map: %d x %d cells (at least 1 x 1, at most %d cells)", nlat, nlon,
                            AB_SPHERE_MAP_MAX_CELLS);
    if (!rho) return ab_error_set(err, AB_EINVAL, "sphere map: no density array");
    return AB_OK;
}

static ab_status check_finite(int nlat, int nlon, const double *rho, ab_error *err)
{
    for (int p = 0; p < nlat * nlon; p++)
        if (!isfinite(rho[p])) {
            double lon, lat;
            ab_sphere_map_cell(nlat, nlon, p / nlon, p % nlon, &lon, &lat, NULL);
            return ab_error_set(err, AB_ENAN, "sphere map: density %g at longitude %g, latitude %g (cell %d)", rho[p], lon,
                                lat, p);
        }
    return AB_OK;
}

ab_status ab_sphere_map_fill(int nlat, int nlon, double (*density)(void *ctx, const double x[3]), void *ctx, double *rho,
                             ab_error *err)
{
    ab_status st = check_grid(nlat, nlon, rho, err);
    if (st) return st;
    if (!density) return ab_error_set(err, AB_EINVAL, "sphere map: no density function");
    for (int i = 0; i < nlat; i++)
        for (int j = 0; j < nlon; j++) {
            double x[3];
            ab_sphere_map_cell(nlat, nlon, i, j, NULL, NULL, x);
            rho[i * nlon + j] = density(ctx, x);
        }
    return check_finite(nlat, nlon, rho, err);
}

ab_status ab_sphere_map_csv(FILE *out, int nlat, int nlon, const double *rho, ab_error *err)
{
    ab_status st = check_grid(nlat, nlon, rho, err);
    if (!st) st = check_finite(nlat, nlon, rho, err);
    if (st) return st;
    fprintf(out, "lon_deg,lat_deg,rho\n");
    for (int i = 0; i < nlat; i++)
        for (int j = 0; j < nlon; j++) {
            double lon, lat;
            ab_sphere_map_cell(nlat, nlon, i, j, &lon, &lat, NULL);
            fprintf(out, "%.10g,%.10g,%.17g\n", lon, lat, rho[i * nlon + j]);
        }
    if (ferror(out)) return ab_error_set(err, AB_EIO, "sphere map: writing the CSV table failed");
    return AB_OK;
}

void ab_sphere_map_opts_default(ab_sphere_map_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->beta = opts->kappa = opts->r = NAN;
    opts->scale = AB_SPHERE_MAP_SCALE_AUTO;
}

/* ---- the projection ---------------------------------------------------------------------- */

/* Mollweide: the auxiliary angle t with 2 t + sin 2 t = pi sin(lat), by bisection (the
 * equation is monotone and Newton stalls at the poles). */
static double mollweide_t(double lat)
{
    double target = PI * sin(lat), a = -0.5 * PI, b = 0.5 * PI;
    if (lat >= 0.5 * PI) return b;
    if (lat <= -0.5 * PI) return a;
    for (int it = 0; it < 60; it++) {
        double m = 0.5 * (a + b);
        if (2.0 * m + sin(2.0 * m) < target) a = m;
        else b = m;
    }
    return 0.5 * (a + b);
}

typedef struct {
    double R, cx, cy, lon0;
} proj;

/* Screen position of (dlon, t): dlon the longitude east of the central meridian in radians,
 * in [-pi, pi], t the auxiliary angle of the latitude. */
static double proj_x(const proj *p, double dlon, double t) { return p->cx + p->R * (2.0 * sqrt(2.0) / PI) * dlon * cos(t); }
static double proj_y(const proj *p, double t) { return p->cy - p->R * sqrt(2.0) * sin(t); }

/* lon - lon0 in (-180, 180] degrees */
static double rel_lon(double lon, double lon0)
{
    double d = fmod(lon - lon0, 360.0);
    if (d > 180.0) d -= 360.0;
    if (d <= -180.0) d += 360.0;
    return d;
}

/* ---- pieces of the picture ----------------------------------------------------------------- */

static void xml_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '\'': fputs("&apos;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            /* control characters are not allowed in XML 1.0 */
            fputc((unsigned char)*s < 0x20 && *s != '\t' ? ' ' : *s, out);
        }
    }
}

typedef struct {
    int log;
    double lo, hi; /* the colour bar's range (rho values) */
    double min;    /* min rho (below lo when the log scale clips) */
} scale;

static scale choose_scale(int n, const double *rho, ab_sphere_map_scale want)
{
    double lo = rho[0], hi = rho[0];
    for (int p = 1; p < n; p++) lo = fmin(lo, rho[p]), hi = fmax(hi, rho[p]);
    scale s = {0, lo, hi, lo};
    int log_ok = hi > 0.0;
    if (want == AB_SPHERE_MAP_SCALE_LOG && log_ok) s.log = 1;
    if (want == AB_SPHERE_MAP_SCALE_AUTO && lo > 0.0 && hi > AB_SPHERE_MAP_LOG_RATIO * lo) s.log = 1;
    if (s.log && !(lo > AB_SPHERE_MAP_LOG_FLOOR * hi)) s.lo = AB_SPHERE_MAP_LOG_FLOOR * hi;
    if (s.log && s.hi <= s.lo * (1.0 + 1e-9)) s.log = 0, s.lo = lo;
    if (!s.log && s.hi - s.lo <= 1e-12 * fmax(fabs(s.hi), 1e-300)) {
        /* a constant (the uniform state): a bar around it, its colour the middle one */
        double d = 0.5 * (fabs(s.hi) > 0.0 ? fabs(s.hi) : 1.0);
        s.lo -= d, s.hi += d;
    }
    return s;
}

static double scale_t(const scale *s, double v)
{
    if (s->log) return v <= s->lo ? 0.0 : (log(v) - log(s->lo)) / (log(s->hi) - log(s->lo));
    return (v - s->lo) / (s->hi - s->lo);
}

static int colour_level(const scale *s, double v)
{
    double t = scale_t(s, v);
    if (!(t > 0.0)) t = 0.0;
    if (t > 1.0) t = 1.0;
    return (int)lround(t * (COLOUR_LEVELS - 1));
}

typedef struct {
    int level, row;
    double a, b; /* longitudes east of the central meridian, radians */
} run;

static int by_level(const void *x, const void *y)
{
    const run *a = x, *b = y;
    if (a->level != b->level) return (a->level > b->level) - (a->level < b->level);
    if (a->row != b->row) return (a->row > b->row) - (a->row < b->row);
    return (a->a > b->a) - (a->a < b->a);
}

/* Work space of the cells, allocated before anything is written. */
typedef struct {
    run *runs;     /* nlat * nlon */
    double *t_edge; /* nlat + 1 */
    double *rel;    /* nlon */
} cell_space;

static void cell_space_free(cell_space *c) { free(c->runs), free(c->t_edge), free(c->rel); }

static ab_status cell_space_alloc(cell_space *c, int nlat, int nlon, ab_error *err)
{
    size_t n = (size_t)nlat * (size_t)nlon;
    c->runs = malloc(sizeof *c->runs * n);
    c->t_edge = malloc(sizeof(double) * (size_t)(nlat + 1));
    c->rel = malloc(sizeof(double) * (size_t)nlon);
    if (c->runs && c->t_edge && c->rel) return AB_OK;
    cell_space_free(c);
    return ab_error_set(err, AB_ENOMEM, "sphere map: no memory for %zu cells", n);
}

/* The cells, as runs of equal colour along each row, one path per colour. The seams between
 * neighbouring cells are covered by a hairline stroke of the same colour. */
static void draw_cells(FILE *out, const proj *pj, int nlat, int nlon, const double *rho, const scale *s, cell_space *cs)
{
    run *runs = cs->runs;
    double *t_edge = cs->t_edge, *rel = cs->rel;
    for (int i = 0; i <= nlat; i++) t_edge[i] = mollweide_t((-90.0 + i * 180.0 / nlat) * DEG);
    double dl = 360.0 / nlon;
    int first = 0;
    for (int j = 0; j < nlon; j++) {
        double lon;
        ab_sphere_map_cell(nlat, nlon, 0, j, &lon, NULL, NULL);
        rel[j] = rel_lon(lon, pj->lon0);
        if (rel[j] < rel[first]) first = j;
    }
    size_t nr = 0;
    for (int i = 0; i < nlat; i++) {
        for (int k = 0; k < nlon; k++) {
            int j = (first + k) % nlon, lev = colour_level(s, rho[i * nlon + j]);
            double a = fmax(rel[j] - 0.5 * dl, -180.0) * DEG, b = fmin(rel[j] + 0.5 * dl, 180.0) * DEG;
            if (k > 0 && runs[nr - 1].level == lev) runs[nr - 1].b = b;
            else runs[nr++] = (run){lev, i, a, b};
        }
    }
    qsort(runs, nr, sizeof *runs, by_level);
    for (size_t r = 0; r < nr; r++) {
        if (r == 0 || runs[r].level != runs[r - 1].level) {
            char hex[8];
            viridis((double)runs[r].level / (COLOUR_LEVELS - 1), hex);
            if (r > 0) fputs("'/>\n", out);
            fprintf(out, "<path fill='%s' stroke='%s' stroke-width='0.4' d='", hex, hex);
        }
        double t0 = t_edge[runs[r].row], t1 = t_edge[runs[r].row + 1];
        fprintf(out, "M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ", proj_x(pj, runs[r].a, t0), proj_y(pj, t0),
                proj_x(pj, runs[r].b, t0), proj_y(pj, t0), proj_x(pj, runs[r].b, t1), proj_y(pj, t1),
                proj_x(pj, runs[r].a, t1), proj_y(pj, t1));
    }
    if (nr > 0) fputs("'/>\n", out);
}

static void draw_graticule(FILE *out, const proj *pj)
{
    fputs("<g fill='none' stroke='#ffffff' stroke-opacity='0.45' stroke-width='0.7'>\n", out);
    for (int lat = -90 + GRATICULE_DEG; lat < 90; lat += GRATICULE_DEG) {
        double t = mollweide_t(lat * DEG);
        fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f'/>\n", proj_x(pj, -PI, t), proj_y(pj, t),
                proj_x(pj, PI, t), proj_y(pj, t));
    }
    for (int lon = -180; lon < 180; lon += GRATICULE_DEG) {
        double dlon = rel_lon(lon, pj->lon0) * DEG;
        if (fabs(dlon) > PI - 1e-9) continue; /* the outline */
        fputs("<polyline points='", out);
        for (int lat = -90; lat <= 90; lat += 3) {
            double t = mollweide_t(lat * DEG);
            fprintf(out, "%.1f,%.1f ", proj_x(pj, dlon, t), proj_y(pj, t));
        }
        fputs("'/>\n", out);
    }
    fputs("</g>\n", out);
    fprintf(out, "<ellipse cx='%.1f' cy='%.1f' rx='%.1f' ry='%.1f' fill='none' stroke='#333' stroke-width='1'/>\n", pj->cx,
            pj->cy, 2.0 * sqrt(2.0) * pj->R, sqrt(2.0) * pj->R);
    /* labels: latitudes left of the outline, longitudes along the equator */
    fputs("<g font-size='10' fill='#333'>\n", out);
    for (int lat = -60; lat <= 60; lat += GRATICULE_DEG) {
        double t = mollweide_t(lat * DEG);
        fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='end'>%d&#176;</text>\n", proj_x(pj, -PI, t) - 4,
                proj_y(pj, t) + 3, lat);
    }
    fputs("</g>\n<g font-size='10' fill='#ffffff' stroke='#000000' stroke-width='2' paint-order='stroke'>\n", out);
    for (int lon = -180; lon < 180; lon += GRATICULE_DEG) {
        double dlon = rel_lon(lon, pj->lon0) * DEG;
        if (fabs(dlon) > PI - 1e-9) continue;
        fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle'>%d&#176;</text>\n", proj_x(pj, dlon, 0.0),
                proj_y(pj, 0.0) + 12, lon);
    }
    fputs("</g>\n", out);
}

/* A tick spacing of 1, 2 or 5 times a power of ten giving about n ticks. */
static double nice_step(double span, int n)
{
    double raw = span / n, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

static void draw_bar(FILE *out, const scale *s, double top, double height)
{
    double x = BAR_LEFT;
    for (int k = 0; k < BAR_STRIPS; k++) {
        char hex[8];
        viridis((k + 0.5) / BAR_STRIPS, hex);
        double y = top + height * (1.0 - (k + 1.0) / BAR_STRIPS);
        fprintf(out, "<rect x='%.1f' y='%.2f' width='%.1f' height='%.2f' fill='%s' stroke='%s' stroke-width='0.3'/>\n", x,
                y, BAR_WIDTH, height / BAR_STRIPS, hex, hex);
    }
    fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#333'/>\n", x, top, BAR_WIDTH,
            height);
    fputs("<g font-size='11' fill='#222'>\n", out);
    /* ticks at round values: decades (log), or 1-2-5 steps (linear) */
    if (s->log) {
        double d0 = ceil(log10(s->lo) - 1e-9), d1 = floor(log10(s->hi) + 1e-9);
        double every = ceil((d1 - d0 + 1.0) / 8.0); /* at most about 8 labels */
        for (double d = d0; d <= d1; d += every) {
            double y = top + height * (1.0 - scale_t(s, pow(10.0, d)));
            fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>\n", x + BAR_WIDTH, y,
                    x + BAR_WIDTH + 4, y);
            fprintf(out, "<text x='%.1f' y='%.1f'>1e%+d</text>\n", x + BAR_WIDTH + 7, y + 4, (int)d);
        }
    } else {
        double step = nice_step(s->hi - s->lo, 6);
        for (double v = ceil(s->lo / step) * step; v <= s->hi + 1e-9 * step; v += step) {
            double y = top + height * (1.0 - scale_t(s, v));
            fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>\n", x + BAR_WIDTH, y,
                    x + BAR_WIDTH + 4, y);
            fprintf(out, "<text x='%.1f' y='%.1f'>%.4g</text>\n", x + BAR_WIDTH + 7, y + 4, fabs(v) < 1e-9 * step ? 0.0 : v);
        }
    }
    /* the uniform level, what every clustered state is compared with */
    if (s->lo < 1.0 && 1.0 < s->hi) {
        double y = top + height * (1.0 - scale_t(s, 1.0));
        fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ffffff' stroke-dasharray='3,2'/>\n", x - 4,
                y, x + BAR_WIDTH, y);
        fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='end' font-size='10'>uniform</text>\n", x - 6, y + 3);
    }
    fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle'>max %.4g</text>\n", x + BAR_WIDTH / 2, top - 8, s->hi);
    if (s->min < s->lo)
        fprintf(out,
                "<text x='%.1f' y='%.1f' text-anchor='middle'>below %.3g:</text>\n"
                "<text x='%.1f' y='%.1f' text-anchor='middle'>bottom colour</text>\n",
                x + BAR_WIDTH / 2, top + height + 16, s->lo, x + BAR_WIDTH / 2, top + height + 30);
    else
        fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle'>min %.4g</text>\n", x + BAR_WIDTH / 2,
                top + height + 16, s->min);
    double lx = x + BAR_WIDTH + 62, ly = top + height / 2;
    fprintf(out,
            "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12' transform='rotate(-90 %.1f %.1f)'>density "
            "rho (uniform = 1), %s scale</text>\n",
            lx, ly, lx, ly, s->log ? "log" : "linear");
    fputs("</g>\n", out);
}

static void draw_clusters(FILE *out, const proj *pj, const ab_sphere_map_opts *o, double legend_top)
{
    if (o->n_clusters <= 0 || !o->clusters) {
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='12' fill='#222'>No clusters given.</text>\n", MAP_LEFT,
                legend_top);
        return;
    }
    int shown = o->n_clusters < LEGEND_ROWS * LEGEND_COLUMNS ? o->n_clusters : LEGEND_ROWS * LEGEND_COLUMNS;
    fprintf(out, "<g font-size='12' font-weight='bold' fill='#ffffff' stroke='#000000' stroke-width='2.5' "
                 "paint-order='stroke'>\n");
    for (int c = 0; c < o->n_clusters; c++) {
        const double *x = o->clusters[c].centre;
        double lat = asin(fmax(-1.0, fmin(1.0, x[2]))), lon = atan2(x[1], x[0]) / DEG;
        double t = mollweide_t(lat), X = proj_x(pj, rel_lon(lon, pj->lon0) * DEG, t), Y = proj_y(pj, t);
        fprintf(out, "<circle cx='%.1f' cy='%.1f' r='6' fill='none' stroke='#ff3030' stroke-width='2'/>\n", X, Y);
        fprintf(out, "<text x='%.1f' y='%.1f'>%d</text>\n", X + 8, Y - 7, c + 1);
    }
    fputs("</g>\n<g font-size='11' fill='#222'>\n", out);
    fprintf(out, "<text x='%.1f' y='%.1f' font-size='12'>%d cluster%s (centre: longitude, latitude; mass; peak rho):</text>\n",
            MAP_LEFT, legend_top, o->n_clusters, o->n_clusters == 1 ? "" : "s");
    for (int c = 0; c < shown; c++) {
        const ab_cluster *k = &o->clusters[c];
        double lat = asin(fmax(-1.0, fmin(1.0, k->centre[2]))) / DEG, lon = atan2(k->centre[1], k->centre[0]) / DEG;
        fprintf(out, "<text x='%.1f' y='%.1f'>%d: %.1f&#176;, %.1f&#176;; %.4f; %.4g</text>\n",
                MAP_LEFT + (c / LEGEND_ROWS) * 215.0, legend_top + 16.0 * (c % LEGEND_ROWS + 1), c + 1, lon, lat, k->mass,
                k->peak);
    }
    if (shown < o->n_clusters)
        fprintf(out, "<text x='%.1f' y='%.1f'>and %d more</text>\n", MAP_LEFT, legend_top + 16.0 * (LEGEND_ROWS + 1),
                o->n_clusters - shown);
    fputs("</g>\n", out);
}

static void draw_title(FILE *out, const ab_sphere_map_opts *o, int nlat, int nlon, const scale *s)
{
    fprintf(out, "<text x='%.1f' y='26' font-size='16' fill='#111'>", MAP_LEFT);
    int any = 0;
    if (o->model) xml_text(out, o->model), any = 1;
    const char *names[3] = {"beta", "kappa", "r"};
    const double vals[3] = {o->beta, o->kappa, o->r};
    for (int k = 0; k < 3; k++)
        if (isfinite(vals[k])) fprintf(out, "%s%s = %.6g", any ? ",  " : "", names[k], vals[k]), any = 1;
    if (!any) fputs("density on the sphere", out);
    fputs("</text>\n", out);
    fprintf(out, "<text x='%.1f' y='46' font-size='12' fill='#333'>", MAP_LEFT);
    if (o->note) xml_text(out, o->note), fputs(" &#8212; ", out);
    fprintf(out, "Mollweide equal-area projection centred on longitude %.4g&#176;, %d x %d cells, rho from %.4g to %.4g",
            o->lon0_deg, nlon, nlat, s->min, s->hi);
    fputs("</text>\n", out);
}

ab_status ab_sphere_map_svg(FILE *out, int nlat, int nlon, const double *rho, const ab_sphere_map_opts *opts,
                            ab_error *err)
{
    ab_sphere_map_opts def;
    if (!opts) ab_sphere_map_opts_default(&def), opts = &def;
    ab_status st = check_grid(nlat, nlon, rho, err);
    if (!st) st = check_finite(nlat, nlon, rho, err);
    if (st) return st;
    if (!isfinite(opts->lon0_deg))
        return ab_error_set(err, AB_EINVAL, "sphere map: central longitude %g is not finite", opts->lon0_deg);
    if (opts->n_clusters < 0 || (opts->n_clusters > 0 && !opts->clusters))
        return ab_error_set(err, AB_EINVAL, "sphere map: %d clusters but no array", opts->n_clusters);
    for (int c = 0; c < opts->n_clusters; c++) {
        const ab_cluster *k = &opts->clusters[c];
        double nn = k->centre[0] * k->centre[0] + k->centre[1] * k->centre[1] + k->centre[2] * k->centre[2];
        if (!(nn > 0.5 && nn < 2.0) || !isfinite(k->mass) || !isfinite(k->peak))
            return ab_error_set(err, AB_EINVAL, "sphere map: cluster %d has no unit centre or a non-finite mass or peak",
                                c + 1);
    }
    scale s = choose_scale(nlat * nlon, rho, opts->scale);
    proj pj = {MAP_WIDTH / (4.0 * sqrt(2.0)), MAP_LEFT + MAP_WIDTH / 2, 0.0, opts->lon0_deg};
    double map_h = 2.0 * sqrt(2.0) * pj.R;
    pj.cy = MAP_TOP + map_h / 2;
    double legend_top = MAP_TOP + map_h + 34.0;
    double height = legend_top + 16.0 * (LEGEND_ROWS + 2);

    cell_space cs;
    st = cell_space_alloc(&cs, nlat, nlon, err);
    if (st) return st;

    fprintf(out, "<?xml version='1.0' encoding='UTF-8'?>\n");
    fprintf(out,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' viewBox='0 0 %.0f %.0f' "
            "font-family='sans-serif'>\n",
            CANVAS_WIDTH, height, CANVAS_WIDTH, height);
    fputs("<rect width='100%' height='100%' fill='white'/>\n", out);
    draw_title(out, opts, nlat, nlon, &s);
    draw_cells(out, &pj, nlat, nlon, rho, &s, &cs);
    cell_space_free(&cs);
    draw_graticule(out, &pj);
    draw_bar(out, &s, MAP_TOP + 10.0, map_h - 20.0);
    draw_clusters(out, &pj, opts, legend_top);
    fputs("</svg>\n", out);
    if (ferror(out)) return ab_error_set(err, AB_EIO, "sphere map: writing the SVG picture failed");
    return AB_OK;
}

ab_status ab_sphere_map_write(const char *dir, const char *csv_name, const char *svg_name, int nlat, int nlon,
                              const double *rho, const ab_sphere_map_opts *opts, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, csv_name, &f, err);
    if (st) return st;
    if ((st = ab_sphere_map_csv(ab_file_stream(f), nlat, nlon, rho, err))) {
        ab_file_abort(f);
        return st;
    }
    if ((st = ab_file_commit(f, err))) return st;
    if ((st = ab_file_open_in(dir, svg_name, &f, err))) return st;
    if ((st = ab_sphere_map_svg(ab_file_stream(f), nlat, nlon, rho, opts, err))) {
        ab_file_abort(f);
        return st;
    }
    if ((st = ab_file_commit(f, err))) return st;
    if ((st = ab_png_from_svg(dir, svg_name, err))) return st; /* a PNG beside every SVG (docs/output-run.md) */
    /* and a gnuplot script that redraws the map from its CSV: NAME.svg -> NAME.gp, drawing
     * NAME-gnuplot.png (longitude-latitude, not Mollweide: gnuplot has no equal-area map) */
    char base[AB_PATH_MAX], gp[AB_PATH_MAX + 4];
    snprintf(base, sizeof base, "%s", svg_name);
    char *dot = strrchr(base, '.');
    if (dot) *dot = '\0';
    snprintf(gp, sizeof gp, "%s.gp", base);
    if ((st = ab_file_open_in(dir, gp, &f, err))) return st;
    FILE *out = ab_file_stream(f);
    const char *leaf = strrchr(csv_name, '/'), *leaf_png = strrchr(base, '/');
    fprintf(out,
            "# Redraw %s (the density rho, relative to the uniform one, on a %d x %d longitude-latitude\n"
            "# grid) from %s (columns lon_deg, lat_deg, rho): run gnuplot in this file's directory;\n"
            "# it writes %s-gnuplot.png (longitude-latitude, not the SVG's Mollweide projection).\n"
            "set datafile separator ','\n"
            "set terminal pngcairo size 900,480 font 'sans,10'\n"
            "set output '%s-gnuplot.png'\n"
            "set xlabel 'longitude (degrees)'\nset ylabel 'latitude (degrees)'\n"
            "set xrange [-180:180]\nset yrange [-90:90]\nset size ratio 0.5\n"
            "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')\n"
            "set cblabel 'rho'\n"
            "plot '%s' skip 1 using 1:2:3 with image notitle\n",
            svg_name, nlat, nlon, leaf ? leaf + 1 : csv_name, leaf_png ? leaf_png + 1 : base, leaf_png ? leaf_png + 1 : base,
            leaf ? leaf + 1 : csv_name);
    return ab_file_commit(f, err);
}
