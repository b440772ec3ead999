/* The named cluster arrangements (docs/sphere.md, "Clusters and maps"): centres, their proper
 * rotation groups (closure, orthogonality, the centre set mapped onto itself, and that no
 * symmetry is missing, found independently from pairs of centres), symbols and bad input. */
#include "disc/arrangement.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rounding only: entries of products of a few rotations (measured ~4e-16). */
#define TOL 1e-13

static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static void cross3(const double *a, const double *b, double *c)
{
    c[0] = a[1] * b[2] - a[2] * b[1], c[1] = a[2] * b[0] - a[0] * b[2], c[2] = a[0] * b[1] - a[1] * b[0];
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
static double det3(const double *R)
{
    return R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
}

/* How far R is from permuting the centres (max over centres of the distance from R c to the
 * nearest centre), and whether the nearest centres form a permutation. */
static double perm_error(const double *R, const double *c, int n, int *is_perm)
{
    int hit[AB_ARRANGEMENT_POLYGON_MAX] = {0};
    double worst = 0.0;
    *is_perm = 1;
    for (int i = 0; i < n; i++) {
        double y[3], best = 1e300;
        int bj = -1;
        apply(R, c + 3 * i, y);
        for (int j = 0; j < n; j++) {
            double d = sqrt(pow(y[0] - c[3 * j], 2) + pow(y[1] - c[3 * j + 1], 2) + pow(y[2] - c[3 * j + 2], 2));
            if (d < best) best = d, bj = j;
        }
        worst = fmax(worst, best);
        if (hit[bj]++) *is_perm = 0;
    }
    return worst;
}

static int in_group(const double *Q, const double *R, int n)
{
    for (int g = 0; g < n; g++)
        if (mdiff(Q, R + 9 * g) < 1e-9) return 1;
    return 0;
}

/* Every rotation mapping the centre set onto itself, found independently of the generators:
 * a rotation is fixed by the images of c_0 and of one centre c_a not parallel to it, so
 * try every ordered pair (c_i, c_j) with <c_i, c_j> = <c_0, c_a>. Returns how many such
 * rotations permute the centres; *missing counts those not in R. */
static int brute_force_symmetries(const double *c, int n, const double *R, int order, int *missing)
{
    int a = -1;
    for (int j = 1; j < n && a < 0; j++)
        if (fabs(fabs(dot3(c, c + 3 * j)) - 1.0) > 1e-6) a = j;
    *missing = 0;
    if (a < 0) return -1;
    double F[9], Finv[9], ab[3];
    cross3(c, c + 3 * a, ab);
    for (int r = 0; r < 3; r++) F[3 * r] = c[r], F[3 * r + 1] = c[3 * a + r], F[3 * r + 2] = ab[r];
    double det = det3(F), rows[3][3];
    cross3(c + 3 * a, ab, rows[0]), cross3(ab, c, rows[1]), cross3(c, c + 3 * a, rows[2]);
    for (int r = 0; r < 3; r++)
        for (int s = 0; s < 3; s++) Finv[3 * r + s] = rows[r][s] / det;
    int found = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            if (fabs(dot3(c + 3 * i, c + 3 * j) - dot3(c, c + 3 * a)) > 1e-9) continue;
            double G[9], Q[9], x[3];
            cross3(c + 3 * i, c + 3 * j, x);
            for (int r = 0; r < 3; r++) G[3 * r] = c[3 * i + r], G[3 * r + 1] = c[3 * j + r], G[3 * r + 2] = x[r];
            mul(G, Finv, Q);
            int p;
            if (perm_error(Q, c, n, &p) > 1e-9 || !p) continue;
            found++;
            if (!in_group(Q, R, order)) (*missing)++;
        }
    return found;
}

static void check_arrangement(ab_tally *t, const char *name, int k, int n_want, int order_want, const char *symbol)
{
    char what[64];
    snprintf(what, sizeof what, "%s%s%.0d", name, k > 0 ? " k=" : "", k > 0 ? k : 0);
    ab_error err = {0};
    int n = -1, order = -1;
    ab_check(t, ab_arrangement_centres(name, k, NULL, 0, &n, &err) == AB_EINVAL && n == n_want,
             "%s: max = 0 asks for the count (%d, want %d)", what, n, n_want);
    double *c = malloc(sizeof(double) * 3 * (size_t)n_want);
    double *R = malloc(sizeof(double) * 9 * (size_t)order_want);
    if (!ab_check(t, ab_arrangement_centres(name, k, c, n_want, &n, &err) == AB_OK && n == n_want, "%s: %d centres %s",
                  what, n, err.msg) ||
        !ab_check(t, ab_arrangement_rotations(name, k, R, order_want, &order, &err) == AB_OK && order == order_want,
                  "%s: %d rotations (want %d) %s", what, order, order_want, err.msg)) {
        free(c), free(R);
        return;
    }
    double norm_err = 0.0, min_sep = 1e300;
    for (int i = 0; i < n; i++) {
        norm_err = fmax(norm_err, fabs(dot3(c + 3 * i, c + 3 * i) - 1.0));
        for (int j = 0; j < i; j++) min_sep = fmin(min_sep, 1.0 - dot3(c + 3 * i, c + 3 * j));
    }
    ab_check(t, norm_err < TOL && min_sep > 0.9 * (1.0 - cos(2.0 * AB_PI / (n > 6 ? n : 6))),
             "%s: unit centres (%.1e), distinct (1 - max cos = %.3g)", what, norm_err, min_sep);
    static const double I[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    ab_check(t, mdiff(R, I) == 0.0, "%s: the identity comes first", what);
    double orth = 0.0, deterr = 0.0, perm = 0.0, clos = 0.0, sep = 1e300;
    int all_perm = 1, closed = 1;
    for (int g = 0; g < order; g++) {
        const double *A = R + 9 * g;
        double At[9], P[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) At[3 * i + j] = A[3 * j + i];
        mul(A, At, P);
        orth = fmax(orth, mdiff(P, I));
        deterr = fmax(deterr, fabs(det3(A) - 1.0));
        int p;
        perm = fmax(perm, perm_error(A, c, n, &p));
        all_perm &= p;
        for (int h = 0; h < order; h++) {
            mul(A, R + 9 * h, P);
            double best = 1e300;
            for (int f = 0; f < order; f++) best = fmin(best, mdiff(P, R + 9 * f));
            clos = fmax(clos, best);
            closed &= best < 1e-9;
            if (h < g) sep = fmin(sep, mdiff(A, R + 9 * h));
        }
    }
    ab_check(t, orth < TOL && deterr < TOL, "%s: R R^T = I (%.1e), det R = +1 (%.1e)", what, orth, deterr);
    ab_check(t, all_perm && perm < TOL, "%s: every rotation permutes the centres (distance %.1e)", what, perm);
    ab_check(t, closed && clos < TOL, "%s: closed under products (%.1e)", what, clos);
    ab_check(t, sep > 1e-6, "%s: the %d rotations are distinct (closest pair %.2e apart)", what, order, sep);
    int missing;
    int found = brute_force_symmetries(c, n, R, order, &missing);
    if (found >= 0)
        ab_check(t, found == order_want && missing == 0,
                 "%s: the symmetries found from pairs of centres (%d) are exactly the group (%d missing)", what, found,
                 missing);
    char sym[16];
    ab_check(t, ab_arrangement_symbol(name, k, sym, sizeof sym, &err) == AB_OK && strcmp(sym, symbol) == 0,
             "%s: symbol %s (want %s)", what, sym, symbol);
    free(c), free(R);
}

/* The specific geometry of each polyhedron: the inner products between centres. */
static void check_geometry(ab_tally *t)
{
    ab_error err = {0};
    double c[36];
    int n;
    ab_arrangement_centres("tetrahedron", 0, c, 12, &n, &err);
    double worst = 0.0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < i; j++) worst = fmax(worst, fabs(dot3(c + 3 * i, c + 3 * j) + 1.0 / 3.0));
    ab_check(t, worst < TOL, "tetrahedron: all angles arccos(-1/3) (%.1e)", worst);
    double want[4][3] = {{1, 1, 1}, {1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}};
    worst = 0.0;
    for (int i = 0; i < 4; i++)
        for (int r = 0; r < 3; r++) worst = fmax(worst, fabs(c[3 * i + r] - want[i][r] / sqrt(3.0)));
    ab_check(t, worst < TOL, "tetrahedron: the documented vertices in order (%.1e)", worst);
    ab_arrangement_centres("icosahedron", 0, c, 12, &n, &err);
    int five = 1;
    for (int i = 0; i < 12; i++) {
        int nb = 0, anti = 0;
        for (int j = 0; j < 12; j++) {
            double d = dot3(c + 3 * i, c + 3 * j);
            nb += fabs(d - 1.0 / sqrt(5.0)) < TOL;
            anti += fabs(d + 1.0) < TOL;
        }
        five &= nb == 5 && anti == 1;
    }
    ab_check(t, five, "icosahedron: each vertex has 5 neighbours at cos = 1/sqrt 5 and one antipode");
    ab_arrangement_centres("cube", 0, c, 12, &n, &err);
    int three = 1;
    for (int i = 0; i < 8; i++) {
        int nb = 0;
        for (int j = 0; j < 8; j++) nb += fabs(dot3(c + 3 * i, c + 3 * j) - 1.0 / 3.0) < TOL;
        three &= nb == 3;
    }
    ab_check(t, three, "cube: each vertex has 3 neighbours at cos = 1/3");
    ab_arrangement_centres("polygon", 5, c, 12, &n, &err);
    worst = 0.0;
    for (int j = 0; j < 5; j++)
        worst = fmax(worst, fabs(c[3 * j] - cos(2 * AB_PI * j / 5)) + fabs(c[3 * j + 1] - sin(2 * AB_PI * j / 5)) +
                                fabs(c[3 * j + 2]));
    ab_check(t, worst < TOL && c[0] == 1.0, "polygon k=5: on the equator at phi = 2 pi j / 5, the first at phi = 0 (%.1e)",
             worst);
}

static void check_bad_input(ab_tally *t)
{
    ab_error err = {0};
    double c[64], R[9 * 64];
    int n = -1;
    ab_check(t, ab_arrangement_centres("dodecahedron", 0, c, 64, &n, &err) == AB_EINVAL &&
                    strstr(err.msg, "dodecahedron") && strstr(err.msg, "polygon") && strstr(err.msg, "icosahedron"),
             "unknown name refused, message names it and lists the valid names: %s", err.msg);
    ab_check(t, ab_arrangement_rotations(NULL, 0, R, 64, &n, &err) == AB_EINVAL && strstr(err.msg, "tetrahedron"),
             "no name refused: %s", err.msg);
    ab_check(t, ab_arrangement_centres("polygon", 1, c, 64, &n, &err) == AB_EINVAL && strstr(err.msg, "k = 1"),
             "polygon k = 1 refused: %s", err.msg);
    ab_check(t, ab_arrangement_centres("polygon", 0, c, 64, &n, &err) == AB_EINVAL, "polygon without k refused: %s",
             err.msg);
    ab_check(t, ab_arrangement_centres("polygon", AB_ARRANGEMENT_POLYGON_MAX + 1, c, 64, &n, &err) == AB_EINVAL,
             "polygon k above the limit refused: %s", err.msg);
    ab_check(t, ab_arrangement_centres("cube", 6, c, 64, &n, &err) == AB_EINVAL && strstr(err.msg, "k = 6"),
             "cube with k = 6 refused: %s", err.msg);
    ab_check(t, ab_arrangement_centres("cube", 8, c, 64, &n, &err) == AB_OK && n == 8, "cube with k = 8 accepted");
    ab_check(t, ab_arrangement_rotations("icosahedron", 0, R, 59, &n, &err) == AB_EINVAL && n == 60,
             "room for 59 of 60 rotations refused, count reported: %s", err.msg);
    char small[3];
    ab_check(t, ab_arrangement_symbol("polygon", 12, small, sizeof small, &err) == AB_EINVAL,
             "symbol buffer too small refused: %s", err.msg);
}

int main(void)
{
    ab_tally t = {0};
    check_arrangement(&t, "tetrahedron", 0, 4, 12, "Td");
    check_arrangement(&t, "octahedron", 0, 6, 24, "Oh");
    check_arrangement(&t, "cube", 0, 8, 24, "Oh");
    check_arrangement(&t, "icosahedron", 0, 12, 60, "Ih");
    check_arrangement(&t, "icosahedron", 12, 12, 60, "Ih");
    const int ks[] = {2, 3, 4, 5, 6, 7, 12, 97};
    for (int i = 0; i < 8; i++) {
        char sym[16];
        snprintf(sym, sizeof sym, "D%dh", ks[i]);
        check_arrangement(&t, "polygon", ks[i], ks[i], 2 * ks[i], sym);
    }
    check_geometry(&t);
    check_bad_input(&t);
    return ab_finish(&t);
}
