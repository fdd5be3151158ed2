// Session names come from the network (ATSR_ID via ssh SendEnv) and become
// file names: accept only a short, strict charset, and refuse anything else
// rather than "sanitising" it.
export const MAX_NAME_LENGTH = 64;
const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$/;

/** Returns why `name` is refused, or undefined when it is acceptable. */
export function nameProblem(name: string | undefined): string | undefined {
  if (name === undefined || name === '') return 'the session name is empty';
  if (name.length > MAX_NAME_LENGTH) return `the session name is over ${MAX_NAME_LENGTH} characters`;
  if (/[\x00-\x1f\x7f]/.test(name)) return 'the session name contains a control character';
  if (name.includes('/')) return "the session name contains '/'";
  if (name.includes('..')) return "the session name contains '..'";
  if (!NAME_PATTERN.test(name)) {
    return 'the session name may use only letters, digits and _ . @ + - (and not start with . @ + -)';
  }
  return undefined;
}
