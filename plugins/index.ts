/** Built-in plugins. Each uses exactly the public SDK (core/index.ts), like a third-party plugin. */
export { default as dummy } from './dummy/index.js';
export { default as stdout } from './stdout/index.js';
export { default as resource } from './resource/index.js';
export { default as prefix } from './prefix/index.js';
export { default as rate } from './rate/index.js';
export { default as grep } from './grep/index.js';
export { default as modify } from './modify/index.js';
export { default as rotatedFile } from './rotated-file/index.js';
export { default as tail } from './tail/index.js';
export { default as vsock } from './vsock/index.js';
export { default as vsockForward } from './vsock-forward/index.js';
export { default as http } from './http/index.js';
export { default as nats } from './nats/index.js';
export { default as parser } from './parser/index.js';
export { default as redact } from './redact/index.js';
export { default as multiline } from './multiline/index.js';
