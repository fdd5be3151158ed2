// Plays every vector of docs/protocol-vectors/ against the real server (the
// built front and host on a pty), as the client the vector describes, so that
// the published transcripts cannot drift from the code.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import type { PtyRun } from '../support/pty-harness.js';
import { useSandbox } from '../support/use-sandbox.js';

type Counts = { rx?: number; tx?: number };
type Step = { counts?: Counts } & (
  | { connect: true }
  | { server: string; kind: 'message' | 'output' }
  | { client: string; kind: 'message' | 'input' | 'resend' | 'lost' }
  | { drop: true }
  | { ends: number }
  | { await: { in: number } | { out: number } | 'exited' }
);
interface Vector {
  name: string;
  about: string;
  session: { command: string[]; bufferSize: number };
  steps: Step[];
}

const DIR = join(__dirname, '../../docs/protocol-vectors');
const vectors: Vector[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'latin1')) as Vector);

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `text` as an anchored pattern: `{n}` is the nonce (captured the first time), `{*}` any number. */
function pattern(text: string, nonce: string | undefined): RegExp {
  let re = '';
  let capturing = nonce === undefined;
  for (const part of text.split(/(\{n\}|\{\*\})/)) {
    if (part === '{*}') re += '\\d{1,15}';
    else if (part === '{n}' && capturing) {
      re += '([0-9a-f]{16})';
      capturing = false;
    } else if (part === '{n}') re += escapeRe(nonce ?? '');
    else re += escapeRe(part);
  }
  return new RegExp(`^${re}`);
}

const box = useSandbox('vec');

describe('protocol vectors (docs/protocol-vectors/)', () => {
  it('has vectors for every case the docs promise', () => {
    expect(vectors.map((v) => v.name).sort()).toEqual(
      ['exit-during-outage', 'first-attach-and-resume', 'forged-output', 'late-reply', 'loss', 'resend'],
    );
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const env = box().env({ ATSR_ID: v.name });
    const args = ['-i', 'ATSR_ID', '-t', '-f', '-s', '-b', String(v.session.bufferSize), ...v.session.command];
    let front: PtyRun | undefined;
    let at = 0;
    let nonce: string | undefined;
    let rx = 0;
    let tx = 0;
    for (const [i, step] of v.steps.entries()) {
      const where = `${v.name} step ${i}`;
      if ('connect' in step) {
        front = box().attach(args, { env });
        at = 0;
        nonce = undefined;
      } else if ('server' in step) {
        const re = pattern(step.server, nonce);
        const found = await front!.waitFor(new RegExp(re.source.slice(1)), 15_000, at);
        const m = re.exec(front!.text().slice(at));
        expect(m, `${where}: expected ${JSON.stringify(step.server)} at ${at}, got ${JSON.stringify(front!.text().slice(at, found + 80))}`).not.toBeNull();
        nonce ??= m![1];
        at += m![0].length;
        if (step.kind === 'output') rx += m![0].length;
        const from = /;(?:loss|start);(?:lost=\d+;)?from=(\d+);/.exec(m![0]);
        if (step.kind === 'message' && from) rx = Number(from[1]);
      } else if ('client' in step) {
        const bytes = step.client.replaceAll('{n}', nonce ?? '');
        if (step.kind === 'input' || step.kind === 'lost') tx += bytes.length;
        if (step.kind !== 'lost') front!.write(Buffer.from(bytes, 'latin1'));
        if (step.kind === 'input') await waitUntil(`${where}: the host takes the input`, async () => (await box().session(v.name)).in >= tx);
      } else if ('drop' in step) {
        front!.kill('SIGKILL');
        await front!.exit();
      } else if ('ends' in step) {
        expect((await front!.exit()).exitCode, where).toBe(step.ends);
      } else {
        const goal = step.await;
        await waitUntil(`${where}: ${JSON.stringify(goal)}`, async () => {
          const s = await box().session(v.name);
          return goal === 'exited' ? s.exited : 'in' in goal ? s.in >= goal.in : s.out >= goal.out;
        });
      }
      // The vector's own counts must be what its bytes say.
      if (step.counts?.rx !== undefined) expect(rx, `${where}: rx`).toBe(step.counts.rx);
      if (step.counts?.tx !== undefined) expect(tx, `${where}: tx`).toBe(step.counts.tx);
    }
    front?.kill('SIGKILL');
  });
});
