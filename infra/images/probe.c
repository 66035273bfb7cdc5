/*
 * ocitest's in-container probe: reports what the container process sees, judges nothing.
 *
 * Built static at rootfs build time (infra/images/rootfs.py) and placed at /ocitest/probe.
 * Usage: probe [ACTION]...   Output: JSON lines on stdout, flushed one by one:
 *   line 1: the facts of this process (ids, umask, names, scheduling, namespaces, and
 *           the raw text of the /proc/self files the host parses);
 *   then one line per ACTION, in order. A missing line means the process died in it.
 * ACTIONS: read:PATH write:PATH create:PATH stat:PATH list:DIR syscall:NAME fork:N
 *          alloc:MB sleep:SECONDS exit:CODE pause
 * infra/probe.py parses the output; every judgement is made there, on the host.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_READ (64 * 1024)

static void jstr(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            putchar('\\');
            putchar(c);
        } else if (c == '\n') {
            fputs("\\n", stdout);
        } else if (c == '\t') {
            fputs("\\t", stdout);
        } else if (c < 0x20 || c >= 0x7f) {
            printf("\\u%04x", c); /* bytes as Latin-1: lossy, always valid JSON */
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

static void jcstr(const char *s) {
    if (s)
        jstr(s, strlen(s));
    else
        fputs("null", stdout);
}

static void key(const char *k, int *first) {
    if (!*first)
        putchar(',');
    *first = 0;
    jcstr(k);
    putchar(':');
}

static void kint(const char *k, long long v, int *first) {
    key(k, first);
    printf("%lld", v);
}

static void kstr(const char *k, const char *v, int *first) {
    key(k, first);
    jcstr(v);
}

static void kerr(int err, int *first) {
    kint("errno", err, first);
    kstr("error", strerrorname_np(err) ? strerrorname_np(err) : "?", first);
}

/* Reads up to MAX_READ bytes of path into a malloc'd buffer; NULL and errno on failure. */
static char *slurp(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = malloc(MAX_READ + 1);
    size_t n = 0;
    while (buf && n < MAX_READ) {
        ssize_t r = read(fd, buf + n, MAX_READ - n);
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

static void kfile(const char *path, int *first) {
    size_t n;
    char *data = slurp(path, &n);
    key(path, first);
    if (data)
        jstr(data, n);
    else
        fputs("null", stdout);
    free(data);
}

static const char *NAMESPACES[] = {"cgroup", "ipc",  "mnt",  "net",
                                   "pid",    "pid_for_children", "time",
                                   "time_for_children", "user", "uts", NULL};
static const char *FILES[] = {"/proc/self/status",         "/proc/self/limits",
                              "/proc/self/mountinfo",      "/proc/self/cgroup",
                              "/proc/self/uid_map",        "/proc/self/gid_map",
                              "/proc/self/setgroups",      "/proc/self/oom_score_adj",
                              "/proc/self/attr/current",   "/proc/self/timens_offsets",
                              NULL};

static void facts(int argc, char **argv) {
    extern char **environ;
    int f = 0;
    printf("{\"probe\":1,\"args\":[");
    for (int i = 0; i < argc; i++) {
        if (i)
            putchar(',');
        jcstr(argv[i]);
    }
    printf("],\"env\":[");
    for (char **e = environ; e && *e; e++) {
        if (e != environ)
            putchar(',');
        jcstr(*e);
    }
    putchar(']');
    char cwd[4096];
    kstr("cwd", getcwd(cwd, sizeof cwd) ? cwd : NULL, &f);
    kint("uid", getuid(), &f);
    kint("gid", getgid(), &f);
    kint("euid", geteuid(), &f);
    kint("egid", getegid(), &f);
    gid_t groups[256];
    int ng = getgroups(256, groups);
    key("groups", &f);
    putchar('[');
    for (int i = 0; i < ng; i++)
        printf(i ? ",%u" : "%u", groups[i]);
    putchar(']');
    mode_t um = umask(0);
    umask(um);
    kint("umask", um, &f);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    kstr("hostname", host, &f);
    struct utsname u;
    kstr("domainname", uname(&u) == 0 ? u.domainname : NULL, &f);
    kint("no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), &f);
    kint("personality", personality(0xffffffff), &f);
    kint("sched_policy", sched_getscheduler(0), &f);
    struct sched_param sp = {0};
    kint("sched_priority", sched_getparam(0, &sp) == 0 ? sp.sched_priority : -1, &f);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    kint("nice", errno ? 99 : nice, &f);
    kint("ioprio", syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0), &f);
    cpu_set_t set;
    key("cpus", &f);
    putchar('[');
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int firstcpu = 1;
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set)) {
                printf(firstcpu ? "%d" : ",%d", c);
                firstcpu = 0;
            }
    }
    putchar(']');
    key("namespaces", &f);
    putchar('{');
    int nf = 1;
    for (const char **ns = NAMESPACES; *ns; ns++) {
        char path[64], link[256];
        snprintf(path, sizeof path, "/proc/self/ns/%s", *ns);
        ssize_t r = readlink(path, link, sizeof link - 1);
        key(*ns, &nf);
        if (r >= 0)
            jstr(link, (size_t)r);
        else
            fputs("null", stdout);
    }
    putchar('}');
    key("files", &f);
    putchar('{');
    int ff = 1;
    for (const char **p = FILES; *p; p++)
        kfile(*p, &ff);
    puts("}}");
    fflush(stdout);
}

static const char *ftype(mode_t m) {
    switch (m & S_IFMT) {
    case S_IFREG: return "reg";
    case S_IFDIR: return "dir";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    case S_IFLNK: return "lnk";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "sock";
    }
    return "?";
}

static void act_stat(const char *path, int *f) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        kint("ok", 0, f);
        kerr(errno, f);
        return;
    }
    kint("ok", 1, f);
    kstr("type", ftype(st.st_mode), f);
    kint("mode", st.st_mode & 07777, f);
    kint("uid", st.st_uid, f);
    kint("gid", st.st_gid, f);
    kint("major", major(st.st_rdev), f);
    kint("minor", minor(st.st_rdev), f);
    kint("size", st.st_size, f);
    if (S_ISLNK(st.st_mode)) {
        char t[4096];
        ssize_t r = readlink(path, t, sizeof t - 1);
        key("target", f);
        if (r >= 0)
            jstr(t, (size_t)r);
        else
            fputs("null", stdout);
    }
}

static int cmpstr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void act_list(const char *path, int *f) {
    DIR *d = opendir(path);
    if (!d) {
        kint("ok", 0, f);
        kerr(errno, f);
        return;
    }
    char *names[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmpstr);
    kint("ok", 1, f);
    key("entries", f);
    putchar('[');
    for (int i = 0; i < n; i++) {
        if (i)
            putchar(',');
        jcstr(names[i]);
        free(names[i]);
    }
    putchar(']');
}

/* One harmless syscall by name; returns 1 when the name is known. */
static int do_syscall(const char *name, long *ret) {
    char buf[4096];
    struct utsname u;
    if (!strcmp(name, "getcwd"))
        *ret = syscall(SYS_getcwd, buf, sizeof buf);
    else if (!strcmp(name, "getpid"))
        *ret = syscall(SYS_getpid);
    else if (!strcmp(name, "getppid"))
        *ret = syscall(SYS_getppid);
    else if (!strcmp(name, "uname"))
        *ret = syscall(SYS_uname, &u);
    else if (!strcmp(name, "sched_yield"))
        *ret = syscall(SYS_sched_yield);
    else if (!strcmp(name, "getpriority"))
        *ret = syscall(SYS_getpriority, PRIO_PROCESS, 0);
    else if (!strcmp(name, "personality"))
        *ret = syscall(SYS_personality, 0xffffffffUL);
    else if (!strcmp(name, "mkdir")) {
        *ret = syscall(SYS_mkdirat, AT_FDCWD, "/tmp/.probe", 0700);
        if (*ret == 0)
            rmdir("/tmp/.probe");
    } else if (!strcmp(name, "chmod")) {
        struct stat st;
        mode_t m = stat("/tmp", &st) == 0 ? (st.st_mode & 07777) : 01777;
        *ret = syscall(SYS_fchmodat, AT_FDCWD, "/tmp", m);
    } else if (!strcmp(name, "sethostname")) {
        gethostname(buf, sizeof buf - 1);
        *ret = syscall(SYS_sethostname, buf, strlen(buf));
    } else if (!strcmp(name, "unshare"))
        *ret = syscall(SYS_unshare, CLONE_NEWUTS);
    else
        return 0;
    return 1;
}

static void act_fork(long n, int *f) {
    pid_t kids[4096];
    long ok = 0;
    int err = 0;
    for (long i = 0; i < n && i < 4096; i++) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
        if (p < 0) {
            err = errno;
            break;
        }
        kids[ok++] = p;
    }
    for (long i = 0; i < ok; i++)
        kill(kids[i], SIGKILL);
    for (long i = 0; i < ok; i++)
        waitpid(kids[i], NULL, 0);
    kint("forked", ok, f);
    kint("ok", err == 0, f);
    if (err)
        kerr(err, f);
}

static void act_alloc(long mb, int *f) {
    long done = 0;
    for (; done < mb; done++) {
        char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            kint("ok", 0, f);
            kerr(errno, f);
            break;
        }
        memset(p, 1, 1 << 20);
    }
    if (done == mb)
        kint("ok", 1, f);
    kint("allocated_mb", done, f);
}

static void action(const char *a) {
    const char *colon = strchr(a, ':');
    char kind[32] = "";
    const char *arg = colon ? colon + 1 : "";
    snprintf(kind, sizeof kind, "%.*s", colon ? (int)(colon - a) : (int)strlen(a), a);
    int f = 1;
    putchar('{');
    kstr("action", kind, &f);
    kstr("arg", arg, &f);
    if (!strcmp(kind, "read")) {
        size_t n;
        char *data = slurp(arg, &n);
        kint("ok", data != NULL, &f);
        if (data) {
            key("data", &f);
            jstr(data, n);
            free(data);
        } else {
            kerr(errno, &f);
        }
    } else if (!strcmp(kind, "write") || !strcmp(kind, "create")) {
        int create = !strcmp(kind, "create");
        int fd = open(arg, O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
        kint("ok", fd >= 0, &f);
        if (fd < 0) {
            kerr(errno, &f);
        } else {
            close(fd);
            if (create)
                unlink(arg);
        }
    } else if (!strcmp(kind, "stat")) {
        act_stat(arg, &f);
    } else if (!strcmp(kind, "list")) {
        act_list(arg, &f);
    } else if (!strcmp(kind, "syscall")) {
        long ret = 0;
        fflush(stdout);
        errno = 0;
        if (!do_syscall(arg, &ret)) {
            kint("ok", 0, &f);
            kstr("error", "unknown syscall name", &f);
        } else {
            int e = errno;
            kint("ret", ret, &f);
            kint("ok", ret >= 0, &f);
            if (ret < 0)
                kerr(e, &f);
        }
    } else if (!strcmp(kind, "fork")) {
        act_fork(atol(arg), &f);
    } else if (!strcmp(kind, "alloc")) {
        act_alloc(atol(arg), &f);
    } else if (!strcmp(kind, "sleep")) {
        struct timespec ts = {atol(arg), 0};
        nanosleep(&ts, NULL);
        kint("ok", 1, &f);
    } else if (!strcmp(kind, "exit")) {
        fflush(stdout);
        _exit(atoi(arg));
    } else if (!strcmp(kind, "pause")) {
        kint("ok", 1, &f);
        puts("}");
        fflush(stdout);
        for (;;)
            pause();
    } else {
        kint("ok", 0, &f);
        kstr("error", "unknown action", &f);
    }
    puts("}");
    fflush(stdout);
}

int main(int argc, char **argv) {
    /* line 1 must be complete before any action can kill us: fully buffered, flushed */
    facts(argc, argv);
    for (int i = 1; i < argc; i++)
        action(argv[i]);
    return 0;
}
