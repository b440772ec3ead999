/* Parser of the `simulation:` section (placeholder until the simulator lands). */
#include "spec/spec_sim.h"

ab_status ab_spec_parse_simulation(ab_yctx *ctx, const yaml_node_t *node, const ab_spec *spec,
                                   ab_sim_spec *out)
{
    (void)spec;
    static const char *const keys[] = {"n", NULL};
    ab_status st = ab_y_check_map(ctx, node, "simulation", keys);
    long n;
    if (!st) st = ab_y_int(ctx, node, "n", "simulation.n", 64, 2, 1000000, &n, NULL);
    if (!st) out->n = (int)n;
    return st;
}
