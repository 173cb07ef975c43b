/* The hostexec listener: its socket, and the accept loop.  Each
 * connection is served by a child of its own (request.c), so a slow or
 * silent client holds only that child; the children die with the
 * listener (a parent-death signal), so a client never waits on a
 * listener that is gone. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostexec/daemon.h"
#include "hostexec/protocol.h"
#include "translate/conf.h"

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "nscell hostexec-daemon: %s\n", line);
}

/* the socket's path: --socket, else nscell.conf's hostexec_dir (or the
 * default) with the fixed name the sandboxes look for */
static int socket_path(struct hx_daemon *d, nscell_error_t *err)
{
	if (d->socket) {
		if (snprintf(d->path, sizeof d->path, "%s", d->socket) >= (int)sizeof d->path)
			return nscell_error_set(err, ENAMETOOLONG, "--socket: too long");
		return 0;
	}
	struct nscell_conf conf;
	struct diags dg;
	conf_init(&conf);
	diags_init(&dg);
	int r = conf_load(&conf, d->conf_path, d->conf_path != NULL, &dg);
	diags_print(&dg, stderr);
	diags_free(&dg);
	if (r == 0)
		snprintf(d->path, sizeof d->path, "%s/" HX_SOCKET_NAME,
			 conf.hostexec_dir ? conf.hostexec_dir : HX_SOCKET_DIR);
	conf_free(&conf);
	return r < 0 ? nscell_error_set(err, 0, "nscell.conf has errors") : 0;
}

/* The directory must be root's and writable by nobody else: whoever can
 * write there can put another socket in our place. */
static int check_dir(const char *path, nscell_error_t *err)
{
	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return nscell_error_set(err, ENOMEM, "out of memory");
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return nscell_error_set(err, EINVAL, "socket %s: needs a directory of its own", path);
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return nscell_error_errno(err, errno, "mkdir %s", dir);
	struct stat st;
	if (lstat(dir, &st) < 0)
		return nscell_error_errno(err, errno, "%s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return nscell_error_set(err, EPERM, "%s: not a directory owned by root and writable "
					"by root alone", dir);
	return 0;
}

static int listen_on(struct hx_daemon *d, nscell_error_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(d->path) >= sizeof sa.sun_path)
		return nscell_error_set(err, ENAMETOOLONG, "socket path %s is too long", d->path);
	strcpy(sa.sun_path, d->path);
	if (check_dir(d->path, err) < 0)
		return -1;
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0)
		return nscell_error_errno(err, errno, "socket");
	struct stat st;
	if (lstat(d->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return nscell_error_set(err, EEXIST, "%s exists and is not a socket", d->path);
		if (connect(d->listen_fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return nscell_error_set(err, EADDRINUSE, "%s: a listener is running already",
						d->path);
		unlink(d->path); /* a stale one */
	}
	if (bind(d->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return nscell_error_errno(err, errno, "bind %s", d->path);
	d->made_socket = true;
	/* anybody may ask: who they are is the kernel's word, not theirs */
	if (chmod(d->path, 0666) < 0 || listen(d->listen_fd, SOMAXCONN) < 0)
		return nscell_error_errno(err, errno, "listen %s", d->path);
	return 0;
}

/* systemd socket activation: LISTEN_FDS=1 for this pid, the socket at fd 3 */
static bool activated(struct hx_daemon *d)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (!pid || !fds || atoi(pid) != (int)getpid() || atoi(fds) != 1)
		return false;
	d->listen_fd = 3;
	fcntl(3, F_SETFD, FD_CLOEXEC);
	snprintf(d->path, sizeof d->path, "(systemd socket)");
	return true;
}

static void background(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		log_line("fork: %s", strerror(errno));
		exit(NSCELL_EXIT_USAGE);
	}
	if (pid > 0)
		_exit(0); /* the socket is listening already */
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	(void)!chdir("/");
}

static void start_child(struct hx_daemon *d, int conn, pid_t listener, const sigset_t *old)
{
	pid_t pid = fork();
	if (pid < 0) {
		log_line("fork: %s", strerror(errno));
		return;
	}
	if (pid > 0)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != listener)
		_exit(1);
	close(d->listen_fd);
	sigprocmask(SIG_SETMASK, old, NULL);
	hx_serve(d, conn);
}

static int serve(struct hx_daemon *d, int sigfd, const sigset_t *old)
{
	pid_t self = getpid();
	unsigned children = 0;
	struct pollfd pf[2] = { { .fd = d->listen_fd, .events = POLLIN },
				{ .fd = sigfd, .events = POLLIN } };
	for (;;) {
		/* at the limit, new connections wait in the backlog */
		pf[0].fd = children < HX_MAX_CHILDREN ? d->listen_fd : -1;
		if (poll(pf, 2, -1) < 0 && errno != EINTR) {
			log_line("poll: %s", strerror(errno));
			return NSCELL_EXIT_USAGE;
		}
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof si) != sizeof si)
				continue;
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				log_line("signal %u: stopping", si.ssi_signo);
				return 0;
			}
			/* SIGHUP: nothing to reload, every request reads the conf */
			while (waitpid(-1, NULL, WNOHANG) > 0)
				children--;
		}
		if (pf[0].fd >= 0 && pf[0].revents) {
			int conn = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (conn < 0)
				continue;
			start_child(d, conn, self, old);
			children++;
			close(conn);
		}
	}
}

int hx_daemon_run(struct hx_daemon *d)
{
	nscell_error_t err = { 0 };
	d->listen_fd = -1;
	if (geteuid() != 0) {
		log_line("needs root: it runs programs as the users who ask");
		return NSCELL_EXIT_USAGE;
	}
	if (!activated(d) && (socket_path(d, &err) < 0 || listen_on(d, &err) < 0)) {
		log_line("%s", err.msg);
		if (d->made_socket)
			unlink(d->path);
		return NSCELL_EXIT_USAGE;
	}
	if (!d->foreground)
		background();
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sigfd < 0) {
		log_line("signalfd: %s", strerror(errno));
		return NSCELL_EXIT_USAGE;
	}
	log_line("listening on %s", d->path);
	int rc = serve(d, sigfd, &old);
	if (d->made_socket)
		unlink(d->path);
	close(sigfd);
	return rc;
}
