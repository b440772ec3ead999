/* Writers of a bifurcation diagram: branches.csv, special_points.csv, profiles/, labels/,
 * diagram.svg, diagram.gp and summary.json (written last). */
#include "attnbif/curves.h"
#include "attnbif/diagram.h"

#include "attnbif/label.h"
#include "attnbif/results.h"
#include "io/sphere_map.h"
#include "io/plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *param_name(const ab_diagram *d) { return d->parameter == AB_PARAM_KAPPA ? "kappa" : "beta"; }

static void csv_number(FILE *out, double v)
{
    if (isfinite(v)) fprintf(out, "%.17g", v);
}

/* The symmetry of a whole-sphere branch: the group it was born with (symmetric branching),
 * else the one verified on its first state (the first after the branch point of a switched
 * branch, docs/output-run.md). */
static const char *branch_symmetry(const ab_branch *br)
{
    if (br->symmetry[0] || br->n_points == 0) return br->symmetry;
    const int k = br->parent_special >= 0 && br->n_points > 1 ? 1 : 0;
    return br->points[k].symmetry;
}

static ab_status write_branches(const char *dir, const ab_diagram *d, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "branches.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    /* the whole sphere adds what k-cluster states are told apart by (docs/output-run.md) */
    const int sphere = d->spec->disc.type == AB_DISC_SPHERE;
    fprintf(out, "branch,point,kappa,beta,r,S,free_energy,n_unstable,stable,label,nodes%s\n",
            sphere ? ",entropy,n_clusters,symmetry,point_symmetry" : "");
    for (int b = 0; b < d->n_branches; b++) {
        const ab_branch *br = &d->branches[b];
        for (int i = 0; i < br->n_points; i++) {
            const ab_branch_point *p = &br->points[i];
            fprintf(out, "%d,%d,%.17g,%.17g,%.17g,%.17g,", br->id, i, p->kappa, p->beta, p->r, p->S);
            csv_number(out, p->free_energy);
            fprintf(out, ",%ld,%d,%s,%d", p->n_unstable, p->n_unstable == 0, ab_special_label(p->label), p->nodes);
            if (sphere) fprintf(out, ",%.17g,%d,%s,%s", p->entropy, p->n_clusters, branch_symmetry(br), p->symmetry);
            fputc('\n', out);
        }
    }
    return ab_file_commit(f, err);
}

/* The whole sphere: every point's clusters, one row each (docs/output-run.md). */
static ab_status write_clusters(const char *dir, const ab_diagram *d, ab_error *err)
{
    if (d->spec->disc.type != AB_DISC_SPHERE) return AB_OK;
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "clusters.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    fprintf(out, "branch,point,kappa,beta,cluster,x,y,z,mass,mass_error,peak,prominence\n");
    for (int b = 0; b < d->n_branches; b++) {
        const ab_branch *br = &d->branches[b];
        for (int i = 0; i < br->n_points; i++) {
            const ab_branch_point *p = &br->points[i];
            if (p->cluster_first < 0) continue;
            for (int k = 0; k < p->n_clusters; k++) {
                const ab_cluster *c = &d->cluster_rows[p->cluster_first + k];
                fprintf(out, "%d,%d,%.17g,%.17g,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", br->id, i, p->kappa,
                        p->beta, k + 1, c->centre[0], c->centre[1], c->centre[2], c->mass, c->mass_error, c->peak,
                        c->prominence);
            }
        }
    }
    return ab_file_commit(f, err);
}

/* CSV field with quotes doubled. */
static void csv_text(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static ab_status write_special(const char *dir, const ab_diagram *d, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "special_points.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    fprintf(out, "type,kappa,beta,branch,point,criticality,sector,l,r,S,profile,note\n");
    for (int i = 0; i < d->n_special; i++) {
        const ab_special_point *s = &d->special[i];
        fprintf(out, "%s,%.17g,%.17g,%d,%d,%s,", ab_special_type_name(s->type), s->kappa, s->beta, s->branch, s->point,
                ab_criticality_name(s->criticality));
        if (s->sector >= 0) fprintf(out, "%d", s->sector);
        fputc(',', out);
        if (s->l >= 0) fprintf(out, "%d", s->l);
        fprintf(out, ",%.17g,%.17g,%s%s,", s->r, s->S, s->profile[0] ? "profiles/" : "", s->profile);
        csv_text(out, s->note);
        fputc('\n', out);
    }
    /* two_parameter: the codimension-two points of the curves (docs/curves.md) */
    for (int i = 0; d->curves && i < d->curves->n_points; i++) {
        const ab_curve_point *p = &d->curves->points[i];
        char note[512];
        int len = snprintf(note, sizeof note, "%s on curve %d, located to %.1e", p->label, p->curve, p->error);
        if (isfinite(p->alt_beta) && len > 0 && (size_t)len < sizeof note)
            len += snprintf(note + len, sizeof note - (size_t)len, "; as the end of fold curve %d: kappa = %.12g, beta = %.12g",
                            p->born_curve, p->alt_kappa, p->alt_beta);
        else if (p->born_curve && len > 0 && (size_t)len < sizeof note)
            len += snprintf(note + len, sizeof note - (size_t)len, "; fold curve %d is born here", p->born_curve);
        if (len > 0 && (size_t)len < sizeof note) snprintf(note + len, sizeof note - (size_t)len, "%s%s", p->note[0] ? "; " : "", p->note);
        fprintf(out, "%s,%.17g,%.17g,,,,,,%.17g,,,", ab_curve_point_type_name(p->type), p->kappa, p->beta, p->r);
        csv_text(out, note);
        fputc('\n', out);
    }
    return ab_file_commit(f, err);
}

/* The whole sphere: profiles/<LABEL>_map.csv (the density on a longitude-latitude map) and
 * profiles/<LABEL>.svg (its picture), beside the meridian profile <LABEL>.csv. */
static ab_status write_map(const char *pdir, const ab_diagram *d, const ab_special_point *s, ab_error *err)
{
    char csv[96], svg[96], note[160];
    const int len = (int)strcspn(s->profile, ".");
    snprintf(csv, sizeof csv, "%.*s_map.csv", len, s->profile);
    snprintf(svg, sizeof svg, "%.*s.svg", len, s->profile);
    ab_sphere_map_opts o;
    ab_sphere_map_opts_default(&o);
    o.model = ab_model_kind_name(d->spec->model.kind);
    o.beta = s->beta;
    o.kappa = s->kappa;
    o.r = s->r;
    snprintf(note, sizeof note, "%.*s: %s on branch %d, point %d", len, s->profile, ab_special_type_name(s->type), s->branch,
             s->point);
    o.note = note;
    o.clusters = s->clusters;
    o.n_clusters = s->n_clusters;
    return ab_sphere_map_write(pdir, csv, svg, s->map_nlat, s->map_nlon, s->map, &o, err);
}

static ab_status write_profiles(const char *dir, const ab_diagram *d, ab_error *err)
{
    char pdir[AB_PATH_MAX + 32];
    ab_status st = ab_path_join(pdir, sizeof pdir, dir, "profiles", err);
    if (!st) st = ab_mkdir_p(pdir, err);
    for (int i = 0; i < d->n_special && !st; i++) {
        const ab_special_point *s = &d->special[i];
        if (!s->profile[0] || s->nodes.n == 0) continue;
        ab_file *f;
        if ((st = ab_file_open_in(pdir, s->profile, &f, err))) break;
        FILE *out = ab_file_stream(f);
        fprintf(out, "# attnbif %s special point %s: %s\n", ab_version(), s->profile, ab_special_type_name(s->type));
        fprintf(out, "# model = %s, d = %d\n", ab_model_kind_name(d->spec->model.kind), d->spec->model.d);
        fprintf(out, "# kappa = %.17g\n# beta = %.17g\n# branch = %d, point = %d\n", s->kappa, s->beta, s->branch, s->point);
        fprintf(out, "grid,t,theta,rho\n");
        for (int k = 0; k < s->nodes.n; k++)
            fprintf(out, "node,%.17g,%.17g,%.17g\n", s->nodes.t[k], s->nodes.theta[k], s->nodes.rho[k]);
        st = ab_file_commit(f, err);
        if (!st && s->map) st = write_map(pdir, d, s, err);
    }
    return st;
}

/* labels/<LABEL>.csv: every special point with its restart data (include/attnbif/label.h). */
static ab_status write_labels(const char *dir, const ab_diagram *d, ab_error *err)
{
    char ldir[AB_PATH_MAX + 32];
    ab_status st = ab_path_join(ldir, sizeof ldir, dir, "labels", err);
    if (!st) st = ab_mkdir_p(ldir, err);
    for (int i = 0; i < d->n_special && !st; i++) {
        const ab_special_point *s = &d->special[i];
        if (!s->profile[0] || !s->x || s->dim == 0) continue;
        ab_label lab;
        memset(&lab, 0, sizeof lab);
        size_t len = strcspn(s->profile, ".");
        if (len >= sizeof lab.name) continue;
        memcpy(lab.name, s->profile, len);
        lab.format = AB_LABEL_FORMAT;
        lab.type = s->type;
        lab.model = d->spec->model;
        lab.model.beta = s->beta;
        lab.kappa = s->kappa;
        lab.parameter = d->parameter;
        lab.disc = d->spec->disc.type;
        lab.kernel = d->spec->disc.kernel;
        lab.nodes = s->disc_nodes > 0 ? s->disc_nodes : d->nodes;
        lab.dim = s->dim;
        lab.branch = s->branch;
        lab.point = s->point;
        lab.t = s->nodes.n == (int)s->dim ? s->nodes.t : NULL;
        lab.x = s->x;
        lab.tangent = s->tangent;
        lab.null_vector = s->null_vector;
        st = ab_label_write(ldir, &lab, err);
    }
    return st;
}

static void json_opt_int(ab_json *j, const char *key, int v)
{
    ab_json_key(j, key);
    if (v >= 0) ab_json_int(j, v);
    else ab_json_null(j);
}

static ab_status write_summary(const char *dir, const ab_diagram *d, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "summary.json", &f, err);
    if (st) return st;
    ab_json *j = ab_json_create(ab_file_stream(f));
    if (!j) { ab_file_abort(f); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    ab_json_begin_object(j);
    ab_json_summary_header(j, "run", d->spec);
    ab_json_kv_string(j, "parameter", param_name(d));
    ab_json_kv_int(j, "nodes", d->nodes);
    ab_json_key(j, "special_points");
    ab_json_begin_array(j);
    for (int i = 0; i < d->n_special; i++) {
        const ab_special_point *s = &d->special[i];
        ab_json_begin_object(j);
        ab_json_kv_string(j, "type", ab_special_type_name(s->type));
        ab_json_kv_number(j, "kappa", s->kappa);
        ab_json_kv_number(j, "beta", s->beta);
        ab_json_kv_int(j, "branch", s->branch);
        ab_json_kv_int(j, "point", s->point);
        ab_json_key(j, "criticality");
        if (s->criticality != AB_CRIT_NONE) ab_json_string(j, ab_criticality_name(s->criticality));
        else ab_json_null(j);
        ab_json_key(j, "criticality_checked");
        if (s->criticality_checked) ab_json_bool(j, s->criticality_checked > 0);
        else ab_json_null(j);
        json_opt_int(j, "sector", s->sector);
        json_opt_int(j, "l", s->l);
        ab_json_kv_number(j, "r", s->r);
        ab_json_kv_number(j, "S", s->S);
        ab_json_key(j, "profile");
        if (s->profile[0]) {
            char p[96];
            snprintf(p, sizeof p, "profiles/%s", s->profile);
            ab_json_string(j, p);
        } else {
            ab_json_null(j);
        }
        ab_json_key(j, "label"); /* the name a restart gives as state.label (labels/<label>.csv) */
        if (s->profile[0] && s->x && s->dim > 0) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(s->profile, "."), s->profile);
            ab_json_string(j, name);
        } else {
            ab_json_null(j);
        }
        ab_json_kv_string(j, "note", s->note);
        if (s->map) {
            /* the whole sphere: the state's clusters (docs/sphere.md, "Clusters") */
            ab_json_key(j, "clusters");
            ab_json_clusters(j, s->clusters, s->n_clusters);
        }
        ab_json_end_object(j);
    }
    ab_json_end_array(j);
    ab_json_key(j, "branches");
    ab_json_begin_array(j);
    for (int b = 0; b < d->n_branches; b++) {
        const ab_branch *br = &d->branches[b];
        ab_json_begin_object(j);
        ab_json_kv_int(j, "id", br->id);
        char name[64];
        ab_plot_branch_name(d, br, name, sizeof name);
        ab_json_kv_string(j, "name", name);
        if (branch_symmetry(br)[0]) {
            /* the isotropy of the branch's states: from symmetric branching (docs/symmetry.md),
             * else verified on its first state */
            ab_json_kv_string(j, "symmetry", branch_symmetry(br));
            if (br->description[0]) ab_json_kv_string(j, "description", br->description);
        }
        json_opt_int(j, "parent_special", br->parent_special);
        ab_json_kv_int(j, "n_points", br->n_points);
        for (int e = 0; e < 2 && br->n_points > 0; e++) {
            const ab_branch_point *q = &br->points[e ? br->n_points - 1 : 0];
            ab_json_key(j, e ? "end" : "start");
            ab_json_begin_object(j);
            ab_json_kv_number(j, "kappa", q->kappa);
            ab_json_kv_number(j, "beta", q->beta);
            ab_json_kv_number(j, "r", q->r);
            ab_json_kv_number(j, "S", q->S);
            ab_json_end_object(j);
        }
        /* the grids the branch was computed on and the resolution it achieved (its worst
         * spectral tail; docs/theory.md, "Adaptive resolution") */
        int nmin = 0, nmax = 0;
        double tail = NAN;
        for (int k = 0; k < br->n_points; k++) {
            const ab_branch_point *q = &br->points[k];
            if (q->nodes > 0 && (nmin == 0 || q->nodes < nmin)) nmin = q->nodes;
            if (q->nodes > nmax) nmax = q->nodes;
            if (isfinite(q->tail) && !(q->tail <= tail)) tail = q->tail;
        }
        ab_json_kv_int(j, "nodes_min", nmin);
        ab_json_kv_int(j, "nodes_max", nmax);
        ab_json_key(j, "tail_max");
        if (isfinite(tail)) ab_json_number(j, tail);
        else ab_json_null(j);
        ab_json_kv_string(j, "end_reason", br->end_reason);
        ab_json_end_object(j);
    }
    ab_json_end_array(j);
    if (d->curves) {
        /* two_parameter (docs/curves.md): the curves and their codimension-two points */
        const ab_curve_set *cs = d->curves;
        ab_json_key(j, "curves");
        ab_json_begin_array(j);
        for (int c = 0; c < cs->n_curves; c++) {
            const ab_curve *cv = &cs->curves[c];
            ab_json_begin_object(j);
            ab_json_kv_int(j, "id", cv->id);
            ab_json_kv_string(j, "type", ab_curve_type_name(cv->type));
            json_opt_int(j, "l", cv->l);
            json_opt_int(j, "from_special", cv->from_special);
            ab_json_key(j, "from_point");
            if (cv->from_point >= 0) ab_json_string(j, cs->points[cv->from_point].label);
            else ab_json_null(j);
            ab_json_kv_int(j, "nodes", cv->nodes);
            ab_json_kv_int(j, "n_points", cv->n_rows);
            ab_json_kv_string(j, "start_reason", cv->end_reason[0]);
            ab_json_kv_string(j, "end_reason", cv->end_reason[1]);
            ab_json_end_object(j);
        }
        ab_json_end_array(j);
        ab_json_key(j, "codimension_two_points");
        ab_json_begin_array(j);
        for (int i = 0; i < cs->n_points; i++) {
            const ab_curve_point *p = &cs->points[i];
            ab_json_begin_object(j);
            ab_json_kv_string(j, "label", p->label);
            ab_json_kv_string(j, "type", ab_curve_point_type_name(p->type));
            ab_json_kv_number(j, "kappa", p->kappa);
            ab_json_kv_number(j, "beta", p->beta);
            ab_json_kv_number(j, "error", p->error);
            ab_json_kv_int(j, "curve", p->curve);
            ab_json_key(j, "second_route");
            if (isfinite(p->alt_beta)) {
                ab_json_begin_object(j);
                ab_json_kv_number(j, "kappa", p->alt_kappa);
                ab_json_kv_number(j, "beta", p->alt_beta);
                ab_json_kv_number(j, "error", p->alt_error);
                ab_json_end_object(j);
            } else {
                ab_json_null(j);
            }
            json_opt_int(j, "born_curve", p->born_curve ? p->born_curve : -1);
            ab_json_kv_string(j, "note", p->note);
            ab_json_end_object(j);
        }
        ab_json_end_array(j);
    }
    ab_json_key(j, "warnings");
    ab_json_begin_array(j);
    for (int i = 0; i < d->n_warnings; i++) ab_json_string(j, d->warnings[i]);
    ab_json_end_array(j);
    ab_json_end_object(j);
    ab_json_destroy(j);
    return ab_file_commit(f, err);
}

ab_status ab_write_diagram(const char *dir, const ab_diagram *d, ab_error *err)
{
    ab_status st = ab_mkdir_p(dir, err);
    if (!st) st = write_branches(dir, d, err);
    if (!st) st = write_clusters(dir, d, err);
    if (!st) st = write_special(dir, d, err);
    if (!st) st = write_profiles(dir, d, err);
    if (!st) st = write_labels(dir, d, err);
    if (!st) st = ab_plot_diagram_write(dir, d, err);
    if (!st) st = ab_plot_spectrum_write(dir, d, err);
    if (!st) st = ab_plot_profiles_write(dir, d, err);
    /* a PNG beside every SVG, for quick viewing (the maps in profiles/ have theirs) */
    if (!st) st = ab_png_from_svg(dir, "diagram.svg", err);
    if (!st) st = ab_png_from_svg(dir, "spectrum.svg", err);
    if (!st && ab_plot_profiles_count(d) > 0) st = ab_png_from_svg(dir, "profiles.svg", err);
    if (!st) st = ab_plot_gnuplot_write(dir, d, err);
    /* gradient models: the free-energy barriers along the diagram */
    if (!st && d->spec->model.kind == AB_MODEL_USA && d->parameter == AB_PARAM_KAPPA) {
        ab_barrier_set bs;
        st = ab_diagram_barriers(d, &bs, err);
        if (!st) st = ab_barriers_write(dir, d, &bs, err);
        if (!st) st = ab_png_from_svg(dir, "barriers.svg", err);
        ab_barrier_set_free(&bs);
    }
    if (!st && d->curves) st = ab_curves_write_csv(dir, d->curves, err);
    if (!st && d->curves) st = ab_curves_write_phase_diagram(dir, d, d->curves, err);
    if (!st && d->curves) st = ab_png_from_svg(dir, "phase_diagram.svg", err);
    if (!st) st = write_summary(dir, d, err);
    return st;
}
