/* Checks of the independent whole-sphere reference bench/ref_sphere.c (docs/sphere.md,
 * "Independent reference"): zonal states with a tilted axis against attnbif's zonal solver,
 * grid convergence of k-cluster states (tetrahedron, triangle, antipodal; SA and USA),
 * their symmetry and cluster masses, and the reference values it prints for issue 10. */
#include "attnbif/results.h"
#include "attnbif/state.h"
#include "ref_sphere.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int model;
    double beta, kappa;
    const char *arrangement; /* ref_sphere_arrangement name, or NULL: the tilted axis */
    int k;
    int grids[3][2];         /* a chain of grids, each solve started from the previous one */
    double tol;              /* agreement of the last two grids (r, S, entropy, F, masses) */
} sphere_case;

static const double TILT[3] = {0.36, -0.48, 0.8}; /* a unit axis off every grid symmetry */

/* Solve the chain of grids; returns the last state (caller frees) and fills the last two results. */
static ref_sphere_state *solve_chain(ab_tally *t, const sphere_case *c, ref_sphere_result *prev, ref_sphere_result *last)
{
    ref_sphere_params p;
    memset(&p, 0, sizeof p);
    p.model = c->model;
    p.beta = c->beta;
    p.kappa = c->kappa;
    if (c->arrangement)
        p.k = ref_sphere_arrangement(c->arrangement, c->k, p.centres);
    else {
        p.k = 1;
        memcpy(p.centres[0], TILT, sizeof TILT);
    }
    for (int i = 0; i < p.k; i++) p.weights[i] = 1.0;
    ref_sphere_state *st = NULL;
    for (int g = 0; g < 3; g++) {
        if (!c->grids[g][0]) break;
        p.nlat = c->grids[g][0];
        p.nlon = c->grids[g][1];
        p.start = st;
        ref_sphere_state *next = NULL;
        *prev = *last;
        ref_sphere_solve(&p, last, &next);
        ref_sphere_free(st);
        st = next;
        /* the residual without the multipliers is small only where the grid resolves the
         * state (mu measures the grid's breaking of rotations): checked on the last grid */
        int final = g == 2 || !c->grids[g + 1][0];
        if (!ab_check(t, last->status == 0 && (!final || (last->residual <= 1e-12 && last->multiplier <= 1e-13)),
                      "%s on %dx%d: status %d %s, residual %.1e, |mu| %.1e (tols 1e-12, 1e-13 on the last grid), %d "
                      "iterations, %d LU",
                      c->name, p.nlat, p.nlon, last->status, last->message, last->residual, last->multiplier,
                      last->newton_iterations, last->factorizations))
            return st;
    }
    return st;
}

static void check_convergence(ab_tally *t, const sphere_case *c, const ref_sphere_result *a, const ref_sphere_result *b)
{
    double dm = 0.0;
    for (int i = 0; i < c->k; i++) dm = fmax(dm, fabs(a->mass[i] - b->mass[i]));
    double dr = fabs(a->r - b->r), dS = fabs(a->S - b->S), de = fabs(a->entropy - b->entropy);
    double dF = c->model == REF_SPHERE_USA ? fabs(a->free_energy - b->free_energy) : 0.0;
    double dp = fabs(a->peak_rho[0] - b->peak_rho[0]) / b->peak_rho[0];
    ab_check(t, dr <= c->tol && dS <= c->tol && de <= c->tol && dF <= c->tol && dm <= c->tol && dp <= c->tol,
             "%s: last two grids agree: |dr| %.1e |dS| %.1e |dentropy| %.1e |dF| %.1e |dmass| %.1e |drho_peak|/rho %.1e "
             "(tol %.0e)",
             c->name, dr, dS, de, dF, dm, dp, c->tol);
    ab_check(t, fabs(b->mass_total - 1.0) <= 1e-12 && b->mass_err <= 1e-13,
             "%s: cell masses sum to 1 - %.1e, cell quadrature change %.1e (tols 1e-12, 1e-13)", c->name,
             1.0 - b->mass_total, b->mass_err);
}

/* The zonal solver's r, S, entropy (and USA free energy) for the same state. */
static void check_against_zonal(ab_tally *t, const sphere_case *c, const ref_sphere_result *o, const char *state_yaml)
{
    char yaml[400];
    snprintf(yaml, sizeof yaml, "model: %s\nd: 3\nbeta: %.17g\nkappa: %.17g\ndiscretization: {nodes: auto}\nstate: %s\n",
             c->model == REF_SPHERE_SA ? "SA" : "USA", c->beta, c->kappa, state_yaml);
    ab_error err = {0};
    ab_spec spec;
    ab_solve_result res;
    if (!ab_check(t, ab_spec_parse_string(yaml, "ref_sphere.yaml", &spec, &err) == AB_OK, "%s: spec %s", c->name, err.msg))
        return;
    if (!ab_check(t, ab_solve_problem(&spec, NULL, NULL, &res, &err) == AB_OK, "%s: zonal solve %s", c->name, err.msg))
        return;
    char what[200];
    snprintf(what, sizeof what, "%s: r against the zonal solver (%.15f vs %.15f)", c->name, o->r, res.obs.r);
    ab_check_rel(t, o->r, res.obs.r, 1e-10, 1.0, what);
    snprintf(what, sizeof what, "%s: S against the zonal solver (%.15f vs %.15f)", c->name, o->S, res.obs.S);
    ab_check_rel(t, o->S, res.obs.S, 1e-10, 1.0, what);
    snprintf(what, sizeof what, "%s: entropy against the zonal solver (%.15f vs %.15f)", c->name, o->entropy,
             res.obs.entropy);
    ab_check_rel(t, o->entropy, res.obs.entropy, 1e-10, 1.0, what);
    if (c->model == REF_SPHERE_USA) {
        snprintf(what, sizeof what, "%s: free energy against the zonal solver (%.15f vs %.15f)", c->name,
                 o->free_energy, res.obs.free_energy);
        ab_check_rel(t, o->free_energy, res.obs.free_energy, 1e-10, 1.0, what);
    }
    ab_solve_result_free(&res);
}

static void rotate(const double R[9], const double *x, double *y)
{
    for (int i = 0; i < 3; i++) y[i] = R[3 * i] * x[0] + R[3 * i + 1] * x[1] + R[3 * i + 2] * x[2];
}

/* rho invariant under generators of the arrangement's rotation group, at scattered points
 * (relative to max rho), and the peaks and cell centres at the arrangement's centres. */
static void check_symmetry(ab_tally *t, const sphere_case *c, const ref_sphere_state *st, const ref_sphere_result *o)
{
    const double third = 2.0 * 3.14159265358979323846 / 3.0;
    double gens[2][9];
    int ng = 0;
    if (!strcmp(c->arrangement, "tetrahedron")) {
        const double cyc[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0}, half[9] = {1, 0, 0, 0, -1, 0, 0, 0, -1};
        memcpy(gens[0], cyc, sizeof cyc);
        memcpy(gens[1], half, sizeof half);
        ng = 2;
    } else if (!strcmp(c->arrangement, "polygon")) {
        const double rz[9] = {cos(third), -sin(third), 0, sin(third), cos(third), 0, 0, 0, 1},
                     flip[9] = {1, 0, 0, 0, -1, 0, 0, 0, -1};
        memcpy(gens[0], rz, sizeof rz);
        memcpy(gens[1], flip, sizeof flip);
        ng = 2;
    } else if (!strcmp(c->arrangement, "antipodal")) {
        const double flip[9] = {1, 0, 0, 0, -1, 0, 0, 0, -1}, rz[9] = {0, -1, 0, 1, 0, 0, 0, 0, 1};
        memcpy(gens[0], flip, sizeof flip);
        memcpy(gens[1], rz, sizeof rz);
        ng = 2;
    }
    double worst = 0.0, rmax = 0.0;
    for (int i = 0; i < 200; i++) {
        double x[3] = {sin(1.7 * i + 0.3) * cos(2.9 * i), sin(1.7 * i + 0.3) * sin(2.9 * i), cos(1.7 * i + 0.3)}, y[3];
        double a = ref_sphere_rho(st, x);
        rmax = fmax(rmax, a);
        for (int g = 0; g < ng; g++) {
            rotate(gens[g], x, y);
            worst = fmax(worst, fabs(ref_sphere_rho(st, y) - a));
        }
    }
    ab_check(t, worst <= 1e-10 * rmax, "%s: rho invariant under the group's generators: %.1e of max rho (tol 1e-10)",
             c->name, worst / rmax);
    double want[REF_SPHERE_MAX_CLUSTERS][3], dc = 0.0, dm = 0.0;
    ref_sphere_arrangement(c->arrangement, c->k, want);
    for (int i = 0; i < c->k; i++) {
        for (int a = 0; a < 3; a++)
            dc = fmax(dc, fmax(fabs(o->peak[i][a] - want[i][a]), fabs(o->centre[i][a] - want[i][a])));
        dm = fmax(dm, fabs(o->mass[i] - 1.0 / c->k));
    }
    ab_check(t, dc <= 1e-10 && dm <= 1e-11,
             "%s: peaks and cell centres at the arrangement's centres (%.1e, tol 1e-10), masses 1/k (%.1e, tol 1e-11)",
             c->name, dc, dm);
}

static void print_values(const sphere_case *c, const ref_sphere_result *a, const ref_sphere_result *o, int nlat,
                         int nlon)
{
    double err = fmax(fmax(fabs(a->r - o->r), fabs(a->S - o->S)), fabs(a->entropy - o->entropy));
    printf("REFERENCE %s | %s beta=%g kappa=%g | %dx%d | r=%.15f S=%.15f entropy=%.15f", c->name,
           c->model == REF_SPHERE_SA ? "SA" : "USA", c->beta, c->kappa, nlat, nlon, o->r, o->S, o->entropy);
    if (c->model == REF_SPHERE_USA) printf(" F=%.15f", o->free_energy);
    printf(" rho_peak=%.13f masses", o->peak_rho[0]);
    for (int i = 0; i < c->k; i++) printf(" %.13f", o->mass[i]);
    printf(" | two-grid difference %.1e\n", err);
}

/* attnbif's sphere discretisation against the reference (issue 10: "a k-cluster value
 * checked against an independent solver"): S, entropy, free energy and the clusters' masses
 * (Voronoi cells of the maxima in both) to 1e-10, the maxima at the reference's peaks. */
static void check_against_sphere(ab_tally *t, const sphere_case *c, const ref_sphere_result *o)
{
    char yaml[600], state[200];
    if (!strcmp(c->arrangement, "antipodal")) snprintf(state, sizeof state, "{type: clusters, centers: [[0, 0, 1], [0, 0, -1]]}");
    else if (!strcmp(c->arrangement, "polygon")) snprintf(state, sizeof state, "{type: clusters, arrangement: polygon, k: %d}", c->k);
    else snprintf(state, sizeof state, "{type: clusters, arrangement: %s}", c->arrangement);
    snprintf(yaml, sizeof yaml, "model: %s\nd: 3\nbeta: %g\nkappa: %g\ndiscretization: {type: sphere}\nstate: %s\n",
             c->model == REF_SPHERE_SA ? "SA" : "USA", c->beta, c->kappa, state);
    ab_spec spec;
    ab_solve_result res;
    ab_error err = {0};
    if (!ab_check(t, ab_spec_parse_string(yaml, "sphere.yaml", &spec, &err) == AB_OK, "%s: sphere spec (%s)", c->name, err.msg)) return;
    if (!ab_check(t, ab_solve_problem(&spec, NULL, NULL, &res, &err) == AB_OK, "%s: attnbif sphere solve (%s)", c->name, err.msg))
        return;
    char what[160];
    snprintf(what, sizeof what, "%s: attnbif sphere (degree %d) vs reference: S", c->name, res.resolution.nodes);
    ab_check(t, fabs(res.obs.S - o->S) <= 1e-10, "%s %.15g vs %.15g (diff %.1e, tol 1e-10)", what, res.obs.S, o->S,
             fabs(res.obs.S - o->S));
    ab_check(t, fabs(res.obs.r - o->r) <= 1e-10, "%s: r %.3g vs %.3g (tol 1e-10)", c->name, res.obs.r, o->r);
    ab_check_rel(t, res.obs.entropy, o->entropy, 1e-10, 0.0, "entropy, sphere vs reference");
    if (c->model == REF_SPHERE_USA) ab_check_rel(t, res.obs.free_energy, o->free_energy, 1e-10, 0.0, "free energy, sphere vs reference");
    ab_check(t, res.n_clusters == c->k, "%s: %d clusters (reference %d)", c->name, res.n_clusters, c->k);
    for (int i = 0; i < res.n_clusters && i < c->k; i++) {
        /* the reference cluster whose peak is nearest */
        int best = 0;
        double bd = -2.0;
        for (int j = 0; j < c->k; j++) {
            const double d = res.clusters[i].centre[0] * o->peak[j][0] + res.clusters[i].centre[1] * o->peak[j][1] +
                             res.clusters[i].centre[2] * o->peak[j][2];
            if (d > bd) { bd = d; best = j; }
        }
        const double ang = acos(fmin(1.0, bd));
        ab_check(t, ang <= 1e-7 && fabs(res.clusters[i].mass - o->mass[best]) <= 1e-10 && res.clusters[i].mass_error <= 1e-10,
                 "%s: cluster %d at the reference's peak (%.1e rad, tol 1e-7), mass %.15g vs %.15g (tol 1e-10, "
                 "estimate %.1e)", c->name, i + 1, ang, res.clusters[i].mass, o->mass[best], res.clusters[i].mass_error);
    }
    ab_solve_result_free(&res);
}

static void check_interpolant(ab_tally *t)
{
    /* the same state on two unrelated grids: interpolants agree pointwise */
    ref_sphere_params p;
    memset(&p, 0, sizeof p);
    p.model = REF_SPHERE_SA;
    p.beta = 4.0;
    p.kappa = 0.04;
    p.k = ref_sphere_arrangement("tetrahedron", 4, p.centres);
    for (int i = 0; i < 4; i++) p.weights[i] = 1.0;
    ref_sphere_result a, b;
    ref_sphere_state *sa = NULL, *sb = NULL;
    p.nlat = 20, p.nlon = 40;
    ref_sphere_solve(&p, &a, &sa);
    p.nlat = 23, p.nlon = 45;
    ref_sphere_solve(&p, &b, &sb);
    if (!ab_check(t, a.status == 0 && b.status == 0, "SA tetrahedron on 20x40 and 23x45 from the bumps: %s %s", a.message,
                  b.message)) {
        ref_sphere_free(sa);
        ref_sphere_free(sb);
        return;
    }
    double worst = 0.0;
    for (int i = 0; i < 300; i++) {
        double x[3] = {sin(0.77 * i + 0.1) * cos(1.31 * i), sin(0.77 * i + 0.1) * sin(1.31 * i), cos(0.77 * i + 0.1)};
        worst = fmax(worst, fabs(ref_sphere_rho(sa, x) - ref_sphere_rho(sb, x)));
    }
    ab_check(t, worst <= 1e-10 * a.rho_max, "  rho pointwise at 300 points: max difference %.1e of max rho (tol 1e-10)",
             worst / a.rho_max);
    ab_check(t, fabs(a.entropy - b.entropy) <= 1e-12, "  entropy %.15f vs %.15f (tol 1e-12)", a.entropy, b.entropy);
    ref_sphere_free(sa);
    ref_sphere_free(sb);
}

static void check_refusals(ab_tally *t)
{
    ref_sphere_params p;
    memset(&p, 0, sizeof p);
    p.model = REF_SPHERE_SA, p.beta = 4.0, p.kappa = 0.1, p.k = 1, p.nlat = 8, p.nlon = 16;
    p.centres[0][2] = 1.0, p.weights[0] = 1.0;
    ref_sphere_result o;
    p.model = 2;
    ab_check(t, ref_sphere_solve(&p, &o, NULL) == 1, "model 2 refused: %s", o.message);
    p.model = REF_SPHERE_SA, p.kappa = 0.0;
    ab_check(t, ref_sphere_solve(&p, &o, NULL) == 1, "kappa = 0 refused: %s", o.message);
    p.kappa = 0.1, p.nlat = 100, p.nlon = 200;
    ab_check(t, ref_sphere_solve(&p, &o, NULL) == 1, "20000 points refused: %s", o.message);
    p.nlat = 8, p.nlon = 16, p.centres[0][2] = 0.0;
    ab_check(t, ref_sphere_solve(&p, &o, NULL) == 1, "zero centre refused: %s", o.message);
}

int main(void)
{
    ab_tally t = {0, 0};
    /* zonal states with a tilted axis, against the zonal solver: the proof that the reference is right */
    const sphere_case zonal[] = {
        {"SA beta=4 kappa=0.1 1-cluster (tilted)", REF_SPHERE_SA, 4.0, 0.1, NULL, 1, {{16, 32}, {24, 48}}, 1e-12},
        {"USA beta=3 kappa=0.5 1-cluster (tilted)", REF_SPHERE_USA, 3.0, 0.5, NULL, 1, {{16, 32}, {28, 56}, {32, 64}},
         1e-10},
    };
    const char *zonal_state[] = {"{type: cluster}", "{type: cluster, r: 0.96}"};
    for (int i = 0; i < 2; i++) {
        ref_sphere_result a = {0}, b = {0};
        ref_sphere_state *st = solve_chain(&t, &zonal[i], &a, &b);
        if (b.status == 0) {
            check_convergence(&t, &zonal[i], &a, &b);
            check_against_zonal(&t, &zonal[i], &b, zonal_state[i]);
            double dc = 0.0;
            for (int j = 0; j < 3; j++) dc = fmax(dc, fabs(b.peak[0][j] - TILT[j]));
            ab_check(&t, dc <= 1e-10 && b.phase_conditions == 2, "%s: peak on the given axis (%.1e, tol 1e-10), %d phase conditions",
                     zonal[i].name, dc, b.phase_conditions);
        }
        ref_sphere_free(st);
    }
    check_interpolant(&t);
    /* the k-cluster states of issue 10 */
    const sphere_case cs[] = {
        {"SA beta=4 kappa=0.04 tetrahedron", REF_SPHERE_SA, 4.0, 0.04, "tetrahedron", 4, {{16, 32}, {20, 40}, {24, 48}}, 1e-12},
        {"SA beta=4 kappa=0.04 triangle", REF_SPHERE_SA, 4.0, 0.04, "polygon", 3, {{16, 32}, {20, 40}, {24, 48}}, 1e-12},
        {"SA beta=4 kappa=0.05 antipodal", REF_SPHERE_SA, 4.0, 0.05, "antipodal", 2, {{16, 32}, {20, 40}, {24, 48}}, 1e-12},
        {"USA beta=3 kappa=0.1 tetrahedron", REF_SPHERE_USA, 3.0, 0.1, "tetrahedron", 4, {{16, 32}, {28, 56}, {32, 64}}, 1e-10},
        {"USA beta=3 kappa=0.15 triangle", REF_SPHERE_USA, 3.0, 0.15, "polygon", 3, {{16, 32}, {28, 56}, {32, 64}}, 1e-10},
        {"USA beta=3 kappa=0.3 antipodal", REF_SPHERE_USA, 3.0, 0.3, "antipodal", 2, {{16, 32}, {28, 56}, {32, 64}}, 1e-10},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        ref_sphere_result a = {0}, b = {0};
        ref_sphere_state *st = solve_chain(&t, &cs[i], &a, &b);
        if (b.status == 0) {
            int last = cs[i].grids[2][0] ? 2 : 1;
            check_convergence(&t, &cs[i], &a, &b);
            check_symmetry(&t, &cs[i], st, &b);
            print_values(&cs[i], &a, &b, cs[i].grids[last][0], cs[i].grids[last][1]);
            check_against_sphere(&t, &cs[i], &b);
            if (!strcmp(cs[i].arrangement, "antipodal"))
                check_against_zonal(&t, &cs[i], &b, "{type: antipodal}");
        }
        ref_sphere_free(st);
    }
    check_refusals(&t);
    return ab_finish(&t);
}
