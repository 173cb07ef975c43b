#!/usr/bin/python3
"""Run a command on a new pseudo-terminal that is its controlling terminal
(as a login shell's is), wait for it, then report what is waiting in the
terminal's input queue: what the caller's shell would read (and run) next.

    pty_run.py TIMEOUT CMD ARGS...

Prints the command's output, then one line "PENDING: <repr of the input>"
("PENDING: b''" when nothing was pushed).  Exit status: the command's."""
import os
import select
import sys
import termios
import time


def main():
    timeout = float(sys.argv[1])
    cmd = sys.argv[2:]
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        import fcntl
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout
    status = None
    while status is None:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                out += os.read(master, 65536)
            except OSError:
                pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
        elif time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            print("TIMEOUT")
            status = 124 << 8
    # the command may have written its last lines between the last read
    # and its exit: the parent still holds the slave open, so the master
    # never ends; read until it has been quiet for a moment
    while select.select([master], [], [], 0.2)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    # what a reader of the terminal gets now: read the slave side without
    # waiting for a newline
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~termios.ICANON
    attrs[6][termios.VMIN] = 0
    attrs[6][termios.VTIME] = 0
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    pending = b""
    while True:
        r, _, _ = select.select([slave], [], [], 0.2)
        if not r:
            break
        chunk = os.read(slave, 4096)
        if not chunk:
            break
        pending += chunk
    sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
    print("PENDING: %r" % pending)
    sys.exit(os.waitstatus_to_exitcode(status) if status >= 0 else 1)


main()
