/**
 * vsock: receives Fluent Forward messages from qlog's vsock-forward (or any Forward sender:
 * Fluent Bit, Fluentd, fluent-logger, Docker's fluentd driver) over vsock, unix, tcp or hybrid
 * vsock, and acks each chunk only once every output it was routed to has it.
 */
import { definePlugin, VERSION_RANGE } from '../../core/index.js';
import { checkEndpoint } from '../../core/transport/index.js';
import { checkUsers, schema } from './schema.js';
import { VsockReceiver } from './vsock-receiver.js';
import { checkUnseal } from './vsock-unseal.js';

export default definePlugin({
  kind: 'input',
  name: 'vsock',
  description: 'Receives records from enclaves (vsock-forward) or any Fluent Forward sender over vsock, unix, tcp or hybrid vsock; acks end to end.',
  qlog: VERSION_RANGE,
  schema,
  check: (o, c) =>
    checkEndpoint(o) ??
    checkUsers(o) ??
    (o.allowed_subjects.length > 0 && !/^tls:\/\//i.test(o.connect || o.listen)
      ? {
          key: 'allowed_subjects',
          message: `expected a tls:// address with allowed_subjects (certificate subjects exist on tls:// only), found ${o.connect || o.listen}`,
        }
      : undefined) ??
    checkUnseal(o.unseal, c.configDir),
  setup(ctx) {
    const receiver = new VsockReceiver(ctx);
    ctx.hooks.start.tapPromise('vsock', () => receiver.start());
    ctx.hooks.pause.tap('vsock', () => receiver.pause());
    ctx.hooks.resume.tap('vsock', () => receiver.resume());
    ctx.hooks.stop.tapPromise('vsock', () => receiver.stopIntake());
    ctx.hooks.drained.tapPromise('vsock', async () => receiver.closeAll());
  },
});
