/* Atomic file output (temp file in the target directory + fsync + rename) and mkdir -p. */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ab_file {
    FILE *stream;
    char *path;
    char *tmp_path;
};

ab_status ab_path_join(char *out, size_t cap, const char *dir, const char *name, ab_error *err)
{
    int n = (dir && dir[0]) ? snprintf(out, cap, "%s/%s", dir, name) : snprintf(out, cap, "%s", name);
    if (n < 0 || (size_t)n >= cap)
        return ab_error_set(err, AB_EIO, "path too long: %s/%s", dir ? dir : "", name);
    return AB_OK;
}

ab_status ab_file_open(const char *path, ab_file **out, ab_error *err)
{
    *out = NULL;
    ab_file *f = calloc(1, sizeof *f);
    size_t len = strlen(path);
    if (!f) return ab_error_set(err, AB_ENOMEM, "out of memory opening %s", path);
    f->path = malloc(len + 1);
    f->tmp_path = malloc(len + 16);
    if (!f->path || !f->tmp_path) {
        free(f->path); free(f->tmp_path); free(f);
        return ab_error_set(err, AB_ENOMEM, "out of memory opening %s", path);
    }
    memcpy(f->path, path, len + 1);
    /* Temp file beside the target (same file system, so rename is atomic), hidden by a
     * leading dot in its base name. */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(f->tmp_path, len + 16, "%.*s.%s.XXXXXX", (int)dirlen, path, path + dirlen);
    int fd = mkstemp(f->tmp_path);
    if (fd < 0 || !(f->stream = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) { close(fd); unlink(f->tmp_path); }
        ab_error_set(err, AB_EIO, "cannot create %s: %s", path, strerror(e));
        free(f->path); free(f->tmp_path); free(f);
        return AB_EIO;
    }
    fchmod(fd, 0644);
    *out = f;
    return AB_OK;
}

FILE *ab_file_stream(ab_file *file) { return file->stream; }

void ab_file_abort(ab_file *file)
{
    if (!file) return;
    if (file->stream) fclose(file->stream);
    unlink(file->tmp_path);
    free(file->path);
    free(file->tmp_path);
    free(file);
}

ab_status ab_file_commit(ab_file *file, ab_error *err)
{
    int bad = ferror(file->stream) != 0;
    bad |= fflush(file->stream) != 0;
    bad |= fsync(fileno(file->stream)) != 0;
    int e = errno;
    bad |= fclose(file->stream) != 0;
    file->stream = NULL;
    if (bad || rename(file->tmp_path, file->path) != 0) {
        if (!bad) e = errno;
        ab_error_set(err, AB_EIO, "cannot write %s: %s", file->path, strerror(e));
        ab_file_abort(file);
        return AB_EIO;
    }
    free(file->path);
    free(file->tmp_path);
    free(file);
    return AB_OK;
}

ab_status ab_mkdir_p(const char *dir, ab_error *err)
{
    char buf[4096];
    size_t len = strlen(dir);
    if (len == 0) return AB_OK;
    if (len >= sizeof buf) return ab_error_set(err, AB_EIO, "directory name too long: %s", dir);
    memcpy(buf, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return ab_error_set(err, AB_EIO, "cannot create directory %s: %s", buf, strerror(errno));
        buf[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ab_error_set(err, AB_EIO, "%s exists and is not a directory", dir);
    return AB_OK;
}

ab_status ab_file_open_in(const char *dir, const char *name, ab_file **out, ab_error *err)
{
    char path[4096];
    ab_status st = ab_path_join(path, sizeof path, dir, name, err);
    return st ? st : ab_file_open(path, out, err);
}
