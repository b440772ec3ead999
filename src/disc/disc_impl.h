/* What a discretisation implements: the vtable behind the opaque ab_disc. */
#ifndef AB_DISC_IMPL_H
#define AB_DISC_IMPL_H

#include "attnbif/disc.h"

typedef struct {
    const char *kind; /* "zonal" */
    const char *(*name)(const ab_disc *);
    void (*destroy)(ab_disc *);
    ab_status (*set_params)(ab_disc *, ab_params, ab_error *);
    ab_status (*residual)(ab_disc *, const double *, double *, ab_error *);
    /* The Jacobian at u as an operator: linearize fixes u (the operator stays that of u
     * while the residual is evaluated elsewhere), then mat-vec, transpose and assembly. */
    ab_status (*linearize)(ab_disc *, const double *, ab_error *);
    ab_status (*jac_apply)(ab_disc *, const double *, double *, ab_error *);
    ab_status (*jac_apply_transpose)(ab_disc *, const double *, double *, ab_error *);
    ab_status (*jac_matrix)(ab_disc *, double *, size_t, ab_error *);
    const double *(*weights)(const ab_disc *);
    int (*max_degree)(const ab_disc *);
    int (*sector_followable)(const ab_disc *, int);
    ab_status (*load_state)(ab_disc *, const char *, double *, ab_error *);
    ab_status (*dparam)(ab_disc *, const double *, ab_param_id, double *, ab_error *);
    double (*residual_scale)(const ab_disc *);
    double (*dot)(const ab_disc *, const double *, const double *);
    void (*reflect)(const ab_disc *, const double *, double *);
    ab_status (*resolution)(ab_disc *, const double *, double *, int *, ab_error *);
    ab_status (*guess_from_samples)(ab_disc *, int, const double *, const double *, double *, ab_error *);
    ab_status (*observables)(ab_disc *, const double *, ab_observables *, ab_error *);
    ab_status (*initial_guess)(ab_disc *, const ab_state_spec *, double *, ab_error *);
    int (*max_sector)(const ab_disc *);
    ab_status (*sector_operator)(ab_disc *, const double *, int, ab_sector_op *, ab_error *);
    ab_status (*profile)(ab_disc *, const double *, int, ab_profile *, ab_profile *, ab_error *);
    ab_status (*density_at)(ab_disc *, const double *, int, const double *, double *, ab_error *);
    ab_status (*accuracy)(ab_disc *, const double *, ab_disc_accuracy *, ab_error *);
    double (*residual_floor)(const ab_disc *);
    ab_status (*transfer)(ab_disc *, ab_disc *, const double *, double *, ab_error *);
    /* The size the spec sets (zonal: nodes; sphere: degree L). */
    int (*size)(const ab_disc *);
    /* |M g| / |g| for the rotation vectors g of the state's linearised operator M (exact
     * null vectors of the continuous operator) and that quantity's rounding floor; NaN
     * without rotation vectors (docs/theory.md, "Adaptive resolution"). */
    ab_status (*rotation_residual)(ab_disc *, const double *, double *, double *, ab_error *);
    /* Continuous symmetries acting on the unknowns (the problem's generators; 0: none). */
    int n_symmetries;
    ab_status (*symmetry)(ab_disc *, const double *, int, double *, ab_error *);
    /* optional: an approximate inverse of the Jacobian at the last linearisation (GMRES's
     * preconditioner; docs/library.md, "Problems") */
    ab_status (*precond_apply)(ab_disc *, const double *, double *, ab_error *);
} ab_disc_ops;

/* Every discretisation struct starts with this header. */
struct ab_disc {
    const ab_disc_ops *ops;
    ab_model model;
    ab_params params;
    size_t dim;
    ab_problem *problem; /* the problem view (ab_disc_problem), made by ab_disc_init */
    ab_problem_ops problem_ops; /* its operations (with this discretisation's symmetries) */
};

/* Finish a discretisation's header (ops, model, params, dim set): creates its problem
 * view. Concrete create functions call it last; ab_disc_destroy frees it. */
ab_status ab_disc_init(ab_disc *disc, ab_error *err);

#endif
