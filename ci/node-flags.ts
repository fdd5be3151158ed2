// The Node options every atsr process runs with: built into dist/atsr
// (sea-config's execArgv), and given to every Node that makes a code cache
// for it, because V8 takes a cache only from a process with its own flags.
//
// Without them V8 runs its garbage collector's helpers and its baseline
// compiler (Sparkplug) on threads of their own, waking one for each task. A
// session host's heap is small, and with 200 busy hosts on 2 cores those
// threads took a fifth of the hosts' CPU; with the work on the main thread
// the hosts took 16–18 CPU s in all where they had taken 19–26
// (docs/benchmarks.md, "V8's own threads").
export const NODE_FLAGS = ['--single-threaded-gc', '--no-concurrent-sparkplug'];
