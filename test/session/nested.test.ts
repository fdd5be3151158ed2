// A login nested inside a session (a .profile running rezumable again) must
// not attach to the session it runs inside: the outer front would be taken
// over and the inner one would loop the session's output into its input.
import { describe, expect, it } from 'vitest';
import { atsrCommand } from '../support/atsr-bin.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('nested');

describe('a front inside a session', () => {
  it('never attaches to that session: -t runs the command directly, -a exits 5; the outer front stays', async () => {
    const atsr = atsrCommand().join(' ');
    const S = box().sockets;
    // The outer login, as rezumable starts it: ATSR_ID names the session.
    const outer = box().attach(['-i', 'ATSR_ID', '-t', '-f', '-s', 'sh'], { env: box().env({ ATSR_ID: 'n1', PS1: '$ ' }) });
    outer.write('echo "id=[${ATSR_ID-unset}] in=[$ATSR_SESSION]"\r');
    await outer.waitFor(`id=[unset] in=[${S}/n1]\r\n`);

    // A nested login whose client sent ATSR_ID again runs rezumable's atsr.
    outer.write(`ATSR_ID=n1 ${atsr} -u ${S} -i ATSR_ID -t -f -s sh -c 'echo inner-ran; exit 5'; echo "t-status=$?"\r`);
    await outer.waitFor('t-status=5\r\n');
    expect(outer.text()).toContain(`atsr: this terminal is inside session n1 already ($ATSR_SESSION); running sh directly\r\ninner-ran\r\n`);

    outer.write(`${atsr} -u ${S} -a n1; echo "a-status=$?"\r`);
    await outer.waitFor('a-status=5\r\n');
    expect(outer.text()).toContain('atsr: this terminal is inside session n1 already ($ATSR_SESSION)\r\na-status=5');

    // The outer front was not taken over and still relays; no output loop.
    outer.write('echo "still-$((6*7))"\r');
    await outer.waitFor('still-42\r\n');
    expect(outer.text()).not.toContain('[detached');
    const s = await box().session('n1');
    expect(s.attached).toBe(true);
    expect(s.out).toBeLessThan(4096);
  });

  it('may attach to another session (nesting with care), whose command has no ATSR_ID either', async () => {
    expect((await box().atsr(['-n', 'other', 'sh', '-c', 'echo "other-id=[${ATSR_ID-unset}]"; read x'], { env: box().env({ ATSR_ID: 'other' }) })).code).toBe(0);
    const outer = box().attach(['-t', 'n2', 'sh'], { env: box().env({ PS1: '$ ' }) });
    outer.write(`${atsrCommand().join(' ')} -u ${box().sockets} -a other\r`);
    await outer.waitFor('other-id=[unset]\r\n');
    outer.write('\r');
    await outer.waitFor(/\$ $/, 15_000, outer.text().indexOf('other-id'));
  });
});
