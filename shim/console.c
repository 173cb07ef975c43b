/* process.terminal: the command's pty, made in the sandbox as runc makes
 * it (see shim/console.h), and the master passed over a unix socket.
 *
 * The pair comes from the sandbox's /dev/ptmx (pts/ptmx of its own
 * devpts), so the slave is /dev/pts/N inside and nothing of the host's
 * devpts is reachable.  The command keeps only the slave: the master
 * goes to the socket's other end and is closed here.  The command then
 * goes on as always (shim/init.c: the TIOCSTI filter, which a terminal
 * in reach would call for anyway, credentials, exec). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "shim/console.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* what runc's utils.SendFd sends with the fd: the master's name */
#define MASTER_NAME "/dev/ptmx"

int console_connect(const char *path, nscell_error_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!*path || strlen(path) >= sizeof sa.sun_path)
		return nscell_error_set(err, ENAMETOOLONG, "--console-socket %s: not a socket path "
					"(empty, or longer than %zu bytes)", path,
					sizeof sa.sun_path - 1);
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nscell_error_errno(err, errno, "--console-socket %s: socket", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		return nscell_error_errno(err, e, "--console-socket %s: connect", path);
	}
	return fd;
}

static int send_master(int sock, int master, nscell_error_t *err)
{
	static const char name[] = MASTER_NAME;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof u);
	struct iovec iov = { .iov_base = (void *)name, .iov_len = sizeof name - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof master);
	ssize_t n;
	while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return nscell_error_errno(err, errno, "send the terminal's master to the console socket");
	return 0;
}

int console_recv(int sock, nscell_error_t *err)
{
	char data[64];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof u);
	struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof u.buf };
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return nscell_error_errno(err, errno, "receive the terminal's master");
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return nscell_error_set(err, EPROTO, "the container sent no terminal");
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

/* runc's mountConsole: the slave bound on /dev/console (made when
 * missing; a symlink there is refused rather than followed) */
static int bind_console(unsigned ptn, nscell_error_t *err)
{
	char slave[32];
	struct stat st;
	snprintf(slave, sizeof slave, "/dev/pts/%u", ptn);
	if (lstat("/dev/console", &st) < 0) {
		int fd = errno == ENOENT ? open("/dev/console", O_WRONLY | O_CREAT | O_EXCL |
						O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
		if (fd < 0)
			return nscell_error_errno(err, errno, "process.terminal: /dev/console");
		close(fd);
	} else if (S_ISLNK(st.st_mode)) {
		return nscell_error_set(err, ELOOP, "process.terminal: /dev/console is a symlink");
	}
	if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return nscell_error_errno(err, errno, "process.terminal: bind %s on /dev/console",
					  slave);
	return 0;
}

/* a new pty pair from the sandbox's /dev/ptmx: master and slave, both
 * close-on-exec; *ptn the slave's number */
static int open_pty(int *master, int *slave, unsigned *ptn, nscell_error_t *err)
{
	int unlock = 0;
	*slave = -1;
	*master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return nscell_error_errno(err, errno, "process.terminal: open /dev/ptmx in the "
					  "container (its /dev/pts a devpts of its own?)");
	if (ioctl(*master, TIOCSPTLCK, &unlock) < 0 || ioctl(*master, TIOCGPTN, ptn) < 0)
		return nscell_error_errno(err, errno, "process.terminal: unlock the new pty");
	/* the peer of this very master (not a path someone could swap) */
	*slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		char path[32];
		snprintf(path, sizeof path, "/dev/pts/%u", *ptn);
		*slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	}
	if (*slave < 0)
		return nscell_error_errno(err, errno, "process.terminal: open /dev/pts/%u", *ptn);
	return 0;
}

/* the slave as 0, 1 and 2, owned by the command's uid (runc's
 * fixStdioPermissions: the group stays devpts's), and the session's
 * controlling terminal */
static int slave_as_stdio(const struct shim *s, int slave, nscell_error_t *err)
{
	/* runc spec --rootless's container root is uid 0 in there (plan.h) */
	uid_t uid = s->rootless && s->plan->userns_root ? 0 : s->plan->id.uid;
	if (fchown(slave, uid, (gid_t)-1) < 0)
		return nscell_error_errno(err, errno, "process.terminal: chown the pty to uid %u",
					  (unsigned)uid);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return nscell_error_errno(err, errno, "process.terminal: the pty as fd %d", fd);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		return nscell_error_errno(err, errno, "process.terminal: make the pty the "
					  "controlling terminal");
	return 0;
}

static int make_terminal(struct shim *s, struct console *c, nscell_error_t *err)
{
	int master = -1, slave = -1, rc = -1;
	unsigned ptn = 0;
	/* TIOCSCTTY wants a session leader; init.c's setsid leaves it be */
	if (setsid() < 0)
		nscell_error_errno(err, errno, "process.terminal: setsid");
	else if (open_pty(&master, &slave, &ptn, err) == 0) {
		struct winsize ws = { .ws_row = (unsigned short)c->rows,
				      .ws_col = (unsigned short)c->cols };
		if (c->rows && c->cols && ioctl(master, TIOCSWINSZ, &ws) < 0)
			nscell_error_errno(err, errno, "process.consoleSize: set %ux%u", c->rows,
					   c->cols);
		else if (bind_console(ptn, err) == 0 && send_master(c->sock, master, err) == 0)
			rc = slave_as_stdio(s, slave, err);
	}
	if (master >= 0)
		close(master);
	if (slave > 2)
		close(slave);
	close(c->sock);
	c->sock = -1;
	return rc;
}

static int console_before_exec(struct shim *s, nscell_error_t *err)
{
	struct console *c = s->before_exec_ctx;
	shim_log(s, NULL, "process.terminal: a pty from the container's /dev/ptmx");
	if (make_terminal(s, c, err) < 0)
		return -1;
	s->before_exec_ctx = c->next_ctx;
	return c->next ? c->next(s, err) : 0;
}

void console_install(struct shim *s, struct console *c)
{
	const struct plan_process *pp = &s->plan->proc;
	if (!c->rows && !c->cols) {
		c->rows = pp->console_height;
		c->cols = pp->console_width;
	}
	c->next = s->before_exec;
	c->next_ctx = s->before_exec_ctx;
	s->before_exec = console_before_exec;
	s->before_exec_ctx = c;
}
