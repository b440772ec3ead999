/* Problem specs: the YAML file format (version 1, docs/spec.md) parsed and validated into
 * a plain struct with every default filled in. */
#ifndef ATTNBIF_SPEC_H
#define ATTNBIF_SPEC_H

#include "attnbif/error.h"
#include "attnbif/cont.h"
#include "attnbif/linsol.h"
#include "attnbif/model.h"
#include "attnbif/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AB_PATH_MAX 1024
#define AB_NAME_MAX 128
#define AB_MAX_SECTORS 64

typedef enum {
    AB_STATE_UNIFORM = 0, /* rho = 1 */
    AB_STATE_CLUSTER,     /* one cluster at the pole */
    AB_STATE_ANTIPODAL,   /* two antipodal clusters at +-pole */
    AB_STATE_PERTURB,     /* 1 + amplitude * degree-l zonal harmonic (P_l(1) = 1) */
    AB_STATE_FILE,        /* a saved density profile (e.g. DIR/profiles/BP1.csv) */
    AB_STATE_LABEL,       /* a labelled point of an earlier run (DIR/labels/BP2.csv): restart there */
    AB_STATE_CLUSTERS     /* sphere only: clusters at given centres or at the vertices of an arrangement */
} ab_state_type;

/* Most clusters a `clusters` guess may place (the icosahedron has 12). */
#define AB_MAX_CLUSTERS 64
/* Longest arrangement name (polygon, tetrahedron, ...), with its terminating zero. */
#define AB_ARRANGEMENT_NAME_MAX 16

/* Longest label name (LP1, BP2, ..., EP123456), with its terminating zero. */
#define AB_LABEL_NAME_MAX 16

typedef struct ab_state_spec {
    ab_state_type type;
    int l;            /* perturb only */
    double amplitude; /* perturb only */
    double r;         /* cluster/antipodal: polar (cluster) or nematic-like target of the guess; 0: automatic */
    char path[AB_PATH_MAX]; /* file: the profile; label: the run directory */
    char label[AB_LABEL_NAME_MAX]; /* label only: which labelled point (BP2) */
    int switch_branch;             /* label only (a BP): follow the branches born there, not the label's own
                                      (AUTO's ISW = -1) */
    /* clusters only: either an arrangement (polygon with k, tetrahedron, octahedron, cube,
     * icosahedron) or n_centres unit vectors with positive weights (docs/sphere.md) */
    char arrangement[AB_ARRANGEMENT_NAME_MAX];
    int k;
    int n_centres;
    double centres[AB_MAX_CLUSTERS][3];
    double weights[AB_MAX_CLUSTERS];
} ab_state_spec;

/* The `continuation:` section (attnbif run). */
typedef struct {
    int present;
    int parameter;        /* 0: kappa, 1: beta (same values as ab_param_id) */
    double min, max;      /* window of the continuation parameter */
    int direction;        /* +1 or -1: initial direction of the parameter */
    double ds, ds_min, ds_max;
    int max_steps;        /* per branch */
    int switch_branches;  /* follow branches born at branch points */
    /* degrees l of the uniform state's branch points whose branches are followed (all if
     * n_degrees is 0): the catalogue of a user-given list of l (docs/spec.md) */
    int n_degrees;
    int degrees[AB_MAX_SECTORS];
    int max_branches;
    /* continuation.tolerances: every other tolerance of the continuation and the diagram
     * (docs/continuation.md, "Tolerances"); ds, ds_min, ds_max and newton_tol in it are
     * filled from the keys above and newton.tol */
    ab_cont_params tolerances;
} ab_continuation_spec;

/* The `two_parameter:` section (attnbif run; docs/spec.md, docs/curves.md): curves of the
 * special points of the one-parameter run in the plane of its parameter and a second one. */
typedef struct {
    int present;
    int follow_fold, follow_pitchfork, follow_transcritical; /* which special points start curves */
    int maxwell;    /* gradient models: the Maxwell curve beside each fold of stable states (default 1) */
    int parameter;  /* the second free parameter (an ab_param_id), != continuation.parameter */
    double min, max; /* its window */
    double ds, ds_min, ds_max;
    int max_steps;  /* per direction of a curve */
} ab_two_parameter_spec;

/* The `linear_solver:` section: which solver Newton and the corrector use. auto picks dense
 * LU up to AB_LINSOL_AUTO_DENSE_MAX unknowns and GMRES above: the measured crossover lies
 * between 16 nodes (a tie) and 32 (GMRES ahead in every measurement, and by 3-36x from 1024
 * up; docs/benchmarks.md, "Linear solvers"). */
#define AB_LINSOL_AUTO (-1)
#define AB_LINSOL_AUTO_DENSE_MAX 24
typedef struct {
    int type; /* AB_LINSOL_AUTO or an ab_linsol_type */
    ab_linsol_params params;
} ab_linear_solver_spec;

typedef enum { AB_DISC_ZONAL = 0, AB_DISC_SPHERE } ab_disc_type;

/* nodes: auto (the default): solve refines from AB_NODES_AUTO_START nodes until the state is
 * resolved (docs/theory.md, "Adaptive resolution"), up to nodes_max. */
#define AB_NODES_AUTO 0
#define AB_NODES_AUTO_START 32
#define AB_NODES_MAX_DEFAULT 1024
/* The sphere's size is its harmonic degree L (degree: auto starts at AB_SPHERE_DEGREE_AUTO_START
 * and stops at degree_max, by default AB_SPHERE_DEGREE_MAX_DEFAULT; docs/sphere.md). */
#define AB_SPHERE_DEGREE_AUTO_START 16
#define AB_SPHERE_DEGREE_MAX_DEFAULT 128
#define AB_SPHERE_DEGREE_MAX 512

/* How the kernel convolution is evaluated (docs/theory.md, "Choosing the kernel form"). */
typedef enum { AB_KERNEL_AUTO = 0, AB_KERNEL_FUNK_HECKE, AB_KERNEL_LOG_DOMAIN } ab_kernel_form;

typedef struct {
    ab_disc_type type;
    ab_kernel_form kernel;
    int nodes;     /* zonal: Gauss-Jacobi nodes in t = <x, pole>; sphere: the harmonic degree L;
                      AB_NODES_AUTO: chosen per state */
    int nodes_max; /* largest node count (degree) auto may choose */
} ab_disc_spec;

typedef struct {
    double tol;   /* max-norm of the log-density residual */
    int max_iter;
} ab_newton_spec;

/* The `limits:` section (docs/spec.md#limits): what a run may cost before it starts. The
 * estimates are checked by ab_spec_check_limits (src/spec/limits.h). */
typedef struct {
    double memory_gb;    /* largest estimated memory, GB (1e9 bytes) */
    double time_minutes; /* largest estimated CPU time, minutes */
    int enforce;         /* 0: estimates are reported but not refused */
} ab_limits_spec;

/* Where a section of the spec starts (1-based line and column; 0 if absent), so that
 * checks made after parsing can still name file:line:column. */
typedef struct {
    int line, col;
} ab_spec_mark;

typedef struct {
    ab_spec_mark root, discretization, state, eigen, continuation, simulation, limits, linear_solver, two_parameter;
} ab_spec_marks;

typedef struct ab_spec {
    char path[AB_PATH_MAX]; /* the spec file, as given */
    int version;
    char name[AB_NAME_MAX];
    ab_model model;
    double kappa;
    ab_disc_spec disc;
    ab_state_spec state;
    int n_sectors;
    int sectors[AB_MAX_SECTORS];
    ab_newton_spec newton;
    ab_linear_solver_spec linear_solver;
    char output_dir[AB_PATH_MAX];
    ab_continuation_spec continuation;
    ab_two_parameter_spec two_parameter;
    int has_simulation;
    ab_sim_spec simulation;
    ab_limits_spec limits;
    ab_spec_marks marks;
} ab_spec;

/* Bounds on the spec file itself, checked before YAML parsing (docs/spec.md#limits):
 * libyaml's time grows with the square of the nesting depth and its memory is ~80x the
 * file size. */
#define AB_SPEC_MAX_BYTES (1L << 20)
#define AB_SPEC_MAX_DEPTH 64

/* Parse and validate a spec file. On failure returns AB_ESPEC (or AB_EIO for a missing
 * file) with a message "FILE:LINE:COLUMN: FIELD: what is wrong". */
ab_status ab_spec_load(const char *path, ab_spec *spec, ab_error *err);

/* Same, from a string (path is only used in messages). */
ab_status ab_spec_parse_string(const char *text, const char *path, ab_spec *spec, ab_error *err);

const char *ab_state_type_name(ab_state_type type);
/* "zonal" or "sphere", as the spec's discretization.type spells it. */
const char *ab_disc_type_name(ab_disc_type type);
/* Unknowns of a discretisation of this type with this node count (sphere: degree) (0 if none). */
size_t ab_disc_dim_for(ab_disc_type type, int nodes);

/* The linear solver for a problem of n unknowns (resolves auto). */
ab_linsol_type ab_spec_linsol_type(const ab_spec *spec, size_t n);

/* Whether name is a label a run writes: LP, BP, HB or EP and a number from 1 without
 * leading zeros (so it is also a safe file name). */
int ab_label_name_valid(const char *name);

/* The largest node count the spec allows: nodes, or nodes_max with nodes: auto. */
int ab_spec_max_nodes(const ab_spec *spec);

#ifdef __cplusplus
}
#endif
#endif
