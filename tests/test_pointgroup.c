/* The point group of a state on the sphere (docs/sphere.md, "Symmetry of a state"): symbols and
 * orders of the named arrangements and of generic orbits of every Schoenflies family, rotated
 * copies, perturbed masses and positions about the tolerances, descriptions, and the check
 * on the density of solved states (tetrahedron, 1-cluster, uniform, a wrong cluster set). */
#include "attnbif/state.h"
#include "disc/arrangement.h"
#include "disc/pointgroup.h"
#include "disc/sphere.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static void unit3(double *a)
{
    double n = sqrt(dot3(a, a));
    a[0] /= n, a[1] /= n, a[2] /= n;
}
static void apply(const double *R, const double *x, double *y)
{
    for (int i = 0; i < 3; i++) y[i] = R[3 * i] * x[0] + R[3 * i + 1] * x[1] + R[3 * i + 2] * x[2];
}
static void mul(const double *A, const double *B, double *C)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) C[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
}
static double mdiff(const double *A, const double *B)
{
    double d = 0.0;
    for (int i = 0; i < 9; i++) d = fmax(d, fabs(A[i] - B[i]));
    return d;
}
static void rot(double ax, double ay, double az, double t, double *R)
{
    double u[3] = {ax, ay, az};
    unit3(u);
    double c = cos(t), s = sin(t), C = 1.0 - c;
    R[0] = c + u[0] * u[0] * C, R[1] = u[0] * u[1] * C - u[2] * s, R[2] = u[0] * u[2] * C + u[1] * s;
    R[3] = u[1] * u[0] * C + u[2] * s, R[4] = c + u[1] * u[1] * C, R[5] = u[1] * u[2] * C - u[0] * s;
    R[6] = u[2] * u[0] * C - u[1] * s, R[7] = u[2] * u[1] * C + u[0] * s, R[8] = c + u[2] * u[2] * C;
}
static void refl(double nx, double ny, double nz, double *R)
{
    double n[3] = {nx, ny, nz};
    unit3(n);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) R[3 * i + j] = (i == j) - 2.0 * n[i] * n[j];
}
static const double INV[9] = {-1, 0, 0, 0, -1, 0, 0, 0, -1};

/* Deterministic pseudo-random numbers in [0, 1) (a 64-bit LCG, top bits). */
static unsigned long long seed = 12345;
static double urand(void)
{
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(seed >> 11) / 9007199254740992.0;
}
/* A random orthogonal matrix: a rotation about a random axis, times -I when improper. */
static void random_orthogonal(int improper, double *R)
{
    rot(urand() - 0.5, urand() - 0.5, urand() - 0.5, 2.0 * PI * urand(), R);
    if (improper)
        for (int i = 0; i < 9; i++) R[i] = -R[i];
}
/* Move the unit vector x by the angle eps in a random tangent direction. */
static void jitter(double *x, double eps)
{
    double r[3] = {urand() - 0.5, urand() - 0.5, urand() - 0.5}, d = dot3(r, x);
    for (int i = 0; i < 3; i++) r[i] -= d * x[i];
    unit3(r);
    for (int i = 0; i < 3; i++) x[i] = cos(eps) * x[i] + sin(eps) * r[i];
}

/* The group of (x, m) has symbol sym and order order (0: infinite); and the description desc
 * (NULL: not checked). Returns 1 when both hold. */
static int expect(ab_tally *t, const double *x, const double *m, int n, const char *sym, int order, const char *desc,
                  const char *what)
{
    ab_pointgroup g;
    ab_error err = {0};
    if (!ab_check(t, ab_pointgroup_points(x, m, n, NULL, &g, &err) == AB_OK, "%s: group (%s)", what, err.msg)) return 0;
    int ok = ab_check(t, strcmp(g.symbol, sym) == 0 && g.order == order, "%s: %s of order %d (want %s, %d)", what, g.symbol,
                      g.order, sym, order);
    if (desc) {
        char buf[96];
        ab_pointgroup_describe(&g, x, n, buf, sizeof buf);
        ok &= ab_check(t, strcmp(buf, desc) == 0, "%s: description '%s' (want '%s')", what, buf, desc);
    }
    return ok;
}

static int centres(const char *name, int k, double *x)
{
    int n = 0;
    ab_error err = {0};
    ab_arrangement_centres(name, k, x, AB_POINTGROUP_MAX_POINTS, &n, &err);
    return n;
}

/* Every named arrangement, and 6 rotated (3 improper) copies of each: the same group. */
static void arrangements(ab_tally *t)
{
    static const struct {
        const char *name;
        int k;
        const char *sym;
        int order;
        const char *desc;
    } CASES[] = {
        {"polygon", 2, "D_inf_h", 0, "2 clusters, antipodal"},
        {"polygon", 3, "D_3h", 12, "3 clusters, triangle (great circle)"},
        {"polygon", 4, "D_4h", 16, "4 clusters, polygon"},
        {"polygon", 5, "D_5h", 20, "5 clusters, polygon"},
        {"polygon", 6, "D_6h", 24, "6 clusters, polygon"},
        {"polygon", 7, "D_7h", 28, "7 clusters, polygon"},
        {"polygon", 8, "D_8h", 32, "8 clusters, polygon"},
        {"polygon", 64, "D_64h", 256, "64 clusters, polygon"},
        {"tetrahedron", 0, "T_d", 24, "4 clusters, tetrahedron"},
        {"octahedron", 0, "O_h", 48, "6 clusters, octahedron"},
        {"cube", 0, "O_h", 48, "8 clusters, cube"},
        {"icosahedron", 0, "I_h", 120, "12 clusters, icosahedron"},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        double x[3 * AB_POINTGROUP_MAX_POINTS], y[3 * AB_POINTGROUP_MAX_POINTS], R[9];
        char what[96];
        int n = centres(CASES[c].name, CASES[c].k, x);
        snprintf(what, sizeof what, "%s k=%d", CASES[c].name, n);
        expect(t, x, NULL, n, CASES[c].sym, CASES[c].order, CASES[c].desc, what);
        for (int r = 0; r < 6; r++) {
            random_orthogonal(r % 2, R);
            for (int i = 0; i < n; i++) apply(R, x + 3 * i, y + 3 * i);
            snprintf(what, sizeof what, "%s k=%d, random %s copy %d", CASES[c].name, n, r % 2 ? "improper" : "rotated", r);
            expect(t, y, NULL, n, CASES[c].sym, CASES[c].order, CASES[c].desc, what);
        }
    }
    /* the group's elements map the set onto itself and the principal axis is right */
    double x[36];
    ab_pointgroup g;
    ab_error err = {0};
    int n = centres("icosahedron", 0, x);
    ab_pointgroup_points(x, NULL, n, NULL, &g, &err);
    double worst = 0.0;
    for (int e = 0; e < g.n_elements; e++)
        for (int i = 0; i < n; i++) {
            double y[3], best = 1e300;
            apply(g.R[e], x + 3 * i, y);
            for (int j = 0; j < n; j++) best = fmin(best, fabs(1.0 - dot3(y, x + 3 * j)));
            worst = fmax(worst, best);
        }
    ab_check(t, worst <= 1e-14, "icosahedron: all 120 elements permute the vertices (1 - cos of the worst miss %.1e, tol 1e-14)",
             worst);
    ab_check(t, g.axis_order == 5 && fabs(fabs(dot3(g.axis, x)) - 1.0) <= 1e-12 && g.inversion && g.n_mirrors == 15 &&
                    g.n_rotations == 60,
             "icosahedron: 5-fold principal axis through a vertex, inversion, 15 mirrors, 60 rotations (%d, %d, %d, %d)",
             g.axis_order, g.inversion, g.n_mirrors, g.n_rotations);
}

/* The generic orbit of a point under a group has exactly that group: one generated from
 * Schoenflies generators for every family, checked through the point set and through
 * ab_pointgroup_classify of the generated elements. */
static int closure(const double *gens, int ngen, double *G, int max)
{
    memcpy(G, (double[9]){1, 0, 0, 0, 1, 0, 0, 0, 1}, 9 * sizeof(double));
    int n = 1;
    for (int e = 0; e < n; e++)
        for (int k = 0; k < ngen; k++) {
            double P[9];
            mul(G + 9 * e, gens + 9 * k, P);
            int found = 0;
            for (int f = 0; f < n && !found; f++) found = mdiff(P, G + 9 * f) <= 1e-9;
            if (found) continue;
            if (n == max) return -1;
            memcpy(G + 9 * n++, P, sizeof P);
        }
    return n;
}

static void family(ab_tally *t, const char *sym, int order, const double *gens, int ngen)
{
    double G[9 * AB_POINTGROUP_MAX_ORDER], x[3 * AB_POINTGROUP_MAX_ORDER], p[3] = {0.2873, 0.4412, 0.8503};
    unit3(p);
    int n = closure(gens, ngen, G, AB_POINTGROUP_MAX_ORDER);
    ab_pointgroup g;
    ab_error err = {0};
    if (!ab_check(t, n == order, "%s: generators give %d elements (want %d)", sym, n, order)) return;
    ab_status st = ab_pointgroup_classify(G, n, &g, &err);
    ab_check(t, st == AB_OK && strcmp(g.symbol, sym) == 0 && g.order == order, "%s: classify the %d elements: %s (%s)", sym, n,
             g.symbol, err.msg);
    if (n > AB_POINTGROUP_MAX_POINTS) return;
    /* One orbit can have more symmetry than the group (that of C_n is a regular n-gon, C_nv;
     * two of C_i lie on a great circle, C_2h): three orbits of different masses have only
     * the group's, where there is room for three. */
    double q[2][3] = {{-0.5131, 0.1207, 0.7339}, {0.1717, -0.8123, -0.2281}}, m[AB_POINTGROUP_MAX_POINTS];
    unit3(q[0]), unit3(q[1]);
    const int orbits = 3 * n <= AB_POINTGROUP_MAX_POINTS ? 3 : 1;
    for (int e = 0; e < n; e++) {
        apply(G + 9 * e, p, x + 3 * e), m[e] = 1.0;
        for (int o = 1; o < orbits; o++) apply(G + 9 * e, q[o - 1], x + 3 * (o * n + e)), m[o * n + e] = 1.0 + o;
    }
    char what[64];
    snprintf(what, sizeof what, "%d generic orbit%s of %s (%d points)", orbits, orbits > 1 ? "s" : "", sym, orbits * n);
    expect(t, x, m, orbits * n, sym, order, NULL, what);
}

static void families(ab_tally *t)
{
    double g[4 * 9], T[12 * 9], O[24 * 9], I[60 * 9];
    int nt, no, ni;
    ab_error err = {0};
    ab_arrangement_rotations("tetrahedron", 0, T, 12, &nt, &err);
    ab_arrangement_rotations("octahedron", 0, O, 24, &no, &err);
    ab_arrangement_rotations("icosahedron", 0, I, 60, &ni, &err);
    for (int k = 1; k <= 6; k++) {
        char s[16];
        rot(0, 0, 1, 2 * PI / k, g);
        snprintf(s, sizeof s, "C_%d", k);
        if (k > 1) family(t, s, k, g, 1);
        refl(0, 1, 0, g + 9);
        snprintf(s, sizeof s, k == 1 ? "C_s" : "C_%dv", k);
        family(t, s, 2 * k, g, 2);
        refl(0, 0, 1, g + 9);
        snprintf(s, sizeof s, k == 1 ? "C_s" : "C_%dh", k);
        family(t, s, 2 * k, g, 2);
        /* S_2k: the rotation by pi / k followed by the mirror z -> -z (S_2 = C_i) */
        double Rz[9], Mz[9];
        rot(0, 0, 1, PI / k, Rz);
        refl(0, 0, 1, Mz);
        mul(Mz, Rz, g + 9);
        snprintf(s, sizeof s, k == 1 ? "C_i" : "S_%d", 2 * k);
        family(t, s, 2 * k, g + 9, 1);
        if (k == 1) continue;
        rot(1, 0, 0, PI, g + 9);
        snprintf(s, sizeof s, "D_%d", k);
        family(t, s, 2 * k, g, 2);
        refl(0, 0, 1, g + 18);
        snprintf(s, sizeof s, "D_%dh", k);
        family(t, s, 4 * k, g, 3);
        /* sigma_d: contains z and bisects the half-turn axes at 0 and pi / k */
        refl(-sin(PI / (2 * k)), cos(PI / (2 * k)), 0, g + 18);
        snprintf(s, sizeof s, "D_%dd", k);
        family(t, s, 4 * k, g, 3);
    }
    family(t, "T", 12, T, 12);
    double G[72 * 9];
    memcpy(G, T, sizeof T), memcpy(G + 12 * 9, INV, sizeof INV);
    family(t, "T_h", 24, G, 13);
    refl(1, -1, 0, G + 12 * 9);
    family(t, "T_d", 24, G, 13);
    family(t, "O", 24, O, 24);
    memcpy(G, O, sizeof O), memcpy(G + 24 * 9, INV, sizeof INV);
    family(t, "O_h", 48, G, 25);
    family(t, "I", 60, I, 60);
    memcpy(G, I, sizeof I), memcpy(G + 60 * 9, INV, sizeof INV);
    family(t, "I_h", 120, G, 61);
}

/* Masses that break the symmetry, the small sets and their degenerate cases. */
static void masses_and_small_sets(ab_tally *t)
{
    double x[3 * AB_POINTGROUP_MAX_POINTS], m[AB_POINTGROUP_MAX_POINTS];
    int n;
    for (int i = 0; i < AB_POINTGROUP_MAX_POINTS; i++) m[i] = 1.0;
    n = centres("tetrahedron", 0, x);
    m[0] = 1.3;
    expect(t, x, m, n, "C_3v", 6, "4 clusters, C_3v", "tetrahedron, one heavier");
    m[1] = 1.3;
    expect(t, x, m, n, "C_2v", 4, NULL, "tetrahedron, two heavier");
    m[2] = 0.7;
    expect(t, x, m, n, "C_s", 2, NULL, "tetrahedron, masses 1.3, 1.3, 0.7, 1");
    m[3] = 0.5;
    expect(t, x, m, n, "C_s", 2, NULL, "tetrahedron, masses 1.3, 1.3, 0.7, 0.5");
    m[1] = 1.1;
    expect(t, x, m, n, "C_1", 1, "4 clusters, C_1", "tetrahedron, four masses");
    for (int i = 0; i < 4; i++) m[i] = 1.0;
    n = centres("octahedron", 0, x);
    m[0] = 2.0;
    expect(t, x, m, n, "C_4v", 8, NULL, "octahedron, one heavier");
    m[1] = 2.0; /* its antipode */
    expect(t, x, m, n, "D_4h", 16, "6 clusters, D_4h", "octahedron, an antipodal pair heavier");
    m[0] = m[1] = 1.0;
    n = centres("cube", 0, x);
    m[0] = 0.5;
    expect(t, x, m, n, "C_3v", 6, NULL, "cube, one lighter");
    m[0] = 1.0;
    n = centres("icosahedron", 0, x);
    m[5] = 3.0;
    expect(t, x, m, n, "C_5v", 10, NULL, "icosahedron, one heavier");
    m[5] = 1.0;
    n = centres("polygon", 3, x);
    m[0] = 1.5;
    expect(t, x, m, n, "C_2v", 4, NULL, "triangle, one heavier");
    m[0] = 1.0;
    /* the triangular bipyramid and the square antiprism */
    double bp[15] = {0, 0, 1, 0, 0, -1};
    centres("polygon", 3, bp + 6);
    expect(t, bp, NULL, 5, "D_3h", 12, "5 clusters, D_3h", "triangular bipyramid");
    double ap[24], h = 0.4, s = sqrt(1.0 - h * h);
    for (int j = 0; j < 8; j++) {
        double phi = PI / 4 * j;
        ap[3 * j] = s * cos(phi), ap[3 * j + 1] = s * sin(phi), ap[3 * j + 2] = j % 2 ? h : -h;
    }
    expect(t, ap, NULL, 8, "D_4d", 16, "8 clusters, D_4d", "square antiprism");
    /* 1 point, 2 points, nothing */
    double p[6] = {0.36, -0.48, 0.8, -0.36, 0.48, -0.8}, mm[2] = {1.0, 1.0};
    expect(t, p, NULL, 1, "C_inf_v", 0, "1 cluster", "one point");
    expect(t, p, mm, 2, "D_inf_h", 0, "2 clusters, antipodal", "two antipodal points, equal masses");
    mm[1] = 0.6;
    expect(t, p, mm, 2, "C_inf_v", 0, "2 clusters, antipodal, C_inf_v", "two antipodal points, unequal masses");
    double q[6] = {1, 0, 0, 0.6, 0.8, 0};
    mm[1] = 1.0;
    expect(t, q, mm, 2, "C_2v", 4, "2 clusters, C_2v", "two points 53 degrees apart, equal masses");
    mm[1] = 0.6;
    expect(t, q, mm, 2, "C_s", 2, NULL, "two points 53 degrees apart, unequal masses");
    expect(t, NULL, NULL, 0, "K_h", 0, "uniform", "no points");
    ab_pointgroup g;
    ab_error err = {0};
    ab_pointgroup_points(p, NULL, 1, NULL, &g, &err);
    ab_check(t, fabs(dot3(g.axis, p) - 1.0) <= 1e-15, "one point: the axis is the point (cos %.17g)", dot3(g.axis, p));
    /* bad input */
    double dup[6] = {1, 0, 0, 1, 0, 0}, longv[3] = {1.1, 0, 0}, neg = -1.0;
    ab_check(t, ab_pointgroup_points(dup, NULL, 2, NULL, &g, &err) == AB_EINVAL && strstr(err.msg, "twice"),
             "a point given twice is refused (%s)", err.msg);
    ab_check(t, ab_pointgroup_points(longv, NULL, 1, NULL, &g, &err) == AB_EINVAL && strstr(err.msg, "length"),
             "a non-unit point is refused (%s)", err.msg);
    ab_check(t, ab_pointgroup_points(p, &neg, 1, NULL, &g, &err) == AB_EINVAL && strstr(err.msg, "mass"),
             "a negative mass is refused (%s)", err.msg);
    ab_check(t, ab_pointgroup_points(p, NULL, AB_POINTGROUP_MAX_POINTS + 1, NULL, &g, &err) == AB_EINVAL,
             "more than %d points are refused", AB_POINTGROUP_MAX_POINTS);
}

/* Positions moved by a tenth of the angle tolerance keep the group, by ten times it lose it;
 * the same for masses and the mass tolerance. */
static void noise(ab_tally *t)
{
    static const struct {
        const char *name;
        int k;
        const char *sym;
        int order;
    } CASES[] = {{"tetrahedron", 0, "T_d", 24}, {"octahedron", 0, "O_h", 48}, {"icosahedron", 0, "I_h", 120},
                 {"polygon", 5, "D_5h", 20}};
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        for (int trial = 0; trial < 3; trial++) {
            double x[36], m[12], R[9], y[36];
            int n = centres(CASES[c].name, CASES[c].k, x);
            random_orthogonal(trial % 2, R);
            for (int i = 0; i < n; i++) apply(R, x + 3 * i, y + 3 * i), m[i] = 1.0 / n;
            for (int i = 0; i < n; i++) jitter(y + 3 * i, 0.1 * AB_POINTGROUP_ANGLE_TOL);
            char what[120];
            snprintf(what, sizeof what, "%s k=%d, points moved by 0.1 x angle tol (%g rad)", CASES[c].name, n,
                     0.1 * AB_POINTGROUP_ANGLE_TOL);
            expect(t, y, m, n, CASES[c].sym, CASES[c].order, NULL, what);
            for (int i = 0; i < n; i++) m[i] *= 1.0 + 0.1 * AB_POINTGROUP_MASS_TOL * (2.0 * urand() - 1.0);
            snprintf(what, sizeof what, "%s k=%d, and masses changed by 0.1 x mass tol", CASES[c].name, n);
            expect(t, y, m, n, CASES[c].sym, CASES[c].order, NULL, what);
            /* above the tolerance: every point moved by 10 tol, or one mass changed by 10 tol */
            double z[36];
            memcpy(z, y, sizeof z);
            for (int i = 0; i < n; i++) jitter(z + 3 * i, 10.0 * AB_POINTGROUP_ANGLE_TOL);
            ab_pointgroup g;
            ab_error err = {0};
            /* (each call before its check: the check's arguments are read in no fixed order) */
            ab_status st = ab_pointgroup_points(z, m, n, NULL, &g, &err);
            ab_check(t, st == AB_OK && g.order > 0 && g.order < CASES[c].order,
                     "%s k=%d, points moved by 10 x angle tol: lower symmetry %s (%d elements)", CASES[c].name, n, g.symbol,
                     g.order);
            m[0] *= 1.0 + 10.0 * AB_POINTGROUP_MASS_TOL;
            st = ab_pointgroup_points(y, m, n, NULL, &g, &err);
            ab_check(t, st == AB_OK && g.order > 0 && g.order < CASES[c].order,
                     "%s k=%d, one mass up by 10 x mass tol: lower symmetry %s (%d elements)", CASES[c].name, n, g.symbol,
                     g.order);
        }
    }
    /* a caller's looser tolerance recognises what the default does not */
    double x[12], m[4] = {1, 1, 1, 1};
    int n = centres("tetrahedron", 0, x);
    for (int i = 0; i < n; i++) jitter(x + 3 * i, 1e-4);
    ab_pointgroup g;
    ab_error err = {0};
    ab_pointgroup_opts loose = {.angle = 1e-3};
    ab_status st = ab_pointgroup_points(x, m, n, &loose, &g, &err);
    ab_check(t, st == AB_OK && strcmp(g.symbol, "T_d") == 0 &&
                    g.residual > 1e-5 && g.residual <= 1e-3,
             "tetrahedron moved by 1e-4 rad, angle tol 1e-3: %s, fit residual %.2e", g.symbol, g.residual);
}

/* ---- solved states ---- */

static int solve(ab_tally *t, const char *yaml, ab_disc **disc, double **u, ab_cluster *cl, int *nc)
{
    ab_spec spec;
    ab_error err = {0};
    ab_newton_report rep;
    ab_resolution rs;
    if (!ab_check(t, ab_spec_parse_string(yaml, "test_pointgroup.yaml", &spec, &err) == AB_OK, "spec parses (%s)", err.msg))
        return 0;
    if (!ab_check(t, ab_resolve_state(&spec, NULL, NULL, disc, u, &rep, &rs, &err) == AB_OK, "solve (%s)", err.msg)) return 0;
    return ab_check(t, ab_sphere_clusters(*disc, *u, cl, AB_MAX_CLUSTERS, nc, &err) == AB_OK, "clusters (%s)", err.msg);
}

/* Solved states: the groups hold on the density to DENSITY_CHECK of max rho (tighter than the
 * module's default 1e-6: the states here are resolved and measure <= 1e-10). */
#define DENSITY_CHECK 1e-8
static void states(ab_tally *t)
{
    ab_disc *disc = NULL;
    double *u = NULL;
    ab_cluster cl[AB_MAX_CLUSTERS];
    int nc = 0;
    ab_error err = {0};
    ab_pointgroup_state s;
    double t0 = ab_now();
    if (solve(t, "model: SA\nd: 3\nbeta: 4\nkappa: 0.05\ndiscretization: {type: sphere, degree: 24}\n"
                 "state: {type: clusters, arrangement: tetrahedron}\n", &disc, &u, cl, &nc)) {
        double t1 = ab_now();
        if (ab_check(t, ab_pointgroup_state_of(disc, u, cl, nc, NULL, &s, &err) == AB_OK, "tetrahedral state: symmetry (%s)",
                     err.msg)) {
            ab_check(t, s.verified && strcmp(s.group.symbol, "T_d") == 0 && s.group.order == 24 &&
                            s.density_residual <= DENSITY_CHECK,
                     "SA beta=4 kappa=0.05 tetrahedron, degree 24: %s verified (%d) on the density, residual %.2e (tol %g; "
                     "%.2f s)",
                     s.group.symbol, s.verified, s.density_residual, DENSITY_CHECK, ab_now() - t1);
            ab_check(t, strcmp(s.description, "4 clusters, tetrahedron") == 0 && s.n_checked >= 2 && s.n_checked <= 4,
                     "tetrahedral state: '%s', %d generators checked", s.description, s.n_checked);
            ab_pointgroup_opts every = {.every_element = 1};
            double t2 = ab_now();
            if (ab_check(t, ab_pointgroup_state_of(disc, u, cl, nc, &every, &s, &err) == AB_OK, "every element (%s)", err.msg))
                ab_check(t, s.verified && strcmp(s.group.symbol, "T_d") == 0 && s.n_checked == 23 &&
                                s.density_residual <= DENSITY_CHECK,
                         "tetrahedral state, every element checked (%d): %s, residual %.2e (tol %g; %.2f s)", s.n_checked,
                         s.group.symbol, s.density_residual, DENSITY_CHECK, ab_now() - t2);
            /* A wrong cluster set: the centres turned by 1e-3 rad about a 3-fold axis. The set
             * still has T_d, but on the density only the rotations about that axis pass. */
            double R[9], c3[3] = {0};
            rot(cl[0].centre[0], cl[0].centre[1], cl[0].centre[2], 1e-3, R);
            memcpy(c3, cl[0].centre, sizeof c3);
            ab_cluster turned[4];
            memcpy(turned, cl, sizeof turned);
            for (int i = 0; i < 4; i++) apply(R, cl[i].centre, turned[i].centre);
            if (ab_check(t, ab_pointgroup_state_of(disc, u, turned, 4, NULL, &s, &err) == AB_OK, "turned clusters (%s)",
                         err.msg))
                ab_check(t, !s.verified && strcmp(s.clusters.symbol, "T_d") == 0 && strcmp(s.group.symbol, "C_3") == 0 &&
                                s.worst_residual > 1e-4 && s.density_residual <= DENSITY_CHECK &&
                                fabs(fabs(dot3(s.group.axis, c3)) - 1.0) <= 1e-12,
                         "tetrahedron's clusters turned by 1e-3 rad: cluster group %s, verified %s about the turn's axis "
                         "(worst element %.2e, kept %.2e), '%s'",
                         s.clusters.symbol, s.group.symbol, s.worst_residual, s.density_residual, s.description);
        }
        (void)t0;
    }
    ab_disc_destroy(disc), free(u), disc = NULL, u = NULL;
    /* a 1-cluster state about an axis off the grid's: axisymmetric on the density */
    if (solve(t, "model: SA\nd: 3\nbeta: 4\nkappa: 0.15\ndiscretization: {type: sphere, degree: 16}\n"
                 "state: {type: clusters, centers: [[0.6, 0, 0.8]]}\n", &disc, &u, cl, &nc) &&
        ab_check(t, nc == 1, "1-cluster state: %d cluster", nc) &&
        ab_check(t, ab_pointgroup_state_of(disc, u, cl, nc, NULL, &s, &err) == AB_OK, "1-cluster: symmetry (%s)", err.msg))
        ab_check(t, s.verified && strcmp(s.group.symbol, "C_inf_v") == 0 && s.density_residual <= DENSITY_CHECK &&
                        strcmp(s.description, "1 cluster") == 0 && fabs(dot3(s.group.axis, cl[0].centre) - 1.0) <= 1e-12,
                 "SA beta=4 kappa=0.15 1-cluster about (0.6, 0, 0.8), degree 16: %s, residual %.2e (tol %g), '%s'",
                 s.group.symbol, s.density_residual, DENSITY_CHECK, s.description);
    /* the same density with no cluster given: not uniform, axisymmetric about its first moment */
    if (u && ab_check(t, ab_pointgroup_state_of(disc, u, NULL, 0, NULL, &s, &err) == AB_OK, "no clusters (%s)", err.msg))
        ab_check(t, !s.verified && strcmp(s.clusters.symbol, "K_h") == 0 && strcmp(s.group.symbol, "C_inf_v") == 0 &&
                        s.density_residual <= DENSITY_CHECK && strcmp(s.description, "no clusters, C_inf_v") == 0,
                 "1-cluster density without its cluster: not %s (worst %.2e) but %s from its moments, '%s'",
                 s.clusters.symbol, s.worst_residual, s.group.symbol, s.description);
    ab_disc_destroy(disc), free(u), disc = NULL, u = NULL;
    /* the uniform state */
    if (solve(t, "model: SA\nd: 3\nbeta: 4\nkappa: 0.5\ndiscretization: {type: sphere, degree: 8}\nstate: {type: uniform}\n",
              &disc, &u, cl, &nc) &&
        ab_check(t, ab_pointgroup_state_of(disc, u, cl, nc, NULL, &s, &err) == AB_OK, "uniform: symmetry (%s)", err.msg))
        ab_check(t, nc == 0 && s.verified && strcmp(s.group.symbol, "K_h") == 0 && s.density_residual <= 1e-14 &&
                        strcmp(s.description, "uniform") == 0,
                 "uniform state: %d clusters, %s, residual %.1e (tol 1e-14), '%s'", nc, s.group.symbol, s.density_residual,
                 s.description);
    ab_disc_destroy(disc), free(u);
}

int main(void)
{
    ab_tally t = {0};
    double t0 = ab_now();
    arrangements(&t);
    families(&t);
    masses_and_small_sets(&t);
    noise(&t);
    double t1 = ab_now();
    states(&t);
    printf("point sets %.2f s, solved states %.2f s\n", t1 - t0, ab_now() - t1);
    return ab_finish(&t);
}
