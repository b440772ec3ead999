/* Subgroups of O(3), their action on spherical harmonics and the branching-lemma search
 * (docs/symmetry.md): element lists written out, D(g) by quadrature of rotated harmonics,
 * fixed spaces from the averaged projector, isotropy by containment among conjugates. */
#include "disc/symmetry.h"

#include "disc/sht.h"

#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYM_PI 3.14159265358979323846

enum {
    K_C, K_CV, K_CH, K_S, K_D, K_DH, K_DD,                  /* axial, principal order k */
    K_T, K_TD, K_TH, K_O, K_OH, K_I, K_IH,                  /* polyhedral */
    K_CINF, K_CINFV, K_CINFH, K_DINF, K_DINFH               /* continuous axial */
};

static const double ID3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};

/* ---------------------------------------------------------------- small 3 x 3 helpers */

static void mul3(const double *A, const double *B, double *C)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) C[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
}

static void transpose3(const double *A, double *T)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) T[3 * j + i] = A[3 * i + j];
}

/* Q A Q^T */
static void conj3(const double *Q, const double *A, double *out)
{
    double T[9], Qt[9];
    transpose3(Q, Qt);
    mul3(Q, A, T);
    mul3(T, Qt, out);
}

static double det3(const double *A)
{
    return A[0] * (A[4] * A[8] - A[5] * A[7]) - A[1] * (A[3] * A[8] - A[5] * A[6]) + A[2] * (A[3] * A[7] - A[4] * A[6]);
}

static int same3(const double *A, const double *B)
{
    for (int i = 0; i < 9; i++)
        if (!(fabs(A[i] - B[i]) <= AB_GROUP_MATRIX_TOL)) return 0;
    return 1;
}

static int is_orthogonal(const double *A)
{
    double At[9], P[9];
    transpose3(A, At);
    mul3(A, At, P);
    return same3(P, ID3);
}

static void cross3(const double *a, const double *b, double *c)
{
    c[0] = a[1] * b[2] - a[2] * b[1], c[1] = a[2] * b[0] - a[0] * b[2], c[2] = a[0] * b[1] - a[1] * b[0];
}

static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static int normalise3(double *a)
{
    double n = sqrt(dot3(a, a));
    if (!(n > 1e-6)) return 0;
    a[0] /= n, a[1] /= n, a[2] /= n;
    return 1;
}

/* The rotation by angle t about the unit axis u (Rodrigues). */
static void axis_angle(const double *u, double t, double *R)
{
    double c = cos(t), s = sin(t), C = 1.0 - c;
    R[0] = c + u[0] * u[0] * C, R[1] = u[0] * u[1] * C - u[2] * s, R[2] = u[0] * u[2] * C + u[1] * s;
    R[3] = u[1] * u[0] * C + u[2] * s, R[4] = c + u[1] * u[1] * C, R[5] = u[1] * u[2] * C - u[0] * s;
    R[6] = u[2] * u[0] * C - u[1] * s, R[7] = u[2] * u[1] * C + u[0] * s, R[8] = c + u[2] * u[2] * C;
}

/* The axis of the proper part (m or -m) of an element, 0 if it has none (+-I). */
static int axis_of(const double *m, double *axis)
{
    double p[9];
    double s = det3(m) > 0 ? 1.0 : -1.0;
    for (int i = 0; i < 9; i++) p[i] = s * m[i];
    if (same3(p, ID3)) return 0;
    axis[0] = p[7] - p[5], axis[1] = p[2] - p[6], axis[2] = p[3] - p[1];
    if (normalise3(axis)) return 1;
    /* a half-turn: p + I = 2 u u^T, so any nonzero column is along u */
    double bn = -1.0;
    for (int j = 0; j < 3; j++) {
        double c[3] = {p[j] + (j == 0), p[3 + j] + (j == 1), p[6 + j] + (j == 2)};
        double n = dot3(c, c);
        if (n > bn) bn = n, axis[0] = c[0], axis[1] = c[1], axis[2] = c[2];
    }
    return normalise3(axis);
}

/* ---------------------------------------------------------------- element lists */

static void rz(double t, double *R)
{
    double c = cos(t), s = sin(t);
    double M[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
    memcpy(R, M, sizeof M);
}
/* half-turn about (cos a, sin a, 0): phi -> 2a - phi, z -> -z */
static void c2(double a, double *R)
{
    double c = cos(2 * a), s = sin(2 * a);
    double M[9] = {c, s, 0, s, -c, 0, 0, 0, -1};
    memcpy(R, M, sizeof M);
}
/* the mirror in the vertical plane through (cos a, sin a, 0): phi -> 2a - phi */
static void sigv(double a, double *R)
{
    double c = cos(2 * a), s = sin(2 * a);
    double M[9] = {c, s, 0, s, -c, 0, 0, 0, 1};
    memcpy(R, M, sizeof M);
}
/* the mirror z -> -z after the rotation by t about z */
static void sigh_rz(double t, double *R)
{
    double c = cos(t), s = sin(t);
    double M[9] = {c, -s, 0, s, c, 0, 0, 0, -1};
    memcpy(R, M, sizeof M);
}

static int axial_order(int kind, int k)
{
    switch (kind) {
    case K_C: return k;
    case K_CV: case K_CH: case K_S: case K_D: return 2 * k;
    default: return 4 * k; /* K_DH, K_DD */
    }
}

/* Written out, not generated: powers of a 2 pi / k rotation would accumulate k roundings. */
static void axial_elements(int kind, int k, double *R)
{
    int n = 0;
    for (int j = 0; j < k; j++) rz(2.0 * SYM_PI * j / k, R + 9 * n++);
    if (kind == K_C) return;
    for (int j = 0; j < k; j++) {
        switch (kind) {
        case K_CV: sigv(SYM_PI * j / k, R + 9 * n++); break;
        case K_CH: sigh_rz(2.0 * SYM_PI * j / k, R + 9 * n++); break;
        case K_S: sigh_rz(SYM_PI * (2 * j + 1) / k, R + 9 * n++); break;
        case K_D: c2(SYM_PI * j / k, R + 9 * n++); break;
        case K_DH:
            c2(SYM_PI * j / k, R + 9 * n++);
            sigh_rz(2.0 * SYM_PI * j / k, R + 9 * n++);
            sigv(SYM_PI * j / k, R + 9 * n++);
            break;
        case K_DD:
            c2(SYM_PI * j / k, R + 9 * n++);
            sigh_rz(SYM_PI * (2 * j + 1) / k, R + 9 * n++);
            sigv(SYM_PI * (2 * j + 1) / (2.0 * k), R + 9 * n++);
            break;
        }
    }
}

/* The 48 signed permutation matrices (O_h) filtered: the identity comes first. */
static int cubic_elements(int kind, double *R)
{
    static const int perm[6][3] = {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}};
    int n = 0;
    for (int p = 0; p < 6; p++) {
        int even = p < 3;
        for (int s = 0; s < 8; s++) {
            double sg[3] = {(s & 1) ? -1.0 : 1.0, (s & 2) ? -1.0 : 1.0, (s & 4) ? -1.0 : 1.0};
            double M[9] = {0};
            for (int i = 0; i < 3; i++) M[3 * i + perm[p][i]] = sg[i];
            int proper = det3(M) > 0;
            int keep = 0;
            switch (kind) {
            case K_T: keep = proper && even; break;
            case K_TH: keep = even; break;
            case K_TD: keep = proper == even; break;
            case K_O: keep = proper; break;
            default: keep = 1; break; /* K_OH */
            }
            if (keep) memcpy(R + 9 * n++, M, sizeof M);
        }
    }
    return n;
}

/* I: the closure of the 5-fold turns about z and about the vertex (0, 2, 1) / sqrt 5; each new
 * element is a product of a listed one and a generator (rounding grows by a few 1e-16 per
 * step, over a dozen steps). Returns the count (60). */
static int icosahedral_elements(double *R)
{
    double g[2][9], u[3] = {0.0, 2.0 / sqrt(5.0), 1.0 / sqrt(5.0)};
    rz(2.0 * SYM_PI / 5.0, g[0]);
    axis_angle(u, 2.0 * SYM_PI / 5.0, g[1]);
    memcpy(R, ID3, sizeof ID3);
    int n = 1;
    for (int e = 0; e < n; e++)
        for (int gi = 0; gi < 2; gi++) {
            double P[9];
            mul3(R + 9 * e, g[gi], P);
            int found = 0;
            for (int f = 0; f < n && !found; f++) found = same3(P, R + 9 * f);
            if (found) continue;
            if (n == 60) return -1;
            memcpy(R + 9 * n++, P, sizeof P);
        }
    return n;
}

static const struct {
    const char *name;
    int kind;
} FIXED_NAMES[] = {
    {"T", K_T},           {"T_d", K_TD},         {"T_h", K_TH},          {"O", K_O},
    {"O_h", K_OH},        {"I", K_I},            {"I_h", K_IH},          {"C_inf", K_CINF},
    {"C_inf_v", K_CINFV}, {"C_inf_h", K_CINFH},  {"D_inf", K_DINF},      {"D_inf_h", K_DINFH},
    {"SO(2)", K_CINF},    {"O(2)", K_DINF},      {"O(2)^-", K_CINFV},
};
#define N_FIXED_NAMES (int)(sizeof FIXED_NAMES / sizeof FIXED_NAMES[0])

static const char *kind_name(int kind)
{
    for (int i = 0; i < N_FIXED_NAMES; i++)
        if (FIXED_NAMES[i].kind == kind) return FIXED_NAMES[i].name;
    return "?";
}

static ab_status group_make(int kind, int k, int exact_degree, ab_group **out, ab_error *err)
{
    ab_group *g = calloc(1, sizeof *g);
    if (!g) return ab_error_set(err, AB_ENOMEM, "symmetry group: out of memory");
    g->kind = kind, g->k = k;
    memcpy(g->frame, ID3, sizeof ID3);
    g->exact_degree = INT_MAX;
    int order, N = 2 * exact_degree + 1, ak = -1;
    switch (kind) {
    case K_C: case K_CV: case K_CH: case K_S: case K_D: case K_DH: case K_DD: order = axial_order(kind, k); break;
    case K_T: order = 12; break;
    case K_TD: case K_TH: case K_O: order = 24; break;
    case K_OH: order = 48; break;
    case K_I: order = 60; break;
    case K_IH: order = 120; break;
    default: {
        static const int base[] = {K_C, K_CV, K_CH, K_D, K_DH};
        ak = base[kind - K_CINF];
        order = axial_order(ak, N);
        g->continuous = 1, g->exact_degree = exact_degree, g->k = 0;
        break;
    }
    }
    g->order = order;
    g->R = malloc((size_t)order * 9 * sizeof *g->R);
    if (!g->R) {
        free(g);
        return ab_error_set(err, AB_ENOMEM, "symmetry group: out of memory for %d elements", order);
    }
    int n = order;
    if (kind <= K_DD) {
        axial_elements(kind, k, g->R);
        static const char *fmt[] = {"C_%d", "C_%dv", "C_%dh", "S_%d", "D_%d", "D_%dh", "D_%dd"};
        snprintf(g->name, sizeof g->name, fmt[kind], kind == K_S ? 2 * k : k);
    } else if (ak >= 0) {
        axial_elements(ak, N, g->R);
        snprintf(g->name, sizeof g->name, "%s", kind_name(kind));
    } else if (kind == K_I || kind == K_IH) {
        n = icosahedral_elements(g->R);
        if (n == 60 && kind == K_IH)
            for (int e = 0; e < 60; e++)
                for (int i = 0; i < 9; i++) g->R[9 * (60 + e) + i] = -g->R[9 * e + i];
        if (n == 60 && kind == K_IH) n = 120;
        snprintf(g->name, sizeof g->name, "%s", kind_name(kind));
    } else {
        n = cubic_elements(kind, g->R);
        snprintf(g->name, sizeof g->name, "%s", kind_name(kind));
    }
    if (n != order) {
        ab_group_destroy(g);
        return ab_error_set(err, AB_EINVAL, "symmetry group %s: %d elements built, %d expected (internal error)", kind_name(kind),
                            n, order);
    }
    *out = g;
    return AB_OK;
}

ab_status ab_group_create(const char *name, int exact_degree, ab_group **out, ab_error *err)
{
    if (!out) return ab_error_set(err, AB_EINVAL, "symmetry group: no output given");
    *out = NULL;
    if (!name) return ab_error_set(err, AB_EINVAL, "symmetry group: no name given");
    if (exact_degree < 0 || exact_degree > AB_GROUP_DEGREE_MAX)
        return ab_error_set(err, AB_EINVAL, "symmetry group %s: exact degree %d outside 0..%d", name, exact_degree,
                            AB_GROUP_DEGREE_MAX);
    for (int i = 0; i < N_FIXED_NAMES; i++)
        if (strcmp(name, FIXED_NAMES[i].name) == 0) return group_make(FIXED_NAMES[i].kind, 0, exact_degree, out, err);
    char fam = name[0];
    int k = 0, used = 0;
    if ((fam == 'C' || fam == 'D' || fam == 'S') && name[1] == '_' && sscanf(name + 2, "%d%n", &k, &used) == 1 &&
        name[2] >= '1' && name[2] <= '9') {
        const char *suf = name + 2 + used;
        int kind = -1;
        if (fam == 'C') kind = !*suf ? K_C : !strcmp(suf, "v") ? K_CV : !strcmp(suf, "h") ? K_CH : -1;
        if (fam == 'D') kind = !*suf ? K_D : !strcmp(suf, "h") ? K_DH : !strcmp(suf, "d") ? K_DD : -1;
        if (fam == 'S' && !*suf) {
            if (k % 2 != 0 || k < 4 || k > 2 * AB_GROUP_K_MAX)
                return ab_error_set(err, AB_EINVAL, "symmetry group %s: S_n needs an even n from 4 to %d", name,
                                    2 * AB_GROUP_K_MAX);
            k /= 2, kind = K_S;
        }
        if (kind >= 0) {
            if (k < 2 || k > AB_GROUP_K_MAX)
                return ab_error_set(err, AB_EINVAL, "symmetry group %s: the principal order must be 2..%d", name,
                                    AB_GROUP_K_MAX);
            return group_make(kind, k, exact_degree, out, err);
        }
    }
    return ab_error_set(err, AB_EINVAL,
                        "unknown symmetry group '%s' (valid: C_k, C_kv, C_kh, S_2k, D_k, D_kh, D_kd with k >= 2, T, T_d, "
                        "T_h, O, O_h, I, I_h, C_inf, C_inf_v, C_inf_h, D_inf, D_inf_h, SO(2), O(2), O(2)^-)",
                        name);
}

ab_status ab_group_conjugate(const ab_group *g, const double Q[9], ab_group **out, ab_error *err)
{
    if (!out) return ab_error_set(err, AB_EINVAL, "symmetry group: no output given");
    *out = NULL;
    if (!g || !Q) return ab_error_set(err, AB_EINVAL, "symmetry group: conjugate of nothing");
    if (!is_orthogonal(Q))
        return ab_error_set(err, AB_EINVAL, "symmetry group %s: the frame is not an orthogonal matrix", g->name);
    ab_group *c = malloc(sizeof *c);
    if (!c) return ab_error_set(err, AB_ENOMEM, "symmetry group: out of memory");
    *c = *g;
    c->R = malloc((size_t)g->order * 9 * sizeof *c->R);
    if (!c->R) {
        free(c);
        return ab_error_set(err, AB_ENOMEM, "symmetry group: out of memory for %d elements", g->order);
    }
    for (int e = 0; e < g->order; e++) conj3(Q, g->R + 9 * e, c->R + 9 * e);
    mul3(Q, g->frame, c->frame);
    *out = c;
    return AB_OK;
}

void ab_group_destroy(ab_group *g)
{
    if (!g) return;
    free(g->R);
    free(g);
}

int ab_group_contains(const ab_group *g, const double m[9])
{
    if (!g->continuous) {
        for (int e = 0; e < g->order; e++)
            if (same3(m, g->R + 9 * e)) return 1;
        return 0;
    }
    /* in the standard frame the continuous groups are told apart by where the axis goes */
    double Qt[9], s[9];
    transpose3(g->frame, Qt);
    conj3(Qt, m, s);
    double d = det3(s) > 0 ? 1.0 : -1.0, zz = s[8];
    int axis_kept = fabs(s[2]) <= AB_GROUP_MATRIX_TOL && fabs(s[5]) <= AB_GROUP_MATRIX_TOL;
    if (!axis_kept) return 0;
    int up = fabs(zz - 1.0) <= AB_GROUP_MATRIX_TOL, down = fabs(zz + 1.0) <= AB_GROUP_MATRIX_TOL;
    switch (g->kind) {
    case K_CINF: return d > 0 && up;
    case K_CINFV: return up;
    case K_CINFH: return d > 0 ? up : down;
    case K_DINF: return d > 0 && (up || down);
    default: return up || down; /* K_DINFH */
    }
}

ab_status ab_group_set_create(int kmax, int exact_degree, ab_group_set **out, ab_error *err)
{
    if (!out) return ab_error_set(err, AB_EINVAL, "symmetry group set: no output given");
    *out = NULL;
    if (kmax < 1 || kmax > AB_GROUP_K_MAX)
        return ab_error_set(err, AB_EINVAL, "symmetry group set: kmax = %d outside 1..%d", kmax, AB_GROUP_K_MAX);
    if (exact_degree < 0 || exact_degree > AB_GROUP_DEGREE_MAX)
        return ab_error_set(err, AB_EINVAL, "symmetry group set: exact degree %d outside 0..%d", exact_degree,
                            AB_GROUP_DEGREE_MAX);
    ab_group_set *s = calloc(1, sizeof *s);
    int cap = 7 * kmax + 12;
    if (s) s->g = calloc((size_t)cap, sizeof *s->g);
    if (!s || !s->g) {
        free(s);
        return ab_error_set(err, AB_ENOMEM, "symmetry group set: out of memory");
    }
    ab_status st = AB_OK;
    for (int k = 2; k <= kmax && st == AB_OK; k++)
        for (int kind = K_C; kind <= K_DD && st == AB_OK; kind++) st = group_make(kind, k, exact_degree, &s->g[s->count++], err);
    for (int kind = K_T; kind <= K_DINFH && st == AB_OK; kind++) st = group_make(kind, 0, exact_degree, &s->g[s->count++], err);
    if (st != AB_OK) {
        ab_group_set_destroy(s);
        return st;
    }
    *out = s;
    return AB_OK;
}

void ab_group_set_destroy(ab_group_set *s)
{
    if (!s) return;
    for (int i = 0; i < s->count; i++) ab_group_destroy(s->g[i]);
    free(s->g);
    free(s);
}

/* ---------------------------------------------------------------- representations */

struct ab_sym_rep {
    int L, n;
    int offset;    /* >= 0: the degree rep, basis = unit vectors offset .. offset + n - 1 */
    size_t nc, np;
    ab_sht *sht;
    double *C;     /* offset < 0: nc x n orthonormal, column-major */
    double *y;     /* np x 3 rotated points */
    double *f;     /* np values */
    double *c1;    /* nc */
    double trunc;
    double leak_tol;
};

static ab_status rep_alloc(int L, int nlat, int nlon, int n, ab_sym_rep **out, ab_error *err)
{
    ab_sym_rep *r = calloc(1, sizeof *r);
    if (!r) return ab_error_set(err, AB_ENOMEM, "symmetry representation: out of memory");
    r->L = L, r->n = n, r->offset = -1, r->leak_tol = AB_SYM_LEAK_TOL;
    ab_status st = ab_sht_create(L, nlat, nlon, &r->sht, err);
    if (st != AB_OK) {
        free(r);
        return st;
    }
    r->nc = ab_sht_ncoeffs(r->sht), r->np = ab_sht_npoints(r->sht);
    r->y = malloc(r->np * 3 * sizeof *r->y);
    r->f = malloc(r->np * sizeof *r->f);
    r->c1 = malloc(r->nc * sizeof *r->c1);
    if (!r->y || !r->f || !r->c1) {
        ab_sym_rep_destroy(r);
        return ab_error_set(err, AB_ENOMEM, "symmetry representation: out of memory (L = %d)", L);
    }
    *out = r;
    return AB_OK;
}

ab_status ab_sym_rep_create_degree(int l, ab_sym_rep **out, ab_error *err)
{
    if (!out) return ab_error_set(err, AB_EINVAL, "symmetry representation: no output given");
    *out = NULL;
    if (l < 0 || l > AB_GROUP_DEGREE_MAX)
        return ab_error_set(err, AB_EINVAL, "symmetry representation: degree %d outside 0..%d", l, AB_GROUP_DEGREE_MAX);
    ab_status st = rep_alloc(l, 0, 0, 2 * l + 1, out, err);
    if (st == AB_OK) (*out)->offset = l * l;
    return st;
}

static double norm(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i] * x[i];
    return sqrt(s);
}

ab_status ab_sym_rep_create_subspace(int L, int nlat, int nlon, int n, const double *basis, size_t ld, int kind,
                                     ab_sym_rep **out, ab_error *err)
{
    if (!out) return ab_error_set(err, AB_EINVAL, "symmetry subspace: no output given");
    *out = NULL;
    if (L < 0 || L > AB_GROUP_DEGREE_MAX)
        return ab_error_set(err, AB_EINVAL, "symmetry subspace: degree %d outside 0..%d", L, AB_GROUP_DEGREE_MAX);
    if (n < 1 || !basis) return ab_error_set(err, AB_EINVAL, "symmetry subspace: no basis given (n = %d)", n);
    if (kind != AB_SYM_BASIS_COEFFS && kind != AB_SYM_BASIS_GRID)
        return ab_error_set(err, AB_EINVAL, "symmetry subspace: basis kind %d is neither coefficients nor grid", kind);
    ab_sym_rep *r = NULL;
    ab_status st = rep_alloc(L, kind == AB_SYM_BASIS_GRID ? nlat : 0, kind == AB_SYM_BASIS_GRID ? nlon : 0, n, &r, err);
    if (st != AB_OK) return st;
    size_t need = kind == AB_SYM_BASIS_GRID ? r->np : r->nc;
    if (ld < need) {
        ab_sym_rep_destroy(r);
        return ab_error_set(err, AB_EINVAL, "symmetry subspace: leading dimension %zu below the %zu values per column", ld,
                            need);
    }
    if ((size_t)n > r->nc) {
        ab_sym_rep_destroy(r);
        return ab_error_set(err, AB_EINVAL, "symmetry subspace: %d columns, but degree %d has only %zu harmonics", n, L, r->nc);
    }
    r->C = malloc(r->nc * (size_t)n * sizeof *r->C);
    if (!r->C) {
        ab_sym_rep_destroy(r);
        return ab_error_set(err, AB_ENOMEM, "symmetry subspace: out of memory");
    }
    const double *w = ab_sht_weights(r->sht);
    for (int j = 0; j < n && st == AB_OK; j++) {
        double *c = r->C + (size_t)j * r->nc;
        const double *b = basis + (size_t)j * ld;
        if (kind == AB_SYM_BASIS_COEFFS) {
            memcpy(c, b, r->nc * sizeof *c);
            continue;
        }
        st = ab_sht_analysis(r->sht, b, c, err);
        if (st == AB_OK) st = ab_sht_synthesis(r->sht, c, r->f, err);
        if (st != AB_OK) break;
        double lost = 0.0, tot = 0.0;
        for (size_t p = 0; p < r->np; p++) lost += w[p] * (b[p] - r->f[p]) * (b[p] - r->f[p]), tot += w[p] * b[p] * b[p];
        if (tot > 0.0) r->trunc = fmax(r->trunc, sqrt(lost / tot));
    }
    /* modified Gram-Schmidt, twice (one pass loses orthogonality like cond^2 eps) */
    for (int j = 0; j < n && st == AB_OK; j++) {
        double *c = r->C + (size_t)j * r->nc;
        double n0 = norm(c, r->nc);
        if (!(n0 > 0.0) || !isfinite(n0)) {
            st = ab_error_set(err, AB_EINVAL, "symmetry subspace: column %d is zero or not finite", j);
            break;
        }
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < j; i++) {
                const double *q = r->C + (size_t)i * r->nc;
                double d = 0.0;
                for (size_t t = 0; t < r->nc; t++) d += q[t] * c[t];
                for (size_t t = 0; t < r->nc; t++) c[t] -= d * q[t];
            }
        double n1 = norm(c, r->nc);
        if (!(n1 > AB_SYM_RANK_TOL * n0)) {
            st = ab_error_set(err, AB_EINVAL, "symmetry subspace: column %d depends linearly on the previous ones", j);
            break;
        }
        for (size_t t = 0; t < r->nc; t++) c[t] /= n1;
    }
    if (st != AB_OK) {
        ab_sym_rep_destroy(r);
        return st;
    }
    *out = r;
    return AB_OK;
}

void ab_sym_rep_destroy(ab_sym_rep *r)
{
    if (!r) return;
    ab_sht_destroy(r->sht);
    free(r->C);
    free(r->y);
    free(r->f);
    free(r->c1);
    free(r);
}

ab_status ab_sym_rep_set_leak_tol(ab_sym_rep *r, double tol, ab_error *err)
{
    if (!(tol >= AB_SYM_LEAK_TOL && tol <= 0.1))
        return ab_error_set(err, AB_EINVAL, "symmetry representation: leakage tolerance %g outside [%g, 0.1]", tol,
                            AB_SYM_LEAK_TOL);
    r->leak_tol = tol;
    return AB_OK;
}

int ab_sym_rep_dim(const ab_sym_rep *r) { return r->n; }
int ab_sym_rep_degree(const ab_sym_rep *r) { return r->L; }
size_t ab_sym_rep_ncoeffs(const ab_sym_rep *r) { return r->nc; }
double ab_sym_rep_truncation(const ab_sym_rep *r) { return r->trunc; }
const double *ab_sym_rep_basis(const ab_sym_rep *r) { return r->C; }

void ab_sym_rep_to_coeffs(const ab_sym_rep *r, const double *x, double *c)
{
    if (r->offset >= 0) {
        memset(c, 0, r->nc * sizeof *c);
        memcpy(c + r->offset, x, (size_t)r->n * sizeof *c);
        return;
    }
    memset(c, 0, r->nc * sizeof *c);
    for (int j = 0; j < r->n; j++)
        for (size_t t = 0; t < r->nc; t++) c[t] += r->C[(size_t)j * r->nc + t] * x[j];
}

/* x = C^T c */
static void rep_from_coeffs(const ab_sym_rep *r, const double *c, double *x)
{
    if (r->offset >= 0) {
        memcpy(x, c + r->offset, (size_t)r->n * sizeof *x);
        return;
    }
    for (int j = 0; j < r->n; j++) {
        double d = 0.0;
        for (size_t t = 0; t < r->nc; t++) d += r->C[(size_t)j * r->nc + t] * c[t];
        x[j] = d;
    }
}

/* g keeps the z axis (z -> s z, the horizontal plane turned by t or reflected in the line at
 * angle t/2): then (g.f)(theta, phi) = f(theta', eps phi + tau) with cos theta' = s cos theta,
 * and P_l^m(-x) = (-1)^(l+m) P_l^m(x), so each pair (cos m phi, sin m phi) mixes with itself
 * only (docs/symmetry.md, "How D^l(g) is computed"). Exact to rounding and O((L+1)^2): the
 * axial groups and the continuous stand-ins are made of such elements. */
static int rotate_axial(int L, const double *g, const double *in, double *out)
{
    const double tiny = 4.0 * 2.220446049250313e-16;
    if (fabs(g[2]) > tiny || fabs(g[5]) > tiny || fabs(g[6]) > tiny || fabs(g[7]) > tiny) return 0;
    double s = g[8] > 0 ? 1.0 : -1.0, det2 = g[0] * g[4] - g[1] * g[3];
    double eps = det2 > 0 ? 1.0 : -1.0;
    /* proper: A = rotation by t, phi' = phi - t; improper: A = reflection, phi' = 2 alpha - phi */
    double tau = eps > 0 ? -atan2(g[3], g[0]) : atan2(g[1], g[0]);
    for (int l = 0; l <= L; l++) {
        double sl = (l % 2 && s < 0) ? -1.0 : 1.0;
        out[ab_sht_index(l, 0)] = sl * in[ab_sht_index(l, 0)];
        for (int m = 1; m <= l; m++) {
            double sm = (m % 2 && s < 0) ? -sl : sl, c = cos(m * tau), sn = sin(m * tau);
            double C = in[ab_sht_index(l, m)], S = in[ab_sht_index(l, -m)];
            out[ab_sht_index(l, m)] = sm * (C * c + S * sn);
            out[ab_sht_index(l, -m)] = sm * eps * (S * c - C * sn);
        }
    }
    return 1;
}

ab_status ab_sym_rotate_coeffs(ab_sym_rep *r, const double g[9], const double *in, double *out, ab_error *err)
{
    if (!is_orthogonal(g)) return ab_error_set(err, AB_EINVAL, "symmetry action: the matrix is not orthogonal");
    if (rotate_axial(r->L, g, in, out)) return AB_OK;
    /* (g.f)(x) = f(g^{-1} x) = f(g^T x): evaluate f at g^T x_p and analyse (exact, degree <= L) */
    const double *x = ab_sht_points(r->sht);
    for (size_t p = 0; p < r->np; p++)
        for (int i = 0; i < 3; i++)
            r->y[3 * p + i] = g[i] * x[3 * p] + g[3 + i] * x[3 * p + 1] + g[6 + i] * x[3 * p + 2];
    ab_status st = ab_sht_eval(r->sht, in, r->np, r->y, r->f, err);
    if (st == AB_OK) st = ab_sht_analysis(r->sht, r->f, out, err);
    return st;
}

ab_status ab_sym_rep_matrix(ab_sym_rep *r, const double g[9], double *M, double *leak, ab_error *err)
{
    int n = r->n;
    double worst = 0.0;
    double *cin = malloc(r->nc * sizeof *cin), *x = malloc((size_t)n * sizeof *x), *back = malloc(r->nc * sizeof *back);
    ab_status st = (cin && x && back) ? AB_OK : ab_error_set(err, AB_ENOMEM, "symmetry action: out of memory");
    for (int j = 0; j < n && st == AB_OK; j++) {
        for (int i = 0; i < n; i++) x[i] = i == j;
        ab_sym_rep_to_coeffs(r, x, cin);
        st = ab_sym_rotate_coeffs(r, g, cin, r->c1, err);
        if (st != AB_OK) break;
        rep_from_coeffs(r, r->c1, x);
        for (int i = 0; i < n; i++) M[(size_t)i * n + j] = x[i];
        ab_sym_rep_to_coeffs(r, x, back);
        for (size_t t = 0; t < r->nc; t++) back[t] = r->c1[t] - back[t];
        double nc1 = norm(r->c1, r->nc);
        double lk = nc1 > 0.0 ? norm(back, r->nc) / nc1 : 0.0;
        if (!isfinite(lk)) st = ab_error_set(err, AB_ENAN, "symmetry action: a NaN or Inf in the rotated basis");
        worst = fmax(worst, lk);
    }
    free(cin), free(x), free(back);
    if (leak) *leak = worst;
    return st;
}

/* ---------------------------------------------------------------- fixed spaces */

/* ab_sym_fixed; with not_invariant given, a space the group does not keep is reported there
 * (1, status AB_OK, dim 0) instead of as an error. */
static ab_status fixed_impl(ab_sym_rep *r, const ab_group *G, double *Pout, int *dim, double *basis, int cap, double *leak,
                            int *not_invariant, ab_error *err)
{
    if (!r || !G) return ab_error_set(err, AB_EINVAL, "fixed space: no representation or group given");
    if (G->exact_degree < r->L)
        return ab_error_set(err, AB_EINVAL,
                            "fixed space of %s: its finite stand-in averages exactly only up to degree %d, the space "
                            "has degree %d (make the group with exact_degree >= %d)",
                            G->name, G->exact_degree, r->L, r->L);
    int n = r->n;
    size_t nn = (size_t)n * n;
    double *P = calloc(nn, sizeof *P), *M = malloc(nn * sizeof *M), *ev = malloc((size_t)n * sizeof *ev);
    ab_status st = (P && M && ev) ? AB_OK : ab_error_set(err, AB_ENOMEM, "fixed space: out of memory (n = %d)", n);
    double worst = 0.0;
    for (int e = 0; e < G->order && st == AB_OK; e++) {
        double lk;
        st = ab_sym_rep_matrix(r, G->R + 9 * e, M, &lk, err);
        worst = fmax(worst, lk);
        for (size_t t = 0; t < nn && st == AB_OK; t++) P[t] += M[t];
    }
    int d = 0;
    if (not_invariant) *not_invariant = 0;
    if (st == AB_OK && !(worst <= r->leak_tol) && not_invariant) {
        *not_invariant = 1;
        free(P), free(M), free(ev);
        if (dim) *dim = 0;
        if (leak) *leak = worst;
        return AB_OK;
    }
    if (st == AB_OK && !(worst <= r->leak_tol))
        st = ab_error_set(err, AB_EINVAL,
                          "fixed space of %s: the space is not invariant under the group (an element moves %.3g of a "
                          "basis vector out of it; accepted: %.3g)",
                          G->name, worst, r->leak_tol);
    if (st == AB_OK) {
        double tr = 0.0;
        for (size_t t = 0; t < nn; t++) P[t] /= G->order;
        for (int i = 0; i < n; i++) tr += P[(size_t)i * n + i];
        d = (int)lround(tr);
        if (!(fabs(tr - d) <= fmax(AB_SYM_INTEGER_TOL, r->leak_tol)))
            st = ab_error_set(err, AB_EINVAL,
                              "fixed space of %s: the averaged projector has trace %.12g, not an integer (leakage "
                              "%.3g)",
                              G->name, tr, worst);
    }
    if (st == AB_OK && Pout) memcpy(Pout, P, nn * sizeof *P);
    if (st == AB_OK && basis && d > 0) {
        if (cap < d) st = ab_error_set(err, AB_EINVAL, "fixed space of %s: dimension %d, room for %d", G->name, d, cap);
        for (int i = 0; i < n && st == AB_OK; i++)
            for (int j = 0; j < i; j++) M[(size_t)i * n + j] = M[(size_t)j * n + i] = 0.5 * (P[(size_t)i * n + j] + P[(size_t)j * n + i]);
        for (int i = 0; i < n && st == AB_OK; i++) M[(size_t)i * n + i] = P[(size_t)i * n + i];
        if (st == AB_OK && LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', n, M, n, ev) != 0)
            st = ab_error_set(err, AB_ELINALG, "fixed space of %s: the eigenvalue solver failed", G->name);
        int above = 0;
        for (int i = 0; i < n && st == AB_OK; i++) above += ev[i] > AB_SYM_EIG_SPLIT;
        if (st == AB_OK && above != d)
            st = ab_error_set(err, AB_EINVAL, "fixed space of %s: %d eigenvalues near 1 but trace %d", G->name, above, d);
        for (int c = 0; c < d && st == AB_OK; c++) {
            double *b = basis + (size_t)c * n;
            for (int i = 0; i < n; i++) b[i] = M[(size_t)i * n + (n - d + c)];
        }
        if (st == AB_OK && d == 1) {
            double mx = 0.0;
            for (int i = 0; i < n; i++) mx = fmax(mx, fabs(basis[i]));
            for (int i = 0; i < n; i++)
                if (fabs(basis[i]) >= mx - 1e-8) {
                    if (basis[i] < 0)
                        for (int t = 0; t < n; t++) basis[t] = -basis[t];
                    break;
                }
        }
    }
    free(P), free(M), free(ev);
    if (st == AB_OK && dim) *dim = d;
    if (leak) *leak = worst;
    return st;
}

ab_status ab_sym_fixed(ab_sym_rep *r, const ab_group *G, double *P, int *dim, double *basis, int cap, double *leak,
                       ab_error *err)
{
    return fixed_impl(r, G, P, dim, basis, cap, leak, NULL, err);
}

/* ---------------------------------------------------------------- search */

/* The order of the rotations about the principal axis (the frame's z). */
static int zorder(const ab_group *g)
{
    switch (g->kind) {
    case K_T: case K_TD: case K_TH: return 2;
    case K_O: case K_OH: return 4;
    case K_I: case K_IH: return 5;
    default: return g->continuous ? 2 * g->exact_degree + 1 : g->k;
    }
}

/* A size that orders groups by inclusion: continuous above finite, then by components. */
static double gsize(const ab_group *g)
{
    if (!g->continuous) return g->order;
    return 1e9 * (g->order / (2.0 * g->exact_degree + 1.0));
}

/* Distinct directions (up to sign) of the rotation axes of K's elements (continuous: the
 * frame's axes). Returns the count (room for cap). */
static int axis_directions(const ab_group *K, double *ax, int cap)
{
    int n = 0;
    if (K->continuous) {
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) ax[3 * i + j] = K->frame[3 * j + i];
        return 3;
    }
    for (int e = 1; e < K->order && n < cap; e++) {
        double a[3];
        if (!axis_of(K->R + 9 * e, a)) continue;
        int dup = 0;
        for (int f = 0; f < n && !dup; f++) dup = fabs(dot3(a, ax + 3 * f)) > 1.0 - 1e-9;
        if (!dup) memcpy(ax + 3 * n++, a, sizeof a);
    }
    return n;
}

/* Whether T H T^T lies in K. */
static int contained(const ab_group *H, const double *T, const ab_group *K)
{
    if (H->continuous && !K->continuous) return 0;
    for (int e = 1; e < H->order; e++) {
        double m[9];
        conj3(T, H->R + 9 * e, m);
        if (!ab_group_contains(K, m)) return 0;
    }
    return 1;
}

/* Every proper T mapping H's principal axis to an axis a of K about which K holds the turn by
 * 2 pi / zorder(H), and H's x axis to a direction b perpendicular to a that is an axis of K or
 * lies in the plane of a and the normal of one of K's elements; calls back for each T with
 * T H T^T inside K, until the callback returns nonzero. Returns 1 if it did, 0 if not, -1 when
 * out of memory. */
typedef int (*frame_cb)(const double *T, void *ctx);
static int each_containing_frame(const ab_group *H, const ab_group *K, frame_cb cb, void *ctx)
{
    /* at most one axis per element (3 for the continuous ones), and one b per axis */
    int cap = K->order + 3;
    double *ax = malloc(3 * (size_t)cap * sizeof *ax), *bs = malloc(3 * (size_t)cap * sizeof *bs);
    if (!ax || !bs) {
        free(ax), free(bs);
        return -1;
    }
    int na = axis_directions(K, ax, cap), found = 0;
    int zh = zorder(H);
    double Qt[9];
    transpose3(H->frame, Qt);
    for (int ia = 0; ia < 2 * na && !found; ia++) {
        double a[3];
        for (int i = 0; i < 3; i++) a[i] = (ia % 2 ? -1.0 : 1.0) * ax[3 * (ia / 2) + i];
        if (!K->continuous) {
            double Ra[9];
            axis_angle(a, 2.0 * SYM_PI / zh, Ra);
            if (!ab_group_contains(K, Ra)) continue;
        } else if (!H->continuous && zh > 0) {
            /* every turn about K's axis is in K; about another axis only half-turns */
            if (fabs(fabs(dot3(a, ax + 6)) - 1.0) > 1e-9 && zh != 2) continue;
        }
        int nb = 0;
        for (int ic = 0; ic < na && nb < cap; ic++) {
            const double *c = ax + 3 * ic;
            double b[3];
            if (fabs(dot3(a, c)) < 1e-9)
                memcpy(b, c, sizeof b);
            else {
                cross3(a, c, b);
                if (!normalise3(b)) continue;
            }
            int dup = 0;
            for (int f = 0; f < nb && !dup; f++) dup = fabs(dot3(b, bs + 3 * f)) > 1.0 - 1e-9;
            if (!dup) memcpy(bs + 3 * nb++, b, sizeof b);
        }
        for (int ib = 0; ib < 2 * nb && !found; ib++) {
            double b[3], y[3], F[9], T[9];
            for (int i = 0; i < 3; i++) b[i] = (ib % 2 ? -1.0 : 1.0) * bs[3 * (ib / 2) + i];
            cross3(a, b, y);
            for (int i = 0; i < 3; i++) F[3 * i] = b[i], F[3 * i + 1] = y[i], F[3 * i + 2] = a[i];
            mul3(F, Qt, T);
            found = contained(H, T, K) && cb(T, ctx);
        }
    }
    free(ax), free(bs);
    return found;
}

typedef struct {
    ab_sym_rep *rep;
    const double *vc;    /* H's fixed vector, coefficients */
    const double *Kfix;  /* K's fixed basis, coefficients, dim columns */
    int kdim;
    double *w, *proj;
    double T[9];
    int found;
    ab_status st;
    ab_error *err;
} iso_ctx;

/* T H T^T inside K and Fix(K) nonzero: check that T.v lies in Fix(K) (it must). */
static int iso_cb(const double *T, void *vctx)
{
    iso_ctx *c = vctx;
    ab_sym_rep *r = c->rep;
    c->st = ab_sym_rotate_coeffs(r, T, c->vc, c->w, c->err);
    if (c->st != AB_OK) return 1;
    memcpy(c->proj, c->w, r->nc * sizeof *c->w);
    for (int j = 0; j < c->kdim; j++) {
        const double *q = c->Kfix + (size_t)j * r->nc;
        double d = 0.0;
        for (size_t t = 0; t < r->nc; t++) d += q[t] * c->w[t];
        for (size_t t = 0; t < r->nc; t++) c->proj[t] -= d * q[t];
    }
    if (norm(c->proj, r->nc) <= AB_SYM_FIXED_TOL * norm(c->w, r->nc)) {
        memcpy(c->T, T, sizeof c->T);
        c->found = 1;
        return 1;
    }
    return 0;
}

void ab_sym_search_result_destroy(ab_sym_search_result *r)
{
    if (!r) return;
    for (int b = 0; b < r->nbranch; b++) free(r->branch[b].v), free(r->branch[b].coeffs);
    free(r->branch);
    free(r->cand);
    free(r);
}

ab_status ab_sym_search(ab_sym_rep *rep, ab_group *const *cand, int ncand, ab_sym_search_result **out, ab_error *err)
{
    if (!out) return ab_error_set(err, AB_EINVAL, "symmetry search: no output given");
    *out = NULL;
    if (!rep || !cand || ncand < 1) return ab_error_set(err, AB_EINVAL, "symmetry search: no representation or candidates");
    int n = rep->n;
    size_t nc = rep->nc;
    ab_sym_search_result *res = calloc(1, sizeof *res);
    double **fix = calloc((size_t)ncand, sizeof *fix); /* coefficient bases of the fixed spaces */
    double *basis = malloc((size_t)n * n * sizeof *basis);
    double *w = malloc(nc * sizeof *w), *proj = malloc(nc * sizeof *proj);
    ab_status st = AB_OK;
    if (res) res->cand = calloc((size_t)ncand, sizeof *res->cand), res->branch = calloc((size_t)ncand, sizeof *res->branch);
    if (!res || !fix || !basis || !w || !proj || !res->cand || !res->branch)
        st = ab_error_set(err, AB_ENOMEM, "symmetry search: out of memory");
    if (st == AB_OK) res->ncand = ncand, res->n = n, res->ncoeffs = nc;
    for (int i = 0; i < ncand && st == AB_OK; i++) {
        ab_sym_candidate *c = &res->cand[i];
        double lk;
        c->group = cand[i];
        c->isotropy = -1;
        int skip = 0;
        st = fixed_impl(rep, cand[i], NULL, &c->dim, basis, n, &lk, &skip, err);
        if (st != AB_OK) {
            ab_error_prefix(err, "symmetry search: ");
            break;
        }
        if (skip) {
            c->dim = -1;
            continue;
        }
        res->leak = fmax(res->leak, lk);
        if (c->dim == 0) continue;
        fix[i] = malloc(nc * (size_t)c->dim * sizeof *fix[i]);
        if (!fix[i]) {
            st = ab_error_set(err, AB_ENOMEM, "symmetry search: out of memory");
            break;
        }
        for (int j = 0; j < c->dim; j++) ab_sym_rep_to_coeffs(rep, basis + (size_t)j * n, fix[i] + (size_t)j * nc);
    }
    /* isotropy: the largest K (any conjugate containing H) with a nonzero fixed space */
    for (int h = 0; h < ncand && st == AB_OK; h++) {
        ab_sym_candidate *c = &res->cand[h];
        if (c->dim != 1) continue;
        c->isotropy = h;
        memcpy(c->isotropy_frame, ID3, sizeof ID3);
        for (int k = 0; k < ncand && st == AB_OK; k++) {
            if (k == h || res->cand[k].dim < 1 || gsize(cand[k]) <= gsize(cand[c->isotropy])) continue;
            iso_ctx ctx = {rep, fix[h], fix[k], res->cand[k].dim, w, proj, {0}, 0, AB_OK, err};
            if (each_containing_frame(cand[h], cand[k], iso_cb, &ctx) < 0)
                ctx.st = ab_error_set(err, AB_ENOMEM, "symmetry search: out of memory");
            st = ctx.st;
            if (ctx.found) {
                c->isotropy = k;
                /* v is fixed by T^T K T */
                transpose3(ctx.T, c->isotropy_frame);
            }
        }
    }
    /* the branches, and whether v ~ -v */
    ab_group *oh = NULL, *dh = NULL;
    for (int h = 0; h < ncand && st == AB_OK; h++) {
        ab_sym_candidate *c = &res->cand[h];
        if (c->dim != 1 || c->isotropy != h) continue;
        ab_sym_branch *b = &res->branch[res->nbranch];
        b->candidate = h;
        snprintf(b->name, sizeof b->name, "%s", cand[h]->name);
        b->order = cand[h]->order, b->continuous = cand[h]->continuous;
        b->v = malloc((size_t)n * sizeof *b->v);
        b->coeffs = malloc(nc * sizeof *b->coeffs);
        res->nbranch++;
        if (!b->v || !b->coeffs) {
            st = ab_error_set(err, AB_ENOMEM, "symmetry search: out of memory");
            break;
        }
        memcpy(b->coeffs, fix[h], nc * sizeof *b->coeffs);
        rep_from_coeffs(rep, b->coeffs, b->v);
        int k2 = 2 * (cand[h]->continuous ? 1 : zorder(cand[h]));
        if (k2 > AB_GROUP_K_MAX) k2 = AB_GROUP_K_MAX;
        ab_group *o0 = NULL, *d0 = NULL;
        st = group_make(K_OH, 0, 0, &o0, err);
        if (st == AB_OK) st = group_make(K_DH, k2, 0, &d0, err);
        if (st == AB_OK) st = ab_group_conjugate(o0, cand[h]->frame, &oh, err);
        if (st == AB_OK) st = ab_group_conjugate(d0, cand[h]->frame, &dh, err);
        ab_group_destroy(o0), ab_group_destroy(d0);
        double vn = norm(b->coeffs, nc);
        for (int which = 0; which < 2 && st == AB_OK && !b->flip; which++) {
            const ab_group *F = which ? dh : oh;
            for (int e = 0; e < F->order && st == AB_OK && !b->flip; e++) {
                st = ab_sym_rotate_coeffs(rep, F->R + 9 * e, b->coeffs, w, err);
                for (size_t t = 0; t < nc && st == AB_OK; t++) w[t] += b->coeffs[t];
                if (st == AB_OK && norm(w, nc) <= AB_SYM_FIXED_TOL * vn) {
                    b->flip = 1;
                    memcpy(b->flip_g, F->R + 9 * e, sizeof b->flip_g);
                }
            }
        }
        ab_group_destroy(oh), ab_group_destroy(dh);
        oh = dh = NULL;
    }
    if (fix)
        for (int i = 0; i < ncand; i++) free(fix[i]);
    free(fix), free(basis), free(w), free(proj);
    if (st != AB_OK) {
        ab_sym_search_result_destroy(res);
        return st;
    }
    *out = res;
    return AB_OK;
}
