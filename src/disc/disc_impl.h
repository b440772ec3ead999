/* What a discretisation implements: the vtable behind the opaque ab_disc. */
#ifndef AB_DISC_IMPL_H
#define AB_DISC_IMPL_H

#include "attnbif/disc.h"

typedef struct {
    const char *(*name)(const ab_disc *);
    void (*destroy)(ab_disc *);
    ab_status (*set_params)(ab_disc *, ab_params, ab_error *);
    ab_status (*residual)(ab_disc *, const double *, double *, ab_error *);
    ab_status (*jacobian)(ab_disc *, const double *, double *, ab_error *);
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
} ab_disc_ops;

/* Every discretisation struct starts with this header. */
struct ab_disc {
    const ab_disc_ops *ops;
    ab_model model;
    ab_params params;
    size_t dim;
};

ab_status ab_zonal_create(const ab_model *model, ab_params params, int nodes, ab_kernel_form kernel, ab_disc **out,
                          ab_error *err);

#endif
