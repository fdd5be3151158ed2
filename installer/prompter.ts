// Questions: asked on a terminal with enquirer; without one (unattended),
// a question nobody answered by flag is an error naming that flag, never a
// read from stdin that could hang.
import Enquirer from 'enquirer';
import { InstallError, InstallExit } from './errors.js';

/** Ctrl-C (or end of input) at a prompt. */
export class Interrupted extends Error {}

export interface Question<T> {
  message: string;
  /** The flag that answers this question, for the unattended error. */
  flag: string;
  initial: T;
}

export class Prompter {
  constructor(readonly interactive: boolean) {}

  /**
   * A yes/no question; `[y/N]` or `[Y/n]` shows the default. The answer is
   * taken with Enter, like every other: a single-key prompt let the Enter
   * typed after `y` answer the next question.
   */
  async confirm(q: Question<boolean>): Promise<boolean> {
    const options = {
      type: 'input' as const,
      name: 'answer',
      message: `${q.message} ${q.initial ? '[Y/n]' : '[y/N]'}`,
      validate: (v: string): string | true => (/^(y|yes|n|no)?$/i.test(v.trim()) ? true : 'answer y or n (Enter alone takes the default)'),
    };
    const answer = String(await this.ask<string>(q, options)).trim();
    return answer === '' ? q.initial : /^y/i.test(answer);
  }

  /** A line of text, re-asked until `problem` finds none. */
  async input(q: Question<string>, problem: (value: string) => string | undefined): Promise<string> {
    const options = {
      type: 'input' as const,
      name: 'answer',
      message: q.message,
      initial: q.initial,
      validate: (v: string): string | true => problem(v.trim()) ?? true,
    };
    return String(await this.ask<string>(q, options)).trim();
  }

  private async ask<T>(q: Question<unknown>, options: Parameters<typeof Enquirer.prompt>[0]): Promise<T> {
    if (!this.interactive) {
      throw new InstallError(`no terminal to ask "${q.message}": pass ${q.flag}`, InstallExit.usage);
    }
    // enquirer 2.4.1 on Node >= 24.2: Ctrl-C closes enquirer's readline before
    // its own cleanup pauses it, which throws ERR_USE_AFTER_CLOSE out of the
    // prompt as an unhandled rejection and the prompt never settles
    // (enquirer#483). That is the Ctrl-C it is: count it as one.
    let onRejection: (reason: unknown) => void = () => {};
    const interrupted = new Promise<never>((_, reject) => {
      onRejection = (reason) => {
        if ((reason as { code?: unknown } | undefined)?.code === 'ERR_USE_AFTER_CLOSE') reject(new Interrupted());
        else process.nextTick(() => { throw reason; }); // anything else stays fatal
      };
    });
    process.on('unhandledRejection', onRejection);
    try {
      const reply = await Promise.race([Enquirer.prompt<{ answer: T }>(options), interrupted]);
      return reply.answer;
    } catch {
      // enquirer rejects (with an empty reason) on Ctrl-C and on end of input
      throw new Interrupted();
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  }
}
