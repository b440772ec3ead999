/* Atomic file output (temp file in the target directory + fsync + rename), mkdir -p, and
 * opening input files that must be regular files. Modes follow the umask (docs/cli.md). */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/io.h"
#include "io/io_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ab_file {
    FILE *stream;
    char *path;
    char *tmp_path;
};

unsigned long ab_unique_tag(uintptr_t salt)
{
    /* Not random, just unlikely to repeat: the clock, the process and a caller's salt,
     * mixed (splitmix64); callers retry on a clash. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t z = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 40) ^ (uint64_t)salt;
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (unsigned long)(z ^ (z >> 31));
}

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
    /* Not mkstemp: it creates mode 0600, and a result file should get 0666 minus the
     * umask like any other file the user creates. O_EXCL with a fresh name instead. */
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(f->tmp_path, len + 16, "%.*s.%s.%06lx", (int)dirlen, path, path + dirlen,
                 ab_unique_tag((uintptr_t)f + (unsigned)attempt) & 0xffffffUL);
        fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0 || !(f->stream = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) { close(fd); unlink(f->tmp_path); }
        ab_error_set(err, AB_EIO, "cannot create %s: %s", path, strerror(e));
        free(f->path); free(f->tmp_path); free(f);
        return AB_EIO;
    }
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
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) /* the umask decides the mode */
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

ab_status ab_open_input(const char *path, const char *what, ab_status code, FILE **out, ab_error *err)
{
    *out = NULL;
    /* O_NONBLOCK so that a FIFO does not block the open (waiting for a writer); the type
     * check then refuses it, and a regular file gets its blocking mode back. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return ab_error_set(err, code, "%s: cannot open %s: %s", path, what, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ab_error_set(err, code, "%s: cannot open %s: %s", path, what, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        const char *kind = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" :
                           S_ISCHR(st.st_mode) ? "a character device" : S_ISSOCK(st.st_mode) ? "a socket" :
                           S_ISBLK(st.st_mode) ? "a block device" : "not a regular file";
        return ab_error_set(err, code, "%s: cannot open %s: it is %s, not a regular file", path, what, kind);
    }
    int flags = fcntl(fd, F_GETFL);
    FILE *f = NULL;
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || !(f = fdopen(fd, "r"))) {
        int e = errno;
        close(fd);
        return ab_error_set(err, code, "%s: cannot open %s: %s", path, what, strerror(e));
    }
    *out = f;
    return AB_OK;
}
