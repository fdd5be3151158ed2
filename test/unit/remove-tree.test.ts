// The uninstall's removal of the socket root: a user flipping their
// directory between itself and a symlink to root's directory, as fast as
// they can while root removes the tree, never gets root's file deleted.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTree } from '../../installer/remove-tree.js';
import { ThrowawayUser, traversableTempDir } from '../support/fake-hosts.js';

const ATTEMPTS = 2000;

// As the user: swap `dir` for a symlink to `target` and back, forever; every failure (root removed it) is retried.
const FLIPPER_JS = `
const fs = require('fs');
const [dir, target] = process.argv.slice(1);
process.stdout.write('up\\n');
for (;;) {
  try { fs.renameSync(dir, dir + '.real'); fs.symlinkSync(target, dir); } catch {}
  try { fs.unlinkSync(dir); fs.renameSync(dir + '.real', dir); } catch {}
}
`;

let user: ThrowawayUser;
let tmp: { dir: string; remove: () => void };
let flipper: ChildProcess;

beforeAll(async () => {
  user = ThrowawayUser.create();
  tmp = traversableTempDir('remove-tree');
  mkdirSync(`${tmp.dir}/target`, { mode: 0o700 });
  mkdirSync(`${tmp.dir}/run`);
  chmodSync(`${tmp.dir}/run`, 0o1777);
  const dir = `${tmp.dir}/run/${user.uid}`;
  flipper = spawn(process.execPath, ['-e', FLIPPER_JS, dir, `${tmp.dir}/target`], { uid: user.uid, gid: user.gid, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => flipper.stdout!.once('data', r));
});
afterAll(async () => {
  const ended = new Promise((r) => flipper?.once('exit', r));
  flipper?.kill('SIGKILL');
  await ended;
  tmp?.remove();
  user?.remove();
});

function tryTo(step: () => unknown): void {
  try {
    step();
  } catch {
    // The flipper got there first: this attempt races with what is there.
  }
}

describe('removeTree', () => {
  it(`never follows a directory swapped for a symlink (${ATTEMPTS} attempts against a flipping user)`, () => {
    const run = `${tmp.dir}/run`;
    const mine = `${run}/${user.uid}`;
    let deleted = 0;
    for (let i = 0; i < ATTEMPTS; i++) {
      writeFileSync(`${tmp.dir}/target/victim`, 'root\n');
      // The user's directory, with a file of the target's name in it (the flipper may have it swapped out already).
      tryTo(() => mkdirSync(run) ?? chmodSync(run, 0o1777));
      tryTo(() => user.privateDir(mine));
      tryTo(() => writeFileSync(`${mine}/victim`, 'user\n'));
      removeTree(run);
      if (!existsSync(`${tmp.dir}/target/victim`)) deleted++;
    }
    expect(deleted).toBe(0);
  });
});
