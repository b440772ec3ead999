/* profiles.svg: the density of every labelled point of a run in one figure, against the
 * polar angle for zonal states, as a Mollweide map (src/io/sphere_map.c) on the whole sphere
 * (docs/output-run.md, "profiles.svg"). */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "io/plot.h"

#include "attnbif/io.h"
#include "attnbif/results.h"
#include "io/sphere_map.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
/* Zonal: panels of this size (px) in columns, with room for a title above and the axes'
 * labels around. */
#define Z_COLUMNS 3
#define Z_PANEL_W 230.0
#define Z_PANEL_H 140.0
#define Z_CELL_W 320.0
#define Z_CELL_H 232.0
#define Z_LEFT 70.0
#define Z_TOP 84.0
/* Sphere: each map drawn at this scale in columns; the maps are averaged over blocks of
 * MAP_COARSEN x MAP_COARSEN cells first (4-degree cells from the 2-degree ones), so that ten
 * maps stay a picture of a few MB, not tens. */
#define S_COLUMNS 2
#define S_SCALE 0.5
#define MAP_COARSEN 2

static int labelled(const ab_special_point *s) { return s->profile[0] && s->nodes.n > 0; }

int ab_plot_profiles_count(const ab_diagram *d)
{
    int n = 0;
    for (int i = 0; i < d->n_special; i++) n += labelled(&d->special[i]);
    return n;
}

/* Panel j of the zonal figure. */
void ab_plot_profiles_panel(int j, ab_svg_panel *p, double rho_max)
{
    const ab_svg_panel q = {0.0, 180.0, 0.0, rho_max, Z_LEFT + (j % Z_COLUMNS) * Z_CELL_W, Z_TOP + (j / Z_COLUMNS) * Z_CELL_H,
                            Z_PANEL_W, Z_PANEL_H};
    *p = q;
}

static void title_of(const ab_diagram *d, const ab_special_point *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s %s, branch %d, %s = %.5g", (int)strcspn(s->profile, "."), s->profile, ab_special_type_name(s->type),
             s->branch, d->parameter == AB_PARAM_KAPPA ? "kappa" : "beta", d->parameter == AB_PARAM_KAPPA ? s->kappa : s->beta);
}

static void zonal(FILE *out, const ab_diagram *d)
{
    int j = 0;
    for (int i = 0; i < d->n_special; i++) {
        const ab_special_point *s = &d->special[i];
        if (!labelled(s)) continue;
        double top = 0.0;
        for (int k = 0; k < s->nodes.n; k++) top = fmax(top, s->nodes.rho[k]);
        if (!(top > 0.0) || !isfinite(top)) top = 1.0;
        ab_svg_panel p;
        ab_plot_profiles_panel(j++, &p, 1.08 * fmax(top, 1.0));
        char title[128], name[64];
        title_of(d, s, title, sizeof title);
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='11'>", p.left, p.top - 20);
        ab_svg_escaped(out, title);
        fputs("</text>\n", out);
        if (s->branch >= 1 && s->branch <= d->n_branches) {
            ab_plot_branch_name(d, &d->branches[s->branch - 1], name, sizeof name);
            fprintf(out, "<text x='%.1f' y='%.1f' font-size='10' fill='#555'>", p.left, p.top - 6);
            ab_svg_escaped(out, name);
            fputs("</text>\n", out);
        }
        ab_svg_axes(out, &p, "theta (degrees from the pole)", "rho");
        /* the uniform density for reference */
        fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#999' stroke-dasharray='2,3'/>\n", p.left,
                ab_svg_y(&p, 1.0), p.left + p.w, ab_svg_y(&p, 1.0));
        fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='1.6' points='", ab_svg_colour(s->branch - 1));
        for (int k = 0; k < s->nodes.n; k++)
            if (isfinite(s->nodes.rho[k]))
                fprintf(out, "%.2f,%.2f ", ab_svg_x(&p, s->nodes.theta[k] * 180.0 / PI), ab_svg_y(&p, s->nodes.rho[k]));
        fprintf(out, "'/>\n");
    }
}

/* The map averaged over blocks of f x f cells (weights cos(latitude), the cells' areas). */
static double *coarsen(const double *rho, int nlat, int nlon, int f, int *mlat, int *mlon)
{
    *mlat = nlat / f, *mlon = nlon / f;
    if (*mlat < 1 || *mlon < 1 || nlat % f || nlon % f) *mlat = nlat, *mlon = nlon, f = 1;
    double *c = malloc(sizeof(double) * (size_t)*mlat * (size_t)*mlon);
    if (!c) return NULL;
    for (int I = 0; I < *mlat; I++)
        for (int J = 0; J < *mlon; J++) {
            double s = 0.0, w = 0.0;
            for (int i = I * f; i < (I + 1) * f; i++) {
                const double wi = cos((-90.0 + (i + 0.5) * 180.0 / nlat) * PI / 180.0);
                for (int j = J * f; j < (J + 1) * f; j++) s += wi * rho[(size_t)i * nlon + j], w += wi;
            }
            c[(size_t)I * *mlon + J] = s / w;
        }
    return c;
}

/* Each map as a scaled copy of the picture `run` writes beside it (profiles/<LABEL>.svg). */
static ab_status sphere(FILE *out, const ab_diagram *d, double *height, ab_error *err)
{
    int j = 0;
    double y = 40.0, row_h = 0.0;
    for (int i = 0; i < d->n_special; i++) {
        const ab_special_point *s = &d->special[i];
        if (!labelled(s) || !s->map) continue;
        int mlat, mlon;
        double *rho = coarsen(s->map, s->map_nlat, s->map_nlon, MAP_COARSEN, &mlat, &mlon);
        if (!rho) return ab_error_set(err, AB_ENOMEM, "out of memory");
        char note[128], *buf = NULL;
        size_t len = 0;
        title_of(d, s, note, sizeof note);
        ab_sphere_map_opts o;
        ab_sphere_map_opts_default(&o);
        o.model = ab_model_kind_name(d->spec->model.kind);
        o.beta = s->beta, o.kappa = s->kappa, o.r = s->r;
        o.note = note;
        o.clusters = s->clusters, o.n_clusters = s->n_clusters;
        FILE *mem = open_memstream(&buf, &len);
        ab_status st = mem ? ab_sphere_map_svg(mem, mlat, mlon, rho, &o, err) : ab_error_set(err, AB_ENOMEM, "out of memory");
        if (mem) fclose(mem);
        free(rho);
        if (st) { free(buf); return st; }
        /* drop the XML declaration: the picture becomes a nested svg element */
        const char *svg = strstr(buf, "<svg");
        const char *h = svg ? strstr(svg, "height='") : NULL;
        const double mh = h ? atof(h + 8) : 560.0;
        if (j % S_COLUMNS == 0 && j > 0) y += row_h + 10.0, row_h = 0.0;
        fprintf(out, "<g transform='translate(%.1f %.1f) scale(%.3f)'>\n", 10.0 + (j % S_COLUMNS) * 900.0 * S_SCALE, y, S_SCALE);
        fputs(svg ? svg : "", out);
        fputs("</g>\n", out);
        row_h = fmax(row_h, mh * S_SCALE);
        free(buf);
        j++;
    }
    *height = y + row_h + 10.0;
    return AB_OK;
}

ab_status ab_plot_profiles_write(const char *dir, const ab_diagram *d, ab_error *err)
{
    const int n = ab_plot_profiles_count(d);
    if (n == 0) return AB_OK;
    const int on_sphere = d->spec->disc.type == AB_DISC_SPHERE;
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "profiles.svg", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    if (on_sphere) {
        /* the height is known once the maps are drawn: draw them into memory first */
        char *body = NULL;
        size_t len = 0;
        double height = 0.0;
        FILE *mem = open_memstream(&body, &len);
        if (!mem) { ab_file_abort(f); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
        st = sphere(mem, d, &height, err);
        fclose(mem);
        if (!st) {
            ab_svg_begin(out, 20.0 + S_COLUMNS * 900.0 * S_SCALE, height);
            fprintf(out, "<text x='10' y='24' font-size='15'>%s, d = %d: the density at each labelled point</text>\n",
                    ab_model_kind_name(d->spec->model.kind), d->spec->model.d);
            fwrite(body, 1, len, out);
            ab_svg_end(out);
        }
        free(body);
    } else {
        const int rows = (n + Z_COLUMNS - 1) / Z_COLUMNS;
        ab_svg_begin(out, Z_LEFT + Z_COLUMNS * Z_CELL_W - 40.0, Z_TOP + rows * Z_CELL_H);
        fprintf(out, "<text x='%.0f' y='28' font-size='15'>%s, d = %d: density against the angle from the pole at each "
                     "labelled point (dotted: uniform)</text>\n",
                Z_LEFT, ab_model_kind_name(d->spec->model.kind), d->spec->model.d);
        zonal(out, d);
        ab_svg_end(out);
    }
    if (st) { ab_file_abort(f); return st; }
    return ab_file_commit(f, err);
}
