/* `attnbif simulate`: placeholder until the particle simulator lands. */
#include "cli/cli.h"

#include <stdio.h>

int ab_cmd_simulate(const ab_cli_args *args)
{
    (void)args;
    fprintf(stderr, "attnbif: error: simulate is not implemented yet\n");
    return AB_EXIT_INTERNAL;
}
