/* Internal: the zonal discretisation's constructor, for the factory (src/disc/factory.c). */
#ifndef AB_ZONAL_H
#define AB_ZONAL_H

#include "attnbif/disc.h"
#include "attnbif/spec.h"

ab_status ab_zonal_create(const ab_model *model, ab_params params, int nodes, ab_kernel_form kernel, ab_disc **out,
                          ab_error *err);

#endif
