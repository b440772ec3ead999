/* Internal: the figures of a run (docs/output-run.md, "Figures"): label placement from
 * computed boxes, branch names from observables, smooth curves through branch points and
 * folds, and the layout of diagram.svg that the writer draws and the tests check. */
#ifndef AB_IO_PLOT_H
#define AB_IO_PLOT_H

#include "attnbif/barriers.h"
#include "attnbif/diagram.h"
#include "attnbif/spec.h"
#include "io/svg.h"

#include <stddef.h>

/* Text metrics: labels are drawn in sans-serif (DejaVu Sans where rsvg renders them); a
 * character is at most this many em wide (DejaVu Sans' widest capitals and digits are
 * 0.69 em), the ascent and descent below are DejaVu's 0.76 and 0.24 em rounded up, so a
 * computed box covers the rendered text. */
#define AB_PLOT_CHAR_EM 0.70
#define AB_PLOT_ASCENT_EM 0.80
#define AB_PLOT_DESCENT_EM 0.25
/* Font sizes (px) of special-point labels and of the Morse index along unstable branches. */
#define AB_PLOT_LABEL_FONT 11.0
#define AB_PLOT_INDEX_FONT 9.0
/* Half the side of the box a special-point marker occupies (px; the fold square is 8 px). */
#define AB_PLOT_MARKER_HALF 5.0
/* Label placement: candidate boxes at these distances (px) from the marker, in eight
 * directions each (docs/output-run.md, "Labels"). */
#define AB_PLOT_LABEL_GAP 3.0
#define AB_PLOT_LABEL_RINGS 8
#define AB_PLOT_LABEL_RING_STEP 7.0
/* Smooth curves: each drawn segment between two computed points is cut into pieces of at
 * most this length (px) along a cubic Hermite curve. */
#define AB_PLOT_CURVE_PIECE 3.0
/* Branch names: a branch whose |r| (|S|) stays below this on every point but its first is
 * taken to have r = 0 (S = 0); the continuation's uniform tolerance is 1e-8 (docs/continuation.md) */
#define AB_PLOT_ZERO_TOL 1e-6

typedef struct {
    double x0, y0, x1, y1; /* pixels, x0 <= x1, y0 <= y1 (y down) */
} ab_plot_box;

/* ---- two-parameter curves (curves_out.c) ---------------------------------------------- */
struct ab_curve_set;
ab_status ab_curves_write_csv(const char *dir, const struct ab_curve_set *set, ab_error *err);
ab_status ab_curves_write_phase_diagram(const char *dir, const ab_diagram *d, const struct ab_curve_set *set,
                                        ab_error *err);
/* barriers.csv and barriers.svg of a gradient model's diagram (docs/metastability.md). */
ab_status ab_barriers_write(const char *dir, const ab_diagram *d, const ab_barrier_set *set, ab_error *err);

/* Area of the intersection of two boxes (0 if they only touch). */
double ab_plot_box_overlap(const ab_plot_box *a, const ab_plot_box *b);

/* The box of text of n characters at font size px with its baseline starting at (x, y). */
ab_plot_box ab_plot_text_box(double x, double y, size_t n, double px);

/* ---- names (plot_names.c) ----------------------------------------------------------- */

/* The name of branch br: br->name if a caller has set one (the hook for symmetry groups of
 * sphere branches), else what its observables say: "uniform", "1-cluster", "prolate
 * (antipodal 2-cluster)", "oblate (girdle)", "l = 3 mode", and on the sphere "k-cluster"
 * (docs/output-run.md, "Branch names"). Writes at most cap bytes (always terminated). */
void ab_plot_branch_name(const ab_diagram *d, const ab_branch *br, char *name, size_t cap);

/* ---- curves (plot_curve.c) ------------------------------------------------------------ */

/* A drawn curve in pixels: the computed points of one run of a branch with cubic Hermite
 * pieces between them (tangents from the neighbouring points, centripetal, and vertical at
 * folds, where the parameter turns). n points, cap allocated. */
typedef struct {
    int n, cap;
    double *x, *y;
} ab_plot_curve;

/* Densify the computed points from..to of a branch's n points (px, py, in pixels; fold[i]
 * nonzero where the parameter turns back, so the tangent is vertical; may be NULL) into c
 * (appended). Tangents come from the whole branch, so runs drawn separately (stable,
 * unstable) join smoothly. Every computed point is on c. 0, or -1 when out of memory. */
int ab_plot_curve_add(ab_plot_curve *c, int n, const double *px, const double *py, const int *fold, int from, int to);
/* Append one point (a straight segment from the last); 0, or -1 when out of memory. */
int ab_plot_curve_push(ab_plot_curve *c, double x, double y);
void ab_plot_curve_free(ab_plot_curve *c);

/* ---- the diagram's layout (plot_diagram.c) --------------------------------------------- */

typedef enum { AB_PLOT_LABEL_SPECIAL = 0, AB_PLOT_LABEL_INDEX } ab_plot_label_kind;

typedef struct {
    ab_plot_label_kind kind;
    int panel;           /* 0: r, 1: S */
    int branch;          /* index into d->branches (Morse index labels), else -1 */
    char text[24];
    double ax, ay;       /* what it labels: the marker's centre or the point on the curve */
    double tx, ty;       /* the text's baseline start */
    double px;           /* font size */
    ab_plot_box box;     /* where the text is drawn */
} ab_plot_label;

typedef struct {
    int branch;          /* index into d->branches */
    int panel;
    int stable;
    ab_plot_curve curve;
} ab_plot_run;

typedef struct {
    double width, height;
    int n_panels;
    ab_svg_panel *panel;    /* n_panels */
    int n_labels, cap_labels;
    ab_plot_label *labels;
    int n_markers, cap_markers;
    ab_plot_box *markers;   /* special-point markers */
    int *marker_panel;
    int n_runs, cap_runs;
    ab_plot_run *runs;      /* drawn curves: one per run of equal stability, per panel */
    double legend_left;
    char (*names)[80];      /* the branches' names (legend) */
} ab_plot_layout;

/* Building a layout: allocate n panels; add a label, a marker box, a drawn run (returned
 * zeroed, NULL when out of memory); place a label (text, px, panel and anchor set) around
 * its anchor, clear of a marker of half size half: rings of candidates in eight directions,
 * the cheapest wins (docs/output-run.md, "Labels"); returns its cost, below
 * AB_PLOT_COST_MARKER when it overlaps no label and no marker and is inside its panel. */
#define AB_PLOT_COST_MARKER 1e4
int ab_plot_layout_panels(ab_plot_layout *L, int n);
int ab_plot_push_label(ab_plot_layout *L, const ab_plot_label *lab);
int ab_plot_push_marker(ab_plot_layout *L, ab_plot_box b, int panel);
ab_plot_run *ab_plot_push_run(ab_plot_layout *L);
double ab_plot_place(const ab_plot_layout *L, ab_plot_label *lab, double half);

/* The layout of diagram.svg: panels, drawn curves, markers and labels placed so that no two
 * labels overlap. naive = 1 places every label at its marker's upper right, as the writer
 * did before labels were placed (tests show that this overlaps). */
ab_status ab_plot_diagram_layout(const ab_diagram *d, int naive, ab_plot_layout *L, ab_error *err);
void ab_plot_layout_free(ab_plot_layout *L);
/* diagram.svg in dir (atomically). */
ab_status ab_plot_diagram_write(const char *dir, const ab_diagram *d, ab_error *err);

/* ---- spectrum.svg (plot_spectrum.c) ---------------------------------------------------- */

/* Panels of spectrum.svg at most (one per monitored sector, in the spec's order; the rest
 * are in spectrum.csv). */
#define AB_PLOT_SPECTRUM_MAX_PANELS 8
/* The layout: a panel per sector, a curve per branch (runs with branch, panel = sector's
 * index), the special points at zero in their crossing sector's panel, labelled. */
ab_status ab_plot_spectrum_layout(const ab_diagram *d, ab_plot_layout *L, ab_error *err);
/* spectrum.csv and spectrum.svg in dir (atomically). */
ab_status ab_plot_spectrum_write(const char *dir, const ab_diagram *d, ab_error *err);

/* ---- profiles.svg (plot_profiles.c) --------------------------------------------------- */

/* The labelled points drawn (special points with a profile). */
int ab_plot_profiles_count(const ab_diagram *d);
/* Panel j (0-based, in the order of d->special) of the zonal figure, rho from 0 to rho_max. */
void ab_plot_profiles_panel(int j, ab_svg_panel *p, double rho_max);
/* profiles.svg in dir (atomically; nothing if no point is labelled). */
ab_status ab_plot_profiles_write(const char *dir, const ab_diagram *d, ab_error *err);

/* ---- overlay.svg: `attnbif plot` (plot_overlay.c) ------------------------------------- */

typedef struct {
    int branch, stable, fold;
    double kappa, r;
} ab_overlay_point;

typedef struct {
    int n;
    double kappa, r, r_err;
} ab_overlay_sim;

typedef struct {
    char run_dir[AB_PATH_MAX];
    char model[16];
    int d;
    double beta;
    int n_points, cap_points;
    ab_overlay_point *points; /* branches.csv's rows */
    int n_sim, cap_sim;
    ab_overlay_sim *sim;      /* every sweep's rows with r */
} ab_overlay;

/* A run's result directory (summary.json: model, d, beta, parameter kappa; branches.csv),
 * then any number of sweep directories (sweep.csv), each refused naming its file, line and
 * field if it is not for the run's model, d and beta; overlay.svg and overlay.png in dir. */
ab_status ab_overlay_read_run(ab_overlay *o, const char *dir, ab_error *err);
ab_status ab_overlay_add_sweep(ab_overlay *o, const char *dir, ab_error *err);
ab_status ab_overlay_write(const char *dir, const ab_overlay *o, ab_error *err);
void ab_overlay_free(ab_overlay *o);

/* ---- gnuplot scripts (plot_gnuplot.c) ------------------------------------------------ */

/* diagram.gp, spectrum.gp and (if a point is labelled) profiles.gp in dir: each redraws its
 * figure from the CSV files with gnuplot (docs/output-run.md, "gnuplot scripts"). */
ab_status ab_plot_gnuplot_write(const char *dir, const ab_diagram *d, ab_error *err);

#endif
