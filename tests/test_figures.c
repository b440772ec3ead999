/* The figures of `run` (docs/output-run.md, "Figures") on the default problem: labels placed
 * without overlaps from their computed boxes (issue 16: BP2 and LP1 printed on top of each
 * other in the r panel, which the old placement still does here), branch names from the
 * observables, smooth curves that follow the true branch near the pitchfork, and the SVG
 * rendered to a non-empty PNG. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, setenv */
#include "attnbif/continuation.h"
#include "attnbif/model.h"
#include "attnbif/results.h"
#include "attnbif/state.h"
#include "io/plot.h"
#include "io/sphere_map.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PI 3.14159265358979323846

/* The first pair of labels in one panel whose boxes overlap: 1 and their indices, else 0. */
static int overlapping(const ab_plot_layout *L, int *a, int *b)
{
    for (int i = 0; i < L->n_labels; i++)
        for (int j = i + 1; j < L->n_labels; j++)
            if (L->labels[i].panel == L->labels[j].panel && ab_plot_box_overlap(&L->labels[i].box, &L->labels[j].box) > 0.0) {
                *a = i, *b = j;
                return 1;
            }
    return 0;
}

static const ab_plot_label *find_label(const ab_plot_layout *L, int panel, const char *text)
{
    for (int i = 0; i < L->n_labels; i++)
        if (L->labels[i].panel == panel && strcmp(L->labels[i].text, text) == 0) return &L->labels[i];
    return NULL;
}

static void check_labels(ab_tally *t, const ab_diagram *dg)
{
    ab_error err = {0};
    ab_plot_layout naive, L;
    /* the defect, reproduced by the placement the writer used before: the check below
     * would fail on it */
    if (ab_check(t, ab_plot_diagram_layout(dg, 1, &naive, &err) == AB_OK, "naive layout (%s)", err.msg)) {
        const ab_plot_label *bp2 = find_label(&naive, 0, "BP2"), *lp1 = find_label(&naive, 0, "LP1");
        ab_check(t, bp2 && lp1 && ab_plot_box_overlap(&bp2->box, &lp1->box) > 0.0,
                 "old placement: BP2 and LP1 overlap in the r panel (the issue's defect; overlap %.1f px^2)",
                 bp2 && lp1 ? ab_plot_box_overlap(&bp2->box, &lp1->box) : -1.0);
        ab_plot_layout_free(&naive);
    }
    if (!ab_check(t, ab_plot_diagram_layout(dg, 0, &L, &err) == AB_OK, "layout (%s)", err.msg)) return;
    int a = -1, b = -1;
    const int bad = overlapping(&L, &a, &b);
    ab_check(t, !bad, "no two of the %d labels overlap (first pair: %s and %s)", L.n_labels, bad ? L.labels[a].text : "-",
             bad ? L.labels[b].text : "-");
    int n_special = 0, n_index = 0, inside = 1, off_marker = 1, near = 1;
    for (int i = 0; i < L.n_labels; i++) {
        const ab_plot_label *l = &L.labels[i];
        const ab_svg_panel *p = &L.panel[l->panel];
        n_special += l->kind == AB_PLOT_LABEL_SPECIAL, n_index += l->kind == AB_PLOT_LABEL_INDEX;
        inside &= l->box.x0 >= p->left && l->box.x1 <= p->left + p->w && l->box.y0 >= p->top && l->box.y1 <= p->top + p->h;
        for (int m = 0; m < L.n_markers; m++) off_marker &= L.marker_panel[m] != l->panel || ab_plot_box_overlap(&l->box, &L.markers[m]) == 0.0;
        /* a label stays within the placement's reach of what it names */
        const double dx = fmax(0.0, fmax(l->box.x0 - l->ax, l->ax - l->box.x1)), dy = fmax(0.0, fmax(l->box.y0 - l->ay, l->ay - l->box.y1));
        near &= fmax(dx, dy) <= AB_PLOT_MARKER_HALF + AB_PLOT_LABEL_GAP + AB_PLOT_LABEL_RINGS * AB_PLOT_LABEL_RING_STEP;
    }
    /* two panels (r, S), BP1-BP4 and LP1 in each */
    ab_check(t, L.n_panels == 2 && n_special == 10, "%d panels, %d special-point labels (want 2, 10)", L.n_panels, n_special);
    ab_check(t, inside, "every label inside its panel");
    ab_check(t, off_marker, "no label covers a marker");
    ab_check(t, near, "every label within %.0f px of its point", AB_PLOT_MARKER_HALF + AB_PLOT_LABEL_GAP + AB_PLOT_LABEL_RINGS * AB_PLOT_LABEL_RING_STEP);
    /* Morse indices: the uniform branch's 3 (kappa_2 < kappa < kappa_1), 8 and 15, the prolate
     * branch's 4 and 3 and the oblate branch's 5 and 7 (branches.csv) in the S panel */
    const char *want[] = {"3", "8", "15", "4", "5", "7"};
    int have = 0;
    for (int w = 0; w < 6; w++) have += find_label(&L, 1, want[w]) != NULL;
    ab_check(t, n_index >= 6 && have == 6, "Morse indices along unstable stretches: %d labels, %d of the 6 expected in the S panel",
             n_index, have);
    ab_plot_layout_free(&L);
}

static void check_names(ab_tally *t, ab_diagram *dg)
{
    /* by the degree of the branch point each branch leaves the uniform state at */
    const char *want[] = {"1-cluster", "prolate (antipodal 2-cluster)", "l = 3 mode (r > 0)"};
    char name[64];
    ab_plot_branch_name(dg, &dg->branches[0], name, sizeof name);
    ab_check(t, strcmp(name, "uniform") == 0, "branch 1 is named 'uniform' (%s)", name);
    int oblate = 0, prolate = 0, cluster = 0, l3 = 0;
    for (int b = 1; b < dg->n_branches; b++) {
        ab_plot_branch_name(dg, &dg->branches[b], name, sizeof name);
        const ab_special_point *sp = &dg->special[dg->branches[b].parent_special];
        oblate += strcmp(name, "oblate (girdle)") == 0 && sp->l == 2;
        prolate += strcmp(name, want[1]) == 0 && sp->l == 2;
        cluster += strcmp(name, want[0]) == 0 && sp->l == 1;
        l3 += strcmp(name, want[2]) == 0 && sp->l == 3;
        /* the prolate branch's S > 0, the oblate one's S < 0, checked on its last point */
        const ab_branch_point *q = &dg->branches[b].points[dg->branches[b].n_points - 1];
        if (strncmp(name, "prolate", 7) == 0) ab_check(t, q->S > 0.5 && fabs(q->r) < 1e-6, "prolate: S = %.3f > 0, r = 0", q->S);
        if (strncmp(name, "oblate", 6) == 0) ab_check(t, q->S < -0.2 && fabs(q->r) < 1e-6, "oblate: S = %.3f < 0, r = 0", q->S);
    }
    ab_check(t, cluster == 1 && prolate == 1 && oblate == 1 && l3 == 1,
             "branches 2-5: one each of 1-cluster (l = 1), prolate and oblate (l = 2), l = 3 (%d %d %d %d)", cluster, prolate,
             oblate, l3);
    /* the hook: a name set in the diagram wins (symmetry groups of sphere branches) */
    snprintf(dg->branches[1].name, sizeof dg->branches[1].name, "C_inf_v");
    ab_plot_branch_name(dg, &dg->branches[1], name, sizeof name);
    ab_check(t, strcmp(name, "C_inf_v") == 0, "a branch's own name is used (%s)", name);
    /* names are escaped in the SVG: "polar, oblate (r > 0, S < 0)" once made an SVG that
     * rsvg-convert refused (test_restart's branch 5 at beta = 8) */
    snprintf(dg->branches[1].name, sizeof dg->branches[1].name, "S < 0 & r > 0 'x'");
    char dir[] = "/tmp/ab_figures_XXXXXX";
    ab_error err = {0};
    if (ab_check(t, mkdtemp(dir) != NULL, "temporary directory")) {
        ab_check(t, ab_write_diagram(dir, dg, &err) == AB_OK, "a name with <, &, > and quotes: the figures render (%s)", err.msg);
        ab_remove_tree(dir);
    }
    dg->branches[1].name[0] = '\0';
}

/* r of the SA d = 3, beta = 4 1-cluster state at kappa, by Newton from the cluster guess. */
static double cluster_r(double kappa)
{
    char yaml[256];
    snprintf(yaml, sizeof yaml, "model: SA\nd: 3\nbeta: 4\nkappa: %.17g\ndiscretization: {nodes: 96}\nstate: {type: cluster}\n", kappa);
    ab_spec spec;
    ab_error err = {0};
    ab_solve_result res;
    if (ab_spec_parse_string(yaml, "cluster", &spec, &err) || ab_solve_problem(&spec, NULL, NULL, &res, &err)) return NAN;
    double r = res.obs.r;
    ab_solve_result_free(&res);
    return r;
}

/* y of polyline (x, y) at x (the first crossing), NaN if none. */
static double at_x(int n, const double *x, const double *y, double X)
{
    for (int i = 0; i + 1 < n; i++)
        if ((x[i] - X) * (x[i + 1] - X) <= 0.0 && x[i] != x[i + 1]) return y[i] + (X - x[i]) / (x[i + 1] - x[i]) * (y[i + 1] - y[i]);
    return NAN;
}

/* The 1-cluster branch from kappa_1: the drawn curve against the true branch between its
 * computed points, where straight segments cut the square-root onset short. */
static void check_curves(ab_tally *t, const ab_diagram *dg)
{
    ab_error err = {0};
    ab_plot_layout L;
    if (!ab_check(t, ab_plot_diagram_layout(dg, 0, &L, &err) == AB_OK, "layout (%s)", err.msg)) return;
    const ab_plot_run *run = NULL;
    for (int r = 0; r < L.n_runs; r++)
        if (L.runs[r].panel == 0 && L.runs[r].branch == 1) run = &L.runs[r];
    const ab_branch *br = &dg->branches[1];
    const ab_svg_panel *p = &L.panel[0];
    if (!ab_check(t, run && br->n_points > 6, "the 1-cluster branch is drawn")) { ab_plot_layout_free(&L); return; }
    /* every computed point lies on the drawn curve */
    double off = 0.0;
    for (int i = 0; i < br->n_points; i++) {
        double X = ab_svg_x(p, br->points[i].kappa), Y = ab_svg_y(p, br->points[i].r), best = INFINITY;
        for (int k = 0; k < run->curve.n; k++) best = fmin(best, hypot(run->curve.x[k] - X, run->curve.y[k] - Y));
        off = fmax(off, best);
    }
    ab_check(t, off <= 1e-9, "every computed point is a vertex of the drawn curve (worst %.1e px, tol 1e-9)", off);
    /* true r midway (in kappa) between computed points 1..5, against the drawn curve and the
     * straight segment through the same points */
    double worst_drawn = 0.0, worst_line = 0.0;
    for (int i = 1; i < 5; i++) {
        const ab_branch_point *u = &br->points[i], *v = &br->points[i + 1];
        const double k = 0.5 * (u->kappa + v->kappa), r = cluster_r(k);
        if (!ab_check(t, isfinite(r), "1-cluster state at kappa = %.6f", k)) continue;
        const double X = ab_svg_x(p, k), Ytrue = ab_svg_y(p, r);
        const double Ydrawn = at_x(run->curve.n, run->curve.x, run->curve.y, X);
        const double Yline = ab_svg_y(p, u->r + (k - u->kappa) / (v->kappa - u->kappa) * (v->r - u->r));
        worst_drawn = fmax(worst_drawn, fabs(Ydrawn - Ytrue));
        worst_line = fmax(worst_line, fabs(Yline - Ytrue));
    }
    ab_check(t, worst_drawn <= 1.0, "drawn 1-cluster onset within %.2f px of the true branch (tol 1 px)", worst_drawn);
    ab_check(t, worst_line > 2.0 * worst_drawn, "straight segments miss it by %.2f px (the issue's defect; > 2x the curve's)",
             worst_line);
    /* no corners: the drawn curve turns by at most a few degrees from piece to piece */
    double turn = 0.0;
    for (int k = 1; k + 1 < run->curve.n; k++) {
        double ax = run->curve.x[k] - run->curve.x[k - 1], ay = run->curve.y[k] - run->curve.y[k - 1];
        double bx = run->curve.x[k + 1] - run->curve.x[k], by = run->curve.y[k + 1] - run->curve.y[k];
        if (hypot(ax, ay) < 1e-6 || hypot(bx, by) < 1e-6) continue;
        turn = fmax(turn, fabs(atan2(ax * by - ay * bx, ax * bx + ay * by)) * 180.0 / PI);
    }
    ab_check(t, turn <= 3.0, "largest turn between drawn pieces of the 1-cluster branch %.1f degrees (tol 3)", turn);
    ab_plot_layout_free(&L);
}

/* spectrum.svg: on the uniform branch the leading eigenvalue of sector m is the largest of
 * -l(l+1)(kappa - kappa_l), l >= max(m, 1) (docs/theory.md); labels do not overlap; every
 * branch point and fold is marked at zero in its sector's panel. */
static void check_spectrum(ab_tally *t, const ab_diagram *dg)
{
    const ab_branch *br = &dg->branches[0];
    const ab_spec *spec = dg->spec;
    double worst = 0.0;
    int n = 0;
    for (int i = 0; i < br->n_points; i++) {
        const ab_branch_point *q = &br->points[i];
        for (int k = 0; k < spec->n_sectors; k++) {
            if (!isfinite(q->lead_re[k])) continue;
            const int m = spec->sectors[k];
            double want = -INFINITY;
            for (int l = m > 1 ? m : 1; l <= 40; l++)
                want = fmax(want, -l * (l + 1.0) * (q->kappa - ab_kappa_l(AB_MODEL_SA, 3, spec->model.beta, l)));
            worst = fmax(worst, fabs(q->lead_re[k] - want) / fmax(fabs(want), 1e-3));
            n++;
        }
    }
    ab_check(t, n >= 4 * (br->n_points - 3) && worst <= 1e-10,
             "uniform branch: %d leading eigenvalues equal max_l -l(l+1)(kappa - kappa_l) to %.1e (tol 1e-10 relative)", n, worst);
    ab_error err = {0};
    ab_plot_layout L;
    if (!ab_check(t, ab_plot_spectrum_layout(dg, &L, &err) == AB_OK, "spectrum layout (%s)", err.msg)) return;
    int a = -1, b = -1;
    const int bad = overlapping(&L, &a, &b);
    ab_check(t, !bad && L.n_labels == 5, "spectrum: %d labels (want BP1-BP4, LP1), no two overlap (%s %s)", L.n_labels,
             bad ? L.labels[a].text : "-", bad ? L.labels[b].text : "-");
    int placed = 1;
    for (int i = 0; i < L.n_labels; i++) {
        const ab_plot_label *l = &L.labels[i];
        placed &= fabs(l->ay - ab_svg_y(&L.panel[l->panel], 0.0)) < 1e-9;
        for (int m = 0; m < L.n_markers; m++)
            placed &= L.marker_panel[m] != l->panel || ab_plot_box_overlap(&l->box, &L.markers[m]) == 0.0;
    }
    ab_check(t, placed && L.n_panels == 4, "spectrum: 4 sector panels, special points at zero, no label on a marker");
    ab_plot_layout_free(&L);
}

/* Width and height from a PNG's IHDR chunk; 0 if it is not a PNG. */
static int png_size(const char *path, long *bytes, unsigned *w, unsigned *h)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char head[24];
    int ok = fread(head, 1, 24, f) == 24 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(head + 12, "IHDR", 4) == 0;
    fseek(f, 0, SEEK_END);
    *bytes = ftell(f);
    fclose(f);
    if (ok) {
        *w = (unsigned)head[16] << 24 | (unsigned)head[17] << 16 | (unsigned)head[18] << 8 | head[19];
        *h = (unsigned)head[20] << 24 | (unsigned)head[21] << 16 | (unsigned)head[22] << 8 | head[23];
    }
    return ok;
}

/* The PNG the writer made beside each SVG, and the PNG each gnuplot script draws from the
 * CSV files (when gnuplot is installed: CI installs gnuplot-nox). */
static void check_render(ab_tally *t, const ab_diagram *dg)
{
    ab_check(t, ab_plot_profiles_count(dg) == 10, "profiles.svg: %d panels (BP1-BP4, LP1, EP1-EP5)", ab_plot_profiles_count(dg));
    char dir[] = "/tmp/ab_figures_XXXXXX";
    if (!ab_check(t, mkdtemp(dir) != NULL, "temporary directory")) return;
    ab_error err = {0};
    static const char *const names[3] = {"diagram", "spectrum", "profiles"};
    char cmd[512], png[128];
    long bytes = 0;
    unsigned w = 0, h = 0;
    if (ab_check(t, ab_write_diagram(dir, dg, &err) == AB_OK, "results written (%s)", err.msg)) {
        for (int f = 0; f < 3; f++) {
            snprintf(png, sizeof png, "%s/%s.png", dir, names[f]);
            const int ok = png_size(png, &bytes, &w, &h);
            /* a blank canvas of this size compresses to ~4 kB; the drawn figures are ~60 kB */
            ab_check(t, ok && w >= 800 && h >= 800 && bytes > 20000,
                     "%s.png beside %s.svg (rsvg-convert): %ux%u, %ld bytes (> 20000)", names[f], names[f], w, h, bytes);
        }
        if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
            for (int f = 0; f < 3; f++) {
                snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot %s.gp 2>/dev/null", dir, names[f]);
                snprintf(png, sizeof png, "%s/%s-gnuplot.png", dir, names[f]);
                const int rc = system(cmd), ok = rc == 0 && png_size(png, &bytes, &w, &h);
                /* blank: ~5 kB */
                ab_check(t, ok && bytes > 20000, "gnuplot %s.gp redraws it from the CSV files: %ux%u, %ld bytes (> 20000)",
                         names[f], w, h, bytes);
            }
        } else {
            printf("skip gnuplot scripts: gnuplot is not installed (Debian gnuplot-nox)\n");
        }
    }
    ab_remove_tree(dir);
    /* without rsvg-convert on PATH the writer stops, naming the package */
    char dir2[] = "/tmp/ab_figures_XXXXXX";
    const char *path = getenv("PATH");
    char saved[4096];
    snprintf(saved, sizeof saved, "%s", path ? path : "/usr/bin:/bin");
    if (ab_check(t, mkdtemp(dir2) != NULL, "temporary directory")) {
        setenv("PATH", "/nonexistent", 1);
        const ab_status st = ab_write_diagram(dir2, dg, &err);
        setenv("PATH", saved, 1);
        ab_check(t, st == AB_EIO && strstr(err.msg, "diagram.png") && strstr(err.msg, "librsvg2-bin"),
                 "without rsvg-convert: AB_EIO naming diagram.png and librsvg2-bin (%s)", err.msg);
        ab_remove_tree(dir2);
    }
}

/* `attnbif plot`: the run's results and a sweep (written here: three kappa below kappa_1 at
 * n = 64) give overlay.svg and overlay.png; a sweep at another beta is refused naming the
 * file and line, exit 2, nothing written. */
static void check_overlay(ab_tally *t, const ab_diagram *dg)
{
    char dir[] = "/tmp/ab_figures_XXXXXX";
    if (!ab_check(t, mkdtemp(dir) != NULL, "temporary directory")) return;
    char run[128], sweep[128], bad[128], out[128], out2[128], path[256], args[1024], errfile[160], msg[2048];
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(sweep, sizeof sweep, "%s/sweep", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    snprintf(out, sizeof out, "%s/overlay", dir);
    snprintf(out2, sizeof out2, "%s/overlay2", dir);
    snprintf(errfile, sizeof errfile, "%s/err.txt", dir);
    ab_error err = {0};
    int ok = ab_write_diagram(run, dg, &err) == AB_OK;
    mkdir(sweep, 0777), mkdir(bad, 0777);
    for (int k = 0; k < 2 && ok; k++) {
        snprintf(path, sizeof path, "%s/sweep.csv", k ? bad : sweep);
        FILE *f = fopen(path, "w");
        ok = f != NULL;
        if (!f) break;
        fprintf(f, "model,d,beta,n,kappa,r,r_err,S,S_err\n");
        for (int i = 0; i < 3; i++)
            fprintf(f, "SA,3,%s,64,%.3f,%.3f,0.02,,\n", k ? "5" : "4", 0.12 + 0.03 * i, 0.75 - 0.2 * i);
        fclose(f);
    }
    if (ab_check(t, ok, "run results and sweeps written (%s)", err.msg)) {
        snprintf(args, sizeof args, "plot %s %s -q -o %s", run, sweep, out);
        const int code = ab_run_program(args, errfile);
        snprintf(path, sizeof path, "%s/overlay.png", out);
        long bytes = 0;
        unsigned w = 0, h = 0;
        const int png = png_size(path, &bytes, &w, &h);
        snprintf(path, sizeof path, "%s/overlay.svg", out);
        char svg[1 << 16];
        ab_slurp(path, svg, sizeof svg);
        int circles = 0;
        for (const char *p = svg; (p = strstr(p, "<circle")); p++) circles++;
        /* 3 points and the legend's mark */
        ab_check(t, code == 0 && png && bytes > 10000 && circles == 4,
                 "attnbif plot RUN SWEEP: exit %d, overlay.png %ux%u (%ld bytes), %d points (want 3 + 1 in the legend)", code, w, h,
                 bytes, circles - 1);
        if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
            char cmd[512];
            snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot overlay.gp 2>/dev/null", out);
            snprintf(path, sizeof path, "%s/overlay-gnuplot.png", out);
            const int ran = system(cmd) == 0, drawn = png_size(path, &bytes, &w, &h);
            ab_check(t, ran && drawn && bytes > 10000, "gnuplot overlay.gp redraws it from its CSV files: %ux%u, %ld bytes", w, h,
                     bytes);
        } else {
            printf("skip overlay.gp: gnuplot is not installed (Debian gnuplot-nox)\n");
        }
        snprintf(args, sizeof args, "plot %s %s -q -o %s", run, bad, out2);
        const int code2 = ab_run_program(args, errfile);
        ab_slurp(errfile, msg, sizeof msg);
        ab_check(t, code2 == 2 && strstr(msg, "bad/sweep.csv:2") && strstr(msg, "beta") && !ab_exists(out2),
                 "a sweep at beta = 5 over a run at beta = 4: exit %d (want 2), naming sweep.csv:2, nothing written: %s", code2, msg);
    }
    ab_remove_tree(dir);
}

/* A diagram of the uniform and 1-cluster branches only (copied from the run, without the
 * owned vectors): no 2-cluster branch, so one panel (r); labels still apart. */
static void check_one_panel(ab_tally *t, const ab_diagram *full)
{
    ab_diagram d;
    ab_diagram_init(&d, full->spec, full->parameter);
    ab_error err = {0};
    int ok = 1;
    for (int b = 0; b < 2 && ok; b++) {
        ab_branch *br = ab_diagram_add_branch(&d, full->branches[b].parent_special);
        ok = br != NULL;
        for (int i = 0; ok && i < full->branches[b].n_points; i++) ok = ab_branch_add_point(br, &full->branches[b].points[i], &err) == AB_OK;
    }
    for (int s = 0; s < full->n_special && ok; s++) {
        if (full->special[s].branch > 2) continue;
        ab_special_point sp = full->special[s];
        memset(&sp.nodes, 0, sizeof sp.nodes);
        sp.x = sp.tangent = sp.null_vector = sp.map = NULL;
        ok = ab_diagram_add_special(&d, &sp) >= 0;
    }
    ab_plot_layout L;
    if (ab_check(t, ok, "the two-branch diagram (%s)", err.msg) &&
        ab_check(t, ab_plot_diagram_layout(&d, 0, &L, &err) == AB_OK, "one-panel layout (%s)", err.msg)) {
        int a, b;
        ab_check(t, L.n_panels == 1 && !overlapping(&L, &a, &b) && L.n_labels >= 4,
                 "uniform and 1-cluster only: 1 panel, %d labels, none overlapping", L.n_labels);
        ab_plot_layout_free(&L);
    }
    ab_diagram_free(&d);
}

/* sum of e^{b (<x, c_i> - 1)} over the tetrahedron's vertices */
static double tetra(void *ctx, const double x[3])
{
    (void)ctx;
    static const double c[4][3] = {{1, 1, 1}, {1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}};
    double s = 0.0;
    for (int i = 0; i < 4; i++) s += exp(20.0 * ((x[0] * c[i][0] + x[1] * c[i][1] + x[2] * c[i][2]) / sqrt(3.0) - 1.0));
    return s;
}

/* The whole sphere: a branch of 4-cluster states (r = S = 0, as the tetrahedron's) is named
 * by its clusters, not "uniform"; profiles.svg holds its map, well formed and rendered. */
static void check_sphere(ab_tally *t)
{
    const char *yaml = "model: SA\nd: 3\nbeta: 4\nkappa: 0.05\ndiscretization: {type: sphere, degree: 16}\n"
                       "state: {type: clusters, arrangement: tetrahedron}\n"
                       "continuation: {parameter: kappa, min: 0.04, max: 0.05, direction: -1}\n";
    ab_spec spec;
    ab_error err = {0};
    if (!ab_check(t, ab_spec_parse_string(yaml, "sphere.yaml", &spec, &err) == AB_OK, "sphere spec (%s)", err.msg)) return;
    ab_diagram d;
    ab_diagram_init(&d, &spec, AB_PARAM_KAPPA);
    ab_branch *br = ab_diagram_add_branch(&d, -1);
    for (int i = 0; br && i < 3; i++) {
        ab_branch_point q;
        memset(&q, 0, sizeof q);
        q.kappa = 0.05 - 0.005 * i, q.beta = 4.0, q.n_clusters = 4, q.n_unstable = 8, q.special = -1;
        for (int k = 0; k < AB_MAX_SECTORS; k++) q.lead_re[k] = 0.3;
        ab_branch_add_point(br, &q, &err);
    }
    char name[64];
    ab_plot_branch_name(&d, &d.branches[0], name, sizeof name);
    ab_check(t, strcmp(name, "4-cluster") == 0, "sphere: the tetrahedral branch (r = S = 0) is named '4-cluster' (%s)", name);
    ab_special_point sp;
    memset(&sp, 0, sizeof sp);
    sp.type = AB_SP_END, sp.kappa = 0.04, sp.beta = 4.0, sp.branch = 1, sp.point = 2, sp.sector = -1, sp.l = -1;
    snprintf(sp.profile, sizeof sp.profile, "EP1.csv");
    sp.nodes.n = 3;
    sp.nodes.t = calloc(3, sizeof(double)), sp.nodes.theta = calloc(3, sizeof(double)), sp.nodes.rho = calloc(3, sizeof(double));
    sp.map_nlat = 90, sp.map_nlon = 180;
    sp.map = malloc(sizeof(double) * 90 * 180);
    int filled = sp.map && sp.nodes.rho && ab_sphere_map_fill(90, 180, tetra, NULL, sp.map, &err) == AB_OK;
    ab_diagram_add_special(&d, &sp);
    char dir[] = "/tmp/ab_figures_XXXXXX";
    if (ab_check(t, filled && mkdtemp(dir) != NULL, "sphere: map and directory")) {
        ab_check(t, ab_plot_profiles_write(dir, &d, &err) == AB_OK, "sphere: profiles.svg written (%s)", err.msg);
        char cmd[512], svg[128], png[128];
        snprintf(svg, sizeof svg, "%s/profiles.svg", dir);
        snprintf(png, sizeof png, "%s/profiles.png", dir);
        snprintf(cmd, sizeof cmd, "rsvg-convert '%s' -o '%s' 2>/dev/null", svg, png);
        long bytes = 0;
        unsigned w = 0, h = 0;
        const int rc = system(cmd), ok = rc == 0 && png_size(png, &bytes, &w, &h);
        ab_check(t, ok && w >= 400 && h >= 250 && bytes > 20000, "sphere: profiles.svg renders to a %ux%u PNG of %ld bytes (> 20000)",
                 w, h, bytes);
        ab_remove_tree(dir);
    }
    ab_diagram_free(&d);
}

int main(void)
{
    ab_tally t = {0, 0};
    const char *path = "problems/default.yaml";
    ab_error err = {0};
    ab_spec spec;
    if (!ab_check(&t, ab_spec_load(path, &spec, &err) == AB_OK, "%s parses %s", path, err.msg)) return ab_finish(&t);
    ab_diagram dg;
    ab_run_opts opts = {NULL};
    if (!ab_check(&t, ab_run_diagram(&spec, &opts, &dg, &err) == AB_OK && dg.n_branches == 5, "%s runs: 5 branches %s", path,
                  err.msg)) {
        ab_diagram_free(&dg);
        return ab_finish(&t);
    }
    check_labels(&t, &dg);
    check_names(&t, &dg);
    check_curves(&t, &dg);
    check_spectrum(&t, &dg);
    check_render(&t, &dg);
    check_one_panel(&t, &dg);
    check_overlay(&t, &dg);
    ab_diagram_free(&dg);
    check_sphere(&t);
    return ab_finish(&t);
}
