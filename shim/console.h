/* A terminal for a bundle's command (process.terminal), as runc makes it
 * (shim/console.c):
 *
 *   host side   connects to --console-socket PATH (console_connect), or
 *               makes a socket pair for a foreground run that proxies
 *               the terminal itself (shim/runtime_tty.c)
 *   command     after the mounts and the pivot, before the start: a new
 *               session, a pty pair from the sandbox's own /dev/ptmx,
 *               the slave as stdin, stdout, stderr and controlling
 *               terminal (and bound on /dev/console), the master sent
 *               over the socket with SCM_RIGHTS and the message
 *               "/dev/ptmx", as runc's utils.SendFd sends it
 *
 * Only nscell-runtime links it: a template launch has no terminal of
 * its own making. */
#ifndef NSCELL_SHIM_CONSOLE_H
#define NSCELL_SHIM_CONSOLE_H

#include "shim/shim.h"

struct console {
	int sock;             /* the command's end: where the master goes */
	unsigned rows, cols;  /* the size to set; 0: leave it (0x0) */
	/* the before_exec hook that was set: run after the terminal is made */
	int (*next)(struct shim *s, nscell_error_t *err);
	void *next_ctx;
};

/* host side: a connected SOCK_STREAM socket to path (close-on-exec), or
 * -1 with err naming --console-socket */
int console_connect(const char *path, nscell_error_t *err);
/* make s->before_exec the terminal's (c->sock, a size from the plan's
 * consoleSize unless c has one), then the hook that was set before */
void console_install(struct shim *s, struct console *c);
/* host side: the master fd sent over sock (close-on-exec), or -1 with err */
int console_recv(int sock, nscell_error_t *err);

#endif
