/* Result directories as all-or-nothing transactions: a lock file beside the target, the
 * result built in a hidden temporary sibling and swapped into place whole (docs/cli.md). */
#define _GNU_SOURCE /* renameat2, RENAME_EXCHANGE */
#include "attnbif/io.h"
#include "io/io_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Paths are bounded by the Linux PATH_MAX; names by NAME_MAX. */
enum { OUT_PATH = 4096, OUT_NAME = 256 };

struct ab_outdir {
    char target[OUT_PATH]; /* the result directory */
    char parent[OUT_PATH]; /* its parent directory ("." if none was given) */
    char base[OUT_NAME];   /* its last component */
    char lock[OUT_PATH];   /* parent/.base.lock */
    char tmp[OUT_PATH];    /* parent/.base.tmp-PID-XXXXXX, while begun */
    int lock_fd;
    int begun;
    int stale_removed;
};

/* Split dir into parent and base name (trailing slashes dropped). */
static ab_status split(ab_outdir *od, const char *dir, ab_error *err)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    if (len == 0 || len >= OUT_PATH) return ab_error_set(err, AB_EINVAL, "bad result directory name '%s'", dir);
    memcpy(od->target, dir, len);
    od->target[len] = '\0';
    const char *slash = strrchr(od->target, '/');
    const char *base = slash ? slash + 1 : od->target;
    if (!base[0] || !strcmp(base, ".") || !strcmp(base, ".."))
        return ab_error_set(err, AB_EINVAL,
                            "cannot write results to '%s': a result directory is replaced as a whole, so it "
                            "needs a name of its own (e.g. -o results/NAME)", dir);
    if (strlen(base) >= OUT_NAME - 32)
        return ab_error_set(err, AB_EINVAL, "result directory name too long: %s", base);
    snprintf(od->base, sizeof od->base, "%s", base);
    if (!slash) snprintf(od->parent, sizeof od->parent, ".");
    else if (slash == od->target) snprintf(od->parent, sizeof od->parent, "/");
    else snprintf(od->parent, sizeof od->parent, "%.*s", (int)(slash - od->target), od->target);
    int n = snprintf(od->lock, sizeof od->lock, "%s/.%s.lock", od->parent, od->base);
    if (n < 0 || n >= (int)sizeof od->lock) return ab_error_set(err, AB_EINVAL, "path too long: %s", dir);
    return AB_OK;
}

/* rm -r of name inside the directory parent_fd, without following symbolic links. */
static int remove_tree(int parent_fd, const char *name)
{
    if (unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT) return 0;
    if (errno != EISDIR && errno != EPERM) return -1;
    int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    DIR *d = fdopendir(fd);
    if (!d) { close(fd); return -1; }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && remove_tree(fd, e->d_name)) rc = -1;
    closedir(d);
    if (unlinkat(parent_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) rc = -1;
    return rc;
}

static int remove_path(const char *path) { return remove_tree(AT_FDCWD, path); }

/* What is at the target: 0 absent or an empty directory or an attnbif result (replaceable),
 * else an error. A result is recognised by its summary.json, which every command writes
 * last and which starts with "program": "attnbif". */
static ab_status check_target(const ab_outdir *od, ab_error *err)
{
    struct stat st;
    if (lstat(od->target, &st) != 0) {
        if (errno == ENOENT) return AB_OK;
        return ab_error_set(err, AB_EIO, "cannot use %s as the result directory: %s", od->target, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return ab_error_set(err, AB_EIO, "%s exists and is not a directory; remove it or choose another result directory",
                            od->target);
    DIR *d = opendir(od->target);
    if (!d) return ab_error_set(err, AB_EIO, "cannot read %s: %s", od->target, strerror(errno));
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries++;
    closedir(d);
    if (entries == 0) return AB_OK;
    char path[OUT_PATH + 16], head[256] = "";
    snprintf(path, sizeof path, "%s/summary.json", od->target);
    FILE *f = NULL;
    ab_error ignored = {0};
    if (ab_open_input(path, "summary", AB_EIO, &f, &ignored) == AB_OK) {
        size_t n = fread(head, 1, sizeof head - 1, f);
        head[n] = '\0';
        fclose(f);
    }
    if (!strstr(head, "\"program\": \"attnbif\""))
        return ab_error_set(err, AB_EIO,
                            "%s exists and is not an attnbif result (no summary.json written by attnbif); it would be "
                            "replaced as a whole, so remove it yourself or choose another result directory", od->target);
    return AB_OK;
}

/* Whether s is the PID-XXXXXX tail of a temporary's name (make_temp_dir). Checked in full
 * so that the temporaries of a directory named, say, "x.tmp-1" (".x.tmp-1.tmp-PID-XXXXXX")
 * are not taken for those of "x". */
static int is_temp_suffix(const char *s)
{
    int digits = 0, hex = 0;
    while (*s >= '0' && *s <= '9') { s++; digits++; }
    if (digits == 0 || *s++ != '-') return 0;
    while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')) { s++; hex++; }
    return hex == 6 && *s == '\0';
}

/* Remove parent/.base.tmp-* left by runs that were killed (SIGKILL, power loss). Only
 * called with the lock held: every run creates its temporary under the lock and removes
 * it before releasing it, so while we hold the lock no live run owns one. */
static void remove_stale(ab_outdir *od)
{
    char prefix[OUT_NAME + 8];
    int plen = snprintf(prefix, sizeof prefix, ".%s.tmp-", od->base);
    int pfd = open(od->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0) return;
    DIR *d = fdopendir(pfd);
    if (!d) { close(pfd); return; }
    /* collect first: removing while reading the same directory stream may skip entries */
    char (*names)[OUT_NAME] = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, (size_t)plen) && is_temp_suffix(e->d_name + plen) && strlen(e->d_name) < OUT_NAME) {
            if (n == cap) {
                int nc = cap ? 2 * cap : 8;
                char(*nn)[OUT_NAME] = realloc(names, sizeof *names * (size_t)nc);
                if (!nn) break;
                names = nn;
                cap = nc;
            }
            memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);
        }
    for (int i = 0; i < n; i++)
        if (remove_tree(pfd, names[i]) == 0) od->stale_removed++;
    free(names);
    closedir(d);
}

ab_status ab_outdir_lock(const char *dir, ab_outdir **out, ab_error *err)
{
    *out = NULL;
    ab_outdir *od = calloc(1, sizeof *od);
    if (!od) return ab_error_set(err, AB_ENOMEM, "out of memory");
    od->lock_fd = -1;
    ab_status st = split(od, dir, err);
    if (!st) st = ab_mkdir_p(od->parent, err);
    struct stat ls;
    if (!st && lstat(od->target, &ls) == 0 && S_ISLNK(ls.st_mode)) {
        /* a symbolic link to a result directory: replace the directory it points to */
        char *real = realpath(od->target, NULL);
        if (!real) st = ab_error_set(err, AB_EIO, "%s: %s", od->target, strerror(errno));
        else {
            st = split(od, real, err);
            free(real);
        }
    }
    /* The lock file may be removed by its holder as it finishes (see ab_outdir_unlock), so
     * a lock taken on a file that is no longer (or no more the same) od->lock is no lock:
     * try again. */
    for (int attempt = 0; !st && attempt < 100; attempt++) {
        int fd = open(od->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0) {
            st = ab_error_set(err, AB_EIO, "cannot create the lock file %s: %s", od->lock, strerror(errno));
            break;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char pid[32] = "";
            ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            close(fd);
            if (e == EWOULDBLOCK)
                st = ab_error_set(err, AB_EIO,
                                  "%s is being written by another attnbif run (pid %s, lock file %s); wait for it to "
                                  "finish or choose another result directory", od->target, pid[0] ? pid : "?", od->lock);
            else st = ab_error_set(err, AB_EIO, "cannot lock %s: %s", od->lock, strerror(e));
            break;
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(od->lock, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            od->lock_fd = fd;
            break;
        }
        close(fd);
    }
    if (!st && od->lock_fd < 0) st = ab_error_set(err, AB_EIO, "cannot lock %s: it keeps changing", od->lock);
    if (st) {
        if (od->lock_fd >= 0) close(od->lock_fd);
        free(od);
        return st;
    }
    /* For the message of a run that finds the lock taken; failure to write it is harmless. */
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(od->lock_fd, 0) == 0 && pwrite(od->lock_fd, pid, (size_t)n, 0) != n) { /* ignored */ }
    st = check_target(od, err);
    if (st) {
        ab_outdir_unlock(od);
        return st;
    }
    remove_stale(od);
    *out = od;
    return AB_OK;
}

const char *ab_outdir_lock_path(const ab_outdir *od) { return od->lock; }

const char *ab_outdir_target(const ab_outdir *od) { return od->target; }

int ab_outdir_stale_removed(const ab_outdir *od) { return od->stale_removed; }

/* A fresh name parent/.base.tmp-PID-XXXXXX in od->tmp, created as a directory. */
static ab_status make_temp_dir(ab_outdir *od, char *out, ab_error *err)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        int n = snprintf(out, OUT_PATH, "%s/.%s.tmp-%ld-%06lx", od->parent, od->base, (long)getpid(),
                         ab_unique_tag((uintptr_t)od + (unsigned)attempt) & 0xffffffUL);
        if (n < 0 || n >= OUT_PATH) return ab_error_set(err, AB_EIO, "path too long: %s", od->target);
        if (mkdir(out, 0777) == 0) return AB_OK; /* the umask decides the mode */
        if (errno != EEXIST) return ab_error_set(err, AB_EIO, "cannot create %s: %s", out, strerror(errno));
    }
    return ab_error_set(err, AB_EIO, "cannot create a temporary directory beside %s", od->target);
}

ab_status ab_outdir_begin(ab_outdir *od, const char **path, ab_error *err)
{
    if (od->begun) ab_outdir_discard(od);
    ab_status st = make_temp_dir(od, od->tmp, err);
    if (st) return st;
    od->begun = 1;
    *path = od->tmp;
    return AB_OK;
}

static void sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static ab_status commit(ab_outdir *od, int use_exchange, ab_error *err)
{
    if (!od->begun) return ab_error_set(err, AB_EINVAL, "ab_outdir_commit without ab_outdir_begin");
    /* The files were synced one by one (ab_file_commit); their names now. */
    sync_dir(od->tmp);
    /* Whatever came to be at the target since the lock was taken must still be replaceable. */
    ab_status st = check_target(od, err);
    struct stat ts;
    int exists = !st && lstat(od->target, &ts) == 0;
    if (!st && !exists && rename(od->tmp, od->target) != 0)
        st = ab_error_set(err, AB_EIO, "cannot move the result into %s: %s", od->target, strerror(errno));
    if (!st && exists) {
        /* Swap the new result and the previous one in one step; the previous one then sits
         * under the temporary name and is removed. */
        if (!use_exchange || renameat2(AT_FDCWD, od->tmp, AT_FDCWD, od->target, RENAME_EXCHANGE) != 0) {
            if (use_exchange && errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
                st = ab_error_set(err, AB_EIO, "cannot move the result into %s: %s", od->target, strerror(errno));
            else {
                /* No atomic exchange on this file system: move the previous result aside
                 * (under a temporary name, so that a later run removes it if we are killed)
                 * and the new one in; for a moment the target is absent. */
                char old[OUT_PATH];
                st = make_temp_dir(od, old, err);
                if (!st && rename(od->target, old) != 0)
                    st = ab_error_set(err, AB_EIO, "cannot move the previous result %s aside: %s", od->target,
                                      strerror(errno));
                if (!st && rename(od->tmp, od->target) != 0) {
                    st = ab_error_set(err, AB_EIO, "cannot move the result into %s: %s", od->target, strerror(errno));
                    (void)rename(old, od->target);
                }
                if (!st) memcpy(od->tmp, old, sizeof old);
                else remove_path(old);
            }
        }
    }
    if (st) {
        ab_outdir_discard(od);
        return st;
    }
    sync_dir(od->parent);
    /* od->tmp is now the previous result (or nothing); a failure to remove it leaves a
     * stale temporary that the next run removes. */
    ab_outdir_discard(od);
    return AB_OK;
}

ab_status ab_outdir_commit(ab_outdir *od, ab_error *err) { return commit(od, 1, err); }

ab_status ab_outdir_commit_without_exchange(ab_outdir *od, ab_error *err) { return commit(od, 0, err); }

void ab_outdir_discard(ab_outdir *od)
{
    if (!od || !od->begun) return;
    remove_path(od->tmp);
    od->begun = 0;
}

void ab_outdir_unlock(ab_outdir *od)
{
    if (!od) return;
    ab_outdir_discard(od);
    /* Removed while still held, so that a waiting run that then locks the unlinked file
     * sees the mismatch with the path (ab_outdir_lock) and tries again. */
    if (od->lock_fd >= 0) {
        unlink(od->lock);
        close(od->lock_fd);
    }
    free(od);
}
