/* gnuplot scripts beside the figures of `run`, each redrawing its figure from the CSV files
 * (diagram.gp, spectrum.gp, profiles.gp), so that users restyle figures in a tool they know
 * (docs/output-run.md, "gnuplot scripts"). */
#include "io/plot.h"

#include "attnbif/io.h"
#include "attnbif/results.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The branches' names as a gnuplot array (quotes in names cannot occur: they are built from
 * fixed words and numbers, or set by the library; a quote would be dropped). */
static void names_array(FILE *out, const ab_diagram *d)
{
    fprintf(out, "array name[%d]\n", d->n_branches > 0 ? d->n_branches : 1);
    for (int b = 0; b < d->n_branches; b++) {
        char name[64];
        ab_plot_branch_name(d, &d->branches[b], name, sizeof name);
        fprintf(out, "name[%d] = \"", b + 1);
        for (const char *c = name; *c; c++)
            if (*c != '"' && *c != '\\') fputc(*c, out);
        fprintf(out, "\"\n");
    }
}

/* Whether the diagram has the S panel (as diagram.svg: a state with S but no r). */
static int has_nematic(const ab_diagram *d)
{
    for (int b = 0; b < d->n_branches; b++)
        for (int i = 0; i < d->branches[b].n_points; i++)
            if (fabs(d->branches[b].points[i].S) > 0.05 && d->branches[b].points[i].r < 0.05) return 1;
    return 0;
}

static void header(FILE *out, const char *what, const char *name, int w, int h)
{
    fprintf(out,
            "# %s\n"
            "# gnuplot %s.gp writes %s-gnuplot.png (%s.png beside it is rsvg-convert's rendering of %s.svg).\n"
            "set datafile separator ','\n"
            "set terminal pngcairo size %d,%d font 'sans,10'\n"
            "set output '%s-gnuplot.png'\n",
            what, name, name, name, name, w, h, name);
    /* the SVG's colours, branch by branch */
    for (int k = 0; k < 10; k++) fprintf(out, "set linetype %d lc rgb '%s'\n", k + 1, ab_svg_colour(k));
    fputs("set linetype cycle 10\n", out);
}

static ab_status write_diagram_gp(const char *dir, const ab_diagram *d, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "diagram.gp", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    const int two = has_nematic(d), x = d->parameter == AB_PARAM_KAPPA ? 3 : 4, xs = d->parameter == AB_PARAM_KAPPA ? 2 : 3;
    const char *p = d->parameter == AB_PARAM_KAPPA ? "kappa" : "beta";
    fputs("# Redraw the bifurcation diagram (diagram.svg) from branches.csv and special_points.csv:\n", out);
    header(out, "branches.csv columns: 1 branch, 2 point, 3 kappa, 4 beta, 5 r, 6 S, 7 free_energy, 8 n_unstable,\n"
                "# 9 stable (1/0), 10 label (LP, BP, HB, EP on special rows), 11 nodes. special_points.csv: 1 type,\n"
                "# 2 kappa, 3 beta, 4 branch, 5 point, 6 criticality, 7 sector, 8 l, 9 r, 10 S, 11 profile (profiles/BP1.csv).\n"
                "# Each branch is drawn dashed, then solid over its stable points.",
           "diagram", 1000, two ? 900 : 500);
    fputs("set key outside right top\n", out);
    fprintf(out, "nb = %d\n", d->n_branches);
    names_array(out, d);
    fputs("label(s) = substr(s, 10, strlen(s) - 4)\n", out);
    if (two) fputs("set multiplot layout 2,1\n", out);
    for (int k = 0; k < (two ? 2 : 1); k++) {
        const int y = k ? 6 : 5, ys = k ? 10 : 9;
        fprintf(out, "set xlabel '%s'\nset ylabel '%s'\n", p, k ? "S (nematic order)" : "r (polar order)");
        fprintf(out,
                "plot for [b=1:nb] 'branches.csv' skip 1 using %d:($1 == b ? $%d : NaN) with lines dt 2 lw 1.5 lc b "
                "title sprintf('%%d %%s', b, name[b]), \\\n"
                "     for [b=1:nb] 'branches.csv' skip 1 using %d:(($1 == b && $9 == 1) ? $%d : NaN) with lines dt 1 lw 2 lc b "
                "notitle, \\\n"
                "     'special_points.csv' skip 1 using %d:(strcol(1) eq 'end' ? NaN : $%d):(label(strcol(11))) with labels "
                "point pt 6 ps 1.2 lc 'black' offset 1,1 notitle\n",
                x, y, x, y, xs, ys);
    }
    if (two) fputs("unset multiplot\n", out);
    return ab_file_commit(f, err);
}

static ab_status write_spectrum_gp(const char *dir, const ab_diagram *d, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "spectrum.gp", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    const int x = d->parameter == AB_PARAM_KAPPA ? 3 : 4, xs = d->parameter == AB_PARAM_KAPPA ? 2 : 3;
    int np = d->spec->n_sectors;
    if (np > AB_PLOT_SPECTRUM_MAX_PANELS) np = AB_PLOT_SPECTRUM_MAX_PANELS;
    fputs("# Redraw spectrum.svg from spectrum.csv and special_points.csv:\n", out);
    header(out, "spectrum.csv columns: 1 branch, 2 point, 3 kappa, 4 beta, 5 sector, 6 lead_re (the largest real part\n"
                "# of the sector's stability eigenvalues); special points are marked at zero in the sector that crosses.",
           "spectrum", 1000, 60 + 220 * np);
    fprintf(out, "set key outside right top\nnb = %d\n", d->n_branches);
    names_array(out, d);
    fputs("label(s) = substr(s, 10, strlen(s) - 4)\n", out);
    fprintf(out, "set multiplot layout %d,1\n", np);
    for (int k = 0; k < np; k++) {
        const int m = d->spec->sectors[k];
        fprintf(out, "set xlabel '%s'\nset ylabel 'max Re lambda, sector %d'\n", d->parameter == AB_PARAM_KAPPA ? "kappa" : "beta", m);
        fprintf(out,
                "plot for [b=1:nb] 'spectrum.csv' skip 1 using %d:(($1 == b && $5 == %d) ? $6 : NaN) with lines lw 1.5 lc b "
                "title sprintf('%%d %%s', b, name[b]), \\\n"
                "     0 with lines dt 3 lc 'grey' notitle, \\\n"
                "     'special_points.csv' skip 1 using %d:((strcol(1) ne 'end' && $7 == %d) ? 0 : NaN):(label(strcol(11))) "
                "with labels point pt 6 ps 1.2 lc 'black' offset 1,1 notitle\n",
                x, m, xs, m);
    }
    fputs("unset multiplot\n", out);
    return ab_file_commit(f, err);
}

static ab_status write_profiles_gp(const char *dir, const ab_diagram *d, ab_error *err)
{
    const int n = ab_plot_profiles_count(d);
    if (n == 0) return AB_OK;
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "profiles.gp", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    const int sphere = d->spec->disc.type == AB_DISC_SPHERE, cols = sphere ? 2 : 3, rows = (n + cols - 1) / cols;
    fputs("# Redraw profiles.svg from the files in profiles/:\n", out);
    header(out,
           sphere ? "profiles/LABEL_map.csv columns: 1 lon_deg, 2 lat_deg, 3 rho (2-degree cells), drawn here in\n"
                    "# longitude and latitude (profiles.svg uses the Mollweide projection)."
                  : "profiles/LABEL.csv: '#' lines, the header grid,t,theta,rho, then one row per node (theta in\n"
                    "# radians, rho relative to the uniform density).",
           "profiles", sphere ? 1100 : 1000, (sphere ? 320 : 240) * rows);
    fprintf(out, "set multiplot layout %d,%d\nunset key\n", rows, cols);
    if (sphere) fputs("set view map\nset palette viridis\nset xrange [-180:180]\nset yrange [-90:90]\nset size ratio 0.5\n", out);
    else fputs("set xlabel 'theta (degrees from the pole)'\nset ylabel 'rho'\nset xrange [0:180]\nset xtics 30\nset yrange [0:*]\n", out);
    for (int i = 0; i < d->n_special; i++) {
        const ab_special_point *s = &d->special[i];
        if (!s->profile[0] || s->nodes.n == 0) continue;
        const int len = (int)strcspn(s->profile, ".");
        fprintf(out, "set title '%.*s %s, branch %d, %s = %.6g'\n", len, s->profile, ab_special_type_name(s->type), s->branch,
                d->parameter == AB_PARAM_KAPPA ? "kappa" : "beta", d->parameter == AB_PARAM_KAPPA ? s->kappa : s->beta);
        if (sphere && s->map)
            fprintf(out, "splot 'profiles/%.*s_map.csv' skip 1 using 1:2:3 with points pt 5 ps 0.35 palette\n", len, s->profile);
        else
            fprintf(out, "plot 'profiles/%s' skip 1 using ($3 * 180 / pi):4 with lines lw 1.5 lc %d, 1 with lines dt 3 lc 'grey'\n",
                    s->profile, s->branch);
    }
    fputs("unset multiplot\n", out);
    return ab_file_commit(f, err);
}

ab_status ab_plot_gnuplot_write(const char *dir, const ab_diagram *d, ab_error *err)
{
    ab_status st = write_diagram_gp(dir, d, err);
    if (!st) st = write_spectrum_gp(dir, d, err);
    if (!st) st = write_profiles_gp(dir, d, err);
    return st;
}
