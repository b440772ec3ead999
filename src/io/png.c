/* PNG copies of the SVG figures, rendered by rsvg-convert (Debian's librsvg2-bin; README,
 * "Dependencies"): written to a temporary name and renamed, as every output file. */
#define _POSIX_C_SOURCE 200809L
#include "io/svg.h"

#include "attnbif/io.h"
#include "attnbif/spec.h"
#include "io/io_util.h"

#include <errno.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

ab_status ab_png_from_svg(const char *dir, const char *svg_name, ab_error *err)
{
    const size_t len = strlen(svg_name);
    if (len < 5 || strcmp(svg_name + len - 4, ".svg") != 0)
        return ab_error_set(err, AB_EINVAL, "%s: not an .svg name", svg_name);
    char svg[AB_PATH_MAX + 64], png[AB_PATH_MAX + 64], tmp[AB_PATH_MAX + 128], png_name[256];
    snprintf(png_name, sizeof png_name, "%.*s.png", (int)(len - 4), svg_name);
    ab_status st = ab_path_join(svg, sizeof svg, dir, svg_name, err);
    if (!st) st = ab_path_join(png, sizeof png, dir, png_name, err);
    if (st) return st;
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%lx", png, (long)getpid(), ab_unique_tag((uintptr_t)svg_name));
    char *argv[] = {"rsvg-convert", "--format=png", "-o", tmp, svg, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, AB_PNG_RENDERER, NULL, NULL, argv, environ);
    if (rc == ENOENT)
        return ab_error_set(err, AB_EIO,
                            "%s: cannot draw %s: the program rsvg-convert (Debian package librsvg2-bin) is not installed "
                            "or not on PATH; attnbif renders its figures to PNG with it (README, \"Dependencies\")",
                            dir, png_name);
    if (rc != 0) return ab_error_set(err, AB_EIO, "%s: cannot start rsvg-convert for %s: %s", dir, png_name, strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            unlink(tmp);
            return ab_error_set(err, AB_EIO, "%s: waiting for rsvg-convert (%s): %s", dir, png_name, strerror(errno));
        }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        unlink(tmp);
        return ab_error_set(err, AB_EIO, "%s: rsvg-convert failed on %s (%s %d)", dir, svg_name,
                            WIFEXITED(status) ? "exit status" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    if (rename(tmp, png) != 0) {
        const int e = errno;
        unlink(tmp);
        return ab_error_set(err, AB_EIO, "%s: cannot rename the rendered %s into place: %s", dir, png_name, strerror(e));
    }
    return AB_OK;
}
