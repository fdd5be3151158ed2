#!/usr/bin/env python3
# Times `atsr -a` with the screen repaint (issue 14): a session draws LINES
# lines of 130 columns at rows 1..50 of a 200x50 screen, then DONE at the
# top; each attach is timed from its fork to DONE on its pty (the repaint
# shows it: the replay of an attach after a detach is not the whole stream).
# Usage: python3 bench/repaint-attach.py LINES   (after bash ci/build.sh)
import fcntl, os, pty, select, shutil, struct, subprocess, sys, tempfile, termios, time

ATSR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'dist', 'atsr')
SOCKETS = tempfile.mkdtemp(prefix='atsr-repaint-')


def run(argv, until, timeout=20):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ['TERM'] = 'xterm'
        os.execv(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 200, 0, 0))
    t0, out = time.time(), b''
    while time.time() - t0 < timeout:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
            if until in out:
                return pid, time.time() - t0
    return pid, None


lines = int(sys.argv[1])
name = 'r%d' % os.getpid()
draw = ("i=0; while [ $i -lt %d ]; do printf '\\033[%%d;1Hline %%d %%s\\n' $((i%%50+1)) $i '%s'; i=$((i+1)); done; "
        "printf '\\033[1;1HDONE'; exec sleep 600") % (lines, 'x' * 120)
pid, _ = run([ATSR, '-u', SOCKETS, '-b', '524288', '-c', name, 'sh', '-c', draw], b'DONE', 60)
os.kill(pid, 9)
os.waitpid(pid, 0)
time.sleep(0.5)
times = []
for _ in range(5):
    pid, t = run([ATSR, '-u', SOCKETS, '-a', name], b'DONE')
    times.append(round(t * 1000) if t else None)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    time.sleep(0.2)
# The executable's own start, the floor under any attach: `atsr --version` to its output, on a pty the same way.
floor = []
for _ in range(5):
    pid, t = run([ATSR, '--version'], b'atsr ')
    floor.append(round(t * 1000) if t else None)
    os.waitpid(pid, 0)
print('%d lines drawn: attach to the repainted screen, ms: %s; atsr --version, ms: %s (load %s)' % (lines, times, floor, open('/proc/loadavg').read().split()[0]))
subprocess.run(['pkill', '-f', 'atsr: ' + name])
shutil.rmtree(SOCKETS, ignore_errors=True)
