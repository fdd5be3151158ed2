// `rezume [options] [ssh options] [user@]host [command]`.
export async function runRezume(_args: string[]): Promise<number> {
  process.stderr.write('rezume: not built yet\n');
  return 70;
}
