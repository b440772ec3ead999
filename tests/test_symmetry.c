/* Subgroups of O(3) and the branching-lemma search (src/disc/symmetry.h, docs/symmetry.md):
 * element lists (orthogonal, closed, orientations), D^l (orthogonal, a homomorphism, D^1
 * against the matrices), fixed-space dimensions against the character formula for every
 * candidate at l = 1..6, the isotropy subgroups with one-dimensional fixed spaces at l = 1..6,
 * the density maxima of the T_d (l = 3), O_h (l = 4) and I_h (l = 6) vectors, subspace
 * representations, bad input. Tolerances are in docs/testing.md. */
#include "disc/symmetry.h"
#include "disc/sht.h"
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Group elements: orthogonality, det = +-1 and closure hold to rounding of the written-out
 * cos/sin (and a dozen products for I): measured <= 1e-15. */
#define TOL_GROUP 1e-13
/* D^l orthogonal (||D D^T - I||_max) and the leakage of the degree-l space: quadrature
 * rounding, measured ~1e-15 at l <= 8. */
#define TOL_D_ORTHO 1e-13
/* D(gh) = D(g) D(h) and D^1(g) = P g P^T: rounding of two quadratures. */
#define TOL_D_HOM 1e-12
/* The character average is an integer up to rounding of sin quotients. */
#define TOL_CHAR 1e-10
/* v(vertex) equals the maximum of v over the sphere up to rounding (the vertices are exact
 * maxima by symmetry; the sample maximum can only be below). */
#define TOL_VERTEX 1e-12
/* The sample points whose value is within MAX_BAND (relative to max - min) of the maximum
 * must all lie within MAX_RADIUS radians of one of the polyhedron's vertices (a further
 * maximum would put some there). */
#define MAX_BAND 0.02
#define MAX_RADIUS 0.3

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static double urand(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    const uint64_t r = rng_state * 2685821657736338717ULL;
    return 2.0 * ((double)(r >> 11) / 9007199254740992.0) - 1.0;
}

static void mul3(const double *A, const double *B, double *C)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) C[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
}

static double det3(const double *A)
{
    return A[0] * (A[4] * A[8] - A[5] * A[7]) - A[1] * (A[3] * A[8] - A[5] * A[6]) + A[2] * (A[3] * A[7] - A[4] * A[6]);
}

static double diff3(const double *A, const double *B)
{
    double m = 0.0;
    for (int i = 0; i < 9; i++) m = fmax(m, fabs(A[i] - B[i]));
    return m;
}

/* A random orthogonal matrix: Rodrigues about a random axis, times -1 when improper. */
static void random_orthogonal(double *R, int improper)
{
    double u[3] = {urand(), urand(), urand()}, n = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    for (int i = 0; i < 3; i++) u[i] /= n;
    double t = 3.14159265358979 * urand(), c = cos(t), s = sin(t), C = 1.0 - c;
    double M[9] = {c + u[0] * u[0] * C,        u[0] * u[1] * C - u[2] * s, u[0] * u[2] * C + u[1] * s,
                   u[1] * u[0] * C + u[2] * s, c + u[1] * u[1] * C,        u[1] * u[2] * C - u[0] * s,
                   u[2] * u[0] * C - u[1] * s, u[2] * u[1] * C + u[0] * s, c + u[2] * u[2] * C};
    for (int i = 0; i < 9; i++) R[i] = improper ? -M[i] : M[i];
}

/* The element index of m in the explicit list (not ab_group_contains: the stand-ins of the
 * continuous groups must be closed as lists), or -1. */
static int find_elem(const ab_group *g, const double *m)
{
    for (int e = 0; e < g->order; e++)
        if (diff3(m, g->R + 9 * e) <= TOL_GROUP) return e;
    return -1;
}

static int expected_order(const char *name, int N)
{
    int k = 0;
    char suf[8] = "";
    if (!strcmp(name, "T")) return 12;
    if (!strcmp(name, "T_d") || !strcmp(name, "T_h") || !strcmp(name, "O")) return 24;
    if (!strcmp(name, "O_h")) return 48;
    if (!strcmp(name, "I")) return 60;
    if (!strcmp(name, "I_h")) return 120;
    if (!strcmp(name, "C_inf")) return N;
    if (!strcmp(name, "C_inf_v") || !strcmp(name, "C_inf_h") || !strcmp(name, "D_inf")) return 2 * N;
    if (!strcmp(name, "D_inf_h")) return 4 * N;
    if (sscanf(name + 2, "%d%7s", &k, suf) < 1) return -1;
    if (name[0] == 'S') return k;
    if (name[0] == 'C') return suf[0] ? 2 * k : k;
    return suf[0] ? 4 * k : 2 * k;
}

static void test_groups(ab_tally *t)
{
    ab_error err = {0};
    ab_group_set *set = NULL;
    const int kmax = 6, deg = 6, N = 2 * deg + 1;
    if (!ab_check(t, ab_group_set_create(kmax, deg, &set, &err) == AB_OK, "group set kmax 6: %s", err.msg)) return;
    ab_check(t, set->count == 7 * (kmax - 1) + 12, "group set: %d candidates (7 axial families x 5 + 7 polyhedral + 5 continuous)",
             set->count);
    static const double I3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    double worst_orth = 0.0, worst_det = 0.0;
    int all_closed = 1, all_distinct = 1, all_orders = 1, all_id = 1, all_contain = 1;
    for (int i = 0; i < set->count; i++) {
        const ab_group *g = set->g[i];
        all_orders &= g->order == expected_order(g->name, N);
        all_id &= diff3(g->R, I3) == 0.0;
        for (int e = 0; e < g->order; e++) {
            const double *m = g->R + 9 * e;
            double mt[9], p[9];
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) mt[3 * b + a] = m[3 * a + b];
            mul3(m, mt, p);
            worst_orth = fmax(worst_orth, diff3(p, I3));
            worst_det = fmax(worst_det, fabs(fabs(det3(m)) - 1.0));
            all_contain &= ab_group_contains(g, m);
            for (int f = 0; f < g->order; f++) {
                mul3(m, g->R + 9 * f, p);
                if (find_elem(g, p) < 0) all_closed = 0;
                if (f > e && diff3(m, g->R + 9 * f) <= 1e-6) all_distinct = 0;
            }
        }
    }
    ab_check(t, all_orders, "every candidate has the order of its Schoenflies type (C_inf.. with N = %d)", N);
    ab_check(t, all_id, "every element list starts with the identity");
    ab_check(t, worst_orth <= TOL_GROUP, "elements orthogonal: max |R R^T - I| = %.2e <= %.0e", worst_orth, TOL_GROUP);
    ab_check(t, worst_det <= TOL_GROUP, "elements have det +-1: max ||det| - 1| = %.2e <= %.0e", worst_det, TOL_GROUP);
    ab_check(t, all_closed, "every element list is closed under products (to %.0e)", TOL_GROUP);
    ab_check(t, all_distinct, "no element listed twice");
    ab_check(t, all_contain, "ab_group_contains accepts every listed element");

    /* orientations (symmetry.h): the 2-fold axis / mirror containing x, the polyhedra */
    static const double C2x[9] = {1, 0, 0, 0, -1, 0, 0, 0, -1}, Mxz[9] = {1, 0, 0, 0, -1, 0, 0, 0, 1}, Myz[9] = {-1, 0, 0, 0, 1, 0, 0, 0, 1},
                        Mh[9] = {1, 0, 0, 0, 1, 0, 0, 0, -1}, C4z[9] = {0, -1, 0, 1, 0, 0, 0, 0, 1},
                        C3[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0}, Mxy[9] = {0, 1, 0, 1, 0, 0, 0, 0, 1}, mI[9] = {-1, 0, 0, 0, -1, 0, 0, 0, -1};
    struct {
        const char *name;
        const double *m;
        int in;
    } orient[] = {
        {"D_3", C2x, 1},    {"D_3h", Mxz, 1},  {"C_3v", Mxz, 1},  {"D_3d", C2x, 1},     {"D_3d", Mxz, 0},  {"D_3h", Mh, 1},
        {"D_3d", mI, 1},    {"D_3h", mI, 0},   {"S_6", mI, 1},    {"S_4", mI, 0},       {"D_4d", Mh, 0},   {"T_d", Mxy, 1},
        {"T_d", C3, 1},     {"T_d", C4z, 0},   {"T", C2x, 1},     {"O", C4z, 1},        {"O_h", Mxy, 1},   {"T_h", Mh, 1},
        {"I", C2x, 1},      {"I_h", Myz, 1},   {"I_h", Mxz, 0},   {"I", C4z, 0},     {"C_inf_v", Mxz, 1},  {"C_inf_v", Mh, 0}, {"D_inf", C2x, 1},
        {"D_inf", Mh, 0},   {"C_inf_h", Mh, 1}, {"C_inf_h", Mxz, 0}, {"D_inf_h", mI, 1}, {"C_inf", C4z, 1},  {"C_inf", C2x, 0},
    };
    for (size_t o = 0; o < sizeof orient / sizeof orient[0]; o++) {
        ab_group *g = NULL;
        if (ab_group_create(orient[o].name, deg, &g, &err) != AB_OK) {
            ab_check(t, 0, "create %s: %s", orient[o].name, err.msg);
            continue;
        }
        ab_check(t, ab_group_contains(g, orient[o].m) == orient[o].in, "orientation: %s %s element #%zu", orient[o].name,
                 orient[o].in ? "holds" : "lacks", o);
        ab_group_destroy(g);
    }
    /* I: the orbit of the pole is the 12 vertices of an icosahedron (5 neighbours at 1/sqrt 5) */
    ab_group *ico = NULL;
    if (ab_group_create("I", 0, &ico, &err) == AB_OK) {
        double V[60 * 3];
        int nv = 0, ok = 1;
        for (int e = 0; e < 60; e++) {
            double v[3] = {ico->R[9 * e + 2], ico->R[9 * e + 5], ico->R[9 * e + 8]};
            int dup = 0;
            for (int f = 0; f < nv && !dup; f++)
                dup = fabs(v[0] - V[3 * f]) + fabs(v[1] - V[3 * f + 1]) + fabs(v[2] - V[3 * f + 2]) < 1e-9;
            if (!dup) memcpy(V + 3 * nv++, v, sizeof v);
        }
        int near = 0, vertex_found = 0;
        for (int f = 0; f < nv; f++) {
            double d = V[3 * f + 2];
            if (fabs(d - 1.0 / sqrt(5.0)) < TOL_GROUP) near++;
            if (fabs(V[3 * f]) < TOL_GROUP && fabs(V[3 * f + 1] - 2.0 / sqrt(5.0)) < TOL_GROUP) vertex_found = 1;
        }
        ok = nv == 12 && near == 5 && vertex_found;
        ab_check(t, ok, "I: the orbit of e_z is 12 vertices (%d), 5 at z = 1/sqrt 5 (%d), one at (0, 2, 1)/sqrt 5", nv, near);
        ab_group_destroy(ico);
    }
    /* conjugation: Q G Q^T holds Q m Q^T; the continuous test follows the frame */
    ab_group *g = NULL, *c = NULL;
    double Q[9], m[9], Qm[9], Qt[9];
    random_orthogonal(Q, 0);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) Qt[3 * b + a] = Q[3 * a + b];
    int ok = 1;
    const char *cn[] = {"D_5d", "C_inf_h", "O_h"};
    for (int i = 0; i < 3; i++) {
        if (ab_group_create(cn[i], 4, &g, &err) != AB_OK || ab_group_conjugate(g, Q, &c, &err) != AB_OK) {
            ok = 0;
            ab_group_destroy(g);
            break;
        }
        for (int e = 0; e < g->order; e++) {
            mul3(Q, g->R + 9 * e, m);
            mul3(m, Qt, Qm);
            ok &= ab_group_contains(c, Qm) && (g->continuous || find_elem(c, Qm) >= 0);
        }
        ok &= diff3(c->frame, Q) <= TOL_GROUP;
        ab_group_destroy(g), ab_group_destroy(c);
        g = c = NULL;
    }
    ab_check(t, ok, "conjugated groups (D_5d, C_inf_h, O_h by a random rotation) hold the conjugated elements");
    ab_group_set_destroy(set);
}

/* Maximum over n matrices of max |A B^T - I| etc.: D^l orthogonal, homomorphism, D^1. */
static void test_dl(ab_tally *t)
{
    ab_error err = {0};
    double worst_orth = 0.0, worst_hom = 0.0, worst_leak = 0.0, worst_inv = 0.0;
    for (int l = 0; l <= 8; l++) {
        ab_sym_rep *rep = NULL;
        if (!ab_check(t, ab_sym_rep_create_degree(l, &rep, &err) == AB_OK, "degree rep l = %d: %s", l, err.msg)) continue;
        int n = 2 * l + 1;
        double *A = malloc(sizeof(double) * n * n), *B = malloc(sizeof(double) * n * n), *C = malloc(sizeof(double) * n * n);
        for (int trial = 0; trial < 4; trial++) {
            double g[9], h[9], gh[9], lk;
            random_orthogonal(g, trial & 1);
            random_orthogonal(h, trial & 2);
            mul3(g, h, gh);
            ab_sym_rep_matrix(rep, g, A, &lk, &err);
            worst_leak = fmax(worst_leak, lk);
            ab_sym_rep_matrix(rep, h, B, &lk, &err);
            ab_sym_rep_matrix(rep, gh, C, &lk, &err);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0.0, p = 0.0;
                    for (int q = 0; q < n; q++) s += A[i * n + q] * A[j * n + q], p += A[i * n + q] * B[q * n + j];
                    worst_orth = fmax(worst_orth, fabs(s - (i == j)));
                    worst_hom = fmax(worst_hom, fabs(p - C[i * n + j]));
                }
        }
        /* -I acts as (-1)^l */
        double mI[9] = {-1, 0, 0, 0, -1, 0, 0, 0, -1};
        ab_sym_rep_matrix(rep, mI, A, NULL, &err);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) worst_inv = fmax(worst_inv, fabs(A[i * n + j] - (i == j ? (l % 2 ? -1.0 : 1.0) : 0.0)));
        free(A), free(B), free(C);
        ab_sym_rep_destroy(rep);
    }
    ab_check(t, worst_orth <= TOL_D_ORTHO, "D^l orthogonal, l = 0..8, random rotations and improper elements: %.2e <= %.0e",
             worst_orth, TOL_D_ORTHO);
    ab_check(t, worst_leak <= TOL_D_ORTHO, "degree-l space invariant: leakage %.2e <= %.0e", worst_leak, TOL_D_ORTHO);
    ab_check(t, worst_hom <= TOL_D_HOM, "D(gh) = D(g) D(h): %.2e <= %.0e", worst_hom, TOL_D_HOM);
    ab_check(t, worst_inv <= TOL_D_HOM, "D(-I) = (-1)^l I: %.2e <= %.0e", worst_inv, TOL_D_HOM);

    /* Elements keeping the z axis take a closed form (cos/sin m phi mix in pairs, parity
     * (-1)^(l+m) under z -> -z); against the quadrature path through D(g) = D(g h) D(h^T)
     * with h a random rotation (g h and h^T keep no axis). */
    double worst_axial = 0.0;
    for (int l = 0; l <= 8; l++) {
        ab_sym_rep *r = NULL;
        if (ab_sym_rep_create_degree(l, &r, &err) != AB_OK) continue;
        int n = 2 * l + 1;
        double *A = malloc(sizeof(double) * n * n), *B = malloc(sizeof(double) * n * n), *C = malloc(sizeof(double) * n * n);
        for (int trial = 0; trial < 8; trial++) {
            double tt = 3.0 * urand(), c = cos(tt), sn = sin(tt), zs = (trial & 2) ? -1.0 : 1.0;
            double g[9] = {c, -sn, 0, sn, c, 0, 0, 0, zs}, h[9], ht[9], gh[9];
            if (trial & 1) g[3] = -g[3], g[4] = -g[4]; /* a reflection of the plane instead */
            random_orthogonal(h, 0);
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) ht[3 * b + a] = h[3 * a + b];
            mul3(g, h, gh);
            ab_sym_rep_matrix(r, g, A, NULL, &err);
            ab_sym_rep_matrix(r, gh, B, NULL, &err);
            ab_sym_rep_matrix(r, ht, C, NULL, &err);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) {
                    double p = 0.0;
                    for (int q = 0; q < n; q++) p += B[i * n + q] * C[q * n + j];
                    worst_axial = fmax(worst_axial, fabs(p - A[i * n + j]));
                }
        }
        free(A), free(B), free(C);
        ab_sym_rep_destroy(r);
    }
    ab_check(t, worst_axial <= TOL_D_HOM, "D(g) for g keeping the z axis (closed form) = D(g h) D(h^T) (quadrature), l = 0..8: %.2e <= %.0e",
             worst_axial, TOL_D_HOM);

    /* D^1 against the matrix: Y_1,-1 .. Y_1,1 = sqrt 3 (y, z, x) (src/disc/sht.h), and
     * (g.f)(x) = f(g^T x) maps a.x to (g a).x, so D^1 = P g P^T with P picking (y, z, x). */
    ab_sym_rep *rep = NULL;
    if (ab_sym_rep_create_degree(1, &rep, &err) == AB_OK) {
        static const int P[3] = {1, 2, 0};
        double g[9], D[9], worst = 0.0;
        for (int trial = 0; trial < 4; trial++) {
            random_orthogonal(g, trial & 1);
            ab_sym_rep_matrix(rep, g, D, NULL, &err);
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) worst = fmax(worst, fabs(D[3 * i + j] - g[3 * P[i] + P[j]]));
        }
        ab_check(t, worst <= TOL_D_HOM, "D^1(g) = g in the basis (y, z, x): %.2e <= %.0e", worst, TOL_D_HOM);
        ab_sym_rep_destroy(rep);
    }
}

/* (1/|G|) sum chi_l(g): chi_l(rotation by a) = sin((2l+1) a/2) / sin(a/2), chi_l(-R) =
 * (-1)^l chi_l(R), the angle from the trace -- independent of the harmonics. */
static double character_dim(const ab_group *g, int l)
{
    double s = 0.0;
    for (int e = 0; e < g->order; e++) {
        const double *m = g->R + 9 * e;
        double sg = det3(m) > 0 ? 1.0 : -1.0, tr = sg * (m[0] + m[4] + m[8]);
        double c = fmin(1.0, fmax(-1.0, 0.5 * (tr - 1.0))), a = acos(c);
        double chi = sin(0.5 * a) < 1e-7 ? 2 * l + 1 : sin((2 * l + 1) * 0.5 * a) / sin(0.5 * a);
        s += (sg < 0 && l % 2) ? -chi : chi;
    }
    return s / g->order;
}

/* The isotropy subgroups with dim Fix = 1 at degree l (and whether v ~ -v), derived from the
 * character formula above and containment (docs/symmetry.md, "The table"); in the notation of
 * Golubitsky, Stewart & Schaeffer vol. II ch. XIII and Ihrig & Golubitsky (1984): l odd:
 * O(2)^- = C_inf_v, O^- = T_d, D_2n^d = D_nh (n odd) or D_nd (n even), D_n^z = C_nv; l even:
 * Sigma + Z_2^c = Sigma x {+-I}: O(2) -> D_inf_h, O -> O_h, I -> I_h, D_n -> D_nh (n even) or
 * D_nd (n odd). */
static const struct {
    int l;
    const char *names; /* space-separated, in ab_group_set_create's order */
} EXPECTED[] = {
    {1, "C_inf_v"},
    {2, "D_inf_h"},
    {3, "D_3h T_d C_inf_v"},
    {4, "O_h D_inf_h"},
    {5, "D_2d D_3h D_4d D_5h C_inf_v"},
    {6, "O_h I_h D_inf_h"},
};

static void test_table(ab_tally *t)
{
    ab_error err = {0};
    for (int l = 1; l <= 6; l++) {
        ab_group_set *set = NULL;
        ab_sym_rep *rep = NULL;
        if (ab_group_set_create(l < 2 ? 2 : l, l, &set, &err) != AB_OK || ab_sym_rep_create_degree(l, &rep, &err) != AB_OK) {
            ab_check(t, 0, "l = %d: set-up: %s", l, err.msg);
            ab_group_set_destroy(set);
            continue;
        }
        /* every candidate: the projector's trace against the character formula */
        int all = 1;
        for (int i = 0; i < set->count; i++) {
            int dim = -1;
            double cd = character_dim(set->g[i], l);
            ab_status st = ab_sym_fixed(rep, set->g[i], NULL, &dim, NULL, 0, NULL, &err);
            if (st != AB_OK || fabs(cd - lround(cd)) > TOL_CHAR || dim != lround(cd)) {
                all = 0;
                printf("  l = %d %s: projector %d, characters %.12g (%s)\n", l, set->g[i]->name, dim, cd, err.msg);
            }
        }
        ab_check(t, all, "l = %d: dim Fix of all %d candidates equals the character average", l, set->count);

        ab_sym_search_result *res = NULL;
        double t0 = ab_now();
        if (!ab_check(t, ab_sym_search(rep, set->g, set->count, &res, &err) == AB_OK, "l = %d: search: %s", l, err.msg)) {
            ab_sym_rep_destroy(rep);
            ab_group_set_destroy(set);
            continue;
        }
        char got[512] = "";
        int flips_ok = 1, vec_ok = 1;
        for (int b = 0; b < res->nbranch; b++) {
            const ab_sym_branch *br = &res->branch[b];
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", b ? " " : "", br->name);
            /* odd l: -I maps v to -v; even l: the computed answer is printed and checked below */
            if (l % 2 && !br->flip) flips_ok = 0;
            /* the vector is fixed by its group and a unit vector */
            double nv = 0.0;
            for (int i = 0; i < res->n; i++) nv += br->v[i] * br->v[i];
            vec_ok &= fabs(nv - 1.0) <= 1e-12;
        }
        printf("  l = %d: %s (search %.2f s)\n", l, got, ab_now() - t0);
        for (int i = 0; i < res->ncand; i++)
            if (res->cand[i].dim == 1 && res->cand[i].isotropy != i)
                printf("    %s: dim 1, isotropy %s\n", res->cand[i].group->name, res->cand[res->cand[i].isotropy].group->name);
        ab_check(t, !strcmp(got, EXPECTED[l - 1].names), "l = %d: isotropy subgroups with dim Fix = 1: '%s' (expected '%s')", l,
                 got, EXPECTED[l - 1].names);
        ab_check(t, flips_ok, "l = %d: %s", l, l % 2 ? "every v is conjugate to -v (by -I)" : "flip test ran");
        ab_check(t, vec_ok, "l = %d: the fixed vectors are unit vectors", l);
        /* even l: each of D_inf_h, O_h, I_h is its own normaliser in O(3), so no element maps v
         * to -v (v and -v are different branches: prolate/oblate, octahedron/cube, ...) */
        int noflip = 1;
        for (int b = 0; b < res->nbranch && l % 2 == 0; b++) noflip &= !res->branch[b].flip;
        if (l % 2 == 0) ab_check(t, noflip, "l = %d: no v is conjugate to -v (the groups are self-normalising)", l);
        /* the reductions to the isotropy: H with dim Fix(H) = 1 inside a larger K */
        static const struct {
            int l;
            const char *h, *k;
        } RED[] = {{1, "C_inf", "C_inf_v"}, {2, "D_inf", "D_inf_h"}, {3, "D_2d", "T_d"}, {3, "T", "T_d"}, {3, "D_3", "D_3h"},
                   {4, "T_d", "O_h"},       {4, "O", "O_h"},         {4, "D_4d", "D_inf_h"}, {5, "D_4", "D_4d"},
                   {5, "D_5", "D_5h"},      {6, "I", "I_h"},         {6, "T_d", "O_h"},      {6, "D_6d", "D_inf_h"}};
        for (size_t r = 0; r < sizeof RED / sizeof RED[0]; r++) {
            if (RED[r].l != l) continue;
            const char *iso = "(none)";
            for (int i = 0; i < res->ncand; i++)
                if (!strcmp(res->cand[i].group->name, RED[r].h) && res->cand[i].isotropy >= 0)
                    iso = res->cand[res->cand[i].isotropy].group->name;
            ab_check(t, !strcmp(iso, RED[r].k), "l = %d: the vector fixed by %s has isotropy %s (%s)", l, RED[r].h, RED[r].k, iso);
        }
        /* every reduction's frame: v_H is fixed by every element of Q K Q^T */
        double worst_fix = 0.0;
        for (int i = 0; i < res->ncand; i++) {
            const ab_sym_candidate *c = &res->cand[i];
            if (c->dim != 1 || c->isotropy == i) continue;
            double v[64], cv[64], w[64];
            int d = 0;
            ab_group *K = NULL;
            ab_sym_fixed(rep, c->group, NULL, &d, v, 1, NULL, &err);
            ab_sym_rep_to_coeffs(rep, v, cv);
            ab_group_conjugate(res->cand[c->isotropy].group, c->isotropy_frame, &K, &err);
            for (int e = 0; K && e < K->order; e++) {
                ab_sym_rotate_coeffs(rep, K->R + 9 * e, cv, w, &err);
                for (size_t q = 0; q < ab_sym_rep_ncoeffs(rep); q++) worst_fix = fmax(worst_fix, fabs(w[q] - cv[q]));
            }
            ab_group_destroy(K);
        }
        ab_check(t, worst_fix <= TOL_D_HOM, "l = %d: each reduced vector is fixed by its isotropy group in the frame found (%.2e <= %.0e)",
                 l, worst_fix, TOL_D_HOM);
        ab_sym_search_result_destroy(res);
        ab_sym_rep_destroy(rep);
        ab_group_set_destroy(set);
    }
}


/* Whether the maxima of f = sign * sum c Y over the sphere sit at the n vertices: every vertex
 * reaches the sampled maximum, and every sample near the maximum is near a vertex. */
static int maxima_at(ab_sht *sht, const double *c, double sign, const double *vert, int nv, const double *pts, size_t np,
                     double *fpts, double *fvert)
{
    ab_error err = {0};
    if (ab_sht_eval(sht, c, np, pts, fpts, &err) != AB_OK || ab_sht_eval(sht, c, (size_t)nv, vert, fvert, &err) != AB_OK)
        return 0;
    double mx = -INFINITY, mn = INFINITY;
    for (size_t p = 0; p < np; p++) mx = fmax(mx, sign * fpts[p]), mn = fmin(mn, sign * fpts[p]);
    for (int i = 0; i < nv; i++)
        if (!(sign * fvert[i] >= mx - TOL_VERTEX)) return 0;
    for (size_t p = 0; p < np; p++) {
        if (sign * fpts[p] < mx - MAX_BAND * (mx - mn)) continue;
        int near = 0;
        for (int i = 0; i < nv && !near; i++) {
            const double *x = pts + 3 * p, *y = vert + 3 * i;
            near = acos(fmin(1.0, x[0] * y[0] + x[1] * y[1] + x[2] * y[2])) <= MAX_RADIUS;
        }
        if (!near) return 0;
    }
    return 1;
}

static void test_maxima(ab_tally *t)
{
    ab_error err = {0};
    const size_t np = 20000;
    double *pts = malloc(3 * np * sizeof *pts), *fp = malloc(np * sizeof *fp), fv[64];
    /* a Fibonacci lattice: near-uniform, spacing ~ sqrt(4 pi / np) ~ 0.025 rad */
    for (size_t p = 0; p < np; p++) {
        double z = 1.0 - (2.0 * p + 1.0) / np, r = sqrt(1.0 - z * z), ph = 2.399963229728653 * p;
        pts[3 * p] = r * cos(ph), pts[3 * p + 1] = r * sin(ph), pts[3 * p + 2] = z;
    }
    const double s3 = 1.0 / sqrt(3.0);
    double tet[12] = {s3, s3, s3, s3, -s3, -s3, -s3, s3, -s3, -s3, -s3, s3}, anti[12];
    for (int i = 0; i < 12; i++) anti[i] = -tet[i];
    double oct[18] = {1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1}, cube[24];
    for (int i = 0; i < 8; i++) cube[3 * i] = (i & 1) ? -s3 : s3, cube[3 * i + 1] = (i & 2) ? -s3 : s3, cube[3 * i + 2] = (i & 4) ? -s3 : s3;
    /* the icosahedron (the orbit of e_z under I) and the dodecahedron (of a 3-fold axis) */
    double ico[36], dod[60];
    int ni = 0, nd = 0;
    ab_group *I = NULL;
    ab_group_create("I", 0, &I, &err);
    double ax3[3] = {0, 0, 0};
    for (int e = 0; I && e < 60; e++) { /* a 3-fold axis: an element of trace 0 */
        const double *m = I->R + 9 * e;
        if (fabs(m[0] + m[4] + m[8]) < 1e-9) {
            ax3[0] = m[7] - m[5], ax3[1] = m[2] - m[6], ax3[2] = m[3] - m[1];
            double n = sqrt(ax3[0] * ax3[0] + ax3[1] * ax3[1] + ax3[2] * ax3[2]);
            for (int i = 0; i < 3; i++) ax3[i] /= n;
            break;
        }
    }
    for (int e = 0; I && e < 60; e++) {
        const double *m = I->R + 9 * e;
        double a[3] = {m[2], m[5], m[8]}, b[3];
        for (int i = 0; i < 3; i++) b[i] = m[3 * i] * ax3[0] + m[3 * i + 1] * ax3[1] + m[3 * i + 2] * ax3[2];
        int dup = 0;
        for (int f = 0; f < ni && !dup; f++) dup = fabs(a[0] - ico[3 * f]) + fabs(a[1] - ico[3 * f + 1]) + fabs(a[2] - ico[3 * f + 2]) < 1e-9;
        if (!dup && ni < 12) memcpy(ico + 3 * ni++, a, sizeof a);
        dup = 0;
        for (int f = 0; f < nd && !dup; f++) dup = fabs(b[0] - dod[3 * f]) + fabs(b[1] - dod[3 * f + 1]) + fabs(b[2] - dod[3 * f + 2]) < 1e-9;
        if (!dup && nd < 20) memcpy(dod + 3 * nd++, b, sizeof b);
    }
    ab_group_destroy(I);
    ab_check(t, ni == 12 && nd == 20, "icosahedron (%d) and dodecahedron (%d) vertices from the orbits under I", ni, nd);
    struct {
        int l;
        const char *name;
        const double *A, *B;
        int na, nb;
        const char *an, *bn;
    } cases[] = {{3, "T_d", tet, anti, 4, 4, "a tetrahedron", "the opposite tetrahedron"},
                 {4, "O_h", oct, cube, 6, 8, "the octahedron", "the cube"},
                 {6, "I_h", ico, dod, 12, 20, "the icosahedron", "the dodecahedron"}};
    for (int c = 0; c < 3; c++) {
        int l = cases[c].l;
        ab_group_set *set = NULL;
        ab_sym_rep *rep = NULL;
        ab_sym_search_result *res = NULL;
        ab_sht *sht = NULL;
        if (ab_group_set_create(l, l, &set, &err) != AB_OK || ab_sym_rep_create_degree(l, &rep, &err) != AB_OK ||
            ab_sym_search(rep, set->g, set->count, &res, &err) != AB_OK || ab_sht_create(l, 0, 0, &sht, &err) != AB_OK) {
            ab_check(t, 0, "maxima l = %d: set-up: %s", l, err.msg);
        } else {
            const double *v = NULL;
            for (int b = 0; b < res->nbranch; b++)
                if (!strcmp(res->branch[b].name, cases[c].name)) v = res->branch[b].coeffs;
            if (ab_check(t, v != NULL, "l = %d: a %s branch", l, cases[c].name)) {
                int pa = maxima_at(sht, v, 1.0, cases[c].A, cases[c].na, pts, np, fp, fv) &&
                         maxima_at(sht, v, -1.0, cases[c].B, cases[c].nb, pts, np, fp, fv);
                int pb = maxima_at(sht, v, 1.0, cases[c].B, cases[c].nb, pts, np, fp, fv) &&
                         maxima_at(sht, v, -1.0, cases[c].A, cases[c].na, pts, np, fp, fv);
                ab_check(t, pa != pb,
                         "l = %d, %s: the density 1 + eps v peaks at the vertices of %s for one sign of v and of %s for "
                         "the other (v: %s)",
                         l, cases[c].name, cases[c].an, cases[c].bn, pa ? cases[c].an : pb ? cases[c].bn : "neither");
            }
        }
        ab_sht_destroy(sht);
        ab_sym_search_result_destroy(res);
        ab_sym_rep_destroy(rep);
        ab_group_set_destroy(set);
    }
    free(pts), free(fp);
}

static void test_subspace(ab_tally *t)
{
    ab_error err = {0};
    /* the degree-3 space given on a grid of degree 5 by 7 non-orthonormal grid functions */
    const int L = 5, nlat = 8, nlon = 14;
    ab_sht *sht = NULL;
    ab_sym_rep *sub = NULL, *deg = NULL;
    ab_group_set *set = NULL;
    if (ab_sht_create(L, nlat, nlon, &sht, &err) != AB_OK || ab_sym_rep_create_degree(3, &deg, &err) != AB_OK ||
        ab_group_set_create(3, L, &set, &err) != AB_OK) {
        ab_check(t, 0, "subspace set-up: %s", err.msg);
        return;
    }
    size_t np = ab_sht_npoints(sht), nc = ab_sht_ncoeffs(sht);
    double *grid = malloc(7 * np * sizeof *grid), *c = calloc(nc, sizeof *c);
    for (int j = 0; j < 7; j++) {
        memset(c, 0, nc * sizeof *c);
        for (int m = -3; m <= 3; m++) c[ab_sht_index(3, m)] = urand() + (m == j - 3 ? 2.0 : 0.0);
        ab_sht_synthesis(sht, c, grid + j * np, &err);
    }
    if (ab_check(t, ab_sym_rep_create_subspace(L, nlat, nlon, 7, grid, np, AB_SYM_BASIS_GRID, &sub, &err) == AB_OK,
                 "subspace from grid functions: %s", err.msg)) {
        ab_check(t, ab_sym_rep_truncation(sub) <= 1e-14, "grid input of degree 3: nothing lost (%.2e)", ab_sym_rep_truncation(sub));
        double g[9], M[49], lk, worst = 0.0;
        for (int trial = 0; trial < 3; trial++) {
            random_orthogonal(g, trial & 1);
            ab_sym_rep_matrix(sub, g, M, &lk, &err);
            worst = fmax(worst, lk);
        }
        ab_check(t, worst <= TOL_D_ORTHO, "an invariant subspace leaks nothing: %.2e <= %.0e", worst, TOL_D_ORTHO);
        int same = 1;
        for (int i = 0; i < set->count; i++) {
            int d1 = -1, d2 = -2;
            ab_sym_fixed(sub, set->g[i], NULL, &d1, NULL, 0, NULL, &err);
            ab_sym_fixed(deg, set->g[i], NULL, &d2, NULL, 0, NULL, &err);
            same &= d1 == d2;
        }
        ab_check(t, same, "the subspace's fixed-space dimensions equal those of D^3 for all %d candidates", set->count);
        ab_sym_search_result *r1 = NULL, *r2 = NULL;
        if (ab_sym_search(sub, set->g, set->count, &r1, &err) == AB_OK && ab_sym_search(deg, set->g, set->count, &r2, &err) == AB_OK) {
            int eq = r1->nbranch == r2->nbranch;
            double dv = 0.0;
            for (int b = 0; eq && b < r1->nbranch; b++) {
                eq &= !strcmp(r1->branch[b].name, r2->branch[b].name);
                for (size_t q = 0; q < 16; q++) dv = fmax(dv, fabs(r1->branch[b].coeffs[q] - r2->branch[b].coeffs[q]));
            }
            ab_check(t, eq && dv <= TOL_D_HOM, "the subspace search finds the degree-3 branches with the same vectors (%.2e)", dv);
        } else
            ab_check(t, 0, "subspace search: %s", err.msg);
        ab_sym_search_result_destroy(r1), ab_sym_search_result_destroy(r2);
        ab_sym_rep_destroy(sub);
        sub = NULL;
    }
    /* degree 2 + degree 4 as coefficients: dims add up (characters of both degrees) */
    {
        double *B = calloc(14 * 25, sizeof *B);
        for (int j = 0; j < 14; j++) B[j * 25 + (j < 5 ? 4 + j : 16 + (j - 5))] = 1.0;
        ab_group_set *s4 = NULL;
        int ok = ab_sym_rep_create_subspace(4, 0, 0, 14, B, 25, AB_SYM_BASIS_COEFFS, &sub, &err) == AB_OK &&
                 ab_group_set_create(4, 4, &s4, &err) == AB_OK;
        for (int i = 0; ok && i < s4->count; i++) {
            int d = -1;
            ok &= ab_sym_fixed(sub, s4->g[i], NULL, &d, NULL, 0, NULL, &err) == AB_OK &&
                  d == lround(character_dim(s4->g[i], 2) + character_dim(s4->g[i], 4));
        }
        ab_check(t, ok, "degree 2 + degree 4: every fixed-space dimension is the sum of the two character averages (%s)", err.msg);
        ab_group_set_destroy(s4);
        ab_sym_rep_destroy(sub);
        sub = NULL;
        free(B);
    }
    /* a subspace that is not invariant: span{Y_30, Y_32} under T_d */
    {
        double B[2 * 16] = {0};
        B[ab_sht_index(3, 0)] = 1.0, B[16 + ab_sht_index(3, 2)] = 1.0;
        ab_group *td = NULL;
        double M[4], lk = 0.0, g[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0};
        if (ab_sym_rep_create_subspace(3, 0, 0, 2, B, 16, AB_SYM_BASIS_COEFFS, &sub, &err) == AB_OK &&
            ab_group_create("T_d", 0, &td, &err) == AB_OK) {
            ab_sym_rep_matrix(sub, g, M, &lk, &err);
            ab_check(t, lk > 0.1, "span{Y_30, Y_32} is not invariant under the 3-fold turn: leakage %.3f > 0.1", lk);
            int d = -1;
            ab_error e2 = {0};
            ab_status st = ab_sym_fixed(sub, td, NULL, &d, NULL, 0, NULL, &e2);
            ab_check(t, st == AB_EINVAL && strstr(e2.msg, "not invariant"), "... and its T_d fixed space is refused: %s", e2.msg);
        }
        ab_group_destroy(td);
        ab_sym_rep_destroy(sub);
        sub = NULL;
    }
    /* span{Y_30, Y_33}: kept by D_3h and its subgroups, not by the axial groups; the search
     * skips those and finds the D_3h vector Y_33, flipped by the turn pi/3 about z */
    {
        double B[2 * 16] = {0};
        B[ab_sht_index(3, 0)] = 1.0, B[16 + ab_sht_index(3, 3)] = 1.0;
        ab_group_set *s3 = NULL;
        ab_sym_search_result *r = NULL;
        if (ab_sym_rep_create_subspace(3, 0, 0, 2, B, 16, AB_SYM_BASIS_COEFFS, &sub, &err) == AB_OK &&
            ab_group_set_create(3, 3, &s3, &err) == AB_OK && ab_sym_search(sub, s3->g, s3->count, &r, &err) == AB_OK) {
            int skipped = 0, d3h = 0, ok_vec = 0, flip = 0;
            char names[256] = "";
            for (int i = 0; i < r->ncand; i++)
                if (!strcmp(r->cand[i].group->name, "C_inf_v") || !strcmp(r->cand[i].group->name, "T_d")) skipped += r->cand[i].dim == -1;
            for (int b = 0; b < r->nbranch; b++) {
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", b ? " " : "", r->branch[b].name);
                if (strcmp(r->branch[b].name, "D_3h")) continue;
                d3h = 1, flip = r->branch[b].flip;
                ok_vec = fabs(fabs(r->branch[b].coeffs[ab_sht_index(3, 3)]) - 1.0) <= TOL_D_HOM;
            }
            ab_check(t, skipped == 2, "span{Y_30, Y_33}: C_inf_v and T_d do not keep it and are left out (%d)", skipped);
            ab_check(t, d3h && ok_vec && flip, "span{Y_30, Y_33}: a D_3h branch along Y_33, v ~ -v (branches: %s)", names);
        } else
            ab_check(t, 0, "span{Y_30, Y_33} search: %s", err.msg);
        ab_sym_search_result_destroy(r);
        ab_group_set_destroy(s3);
        ab_sym_rep_destroy(sub);
        sub = NULL;
    }
    /* grid input with content above L: Y_30 + Y_60 analysed at L = 3 loses 1/sqrt 2 */
    {
        ab_sht *s3 = NULL, *s6 = NULL;
        ab_sht_create(3, 8, 16, &s3, &err);
        ab_sht_create(6, 8, 16, &s6, &err);
        double c6[49] = {0}, *f = malloc(128 * sizeof *f);
        c6[ab_sht_index(3, 0)] = 1.0, c6[ab_sht_index(6, 0)] = 1.0;
        ab_sht_synthesis(s6, c6, f, &err);
        if (ab_sym_rep_create_subspace(3, 8, 16, 1, f, 128, AB_SYM_BASIS_GRID, &sub, &err) == AB_OK)
            ab_check(t, fabs(ab_sym_rep_truncation(sub) - sqrt(0.5)) <= 1e-12,
                     "grid input above the degree: the lost part is reported (%.15f = 1/sqrt 2)", ab_sym_rep_truncation(sub));
        else
            ab_check(t, 0, "truncation set-up: %s", err.msg);
        ab_sym_rep_destroy(sub);
        ab_sht_destroy(s3), ab_sht_destroy(s6);
        free(f);
    }
    free(grid), free(c);
    ab_sht_destroy(sht);
    ab_sym_rep_destroy(deg);
    ab_group_set_destroy(set);
}

static void test_bad(ab_tally *t)
{
    ab_error err = {0};
    ab_group *g = NULL;
    const char *bad[] = {"C_1", "D_1h", "S_5", "S_2", "C_3x", "D_3v", "X", "C_", "C_0", "C_-3", "D_257", "T_x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        ab_status st = ab_group_create(bad[i], 3, &g, &err);
        ab_check(t, st == AB_EINVAL && g == NULL && err.msg[0], "group '%s' refused: %s", bad[i], err.msg);
    }
    ab_check(t, ab_group_create("D_3h", -1, &g, &err) == AB_EINVAL, "a negative exact degree is refused: %s", err.msg);
    ab_check(t, ab_group_set_create(0, 3, NULL, &err) == AB_EINVAL, "a group set without output is refused: %s", err.msg);
    ab_group_set *s = NULL;
    ab_check(t, ab_group_set_create(AB_GROUP_K_MAX + 1, 3, &s, &err) == AB_EINVAL, "kmax too large is refused: %s", err.msg);
    ab_sym_rep *rep = NULL;
    ab_check(t, ab_sym_rep_create_degree(-1, &rep, &err) == AB_EINVAL, "a negative degree is refused: %s", err.msg);
    if (ab_sym_rep_create_degree(3, &rep, &err) == AB_OK && ab_group_create("C_inf_v", 2, &g, &err) == AB_OK) {
        int d;
        memset(&err, 0, sizeof err);
        ab_check(t, ab_sym_fixed(rep, g, NULL, &d, NULL, 0, NULL, &err) == AB_EINVAL && strstr(err.msg, "exactly"),
                 "a continuous group exact to degree 2 is refused at degree 3: %s", err.msg);
        double M[49], notorth[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1.5};
        ab_check(t, ab_sym_rep_matrix(rep, notorth, M, NULL, &err) == AB_EINVAL, "a non-orthogonal matrix is refused: %s", err.msg);
        ab_group *c = NULL;
        ab_check(t, ab_group_conjugate(g, notorth, &c, &err) == AB_EINVAL && !c, "a non-orthogonal frame is refused: %s", err.msg);
    }
    ab_group_destroy(g);
    ab_sym_rep_destroy(rep);
    rep = NULL;
    double B[3 * 16] = {0};
    B[1] = 1.0, B[16 + 1] = 2.0, B[32 + 2] = 1.0;
    ab_check(t, ab_sym_rep_create_subspace(3, 0, 0, 3, B, 16, AB_SYM_BASIS_COEFFS, &rep, &err) == AB_EINVAL && !rep,
             "linearly dependent columns are refused: %s", err.msg);
    ab_check(t, ab_sym_rep_create_subspace(3, 0, 0, 3, B, 15, AB_SYM_BASIS_COEFFS, &rep, &err) == AB_EINVAL && !rep,
             "a leading dimension below the column length is refused: %s", err.msg);
    ab_check(t, ab_sym_rep_create_subspace(3, 0, 0, 1, B, 16, 7, &rep, &err) == AB_EINVAL && !rep,
             "an unknown basis kind is refused: %s", err.msg);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    test_groups(&t);
    test_dl(&t);
    test_table(&t);
    test_maxima(&t);
    test_subspace(&t);
    test_bad(&t);
    return ab_finish(&t);
}
