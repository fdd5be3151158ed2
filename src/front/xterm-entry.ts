// The entry of dist/xterm.cjs, the emulator a screen repaint loads (see xterm-code.ts).
export { Terminal } from '@xterm/headless';
export { SerializeAddon } from '@xterm/addon-serialize';
