/* The discretisation interface the solvers see: a vector space of unknowns, the
 * stationary residual F(u; kappa, beta) and its Jacobian, observables, and the linearised
 * Fokker-Planck operator per symmetry sector with its known symmetry and mass modes.
 * Solvers never look inside a discretisation: they see only these operations, so a new
 * discretisation needs no change to them. */
#ifndef ATTNBIF_DISC_H
#define ATTNBIF_DISC_H

#include "attnbif/error.h"
#include "attnbif/model.h"
#include "attnbif/problem.h"

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ab_disc ab_disc;
/* Specs are parsed above this layer (attnbif/spec.h); the discretisation only reads them. */
typedef struct ab_spec ab_spec;
typedef struct ab_state_spec ab_state_spec;

/* Orientation-independent observables of a state (docs/theory.md, Observables). */
typedef struct {
    double r;           /* polar order |int x rho| */
    double S;           /* nematic order (signed top eigenvalue of Q) */
    double entropy;     /* -int rho log rho dsigma (0 at the uniform state, < 0 otherwise) */
    double free_energy; /* USA: E(rho) - E(uniform) (docs/theory.md); NaN for SA */
    double mass;        /* int rho dsigma (1 at a solution) */
} ab_observables;

/* One cluster of a state on the whole sphere (docs/sphere.md, "Clusters"). */
typedef struct {
    double centre[3];  /* unit vector: the normalised sum of w rho x over the basin (the sphere's
                          solve results: the density's local maximum) */
    double mass;       /* sum of w rho over the basin (the cluster's share when rho has mass 1) */
    double peak;       /* rho at the maximum (a grid value) */
    double prominence; /* peak minus the highest level at which it joins a higher peak's
                          region (minus min rho for the highest peak) */
    double mass_error; /* estimated error of mass: the change from a grid of twice the
                          resolution (0 where not estimated) */
} ab_cluster;

/* The linearised operator restricted to one symmetry sector, as a dense matrix acting on
 * coefficient vectors, with what the stability analysis must know about it. Storage is
 * owned by the discretisation and valid until its next sector call. */
typedef struct {
    int sector;
    int dim;                /* matrix size */
    const double *matrix;   /* dim x dim, column-major (LAPACK layout) */
    long multiplicity;      /* how many copies of each eigenvalue the full operator has */
    int mass_removed;       /* 1 if the conserved-mass eigenvalue 0 was deflated out */
    int n_symmetry;         /* number of symmetry (Goldstone) vectors below (0 to AB_PROBLEM_MAX_SYMMETRIES) */
    const double *symmetry; /* n_symmetry vectors of length dim, column-major */
    /* A discretisation too large to assemble its operator (the sphere) leaves matrix NULL
     * and offers it as mat-vecs, with a preconditioner for the shift-invert solves
     * (GMRES) and an estimate of its norm (for the shift); all owned by the
     * discretisation, valid until its next sector call. */
    const ab_linop *linop;
    const ab_precond *precond;
    double norm_estimate;
    /* Rotation (symmetry) modes removed from the operator by construction, as the mass mode
     * is: reported as that many eigenvalues 0 of kind symmetry. */
    int symmetry_removed;
} ab_sector_op;

/* Create the discretisation a spec asks for, at the spec's kappa and beta (the spec must
 * fix the node count; with nodes: auto use ab_disc_create_with_nodes). */
ab_status ab_disc_create_from_spec(const ab_spec *spec, ab_disc **out, ab_error *err);
ab_status ab_disc_create_with_nodes(const ab_spec *spec, int nodes, ab_disc **out, ab_error *err);
/* u on disc from the state u_src of another discretisation of the same kind (finer or
 * coarser), by src's own interpolation; u is normalised. */
ab_status ab_disc_transfer(ab_disc *disc, ab_disc *src, const double *u_src, double *u, ab_error *err);
void ab_disc_destroy(ab_disc *disc);

/* Short description for output ("zonal, 128 Gauss-Jacobi nodes") and the kind of
 * discretisation ("zonal"), as results files record it. */
const char *ab_disc_name(const ab_disc *disc);
const char *ab_disc_kind(const ab_disc *disc);
/* The discretisation as a problem (owned by the disc, valid until it is destroyed): the
 * residual, its Jacobian as an operator (mat-vec, transpose, and the assembled matrix),
 * parameter derivatives, the quadrature inner product and the symmetry generators that act
 * on its unknowns (none for zonal states). Parameters: 0 = kappa, 1 = beta. */
ab_problem *ab_disc_problem(ab_disc *disc);
size_t ab_disc_dim(const ab_disc *disc);
const ab_model *ab_disc_model(const ab_disc *disc);
ab_params ab_disc_params(const ab_disc *disc);
/* Change kappa and/or beta (beta changes rebuild the kernel tables). */
ab_status ab_disc_set_params(ab_disc *disc, ab_params params, ab_error *err);

/* The discretisation's inner product on unknowns (quadrature-weighted L^2 for zonal). */
double ab_disc_dot(const ab_disc *disc, const double *x, const double *y);
/* The image of u under the reflection x -> -x (zonal: t -> -t); in != out. */
void ab_disc_reflect(const ab_disc *disc, const double *in, double *out);
/* How well u is resolved: *tail = size of the highest-degree modes of rho relative to its
 * mean; *nodes_needed = estimated node count for a tail of 1e-12 (from the decay rate). */
ab_status ab_disc_resolution(ab_disc *disc, const double *u, double *tail, int *nodes_needed, ab_error *err);
/* How accurately the discretisation represents the state u: which kernel form it uses
 * (chosen per state by an error estimate, docs/theory.md) and that form's estimated error
 * of Phi/kappa, and the spectral tail as ab_disc_resolution gives it. */
typedef struct {
    const char *kernel;  /* "funk-hecke" or "log-domain" (static string) */
    double kernel_error; /* estimated error of Phi/kappa, in units of u = log rho */
    double tail;
    int nodes_needed;
} ab_disc_accuracy;
ab_status ab_disc_accuracy_at(ab_disc *disc, const double *u, ab_disc_accuracy *acc, ab_error *err);

/* State I/O, in the discretisation's own format (zonal: a profile CSV t, theta, rho as
 * profiles/ holds, docs/output-run.md): load a saved state as an initial guess
 * (interpolated onto this discretisation). */
ab_status ab_disc_load_state(ab_disc *disc, const char *path, double *u, ab_error *err);

/* Initial guess from density samples (t_k, rho_k), e.g. a saved profile: log rho
 * interpolated onto the discretisation (t need not be sorted). */
ab_status ab_disc_guess_from_samples(ab_disc *disc, int n, const double *t, const double *rho, double *u,
                                     ab_error *err);

/* Stationary residual F(u) and its Jacobian dF/du (dim x dim, column-major; the same as
 * linearising the problem at u and assembling its operator). */
ab_status ab_disc_residual(ab_disc *disc, const double *u, double *F, ab_error *err);
ab_status ab_disc_jacobian(ab_disc *disc, const double *u, double *J, ab_error *err);
/* The quadrature weights of the inner product (dim values). */
const double *ab_disc_weights(const ab_disc *disc);
/* dF/dparam at u. */
ab_status ab_disc_dparam(ab_disc *disc, const double *u, ab_param_id which, double *dF, ab_error *err);

/* Newton-type solvers stop once max|F| is within this factor of the residual floor below
 * (docs/theory.md, "Newton"). */
#define AB_DISC_FLOOR_FACTOR 10.0

/* Size of the terms that make up F at the current parameters (1 + largest kernel weight /
 * kappa): F cannot be computed more accurately than machine epsilon times this, so
 * Newton's tolerance is relative to it. */
double ab_disc_residual_scale(const ab_disc *disc);
/* The estimated error of the kernel evaluation (in units of u) at the state of the last
 * Jacobian: no residual can be made smaller than this, so Newton stops there. */
double ab_disc_residual_floor(const ab_disc *disc);

ab_status ab_disc_observables(ab_disc *disc, const double *u, ab_observables *obs, ab_error *err);

/* An initial guess for Newton from the spec's state section. */
ab_status ab_disc_initial_guess(ab_disc *disc, const ab_state_spec *state, double *u, ab_error *err);

/* Largest sector index that exists (d = 2: 1). */
int ab_disc_max_sector(const ab_disc *disc);
/* Highest harmonic degree the discretisation represents (zonal: nodes - 1). */
int ab_disc_max_degree(const ab_disc *disc);
/* The size the spec sets: zonal, the node count; sphere, the harmonic degree L. */
int ab_disc_size(const ab_disc *disc);
/* How far the rotation vectors g of the state u are from null vectors of the discrete
 * linearised operator M: *residual = max |M g| / |g| (NaN without rotation vectors, e.g. at
 * the uniform state), *floor its rounding floor (docs/theory.md, "Adaptive resolution"). */
ab_status ab_disc_rotation_residual(ab_disc *disc, const double *u, double *residual, double *floor, ab_error *err);
/* The floor is this many times the rounding of M g (eps ||M||). */
#define AB_RESOLUTION_ROTATION_ROUNDING 100.0
/* Can a branch that bifurcates through a crossing in this sector be followed on this
 * discretisation (its states stay in the discretisation's space)? Zonal: sector 0 only. */
int ab_disc_sector_followable(const ab_disc *disc, int sector);
ab_status ab_disc_sector_operator(ab_disc *disc, const double *u, int sector, ab_sector_op *op,
                                  ab_error *err);

/* The polar profile of a state: its density along the meridian through the pole, as a
 * function of t = <x, pole> (theta = arccos t), at the discretisation's profile points and
 * on a fine grid of n points uniform in theta in [0, pi]. For a state symmetric about the
 * pole axis (zonal) this is the whole state and the profile points are its nodes; a
 * discretisation of the whole sphere takes the meridian through its chosen pole. */
typedef struct {
    int n;
    double *t, *theta, *rho; /* owned by the caller when filled by ab_disc_profile */
} ab_profile;
ab_status ab_disc_profile(ab_disc *disc, const double *u, int n_fine, ab_profile *nodes,
                          ab_profile *fine, ab_error *err);
void ab_profile_free(ab_profile *profile);

/* Density of the state u at n points of the same meridian given by t = <x, pole>, by the
 * discretisation's own interpolation rho = exp(Phi[rho]/kappa) / Z. */
ab_status ab_disc_density_at(ab_disc *disc, const double *u, int n, const double *t, double *rho,
                             ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
