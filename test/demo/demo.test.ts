// `npm run demo` keeps working: it runs the whole tour without a terminal.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { NODE24, ROOT } from '../support/atsr-bin.js';

it('npm run demo resumes and says how many missed lines arrived', () => {
  const r = spawnSync(NODE24, [join(ROOT, 'dist/demo.cjs')], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'latin1', timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/\ndemo: resumed; [1-9]\d* lines missed during the outage arrived after it\n$/);
});
