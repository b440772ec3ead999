/* `attnbif check SPEC`: validate a spec and print it normalised (defaults filled in). */
#include "cli/cli.h"

#include "attnbif/results.h"

#include <stdio.h>
#include <stdlib.h>

int ab_cmd_check(const ab_cli_args *args)
{
    ab_spec *spec = calloc(1, sizeof *spec);
    if (!spec) return AB_EXIT_INTERNAL;
    int code = ab_cli_load(args, "check", spec);
    if (code) { free(spec); return code; }
    ab_json *j = ab_json_create(stdout);
    if (j) { ab_json_spec(j, spec); ab_json_destroy(j); }
    if (!args->quiet) fprintf(stderr, "attnbif: %s is a valid spec\n", args->spec_path);
    free(spec);
    return AB_EXIT_OK;
}
