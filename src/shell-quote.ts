// A word for sh, single-quoted whatever it holds (the installer's rendered
// rezumable, the tests' and the bench's remote commands). No imports: the
// bench's ESM bundle takes it without the CLI's CommonJS dependencies.

export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
