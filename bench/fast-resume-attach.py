#!/usr/bin/env python3
# Attach time of rezumable's fast resume against the Node front it replaces
# (docs/benchmarks.md, "The relay's fast resume"), for a session that is
# running: wall time from forking the login command on a real pty to the
# host's hello on that pty, and the CPU time the login process used (user +
# sys, from wait4: not inflated by other load). Rows run interleaved.
#   python3 bench/fast-resume-attach.py [ROUNDS]      (after bash ci/build.sh)
import json, os, pty, re, select, shutil, signal, subprocess, sys, tempfile, time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
HELLO = re.compile(rb'\x1b_atsr:1;hello;[^\x1b]*;out=(\d+);[^\x1b]*n=([0-9a-f]{16})\x1b\\')

# An installed-like prefix: the built atsr and relay, rezumable rendered from the template.
prefix = tempfile.mkdtemp(prefix='atsr-fpbench-')
socket_root = os.path.join(prefix, 'session')
os.mkdir(os.path.join(prefix, 'bin'))
os.mkdir(socket_root)
os.chmod(socket_root, 0o1777)
for name in ('atsr', 'atsr-relay'):
    os.symlink(os.path.join(ROOT, 'dist', name), os.path.join(prefix, 'bin', name))
fill = {'PREFIX': prefix, 'VERSION': 'bench', 'ORPHAN_TIMEOUT': '60', 'BUFFER_SIZE': '262144', 'SOCKET_ROOT': f"'{socket_root}'", 'EXTRA': "''"}
template = open(os.path.join(ROOT, 'templates/rezumable.sh')).read()
rezumable = os.path.join(prefix, 'bin/rezumable')
with open(rezumable, 'w') as f:
    f.write(re.sub(r'@([A-Z_]+)@', lambda m: fill.get(m.group(1), m.group(0)), template))
os.chmod(rezumable, 0o755)

ENV = {'PATH': os.environ['PATH'], 'HOME': prefix, 'TERM': 'xterm', 'ATSR_ID': 'bench'}
COMMAND = ['/bin/sh', '-c', 'echo ready; exec cat']
ROWS = {
    'fast path: rezumable, atsr-relay --resume': [rezumable] + COMMAND,
    "Node front: rezumable's atsr command line": [os.path.join(prefix, 'bin/atsr'), '-i', 'ATSR_ID', '-t', '-f', '-s', '-x', '60', '-b', '262144', '-g', socket_root] + COMMAND,
    'floor: the pty and sh printing a hello': ['/bin/sh', '-c', "printf '\\033_atsr:1;hello;id=x;resumed=1;out=0;in=0;buf=1;n=0123456789abcdef\\033\\\\'; exec sleep 1"],
}

def attach_once(argv):
    """(ms to the hello, CPU ms of the login process); the client's reply is sent, then the login is cut."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, ENV)
    seen, ms = b'', None
    while ms is None and select.select([fd], [], [], 10)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        seen += chunk
        m = HELLO.search(seen)
        if m:
            ms = (time.perf_counter() - start) * 1000
            os.write(fd, b'\x1b_atsr:1;sync;rx=%s;n=%s\x1b\\' % (m.group(1), m.group(2)))
    time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    _, _, usage = os.wait4(pid, 0)
    os.close(fd)
    return ms, (usage.ru_utime + usage.ru_stime) * 1000

def loadavg():
    return open('/proc/loadavg').read().strip()

print(f'{datetime.now(timezone.utc).isoformat(timespec="seconds")}, loadavg {loadavg()}, {ROUNDS} rounds')
attach_once(ROWS['fast path: rezumable, atsr-relay --resume'])  # creates the session (the full path)
samples = {k: [] for k in ROWS}
for _ in range(ROUNDS):
    for k, argv in ROWS.items():
        samples[k].append(attach_once(argv))
q = lambda xs, f: sorted(xs)[min(len(xs) - 1, int(len(xs) * f))]
print('| login | wall median | wall p90 | CPU median |')
for k, s in samples.items():
    wall, cpu = [w for w, _ in s], [c for _, c in s]
    print(f'| {k} | {q(wall, 0.5):.1f} | {q(wall, 0.9):.1f} | {q(cpu, 0.5):.1f} |')
print(f'loadavg after {loadavg()}')

listed = subprocess.run([os.path.join(ROOT, 'dist/atsr'), '-g', socket_root, '-l', '--json'], capture_output=True, env=ENV)
for s in json.loads(listed.stdout or b'[]'):
    os.kill(s['pid'], signal.SIGKILL)
shutil.rmtree(prefix)
