/* PNG copies of the SVG figures, rendered by rsvg-convert (Debian's librsvg2-bin; README,
 * "Dependencies"): written to a temporary name and renamed, as every output file. */
#define _GNU_SOURCE /* prctl */
#include "io/svg.h"

#include "attnbif/io.h"
#include "attnbif/spec.h"
#include "io/io_util.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The renderer's path from PATH into out (0), or -1 if it is not there. Done before the
 * fork, so that the child only calls prctl and execv. */
static int find_renderer(char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        const size_t n = end ? (size_t)(end - path) : strlen(path);
        if (n > 0 && (size_t)snprintf(out, cap, "%.*s/%s", (int)n, path, AB_PNG_RENDERER) < cap && access(out, X_OK) == 0)
            return 0;
        path += n + (end ? 1 : 0);
    }
    return -1;
}

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
    char exe[AB_PATH_MAX];
    if (find_renderer(exe, sizeof exe) != 0)
        return ab_error_set(err, AB_EIO,
                            "%s: cannot draw %s: the program rsvg-convert (Debian package librsvg2-bin) is not installed "
                            "or not on PATH; attnbif renders its figures to PNG with it (README, \"Dependencies\")",
                            dir, png_name);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return ab_error_set(err, AB_EIO, "%s: cannot start rsvg-convert for %s: %s", dir, png_name, strerror(errno));
    if (pid == 0) {
        /* the renderer dies with attnbif: a killed run must not leave it writing into the
         * staging directory that the next run removes (tests/test_fault.c) */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        execv(exe, argv);
        _exit(127);
    }
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
