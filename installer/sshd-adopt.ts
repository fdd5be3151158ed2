// Finishing an interrupted install. The sshd edit is the first change,
// made before the prefix (and so install.log) exists: a run killed between
// the two leaves atsr's lines in the config, unrecorded. The next run finds
// them by their marker lines and records them, so --uninstall can take them
// out again and put the file back byte for byte.
import type { Change } from './change.js';
import { readIfExists, sha256Of } from './files.js';
import type { LogEntry } from './install-log.js';
import { atsrBlock, atsrSettingsIn, dropInFor, lineEndingOf, POSSIBLE_SETTINGS } from './sshd-accept-env.js';

/** The change that records atsr's lines found in the config but not in `recorded`, if there are any. */
export function adoptUnrecordedEdit(configPath: string, text: string, recorded: readonly LogEntry[]): Change | undefined {
  const isRecorded = (kind: LogEntry['kind'], path: string): boolean => recorded.some((e) => e.kind === kind && e.path === path);
  const dropIn = dropInFor(text);
  const dropInText = dropIn === undefined ? undefined : readIfExists(dropIn.path);
  const dropInSettings = POSSIBLE_SETTINGS.find((s) => dropInText === atsrBlock(s));
  if (dropIn !== undefined && dropInSettings !== undefined && !isRecorded('sshd-dropin-written', dropIn.path)) {
    return {
      summary: `record ${dropIn.path}, written by an interrupted run, in the install log (so --uninstall removes it)`,
      apply: (log) => log.add('sshd-dropin-written', dropIn.path, { settings: dropInSettings.join(',') }),
    };
  }
  const settings = atsrSettingsIn(text);
  if (settings === undefined || isRecorded('sshd-config-edited', configPath)) return undefined;
  const block = atsrBlock(settings, lineEndingOf(text));
  // The backup is the original only if it is the file without atsr's lines.
  const plain = `${configPath}.before-atsr`;
  const backup = readIfExists(plain) === text.replace(block, '') ? plain : '';
  return {
    summary: `record the atsr lines an interrupted run added to ${configPath} in the install log (so --uninstall takes them out)`,
    apply: (log) => log.add('sshd-config-edited', configPath, { backup, sha256: sha256Of(configPath), settings: settings.join(',') }),
  };
}
