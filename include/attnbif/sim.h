/* Finite-n particle simulator (MATH.md sections 1, 6, 7). Placeholder: owned by the
 * simulator work (issue 4), which fills in this struct and the API. */
#ifndef ATTNBIF_SIM_H
#define ATTNBIF_SIM_H

#include "attnbif/error.h"
#include "attnbif/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The `simulation:` section of a spec. */
typedef struct {
    int n; /* tokens */
} ab_sim_spec;

#ifdef __cplusplus
}
#endif
#endif
