/* Curves in (kappa, beta) (docs/curves.md): the uniform branch's branch-point curves equal
 * kappa_l(beta); the degenerate pitchfork of USA l = 1 found by two routes agrees with its
 * closed form I_{d/2+1}(beta) / I_{d/2}(beta) = 1/d for d = 3, 4, 8; fold curves pass through
 * the folds of one-parameter runs; the Maxwell curve has equal free energies; bad
 * two_parameter sections are refused with file:line:field. */
#include "attnbif/continuation.h"
#include "attnbif/curves.h"
#include "attnbif/model.h"
#include "attnbif/spec.h"
#include "testutil.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The spec of a USA run at (d, beta) over kappa in [kmin, kmax], with two_parameter in beta. */
static void usa_spec(char *text, size_t cap, int d, double beta, double kmin, double kmax, double ds_max,
                     const char *follow)
{
    snprintf(text, cap,
             "model: USA\nd: %d\nbeta: %.17g\nkappa: %.17g\n"
             "discretization: {type: zonal, nodes: 48}\nstate: {type: uniform}\neigen: {sectors: [0, 1]}\n"
             "continuation: {parameter: kappa, min: %.17g, max: %.17g, direction: -1, ds: %g, ds_max: %g, "
             "max_branches: 4}\n"
             "%s%s%s",
             d, beta, kmax, kmin, kmax, fmin(0.01, ds_max), ds_max, follow ? "two_parameter: {follow: " : "", follow ? follow : "",
             follow ? ", parameter: beta, min: 0.5, max: 6.0, ds: 0.05}\n" : "");
}

static int diagram_of(const char *text, ab_spec *spec, ab_diagram *d)
{
    ab_error err = {0};
    if (ab_spec_parse_string(text, "curves.yaml", spec, &err) || ab_run_diagram_with(spec, NULL, d, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 0;
    }
    return 1;
}

/* beta_dp: I_{d/2+1}(beta) / I_{d/2}(beta) = 1/d (docs/curves.md, "The degenerate
 * pitchfork of USA l = 1"), by GSL's Bessel functions and Brent's method. */
typedef struct {
    int d;
} dp_params;
static double dp_condition(double beta, void *p)
{
    const int d = ((dp_params *)p)->d;
    return gsl_sf_bessel_Inu(0.5 * d + 1.0, beta) / gsl_sf_bessel_Inu(0.5 * d, beta) - 1.0 / d;
}
static double closed_form_beta(int d)
{
    dp_params prm = {d};
    gsl_function F = {dp_condition, &prm};
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    gsl_root_fsolver_set(s, &F, 0.5, 4.0);
    double lo = 0.5, hi = 4.0;
    for (int it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
        gsl_root_fsolver_iterate(s);
        lo = gsl_root_fsolver_x_lower(s);
        hi = gsl_root_fsolver_x_upper(s);
    }
    const double b = gsl_root_fsolver_root(s);
    gsl_root_fsolver_free(s);
    return b;
}

static const ab_curve *curve_of(const ab_curve_set *set, ab_curve_type type, int l)
{
    for (int c = 0; c < set->n_curves; c++)
        if (set->curves[c].type == type && (l < 0 || set->curves[c].l == l)) return &set->curves[c];
    return NULL;
}

/* The fold of the 1-cluster branch (largest r among folds) of a one-parameter run at beta,
 * nearest to kappa_guess. */
static double one_parameter_fold(int d, double beta, double kappa_guess)
{
    char text[1024];
    usa_spec(text, sizeof text, d, beta, 0.7 * kappa_guess, 1.3 * kappa_guess, 0.05, NULL);
    ab_spec spec;
    ab_diagram dg;
    if (!diagram_of(text, &spec, &dg)) return NAN;
    double best = NAN;
    for (int i = 0; i < dg.n_special; i++)
        if (dg.special[i].type == AB_SP_FOLD && !(fabs(dg.special[i].kappa - kappa_guess) >= fabs(best - kappa_guess)))
            best = dg.special[i].kappa;
    ab_diagram_free(&dg);
    return best;
}

/* Sample rows of a fold curve and compare each with a one-parameter run at its beta. */
static void check_fold_curve(ab_tally *t, const ab_curve *fc, int d, const char *what)
{
    for (int q = 1; q <= 3; q++) {
        const ab_curve_row *r = &fc->rows[q * (fc->n_rows - 1) / 4];
        const double k1 = one_parameter_fold(d, r->beta, r->kappa);
        char msg[256];
        snprintf(msg, sizeof msg, "%s: fold curve at beta = %.6f through the fold of a one-parameter run (1e-9)", what,
                 r->beta);
        ab_check_rel(t, r->kappa, k1, 1e-9, 0.0, msg);
    }
}

static void check_degenerate_pitchfork(ab_tally *t, int d, double beta_run, double kmin, double kmax, int expect_route2)
{
    char text[1024], what[160];
    usa_spec(text, sizeof text, d, beta_run, kmin, kmax, 0.1, "[fold, pitchfork, transcritical]");
    ab_spec spec;
    ab_diagram dg;
    if (!ab_check(t, diagram_of(text, &spec, &dg), "d = %d: one-parameter run", d)) return;
    ab_curve_set set;
    ab_error err = {0};
    ab_status st = ab_curves_follow(&spec, &dg, NULL, &set, &err);
    if (!ab_check(t, st == AB_OK, "d = %d, beta = %g: curves followed (%s)", d, beta_run, st ? err.msg : "ok")) {
        ab_diagram_free(&dg);
        return;
    }
    /* the branch-point curves of the uniform branch are kappa_l(beta), l = 1 and 2 */
    for (int l = 1; l <= 2; l++) {
        int in_run = 0; /* the l = 2 branch point lies in the run's window */
        for (int i = 0; i < dg.n_special; i++) in_run |= dg.special[i].l == l;
        if (!in_run) continue;
        const ab_curve *bc = curve_of(&set, l == 1 ? AB_CURVE_PITCHFORK : AB_CURVE_TRANSCRITICAL, l);
        double worst = 0.0, bmin = INFINITY, bmax = -INFINITY;
        for (int k = 0; bc && k < bc->n_rows; k++) {
            worst = fmax(worst, fabs(bc->rows[k].kappa / ab_kappa_l(AB_MODEL_USA, d, bc->rows[k].beta, l) - 1.0));
            bmin = fmin(bmin, bc->rows[k].beta);
            bmax = fmax(bmax, bc->rows[k].beta);
        }
        ab_check(t, bc && bc->n_rows > 20 && worst <= 1e-10 && bmin < 0.6 && bmax > 5.9,
                 "d = %d: the l = %d curve (%d rows, beta %.3g..%.3g) equals kappa_%d(beta) to %.2e (<= 1e-10)", d, l,
                 bc ? bc->n_rows : 0, bmin, bmax, l, worst);
    }
    /* the degenerate pitchfork */
    const ab_curve_point *dp = NULL;
    for (int i = 0; i < set.n_points; i++)
        if (set.points[i].type == AB_CP_DEGENERATE_PITCHFORK) dp = &set.points[i];
    const double bdp = closed_form_beta(d), kdp = ab_kappa_l(AB_MODEL_USA, d, bdp, 1);
    if (ab_check(t, dp != NULL, "d = %d: a degenerate pitchfork is found", d)) {
        snprintf(what, sizeof what, "d = %d: DP beta on the pitchfork curve vs I_{d/2+1}/I_{d/2} = 1/d (1e-8)", d);
        ab_check_rel(t, dp->beta, bdp, 1e-8, 0.0, what);
        snprintf(what, sizeof what, "d = %d: DP kappa on the pitchfork curve vs kappa_1(beta_dp) (1e-8)", d);
        ab_check_rel(t, dp->kappa, kdp, 1e-8, 0.0, what);
        ab_check(t, dp->born_curve > 0, "d = %d: a fold curve is born at the DP (curve %d)", d, dp->born_curve);
        if (expect_route2) {
            snprintf(what, sizeof what, "d = %d: DP beta as the end of the fold curve vs on the pitchfork curve (1e-8)", d);
            ab_check_rel(t, dp->alt_beta, dp->beta, 1e-8, 0.0, what);
            snprintf(what, sizeof what, "d = %d: DP kappa as the end of the fold curve vs on the pitchfork curve (1e-8)", d);
            ab_check_rel(t, dp->alt_kappa, dp->kappa, 1e-8, 0.0, what);
            snprintf(what, sizeof what, "d = %d: DP beta as the end of the fold curve vs closed form (1e-8)", d);
            ab_check_rel(t, dp->alt_beta, bdp, 1e-8, 0.0, what);
        } else {
            /* the fold curve was started at the DP itself: its first row is the DP */
            const ab_curve *fc = &set.curves[dp->born_curve - 1];
            ab_check(t, fc->type == AB_CURVE_FOLD && fc->n_rows > 20 && fc->rows[0].label >= 0 && fc->from_point >= 0,
                     "d = %d: the fold curve born at the DP starts there (%d rows)", d, fc->n_rows);
        }
        if (d == 3) {
            snprintf(what, sizeof what, "d = 3, run at beta = %g: fold curve born at the DP", beta_run);
            check_fold_curve(t, &set.curves[dp->born_curve - 1], d, what);
        }
    }
    ab_curve_set_free(&set);
    ab_diagram_free(&dg);
}

/* The Maxwell curve at the run's beta: kappa_* where the free energy of the stable clustered
 * branch crosses 0, from the rows of a fine one-parameter run by cubic Hermite interpolation
 * with dFE/dkappa = -entropy (the free energy is stationary in rho at a stationary state). */
static void check_maxwell(ab_tally *t)
{
    char text[1024];
    usa_spec(text, sizeof text, 3, 4.0, 0.5, 3.0, 0.1, "[fold, pitchfork]");
    ab_spec spec;
    ab_diagram dg;
    if (!ab_check(t, diagram_of(text, &spec, &dg), "Maxwell: one-parameter run")) return;
    ab_curve_set set;
    ab_error err = {0};
    ab_status st = ab_curves_follow(&spec, &dg, NULL, &set, &err);
    const ab_curve *mc = st ? NULL : curve_of(&set, AB_CURVE_MAXWELL, -1);
    if (!ab_check(t, mc != NULL, "USA d = 3: a Maxwell curve is followed (%s)", st ? err.msg : "ok")) {
        ab_diagram_free(&dg);
        return;
    }
    double kstar = NAN;
    for (int k = 0; k < mc->n_rows; k++)
        if (mc->rows[k].beta == 4.0) kstar = mc->rows[k].kappa;
    const ab_curve *fc = curve_of(&set, AB_CURVE_FOLD, -1);
    ab_check(t, isfinite(kstar) && fc, "the Maxwell curve has a row at the run's beta (kappa_* = %.12g)", kstar);
    /* between kappa_1 and the fold (hysteresis), and ending at the degenerate pitchfork */
    ab_check(t, kstar > ab_kappa_l(AB_MODEL_USA, 3, 4.0, 1) && kstar < 1.617409655, "kappa_1 < kappa_* < kappa_fold");
    ab_check(t, strstr(mc->end_reason[0], "degenerate pitchfork") != NULL, "the Maxwell curve ends at the DP (%s)",
             mc->end_reason[0]);
    ab_curve_set_free(&set);
    ab_diagram_free(&dg);
    /* the independent value: a fine one-parameter run near kappa_* */
    usa_spec(text, sizeof text, 3, 4.0, 0.5, 3.0, 0.004, NULL);
    if (!ab_check(t, diagram_of(text, &spec, &dg), "Maxwell: the fine one-parameter run")) return;
    double kh = NAN;
    for (int b = 0; b < dg.n_branches; b++) {
        const ab_branch *br = &dg.branches[b];
        for (int k = 1; k < br->n_points; k++) {
            const ab_branch_point *p0 = &br->points[k - 1], *p1 = &br->points[k];
            if (p0->n_unstable != 0 || p1->n_unstable != 0 || p0->r < 0.1) continue;
            if (!(p0->free_energy * p1->free_energy < 0.0)) continue;
            /* Hermite cubic in kappa on [p0, p1] with slopes -entropy; its zero by Newton */
            const double h = p1->kappa - p0->kappa, f0 = p0->free_energy, f1 = p1->free_energy,
                         m0 = -p0->entropy * h, m1 = -p1->entropy * h;
            double s = f0 / (f0 - f1);
            for (int it = 0; it < 50; it++) {
                const double s2 = s * s, s3 = s2 * s;
                const double val = (2 * s3 - 3 * s2 + 1) * f0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * f1 +
                                   (s3 - s2) * m1;
                const double der = (6 * s2 - 6 * s) * f0 + (3 * s2 - 4 * s + 1) * m0 + (-6 * s2 + 6 * s) * f1 +
                                   (3 * s2 - 2 * s) * m1;
                s -= val / der;
            }
            kh = p0->kappa + s * h;
        }
    }
    ab_check_rel(t, kstar, kh, 1e-9, 0.0, "kappa_* at beta = 4 vs the free-energy crossing of a fine one-parameter run (1e-9)");
    ab_diagram_free(&dg);
}

/* Bad two_parameter sections: refused at parse time with file:line:field. */
static void check_bad_specs(ab_tally *t)
{
    static const struct {
        const char *section, *field;
    } bad[] = {
        {"two_parameter: {parameter: kappa, min: 0.5, max: 6}\n", "two_parameter.parameter"},
        {"two_parameter: {follow: [hopf], parameter: beta, min: 0.5, max: 6}\n", "two_parameter.follow"},
        {"two_parameter: {follow: [], parameter: beta, min: 0.5, max: 6}\n", "two_parameter.follow"},
        {"two_parameter: {parameter: beta, min: 5, max: 6}\n", "two_parameter"},
        {"two_parameter: {parameter: beta, min: 0.5, max: 0.2}\n", "two_parameter.max"},
        {"two_parameter: {parameter: beta, min: 0.5}\n", "two_parameter.max"},
        {"two_parameter: {parameter: beta, min: 0.5, max: 6, ds: 1}\n", "two_parameter.ds"},
        {"two_parameter: {parameter: beta, min: 0.5, max: 6, steps: 3}\n", "steps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        usa_spec(text, sizeof text, 3, 4.0, 0.5, 3.0, 0.1, NULL);
        strncat(text, bad[i].section, sizeof text - strlen(text) - 1);
        ab_spec spec;
        ab_error err = {0};
        ab_status st = ab_spec_parse_string(text, "curves.yaml", &spec, &err);
        ab_check(t, st == AB_ESPEC && strstr(err.msg, bad[i].field) && strstr(err.msg, "curves.yaml:"),
                 "bad spec %zu refused naming %s: %s", i, bad[i].field, err.msg);
    }
    /* without a continuation section, and on the sphere */
    ab_spec spec;
    ab_error err = {0};
    ab_status st = ab_spec_parse_string("model: USA\nd: 3\nbeta: 4\nkappa: 3\n"
                                        "two_parameter: {parameter: beta, min: 0.5, max: 6}\n",
                                        "curves.yaml", &spec, &err);
    ab_check(t, st == AB_ESPEC && strstr(err.msg, "curves.yaml:5:") && strstr(err.msg, "continuation"),
             "two_parameter without continuation refused: %s", err.msg);
    st = ab_spec_parse_string("model: USA\nd: 3\nbeta: 4\nkappa: 3\ndiscretization: {type: sphere, degree: 8}\n"
                              "continuation: {parameter: kappa, min: 0.5, max: 3}\n"
                              "two_parameter: {parameter: beta, min: 0.5, max: 6}\n",
                              "curves.yaml", &spec, &err);
    ab_check(t, st == AB_ESPEC && strstr(err.msg, "curves.yaml:7:") && strstr(err.msg, "zonal"),
             "two_parameter on the sphere refused: %s", err.msg);
}

/* The spec text with sector 3 monitored too. */
static void with_sector3(char *text, size_t cap)
{
    char *p = strstr(text, "sectors: [0, 1]");
    if (!p || strlen(text) + 4 >= cap) return;
    memmove(p + 18, p + 15, strlen(p + 15) + 1);
    memcpy(p, "sectors: [0, 1, 3]", 18);
}

/* A branch point in sector 3 on the oblate branch (the axial symmetry breaks): its curve
 * passes through the sector-3 branch points of one-parameter runs at sampled beta. */
static void check_sector_curve(ab_tally *t)
{
    char text[1024];
    usa_spec(text, sizeof text, 3, 4.0, 0.4, 3.0, 0.1, "[pitchfork]");
    with_sector3(text, sizeof text);
    ab_spec spec;
    ab_diagram dg;
    if (!ab_check(t, diagram_of(text, &spec, &dg), "sector curve: one-parameter run")) return;
    ab_curve_set set;
    ab_error err = {0};
    ab_status st = ab_curves_follow(&spec, &dg, NULL, &set, &err);
    ab_diagram_free(&dg);
    const ab_curve *sc = NULL;
    for (int c = 0; !st && c < set.n_curves; c++)
        if (set.curves[c].type == AB_CURVE_PITCHFORK && set.curves[c].l < 0) sc = &set.curves[c];
    if (!ab_check(t, sc && sc->n_rows > 30, "the sector-3 branch point's curve is followed (%d rows; %s)",
                  sc ? sc->n_rows : 0, st ? err.msg : "ok")) {
        ab_curve_set_free(&set);
        return;
    }
    for (int q = 1; q <= 2; q++) {
        const ab_curve_row *r = &sc->rows[q * (sc->n_rows - 1) / 3];
        const double k2 = ab_kappa_l(AB_MODEL_USA, 3, r->beta, 2);
        usa_spec(text, sizeof text, 3, r->beta, 0.9 * r->kappa, 1.1 * k2, 0.1, NULL);
        with_sector3(text, sizeof text);
        double best = NAN;
        if (diagram_of(text, &spec, &dg)) {
            for (int i = 0; i < dg.n_special; i++)
                if (dg.special[i].sector == 3 && dg.special[i].l < 0 &&
                    !(fabs(dg.special[i].kappa - r->kappa) >= fabs(best - r->kappa)))
                    best = dg.special[i].kappa;
            ab_diagram_free(&dg);
        }
        char msg[200];
        snprintf(msg, sizeof msg, "sector-3 curve at beta = %.6f through the sector-3 branch point of a run there (1e-9)",
                 r->beta);
        ab_check_rel(t, r->kappa, best, 1e-9, 0.0, msg);
    }
    ab_curve_set_free(&set);
}

/* `attnbif run` with a two_parameter section: the files, the DP row, the regions named. */
static void check_cli(ab_tally *t)
{
    const char *dir = "build/test_curves_out";
    ab_remove_tree(dir);
    char args[512], buf[1 << 16];
    snprintf(args, sizeof args, "run problems/usa-d3-phase-diagram.yaml -o %s --quiet", dir);
    const int code = ab_run_program(args, "build/test_curves.err");
    if (!ab_check(t, code == 0, "attnbif run problems/usa-d3-phase-diagram.yaml exits 0 (%d)", code)) return;
    char path[256];
    snprintf(path, sizeof path, "%s/curves.csv", dir);
    ab_slurp(path, buf, sizeof buf);
    int rows = 0;
    for (const char *c = buf; *c; c++) rows += *c == '\n';
    ab_check(t, strncmp(buf, "curve,type,point,kappa,beta,r,S,free_energy,test,tail,label\n", 60) == 0 && rows > 150 &&
                    strstr(buf, ",maxwell,") && strstr(buf, ",fold,") && strstr(buf, ",pitchfork,") && strstr(buf, ",DP1\n"),
             "curves.csv: header, %d rows, fold, pitchfork and Maxwell curves, DP1 labelled", rows);
    snprintf(path, sizeof path, "%s/special_points.csv", dir);
    ab_slurp(path, buf, sizeof buf);
    ab_check(t, strstr(buf, "\ndegenerate-pitchfork,0.4570539") != NULL, "special_points.csv has the degenerate pitchfork");
    snprintf(path, sizeof path, "%s/phase_diagram.svg", dir);
    ab_slurp(path, buf, sizeof buf);
    ab_check(t, strstr(buf, ">uniform stable<") && strstr(buf, ">bistable (hysteresis)<") &&
                    strstr(buf, ">clustered (uniform unstable)<") && strstr(buf, ">DP1<"),
             "phase_diagram.svg names its three regions and DP1 in place");
    snprintf(path, sizeof path, "%s/phase_diagram.png", dir);
    ab_check(t, ab_exists(path), "phase_diagram.png beside it");
    snprintf(path, sizeof path, "%s/summary.json", dir);
    ab_slurp(path, buf, sizeof buf);
    ab_check(t, strstr(buf, "\"codimension_two_points\"") && strstr(buf, "\"second_route\": {"),
             "summary.json lists the curves and the DP with its second route");
    ab_remove_tree(dir);
    /* the curves' cost counts against the limits: refused before any work, nothing written */
    FILE *f = fopen("build/test_curves_limits.yaml", "w");
    char text[4096];
    ab_slurp("problems/usa-d3-phase-diagram.yaml", text, sizeof text);
    if (f) {
        fprintf(f, "%slimits: {time_minutes: 0.5}\n", text);
        fclose(f);
    }
    snprintf(args, sizeof args, "run build/test_curves_limits.yaml -o %s --quiet", dir);
    const int code2 = ab_run_program(args, "build/test_curves.err");
    ab_slurp("build/test_curves.err", buf, sizeof buf);
    ab_check(t, code2 == 2 && strstr(buf, "test_curves_limits.yaml:23:") && strstr(buf, "two_parameter: curves: up to 8") &&
                    !ab_exists(dir),
             "a run whose curves exceed the time limit is refused naming two_parameter, nothing written (exit %d): %.200s",
             code2, buf);
    remove("build/test_curves_limits.yaml");
}

int main(void)
{
    ab_init();
    gsl_set_error_handler_off();
    ab_tally t = {0};
    check_bad_specs(&t);
    /* subcritical at the run's beta: the fold curve from the run's fold ends at the DP */
    check_degenerate_pitchfork(&t, 3, 4.0, 0.3, 3.0, 1);
    check_degenerate_pitchfork(&t, 4, 3.0, 0.2, 2.0, 1);
    check_degenerate_pitchfork(&t, 8, 3.0, 0.05, 1.0, 1);
    /* supercritical at the run's beta: no fold there; the fold curve starts at the DP */
    check_degenerate_pitchfork(&t, 3, 1.5, 0.2, 2.0, 0);
    check_maxwell(&t);
    check_sector_curve(&t);
    check_cli(&t);
    return ab_finish(&t);
}
