// 5. Resume over sshd: needs the rezume client, which is not built yet.
// A named placeholder, so that the table says so instead of showing nothing.
import type { SuiteResult } from '../suite.js';

export async function resume(): Promise<SuiteResult> {
  return {
    id: 'resume',
    title: 'Resume over sshd',
    columns: ['measurement', 'result'],
    rows: [['network drop to resumed session, through sshd and rezume', 'not measured yet (needs the rezume client)']],
    notes: [],
    targets: [],
    data: { measured: false },
  };
}
