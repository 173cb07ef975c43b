/* nscell-hostexec: the relay client, bound read-only over each hostexec
 * program inside a sandbox (PATH,hostexec).  It learns which program it
 * stands for from /proc/self/exe (the bind's destination), sends argv, the
 * environment and fds 0-2 to the listener on the host, waits, and ends the
 * way the program ended.  Linked statically: it needs nothing from the
 * sandbox's files.
 *
 * Run directly (not through a bind) it relays NSCELL_HOSTEXEC_PROGRAM; the
 * socket is NSCELL_HOSTEXEC_SOCKET or HX_SOCKET_DIR/HX_SOCKET_NAME.  The
 * listener trusts neither: it checks the program against the user's list
 * and takes the user from the socket's peer credentials. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hostexec/protocol.h"

#define EX_USAGE 64

extern char **environ;

static const char *program_name = HX_CLIENT_NAME;

static void __attribute__((noreturn, format(printf, 2, 3))) die(int status, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", program_name, msg);
	exit(status);
}

/* the program this client stands for: the bind destination it runs as */
static void which_program(char **argv, char *out, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	if (n <= 0) {
		if (!argv[0] || argv[0][0] != '/')
			die(HX_EXIT_SOFTWARE, "cannot tell which program this is (/proc/self/exe: %s)",
			    strerror(errno));
		snprintf(out, size, "%s", argv[0]);
		return;
	}
	out[n] = '\0';
	const char *base = strrchr(out, '/');
	if (strcmp(base ? base + 1 : out, HX_CLIENT_NAME) != 0)
		return;
	const char *env = getenv("NSCELL_HOSTEXEC_PROGRAM");
	if (!env || env[0] != '/')
		die(EX_USAGE, "relays the program it is bound over (PATH,hostexec in a template); "
			      "run directly it needs NSCELL_HOSTEXEC_PROGRAM=/absolute/path");
	snprintf(out, size, "%s", env);
}

static int connect_listener(const char *program)
{
	const char *path = getenv("NSCELL_HOSTEXEC_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!path || !*path)
		path = HX_SOCKET_DIR "/" HX_SOCKET_NAME;
	if (strlen(path) >= sizeof sa.sun_path)
		die(HX_EXIT_TEMPFAIL, "socket path %s is too long", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(HX_EXIT_TEMPFAIL, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die(HX_EXIT_TEMPFAIL, "cannot run %s: no hostexec listener at %s (%s); "
		    "is `nscell hostexec-daemon` running?", program, path, strerror(errno));
	return fd;
}

/* fds 0-2 as they are; a closed one becomes /dev/null */
static void stdio_fds(int fds[HX_NFDS])
{
	for (int i = 0; i < HX_NFDS; i++) {
		fds[i] = i;
		if (fcntl(i, F_GETFD) >= 0)
			continue;
		fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fds[i] < 0)
			die(HX_EXIT_SOFTWARE, "fd %d is closed and /dev/null: %s", i, strerror(errno));
	}
}

/* false when the listener stopped reading: it may have answered already
 * (a refusal), so the reply is read all the same */
static bool send_request(int sock, const char *buf, size_t len)
{
	int fds[HX_NFDS];
	stdio_fds(fds);
	union {
		char buf[CMSG_SPACE(sizeof fds)];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof control);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof control.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(c), fds, sizeof fds);
	ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n >= 0 && (size_t)n < len) {
		ssize_t m = send(sock, buf + n, len - (size_t)n, MSG_NOSIGNAL);
		n = m < 0 ? m : n + m;
	}
	if (n < 0 && errno != EPIPE && errno != ECONNRESET)
		die(HX_EXIT_IOERR, "sending the request to the hostexec listener: %s",
		    strerror(errno));
	return n >= 0;
}

/* exactly len bytes; false on end of file */
static bool read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(HX_EXIT_IOERR, "reading from the hostexec listener: %s", strerror(errno));
		if (n == 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* end as a signal would have ended us: no core file, 128+sig when the
 * signal does not end a process */
static void __attribute__((noreturn)) reraise(int sig)
{
	struct rlimit none = { 0, 0 };
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	exit(128 + sig);
}

int main(int argc, char **argv)
{
	char program[PATH_MAX];
	(void)argc;
	which_program(argv, program, sizeof program);
	const char *base = strrchr(program, '/');
	program_name = base ? base + 1 : program;
	int sock = connect_listener(program);

	nscell_error_t err = { 0 };
	char *buf;
	size_t len;
	char *argv0[] = { program, NULL };
	if (hx_request_encode(program, argv[0] ? argv : argv0, environ, &buf, &len, &err) < 0)
		die(HX_EXIT_SOFTWARE, "%s", err.msg);
	bool sent = send_request(sock, buf, len);
	free(buf);

	struct hx_reply r;
	char msg[HX_MAX_MESSAGE + 1];
	if (!read_all(sock, &r, sizeof r))
		die(HX_EXIT_IOERR, sent ? "the hostexec listener went away before %s finished" :
					  "the hostexec listener closed the connection (%s)", program);
	if (hx_reply_check(&r, &err) < 0)
		die(HX_EXIT_SOFTWARE, "%s", err.msg);
	if (!read_all(sock, msg, r.len))
		die(HX_EXIT_IOERR, "the hostexec listener went away before %s finished", program);
	msg[r.len] = '\0';
	close(sock);
	if (r.kind == HX_REFUSED)
		die(r.value, "%s", msg);
	if (r.kind == HX_SIGNALED)
		reraise(r.value);
	return r.value;
}
