/* Internal: the diagram builder shared by its parts: following branches (builder.c),
 * events and their location (events.c), normal forms at branch points (normal_form.c) and
 * the queue of branches to switch to (branch_queue.c). All of it sits on the continuation
 * object (attnbif/cont.h) and the problem interface. */
#ifndef AB_BUILDER_H
#define AB_BUILDER_H

#include "attnbif/cont.h"
#include "attnbif/continuation.h"
#include "attnbif/solve.h"
#include "attnbif/state.h"

#include <stdio.h>

#define AB_MAX_EVENTS 16

/* Stability summary of one point, per monitored sector. */
typedef struct {
    int real_pos[AB_MAX_SECTORS]; /* real stability eigenvalues with re > err (slow ones, |re| <= err, */
    int cplx_pos[AB_MAX_SECTORS]; /* are not counted); complex ones with re > err (both of a pair) */
    long n_unstable;              /* with multiplicity, all sectors */
    double lead_re[AB_MAX_SECTORS]; /* largest re of the stability and slow eigenvalues per sector (NaN: none) */
} ab_stab_info;

/* A branch waiting to be followed from a branch point. */
typedef struct {
    double *x;     /* the branch point (u, p) */
    double *phi;   /* kernel vector, unit norm */
    double q1, q2; /* predicted p - p* = q1 xi + q2 xi^2 along the new branch */
    int n_dirs, dirs[2];
    int special;
    int predicted_side; /* pitchforks: sign of p - p* where the new branch exists; 0 if none */
    int nodes;          /* the grid x and phi live on (the branch's at the branch point) */
    int sym;            /* symmetric branching: 1 + index into ab_builder.syms; 0 for none */
} ab_pending;

/* The symmetry group of a branch born at a multiple branch point (docs/continuation.md,
 * "Symmetric branching"): its points are projected onto the group's fixed space. */
typedef struct {
    char name[16];       /* Schoenflies symbol */
    char description[64];
    int order;
    double *R;           /* order x 9, row-major matrices (owned) */
    int axial;           /* a continuous group about z: projected exactly by longitude means */
    int mirror;          /* ... which contains an element mapping z to -z */
} ab_branch_sym;

/* One discretisation and everything sized by it: with nodes: auto a branch moves to a finer
 * grid when its state sharpens (docs/theory.md, "Adaptive resolution"), so the builder keeps
 * the grids still in use, by node count. */
typedef struct {
    int nodes;
    ab_disc *disc;
    ab_problem *problem;
    int n, np1;
    ab_linsol *ls;
    ab_cont *cont;
    ab_newton *newton;
    ab_eigensolver *eig;
    double *xs[6];
    double *work, *work2, *work3;
} ab_grid;

typedef struct {
    /* the current grid's objects (copies of grids[grid]'s pointers; ab_builder_use_grid) */
    ab_disc *disc;
    ab_problem *problem;
    const ab_spec *spec;
    const ab_continuation_spec *cs;
    ab_cont_params prm;
    ab_diagram *diag;
    const ab_messages *messages; /* progress lines; NULL for none */
    int par, n, np1;
    ab_linsol *ls;
    ab_cont *cont;
    ab_newton *newton;
    ab_eigensolver *eig;
    double *xs[6];               /* scratch points (n + 1): 0-2 the driver's and branch switching's, 3-4
                                    event location's and the normal forms', 5 the fold test function's;
                                    no two users are active at once */
    double *work, *work2, *work3; /* scratch vectors (n + 1; work2 2 (n + 1)) */
    ab_pending *queue;
    int n_queue, cap_queue;
    int queue_next;               /* queue entries before this one are done (their grids may go) */
    int label_count[6];
    ab_grid *grids;               /* the grids in use (the current one, those of queued branch points) */
    int n_grids, cap_grids, grid; /* grid: index of the current one */
    int auto_nodes;               /* nodes: auto: branches re-discretise as they sharpen */
    ab_branch_sym *syms;          /* the groups of the symmetric branches queued or followed */
    int n_syms, cap_syms;
    int cur_sym;                  /* 1 + index of the followed branch's group, 0 for none */
} ab_builder;

/* builder.c */
void ab_builder_say(ab_builder *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
const char *ab_builder_par_name(const ab_builder *b);
ab_status ab_builder_set_p(ab_builder *b, double value, ab_error *err);
ab_status ab_builder_residual_at(ab_builder *b, const double *x, double *F, ab_error *err);
ab_status ab_builder_stability(ab_builder *b, const double *x, const int *sectors, int n_sectors, ab_stab_info *info,
                               ab_error *err);
void ab_builder_observe(ab_builder *b, const double *x, const ab_stab_info *si, ab_branch_point *bp);
int ab_builder_is_uniform(const ab_builder *b, const ab_branch_point *bp);
void ab_builder_warn(ab_builder *b, const char *fmt, double a, int i);
int ab_builder_add_special(ab_builder *b, ab_branch *br, const double *x, ab_special_point *sp, const ab_stab_info *si,
                           ab_error *err);
ab_status ab_builder_end_branch(ab_builder *b, ab_branch *br, const double *x, const ab_stab_info *si, const char *why,
                                ab_error *err);
/* Make the grid of the given node count current (created if absent; grids no longer needed
 * are freed, so pointers into the previous grid's vectors may die). */
ab_status ab_builder_use_grid(ab_builder *b, int nodes, ab_error *err);
/* A switched branch's first point x1 (from the branch point x0) the grid does not resolve:
 * the pair on a finer grid, which becomes current (builder.c). */
ab_status ab_builder_regrid_switched(ab_builder *b, const double *x0, const double *x1, double **pair, int *moved,
                                     ab_error *err);
ab_status ab_builder_follow(ab_builder *b, ab_branch *br, const double *x0, const double *tau0, ab_stab_info *si,
                            ab_error *err);

/* events.c: locate and record the special points between (xk, tauk) and (x1, tau1); a step
 * of length ds. *stop_at = index of a branch point already in the diagram, else -1. */
ab_status ab_builder_handle_events(ab_builder *b, ab_branch *br, const double *xk, const double *tauk, const double *x1,
                                   const double *tau1, double ds, const ab_stab_info *s0, const ab_stab_info *s1,
                                   int fold, int *stop_at, ab_error *err);

/* normal_form.c: classify the branch point at x and prepare the switch (pd->phi must hold
 * n doubles); dmu_dp is the crossing eigenvalue's slope in the parameter. */
ab_status ab_builder_reduce(ab_builder *b, const double *x, double dmu_dp, ab_special_point *sp, ab_pending *pd,
                            ab_error *err);
/* The same along a given kernel direction pd->phi with its left kernel vector psi (NULL:
 * both computed), e.g. one fixed by a subgroup at a multiple branch point; flip = 1 if a
 * symmetry maps phi onto -phi (one direction to follow), 0 if not, -1 to decide by the
 * reflection x -> -x as ab_builder_reduce does. The bordered solves stay in the subgroup's
 * fixed space with GMRES, where the kernel is phi alone. */
typedef struct {
    /* remove from a solution of the singular bordered systems its components along the
     * kernel directions other than phi (where it is undetermined, and GMRES leaves rounding
     * amplified) */
    ab_status (*apply)(void *ctx, double *v, ab_error *err);
    /* ... and from a right-hand side its components along the left kernel vectors of those
     * directions (the solvability condition: FD rounding puts some there) */
    ab_status (*apply_rhs)(void *ctx, double *r, ab_error *err);
    void *ctx;
} ab_kernel_clean;
ab_status ab_builder_reduce_along(ab_builder *b, const double *x, double dmu_dp, const double *psi, int flip,
                                  const ab_kernel_clean *clean, ab_special_point *sp, ab_pending *pd, ab_error *err);

/* symmetric.c: at a multiple branch point of the uniform state on the whole sphere, one
 * branch per conjugacy class of isotropy subgroups with a one-dimensional fixed space in
 * the degree-l kernel (equivariant branching lemma): records the special point (filled in
 * sp, stability si) and queues the branches. *idx = the special point's index. */
ab_status ab_builder_symmetric_branches(ab_builder *b, ab_branch *br, const double *x, int l, double dmu_dp,
                                        ab_special_point *sp, const ab_stab_info *si, int *idx, ab_error *err);
/* Project a point x or a tangent tau (the other NULL) onto the fixed space of the followed
 * branch's group (no-op without one): an ab_cont_project_fn. */
ab_status ab_builder_project(void *builder, double *x, double *tau, ab_error *err);
void ab_builder_free_syms(ab_builder *b);

/* branch_queue.c */
ab_status ab_builder_push_pending(ab_builder *b, const double *x, ab_pending *pd, ab_error *err);
int ab_builder_known_special(const ab_builder *b, const ab_special_point *sp);
int ab_builder_near_known_branch_point(const ab_builder *b, const ab_special_point *sp);
/* Follow the queued branches, breadth first (switching at each branch point). */
ab_status ab_builder_run_queue(ab_builder *b, ab_error *err);
void ab_builder_free_queue(ab_builder *b);

#endif
