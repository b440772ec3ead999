/* The point group of a weighted point set on S^2 and of a state on the sphere (docs/sphere.md,
 * "Symmetry of a state"): candidate maps from pairs of points, orthogonal Procrustes fit,
 * Schoenflies classification, and the check of every element on the density. */
#include "disc/pointgroup.h"

#include "disc/sphere.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_PI 3.14159265358979323846
/* The fractional part of the golden ratio: angles 2 pi j G (j = 1, 2, 3) are no rational
 * multiple of pi, so rotations by them generate a dense subgroup of the rotations about an
 * axis, and no finite symmetry of a density passes them by accident. */
#define PG_GOLDEN 0.61803398874989484820

static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static void cross3(const double *a, const double *b, double *c)
{
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}

static double norm3(const double *a) { return sqrt(dot3(a, a)); }

static void unit3(double *a)
{
    double n = norm3(a);
    if (n > 0.0) a[0] /= n, a[1] /= n, a[2] /= n;
}

/* The angle between unit vectors, accurate also near 0 and pi (unlike acos of the dot). */
static double angle3(const double *a, const double *b)
{
    double c[3];
    cross3(a, b, c);
    return atan2(norm3(c), dot3(a, b));
}

static void matvec3(const double *R, const double *x, double *y)
{
    for (int i = 0; i < 3; i++) y[i] = R[3 * i] * x[0] + R[3 * i + 1] * x[1] + R[3 * i + 2] * x[2];
}

static void matmul3(const double *A, const double *B, double *C)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) C[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
}

static double det3(const double *A)
{
    return A[0] * (A[4] * A[8] - A[5] * A[7]) - A[1] * (A[3] * A[8] - A[5] * A[6]) + A[2] * (A[3] * A[7] - A[4] * A[6]);
}

static double maxdiff9(const double *A, const double *B)
{
    double d = 0.0;
    for (int i = 0; i < 9; i++) d = fmax(d, fabs(A[i] - B[i]));
    return d;
}

static const double IDENTITY[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};

/* Rotation by t about the unit axis u (Rodrigues). */
static void axis_angle(const double *u, double t, double *R)
{
    double c = cos(t), s = sin(t), C = 1.0 - c;
    R[0] = c + u[0] * u[0] * C, R[1] = u[0] * u[1] * C - u[2] * s, R[2] = u[0] * u[2] * C + u[1] * s;
    R[3] = u[1] * u[0] * C + u[2] * s, R[4] = c + u[1] * u[1] * C, R[5] = u[1] * u[2] * C - u[0] * s;
    R[6] = u[2] * u[0] * C - u[1] * s, R[7] = u[2] * u[1] * C + u[0] * s, R[8] = c + u[2] * u[2] * C;
}

/* The reflection in the plane with unit normal n. */
static void mirror(const double *n, double *R)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) R[3 * i + j] = (i == j) - 2.0 * n[i] * n[j];
}

/* A unit vector perpendicular to the unit vector a. */
static void perpendicular(const double *a, double *p)
{
    double e[3] = {0, 0, 0};
    int k = fabs(a[0]) <= fabs(a[1]) ? (fabs(a[0]) <= fabs(a[2]) ? 0 : 2) : (fabs(a[1]) <= fabs(a[2]) ? 1 : 2);
    e[k] = 1.0;
    cross3(a, e, p);
    unit3(p);
}

/* The sample of an infinite group (pointgroup.h): C_inf_v or D_inf_h about the unit axis a,
 * or K_h (a ignored). */
static void infinite_group(ab_pointgroup *g, const char *symbol, const double *a)
{
    memset(g, 0, sizeof *g);
    snprintf(g->symbol, sizeof g->symbol, "%s", symbol);
    memcpy(g->R[g->n_elements++], IDENTITY, sizeof IDENTITY);
    if (strcmp(symbol, "K_h") == 0) {
        /* rotations about three independent axes by non-lattice angles, and the inversion */
        static const double axes[3][3] = {{1, 2, 3}, {-2, 1, 0.5}, {0.3, -1, 2}};
        for (int j = 0; j < 3; j++) {
            double u[3] = {axes[j][0], axes[j][1], axes[j][2]};
            unit3(u);
            axis_angle(u, 2.0 * PG_PI * fmod((j + 1) * PG_GOLDEN, 1.0), g->R[g->n_elements++]);
        }
        for (int i = 0; i < 9; i++) g->R[g->n_elements][i] = -IDENTITY[i];
        g->n_elements++;
        g->inversion = 1;
        return;
    }
    memcpy(g->axis, a, sizeof g->axis);
    for (int j = 1; j <= 3; j++) axis_angle(a, 2.0 * PG_PI * fmod(j * PG_GOLDEN, 1.0), g->R[g->n_elements++]);
    double p[3], q[3], n2[3], R[9];
    perpendicular(a, p);
    mirror(p, g->R[g->n_elements++]);
    axis_angle(a, 2.0 * PG_PI * fmod(4 * PG_GOLDEN, 1.0), R);
    matvec3(R, p, n2);
    mirror(n2, g->R[g->n_elements++]);
    if (strcmp(symbol, "D_inf_h") == 0) {
        g->inversion = 1;
        for (int i = 0; i < 9; i++) g->R[g->n_elements][i] = -IDENTITY[i];
        g->n_elements++;
        mirror(a, g->R[g->n_elements++]);
        cross3(a, p, q);
        axis_angle(q, PG_PI, g->R[g->n_elements++]); /* a half-turn perpendicular to the axis */
    }
}

/* The orthonormal frame (columns) of the pair (a, b): a, the part of b perpendicular to a,
 * their cross product. */
static void frame(const double *a, const double *b, double *F)
{
    double e2[3], e3[3], ab = dot3(a, b);
    for (int i = 0; i < 3; i++) e2[i] = b[i] - ab * a[i];
    unit3(e2);
    cross3(a, e2, e3);
    for (int i = 0; i < 3; i++) F[3 * i] = a[i], F[3 * i + 1] = e2[i], F[3 * i + 2] = e3[i];
}

/* The orthogonal Q of determinant s minimising sum |Q x_i - y_i|^2 (Kabsch): from the SVD of
 * M = sum y_i x_i^T, Q = U diag(1, 1, d) V^T with d making det Q = s. Also right for points on
 * one great circle (M of rank 2: the third singular pair is the normal, its sign set by d). */
static int procrustes(const double *x, const double *y, const int *perm, int n, int s, double *Q)
{
    double M[9] = {0}, S[3], U[9], VT[9], superb[2];
    for (int i = 0; i < n; i++)
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++) M[3 * r + c] += y[3 * perm[i] + r] * x[3 * i + c];
    if (LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'A', 'A', 3, 3, M, 3, S, U, 3, VT, 3, superb) != 0) return -1;
    double d = s * (det3(U) * det3(VT) < 0.0 ? -1.0 : 1.0);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) Q[3 * r + c] = U[3 * r] * VT[c] + U[3 * r + 1] * VT[3 + c] + d * U[3 * r + 2] * VT[6 + c];
    return 0;
}

static int same_mass(double a, double b, double tol) { return fabs(a - b) <= tol * fmax(a, b); }

/* ---- classification ---- */

/* The axis of a proper rotation R != I by t (unit, sign arbitrary): from the antisymmetric
 * part 2 sin(t) u, or where that is small (t near pi; t near 0 is no element of a group of
 * at most AB_POINTGROUP_MAX_ORDER elements) from the symmetric part,
 * (R + R^T)/2 = cos(t) I + (1 - cos t) u u^T. */
static void rotation_axis(const double *R, double *u)
{
    double w[3] = {R[7] - R[5], R[2] - R[6], R[3] - R[1]};
    if (norm3(w) >= 1e-3) {
        memcpy(u, w, sizeof w);
        unit3(u);
        return;
    }
    const double c = 0.5 * (R[0] + R[4] + R[8] - 1.0);
    double S[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) S[3 * i + j] = (0.5 * (R[3 * i + j] + R[3 * j + i]) - c * (i == j)) / (1.0 - c);
    int k = 0;
    for (int i = 1; i < 3; i++)
        if (S[4 * i] > S[4 * k]) k = i;
    for (int i = 0; i < 3; i++) u[i] = S[3 * i + k];
    unit3(u);
}

static int parallel(const double *a, const double *b) { return fabs(dot3(a, b)) >= 1.0 - AB_POINTGROUP_CLASSIFY_TOL; }
static int orthogonal(const double *a, const double *b) { return fabs(dot3(a, b)) <= AB_POINTGROUP_CLASSIFY_TOL; }

ab_status ab_pointgroup_classify(const double *R, int n, ab_pointgroup *out, ab_error *err)
{
    if (!R || !out || n < 1 || n > AB_POINTGROUP_MAX_ORDER)
        return ab_error_set(err, AB_EINVAL, "point group: %d elements (1 to %d, with a matrix array)", n,
                            AB_POINTGROUP_MAX_ORDER);
    ab_pointgroup g;
    memset(&g, 0, sizeof g);
    int id = -1;
    for (int e = 0; e < n && id < 0; e++)
        if (maxdiff9(R + 9 * e, IDENTITY) <= AB_POINTGROUP_CLASSIFY_TOL) id = e;
    if (id < 0) return ab_error_set(err, AB_EINVAL, "point group: no identity among the %d elements", n);
    memcpy(g.R[0], R + 9 * id, 9 * sizeof(double));
    g.n_elements = 1;
    for (int e = 0; e < n; e++)
        if (e != id) memcpy(g.R[g.n_elements++], R + 9 * e, 9 * sizeof(double));
    g.order = n;

    double axes[AB_POINTGROUP_MAX_ORDER][3], normals[AB_POINTGROUP_MAX_ORDER][3];
    int axis_count[AB_POINTGROUP_MAX_ORDER], naxes = 0;
    for (int e = 0; e < n; e++) {
        const double *Q = g.R[e];
        double d = det3(Q), tr = Q[0] + Q[4] + Q[8];
        if (fabs(fabs(d) - 1.0) > AB_POINTGROUP_CLASSIFY_TOL)
            return ab_error_set(err, AB_EINVAL, "point group: element %d has determinant %g (not orthogonal)", e, d);
        if (d > 0.0) {
            g.n_rotations++;
            if (e == 0) continue;
            double u[3];
            rotation_axis(Q, u);
            int a = 0;
            while (a < naxes && !parallel(axes[a], u)) a++;
            if (a == naxes) memcpy(axes[naxes], u, sizeof u), axis_count[naxes++] = 0;
            axis_count[a]++;
        } else if (tr <= -3.0 + AB_POINTGROUP_CLASSIFY_TOL) {
            g.inversion = 1;
        } else if (fabs(tr - 1.0) <= AB_POINTGROUP_CLASSIFY_TOL) {
            double m[9];
            for (int i = 0; i < 9; i++) m[i] = -Q[i]; /* a half-turn about the normal */
            rotation_axis(m, normals[g.n_mirrors++]);
        }
    }
    const int Np = g.n_rotations, improper = n > Np;
    if (improper && n != 2 * Np)
        return ab_error_set(err, AB_EINVAL, "point group: %d proper of %d elements (a group has half or all)", Np, n);
    int top = 0, nhigh = 0;
    for (int a = 0; a < naxes; a++) {
        nhigh += axis_count[a] + 1 >= 3;
        if (axis_count[a] > axis_count[top]) top = a;
    }
    /* among the axes of the highest order, the one in the most mirror planes */
    int best_in = -1;
    for (int a = 0; a < naxes; a++) {
        if (axis_count[a] != axis_count[top]) continue;
        int in = 0;
        for (int m = 0; m < g.n_mirrors; m++) in += orthogonal(normals[m], axes[a]);
        if (in > best_in) best_in = in, top = a;
    }
    const int k = naxes ? axis_count[top] + 1 : 1; /* order of the principal axis */
    if (naxes) memcpy(g.axis, axes[top], sizeof g.axis), g.axis_order = k;
    /* the improper elements: a mirror perpendicular to an axis of the principal order
     * (sigma_h), a mirror containing the principal axis (sigma_v / sigma_d) */
    int sigma_h = 0, sigma_v = 0;
    for (int m = 0; m < g.n_mirrors; m++) {
        for (int a = 0; a < naxes; a++)
            if (axis_count[a] + 1 == k && parallel(normals[m], axes[a])) sigma_h = 1;
        if (naxes && orthogonal(normals[m], axes[top])) sigma_v = 1;
    }
    const char *bad = NULL;
    if (nhigh >= 2) {
        const char *base = Np == 12 ? "T" : Np == 24 ? "O" : Np == 60 ? "I" : NULL;
        if (!base) bad = "several axes of order >= 3 but not 12, 24 or 60 rotations";
        else if (!improper) snprintf(g.symbol, sizeof g.symbol, "%s", base);
        else if (Np == 12) snprintf(g.symbol, sizeof g.symbol, g.inversion ? "T_h" : "T_d");
        else if (g.inversion) snprintf(g.symbol, sizeof g.symbol, "%s_h", base);
        else bad = "an O or I group with improper elements but no inversion";
    } else if (Np == 1) {
        if (!improper) snprintf(g.symbol, sizeof g.symbol, "C_1");
        else if (g.inversion) snprintf(g.symbol, sizeof g.symbol, "C_i");
        else if (g.n_mirrors == 1) {
            snprintf(g.symbol, sizeof g.symbol, "C_s");
            memcpy(g.axis, normals[0], sizeof g.axis), g.axis_order = 1;
        } else bad = "two elements, the second neither inversion nor mirror";
    } else if (naxes == 1) {
        if (k != Np) bad = "one axis whose order is not the number of rotations";
        else if (!improper) snprintf(g.symbol, sizeof g.symbol, "C_%d", k);
        else if (sigma_h) snprintf(g.symbol, sizeof g.symbol, "C_%dh", k);
        else if (sigma_v) snprintf(g.symbol, sizeof g.symbol, "C_%dv", k);
        else snprintf(g.symbol, sizeof g.symbol, "S_%d", 2 * k);
    } else {
        if (2 * k != Np) bad = "several axes but the rotations are no dihedral group";
        else if (!improper) snprintf(g.symbol, sizeof g.symbol, "D_%d", k);
        else snprintf(g.symbol, sizeof g.symbol, sigma_h ? "D_%dh" : "D_%dd", k);
    }
    if (bad) return ab_error_set(err, AB_EINVAL, "point group: %d elements, %s", n, bad);
    *out = g;
    return AB_OK;
}

/* ---- the group of a point set ---- */

ab_status ab_pointgroup_points(const double *x, const double *mass, int n, const ab_pointgroup_opts *opts,
                               ab_pointgroup *out, ab_error *err)
{
    if (!out) return ab_error_set(err, AB_EINVAL, "point group: no output");
    if (n < 0 || n > AB_POINTGROUP_MAX_POINTS || (n > 0 && !x))
        return ab_error_set(err, AB_EINVAL, "point group: %d points (0 to %d, with an array)", n, AB_POINTGROUP_MAX_POINTS);
    const double atol = opts && opts->angle > 0.0 ? opts->angle : AB_POINTGROUP_ANGLE_TOL;
    const double mtol = opts && opts->mass > 0.0 ? opts->mass : AB_POINTGROUP_MASS_TOL;
    if (n == 0) {
        infinite_group(out, "K_h", NULL);
        return AB_OK;
    }
    double P[AB_POINTGROUP_MAX_POINTS * 3], m[AB_POINTGROUP_MAX_POINTS];
    for (int i = 0; i < n; i++) {
        double len = norm3(x + 3 * i);
        if (!isfinite(len) || fabs(len - 1.0) > 1e-8)
            return ab_error_set(err, AB_EINVAL, "point group: point %d has length %.17g, not 1", i, len);
        for (int c = 0; c < 3; c++) P[3 * i + c] = x[3 * i + c] / len;
        m[i] = mass ? mass[i] : 1.0;
        if (!isfinite(m[i]) || !(m[i] > 0.0))
            return ab_error_set(err, AB_EINVAL, "point group: point %d has mass %g (must be positive)", i, m[i]);
    }
    double min_sep = PG_PI;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double t = angle3(P + 3 * i, P + 3 * j);
            if (t < AB_POINTGROUP_MIN_SEPARATION_FACTOR * atol)
                return ab_error_set(err, AB_EINVAL, "point group: points %d and %d are %.3g rad apart: one point given twice",
                                    i, j, t);
            min_sep = fmin(min_sep, t);
        }
    /* all points on one line: one point, or two antipodal ones (distinct points) */
    int b = 0;
    double sab = 0.0;
    for (int i = 1; i < n; i++) {
        double c[3];
        cross3(P, P + 3 * i, c);
        if (norm3(c) > sab) sab = norm3(c), b = i;
    }
    if (sab <= sin(atol)) {
        if (n == 1) infinite_group(out, "C_inf_v", P);
        else if (same_mass(m[0], m[1], mtol)) infinite_group(out, "D_inf_h", P);
        else infinite_group(out, "C_inf_v", m[0] >= m[1] ? P : P + 3);
        if (n == 2) out->residual = PG_PI - angle3(P, P + 3);
        return AB_OK;
    }
    /* Every symmetry maps the pair (0, b) to a pair of equal masses and equal angle; with the
     * image of the pair and the sign of the determinant the map is fixed. */
    const double tab = angle3(P, P + 3 * b);
    const double match_tol = fmin(AB_POINTGROUP_MATCH_FACTOR * atol / sab, 0.25 * min_sep);
    double E[9], F[9];
    frame(P, P + 3 * b, E);
    int *perms = malloc(sizeof(int) * AB_POINTGROUP_MAX_ORDER * (size_t)n);
    int dets[AB_POINTGROUP_MAX_ORDER];
    if (!perms) return ab_error_set(err, AB_ENOMEM, "point group: out of memory");
    ab_pointgroup g;
    memset(&g, 0, sizeof g);
    int count = 0;
    ab_status st = AB_OK;
    for (int a1 = 0; a1 < n && st == AB_OK; a1++) {
        if (!same_mass(m[a1], m[0], mtol)) continue;
        for (int b1 = 0; b1 < n && st == AB_OK; b1++) {
            if (b1 == a1 || !same_mass(m[b1], m[b], mtol) || fabs(angle3(P + 3 * a1, P + 3 * b1) - tab) > 2.0 * atol)
                continue;
            frame(P + 3 * a1, P + 3 * b1, F);
            for (int s = 1; s >= -1 && st == AB_OK; s -= 2) {
                double Q[9];
                for (int r = 0; r < 3; r++)
                    for (int c = 0; c < 3; c++)
                        Q[3 * r + c] = F[3 * r] * E[3 * c] + F[3 * r + 1] * E[3 * c + 1] + s * F[3 * r + 2] * E[3 * c + 2];
                int perm[AB_POINTGROUP_MAX_POINTS], used[AB_POINTGROUP_MAX_POINTS] = {0}, ok = 1;
                for (int i = 0; i < n && ok; i++) {
                    double y[3], best = match_tol;
                    int jbest = -1;
                    matvec3(Q, P + 3 * i, y);
                    for (int j = 0; j < n; j++) {
                        double t = angle3(y, P + 3 * j);
                        if (t <= best && same_mass(m[i], m[j], mtol)) best = t, jbest = j;
                    }
                    ok = jbest >= 0 && !used[jbest];
                    if (ok) perm[i] = jbest, used[jbest] = 1;
                }
                if (!ok) continue;
                if (procrustes(P, P, perm, n, s, Q) != 0) {
                    st = ab_error_set(err, AB_EINVAL, "point group: the SVD of a 3 x 3 matrix failed");
                    break;
                }
                double res = 0.0;
                for (int i = 0; i < n; i++) {
                    double y[3];
                    matvec3(Q, P + 3 * i, y);
                    res = fmax(res, angle3(y, P + 3 * perm[i]));
                }
                if (res > atol) continue;
                /* the permutation and the determinant determine the element: on points not all
                 * on a great circle the permutation alone, on a great circle the two elements
                 * with the same permutation differ by the mirror in its plane */
                int dup = 0;
                for (int e = 0; e < count && !dup; e++)
                    dup = dets[e] == s && memcmp(perms + (size_t)e * n, perm, sizeof(int) * n) == 0;
                if (dup) continue;
                if (count == AB_POINTGROUP_MAX_ORDER) {
                    st = ab_error_set(err, AB_EINVAL, "point group: more than %d elements (internal error)",
                                      AB_POINTGROUP_MAX_ORDER);
                    break;
                }
                memcpy(perms + (size_t)count * n, perm, sizeof(int) * n);
                dets[count] = s;
                memcpy(g.R[count], Q, sizeof Q);
                g.residual = fmax(g.residual, res);
                count++;
            }
        }
    }
    free(perms);
    if (st != AB_OK) return st;
    double residual = g.residual;
    st = ab_pointgroup_classify(&g.R[0][0], count, out, err);
    if (st == AB_OK) out->residual = residual;
    return st;
}

/* ---- description ---- */

void ab_pointgroup_describe(const ab_pointgroup *g, const double *x, int n, char *buf, size_t cap)
{
    if (!buf || cap == 0) return;
    const char *s = g->symbol;
    if (n == 0) {
        if (strcmp(s, "K_h") == 0) snprintf(buf, cap, "uniform");
        else snprintf(buf, cap, "no clusters, %s", s);
        return;
    }
    if (n == 1) {
        if (strcmp(s, "C_inf_v") == 0) snprintf(buf, cap, "1 cluster");
        else snprintf(buf, cap, "1 cluster, %s", s);
        return;
    }
    if (n == 2 && angle3(x, x + 3) >= PG_PI - 1e-3) {
        if (strcmp(s, "D_inf_h") == 0) snprintf(buf, cap, "2 clusters, antipodal");
        else snprintf(buf, cap, "2 clusters, antipodal, %s", s);
        return;
    }
    static const struct {
        const char *symbol;
        int n;
        const char *name;
    } SOLIDS[] = {{"T_d", 4, "tetrahedron"}, {"O_h", 6, "octahedron"}, {"O_h", 8, "cube"},
                  {"I_h", 12, "icosahedron"}, {"I_h", 20, "dodecahedron"}};
    for (size_t i = 0; i < sizeof SOLIDS / sizeof SOLIDS[0]; i++)
        if (SOLIDS[i].n == n && strcmp(SOLIDS[i].symbol, s) == 0) {
            snprintf(buf, cap, "%d clusters, %s", n, SOLIDS[i].name);
            return;
        }
    /* a regular k-gon on the great circle perpendicular to the principal axis: D_kh, k = n */
    char dkh[16];
    snprintf(dkh, sizeof dkh, "D_%dh", n);
    int planar = n >= 3 && strcmp(s, dkh) == 0;
    for (int i = 0; i < n && planar; i++) planar = fabs(dot3(x + 3 * i, g->axis)) <= 1e-3;
    if (planar) {
        if (n == 3) snprintf(buf, cap, "3 clusters, triangle (great circle)");
        else snprintf(buf, cap, "%d clusters, polygon", n);
        return;
    }
    snprintf(buf, cap, "%d clusters, %s", n, s);
}

/* ---- the check on the density ---- */

typedef struct {
    ab_disc *disc;
    const double *u;
    size_t np;
    const double *X; /* grid points */
    double *rho0;    /* rho at the grid points */
    double *y, *rho; /* rotated points, rho there */
    double scale;    /* max rho */
} density_check;

static ab_status check_open(density_check *c, ab_disc *disc, const double *u, ab_error *err)
{
    memset(c, 0, sizeof *c);
    if (!disc || !u || !ab_sphere_is(disc))
        return ab_error_set(err, AB_EINVAL, "point group: the density check needs a state of the sphere discretisation");
    int nlat, nlon;
    const double *w;
    ab_sphere_grid(disc, &nlat, &nlon, &c->X, &w);
    c->disc = disc, c->u = u, c->np = (size_t)nlat * (size_t)nlon;
    c->rho0 = malloc(sizeof(double) * c->np);
    c->rho = malloc(sizeof(double) * c->np);
    c->y = malloc(sizeof(double) * 3 * c->np);
    if (!c->rho0 || !c->rho || !c->y) return ab_error_set(err, AB_ENOMEM, "point group: out of memory (%zu points)", c->np);
    ab_status st = ab_sphere_density(disc, u, c->np, c->X, c->rho0, err);
    if (st != AB_OK) return st;
    for (size_t p = 0; p < c->np; p++) c->scale = fmax(c->scale, c->rho0[p]);
    if (!(c->scale > 0.0) || !isfinite(c->scale))
        return ab_error_set(err, AB_ENAN, "point group: the density's maximum is %g", c->scale);
    return AB_OK;
}

static void check_close(density_check *c)
{
    free(c->rho0), free(c->rho), free(c->y);
    memset(c, 0, sizeof *c);
}

/* max_p |rho(R^-1 x_p) - rho(x_p)| / max rho; R^-1 = R^T. */
static ab_status check_element(density_check *c, const double *R, double *residual, ab_error *err)
{
    for (size_t p = 0; p < c->np; p++) {
        const double *x = c->X + 3 * p;
        for (int i = 0; i < 3; i++) c->y[3 * p + i] = R[i] * x[0] + R[3 + i] * x[1] + R[6 + i] * x[2];
        unit3(c->y + 3 * p);
    }
    ab_status st = ab_sphere_density(c->disc, c->u, c->np, c->y, c->rho, err);
    if (st != AB_OK) return st;
    double r = 0.0;
    for (size_t p = 0; p < c->np; p++) r = fmax(r, fabs(c->rho[p] - c->rho0[p]));
    *residual = r / c->scale;
    return AB_OK;
}

ab_status ab_pointgroup_density_residual(ab_disc *disc, const double *u, const double *R, double *residual, ab_error *err)
{
    density_check c;
    ab_status st = check_open(&c, disc, u, err);
    if (st == AB_OK) st = check_element(&c, R, residual, err);
    check_close(&c);
    return st;
}

/* The largest residual over the elements of g (all of them, or the sample). */
static ab_status check_group(density_check *c, const ab_pointgroup *g, double *worst, ab_error *err)
{
    *worst = 0.0;
    for (int e = 1; e < g->n_elements; e++) {
        double r;
        ab_status st = check_element(c, g->R[e], &r, err);
        if (st != AB_OK) return st;
        *worst = fmax(*worst, r);
    }
    return AB_OK;
}

/* The index of the element of g equal to R, or -1. */
static int find_element(const ab_pointgroup *g, const double *R)
{
    for (int e = 0; e < g->n_elements; e++)
        if (maxdiff9(g->R[e], R) <= 1e3 * AB_POINTGROUP_CLASSIFY_TOL) return e;
    return -1;
}

/* The subgroup of g generated by gens[0..ng): in[] marks its elements (the closure of the
 * identity under right multiplication by the generators, which in a finite group is the
 * generated subgroup). Returns its order, or 0 if a product is not an element of g. */
static int generate(const ab_pointgroup *g, const int *gens, int ng, int *in)
{
    int list[AB_POINTGROUP_MAX_ORDER], n = 0;
    memset(in, 0, sizeof(int) * (size_t)g->n_elements);
    in[0] = 1, list[n++] = 0;
    for (int k = 0; k < n; k++)
        for (int j = 0; j < ng; j++) {
            double P[9];
            matmul3(g->R[list[k]], g->R[gens[j]], P);
            int e = find_element(g, P);
            if (e < 0) return 0;
            if (!in[e]) in[e] = 1, list[n++] = e;
        }
    return n;
}

/* A set of generators of the finite group g, chosen greedily (each element not yet generated
 * joins): at most log2 of the order, in practice two or three. Returns how many. */
static int generators(const ab_pointgroup *g, int *gens)
{
    int in[AB_POINTGROUP_MAX_ORDER], ng = 0, n = generate(g, NULL, 0, in);
    for (int e = 1; e < g->n_elements && n < g->n_elements; e++) {
        if (in[e]) continue;
        gens[ng++] = e;
        n = generate(g, gens, ng, in);
        if (n == 0) return -1;
    }
    return ng;
}

typedef struct {
    double r;
    int e;
} ranked;

static int by_residual(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->r != y->r) return x->r < y->r ? -1 : 1;
    return (x->e > y->e) - (x->e < y->e);
}

/* A finite cluster group whose elements do not all pass: a maximal subgroup of passing
 * elements, grown greedily from the identity by the passing elements in order of residual
 * (each added with the closure it brings, kept when every element of that closure passes). */
static ab_status passing_subgroup(const ab_pointgroup *g, const double *res, double dtol, ab_pointgroup *out,
                                  double *worst, ab_error *err)
{
    int n = g->n_elements, in[AB_POINTGROUP_MAX_ORDER], trial[AB_POINTGROUP_MAX_ORDER];
    int gens[AB_POINTGROUP_MAX_ORDER] = {0}, ng = 0;
    ranked order[AB_POINTGROUP_MAX_ORDER];
    for (int e = 0; e < n; e++) order[e].r = res[e], order[e].e = e;
    qsort(order, (size_t)n, sizeof order[0], by_residual);
    generate(g, NULL, 0, in);
    for (int k = 0; k < n; k++) {
        int e = order[k].e;
        if (in[e] || res[e] > dtol) continue;
        gens[ng] = e;
        if (!generate(g, gens, ng + 1, trial)) continue;
        int ok = 1;
        for (int f = 0; f < n && ok; f++) ok = !trial[f] || res[f] <= dtol;
        if (ok) memcpy(in, trial, sizeof(int) * (size_t)n), ng++;
    }
    double R[AB_POINTGROUP_MAX_ORDER * 9];
    int m = 0;
    *worst = 0.0;
    for (int e = 0; e < n; e++)
        if (in[e]) memcpy(R + 9 * m++, g->R[e], 9 * sizeof(double)), *worst = fmax(*worst, res[e]);
    return ab_pointgroup_classify(R, m, out, err);
}

/* An axis about which the density might be symmetric when there are no clusters to say:
 * the first moment and the eigenvectors of the second moment of rho. */
static int moment_axes(const density_check *c, double axes[4][3])
{
    int nlat, nlon;
    const double *X, *w;
    ab_sphere_grid(c->disc, &nlat, &nlon, &X, &w);
    double m1[3] = {0}, Q[9] = {0}, ev[3];
    for (size_t p = 0; p < c->np; p++)
        for (int i = 0; i < 3; i++) {
            m1[i] += w[p] * c->rho0[p] * X[3 * p + i];
            for (int j = 0; j < 3; j++) Q[3 * i + j] += w[p] * c->rho0[p] * X[3 * p + i] * X[3 * p + j];
        }
    int n = 0;
    if (norm3(m1) > 0.0) memcpy(axes[n], m1, sizeof m1), unit3(axes[n++]);
    if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', 3, Q, 3, ev) == 0)
        for (int k = 0; k < 3; k++) axes[n][0] = Q[k], axes[n][1] = Q[3 + k], axes[n][2] = Q[6 + k], n++;
    return n;
}

/* A 1- or 2-cluster state (or one without clusters) whose density fails the infinite group:
 * the axisymmetric groups about the candidate axes, else the largest C_k (k <= AB_POINTGROUP_AXIAL_KMAX)
 * about the first axis, else C_1. */
static ab_status infinite_fallback(density_check *c, const double axes[][3], int naxes, double dtol, ab_pointgroup *out,
                                   double *worst, ab_error *err)
{
    ab_pointgroup t;
    ab_status st;
    for (int a = 0; a < naxes; a++)
        for (int d = 0; d < 2; d++) {
            infinite_group(&t, d ? "C_inf_v" : "D_inf_h", axes[a]);
            if ((st = check_group(c, &t, worst, err)) != AB_OK) return st;
            if (*worst <= dtol) {
                *out = t;
                return AB_OK;
            }
        }
    for (int k = naxes ? AB_POINTGROUP_AXIAL_KMAX : 1; k >= 2; k--) {
        double R[9];
        axis_angle(axes[0], 2.0 * PG_PI / k, R);
        double r;
        if ((st = check_element(c, R, &r, err)) != AB_OK) return st;
        if (r > dtol) continue;
        double E[AB_POINTGROUP_AXIAL_KMAX * 9];
        *worst = 0.0;
        for (int j = 0; j < k; j++) {
            axis_angle(axes[0], 2.0 * PG_PI * j / k, E + 9 * j);
            if (j && (st = check_element(c, E + 9 * j, &r, err)) != AB_OK) return st;
            *worst = fmax(*worst, j ? r : 0.0);
        }
        return ab_pointgroup_classify(E, k, out, err);
    }
    *worst = 0.0;
    return ab_pointgroup_classify(IDENTITY, 1, out, err);
}

ab_status ab_pointgroup_state_of(ab_disc *disc, const double *u, const ab_cluster *cl, int n, const ab_pointgroup_opts *opts,
                                 ab_pointgroup_state *out, ab_error *err)
{
    if (!out || n < 0 || (n > 0 && !cl)) return ab_error_set(err, AB_EINVAL, "point group: %d clusters without an array", n);
    if (n > AB_POINTGROUP_MAX_POINTS)
        return ab_error_set(err, AB_EINVAL, "point group: %d clusters (at most %d)", n, AB_POINTGROUP_MAX_POINTS);
    memset(out, 0, sizeof *out);
    const double dtol = opts && opts->density > 0.0 ? opts->density : AB_POINTGROUP_DENSITY_TOL;
    double x[3 * AB_POINTGROUP_MAX_POINTS], m[AB_POINTGROUP_MAX_POINTS];
    for (int i = 0; i < n; i++) {
        memcpy(x + 3 * i, cl[i].centre, 3 * sizeof(double));
        m[i] = cl[i].mass;
    }
    ab_status st = ab_pointgroup_points(x, m, n, opts, &out->clusters, err);
    if (st != AB_OK) return st;
    density_check c;
    if ((st = check_open(&c, disc, u, err)) != AB_OK) {
        check_close(&c);
        return st;
    }
    const ab_pointgroup *g = &out->clusters;
    double res[AB_POINTGROUP_MAX_ORDER];
    int check[AB_POINTGROUP_MAX_ORDER] = {0}, nc = 0;
    /* a finite group: its generators first (cheap: the check costs O(L^4) per element), every
     * element when asked or when a generator fails; an infinite group: its whole sample */
    if (g->order > 0 && !(opts && opts->every_element)) nc = generators(g, check);
    if (nc < 0) st = ab_error_set(err, AB_EINVAL, "point group: a product of elements is no element (internal error)");
    if (nc <= 0 && st == AB_OK)
        for (int e = 1; e < g->n_elements; e++) check[nc++] = e;
    for (int e = 0; e < g->n_elements; e++) res[e] = e ? INFINITY : 0.0;
    out->worst_residual = 0.0;
    for (int k = 0; k < nc && st == AB_OK; k++) {
        st = check_element(&c, g->R[check[k]], &res[check[k]], err);
        out->worst_residual = fmax(out->worst_residual, res[check[k]]);
    }
    out->n_checked = nc;
    if (st == AB_OK && out->worst_residual > dtol && g->order > 0 && nc < g->n_elements - 1) {
        /* a generator fails: every element, for the largest subgroup that passes */
        for (int e = 1; e < g->n_elements && st == AB_OK; e++)
            if (!isfinite(res[e])) st = check_element(&c, g->R[e], &res[e], err), out->n_checked++;
        for (int e = 1; e < g->n_elements; e++) out->worst_residual = fmax(out->worst_residual, res[e]);
    }
    if (st == AB_OK) {
        if (out->worst_residual <= dtol) {
            out->group = *g;
            out->verified = 1;
            out->density_residual = out->worst_residual;
        } else if (g->order > 0) {
            st = passing_subgroup(g, res, dtol, &out->group, &out->density_residual, err);
        } else {
            double axes[4][3];
            int naxes = 0;
            if (n == 0) naxes = moment_axes(&c, axes);
            else memcpy(axes[0], g->axis, sizeof axes[0]), naxes = 1;
            st = infinite_fallback(&c, axes, naxes, dtol, &out->group, &out->density_residual, err);
        }
    }
    check_close(&c);
    if (st != AB_OK) return st;
    ab_pointgroup_describe(&out->group, x, n, out->description, sizeof out->description);
    return AB_OK;
}
