/* Error reporting and output-directory choice shared by the subcommands. */
#include "cli/cli.h"

#include <stdio.h>

int ab_cli_fail(ab_status st, const ab_error *err)
{
    /* Messages quote the user's input; control characters in it (an ANSI escape in a
     * name or a path) are shown escaped, never sent to the terminal raw. */
    const char *msg = err && err->msg[0] ? err->msg : ab_status_name(st);
    fputs("attnbif: error: ", stderr);
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) fprintf(stderr, "\\x%02x", *c);
        else fputc(*c, stderr);
    }
    fputc('\n', stderr);
    switch (st) {
    case AB_OK: return AB_EXIT_OK;
    case AB_EINVAL:
    case AB_ESPEC: return AB_EXIT_INPUT;
    case AB_ENOCONV:
    case AB_ENAN:
    case AB_ELINALG: return AB_EXIT_NUMERIC;
    case AB_EIO: return AB_EXIT_IO;
    case AB_ENOMEM: return AB_EXIT_INTERNAL;
    }
    return AB_EXIT_INTERNAL;
}

const char *ab_cli_output_dir(const ab_cli_args *args, const ab_spec *spec)
{
    return args->out_dir ? args->out_dir : spec->output_dir;
}
