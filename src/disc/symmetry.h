/* Internal: closed subgroups of O(3) as explicit matrix lists, their action on real spherical
 * harmonics (one degree, or a computed subspace of degree <= L), fixed-point spaces, and the
 * search of the equivariant branching lemma (docs/symmetry.md). */
#ifndef AB_SYMMETRY_H
#define AB_SYMMETRY_H

#include "attnbif/error.h"

#include <stddef.h>

/* ---- Tolerances and limits (docs/symmetry.md, "Tolerances"). */

/* Two 3 x 3 orthogonal matrices are the same group element when no entry differs by more than
 * this. Distinct elements of the groups built here differ by at least 1 - cos(2 pi / N) in
 * some entry (N <= 2 AB_GROUP_DEGREE_MAX + 1 = 1025: >= 1.9e-5), and every element is written
 * out or is a product of at most a few dozen generators (rounding a few 1e-16). */
#define AB_GROUP_MATRIX_TOL 1e-9
/* dim Fix(G) is the trace of the averaged projector, an integer in exact arithmetic: a trace
 * further than this from an integer means the representation is not one of G (a subspace that
 * is not invariant, a group that does not average exactly at this degree) and is an error.
 * Rounding of the quadrature and of the average is ~1e-14 at the degrees used here. */
#define AB_SYM_INTEGER_TOL 1e-8
/* The largest leakage (relative norm of the part of a rotated basis vector outside the space)
 * accepted when averaging over a group on a subspace: an invariant space leaks only rounding
 * (~1e-15), and the compression of a non-invariant one can still have an integer trace (a
 * space orthogonal to Fix(G) gives 0), so invariance is checked directly. A computed
 * eigenspace is invariant only to the solver's accuracy: ab_sym_rep_set_leak_tol raises the
 * bound per representation (and the integer test's tolerance with it). */
#define AB_SYM_LEAK_TOL 1e-8
/* A vector counts as fixed by a group (or as mapped to its negative by an element) when the
 * residual, relative to its norm, is below this: exact relations hold to ~1e-14, and a wrong
 * one misses by O(1) (a different harmonic content). */
#define AB_SYM_FIXED_TOL 1e-8
/* An eigenvalue of the averaged projector above this belongs to the fixed space (exactly
 * 0 or 1, so any threshold well inside (0, 1) is equivalent). */
#define AB_SYM_EIG_SPLIT 0.5
/* Columns of a subspace basis whose remaining norm after orthogonalisation against the
 * previous ones is below this (relative) are linearly dependent: an error. */
#define AB_SYM_RANK_TOL 1e-10
/* The largest principal order k of the axial groups (C_k, D_kh, ...) and the largest degree
 * a continuous group must average exactly on (its finite stand-in has 2 degree + 1 elements
 * per component). */
#define AB_GROUP_K_MAX 256
#define AB_GROUP_DEGREE_MAX 512
/* Room for a Schoenflies name ("C_inf_v", "D_256h", "S_512"). */
#define AB_GROUP_NAME_MAX 16

/* ---- Groups. */

/* A closed subgroup of O(3) as an explicit list of 3 x 3 orthogonal matrices, row-major,
 * R[9 g + 3 i + j], the identity first. Finite groups are listed exactly. A continuous
 * (axial) group -- C_inf = SO(2), C_inf_v = O(2)^-, C_inf_h = SO(2) x {+-I}, D_inf = O(2),
 * D_inf_h = O(2) x {+-I} -- is stood in for by its finite subgroup with N = 2 exact_degree + 1
 * rotations about the axis (C_N, C_Nv, C_Nh, D_N, D_Nh): averaging over it equals the Haar
 * average on every function of degree <= exact_degree (a harmonic e^{i m phi} averages to zero
 * over C_N unless N divides m), while membership (ab_group_contains) is tested against the
 * continuous group itself.
 *
 * Standard orientations (docs/symmetry.md, "Groups"): principal axis along z; for D_k, D_kh,
 * D_kd a 2-fold axis along x; for C_kv and D_kh the mirror plane x-z; for D_kd the mirrors
 * between the 2-fold axes (at angles pi (2j+1) / 2k); T, T_d, T_h, O, O_h with the 2-fold
 * (T) or 4-fold (O) axes along the coordinate axes and a 3-fold axis along (1, 1, 1), T_d
 * holding the tetrahedron (1,1,1), (1,-1,-1), (-1,1,-1), (-1,-1,1); I, I_h with a 5-fold axis
 * along z, a 2-fold axis along x and a vertex of the icosahedron at (0, 2, 1) / sqrt 5.
 * A group made with a frame Q (ab_group_conjugate) is Q G Q^T. */
typedef struct {
    char name[AB_GROUP_NAME_MAX]; /* Schoenflies: "C_3v", "D_4d", "S_6", "T_d", "D_inf_h", ... */
    int order;                    /* number of matrices listed */
    int continuous;               /* 1: stands for a continuous group (see above) */
    int exact_degree;             /* averaging is exact up to this degree (finite groups: INT_MAX) */
    int kind;                     /* internal: the family (for membership and names) */
    int k;                        /* principal order (axial families); 0 for T, O, I */
    double frame[9];              /* Q: the group is Q G_standard Q^T */
    double *R;                    /* order x 9 */
} ab_group;

/* The group named (the names above; k from 2 to AB_GROUP_K_MAX; S_n with n even >= 4; also
 * "SO(2)" = C_inf, "O(2)" = D_inf, "O(2)^-" = C_inf_v) in its standard orientation.
 * exact_degree (0 .. AB_GROUP_DEGREE_MAX) matters only for the continuous ones. */
ab_status ab_group_create(const char *name, int exact_degree, ab_group **out, ab_error *err);
/* Q G Q^T for an orthogonal Q (det +1 or -1; checked to AB_GROUP_MATRIX_TOL). */
ab_status ab_group_conjugate(const ab_group *g, const double Q[9], ab_group **out, ab_error *err);
void ab_group_destroy(ab_group *g);
/* Whether the orthogonal matrix m belongs to the group (continuous groups: to the continuous
 * group, not only to its finite stand-in). */
int ab_group_contains(const ab_group *g, const double m[9]);

/* The candidates of the branching lemma, each once in its standard orientation: C_k, C_kv,
 * C_kh, S_2k, D_k, D_kh, D_kd for k = 2..kmax, T, T_d, T_h, O, O_h, I, I_h, and C_inf,
 * C_inf_v, C_inf_h, D_inf, D_inf_h (exact to exact_degree). Up to conjugacy these are all
 * closed subgroups of O(3) except the trivial ones (C_1, C_s, C_i), SO(3), O(3) and the axial
 * ones with k > kmax, which for degree l <= kmax fix only zonal harmonics, as do the
 * continuous ones (docs/symmetry.md): kmax = l is complete for degree l. */
typedef struct {
    int count;
    ab_group **g;
} ab_group_set;
ab_status ab_group_set_create(int kmax, int exact_degree, ab_group_set **out, ab_error *err);
void ab_group_set_destroy(ab_group_set *s);

/* ---- Representations. */

/* The action (g.f)(x) = f(g^{-1} x) of O(3) restricted to an n-dimensional space of real
 * functions on S^2 of degree <= L, given by an orthonormal basis of SH coefficient vectors
 * (index l*l + l + m, src/disc/sht.h). Matrices of the action are n x n, row-major: column j
 * holds the coordinates of g.(basis j), projected back onto the space. */
typedef struct ab_sym_rep ab_sym_rep;

/* Degree l (0 .. AB_GROUP_DEGREE_MAX): the (2 l + 1)-dimensional space of degree-l
 * harmonics, basis Y_l,-l .. Y_l,l (coordinates = the coefficients l*l .. l*l + 2l);
 * its matrices are D^l(g). */
ab_status ab_sym_rep_create_degree(int l, ab_sym_rep **out, ab_error *err);

/* A subspace of degree <= L (e.g. a computed critical eigenspace), n columns, column j at
 * basis + j * ld. kind AB_SYM_BASIS_COEFFS: (L+1)^2 SH coefficients each (nlat, nlon
 * ignored). kind AB_SYM_BASIS_GRID: values on the grid of ab_sht_create(L, nlat, nlon)
 * (nlat = nlon = 0: the smallest), analysed to coefficients; the relative L2(sigma) norm of
 * what the analysis loses (content above degree L) is reported by
 * ab_sym_rep_truncation. The columns need not be orthonormal: they are orthonormalised
 * (modified Gram-Schmidt, twice) in coefficient space, i.e. in L2(sigma). */
enum { AB_SYM_BASIS_COEFFS = 0, AB_SYM_BASIS_GRID = 1 };
ab_status ab_sym_rep_create_subspace(int L, int nlat, int nlon, int n, const double *basis, size_t ld, int kind,
                                     ab_sym_rep **out, ab_error *err);
void ab_sym_rep_destroy(ab_sym_rep *rep);
/* The leakage accepted by ab_sym_fixed on this representation (default AB_SYM_LEAK_TOL;
 * tol in [AB_SYM_LEAK_TOL, 0.1]). */
ab_status ab_sym_rep_set_leak_tol(ab_sym_rep *rep, double tol, ab_error *err);

int ab_sym_rep_dim(const ab_sym_rep *rep);            /* n */
int ab_sym_rep_degree(const ab_sym_rep *rep);         /* L (l for a degree rep) */
size_t ab_sym_rep_ncoeffs(const ab_sym_rep *rep);     /* (L + 1)^2 */
double ab_sym_rep_truncation(const ab_sym_rep *rep);  /* grid input: content lost; else 0 */
/* The orthonormal basis in coefficient space, ncoeffs x n, column j at j * ncoeffs (NULL for a
 * degree rep, whose basis is the unit vectors l*l .. l*l + 2l). */
const double *ab_sym_rep_basis(const ab_sym_rep *rep);
/* SH coefficients (ncoeffs) of the function with coordinates x (n) in the basis. */
void ab_sym_rep_to_coeffs(const ab_sym_rep *rep, const double *x, double *coeffs);

/* The matrix M (n x n, row-major) of g (orthogonal 3 x 3, row-major) on the space, and the
 * leakage: the largest relative norm of the part of g.(basis j) outside the space (rounding,
 * ~1e-15, for an invariant space; a subspace that is not invariant under g shows it here).
 * leak may be NULL. Exact for band-limited functions: each column is rotated by evaluating it
 * at g^T x on a Gauss grid of degree L and analysing. */
ab_status ab_sym_rep_matrix(ab_sym_rep *rep, const double g[9], double *M, double *leak, ab_error *err);
/* g.f for any coefficient vector of degree <= L (ncoeffs in, ncoeffs out, not aliased). */
ab_status ab_sym_rotate_coeffs(ab_sym_rep *rep, const double g[9], const double *in, double *out, ab_error *err);

/* ---- Fixed-point spaces. */

/* P = (1/|G|) sum_g M(g) (n x n row-major, may be NULL), dim Fix(G) = trace P (an error if
 * not within AB_SYM_INTEGER_TOL of an integer, or if the group does not average exactly at
 * degree L, or if some element moves the space out of itself by more than the rep's leakage
 * tolerance), and an orthonormal basis of Fix(G) in the rep's coordinates (column-major n x dim
 * into basis, room for cap columns; may be NULL). A one-dimensional fixed space's vector is
 * signed so that its largest coordinate (the first within 1e-8 of the largest in modulus)
 * is positive. leak: the largest leakage over the elements (may be NULL). */
ab_status ab_sym_fixed(ab_sym_rep *rep, const ab_group *G, double *P, int *dim, double *basis, int cap, double *leak,
                       ab_error *err);

/* ---- The branching-lemma search. */

typedef struct {
    const ab_group *group; /* the candidate (borrowed from the list searched) */
    int dim;               /* dim Fix(group); -1: the group does not keep the space (leakage
                              above the rep's tolerance), left out of the search */
    int isotropy;          /* dim == 1: index of the candidate whose conjugate Q K Q^T is the
                              largest candidate fixing the fixed vector (itself when maximal);
                              -1 otherwise */
    double isotropy_frame[9]; /* Q */
} ab_sym_candidate;

typedef struct {
    int candidate;  /* index into the candidate list */
    char name[AB_GROUP_NAME_MAX];
    int order;      /* of the listed elements (continuous: of the finite stand-in) */
    int continuous;
    double *v;      /* the unit fixed vector, n coordinates */
    double *coeffs; /* ... as SH coefficients, ncoeffs */
    int flip;       /* 1: some g in O(3) (flip_g) maps v to -v: one direction suffices */
    double flip_g[9];
} ab_sym_branch;

typedef struct {
    int ncand;
    ab_sym_candidate *cand;
    int nbranch;
    ab_sym_branch *branch;
    int n;          /* dimension of the representation */
    size_t ncoeffs;
    double leak;    /* the largest leakage met */
} ab_sym_search_result;

/* For every candidate that keeps the space: dim Fix. For those with dim Fix = 1: the
 * isotropy of the fixed vector among the candidates and their conjugates (a candidate K whose conjugate contains H and has
 * a nonzero fixed space fixes H's vector, as Fix(K) lies in the line Fix(H)); the maximal ones
 * (isotropy = itself) are the branches, with their vectors and whether v and -v are conjugate
 * (tested with -I and the elements of O_h and D_2k,h in the candidate's frame, which contain
 * representatives of the normaliser classes that can flip a vector of the candidates here).
 * Candidates pairwise non-conjugate (as ab_group_set_create's) give one branch per conjugacy
 * class. For a subspace of a state with symmetry Gamma, pass subgroups of Gamma in Gamma's
 * frame: a group that keeps the space without being a symmetry of the problem would give a
 * spurious branch, and the same group in two frames is not merged (docs/symmetry.md). */
ab_status ab_sym_search(ab_sym_rep *rep, ab_group *const *cand, int ncand, ab_sym_search_result **out, ab_error *err);
void ab_sym_search_result_destroy(ab_sym_search_result *r);

#endif
