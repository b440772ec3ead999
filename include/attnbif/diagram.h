/* Bifurcation diagrams: branches of stationary states followed in kappa or beta and their
 * special points (folds, branch points, Hopf points, end points); the writers are in
 * attnbif/results.h. */
#ifndef ATTNBIF_DIAGRAM_H
#define ATTNBIF_DIAGRAM_H

#include "attnbif/disc.h"
#include "attnbif/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Warnings a diagram keeps (summary.json); later ones are dropped. */
#define AB_DIAGRAM_MAX_WARNINGS 8

typedef enum {
    AB_SP_NONE = 0,
    AB_SP_FOLD,          /* limit point: the branch turns back in the parameter (LP) */
    AB_SP_PITCHFORK,     /* symmetry-breaking branch point (BP) */
    AB_SP_TRANSCRITICAL, /* branch point with a non-zero quadratic coefficient (BP) */
    AB_SP_HOPF,          /* a complex pair crosses the imaginary axis (HB) */
    AB_SP_END            /* end of a branch: window edge, max_steps or failure (EP) */
} ab_special_type;

typedef enum {
    AB_CRIT_NONE = 0,   /* not a pitchfork */
    AB_CRIT_SUPERCRITICAL,
    AB_CRIT_SUBCRITICAL,
    AB_CRIT_DEGENERATE, /* cubic coefficient zero to working accuracy */
    AB_CRIT_UNKNOWN     /* pitchfork into a non-zonal sector: not computed */
} ab_criticality;

/* "fold", "pitchfork", ... and the AUTO-style short labels "LP", "BP", "HB", "EP". */
const char *ab_special_type_name(ab_special_type type);
const char *ab_special_label(ab_special_type type);
const char *ab_criticality_name(ab_criticality crit);

/* One computed point of a branch. */
typedef struct {
    double kappa, beta;
    double r, S, entropy, free_energy; /* free_energy NaN for SA */
    long n_unstable;                   /* stability eigenvalues with re > 0, with multiplicity */
    ab_special_type label;             /* AB_SP_NONE except on special rows */
    int special;                       /* index into ab_diagram.special, or -1 */
    int nodes;                         /* node count of the discretisation the point was computed on */
    double tail;                       /* the density's spectral tail there (ab_disc_resolution; NaN if unknown) */
    int n_clusters;                    /* sphere: clusters of the state (docs/sphere.md); -1 for zonal states */
    char symmetry[16];                 /* sphere: the point group verified on the state's density
                                          (Schoenflies; docs/sphere.md, "Symmetry of a state"); "" if not found */
    long cluster_first;                /* sphere: its clusters are ab_diagram.cluster_rows[cluster_first ..
                                          + n_clusters - 1] (centres, masses); -1 if none are stored */
    /* The largest real part of the stability (and slow) eigenvalues of each monitored sector,
     * in the order of spec->sectors (spectrum.svg, docs/output-run.md); NaN where none was
     * computed, and on special rows but end points (their crossing eigenvalue is zero by
     * definition; the stability they carry is that of one side). */
    double lead_re[AB_MAX_SECTORS];
} ab_branch_point;

typedef struct {
    int id;              /* 1-based, as written to branches.csv */
    int parent_special;  /* special point this branch was switched from, or -1 */
    int n_points, cap;
    ab_branch_point *points;
    char end_reason[200];
    /* What the branch is, for legends ("1-cluster", a symmetry group, ...): empty unless a
     * caller sets it, then the writers name it from its observables (docs/output-run.md,
     * "Branch names"). */
    char name[64];
    char symmetry[16];     /* symmetric branching: the Schoenflies symbol of its states' isotropy
                              ("T_d", "D_3h", "C_inf_v"; docs/symmetry.md); "" if not known */
    char description[64];  /* ... and what the states look like ("tetrahedral (degree 3)") */
} ab_branch;

typedef struct {
    ab_special_type type;
    double kappa, beta;
    int branch, point;         /* branch id and index of its row in that branch */
    int sector;                /* sector whose eigenvalue crosses (-1 for end points) */
    int l;                     /* degree l for branch points on the uniform branch, else -1 */
    ab_criticality criticality;
    int criticality_checked;   /* 1: the switched branch left on the predicted side; 0: not checked; -1: contradicts */
    double r, S;
    char note[200];            /* why a branch ended, "non-zonal branch not followed", ... */
    char profile[64];          /* file name under profiles/ ("" if none) */
    ab_profile nodes;          /* density at the discretisation nodes (owned) */
    /* What a restart from this point needs (written to labels/, docs/output-run.md): the
     * point x = (u, p) and the unit tangent of its branch there (dim + 1 each), and at a
     * branch point the kernel vector of F_u (dim; NULL elsewhere). Owned; NULL if absent. */
    size_t dim;
    int disc_nodes;            /* node count of the discretisation x lives on */
    double *x, *tangent, *null_vector;
    /* sphere: the clusters and the density on a longitude-latitude map (map_nlat x map_nlon
     * cells, rows from the south; NULL for zonal states), as `solve` reports them */
    int n_clusters;
    ab_cluster clusters[AB_MAX_CLUSTERS];
    int map_nlat, map_nlon;
    double *map;
} ab_special_point;

struct ab_curve_set; /* attnbif/curves.h */

typedef struct {
    const ab_spec *spec;
    ab_param_id parameter; /* continuation parameter */
    int n_branches, cap_branches;
    ab_branch *branches;
    int n_special, cap_special;
    ab_special_point *special;
    /* sphere: the cluster decomposition of every point (ab_branch_point.cluster_first) */
    long n_cluster_rows, cap_cluster_rows;
    ab_cluster *cluster_rows;
    int n_warnings;
    char warnings[AB_DIAGRAM_MAX_WARNINGS][256]; /* the first ones (later ones are dropped) */
    int nodes;        /* the largest node count any point was computed on (nodes: auto: per branch, as
                         its states sharpen; each point's own count is ab_branch_point.nodes) */
    int nodes_needed; /* > nodes if a branch ended for want of resolution */
    /* two_parameter: the curves in (kappa, beta) (attnbif/curves.h), written with the
     * diagram (curves.csv, phase_diagram.svg); NULL if none. Not owned. */
    const struct ab_curve_set *curves;
} ab_diagram;

void ab_diagram_init(ab_diagram *diagram, const ab_spec *spec, ab_param_id parameter);
void ab_diagram_free(ab_diagram *diagram);
/* Append a branch (returns it, NULL on allocation failure) / a point / a special point. */
ab_branch *ab_diagram_add_branch(ab_diagram *diagram, int parent_special);
ab_status ab_branch_add_point(ab_branch *branch, const ab_branch_point *point, ab_error *err);
int ab_diagram_add_special(ab_diagram *diagram, const ab_special_point *sp); /* index or -1 */
/* Store n clusters of one point; the index of the first, or -1 (out of memory). */
long ab_diagram_add_clusters(ab_diagram *diagram, const ab_cluster *clusters, int n);



#ifdef __cplusplus
}
#endif
#endif
