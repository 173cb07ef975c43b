/* `run` in the foreground with process.terminal and no --console-socket,
 * as runc does it: the command gets its pty as with a console socket
 * (shim/console.c), over a socket pair of our own; the master comes back
 * here and a copier process passes our stdin to it and its output to
 * our stdout (and our terminal's size on SIGWINCH) until the container's
 * side is closed.  A terminal on our stdin is put in raw mode meanwhile
 * (its keys, ^C included, go to the container's terminal) and restored. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "shim/runtime.h"

#ifndef __NR_close_range
#define __NR_close_range 436
#endif

static void copy_size(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

/* the copier's loop: out of the master until it reads EIO (every slave
 * closed), into it what stdin gives (without blocking on a full input
 * queue: the output keeps flowing) */
static void __attribute__((noreturn)) copier(int master)
{
	static char in[4096], out[16384];
	size_t pending = 0, done = 0;
	sigset_t winch;
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	sigprocmask(SIG_BLOCK, &winch, NULL);
	int sfd = signalfd(-1, &winch, SFD_CLOEXEC);
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	struct pollfd pf[3] = { { .fd = 0, .events = POLLIN }, { .fd = master },
				{ .fd = sfd, .events = POLLIN } };
	for (;;) {
		pf[0].events = pending ? 0 : POLLIN;
		pf[1].events = POLLIN | (pending ? POLLOUT : 0);
		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(master, out, sizeof out);
			if (n > 0) {
				if (shim_write_all(1, out, (size_t)n) < 0)
					break; /* nobody reads our stdout any more */
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				break; /* EIO: the container's side is closed */
			}
		}
		if (pending && (pf[1].revents & POLLOUT)) {
			ssize_t n = write(master, in + done, pending);
			if (n > 0)
				done += (size_t)n, pending -= (size_t)n;
		}
		if (!pending && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(0, in, sizeof in);
			if (n > 0)
				pending = (size_t)n, done = 0;
			else if (n == 0 || errno != EINTR)
				pf[0].fd = -1; /* stdin's end: the terminal stays open */
		}
		struct signalfd_siginfo si;
		if ((pf[2].revents & POLLIN) && read(sfd, &si, sizeof si) > 0)
			copy_size(0, master);
	}
	_exit(0);
}

static int tty_after_spawn(struct shim *s, pid_t pid, nscell_error_t *err)
{
	struct rt_tty *t = s->after_spawn_ctx;
	close(t->sock[1]);
	t->sock[1] = -1;
	if ((t->master = console_recv(t->sock[0], err)) < 0)
		return -1;
	if (isatty(0) && tcgetattr(0, &t->saved) == 0) {
		struct termios raw = t->saved;
		cfmakeraw(&raw);
		t->raw = tcsetattr(0, TCSANOW, &raw) == 0;
	}
	t->copier = fork();
	if (t->copier < 0)
		return nscell_error_errno(err, errno, "fork the terminal's copier");
	if (t->copier == 0) {
		int m = t->master;
		/* nothing of ours (the start pipe's end above all) stays open */
		if (m > 3)
			syscall(__NR_close_range, 3, m - 1, 0);
		syscall(__NR_close_range, m + 1, ~0U, 0);
		copier(m);
	}
	s->after_spawn_ctx = t->next_ctx;
	return t->next ? t->next(s, pid, err) : 0;
}

int rt_tty_prepare(struct shim *s, struct rt_tty *t, nscell_error_t *err)
{
	*t = (struct rt_tty){ .sock = { -1, -1 }, .master = -1, .copier = -1 };
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, t->sock) < 0)
		return nscell_error_errno(err, errno, "socketpair for the terminal");
	/* our terminal's size from the start (the config's otherwise) */
	struct winsize ws;
	if (isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		t->console.rows = ws.ws_row;
		t->console.cols = ws.ws_col;
	}
	t->console.sock = t->sock[1];
	console_install(s, &t->console);
	t->next = s->after_spawn;
	t->next_ctx = s->after_spawn_ctx;
	s->after_spawn = tty_after_spawn;
	s->after_spawn_ctx = t;
	return 0;
}

void rt_tty_finish(struct rt_tty *t)
{
	/* the copier ends once every slave is closed: the sandbox is gone */
	if (t->copier > 0)
		while (waitpid(t->copier, NULL, 0) < 0 && errno == EINTR)
			;
	if (t->raw)
		tcsetattr(0, TCSANOW, &t->saved);
	for (int i = 0; i < 2; i++)
		if (t->sock[i] >= 0)
			close(t->sock[i]);
	if (t->master >= 0)
		close(t->master);
	*t = (struct rt_tty){ .sock = { -1, -1 }, .master = -1, .copier = -1 };
}
