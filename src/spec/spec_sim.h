/* Parser of the `simulation:` section of a spec (implemented with the simulator). */
#ifndef AB_SPEC_SIM_H
#define AB_SPEC_SIM_H

#include "attnbif/spec.h"
#include "spec/yaml_util.h"

/* node is the value of the top-level `simulation` key; spec holds the already-validated
 * top-level fields (model, kappa, ...) for defaults. Errors via ab_y_fail. */
ab_status ab_spec_parse_simulation(ab_yctx *ctx, const yaml_node_t *node, const ab_spec *spec,
                                   ab_sim_spec *out);

#endif
