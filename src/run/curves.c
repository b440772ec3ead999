/* Following curves of folds and branch points from the special points of a one-parameter
 * diagram in the plane of two parameters, and locating the codimension-two points on them
 * (docs/curves.md). */
#include "attnbif/curves.h"
#include "attnbif/model.h"
#include "attnbif/state.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Relative width in the curve's parameter to which a codimension-two point is located
 * (Illinois iteration on the test function, each iterate a point solved on the curve). */
#define AB_CURVE_LOCATE_TOL 1e-13
#define AB_CURVE_LOCATE_MAX_ITER 80
/* A fold curve whose state comes this close to the uniform state (weighted L2 norm of
 * u - mean u) runs into a degenerate pitchfork: it ends there, and the end point is
 * extrapolated from points solved at amplitudes AB_CURVE_END_AMPLITUDE x 1..4. */
#define AB_CURVE_END_AMPLITUDE 0.02
/* A special point whose parameter lies within this (relative) of a curve of the same type
 * already followed, with r within AB_CURVE_SAME_R, is on that curve (mirror images). */
#define AB_CURVE_SAME_TOL 1e-5
#define AB_CURVE_SAME_R 1e-4

const char *ab_curve_type_name(ab_curve_type type)
{
    static const char *const names[] = {"fold", "pitchfork", "transcritical", "maxwell"};
    return (unsigned)type <= AB_CURVE_MAXWELL ? names[type] : "?";
}

const char *ab_curve_point_type_name(ab_curve_point_type type)
{
    static const char *const names[] = {"degenerate-pitchfork", "cusp", "bogdanov-takens", "end"};
    return (unsigned)type <= AB_CP_END ? names[type] : "?";
}

void ab_curve_set_free(ab_curve_set *set)
{
    for (int i = 0; i < set->n_curves; i++) free(set->curves[i].rows);
    for (int i = 0; i < set->n_points; i++) free(set->points[i].x);
    free(set->curves);
    free(set->points);
    memset(set, 0, sizeof *set);
}

typedef struct {
    const ab_spec *spec;
    const ab_two_parameter_spec *tp;
    const ab_messages *msg;
    ab_curve_set *set;
    ab_disc *disc;
    ab_curve_problem *cp;
    ab_problem *prob;
    ab_linsol *ls;
    ab_cont *cont;
    ab_curve_type type;
    int sector;          /* > 0: a branch point of this sector (ab_curve_problem_create_sector) */
    size_t n, np1;       /* state size; point size x = (u, p_unknown, p_cont) */
    double *xa, *xb, *xc, *pred, *normal, *u, *v, *w;
} follower;

static void say(const follower *f, const char *fmt, ...)
{
    if (!f->msg || !f->msg->line) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    f->msg->line(f->msg->ctx, line);
}

static void follower_free(follower *f)
{
    ab_cont_free(f->cont);
    ab_linsol_destroy(f->ls);
    ab_curve_problem_destroy(f->cp);
    ab_disc_destroy(f->disc);
    free(f->xa);
    memset(&f->disc, 0, sizeof *f - offsetof(follower, disc));
}

/* The discretisation at the special point's grid and parameters, the curve problem and the
 * continuation on it. */
static ab_status follower_init(follower *f, int nodes, ab_curve_space space, double kappa, double beta, int pu,
                               ab_error *err)
{
    ab_status st = ab_disc_create_with_nodes(f->spec, nodes, &f->disc, err);
    if (!st) st = ab_disc_set_params(f->disc, (ab_params){kappa, beta}, err);
    if (!st && f->type == AB_CURVE_MAXWELL) st = ab_curve_problem_create_maxwell(f->disc, pu, f->tp->parameter, &f->cp, err);
    else if (!st && f->sector > 0)
        st = ab_curve_problem_create_sector(f->disc, f->sector, pu, f->tp->parameter, &f->cp, err);
    else if (!st) st = ab_curve_problem_create(f->disc, space, pu, f->tp->parameter, &f->cp, err);
    if (st) return st;
    f->prob = ab_curve_problem_get(f->cp);
    f->n = ab_disc_dim(f->disc);
    f->np1 = f->n + 2;
    ab_cont_params prm = f->spec->continuation.tolerances;
    prm.ds = f->tp->ds;
    prm.ds_min = f->tp->ds_min;
    prm.ds_max = f->tp->ds_max;
    prm.relative_state_norm = 0;
    if ((st = ab_linsol_create(AB_LINSOL_DENSE, f->np1 + 1, NULL, &f->ls, err))) return st;
    if ((st = ab_cont_alloc(f->prob, f->ls, &prm, &f->cont, err))) return st;
    f->xa = calloc(8 * f->np1, sizeof(double));
    if (!f->xa) return ab_error_set(err, AB_ENOMEM, "out of memory");
    f->xb = f->xa + f->np1;
    f->xc = f->xb + f->np1;
    f->pred = f->xc + f->np1;
    f->normal = f->pred + f->np1;
    f->u = f->normal + f->np1;
    f->v = f->u + f->np1;
    f->w = f->v + f->np1;
    return AB_OK;
}

/* Parameters of the problem (and its base) at the point x. */
static ab_status at_point(follower *f, const double *x, ab_error *err)
{
    return ab_problem_set_param(f->prob, f->tp->parameter, x[f->n + 1], err);
}

/* Weighted L2 norm of u - mean(u) of the state of x. */
static double amplitude(follower *f, const double *x)
{
    const double *W = ab_disc_weights(f->disc);
    ab_curve_problem_project(f->cp, x, f->u);
    double mean = 0.0, wsum = 0.0, s = 0.0;
    for (size_t i = 0; i < f->n; i++) {
        mean += W[i] * f->u[i];
        wsum += W[i];
    }
    mean /= wsum;
    for (size_t i = 0; i < f->n; i++) s += W[i] * (f->u[i] - mean) * (f->u[i] - mean);
    return sqrt(s / wsum);
}

/* The test function of the curve's codimension-two points at x: c3 on pitchfork curves, c2
 * on fold curves (a cusp), and <w, v> on fold curves (Bogdanov-Takens) in *bt. */
static ab_status test_at(follower *f, const double *x, double *test, double *bt, ab_error *err)
{
    double c2 = NAN, c3 = NAN, wv = NAN;
    *test = *bt = NAN;
    if (f->type == AB_CURVE_MAXWELL) return AB_OK;
    ab_status st = at_point(f, x, err);
    if (!st) st = ab_curve_problem_normal_form(f->cp, x, &c2, &c3, err);
    if (!st && f->type == AB_CURVE_FOLD) st = ab_curve_problem_kernel(f->cp, x, f->v, f->w, &wv, err);
    *test = f->type == AB_CURVE_PITCHFORK ? c3 : c2;
    *bt = wv;
    return st;
}

static ab_status observe(follower *f, const double *x, ab_curve_row *row, ab_error *err)
{
    ab_status st = at_point(f, x, err);
    if (st) return st;
    double g;
    if ((st = ab_curve_problem_test(f->cp, x, &g, err))) return st; /* sets the base parameters */
    ab_curve_problem_project(f->cp, x, f->u);
    ab_observables obs;
    if ((st = ab_disc_observables(f->disc, f->u, &obs, err))) return st;
    const int pu = f->set->unknown_param;
    row->kappa = pu == AB_PARAM_KAPPA ? x[f->n] : x[f->n + 1];
    row->beta = pu == AB_PARAM_KAPPA ? x[f->n + 1] : x[f->n];
    row->r = obs.r;
    row->S = obs.S;
    int need = 0;
    row->tail = NAN;
    if ((st = ab_disc_resolution(f->disc, f->u, &row->tail, &need, err))) return st;
    row->free_energy = obs.free_energy;
    row->label = -1;
    double bt;
    return test_at(f, x, &row->test, &bt, err);
}

static ab_status add_row(ab_curve *c, const ab_curve_row *row, ab_error *err)
{
    if (c->n_rows == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        ab_curve_row *r = realloc(c->rows, sizeof *r * (size_t)cap);
        if (!r) return ab_error_set(err, AB_ENOMEM, "out of memory");
        c->rows = r;
        c->cap = cap;
    }
    c->rows[c->n_rows++] = *row;
    return AB_OK;
}

static int add_point(ab_curve_set *set, const ab_curve_point *p)
{
    if (set->n_points == set->cap_points) {
        int cap = set->cap_points ? 2 * set->cap_points : 16;
        ab_curve_point *q = realloc(set->points, sizeof *q * (size_t)cap);
        if (!q) return -1;
        set->points = q;
        set->cap_points = cap;
    }
    set->points[set->n_points] = *p;
    return set->n_points++;
}

/* The point on the curve at the curve parameter value p, from the predictor pred (its p
 * component is replaced): the corrector on the hyperplane p = const. */
static ab_status solve_at_param(follower *f, double *pred, double p, double *x, ab_error *err)
{
    memset(f->normal, 0, sizeof(double) * f->np1);
    f->normal[f->n + 1] = 1.0;
    pred[f->n + 1] = p;
    ab_status st = ab_cont_correct(f->cont, pred, f->normal, x, NULL, err);
    if (!st) st = ab_curve_problem_refresh(f->cp, x, err);
    return st;
}

/* Locate the zero of the test function between the points xa (test ta) and xb (tb) of
 * opposite signs by the Illinois variant of regula falsi in the curve parameter, every
 * iterate a point of the curve (ab_curve_problem_normal_form or _kernel at it): the
 * augmented system {curve, test = 0} solved with the curve's equations eliminated. */
static ab_status locate(follower *f, int which, double *xa, double ta, double *xb, double tb, double *x, double *error,
                        ab_error *err)
{
    const size_t np1 = f->np1;
    const size_t ip = f->n + 1;
    double pa = xa[ip], pb = xb[ip];
    int side = 0;
    ab_status st = AB_OK;
    *error = fabs(pb - pa);
    memcpy(x, xa, sizeof(double) * np1);
    for (int it = 0; it < AB_CURVE_LOCATE_MAX_ITER; it++) {
        double p = (pa * tb - pb * ta) / (tb - ta);
        const double lam = (p - pa) / (pb - pa);
        for (size_t i = 0; i < np1; i++) f->pred[i] = (1.0 - lam) * xa[i] + lam * xb[i];
        if ((st = solve_at_param(f, f->pred, p, x, err))) return st;
        double t, bt;
        if ((st = test_at(f, x, &t, &bt, err))) return st;
        if (which) t = bt;
        if (t == 0.0) {
            *error = 0.0;
            return AB_OK;
        }
        if ((t > 0) == (ta > 0)) {
            memcpy(xa, x, sizeof(double) * np1);
            pa = p;
            ta = t;
            if (side == -1) tb *= 0.5;
            side = -1;
        } else {
            memcpy(xb, x, sizeof(double) * np1);
            pb = p;
            tb = t;
            if (side == 1) ta *= 0.5;
            side = 1;
        }
        *error = fabs(pb - pa);
        if (*error <= AB_CURVE_LOCATE_TOL * fmax(1.0, fabs(p))) return AB_OK;
    }
    return ab_error_set(err, AB_ENOCONV, "a codimension-two point was not located to %.0e in %d iterations (width %.3g)",
                        AB_CURVE_LOCATE_TOL, AB_CURVE_LOCATE_MAX_ITER, *error);
}

/* A codimension-two point at x on curve c (row index row of the located point's bracket). */
static ab_status record_point(follower *f, ab_curve *c, ab_curve_point_type type, const double *x, double error,
                              const char *note, ab_error *err)
{
    ab_curve_row row;
    ab_status st = observe(f, x, &row, err);
    if (st) return st;
    static const char *const prefix[] = {"DP", "CP", "BT", "EP"};
    int count = 1;
    for (int i = 0; i < f->set->n_points; i++)
        if (f->set->points[i].type == type) count++;
    ab_curve_point p = {.type = type, .kappa = row.kappa, .beta = row.beta, .r = row.r, .error = error, .curve = c->id,
                        .alt_kappa = NAN, .alt_beta = NAN, .alt_error = NAN, .nodes = c->nodes, .dim = f->np1};
    snprintf(p.label, sizeof p.label, "%s%d", prefix[type], count);
    snprintf(p.note, sizeof p.note, "%s", note ? note : "");
    p.x = malloc(sizeof(double) * f->np1);
    if (!p.x) return ab_error_set(err, AB_ENOMEM, "out of memory");
    memcpy(p.x, x, sizeof(double) * f->np1);
    const int k = add_point(f->set, &p);
    if (k < 0) {
        free(p.x);
        return ab_error_set(err, AB_ENOMEM, "out of memory");
    }
    row.label = k;
    say(f, "curve %d: %s %s at kappa = %.12g, beta = %.12g", c->id, p.label, ab_curve_point_type_name(type), p.kappa,
        p.beta);
    return add_row(c, &row, err);
}

/* The end of a fold curve at a degenerate pitchfork, extrapolated: points of the curve
 * solved with the odd part of their state at amplitudes s_k = k s_1 (k = 1..4), the
 * parameters extrapolated to s = 0 as polynomials in s^2 (they are even in s), and the
 * change from the extrapolation through three of the points as the error estimate. */
static ab_status fold_end(follower *f, ab_curve *c, const double *x_last, ab_error *err)
{
    const size_t n = f->n, np1 = f->np1;
    double *odd = f->v, *refl = f->w;
    ab_curve_problem_project(f->cp, x_last, f->u);
    ab_disc_reflect(f->disc, f->u, refl);
    const double *W = ab_disc_weights(f->disc);
    double s_last = 0.0;
    for (size_t i = 0; i < n; i++) {
        odd[i] = 0.5 * (f->u[i] - refl[i]);
        s_last += W[i] * odd[i] * odd[i];
    }
    s_last = sqrt(s_last);
    if (!(s_last > 0.0)) return AB_OK;
    for (size_t i = 0; i < n; i++) odd[i] /= s_last;
    double s2[4], pu[4], pc[4];
    const double s1 = fmin(AB_CURVE_END_AMPLITUDE, s_last / 4.0);
    memcpy(f->xc, x_last, sizeof(double) * np1);
    ab_status st = AB_OK;
    for (int k = 3; k >= 0 && !st; k--) {
        const double s = s1 * (k + 1);
        /* predictor: the last solved point with its odd part scaled; hyperplane <odd, u> = s */
        ab_curve_problem_project(f->cp, f->xc, f->u);
        double cur = 0.0;
        for (size_t i = 0; i < n; i++) cur += W[i] * odd[i] * f->u[i];
        memcpy(f->pred, f->xc, sizeof(double) * np1);
        for (size_t i = 0; i < n; i++) f->pred[i] += (s - cur) * odd[i];
        memset(f->normal, 0, sizeof(double) * np1);
        for (size_t i = 0; i < n; i++) f->normal[i] = odd[i];
        st = ab_cont_correct(f->cont, f->pred, f->normal, f->xb, NULL, err);
        if (!st) st = ab_curve_problem_refresh(f->cp, f->xb, err);
        if (st) break;
        memcpy(f->xc, f->xb, sizeof(double) * np1);
        s2[k] = s * s;
        pu[k] = f->xb[n];
        pc[k] = f->xb[n + 1];
    }
    if (st) return st;
    /* Lagrange extrapolation to s^2 = 0 through 4 and through 3 points */
    double e4[2] = {0, 0}, e3[2] = {0, 0};
    for (int k = 0; k < 4; k++) {
        double l4 = 1.0, l3 = 1.0;
        for (int j = 0; j < 4; j++)
            if (j != k) l4 *= (0.0 - s2[j]) / (s2[k] - s2[j]);
        for (int j = 0; j < 3; j++)
            if (j != k && k < 3) l3 *= (0.0 - s2[j]) / (s2[k] - s2[j]);
        e4[0] += l4 * pu[k];
        e4[1] += l4 * pc[k];
        if (k < 3) {
            e3[0] += l3 * pu[k];
            e3[1] += l3 * pc[k];
        }
    }
    const int kap = f->set->unknown_param == AB_PARAM_KAPPA;
    ab_curve_point p = {.type = AB_CP_DEGENERATE_PITCHFORK,
                        .kappa = kap ? e4[0] : e4[1],
                        .beta = kap ? e4[1] : e4[0],
                        .r = 0.0,
                        .error = fmax(fabs(e4[0] - e3[0]), fabs(e4[1] - e3[1])),
                        .curve = c->id,
                        .alt_kappa = NAN,
                        .alt_beta = NAN,
                        .alt_error = NAN,
                        .born_curve = c->id};
    int count = 1;
    for (int i = 0; i < f->set->n_points; i++)
        if (f->set->points[i].type == AB_CP_DEGENERATE_PITCHFORK) count++;
    snprintf(p.label, sizeof p.label, "DP%d", count);
    snprintf(p.note, sizeof p.note, "end of fold curve %d, extrapolated from amplitudes %.3g-%.3g", c->id, s1, 4 * s1);
    if (add_point(f->set, &p) < 0) return ab_error_set(err, AB_ENOMEM, "out of memory");
    say(f, "curve %d: the fold curve ends at a degenerate pitchfork, kappa = %.12g, beta = %.12g (+- %.1e)", c->id, p.kappa,
        p.beta, p.error);
    return AB_OK;
}

/* Follow the curve through x0 in one direction (dir = +1 / -1 in the curve parameter),
 * appending rows to c (in the order met). */
static ab_status follow_dir(follower *f, ab_curve *c, const double *x0, const double *tau0, int dir, int side,
                            ab_error *err)
{
    const size_t np1 = f->np1, ip = f->n + 1;
    ab_status st = ab_cont_set(f->cont, x0, tau0, dir, err);
    if (st) return st;
    double t_prev, bt_prev;
    if ((st = test_at(f, x0, &t_prev, &bt_prev, err))) return st;
    double a_prev = amplitude(f, x0);
    char *why = c->end_reason[side];
    snprintf(why, sizeof c->end_reason[side], "max_steps (%d) reached", f->tp->max_steps);
    for (int step = 0; step < f->tp->max_steps; step++) {
        ab_cont_step_info info;
        ab_error e2 = {0};
        st = ab_cont_step(f->cont, &info, &e2);
        if (st == AB_ENOCONV) {
            if (ab_cont_ds(f->cont) < f->tp->ds_min) {
                snprintf(why, sizeof c->end_reason[side], "the step fell below ds_min: %.150s", e2.msg);
                st = AB_OK;
                break;
            }
            continue;
        }
        if (st) {
            if (err) *err = e2;
            return st;
        }
        const double *x = ab_cont_point(f->cont);
        if ((st = ab_curve_problem_refresh(f->cp, x, err))) return st;
        memcpy(f->xa, x, sizeof(double) * np1);
        const double p = f->xa[ip];
        if (p < f->tp->min || p > f->tp->max) {
            snprintf(why, sizeof c->end_reason[side], "left the window [%g, %g] of %s", f->tp->min, f->tp->max,
                     ab_problem_param_name(f->prob, f->tp->parameter));
            break;
        }
        double t, bt;
        if ((st = test_at(f, f->xa, &t, &bt, err))) return st;
        const double *xp = ab_cont_previous(f->cont);
        /* codimension-two points between the previous point and this one */
        const int dp = f->type == AB_CURVE_PITCHFORK && t_prev * t < 0.0;
        const int cusp = f->type == AB_CURVE_FOLD && t_prev * t < 0.0;
        const int bt_cross = f->type == AB_CURVE_FOLD && bt_prev * bt < 0.0;
        if (dp || cusp || bt_cross) {
            double error;
            memcpy(f->xb, xp, sizeof(double) * np1);
            memcpy(f->xc, f->xa, sizeof(double) * np1);
            st = locate(f, bt_cross && !dp && !cusp, f->xb, bt_cross && !dp && !cusp ? bt_prev : t_prev, f->xc,
                        bt_cross && !dp && !cusp ? bt : t, f->pred, &error, err);
            if (st) return st;
            memcpy(f->xb, f->pred, sizeof(double) * np1);
            st = record_point(f, c, dp ? AB_CP_DEGENERATE_PITCHFORK : cusp ? AB_CP_CUSP : AB_CP_BOGDANOV_TAKENS, f->xb,
                              error, dp ? "cubic coefficient c3 = 0 on the pitchfork curve" : cusp ? "c2 = 0 on the fold curve"
                                                                                                 : "<w, v> = 0 on the fold curve",
                              err);
            if (st) return st;
            /* the curve problem was moved: back to the current point */
            if ((st = ab_curve_problem_refresh(f->cp, f->xa, err))) return st;
        }
        ab_curve_row row;
        if ((st = observe(f, f->xa, &row, err))) return st;
        /* a state the grid does not resolve ends the curve: a curve stays on its grid */
        if (isfinite(row.tail) && row.tail > AB_RESOLUTION_TAIL_MAX) {
            double tail;
            int need = 0;
            ab_curve_problem_project(f->cp, f->xa, f->u);
            if ((st = ab_disc_resolution(f->disc, f->u, &tail, &need, err))) return st;
            snprintf(why, sizeof c->end_reason[side],
                     "not resolved with %d nodes at %s = %.6g (density modes at the top degree %.1e of the largest, limit "
                     "%.0e): about %d nodes are needed (discretization.nodes)",
                     ab_disc_size(f->disc), ab_problem_param_name(f->prob, f->tp->parameter), p, row.tail,
                     AB_RESOLUTION_TAIL_MAX, need);
            break;
        }
        if ((st = add_row(c, &row, err))) return st;
        t_prev = t;
        bt_prev = bt;
        const double a = amplitude(f, f->xa);
        if ((f->type == AB_CURVE_FOLD || f->type == AB_CURVE_MAXWELL) && a < a_prev && a < 4.0 * AB_CURVE_END_AMPLITUDE) {
            snprintf(why, sizeof c->end_reason[side], "reaches the uniform state (a degenerate pitchfork)");
            if (f->type == AB_CURVE_FOLD) st = fold_end(f, c, f->xa, err);
            break;
        }
        a_prev = a;
        say(f, "curve %d (%s): %s = %.8g, %s = %.8g, r = %.4g", c->id, ab_curve_type_name(c->type),
            ab_problem_param_name(f->prob, f->set->unknown_param), f->xa[f->n],
            ab_problem_param_name(f->prob, f->tp->parameter), p, row.r);
    }
    return st;
}

/* Is the uniform state stable at (kappa, beta)? Its eigenvalues are those of the degrees
 * l >= 1, kappa_l decreasing in l past the first few (docs/theory.md). */
static int uniform_stable(const ab_spec *spec, double kappa, double beta)
{
    for (int l = 1; l <= 8; l++)
        if (!(kappa > ab_kappa_l(spec->model.kind, spec->model.d, beta, l))) return 0;
    return 1;
}

/* Follow the curve through start both ways: backwards first, its rows then reversed so that
 * the curve is ordered, the start's row, then forwards. */
static ab_status follow_both(follower *f, ab_curve *c, const double *start, ab_error *err)
{
    ab_status st = follow_dir(f, c, start, NULL, -1, 0, err);
    for (int i = 0, j = c->n_rows - 1; !st && i < j; i++, j--) {
        ab_curve_row t = c->rows[i];
        c->rows[i] = c->rows[j];
        c->rows[j] = t;
    }
    ab_curve_row row;
    if (!st) st = ab_curve_problem_refresh(f->cp, start, err);
    if (!st) st = observe(f, start, &row, err);
    if (!st) st = add_row(c, &row, err);
    if (!st) st = ab_curve_problem_refresh(f->cp, start, err);
    if (!st) st = follow_dir(f, c, start, NULL, +1, 1, err);
    return st;
}

/* Is the special point sp on a curve of this type already followed? */
static int on_known_curve(const ab_curve_set *set, ab_curve_type type, double kappa, double beta, double r)
{
    for (int i = 0; i < set->n_curves; i++) {
        const ab_curve *c = &set->curves[i];
        if (c->type != type) continue;
        for (int k = 0; k < c->n_rows; k++) {
            const ab_curve_row *q = &c->rows[k];
            if (fabs(q->kappa - kappa) <= AB_CURVE_SAME_TOL * fmax(1.0, fabs(kappa)) &&
                fabs(q->beta - beta) <= AB_CURVE_SAME_TOL * fmax(1.0, fabs(beta)) && fabs(q->r - r) <= AB_CURVE_SAME_R)
                return c->id;
        }
    }
    return 0;
}

/* One curve from the special point sp of the diagram. */
/* A new curve in the set (NULL: out of memory). */
static ab_curve *new_curve(ab_curve_set *set, ab_curve_type type, int nodes)
{
    if (set->n_curves == set->cap_curves) {
        int cap = set->cap_curves ? 2 * set->cap_curves : 8;
        ab_curve *cs = realloc(set->curves, sizeof *cs * (size_t)cap);
        if (!cs) return NULL;
        set->curves = cs;
        set->cap_curves = cap;
    }
    ab_curve *c = &set->curves[set->n_curves];
    memset(c, 0, sizeof *c);
    c->id = set->n_curves + 1;
    c->type = type;
    c->from_special = -1;
    c->from_point = -1;
    c->l = -1;
    c->nodes = nodes;
    set->n_curves++;
    return c;
}

static ab_status curve_from_special(follower *f, const ab_diagram *d, int isp, ab_curve_type type, ab_curve_space space,
                                    ab_error *err)
{
    const ab_special_point *sp = &d->special[isp];
    ab_curve *c = new_curve(f->set, type, sp->disc_nodes);
    if (!c) return ab_error_set(err, AB_ENOMEM, "out of memory");
    c->from_special = isp;
    c->l = sp->l;
    f->type = type;
    /* a fold next to stable states bounds the region where they exist */
    for (int b = 0; b < d->n_branches && type == AB_CURVE_FOLD; b++) {
        const ab_branch *br = &d->branches[b];
        if (br->id != sp->branch) continue;
        for (int k = sp->point - 1; k <= sp->point + 1; k++)
            if (k >= 0 && k < br->n_points && k != sp->point && br->points[k].n_unstable == 0) c->bounds_stable = 1;
    }
    ab_status st = follower_init(f, sp->disc_nodes, space, sp->kappa, sp->beta, d->parameter, err);
    if (st) return st;
    const size_t n = f->n;
    /* x = (u, p_unknown, p_cont) from the special point's (u, p) */
    double *x0 = f->xc;
    memcpy(x0, sp->x, sizeof(double) * n);
    x0[n] = sp->x[n];
    x0[n + 1] = f->tp->parameter == AB_PARAM_KAPPA ? sp->kappa : sp->beta;
    ab_curve_problem_project(f->cp, x0, f->u);
    memcpy(x0, f->u, sizeof(double) * n);
    if ((st = at_point(f, x0, err))) return st;
    if ((st = ab_curve_problem_borders_svd(f->cp, x0, err))) return st;
    memcpy(f->pred, x0, sizeof(double) * f->np1);
    if ((st = solve_at_param(f, f->pred, x0[n + 1], f->xb, err))) return st;
    double *start = malloc(sizeof(double) * f->np1);
    if (!start) return ab_error_set(err, AB_ENOMEM, "out of memory");
    memcpy(start, f->xb, sizeof(double) * f->np1);
    say(f, "curve %d: %s curve from %s%d (%s = %.10g, %s = %.10g)", c->id, ab_curve_type_name(type),
        ab_special_label(sp->type), isp + 1, ab_problem_param_name(f->prob, d->parameter), start[n],
        ab_problem_param_name(f->prob, f->tp->parameter), start[n + 1]);
    st = follow_both(f, c, start, err);
    free(start);
    return st;
}

/* The fold curve born at the degenerate pitchfork point ip (docs/curves.md, "Degenerate
 * pitchforks"): its first point is solved with the odd part of the state at amplitude
 * 4 AB_CURVE_END_AMPLITUDE along the kernel vector (the fold system is singular at the
 * degenerate pitchfork itself), and the curve is followed away from it. */
static ab_status fold_from_dp(follower *f, int ip, ab_error *err)
{
    ab_curve_point *dp = &f->set->points[ip];
    ab_status st = follower_init(f, dp->nodes, AB_CURVE_SPACE_ALL, dp->kappa, dp->beta, f->set->unknown_param, err);
    if (st) return st;
    const size_t n = f->n, np1 = f->np1;
    ab_curve *c = new_curve(f->set, AB_CURVE_FOLD, dp->nodes);
    if (!c) return ab_error_set(err, AB_ENOMEM, "out of memory");
    dp = &f->set->points[ip];
    c->from_point = ip;
    dp->born_curve = c->id;
    f->type = AB_CURVE_FOLD;
    double *x0 = f->xc, *odd = f->v;
    memcpy(x0, dp->x, sizeof(double) * np1);
    if ((st = at_point(f, x0, err))) return st;
    if ((st = ab_curve_problem_borders_svd(f->cp, x0, err))) return st;
    double vv, wv;
    if ((st = ab_curve_problem_kernel(f->cp, x0, odd, f->w, &wv, err))) return st;
    /* the odd part of the kernel vector, unit in the weighted norm */
    ab_disc_reflect(f->disc, odd, f->u);
    const double *W = ab_disc_weights(f->disc);
    vv = 0.0;
    for (size_t i = 0; i < n; i++) {
        odd[i] = 0.5 * (odd[i] - f->u[i]);
        vv += W[i] * odd[i] * odd[i];
    }
    if (!(vv > 0.0)) return ab_error_set(err, AB_EINVAL, "%s: the kernel vector has no odd part", dp->label);
    for (size_t i = 0; i < n; i++) odd[i] /= sqrt(vv);
    const double s = 4.0 * AB_CURVE_END_AMPLITUDE;
    memcpy(f->pred, x0, sizeof(double) * np1);
    for (size_t i = 0; i < n; i++) f->pred[i] += s * odd[i];
    memset(f->normal, 0, sizeof(double) * np1);
    memcpy(f->normal, odd, sizeof(double) * n);
    if ((st = ab_cont_correct(f->cont, f->pred, f->normal, f->xb, NULL, err))) {
        char why[256];
        snprintf(why, sizeof why, "%.200s", err ? err->msg : "");
        return ab_error_set(err, st, "%s: the fold curve born there was not started: %s", dp->label, why);
    }
    if ((st = ab_curve_problem_refresh(f->cp, f->xb, err))) return st;
    /* the first row is the degenerate pitchfork itself */
    ab_curve_row row = {.kappa = dp->kappa, .beta = dp->beta, .r = dp->r, .S = NAN, .free_energy = NAN, .test = 0.0,
                        .label = ip};
    if ((st = add_row(c, &row, err))) return st;
    /* away from it: the tangent oriented to growing amplitude */
    double *tau = malloc(sizeof(double) * np1 * 2);
    if (!tau) return ab_error_set(err, AB_ENOMEM, "out of memory");
    double *tprev = tau + np1;
    memset(tprev, 0, sizeof(double) * np1);
    memcpy(tprev, odd, sizeof(double) * n);
    memcpy(x0, f->xb, sizeof(double) * np1);
    st = ab_cont_tangent_at(f->cont, x0, tprev, tau, err);
    if (!st) st = observe(f, x0, &row, err);
    if (!st) st = add_row(c, &row, err);
    if (!st) st = follow_dir(f, c, x0, tau, 1, 1, err);
    free(tau);
    snprintf(c->end_reason[0], sizeof c->end_reason[0], "born at the degenerate pitchfork %s", f->set->points[ip].label);
    return st;
}

/* The Maxwell curve through the first-order transition next to the fold special point isp
 * of a gradient model (docs/curves.md, "Maxwell curves"): from the fold, the branch is
 * followed in the one-parameter direction along its side of larger r (the clustered states
 * that become stable) until its free energy changes sign; that point, solved with the
 * equal-free-energy condition, starts the curve. */
static ab_status maxwell_from_fold(follower *f, const ab_diagram *d, int isp, ab_error *err)
{
    const ab_special_point *sp = &d->special[isp];
    f->type = AB_CURVE_MAXWELL;
    ab_status st = follower_init(f, sp->disc_nodes, AB_CURVE_SPACE_ALL, sp->kappa, sp->beta, d->parameter, err);
    if (st) return st;
    const size_t n = f->n, np1 = f->np1;
    ab_problem *base = ab_disc_problem(f->disc);
    const int par = d->parameter;
    ab_linsol *ls = NULL;
    ab_cont *bc = NULL;
    ab_cont_params prm = f->spec->continuation.tolerances;
    prm.ds = f->spec->continuation.ds;
    prm.ds_min = f->spec->continuation.ds_min;
    prm.ds_max = f->spec->continuation.ds_max;
    double *xl = malloc(sizeof(double) * (n + 1) * 3);
    if (!xl) return ab_error_set(err, AB_ENOMEM, "out of memory");
    double *tau = xl + n + 1, *xs = tau + n + 1;
    if (!st) st = ab_problem_set_free(base, 1, &par, err);
    if (!st) st = ab_linsol_create(AB_LINSOL_DENSE, n + 2, NULL, &ls, err);
    if (!st) st = ab_cont_alloc(base, ls, &prm, &bc, err);
    int found = 0;
    double fe_prev = NAN, fe = NAN;
    for (int side = 0; side < 2 && !st && !found; side++) {
        memcpy(xl, sp->x, sizeof(double) * (n + 1));
        for (size_t i = 0; i <= n; i++) tau[i] = side ? -sp->tangent[i] : sp->tangent[i];
        if ((st = ab_problem_set_param(base, par, xl[n], err))) break;
        if ((st = ab_cont_set(bc, xl, tau, 0, err))) break;
        ab_observables o0, o1;
        if ((st = ab_disc_observables(f->disc, xl, &o0, err))) break;
        fe_prev = o0.free_energy;
        for (int step = 0; step < f->spec->continuation.max_steps && !st; step++) {
            ab_cont_step_info info;
            ab_error e2 = {0};
            ab_status s2 = ab_cont_step(bc, &info, &e2);
            if (s2 == AB_ENOCONV) {
                if (ab_cont_ds(bc) < prm.ds_min) break;
                continue;
            }
            if (s2) { st = s2; if (err) *err = e2; break; }
            const double *x = ab_cont_point(bc);
            if (x[n] < f->spec->continuation.min || x[n] > f->spec->continuation.max) break;
            if ((st = ab_problem_set_param(base, par, x[n], err))) break;
            if ((st = ab_disc_observables(f->disc, x, &o1, err))) break;
            if (step == 0 && o1.r < o0.r) break; /* the other side */
            fe = o1.free_energy;
            if (fe_prev * fe <= 0.0) {
                found = 1;
                memcpy(xs, ab_cont_previous(bc), sizeof(double) * (n + 1));
                memcpy(xl, x, sizeof(double) * (n + 1));
                break;
            }
            fe_prev = fe;
        }
    }
    ab_cont_free(bc);
    ab_linsol_destroy(ls);
    if (st || !found) {
        free(xl);
        if (!st) say(f, "LP%d: no change of sign of the free energy next to it: no Maxwell curve", isp + 1);
        return st;
    }
    /* the predictor: linear in the free energy between the two points */
    const double lam = fe_prev / (fe_prev - fe);
    double *x0 = f->xc;
    for (size_t i = 0; i <= n; i++) x0[i] = (1.0 - lam) * xs[i] + lam * xl[i];
    x0[n + 1] = f->tp->parameter == AB_PARAM_KAPPA ? sp->kappa : sp->beta;
    free(xl);
    ab_curve *c = new_curve(f->set, AB_CURVE_MAXWELL, sp->disc_nodes);
    if (!c) return ab_error_set(err, AB_ENOMEM, "out of memory");
    c->from_special = isp;
    memcpy(f->pred, x0, sizeof(double) * np1);
    if ((st = at_point(f, x0, err))) return st;
    if ((st = solve_at_param(f, f->pred, x0[n + 1], f->xb, err))) return st;
    double *start = malloc(sizeof(double) * np1);
    if (!start) return ab_error_set(err, AB_ENOMEM, "out of memory");
    memcpy(start, f->xb, sizeof(double) * np1);
    say(f, "curve %d: Maxwell curve (equal free energy) from LP%d: %s = %.10g at %s = %.10g", c->id, isp + 1,
        ab_problem_param_name(f->prob, d->parameter), start[n], ab_problem_param_name(f->prob, f->tp->parameter),
        start[n + 1]);
    st = follow_both(f, c, start, err);
    free(start);
    return st;
}

/* Degenerate pitchforks found twice, on a pitchfork curve and as the end of a fold curve,
 * become one point that records both routes; one only on a pitchfork curve gets the fold
 * curve born there followed from it. */
static ab_status link_degenerate_pitchforks(follower *f, ab_error *err)
{
    ab_curve_set *set = f->set;
    for (int i = 0; i < set->n_points; i++) {
        ab_curve_point *p = &set->points[i];
        if (p->type != AB_CP_DEGENERATE_PITCHFORK || p->born_curve) continue;
        for (int j = 0; j < set->n_points; j++) {
            ab_curve_point *q = &set->points[j];
            if (j == i || q->type != AB_CP_DEGENERATE_PITCHFORK || !q->born_curve || q->x) continue;
            if (fabs(q->kappa - p->kappa) > 1e-5 * fabs(p->kappa) || fabs(q->beta - p->beta) > 1e-5 * fabs(p->beta))
                continue;
            p->alt_kappa = q->kappa;
            p->alt_beta = q->beta;
            p->alt_error = q->error;
            p->born_curve = q->born_curve;
            set->curves[q->born_curve - 1].from_point = i;
            q->type = AB_CP_END; /* merged: dropped below */
        }
    }
    /* drop the merged entries (they own no x), renumbering references */
    int k = 0;
    for (int i = 0; i < set->n_points; i++) {
        if (set->points[i].type == AB_CP_END && !set->points[i].x) {
            for (int c = 0; c < set->n_curves; c++)
                for (int r = 0; r < set->curves[c].n_rows; r++)
                    if (set->curves[c].rows[r].label == i) set->curves[c].rows[r].label = -1;
            continue;
        }
        for (int c = 0; c < set->n_curves; c++) {
            if (set->curves[c].from_point == i) set->curves[c].from_point = k;
            for (int r = 0; r < set->curves[c].n_rows; r++)
                if (set->curves[c].rows[r].label == i) set->curves[c].rows[r].label = k;
        }
        set->points[k++] = set->points[i];
    }
    set->n_points = k;
    /* labels numbered again in order */
    int count[4] = {0, 0, 0, 0};
    static const char *const prefix[] = {"DP", "CP", "BT", "EP"};
    for (int i = 0; i < set->n_points; i++)
        snprintf(set->points[i].label, sizeof set->points[i].label, "%s%d", prefix[set->points[i].type],
                 ++count[set->points[i].type]);
    ab_status st = AB_OK;
    const int n0 = set->n_points;
    for (int i = 0; i < n0 && !st; i++) {
        if (set->points[i].type != AB_CP_DEGENERATE_PITCHFORK || set->points[i].born_curve || !set->points[i].x) continue;
        if (!f->tp->follow_fold) continue;
        st = fold_from_dp(f, i, err);
        follower_free(f);
    }
    return st;
}

ab_status ab_curves_follow(const ab_spec *spec, const ab_diagram *d, const ab_messages *messages, ab_curve_set *set,
                           ab_error *err)
{
    memset(set, 0, sizeof *set);
    const ab_two_parameter_spec *tp = &spec->two_parameter;
    set->unknown_param = d->parameter;
    set->cont_param = tp->parameter;
    if (!tp->present) return AB_OK;
    if (tp->parameter == (int)d->parameter)
        return ab_error_set(err, AB_EINVAL, "two_parameter.parameter must differ from the continuation parameter");
    follower f = {.spec = spec, .tp = tp, .msg = messages, .set = set};
    ab_status st = AB_OK;
    /* branch-point curves first (their degenerate pitchforks give birth to fold curves), then folds */
    for (int pass = 0; pass < 2 && !st; pass++) {
        for (int i = 0; i < d->n_special && !st; i++) {
            const ab_special_point *sp = &d->special[i];
            if (!sp->x) continue;
            ab_curve_type type;
            ab_curve_space space;
            if (sp->type == AB_SP_FOLD) {
                if (pass != 1 || !tp->follow_fold) continue;
                type = AB_CURVE_FOLD;
                space = AB_CURVE_SPACE_ALL;
            } else if (sp->type == AB_SP_PITCHFORK || sp->type == AB_SP_TRANSCRITICAL) {
                const int pf = sp->type == AB_SP_PITCHFORK;
                if (pass != 0 || (pf && !tp->follow_pitchfork) || (!pf && !tp->follow_transcritical)) continue;
                type = pf ? AB_CURVE_PITCHFORK : AB_CURVE_TRANSCRITICAL;
                if (sp->l >= 1) space = AB_CURVE_SPACE_UNIFORM;
                else if (sp->sector > 0) {
                    /* the axial symmetry breaks: the sector's operator is tested on the zonal branch */
                    space = AB_CURVE_SPACE_ALL;
                    f.sector = sp->sector;
                }
                else if (pf) space = AB_CURVE_SPACE_MIRROR;
                else {
                    say(&f, "BP%d: a transcritical point off the uniform branch: its curve is not followed", i + 1);
                    continue;
                }
            } else
                continue;
            if (on_known_curve(set, type, sp->kappa, sp->beta, sp->r)) continue;
            st = curve_from_special(&f, d, i, type, space, err);
            follower_free(&f);
            f.sector = 0;
            /* gradient models: the first-order transition beside a fold of clustered states */
            if (!st && type == AB_CURVE_FOLD && tp->maxwell && spec->model.kind == AB_MODEL_USA && sp->tangent &&
                uniform_stable(spec, sp->kappa, sp->beta)) {
                st = maxwell_from_fold(&f, d, i, err);
                follower_free(&f);
            }
        }
    }
    if (!st) st = link_degenerate_pitchforks(&f, err);
    return st;
}
