/** Absolute paths of the fixture plugins in test/helpers/fixtures (for `service.plugins`). */
import { fileURLToPath } from 'node:url';

export type Fixture = 'needs-path' | 'hang-output' | 'slow-setup-input';

export function fixture(name: Fixture): string {
  return fileURLToPath(new URL(`./fixtures/${name}.mjs`, import.meta.url));
}
