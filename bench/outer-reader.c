/*
 * The bench's outer terminal: runs a command on a new pty and reads the
 * master as fast as the kernel gives it, so that the reader is never what
 * sets a throughput result (node-pty in the harness read ~67 MiB/s).
 *
 *   outer-reader [--cols N] [--rows N] [--crc FROM LEN] [--notify TEXT] [--keys] -- CMD ARG...
 *
 * --crc: the CRC-32 (zlib's) of the LEN bytes that arrive from stream offset
 *   FROM on, so the harness can check every byte. Computed on the 64 KiB
 *   read buffer while it is in the cache: keeping 64 MiB to hash later made
 *   the reader itself slower (fresh memory for every read).
 * --notify: prints "seen TOTAL MS" each time TEXT arrives.
 * Its stdin is written to the pty as it comes (keys for the session).
 * --keys: stdin carries commands instead, one count N per line: N keystroke
 *   round trips, each one byte written and read back before the next, timed
 *   here so that the harness's own wake-ups are not in the figure (the Node
 *   harness alone gave the raw pty a 0.4 ms p99). Prints "echoed MS MS ...".
 * Stdout: "child PID" at once, then notices, then one line "done {json}"
 * with the byte count and the times (ms from just before the fork).
 * Built by the bench (cc ... -lz) into its scratch directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define READ_BYTES 65536
/* After the command exits, what is still in the pty arrives within this. */
#define DRAIN_MS 200

struct options {
	unsigned short cols, rows;
	unsigned long long crc_from, crc_len;
	const char *notify;
	int keys;
	char **argv;
};

struct timing {
	struct timespec origin;
	double first_ms, last_ms, exit_ms;
};

static volatile sig_atomic_t child_exited;

static void on_sigchld(int sig) {
	(void)sig;
	child_exited = 1;
}

static void die(const char *what) {
	fprintf(stderr, "outer-reader: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double ms_since(const struct timespec *origin) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - origin->tv_sec) * 1e3 + (double)(now.tv_nsec - origin->tv_nsec) / 1e6;
}

static void usage(void) {
	fprintf(stderr, "usage: outer-reader [--cols N] [--rows N] [--crc FROM LEN] [--notify TEXT] [--keys] -- CMD ARG...\n");
	exit(2);
}

static struct options parse_options(int argc, char **argv) {
	struct options o = { 80, 24, 0, 0, NULL, 0, NULL };
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--cols") == 0 && i + 1 < argc) o.cols = (unsigned short)atoi(argv[++i]);
		else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) o.rows = (unsigned short)atoi(argv[++i]);
		else if (strcmp(argv[i], "--crc") == 0 && i + 2 < argc) {
			o.crc_from = strtoull(argv[++i], NULL, 10);
			o.crc_len = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--notify") == 0 && i + 1 < argc && argv[i + 1][0] != '\0') o.notify = argv[++i];
		else if (strcmp(argv[i], "--keys") == 0) o.keys = 1;
		else usage();
	}
	if (i + 1 >= argc) usage();
	o.argv = argv + i + 1;
	return o;
}

/* The child: a session of its own with the pty's slave as its terminal. */
static void exec_on_slave(const char *slave_name, char **argv) {
	setsid();
	int slave = open(slave_name, O_RDWR);
	if (slave < 0) die("open slave");
	if (ioctl(slave, TIOCSCTTY, 0) < 0) die("TIOCSCTTY");
	dup2(slave, 0);
	dup2(slave, 1);
	dup2(slave, 2);
	if (slave > 2) close(slave);
	execvp(argv[0], argv);
	fprintf(stderr, "outer-reader: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int open_master(const struct options *o) {
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) die("posix_openpt");
	struct winsize ws = { o->rows, o->cols, 0, 0 };
	if (ioctl(master, TIOCSWINSZ, &ws) < 0) die("TIOCSWINSZ");
	return master;
}

/* Finds TEXT in what arrives, also where it straddles two reads. */
struct notifier {
	const char *text;
	size_t len;
	char *window; /* the previous read's last len-1 bytes, then the next read's first len-1 */
	size_t tail;
};

static void notify_seen(unsigned long long total_at, const struct timing *t) {
	printf("seen %llu %.3f\n", total_at, ms_since(&t->origin));
	fflush(stdout);
}

/* Keeps the stream's last len-1 bytes in the window. */
static void notifier_keep_tail(struct notifier *n, const char *chunk, size_t got) {
	size_t want = n->len - 1;
	if (got >= want) {
		memcpy(n->window, chunk + got - want, want);
		n->tail = want;
		return;
	}
	memcpy(n->window + n->tail, chunk, got);
	n->tail += got;
	if (n->tail > want) {
		memmove(n->window, n->window + n->tail - want, want);
		n->tail = want;
	}
}

static void notifier_scan(struct notifier *n, const char *chunk, size_t got, unsigned long long total_before, const struct timing *t) {
	if (!n->text) return;
	/* The window holds fewer than len bytes of the past, so a match in it straddles the two reads. */
	size_t head = got < n->len - 1 ? got : n->len - 1;
	if (n->tail > 0 && head > 0) {
		memcpy(n->window + n->tail, chunk, head);
		const char *hit = memmem(n->window, n->tail + head, n->text, n->len);
		if (hit) notify_seen(total_before - n->tail + (unsigned long long)(hit - n->window) + n->len, t);
	}
	for (const char *from = chunk, *hit; (hit = memmem(from, got - (size_t)(from - chunk), n->text, n->len)); from = hit + n->len)
		notify_seen(total_before + (unsigned long long)(hit - chunk) + n->len, t);
	notifier_keep_tail(n, chunk, got);
}

/* Adds the part of a read at stream offset `at` that lies in the --crc range. */
static uLong crc_range(uLong crc, const struct options *o, const char *chunk, size_t got, unsigned long long at) {
	unsigned long long from = at > o->crc_from ? at : o->crc_from;
	unsigned long long to = at + got < o->crc_from + o->crc_len ? at + got : o->crc_from + o->crc_len;
	if (from >= to) return crc;
	return crc32(crc, (const Bytef *)chunk + (from - at), (uInt)(to - from));
}

/* Forwards what the harness writes on stdin; false once stdin is closed. */
static int forward_stdin(int master) {
	char buf[4096];
	ssize_t n = read(0, buf, sizeof buf);
	if (n <= 0) return n < 0 && errno == EINTR;
	for (ssize_t at = 0; at < n;) {
		ssize_t w = write(master, buf + at, (size_t)(n - at));
		if (w < 0 && errno != EINTR) die("write to the pty");
		if (w > 0) at += w;
	}
	return 1;
}

/* Letters that tmux's screen updates do not use as escape-sequence finals. */
static const char KEYS[] = "abcdefgijknopqrsuvwxyz";

/*
 * One keystroke round trip: the key written, then the master read until the
 * key comes back; ms, or -1 when the pty ended first. What is read counts
 * in `total` like any output.
 */
static double round_trip(int master, char key, char *buf, unsigned long long *total) {
	struct timespec sent;
	clock_gettime(CLOCK_MONOTONIC, &sent);
	while (write(master, &key, 1) != 1)
		if (errno != EINTR) return -1;
	for (;;) {
		ssize_t n = read(master, buf, READ_BYTES);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) return -1;
		*total += (unsigned long long)n;
		if (memchr(buf, key, (size_t)n)) return ms_since(&sent);
	}
}

/*
 * --keys: runs the round trips a stdin line asks for; false once stdin is
 * closed. The harness waits for each reply before its next line, so stdio's
 * buffer never holds a line that poll would not report.
 */
static int keys_command(int master, char *buf, unsigned long long *total) {
	static unsigned long sent;
	char line[64];
	if (!fgets(line, sizeof line, stdin)) return 0;
	long count = strtol(line, NULL, 10);
	printf("echoed");
	for (long i = 0; i < count; i++) {
		double ms = round_trip(master, KEYS[sent++ % (sizeof KEYS - 1)], buf, total);
		if (ms < 0) break;
		printf(" %.4f", ms);
	}
	printf("\n");
	fflush(stdout);
	return 1;
}

int main(int argc, char **argv) {
	struct options o = parse_options(argc, argv);
	int master = open_master(&o);
	char *buf = malloc(READ_BYTES);
	struct notifier notifier = { o.notify, o.notify ? strlen(o.notify) : 0, NULL, 0 };
	if (o.notify) notifier.window = malloc(2 * notifier.len);
	if (!buf || (o.notify && !notifier.window)) die("malloc");

	/* SIGCHLD stays blocked except inside ppoll: an exit is never missed between two reads. */
	sigset_t blocked, during_poll;
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGCHLD);
	sigprocmask(SIG_BLOCK, &blocked, &during_poll);
	sigdelset(&during_poll, SIGCHLD);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigchld;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct timing t = { { 0, 0 }, -1, -1, -1 };
	clock_gettime(CLOCK_MONOTONIC, &t.origin);
	pid_t child = fork();
	if (child < 0) die("fork");
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &during_poll, NULL);
		signal(SIGPIPE, SIG_DFL);
		exec_on_slave(ptsname(master), o.argv);
	}
	printf("child %d\n", (int)child);
	fflush(stdout);

	unsigned long long total = 0;
	uLong crc = crc32(0L, Z_NULL, 0);
	int status = 0, stdin_open = 1;
	for (;;) {
		if (child_exited && t.exit_ms < 0) {
			waitpid(child, &status, 0);
			t.exit_ms = ms_since(&t.origin);
		}
		struct pollfd fds[2] = { { master, POLLIN, 0 }, { 0, POLLIN, 0 } };
		struct timespec drain = { 0, DRAIN_MS * 1000000L };
		int r = ppoll(fds, stdin_open ? 2 : 1, t.exit_ms < 0 ? NULL : &drain, &during_poll);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) die("ppoll");
		if (r == 0) break; /* the command is gone and nothing more came */
		if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP))) stdin_open = o.keys ? keys_command(master, buf, &total) : forward_stdin(master);
		if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
		ssize_t n = read(master, buf, READ_BYTES);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) {
			if (t.exit_ms >= 0) break; /* EIO: every slave closed */
			/* Every slave closed before we heard of the exit (SIGCHLD waits for ppoll's EINTR, which a hang-up preempts). */
			if (waitpid(child, &status, WNOHANG) == child) {
				t.exit_ms = ms_since(&t.origin);
				break;
			}
			struct timespec pause = { 0, 1000000L };
			nanosleep(&pause, NULL);
			continue;
		}
		double now = ms_since(&t.origin);
		if (t.first_ms < 0) t.first_ms = now;
		t.last_ms = now;
		notifier_scan(&notifier, buf, (size_t)n, total, &t);
		crc = crc_range(crc, &o, buf, (size_t)n, total);
		total += (unsigned long long)n;
	}
	if (t.exit_ms < 0) {
		waitpid(child, &status, 0);
		t.exit_ms = ms_since(&t.origin);
	}
	printf("done {\"exitCode\":%d,\"signal\":%d,\"received\":%llu,\"crc32\":%lu,\"firstMs\":%.3f,\"lastMs\":%.3f,\"exitMs\":%.3f}\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0, total, crc, t.first_ms, t.last_ms,
	       t.exit_ms);
	return 0;
}
